//! JSON strings out of request bytes, for `/-/anything` and `/-/response-headers`.

/// Appends `bytes` to `out` as a JSON string, quotes included. Valid UTF-8 is kept as it is;
/// `"` and `\` are escaped; every control byte (C0 and DEL, HTAB included) is written
/// `\u00XX`; each maximal invalid UTF-8 sequence becomes one `\ufffd` (as
/// `String::from_utf8_lossy` would), so the document is always valid JSON and valid UTF-8.
pub fn string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    for chunk in bytes.utf8_chunks() {
        for &b in chunk.valid().as_bytes() {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                0..=0x1f | 0x7f => {
                    let hex = b"0123456789abcdef";
                    out.extend_from_slice(b"\\u00");
                    out.push(hex[usize::from(b >> 4)]);
                    out.push(hex[usize::from(b & 15)]);
                }
                _ => out.push(b),
            }
        }
        if !chunk.invalid().is_empty() {
            out.extend_from_slice(b"\\ufffd");
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(bytes: &[u8]) -> String {
        let mut out = Vec::new();
        string(&mut out, bytes);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes() {
        assert_eq!(s(b"plain"), r#""plain""#);
        assert_eq!(s(b"a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(
            s(b"\t\r\n\x00\x1f\x7f"),
            r#""\u0009\u000d\u000a\u0000\u001f\u007f""#
        );
        assert_eq!(s("é✓".as_bytes()), "\"é✓\"");
        assert_eq!(s(b"a\xffb\xc3"), r#""a\ufffdb\ufffd""#);
    }

    proptest! {
        #[test]
        fn always_one_clean_json_string(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let out = s(&bytes);
            prop_assert!(out.starts_with('"') && out.ends_with('"') && out.len() >= 2);
            prop_assert!(!out.bytes().any(|b| b < 0x20 || b == 0x7f));
            // UTF-8 with nothing to escape comes out as it went in.
            if let Ok(text) = std::str::from_utf8(&bytes) {
                if !text.chars().any(|c| c.is_ascii_control() || c == '"' || c == '\\') {
                    prop_assert_eq!(&out[1..out.len() - 1], text);
                }
            }
        }
    }
}
