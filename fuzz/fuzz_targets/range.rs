//! Range and conditional headers: see `spindle::fuzzing::range` for the properties checked.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| spindle::fuzzing::range(data));
