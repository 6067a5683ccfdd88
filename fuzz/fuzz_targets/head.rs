//! Request heads: arbitrary bytes never panic the parser, and when it finds a complete head the
//! incremental scanner agrees on where it ends.
#![no_main]
use libfuzzer_sys::fuzz_target;
use spindle::http::parse::{with_parsed_head, HeadScanner, Parsed};

fuzz_target!(|raw: &[u8]| {
    let len = with_parsed_head(raw, 8192, |r| match r {
        Ok(Parsed::Complete { len, .. }) => Some(len),
        _ => None,
    });
    let mut scanner = HeadScanner::default();
    let mut scanned = None;
    for end in [raw.len() / 2, raw.len()] {
        if let Ok(Some(l)) = scanner.scan(&raw[..end], 8192) {
            scanned = Some(l);
            break;
        }
    }
    if let (Some(len), Some(s)) = (len, scanned) {
        assert_eq!(len, s);
    }
});
