//! `multipart/form-data` bodies: see `spindle_fuzz::multipart` for the properties checked.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| spindle_fuzz::multipart(data));
