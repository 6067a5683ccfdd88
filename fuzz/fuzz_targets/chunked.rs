//! Chunked and length bodies: see `spindle::fuzzing::chunked` for the properties checked.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| spindle::fuzzing::chunked(data));
