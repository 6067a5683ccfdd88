//! `/-/redirect/N` and `/-/redirect-to?url=U&status=S`: redirects for clients' redirect
//! handling, never to another site and never with a header a client did not mean.

use super::query::{decode, raw_value};
use super::{number, param};
use crate::handler::Response;

/// Longest `/-/redirect/N` chain.
pub const MAX_REDIRECTS: u64 = 100;
/// Longest decoded `url` of `/-/redirect-to`.
pub const MAX_URL: usize = 2048;

/// `/-/redirect/N`: 302 to `/-/redirect/N-1`, and `/-/redirect/1` to `/-/plaintext`.
pub(super) fn redirect(n: &[u8]) -> Response {
    match number(n) {
        Some(1) => found(302, "/-/plaintext".into()),
        Some(n @ 2..=MAX_REDIRECTS) => found(302, format!("/-/redirect/{}", n - 1)),
        _ => Response::bad_request("N must be a number from 1 to 100\n"),
    }
}

/// `/-/redirect-to?url=U&status=S`: S (300-399, default 302) to U, percent-decoded, which
/// must be a path on this server: one leading `/` (not `//host` nor `/\host`, which browsers
/// read as another host), and only visible ASCII (no control byte, so no CR/LF, no space, no
/// byte above 0x7e).
pub(super) fn redirect_to(query: Option<&[u8]>) -> Response {
    let status = match param(query, "status", 399) {
        Ok(None) => 302,
        Ok(Some(s @ 300..=399)) => s as u16,
        _ => return Response::bad_request("status must be a number from 300 to 399\n"),
    };
    let Some(raw) = raw_value(query, "url") else {
        return Response::bad_request("url is required\n");
    };
    let mut buf = [0u8; MAX_URL];
    let Ok(url) = decode(raw, &mut buf) else {
        return Response::bad_request("url must be percent-encoded, at most 2048 bytes\n");
    };
    match local_path(url) {
        Some(url) => found(status, url.to_owned()),
        None => Response::bad_request(
            "url must be a path on this server: one leading /, visible ASCII only\n",
        ),
    }
}

/// `url` if it is a safe `Location` on this server.
fn local_path(url: &[u8]) -> Option<&str> {
    match url {
        [b'/', b'/' | b'\\', ..] => None,
        [b'/', ..] if url.iter().all(|&b| (0x21..=0x7e).contains(&b)) => {
            std::str::from_utf8(url).ok()
        }
        _ => None,
    }
}

fn found(status: u16, location: String) -> Response {
    Response::empty(status).with_header("Location", location)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths() {
        for good in ["/", "/a", "/-/plaintext?x=1#y", "/a//b", "/a\\b"] {
            assert_eq!(local_path(good.as_bytes()), Some(good), "{good}");
        }
        for bad in [
            "",
            "//evil.example",
            "/\\evil.example",
            "http://evil.example/",
            "evil",
            "/a\r\nSet-Cookie: x=1",
            "/a\nb",
            "/a b",
            "/a\tb",
            "/\x00",
            "/\x7f",
            "/é",
        ] {
            assert_eq!(local_path(bad.as_bytes()), None, "{bad:?}");
        }
    }
}
