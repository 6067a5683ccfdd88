//! Range and conditional headers: see `spindle_fuzz::range` for the properties checked.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| spindle_fuzz::range(data));
