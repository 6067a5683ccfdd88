//! The whole connection over a scripted transport: see `spindle_fuzz::conn`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| spindle_fuzz::conn(data));
