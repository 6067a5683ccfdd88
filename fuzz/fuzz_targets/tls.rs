//! The whole connection under TLS over a scripted transport: see `spindle_fuzz::tls`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| spindle_fuzz::tls(data));
