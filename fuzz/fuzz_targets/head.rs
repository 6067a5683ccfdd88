//! Request heads: see `spindle::fuzzing::head` for the properties checked.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| spindle::fuzzing::head(data));
