#![cfg(test)]
// (Declared in range.rs as `#[cfg(test)] mod tests;`: test code only.)
//! `Range` and `If-Range` against a representation's length: examples by form, limits and
//! huge numbers, and properties against a model of one range.

use super::*;
use crate::files::precondition::tests::ETAG;
use crate::http::date::examples::{fmt, ASCTIME, IMF, RFC850, RFC_SECS};
use proptest::prelude::*;

const GIB: u64 = 1 << 30;

fn r(range: &str, len: u64) -> Ranges {
    ranges(Some(range.as_bytes()), None, ETAG, RFC_SECS, len)
}

fn ri(range: &str, if_range: &str, len: u64) -> Ranges {
    ranges(
        Some(range.as_bytes()),
        Some(if_range.as_bytes()),
        ETAG,
        RFC_SECS,
        len,
    )
}

fn p(start: u64, end: u64) -> Ranges {
    Ranges::Partial { start, end }
}

use Ranges::{Full, Unsatisfiable};

// ---- ranges ----

#[test]
fn no_range() {
    assert_eq!(ranges(None, None, ETAG, RFC_SECS, 50), Full);
    assert_eq!(
        ranges(None, Some(ETAG.as_bytes()), ETAG, RFC_SECS, 50),
        Full
    );
    assert_eq!(ranges(None, None, ETAG, RFC_SECS, 0), Full);
}

#[test]
fn classic_single_ranges() {
    assert_eq!(r("bytes=0-0", 50), p(0, 0));
    assert_eq!(r("bytes=-1", 50), p(49, 49));
    assert_eq!(r("bytes=0-", 50), p(0, 49));
    assert_eq!(r("bytes=0-49", 50), p(0, 49));
    assert_eq!(r("bytes=10-19", 50), p(10, 19));
    assert_eq!(r("bytes=49-", 50), p(49, 49));
    assert_eq!(r("bytes=49-49", 50), p(49, 49));
    assert_eq!(r("bytes=5-5", 50), p(5, 5));
    assert_eq!(r("bytes=5-2", 50), Full, "last < first is invalid");
    assert_eq!(r("bytes=100-200", 50), Unsatisfiable, "resume past EOF");
    assert_eq!(r("bytes=50-", 50), Unsatisfiable, "resume at EOF");
    assert_eq!(r("bytes=50-50", 50), Unsatisfiable);
    assert_eq!(r("bytes=40-200", 50), p(40, 49), "clamped");
    assert_eq!(r("bytes=0-50", 50), p(0, 49));
    assert_eq!(r("bytes=-100", 50), p(0, 49), "suffix longer than the file");
    assert_eq!(r("bytes=-50", 50), p(0, 49));
    assert_eq!(r("bytes=-49", 50), p(1, 49));
    assert_eq!(r("bytes=-0", 50), Unsatisfiable);
    assert_eq!(r("bytes=-000", 50), Unsatisfiable);
    assert_eq!(r("bytes=007-0010", 50), p(7, 10), "leading zeros");
    assert_eq!(r("bytes=0-0", 1), p(0, 0));
    assert_eq!(r("bytes=-1", 1), p(0, 0));
    assert_eq!(r("bytes=1-", 1), Unsatisfiable);
}

#[test]
fn units() {
    assert_eq!(r("items=0-1", 50), Full);
    assert_eq!(r("byte=0-1", 50), Full);
    assert_eq!(r("bytesx=0-1", 50), Full);
    assert_eq!(r("=0-1", 50), Full);
    assert_eq!(r("bytes 0-1", 50), Full);
    assert_eq!(r("0-1", 50), Full);
    assert_eq!(r("BYTES=0-1", 50), p(0, 1), "units are case-insensitive");
    assert_eq!(r("Bytes=0-1", 50), p(0, 1));
    assert_eq!(r("items=100-200", 50), Full, "not 416 for an unknown unit");
}

#[test]
fn whitespace() {
    assert_eq!(r(" bytes = 0-1", 50), p(0, 1));
    assert_eq!(r("bytes=0-1 ", 50), p(0, 1));
    assert_eq!(r("\tbytes=\t0-1\t", 50), p(0, 1));
    assert_eq!(r("bytes= 0 - 1 ", 50), p(0, 1));
    assert_eq!(r("bytes= -5", 50), p(45, 49));
    assert_eq!(r("bytes=10 -", 50), p(10, 49));
    assert_eq!(r("bytes=0-1 , ", 50), p(0, 1), "empty elements are skipped");
    assert_eq!(r("bytes=,0-1,,", 50), p(0, 1));
    assert_eq!(r("bytes=0-0 , 2-3", 50), Full);
    assert_eq!(r("bytes=1 0-20", 50), Full, "no space inside a number");
    assert_eq!(r("by tes=0-1", 50), Full);
    assert_eq!(r("bytes=0-1\r", 50), Full, "only SP and HTAB are OWS");
}

#[test]
fn syntax_errors_are_ignored() {
    for bad in [
        "",
        "bytes",
        "bytes=",
        "bytes=,",
        "bytes= , ,",
        "bytes=-",
        "bytes=--1",
        "bytes=1--2",
        "bytes=1-2-3",
        "bytes=a-b",
        "bytes=1-b",
        "bytes=a-",
        "bytes=-a",
        "bytes=+1-2",
        "bytes=1-+2",
        "bytes=0x10-",
        "bytes=1.5-2",
        "bytes=1",
        "bytes=0-1;x",
        "bytes=0-1,junk",
        "bytes=0-1,5-2",
        "bytes=0-1,-",
        "bytes==0-1",
        "bytes=\u{661}-2", // an Arabic-Indic digit is not a DIGIT
        "bytes=0-1\0",
    ] {
        assert_eq!(r(bad, 50), Full, "{bad:?}");
    }
    assert_eq!(
        ranges(Some(&[0xff, b'=', b'0', b'-']), None, ETAG, 0, 50),
        Full
    );
}

#[test]
fn several_ranges() {
    assert_eq!(r("bytes=0-0,2-3", 50), Full);
    assert_eq!(r("bytes=0-0,0-0", 50), Full);
    assert_eq!(r("bytes=0-,0-,0-", 50), Full, "never amplifies");
    assert_eq!(r("bytes=-10,0-5", 50), Full);
    assert_eq!(r("bytes=0-4,100-200", 50), Full, "one satisfiable: 200");
    assert_eq!(
        r("bytes=100-200,300-", 50),
        Unsatisfiable,
        "none satisfiable"
    );
    assert_eq!(r("bytes=-0,50-", 50), Unsatisfiable);
    assert_eq!(r("bytes=-0,-1", 50), Full);
    assert_eq!(r("bytes=0-1,2-1", 50), Full, "one invalid spec: ignored");
    assert_eq!(r("bytes=100-,2-1", 50), Full);
}

#[test]
fn limits() {
    let list = |spec: &str, n: usize| format!("bytes={}", vec![spec; n].join(","));
    assert_eq!(
        r(&list("100-", 16), 50),
        Unsatisfiable,
        "16 elements: parsed"
    );
    assert_eq!(r(&list("100-", 17), 50), Full, "17 elements: ignored");
    assert_eq!(r(&list("0-0", 16), 50), Full);
    assert_eq!(r(&list("0-0", 1000), 50), Full);
    assert_eq!(r(&format!("bytes=0-1{}", ",".repeat(15)), 50), p(0, 1));
    assert_eq!(r(&format!("bytes=0-1{}", ",".repeat(16)), 50), Full);
    let pad = |n: usize| format!("bytes={}1-2", "0".repeat(n));
    assert_eq!(pad(1015).len(), 1024);
    assert_eq!(r(&pad(1015), 50), p(1, 2), "1024 bytes: parsed");
    assert_eq!(r(&pad(1016), 50), Full, "1025 bytes: ignored");
    assert_eq!(r(&format!("bytes=0-1{}", " ".repeat(2000)), 50), Full);
}

#[test]
fn huge_numbers() {
    let huge = "99999999999999999999999999";
    let max = u64::MAX.to_string(); // 18446744073709551615
    let over = "18446744073709551616";
    assert_eq!(r(&format!("bytes={huge}-"), 50), Unsatisfiable);
    assert_eq!(r(&format!("bytes={huge}-{huge}"), 50), Unsatisfiable);
    assert_eq!(r(&format!("bytes=0-{huge}"), 50), p(0, 49));
    assert_eq!(r(&format!("bytes=10-{max}"), 50), p(10, 49));
    assert_eq!(r(&format!("bytes=-{huge}"), 50), p(0, 49));
    assert_eq!(r(&format!("bytes={huge}-1"), 50), Full, "last < first");
    // Both saturate, yet the order is still decided exactly.
    assert_eq!(r(&format!("bytes={over}-{max}"), u64::MAX), Full);
    assert_eq!(r(&format!("bytes={huge}-{over}"), u64::MAX), Full);
    assert_eq!(r(&format!("bytes={over}-{huge}"), u64::MAX), Unsatisfiable);
    assert_eq!(r(&format!("bytes=000{max}-{max}"), u64::MAX), Unsatisfiable);
    assert_eq!(r(&format!("bytes={max}-"), u64::MAX), Unsatisfiable);
    assert_eq!(r("bytes=0-", u64::MAX), p(0, u64::MAX - 1));
    assert_eq!(r(&format!("bytes=-{max}"), u64::MAX), p(0, u64::MAX - 1));
    assert_eq!(r("bytes=-1", u64::MAX), p(u64::MAX - 1, u64::MAX - 1));
    let zeros = format!("bytes=-{}", "0".repeat(500));
    assert_eq!(r(&zeros, 50), Unsatisfiable, "a long -0");
}

#[test]
fn files_over_4_gib() {
    let len = 5 * GIB;
    assert_eq!(r("bytes=0-", len), p(0, len - 1));
    assert_eq!(r("bytes=-1", len), p(len - 1, len - 1));
    assert_eq!(r("bytes=-100", len), p(len - 100, len - 1));
    assert_eq!(
        r("bytes=4294967295-4294967296", len),
        p(GIB * 4 - 1, GIB * 4)
    );
    assert_eq!(r("bytes=5368709000-", len), p(5_368_709_000, len - 1));
    assert_eq!(
        r("bytes=5368709100-5368709999", len),
        p(5_368_709_100, len - 1)
    );
    assert_eq!(r("bytes=5368709119-", len), p(len - 1, len - 1));
    assert_eq!(r("bytes=5368709120-", len), Unsatisfiable);
    assert_eq!(r("bytes=6442450944-7516192768", len), Unsatisfiable);
    assert_eq!(
        content_range(len - 100, len - 1, len),
        "bytes 5368709020-5368709119/5368709120"
    );
}

#[test]
fn empty_representation() {
    assert_eq!(r("bytes=0-", 0), Unsatisfiable);
    assert_eq!(r("bytes=0-0", 0), Unsatisfiable);
    assert_eq!(r("bytes=0-100", 0), Unsatisfiable);
    assert_eq!(r("bytes=5-", 0), Unsatisfiable);
    assert_eq!(r("bytes=-0", 0), Unsatisfiable);
    assert_eq!(r("bytes=0-,1-", 0), Unsatisfiable);
    assert_eq!(
        r("bytes=-1", 0),
        Full,
        "satisfiable, but a 206 cannot be empty"
    );
    assert_eq!(r("bytes=-100", 0), Full);
    assert_eq!(r("bytes=-1,-2", 0), Full);
    assert_eq!(r("bytes=5-2", 0), Full);
    assert_eq!(r("items=0-", 0), Full);
    assert_eq!(content_range_unsatisfied(0), "bytes */0");
}

#[test]
fn if_range_with_etags() {
    assert_eq!(ri("bytes=0-9", ETAG, 50), p(0, 9), "matching strong tag");
    assert_eq!(ri("bytes=0-9", &format!(" {ETAG}\t"), 50), p(0, 9));
    assert_eq!(ri("bytes=0-9", "\"32-2ebc3ca1-7f\"", 50), Full, "changed");
    assert_eq!(
        ri("bytes=0-9", &format!("W/{ETAG}"), 50),
        Full,
        "weak never matches"
    );
    assert_eq!(
        ri("bytes=0-9", &format!("{ETAG}, {ETAG}"), 50),
        Full,
        "one tag only"
    );
    assert_eq!(ri("bytes=0-9", &format!("{ETAG}x"), 50), Full);
    assert_eq!(ri("bytes=0-9", "*", 50), Full);
    assert_eq!(ri("bytes=0-9", "", 50), Full);
    assert_eq!(ri("bytes=0-9", "32-2ebc3ca1-7e", 50), Full, "unquoted");
    // A weak current tag never matches, even itself.
    let weak = "W/\"x\"";
    assert_eq!(
        ranges(Some(b"bytes=0-9"), Some(b"\"x\""), weak, 0, 50),
        Full
    );
    assert_eq!(
        ranges(Some(b"bytes=0-9"), Some(weak.as_bytes()), weak, 0, 50),
        Full
    );
    // A matching If-Range lets an unsatisfiable range be 416...
    assert_eq!(ri("bytes=100-", ETAG, 50), Unsatisfiable);
    // ...a failing one means "send me the new representation": 200.
    assert_eq!(ri("bytes=100-", "\"old\"", 50), Full);
    // An invalid Range is ignored whatever If-Range says.
    assert_eq!(ri("bytes=9-0", ETAG, 50), Full);
    assert_eq!(ri("bytes=0-0,2-3", ETAG, 50), Full);
}

#[test]
fn if_range_with_dates() {
    for v in [IMF, RFC850, ASCTIME] {
        assert_eq!(ri("bytes=0-9", v, 50), p(0, 9), "equal: {v}");
    }
    assert_eq!(ri("bytes=0-9", &fmt(RFC_SECS - 1), 50), Full, "earlier");
    assert_eq!(
        ri("bytes=0-9", &fmt(RFC_SECS + 1), 50),
        Full,
        "later is not enough"
    );
    assert_eq!(ri("bytes=0-9", "Sun, 06 Nov 1994 25:49:37 GMT", 50), Full);
    assert_eq!(ri("bytes=0-9", "yesterday", 50), Full);
    assert_eq!(ri("bytes=100-", IMF, 50), Unsatisfiable);
    assert_eq!(ri("bytes=100-", &fmt(0), 50), Full);
    // Epoch mtime and a date before the epoch must not meet at 0.
    assert_eq!(
        ranges(
            Some(b"bytes=0-0"),
            Some(b"Wed, 31 Dec 1969 23:59:59 GMT"),
            ETAG,
            0,
            50
        ),
        Full
    );
    assert_eq!(
        ranges(Some(b"bytes=0-0"), Some(fmt(0).as_bytes()), ETAG, 0, 50),
        p(0, 0)
    );
}

#[test]
fn content_range_values() {
    assert_eq!(content_range(0, 0, 50), "bytes 0-0/50");
    assert_eq!(content_range(40, 49, 50), "bytes 40-49/50");
    assert_eq!(
        content_range(0, u64::MAX - 1, u64::MAX),
        "bytes 0-18446744073709551614/18446744073709551615"
    );
    assert_eq!(content_range_unsatisfied(50), "bytes */50");
}

#[test]
fn decimal_order() {
    assert!(decimal_less(b"1", b"2"));
    assert!(!decimal_less(b"2", b"2"));
    assert!(!decimal_less(b"002", b"2"));
    assert!(decimal_less(b"0009", b"10"));
    assert!(decimal_less(b"0", b"00001"));
    assert!(!decimal_less(b"000", b"0"));
    assert!(decimal_less(
        b"18446744073709551615",
        b"18446744073709551616"
    ));
    assert!(!decimal_less(
        b"100000000000000000000",
        b"99999999999999999999"
    ));
}

// ---- properties ----

/// A number: usually small, sometimes anything, sometimes past u64.
fn num() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0u64..120).prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => "[0-9]{1,30}",
    ]
}

fn ows() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just(""), Just(" "), Just("\t"), Just(" \t ")]
}

fn len() -> impl Strategy<Value = u64> {
    prop_oneof![4 => 0u64..100, 1 => any::<u64>(), 1 => Just(5 * GIB)]
}

/// Saturating decimal value, as the parser reads it.
fn value(s: &str) -> u64 {
    s.parse::<u128>()
        .map_or(u64::MAX, |n| u64::try_from(n).unwrap_or(u64::MAX))
}

fn check_invariant(got: &Ranges, len: u64) -> Result<(), TestCaseError> {
    if let Ranges::Partial { start, end } = *got {
        prop_assert!(start <= end && end < len, "{got:?} for len {len}");
    }
    Ok(())
}

proptest! {
    #[test]
    fn ranges_never_panics_on_bytes(
        range in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
        if_range in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
        len in len(),
        mtime in any::<u64>(),
    ) {
        let got = ranges(range.as_deref(), if_range.as_deref(), ETAG, mtime, len);
        check_invariant(&got, len)?;
    }

    #[test]
    fn ranges_never_panics_on_near_misses(
        tail in "[0-9 ,=\\-\t]{0,40}",
        len in len(),
    ) {
        let got = r(&format!("bytes={tail}"), len);
        check_invariant(&got, len)?;
    }

    #[test]
    fn single_range_matches_model(
        first in num(), last in num(), form in 0..3u8,
        (a, b, c, d) in (ows(), ows(), ows(), ows()),
        len in len(),
    ) {
        let (f, l) = (value(&first), value(&last));
        let (text, want) = match form {
            0 => (
                format!("{a}bytes={b}{first}{c}-{d}{last}"),
                // At most 30 digits: exact in u128.
                if first.parse::<u128>().unwrap() > last.parse::<u128>().unwrap() {
                    Full
                } else if f >= len {
                    Unsatisfiable
                } else {
                    p(f, l.min(len - 1))
                },
            ),
            1 => (
                format!("{a}bytes{b}={c}{first}-{d}"),
                if f >= len { Unsatisfiable } else { p(f, len - 1) },
            ),
            _ => (
                format!("bytes={a}-{last}{b},{c}"),
                if l == 0 {
                    Unsatisfiable
                } else if len == 0 {
                    Full
                } else {
                    p(len - l.min(len), len - 1)
                },
            ),
        };
        let got = r(&text, len);
        check_invariant(&got, len)?;
        prop_assert_eq!(got, want, "{:?} len {}", text, len);
    }
}
