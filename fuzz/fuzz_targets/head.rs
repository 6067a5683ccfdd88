//! Request heads: see `spindle_fuzz::head` for the properties checked.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| spindle_fuzz::head(data));
