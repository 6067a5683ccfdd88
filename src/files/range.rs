//! Byte ranges for static files (RFC 9110 §14): the `Range` header parsed against a
//! representation's length — 206 with one range, 416, or the whole body — and the
//! `Content-Range` values that go with the answer. `If-Range` is asked of
//! [`precondition`](super::precondition).

use super::precondition::if_range_matches;
use crate::http::token::{is_digits, parse_decimal, trim_ows};

/// A `Range` value longer than this is ignored (the whole representation is sent).
const MAX_RANGE_HEADER: usize = 1024;
/// At most this many list elements (empty ones included) in a `Range` value; more → ignored.
const MAX_RANGES: usize = 16;

/// What to send for a `Range` request.
#[derive(Debug, PartialEq, Eq)]
pub enum Ranges {
    /// 200 with the whole representation: no range, or the range is ignored.
    Full,
    /// 206 with bytes `start..=end` and `Content-Range: bytes start-end/len`.
    Partial {
        start: u64,
        end: u64, /* inclusive */
    },
    /// 416 with `Content-Range: bytes */len` (see [`content_range_unsatisfied`]).
    Unsatisfiable,
}

/// One `range-spec` as received; numbers too large for u64 saturate, which keeps their meaning
/// (a first-pos ≥ any length, a last-pos or suffix past any end).
#[derive(Clone, Copy, Debug)]
enum Spec {
    /// `first-last` or `first-`.
    Int { first: u64, last: Option<u64> },
    /// `-n`: the last n bytes.
    Suffix(u64),
}

/// The `Range` header for a representation of `len` bytes (RFC 9110 §14.1.1, §14.2, §13.2.2).
///
/// - `bytes=a-b`, `bytes=a-` and `bytes=-n` (the last n bytes). An end at or past the last
///   byte is clamped to `len - 1`; a suffix longer than the representation is all of it.
/// - A unit other than `bytes` (case-insensitive) or a syntactically invalid value, including
///   `a-b` with `b < a`, is ignored → [`Ranges::Full`]. OWS is accepted around the whole
///   value, the `=`, each element and each `-`, and empty list elements are skipped.
/// - A first byte at or past `len`, or `-0`, is unsatisfiable → [`Ranges::Unsatisfiable`]
///   (416): a resume past the end of the file is 416, never 404 or 200.
/// - Numbers of any length are accepted; past u64 they saturate, so a huge first byte is
///   unsatisfiable and a huge end or suffix means "to the end". Never a panic or overflow.
/// - Several ranges: we never send `multipart/byteranges`; when at least one of them is
///   satisfiable the answer is [`Ranges::Full`] (200 with the whole body, as §14.2 allows a
///   server to ignore Range). The response is never larger than the file, so overlapping or
///   many small ranges cannot amplify. When none is satisfiable, 416 as for one range.
/// - Limits: a value over 1024 bytes or with more than 16 list elements is ignored → Full.
/// - `len == 0`: by §14.1.1 the only satisfiable form on an empty representation is a suffix
///   with a non-zero length; every `a-…` is unsatisfiable (416, `bytes */0`). A satisfiable
///   suffix would select the whole (empty) representation, which a 206 cannot express
///   (`Content-Range` needs first ≤ last), so it is answered [`Ranges::Full`]: 200 with an
///   empty body. `-0` stays unsatisfiable.
/// - `If-Range` (§13.1.5), only looked at when the Range is valid: an entity-tag must match
///   `etag` by strong comparison (a weak tag on either side never matches); an HTTP-date must
///   equal `mtime_secs` exactly. Anything else, including a value that is neither, means the
///   representation changed → [`Ranges::Full`], even for a range that would be unsatisfiable.
pub fn ranges(
    range: Option<&[u8]>,
    if_range: Option<&[u8]>,
    etag: &str,
    mtime_secs: u64,
    len: u64,
) -> Ranges {
    let Some(range) = range else {
        return Ranges::Full;
    };
    let mut specs = [Spec::Suffix(0); MAX_RANGES];
    let Some(n) = parse_range(range, &mut specs) else {
        return Ranges::Full;
    };
    if let Some(if_range) = if_range {
        if !if_range_matches(if_range, etag.as_bytes(), mtime_secs) {
            return Ranges::Full;
        }
    }
    match &specs[..n] {
        [one] => resolve(*one, len),
        many if many
            .iter()
            .all(|s| resolve(*s, len) == Ranges::Unsatisfiable) =>
        {
            Ranges::Unsatisfiable
        }
        _ => Ranges::Full,
    }
}

/// One range-spec against a representation of `len` bytes.
fn resolve(spec: Spec, len: u64) -> Ranges {
    match spec {
        Spec::Int { first, .. } if first >= len => Ranges::Unsatisfiable,
        Spec::Int { first, last } => Ranges::Partial {
            start: first,
            end: last.map_or(len - 1, |last| last.min(len - 1)),
        },
        Spec::Suffix(0) => Ranges::Unsatisfiable,
        Spec::Suffix(_) if len == 0 => Ranges::Full,
        Spec::Suffix(n) => Ranges::Partial {
            start: len.saturating_sub(n),
            end: len - 1,
        },
    }
}

/// Parses `bytes=range-set` into `out`; the number of specs, or `None` if the value is to be
/// ignored (other unit, bad syntax, over the limits).
fn parse_range(v: &[u8], out: &mut [Spec; MAX_RANGES]) -> Option<usize> {
    if v.len() > MAX_RANGE_HEADER {
        return None;
    }
    let eq = v.iter().position(|&b| b == b'=')?;
    if !trim_ows(&v[..eq]).eq_ignore_ascii_case(b"bytes") {
        return None;
    }
    let mut n = 0;
    for (i, element) in v[eq + 1..].split(|&b| b == b',').enumerate() {
        if i == MAX_RANGES {
            return None;
        }
        let element = trim_ows(element);
        if element.is_empty() {
            continue;
        }
        let dash = element.iter().position(|&b| b == b'-')?;
        let (first, last) = (trim_ows(&element[..dash]), trim_ows(&element[dash + 1..]));
        out[n] = if first.is_empty() {
            Spec::Suffix(number(last)?)
        } else if last.is_empty() {
            Spec::Int {
                first: number(first)?,
                last: None,
            }
        } else {
            let (f, l) = (number(first)?, number(last)?);
            // Compared as decimal strings: both may have saturated.
            if decimal_less(last, first) {
                return None;
            }
            Spec::Int {
                first: f,
                last: Some(l),
            }
        };
        n += 1;
    }
    (n > 0).then_some(n)
}

/// `1*DIGIT` of any length, saturating at u64::MAX (see [`Spec`]): a number past u64 is still a
/// number here, where the one decimal parser would refuse it.
fn number(v: &[u8]) -> Option<u64> {
    parse_decimal(v).or_else(|| is_digits(v).then_some(u64::MAX))
}

/// `a < b` for two strings of ASCII digits, of any length.
fn decimal_less(a: &[u8], b: &[u8]) -> bool {
    let strip = |v: &[u8]| -> usize { v.iter().position(|&d| d != b'0').unwrap_or(v.len()) };
    let (a, b) = (&a[strip(a)..], &b[strip(b)..]);
    (a.len(), a) < (b.len(), b)
}

/// `Content-Range` value for a partial answer: `bytes start-end/len`.
pub fn content_range(start: u64, end: u64, len: u64) -> String {
    format!("bytes {start}-{end}/{len}")
}

/// `Content-Range` value for a 416 answer: `bytes */len`.
pub fn content_range_unsatisfied(len: u64) -> String {
    format!("bytes */{len}")
}

#[cfg(test)]
mod tests;
