//! Responses: what a handler returns, and how its status line and headers are encoded into a
//! connection's output buffer without allocating (static strings, itoa, the cached `Date`).

use std::borrow::Cow;

/// Re-exported from [`super::status`], where the table is.
pub use super::status::reason;
use super::status::{self, error_text};

/// A response body.
pub enum Body {
    Empty,
    Static(&'static [u8]),
    Owned(Vec<u8>),
    /// A part of bytes shared with a cache (a small file's contents).
    Shared(std::sync::Arc<[u8]>, std::ops::Range<usize>),
    /// Generated as the socket drains, never held whole.
    Stream(Box<dyn Stream>),
    /// `len` bytes of an open file from `offset`: sent with `sendfile(2)` where the transport
    /// can, else copied through the output buffer in bounded pieces. Never read whole.
    File {
        file: std::fs::File,
        offset: u64,
        len: u64,
    },
}

/// A body produced piece by piece (`/-/bytes`, `/-/stream`, later files).
pub trait Stream: Send {
    /// The exact length if known up front (sent as `Content-Length`); `None` means chunked
    /// (HTTP/1.1) or close-delimited (HTTP/1.0).
    fn length(&self) -> Option<u64>;
    /// Appends the next piece (at most `max` bytes) to `out`. Returns false once nothing is left.
    /// For a stream without a length, every call's piece becomes one chunk.
    fn fill(&mut self, out: &mut Vec<u8>, max: usize) -> bool;
}

impl Body {
    /// The exact length, if known without generating the body.
    pub fn len(&self) -> Option<u64> {
        match self {
            Body::Empty => Some(0),
            Body::Static(b) => Some(b.len() as u64),
            Body::Owned(b) => Some(b.len() as u64),
            Body::Shared(_, r) => Some(r.len() as u64),
            Body::Stream(s) => s.length(),
            Body::File { len, .. } => Some(*len),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }
}

/// A complete answer from a handler.
pub struct Response {
    pub status: u16,
    pub content_type: Option<Cow<'static, str>>,
    /// Extra header fields, e.g. `Allow`. Empty (and so not allocated) for most responses.
    pub headers: Vec<(&'static str, Cow<'static, str>)>,
    /// Header lines already encoded (`Name: value\r\n`…), shared with a cache: a cached file's
    /// type and validators cost no formatting and no allocation per request.
    pub fields: Option<std::sync::Arc<[u8]>>,
    pub body: Body,
}

impl Response {
    pub fn new(status: u16, content_type: &'static str, body: Body) -> Self {
        Response {
            status,
            content_type: Some(Cow::Borrowed(content_type)),
            headers: Vec::new(),
            fields: None,
            body,
        }
    }

    /// A short plain-text answer such as `404 Not Found`.
    pub fn error(status: u16) -> Self {
        let body = match status {
            204 | 304 => Body::Empty,
            _ => Body::Static(error_text(status)),
        };
        Response::new(status, "text/plain; charset=utf-8", body)
    }

    /// Status only, empty body, no Content-Type.
    pub fn empty(status: u16) -> Self {
        Response {
            status,
            content_type: None,
            headers: Vec::new(),
            fields: None,
            body: Body::Empty,
        }
    }

    /// 405 with the `Allow` header it needs.
    pub fn method_not_allowed(allow: &'static str) -> Self {
        Response::error(405).with_header("Allow", allow)
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<Cow<'static, str>>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// How the connection will frame and follow this response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length: n` (possibly with no body sent, for HEAD).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// No length: the body ends when the connection closes (HTTP/1.0, unknown length).
    Close,
    /// No body and no length header (1xx, 204, 304).
    None,
}

/// What the `Connection` header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionHeader {
    /// Nothing (HTTP/1.1 keep-alive is the default).
    Omit,
    KeepAlive,
    Close,
}

/// Whether a status never has a body (RFC 9110 §6.4.1).
pub fn status_has_no_body(status: u16) -> bool {
    status < 200 || status == 204 || status == 304
}

/// Encodes the status line and header block of `resp` into `out`.
pub fn encode_head(
    out: &mut Vec<u8>,
    resp: &Response,
    date: &[u8; 29],
    framing: Framing,
    connection: ConnectionHeader,
) {
    match status::lookup(resp.status) {
        Some(s) => out.extend_from_slice(s.line),
        None => {
            // A code the table does not name: its digits and an empty reason.
            let s = resp.status.min(999);
            let digits = [
                b'0' + (s / 100) as u8,
                b'0' + (s / 10 % 10) as u8,
                b'0' + (s % 10) as u8,
            ];
            for piece in [&b"HTTP/1.1 "[..], &digits, b" \r\n"] {
                out.extend_from_slice(piece);
            }
        }
    }
    out.extend_from_slice(b"Server: spindle\r\nDate: ");
    out.extend_from_slice(date);
    if let Some(ct) = &resp.content_type {
        out.extend_from_slice(b"\r\nContent-Type: ");
        out.extend_from_slice(ct.as_bytes());
    }
    match framing {
        Framing::Length(n) => {
            out.extend_from_slice(b"\r\nContent-Length: ");
            out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        }
        Framing::Chunked => out.extend_from_slice(b"\r\nTransfer-Encoding: chunked"),
        Framing::Close | Framing::None => {}
    }
    match connection {
        ConnectionHeader::Omit => {}
        ConnectionHeader::KeepAlive => out.extend_from_slice(b"\r\nConnection: keep-alive"),
        ConnectionHeader::Close => out.extend_from_slice(b"\r\nConnection: close"),
    }
    if let Some(fields) = &resp.fields {
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(fields.strip_suffix(b"\r\n").unwrap_or(fields));
    }
    for (name, value) in &resp.headers {
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
    }
    out.extend_from_slice(b"\r\n\r\n");
}

/// Appends one chunk (size line, data, CRLF) around `data`, which the caller has already placed
/// at `out[start..]`: the size line is written in front by shifting the data once.
pub fn frame_chunk(out: &mut Vec<u8>, start: usize) {
    let len = out.len() - start;
    if len == 0 {
        return; // a zero-length chunk would end the body
    }
    let mut hex = [0u8; 16];
    let mut i = hex.len();
    let mut n = len;
    while {
        i -= 1;
        hex[i] = b"0123456789abcdef"[n % 16];
        n /= 16;
        n > 0
    } {}
    let line = hex.len() - i + 2;
    out.resize(out.len() + line, 0);
    out.copy_within(start..start + len, start + line);
    out[start..start + line - 2].copy_from_slice(&hex[i..]);
    out[start + line - 2..start + line].copy_from_slice(b"\r\n");
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &[u8; 29] = b"Sun, 06 Nov 1994 08:49:37 GMT";

    #[test]
    fn every_status_line_matches_the_generic_encoding() {
        let mut out = Vec::new();
        for status in 100..1000 {
            out.clear();
            encode_head(
                &mut out,
                &Response::empty(status),
                DATE,
                Framing::None,
                ConnectionHeader::Omit,
            );
            let want = format!(
                "HTTP/1.1 {status} {}\r\nServer: spindle\r\nDate: ",
                reason(status)
            );
            assert!(out.starts_with(want.as_bytes()), "{status}");
        }
    }

    #[test]
    fn head_encoding() {
        let mut out = Vec::new();
        let r = Response::new(200, "text/plain", Body::Static(b"Hello, World!"));
        encode_head(
            &mut out,
            &r,
            b"Sun, 06 Nov 1994 08:49:37 GMT",
            Framing::Length(13),
            ConnectionHeader::Close,
        );
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "HTTP/1.1 200 OK\r\nServer: spindle\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
             Content-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn unknown_status_has_empty_reason() {
        let mut out = Vec::new();
        encode_head(
            &mut out,
            &Response::empty(299),
            DATE,
            Framing::Length(0),
            ConnectionHeader::Omit,
        );
        assert!(out.starts_with(b"HTTP/1.1 299 \r\nServer: spindle\r\nDate: "));
        out.clear();
        encode_head(
            &mut out,
            &Response::empty(418),
            DATE,
            Framing::Length(0),
            ConnectionHeader::Omit,
        );
        assert!(out.starts_with(b"HTTP/1.1 418 I'm a teapot\r\nServer: spindle\r\nDate: "));
        out.clear();
        let r = Response::error(405).with_header("Allow", "GET, HEAD");
        encode_head(
            &mut out,
            &r,
            DATE,
            Framing::Length(0),
            ConnectionHeader::Omit,
        );
        assert!(out.ends_with(b"Content-Length: 0\r\nAllow: GET, HEAD\r\n\r\n"));
    }

    #[test]
    fn chunk_framing() {
        let mut out = b"HEAD".to_vec();
        out.extend_from_slice(&[b'x'; 26]);
        frame_chunk(&mut out, 4);
        let mut want = b"HEAD1a\r\n".to_vec();
        want.extend_from_slice(&[b'x'; 26]);
        want.extend_from_slice(b"\r\n");
        assert_eq!(out, want);
        let mut empty = b"A".to_vec();
        frame_chunk(&mut empty, 1);
        assert_eq!(empty, b"A");
    }
}
