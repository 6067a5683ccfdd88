//! `--header 'Name: value'` and `--cors`: the header lines added to every response, checked
//! once at start-up and encoded once, so that adding them costs one copy per response.

use crate::http::response::is_servers_own;
use crate::http::token::{is_tchar, trim_ows};

/// Most `--header`s, and the longest value of one.
pub const MAX_HEADERS: usize = 32;
pub const MAX_VALUE: usize = 4096;

/// Besides the server's own fields, those that describe a body: one `--header` for every
/// response cannot know what each body is.
const ABOUT_THE_BODY: [&str; 3] = ["content-type", "content-encoding", "content-range"];

/// Checks one `--header` (clap's value parser: an error is exit 2).
pub fn parse(s: &str) -> Result<(String, String), String> {
    let Some((name, value)) = s.split_once(':') else {
        return Err("expected 'Name: value'".into());
    };
    if name.is_empty() || !name.bytes().all(is_tchar) {
        return Err(format!(
            "{name:?} is not a header name (a token, RFC 9110 §5.6.2)"
        ));
    }
    if is_servers_own(name.as_bytes())
        || ABOUT_THE_BODY.iter().any(|r| r.eq_ignore_ascii_case(name))
    {
        return Err(format!(
            "{name} is the server's to send: it frames the response or decides the connection"
        ));
    }
    let value = trim_ows(value.as_bytes());
    // Visible bytes, spaces and tabs within, and UTF-8 (obs-text): no CR, LF, NUL or DEL.
    if value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err("the value holds a control character (CR, LF…)".into());
    }
    if value.len() > MAX_VALUE {
        return Err(format!("the value is longer than {MAX_VALUE} bytes"));
    }
    Ok((name.to_owned(), String::from_utf8_lossy(value).into_owned()))
}

/// A field `--cors` writes itself (`Access-Control-…`): a `--header` may not repeat it then.
pub fn is_cors_field(name: &str) -> bool {
    name.get(..15)
        .is_some_and(|p| p.eq_ignore_ascii_case("access-control-"))
}

/// What `--cors` lets a page read besides the CORS-safelisted fields (Fetch §3.2.6).
const EXPOSE: &str = "ETag, Content-Range, Accept-Ranges, Content-Disposition";

/// The lines every response's head ends with, each `\r\nName: value` (the form
/// `encode_head` writes fields in): the `--header`s, then with `--cors` what a browser
/// needs to let any page read the response (the `--header` names exposed too).
pub fn encode(headers: &[(String, String)], cors: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in headers {
        for piece in ["\r\n", name, ": ", value] {
            out.extend_from_slice(piece.as_bytes());
        }
    }
    if cors {
        out.extend_from_slice(
            b"\r\nAccess-Control-Allow-Origin: *\r\nAccess-Control-Expose-Headers: ",
        );
        out.extend_from_slice(EXPOSE.as_bytes());
        for (name, _) in headers {
            out.extend_from_slice(b", ");
            out.extend_from_slice(name.as_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever is given, what is kept encodes to exactly one line, `Name: value`.
        #[test]
        fn a_kept_header_is_one_line(s in "[ -~\t\r\n\x00\x7f\u{e9}]{0,40}") {
            if let Ok((name, value)) = parse(&s) {
                let line = encode(&[(name.clone(), value)], false);
                prop_assert!(line.starts_with(b"\r\n"));
                prop_assert!(!line[2..].iter().any(|&b| b == b'\r' || b == b'\n' || b == 0));
                prop_assert!(name.bytes().all(is_tchar) && !name.is_empty());
            }
        }
    }

    #[test]
    fn cors_fields() {
        assert!(is_cors_field("Access-Control-Allow-Origin"));
        assert!(is_cors_field("access-control-max-age"));
        assert!(!is_cors_field("Access-Control"));
        assert!(!is_cors_field("X-Access-Control-A"));
    }

    #[test]
    fn good_headers_are_kept_trimmed() {
        assert_eq!(
            parse("X-Frame-Options:  DENY "),
            Ok(("X-Frame-Options".into(), "DENY".into()))
        );
        assert_eq!(
            parse("Cache-Control:"),
            Ok(("Cache-Control".into(), "".into()))
        );
        assert_eq!(
            parse("X-A: a:b\tc é"),
            Ok(("X-A".into(), "a:b\tc é".into()))
        );
    }

    #[test]
    fn bad_headers_are_refused() {
        for bad in [
            "X-A",
            ": v",
            "X A: v",
            "X-A\r\nX-B: v",
            "X-A: v\r\nX-B: w",
            "X-A: v\n",
            "X-A: \0",
            "X-A: \x7f",
            "Content-Length: 0",
            "transfer-encoding: chunked",
            "Connection: close",
            "Upgrade: h2c",
            "Keep-Alive: timeout=5",
            "Trailer: x",
            "Date: today",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert!(parse(&format!("X-A: {}", "v".repeat(MAX_VALUE + 1))).is_err());
    }

    #[test]
    fn encoded_once() {
        let h = [("X-A".to_owned(), "1".to_owned())];
        assert_eq!(encode(&h, false), b"\r\nX-A: 1");
        assert_eq!(encode(&[], false), b"");
        let cors = String::from_utf8(encode(&h, true)).unwrap();
        assert!(cors.starts_with("\r\nX-A: 1\r\nAccess-Control-Allow-Origin: *\r\n"));
        assert!(cors.ends_with("Content-Disposition, X-A"), "{cors}");
    }
}
