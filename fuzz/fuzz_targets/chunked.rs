//! Chunked and length bodies: see `spindle_fuzz::chunked` for the properties checked.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| spindle_fuzz::chunked(data));
