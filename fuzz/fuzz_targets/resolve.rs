//! Path resolution: see `spindle::fuzzing::resolve` for the properties checked.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| spindle::fuzzing::resolve(data));
