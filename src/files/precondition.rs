//! Validators and conditional requests for static files (RFC 9110 §8.8, §13): the ETag, and the
//! `If-None-Match`, `If-Modified-Since` and `If-Range` checks — pure functions from header values
//! and file metadata to a decision (304 or not; whether a Range still applies).

use crate::http::date::parse_http_date;
use crate::http::token::trim_ows;

/// A strong ETag from size, mtime and inode, e.g. `"5f3a-1a2b3c4d-7e"` (quoted, hex fields):
/// `"size-mtime-inode"`. Sub-second mtime, when the file system has one, is appended to the
/// seconds as `.nanos` (`"5f3a-1a2b3c4d.1dcd6500-7e"`), so that two writes of the same size
/// within one second still change the tag, as a strong validator must (RFC 9110 §8.8.1).
pub fn etag(size: u64, mtime_secs: u64, mtime_nanos: u32, inode: u64) -> String {
    if mtime_nanos == 0 {
        format!("\"{size:x}-{mtime_secs:x}-{inode:x}\"")
    } else {
        format!("\"{size:x}-{mtime_secs:x}.{mtime_nanos:x}-{inode:x}\"")
    }
}

/// The outcome of the GET/HEAD preconditions.
#[derive(Debug, PartialEq, Eq)]
pub enum Precondition {
    /// Serve the representation (200, or 206 if a range applies).
    Proceed,
    /// Answer 304 with the validators and no body.
    NotModified,
}

/// GET/HEAD preconditions (RFC 9110 §13.1.2, §13.1.3, §13.2.2), for a resource that exists.
///
/// `If-None-Match` wins: when present, `If-Modified-Since` is ignored. It is `*` (matches any
/// current representation) or a comma-separated list of entity tags (OWS and empty elements
/// allowed), compared weakly: `W/"x"` matches `"x"`. Any match → [`Precondition::NotModified`].
/// A value that is not valid syntax matches nothing (a full answer is always safe).
///
/// Otherwise `If-Modified-Since`: [`Precondition::NotModified`] when the resource's
/// `mtime_secs` is earlier than or equal to the date — so a date later than Last-Modified
/// also gives 304. A value that is not a single valid HTTP-date is ignored.
pub fn check(
    if_none_match: Option<&[u8]>,
    if_modified_since: Option<&[u8]>,
    etag: &str,
    mtime_secs: u64,
) -> Precondition {
    let not_modified = match (if_none_match, if_modified_since) {
        (Some(inm), _) => none_match_hits(inm, etag.as_bytes()),
        (None, Some(ims)) => parse_http_date(ims).is_some_and(|date| mtime_secs <= date),
        (None, None) => false,
    };
    if not_modified {
        Precondition::NotModified
    } else {
        Precondition::Proceed
    }
}

/// Whether an `If-None-Match` value matches `current` by weak comparison.
fn none_match_hits(v: &[u8], current: &[u8]) -> bool {
    list_hits(v, current, false)
}

/// Whether an `If-Match` value (RFC 9110 §13.1.1) matches `current`: `*`, or a list with an
/// entity tag equal to it by strong comparison (a weak tag on either side never matches). A
/// value that is not valid syntax matches nothing (so the request fails with 412).
pub fn match_hits(v: &[u8], current: &[u8]) -> bool {
    list_hits(v, current, true)
}

/// `*` or an entity-tag list against `current`, by strong or weak comparison.
fn list_hits(v: &[u8], current: &[u8], strong: bool) -> bool {
    let v = trim_ows(v);
    if v == b"*" {
        return true;
    }
    let Some((current_weak, current, b"")) = split_etag(current) else {
        return false;
    };
    if strong && current_weak {
        return false;
    }
    let mut hit = false;
    let mut rest = v;
    loop {
        // Empty list elements and the OWS around commas are allowed (§5.6.1.2).
        while let [b' ' | b'\t' | b',', tail @ ..] = rest {
            rest = tail;
        }
        if rest.is_empty() {
            return hit;
        }
        let Some((weak, opaque, tail)) = split_etag(rest) else {
            return false;
        };
        hit |= opaque == current && !(strong && weak);
        rest = trim_ows(tail);
        if !matches!(rest, [] | [b',', ..]) {
            return false;
        }
    }
}

/// One `entity-tag` at the start of `v`: (weak, opaque-tag with its quotes, the rest).
fn split_etag(v: &[u8]) -> Option<(bool, &[u8], &[u8])> {
    let (weak, v) = match v.strip_prefix(b"W/") {
        Some(v) => (true, v),
        None => (false, v),
    };
    if v.first() != Some(&b'"') {
        return None;
    }
    let close = 1 + v[1..].iter().position(|&b| b == b'"')?;
    // etagc = %x21 / %x23-7E / obs-text
    if v[1..close].iter().any(|&b| b <= b' ' || b == 0x7f) {
        return None;
    }
    Some((weak, &v[..=close], &v[close + 1..]))
}

/// `If-Range`: a strong entity-tag equal to `current` (itself strong), or an HTTP-date equal to
/// the modification time.
pub(super) fn if_range_matches(v: &[u8], current: &[u8], mtime_secs: u64) -> bool {
    let v = trim_ows(v);
    if v.starts_with(b"\"") || v.starts_with(b"W/") {
        matches!(
            (split_etag(v), split_etag(current)),
            (Some((false, a, b"")), Some((false, c, b""))) if a == c
        )
    } else {
        parse_http_date(v) == Some(mtime_secs)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::files::range::{ranges, Ranges};
    use crate::http::date::examples::{ASCTIME, IMF, RFC850, RFC_SECS};
    use proptest::prelude::*;

    /// The current ETag of the tests' file, here and in [`crate::files::range`].
    pub const ETAG: &str = "\"32-2ebc3ca1-7e\"";

    fn p(start: u64, end: u64) -> Ranges {
        Ranges::Partial { start, end }
    }

    fn c(inm: Option<&str>, ims: Option<&str>, etag: &str, mtime: u64) -> Precondition {
        check(inm.map(str::as_bytes), ims.map(str::as_bytes), etag, mtime)
    }

    use Precondition::{NotModified, Proceed};

    // ---- etag ----

    #[test]
    fn etag_format() {
        assert_eq!(etag(0x5f3a, 0x1a2b_3c4d, 0, 0x7e), "\"5f3a-1a2b3c4d-7e\"");
        assert_eq!(etag(0, 0, 0, 0), "\"0-0-0\"");
        assert_eq!(
            etag(0x5f3a, 0x1a2b_3c4d, 500_000_000, 0x7e),
            "\"5f3a-1a2b3c4d.1dcd6500-7e\""
        );
        assert_eq!(
            etag(u64::MAX, u64::MAX, u32::MAX, u64::MAX),
            "\"ffffffffffffffff-ffffffffffffffff.ffffffff-ffffffffffffffff\""
        );
    }

    #[test]
    fn etag_changes_with_every_input_and_is_strong() {
        let base = etag(50, 1000, 1, 7);
        for other in [
            etag(51, 1000, 1, 7),
            etag(50, 1001, 1, 7),
            etag(50, 1000, 2, 7),
            etag(50, 1000, 0, 7),
            etag(50, 1000, 1, 8),
        ] {
            assert_ne!(base, other);
        }
        assert!(matches!(split_etag(base.as_bytes()), Some((false, _, b""))));
        // Our own tag satisfies both comparisons.
        assert_eq!(c(Some(&base), None, &base, 1000), NotModified);
        assert_eq!(
            ranges(Some(b"bytes=0-0"), Some(base.as_bytes()), &base, 1000, 50),
            p(0, 0)
        );
    }

    // ---- If-Match ----

    #[test]
    fn if_match_is_strong() {
        let m = |v: &str, current: &str| match_hits(v.as_bytes(), current.as_bytes());
        assert!(m("\"a\"", "\"a\""));
        assert!(m(" \"x\", \"a\" ", "\"a\""));
        assert!(m("*", "\"a\""));
        assert!(!m("W/\"a\"", "\"a\""), "a weak tag never matches strongly");
        assert!(!m("\"a\"", "W/\"a\""));
        assert!(!m("\"b\"", "\"a\""));
        assert!(!m("\"a\" junk", "\"a\""), "bad syntax matches nothing");
        assert!(!m("", "\"a\""));
    }

    // ---- check ----

    #[test]
    fn no_preconditions() {
        assert_eq!(c(None, None, ETAG, RFC_SECS), Proceed);
    }

    #[test]
    fn if_none_match_single_and_lists() {
        let m = |inm: &str| c(Some(inm), None, ETAG, RFC_SECS);
        assert_eq!(m(ETAG), NotModified);
        assert_eq!(m(&format!("W/{ETAG}")), NotModified, "weak comparison");
        assert_eq!(m("\"32-2ebc3ca1-7f\""), Proceed);
        assert_eq!(m("\"other\""), Proceed);
        assert_eq!(m(&format!("\"a\", {ETAG}, W/\"b\"")), NotModified);
        assert_eq!(m(&format!("\"a\",W/{ETAG}")), NotModified);
        assert_eq!(m(&format!("\"a\" \t,\t {ETAG}  ")), NotModified);
        assert_eq!(m(&format!(", ,{ETAG},,")), NotModified, "empty elements");
        assert_eq!(m("\"a\", \"b\", W/\"c\""), Proceed);
        assert_eq!(m("*"), NotModified);
        assert_eq!(m("  *\t"), NotModified);
        assert_eq!(m("\"\""), Proceed);
    }

    #[test]
    fn if_none_match_bad_syntax_matches_nothing() {
        let m = |inm: &str| c(Some(inm), None, ETAG, RFC_SECS);
        for bad in [
            "32-2ebc3ca1-7e", // unquoted
            &format!("{ETAG} junk"),
            &format!("{ETAG} \"a\""), // missing comma
            &format!("{ETAG}, junk"),
            &format!("w/{ETAG}"), // W/ is case-sensitive
            &format!("W/ {ETAG}"),
            &format!("*, {ETAG}"),
            "**",
            "\"32-2ebc3ca1-7e",    // unterminated
            "\"32-2ebc 3ca1-7e\"", // space inside
            "\"a\u{1}\"",
        ] {
            assert_eq!(m(bad), Proceed, "{bad:?}");
        }
    }

    #[test]
    fn if_none_match_against_unusual_current_tags() {
        // An opaque tag may contain commas; the list parser must not split inside quotes.
        assert_eq!(c(Some("\"x\", \"a,b\""), None, "\"a,b\"", 0), NotModified);
        assert_eq!(c(Some("\"a\""), None, "\"a,b\"", 0), Proceed);
        // A weak current tag still matches weakly.
        assert_eq!(c(Some("\"x\""), None, "W/\"x\"", 0), NotModified);
        // A malformed current tag matches only `*`.
        assert_eq!(c(Some("x"), None, "x", 0), Proceed);
        assert_eq!(c(Some("*"), None, "x", 0), NotModified);
    }

    #[test]
    fn if_none_match_beats_if_modified_since() {
        let later = "Mon, 01 Jan 2001 00:00:00 GMT";
        let earlier = "Sat, 01 Jan 1977 00:00:00 GMT";
        // If-Modified-Since alone would give 304 — but If-None-Match does not match.
        assert_eq!(c(None, Some(later), ETAG, RFC_SECS), NotModified);
        assert_eq!(c(Some("\"nope\""), Some(later), ETAG, RFC_SECS), Proceed);
        // ...and it would give 200 — but If-None-Match matches.
        assert_eq!(c(Some(ETAG), Some(earlier), ETAG, RFC_SECS), NotModified);
        // Present but empty or invalid still counts as present.
        assert_eq!(c(Some(""), Some(later), ETAG, RFC_SECS), Proceed);
        assert_eq!(c(Some("garbage"), Some(later), ETAG, RFC_SECS), Proceed);
    }

    #[test]
    fn if_modified_since() {
        let m = |ims: &str, mtime| c(None, Some(ims), ETAG, mtime);
        for v in [IMF, RFC850, ASCTIME] {
            assert_eq!(m(v, RFC_SECS), NotModified, "equal: {v}");
            assert_eq!(m(v, RFC_SECS - 1), NotModified, "date later: {v}");
            assert_eq!(m(v, 0), NotModified, "{v}");
            assert_eq!(m(v, RFC_SECS + 1), Proceed, "modified since: {v}");
            assert_eq!(m(v, u64::MAX), Proceed, "{v}");
        }
        for bad in [
            "",
            "yesterday",
            "Sun, 06 Nov 1994 25:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT junk",
            "Wed, 31 Dec 1969 23:59:59 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(m(bad, 0), Proceed, "invalid date is ignored: {bad:?}");
        }
    }

    proptest! {
        #[test]
        fn check_never_panics(
            inm in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
            ims in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
            mtime in any::<u64>(),
        ) {
            let _ = check(inm.as_deref(), ims.as_deref(), ETAG, mtime);
        }
    }
}
