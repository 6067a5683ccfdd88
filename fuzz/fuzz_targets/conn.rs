//! The whole connection over a scripted transport: see `spindle::fuzzing::conn`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| spindle::fuzzing::conn(data));
