//! Requests with bodies nobody reads never yield more answers than requests: see
//! `spindle_fuzz::bodies`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| spindle_fuzz::bodies(data));
