//! Base64 (RFC 4648 §4: the standard alphabet, padded), decoded strictly and into a buffer of
//! fixed size: what `Authorization: Basic` carries (RFC 7617 §2). Strict means one spelling per
//! byte string: no whitespace, no missing or extra `=`, no stray bits in the last character.

/// The most bytes a decoding may give: more than any credentials `--auth` accepts (a user name
/// and a password of 255 bytes each), so that a longer value is refused before it is decoded.
pub const MAX_DECODED: usize = 768;

/// Why a value is not strict base64.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base64Error {
    /// Not a whole number of 4-character groups.
    Length,
    /// A byte outside the alphabet (or `=` before the end).
    Byte,
    /// Bits left over in the last group, or more than two `=`.
    Padding,
    /// It would decode to more than [`MAX_DECODED`] bytes.
    TooLong,
}

/// The 6-bit value of one character of the alphabet.
fn value(b: u8) -> Option<u32> {
    let v = match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Decodes `input` into `out`, returning the bytes written.
pub fn decode<'o>(input: &[u8], out: &'o mut [u8; MAX_DECODED]) -> Result<&'o [u8], Base64Error> {
    if !input.len().is_multiple_of(4) {
        return Err(Base64Error::Length);
    }
    if input.len() / 4 * 3 > MAX_DECODED {
        return Err(Base64Error::TooLong);
    }
    let groups = input.len() / 4;
    let mut n = 0;
    for (i, group) in input.chunks_exact(4).enumerate() {
        let pad = if i + 1 == groups {
            group.iter().rev().take_while(|&&b| b == b'=').count()
        } else {
            0
        };
        if pad > 2 {
            return Err(Base64Error::Padding);
        }
        let mut v = 0u32;
        for &b in &group[..4 - pad] {
            v = v << 6 | value(b).ok_or(Base64Error::Byte)?;
        }
        v <<= 6 * pad as u32;
        // The bits of the characters beyond the bytes they make must be zero (RFC 4648 §3.5).
        if v & ((1 << (8 * pad)) - 1) != 0 {
            return Err(Base64Error::Padding);
        }
        let bytes = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
        let keep = 3 - pad;
        out[n..n + keep].copy_from_slice(&bytes[..keep]);
        n += keep;
    }
    Ok(&out[..n])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The encoder the decoder must invert (tests only: the server never encodes).
    fn encode(data: &[u8]) -> String {
        const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut s = String::new();
        for c in data.chunks(3) {
            let v = c
                .iter()
                .enumerate()
                .fold(0u32, |v, (i, &b)| v | u32::from(b) << (16 - 8 * i));
            for i in 0..4 {
                if i <= c.len() {
                    s.push(char::from(ABC[(v >> (18 - 6 * i) & 63) as usize]));
                } else {
                    s.push('=');
                }
            }
        }
        s
    }

    fn dec(s: &str) -> Result<Vec<u8>, Base64Error> {
        let mut out = [0; MAX_DECODED];
        decode(s.as_bytes(), &mut out).map(<[u8]>::to_vec)
    }

    #[test]
    fn known_values() {
        // RFC 4648 §10 and RFC 7617's example.
        for (plain, b64) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("Aladdin:open sesame", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        ] {
            assert_eq!(dec(b64), Ok(plain.as_bytes().to_vec()), "{b64}");
            assert_eq!(encode(plain.as_bytes()), b64);
        }
    }

    #[test]
    fn not_strict_is_refused() {
        use Base64Error::*;
        for (bad, why) in [
            ("Zg", Length),
            ("Zg=", Length),
            ("Zm9v ", Length),
            ("Zm9vYg", Length),
            ("Zh==", Padding), // stray bits
            ("Zm9=", Padding),
            ("Z===", Padding),
            ("====", Padding),
            ("Zg==Zm9v", Byte), // padding before the end
            ("Z=g=", Byte),
            ("Zm9v\r\n", Length),
            ("Zm 9", Byte),
            ("Zm-_", Byte), // the URL-safe alphabet
            ("Zm\u{e9}", Byte),
        ] {
            assert_eq!(dec(bad), Err(why), "{bad:?}");
        }
        let long = "A".repeat(MAX_DECODED / 3 * 4 + 4);
        assert_eq!(dec(&long), Err(TooLong));
        assert_eq!(dec(&long[4..]).map(|v| v.len()), Ok(MAX_DECODED));
    }

    proptest! {
        #[test]
        fn decodes_what_is_encoded(data in proptest::collection::vec(any::<u8>(), 0..=MAX_DECODED)) {
            prop_assert_eq!(dec(&encode(&data)), Ok(data));
        }

        /// Whatever the bytes, no panic, and only the one canonical spelling decodes.
        #[test]
        fn anything_else_is_refused_or_canonical(s in "[A-Za-z0-9+/=\\- ]{0,40}") {
            if let Ok(data) = dec(&s) {
                prop_assert_eq!(encode(&data), s);
            }
        }
    }
}
