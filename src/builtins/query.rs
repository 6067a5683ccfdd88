//! The one query-string reader of the built-ins: `a=1&b=2` split on `&` and the first `=`,
//! each part percent-decoded into a caller's bounded buffer.
//!
//! Decisions: `+` is a plus sign, not a space (RFC 3986 queries; `+` for space is HTML form
//! encoding, and `application/ld+json` must survive); `%XX` needs two hex digits, anything else
//! after `%` is refused; empty pieces (`a=1&&b=2`, a trailing `&`) are skipped; a piece
//! without `=` is a name with an empty value.

use crate::http::token::hex_value;

/// Why a query part could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryError {
    /// `%` not followed by two hex digits.
    BadEscape,
    /// The decoded part does not fit the buffer.
    TooLong,
}

/// The raw (still percent-encoded) `(name, value)` pairs of a query, in order.
pub fn pairs(query: Option<&[u8]>) -> impl Iterator<Item = (&[u8], &[u8])> {
    query
        .unwrap_or_default()
        .split(|&b| b == b'&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| match piece.iter().position(|&b| b == b'=') {
            Some(i) => (&piece[..i], &piece[i + 1..]),
            None => (piece, &b""[..]),
        })
}

/// The raw value of the first parameter whose decoded name is `name`.
pub fn raw_value<'q>(query: Option<&'q [u8]>, name: &str) -> Option<&'q [u8]> {
    let mut buf = [0u8; 32];
    pairs(query)
        .find(|(n, _)| decode(n, &mut buf).is_ok_and(|n| n == name.as_bytes()))
        .map(|(_, v)| v)
}

/// Percent-decodes `raw` into `out`; the decoded bytes, or why not. Never allocates.
pub fn decode<'o>(raw: &[u8], out: &'o mut [u8]) -> Result<&'o [u8], QueryError> {
    let mut n = 0;
    let mut i = 0;
    while i < raw.len() {
        let b = match raw[i] {
            b'%' => {
                let hi = raw.get(i + 1).and_then(|&h| hex_value(h));
                let lo = raw.get(i + 2).and_then(|&l| hex_value(l));
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err(QueryError::BadEscape);
                };
                i += 3;
                hi << 4 | lo
            }
            b => {
                i += 1;
                b
            }
        };
        *out.get_mut(n).ok_or(QueryError::TooLong)? = b;
        n += 1;
    }
    Ok(&out[..n])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(raw: &str) -> Result<Vec<u8>, QueryError> {
        let mut buf = [0u8; 16];
        decode(raw.as_bytes(), &mut buf).map(<[u8]>::to_vec)
    }

    #[test]
    fn decoding() {
        assert_eq!(d(""), Ok(vec![]));
        assert_eq!(d("abc"), Ok(b"abc".to_vec()));
        assert_eq!(d("a%20b"), Ok(b"a b".to_vec()));
        assert_eq!(d("a+b"), Ok(b"a+b".to_vec()), "+ is a plus");
        assert_eq!(d("%0d%0A"), Ok(b"\r\n".to_vec()));
        assert_eq!(d("%ff%00"), Ok(vec![0xff, 0]));
        assert_eq!(d("%2"), Err(QueryError::BadEscape));
        assert_eq!(d("%"), Err(QueryError::BadEscape));
        assert_eq!(d("%g0"), Err(QueryError::BadEscape));
        assert_eq!(d("%+1"), Err(QueryError::BadEscape));
        assert_eq!(d("0123456789abcdef"), Ok(b"0123456789abcdef".to_vec()));
        assert_eq!(d("0123456789abcdefg"), Err(QueryError::TooLong));
        assert_eq!(
            d("%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41"),
            Ok(vec![b'A'; 16]),
            "the bound is on decoded bytes"
        );
    }

    #[test]
    fn splitting() {
        let all = |q: &'static str| pairs(Some(q.as_bytes())).collect::<Vec<_>>();
        assert_eq!(
            all("a=1&&b=&c&=d&e=f=g&"),
            vec![
                (&b"a"[..], &b"1"[..]),
                (b"b", b""),
                (b"c", b""),
                (b"", b"d"),
                (b"e", b"f=g")
            ]
        );
        assert_eq!(pairs(None).count(), 0);
        assert_eq!(pairs(Some(b"")).count(), 0);
        assert_eq!(
            raw_value(Some(b"x=1&u%72l=%2F&url=2"), "url"),
            Some(&b"%2F"[..])
        );
        assert_eq!(raw_value(Some(b"x=1"), "url"), None);
    }

    fn encode(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("%{b:02X}")).collect()
    }

    proptest! {
        #[test]
        fn decode_inverts_encoding(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut buf = [0u8; 64];
            prop_assert_eq!(decode(encode(&bytes).as_bytes(), &mut buf), Ok(&bytes[..]));
        }

        #[test]
        fn decode_never_panics_nor_overflows(
            raw in proptest::collection::vec(any::<u8>(), 0..80),
            cap in 0usize..40,
        ) {
            let mut buf = vec![0u8; cap];
            match decode(&raw, &mut buf) {
                Ok(out) => {
                    prop_assert!(out.len() <= cap);
                    prop_assert!(out.len() <= raw.len());
                    // Without escapes it is the identity.
                    if !raw.contains(&b'%') {
                        prop_assert_eq!(out, &raw[..]);
                    }
                }
                Err(QueryError::TooLong) => prop_assert!(raw.len() > cap),
                Err(QueryError::BadEscape) => prop_assert!(raw.contains(&b'%')),
            }
        }

        #[test]
        fn pairs_give_back_every_piece(
            parts in proptest::collection::vec(("[a-z%=]{0,5}", "[a-z%=]{0,5}"), 0..8),
        ) {
            let q = parts
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("&");
            let got: Vec<_> = pairs(Some(q.as_bytes())).collect();
            prop_assert_eq!(got.len(), parts.len());
            for ((n, v), (gn, gv)) in parts.iter().zip(got) {
                // The name ends at the first `=`: a name holding one moves the rest to the value.
                let whole = format!("{n}={v}");
                let eq = whole.find('=').unwrap();
                prop_assert_eq!(gn, &whole.as_bytes()[..eq]);
                prop_assert_eq!(gv, &whole.as_bytes()[eq + 1..]);
            }
        }
    }
}
