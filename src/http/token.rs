//! The small lexical pieces every header grammar is built from (RFC 9110 §5.6): optional
//! whitespace, token characters and decimal numbers — each defined once, here.

/// Strips OWS (SP and HTAB, RFC 9110 §5.6.3) from both ends. Not `<[u8]>::trim_ascii`, which
/// also strips CR, LF and FF: `bytes=0-1\r` is not a valid Range.
pub fn trim_ows(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |e| e + 1);
    &v[start..end]
}

/// A 256-entry membership table: alphanumerics plus `extra`.
pub const fn table(extra: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
}

/// RFC 9110 §5.6.2 token characters.
static TCHAR: [bool; 256] = table(b"!#$%&'*+-.^_`|~");

/// A token character (RFC 9110 §5.6.2).
#[inline]
pub fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// `1*DIGIT` as a u64: `None` when `v` is empty, holds anything but ASCII digits, or is worth
/// more than `u64::MAX`. Leading zeros are fine (`007` is 7). The one decimal parser: callers
/// put their own limits (a length in digits, a largest value) on top of it.
pub fn parse_decimal(v: &[u8]) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    v.iter().try_fold(0u64, |n, &b| {
        if b.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

/// The value of one hex digit (`0-9`, `a-f`, `A-F`), for chunk sizes and `%XX` escapes.
pub fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Whether `v` is `1*DIGIT` (of any length).
pub fn is_digits(v: &[u8]) -> bool {
    !v.is_empty() && v.iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ows() {
        assert_eq!(trim_ows(b""), b"");
        assert_eq!(trim_ows(b" \t "), b"");
        assert_eq!(trim_ows(b" \ta b\t "), b"a b");
        assert_eq!(trim_ows(b"\r x \n"), b"\r x \n", "only SP and HTAB");
    }

    #[test]
    fn token_characters() {
        let tokens: Vec<u8> = (0..=255u8).filter(|&b| is_tchar(b)).collect();
        assert_eq!(
            tokens,
            b"!#$%&'*+-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`abcdefghijklmnopqrstuvwxyz|~"
        );
    }

    #[test]
    fn decimals() {
        assert_eq!(parse_decimal(b"0"), Some(0));
        assert_eq!(parse_decimal(b"007"), Some(7));
        assert_eq!(parse_decimal(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_decimal(b"00000000000000000000000042"), Some(42));
        for bad in [
            &b""[..],
            b"18446744073709551616",
            b"99999999999999999999",
            b"+1",
            b"-1",
            b" 1",
            b"1 ",
            b"0x1",
            b"1.5",
            "\u{661}".as_bytes(),
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
        assert!(is_digits(b"99999999999999999999999"));
        assert!(!is_digits(b""));
        assert!(!is_digits(b"1a"));
    }

    proptest! {
        #[test]
        fn decimal_matches_std(v in "[0-9+ a-]{0,25}") {
            let want = if v.starts_with('+') { None } else { v.parse::<u64>().ok() };
            prop_assert_eq!(parse_decimal(v.as_bytes()), want);
        }
    }
}
