//! Path resolution: see `spindle_fuzz::resolve` for the properties checked.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| spindle_fuzz::resolve(data));
