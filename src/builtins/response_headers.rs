//! `/-/response-headers?Name=value&…`: a 200 carrying the header fields the query names, and a
//! JSON object of them as its body (each name to the list of its values, as go-httpbin).

use std::borrow::Cow;
use std::sync::Arc;

use super::json;
use super::query::{decode, pairs};
use crate::handler::{Body, Response};
use crate::http::response::is_servers_own;
use crate::http::token::{is_tchar, trim_ows};

/// Most fields one `/-/response-headers` may ask for.
pub const MAX_FIELDS: usize = 32;
/// Most bytes of names and values (decoded) in all. Below the 8 KiB request line, so that it
/// is this endpoint's own bound and not the parser's 414.
pub const MAX_BYTES: usize = 4096;

pub(super) fn response_headers(query: Option<&[u8]>) -> Response {
    match fields(query) {
        Ok(resp) => resp,
        Err(reason) => Response::bad_request(reason),
    }
}

fn fields(query: Option<&[u8]>) -> Result<Response, &'static str> {
    // The header lines, `Name: value\r\n` each: the only buffer besides the body.
    let mut lines = Vec::new();
    let mut content_type = None;
    // Name and value ranges in `lines`, for the body.
    let mut spans = [(0, 0, 0, 0); MAX_FIELDS];
    let mut count = 0;
    let mut total = 0;
    for (raw_name, raw_value) in pairs(query) {
        if count == MAX_FIELDS {
            return Err("at most 32 header fields\n");
        }
        let mut name_buf = [0u8; 256];
        let name = decode(raw_name, &mut name_buf)
            .map_err(|_| "a name must be percent-encoded, at most 256 bytes\n")?;
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return Err("a header name must be a token\n");
        }
        // (`Content-Type` is allowed: it replaces the body's type.)
        if is_servers_own(name) {
            return Err("that header would change framing, the connection, Date or Server\n");
        }
        let mut value_buf = [0u8; MAX_BYTES];
        let value = decode(raw_value, &mut value_buf)
            .map_err(|_| "a value must be percent-encoded, at most 4096 bytes\n")?;
        // Leading and trailing whitespace is not part of a field value (RFC 9110 §5.5).
        let value = trim_ows(value);
        if value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err("a header value must not hold CR, LF or other control bytes\n");
        }
        total += name.len() + value.len();
        if total > MAX_BYTES {
            return Err("at most 4096 bytes of header names and values\n");
        }
        if name.eq_ignore_ascii_case(b"content-type") {
            let value = std::str::from_utf8(value).map_err(|_| "Content-Type must be UTF-8\n")?;
            content_type = Some(value.to_owned());
        }
        let n = lines.len();
        lines.extend_from_slice(name);
        lines.extend_from_slice(b": ");
        let v = lines.len();
        lines.extend_from_slice(value);
        spans[count] = (n, n + name.len(), v, v + value.len());
        count += 1;
        lines.extend_from_slice(b"\r\n");
    }
    let spans = &spans[..count];
    let body = body(&lines, spans);
    let mut resp = Response::new(200, "application/json", Body::Owned(body));
    if let Some(t) = content_type {
        // A Content-Type asked for replaces the body's own instead of being sent twice: its
        // lines leave `lines`, the others move up in place.
        let mut kept = 0;
        for &(n0, n1, _, v1) in spans {
            if !lines[n0..n1].eq_ignore_ascii_case(b"content-type") {
                lines.copy_within(n0..v1 + 2, kept);
                kept += v1 + 2 - n0;
            }
        }
        lines.truncate(kept);
        resp.content_type = Some(Cow::Owned(t));
    }
    if !lines.is_empty() {
        resp.fields = Some(Arc::from(lines));
    }
    Ok(resp)
}

/// `{"Name":["value",…],…}`: names grouped case-insensitively, under their first spelling.
fn body(lines: &[u8], spans: &[(usize, usize, usize, usize)]) -> Vec<u8> {
    let mut out = b"{".to_vec();
    for (i, &(n0, n1, _, _)) in spans.iter().enumerate() {
        let name = &lines[n0..n1];
        if spans[..i]
            .iter()
            .any(|&(a, b, _, _)| lines[a..b].eq_ignore_ascii_case(name))
        {
            continue; // listed with its first spelling
        }
        if out.len() > 1 {
            out.push(b',');
        }
        json::string(&mut out, name);
        out.extend_from_slice(b":[");
        let same = spans[i..]
            .iter()
            .filter(|&&(a, b, _, _)| lines[a..b].eq_ignore_ascii_case(name));
        for (j, &(_, _, v0, v1)) in same.enumerate() {
            if j > 0 {
                out.push(b',');
            }
            json::string(&mut out, &lines[v0..v1]);
        }
        out.push(b']');
    }
    out.extend_from_slice(b"}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(q: &str) -> Response {
        fields(Some(q.as_bytes())).unwrap_or_else(|e| panic!("{q}: {e}"))
    }

    #[test]
    fn fields_and_body() {
        let r = ok("X-A=1&x-a=%20two%09&Cache-Control=no-store&Content-Type=text/x-a+b");
        assert_eq!(
            r.fields.as_deref().unwrap(),
            b"X-A: 1\r\nx-a: two\r\nCache-Control: no-store\r\n"
        );
        assert_eq!(r.content_type.as_deref(), Some("text/x-a+b"));
        let Body::Owned(body) = &r.body else { panic!() };
        assert_eq!(
            String::from_utf8_lossy(body),
            "{\"X-A\":[\"1\",\"two\"],\"Cache-Control\":[\"no-store\"],\
             \"Content-Type\":[\"text/x-a+b\"]}\n"
        );
        assert!(ok("").fields.is_none());
        let r = ok("content-type=a/b&X-B=2&Content-Type=c/d&X-C=3");
        assert_eq!(r.fields.as_deref().unwrap(), b"X-B: 2\r\nX-C: 3\r\n");
        assert_eq!(r.content_type.as_deref(), Some("c/d"), "the last one");
        assert!(ok("Content-Type=a/b").fields.is_none());
    }

    #[test]
    fn refusals() {
        for q in [
            "Content-Length=5",
            "transfer-encoding=chunked",
            "Connection=close",
            "Upgrade=h2c",
            "Keep-Alive=timeout=1",
            "Trailer=X",
            "Date=x",
            "SERVER=x",
            "X-A=a%0d%0aSet-Cookie:%20x",
            "X-A=a%0ab",
            "X-A=a%00",
            "X-A=a%7f",
            "X%20A=1",
            "X:A=1",
            "=1",
            "X-A=%zz",
            "X-A%0d%0aB=1",
        ] {
            assert!(fields(Some(q.as_bytes())).is_err(), "{q}");
        }
        let many: Vec<String> = (0..33).map(|i| format!("X-{i}=1")).collect();
        assert!(fields(Some(many.join("&").as_bytes())).is_err());
        assert!(fields(Some(many[..32].join("&").as_bytes())).is_ok());
        let big = format!("X-A={}&X-B={}", "a".repeat(2000), "b".repeat(2100));
        assert!(fields(Some(big.as_bytes())).is_err());
    }
}
