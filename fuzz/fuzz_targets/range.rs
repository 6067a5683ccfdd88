//! Range and conditional headers: never a panic, and a partial range always lies in the file.
#![no_main]
use libfuzzer_sys::fuzz_target;
use spindle::files::cond::{check, ranges, Ranges};

fuzz_target!(|input: (u64, &[u8], &[u8])| {
    let (len, range, other) = input;
    let etag = "\"5-1-2\"";
    if let Ranges::Partial { start, end } = ranges(Some(range), Some(other), etag, 1, len) {
        assert!(start <= end && end < len);
    }
    if let Ranges::Partial { start, end } = ranges(Some(range), None, etag, 1, len) {
        assert!(start <= end && end < len);
    }
    let _ = check(Some(range), Some(other), etag, 1);
});
