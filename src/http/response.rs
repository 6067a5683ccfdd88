//! Responses: what a handler returns, and how its status line and headers are encoded into a
//! connection's output buffer without allocating (static strings, itoa, the cached `Date`).

use std::borrow::Cow;

use super::date::DateCache;

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
    /// A paced body (`/-/drip`, `/-/sse`): how long until the next piece is due, asked before
    /// each `fill`; the connection waits on the reactor's timer meanwhile, holding no buffer.
    /// `None`, the default: due now, as soon as there is room.
    fn due_in(&mut self) -> Option<std::time::Duration> {
        None
    }
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

    /// 400 with a one-line reason of its own (`failure_rate must be a number from 0 to 1\n`)
    /// instead of the generic text: still static, so it costs what [`Response::error`] costs.
    pub fn bad_request(reason: &'static str) -> Self {
        Response::new(
            400,
            "text/plain; charset=utf-8",
            Body::Static(reason.as_bytes()),
        )
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

/// Fields the connection writes itself, or that decide a message's framing or the
/// connection's fate (RFC 9112 §6, §9; RFC 9110 §7.6.1): no handler, `/-/response-headers`
/// or `--header` may add one, or a response would be ambiguous (two `Content-Length`s, a
/// `Connection: close` the server does not honour, a second `Date`).
pub fn is_servers_own(name: &[u8]) -> bool {
    const OWN: [&str; 10] = [
        "content-length",
        "transfer-encoding",
        "connection",
        "upgrade",
        "keep-alive",
        "trailer",
        "te",
        "proxy-connection",
        "date",
        "server",
    ];
    OWN.iter().any(|f| f.as_bytes().eq_ignore_ascii_case(name))
}

/// Encodes the status line and header block of `resp` into `out`.
pub fn encode_head(
    out: &mut Vec<u8>,
    resp: &Response,
    date: &[u8; 29],
    framing: Framing,
    connection: ConnectionHeader,
) {
    encode_head_with(out, resp, date, framing, connection, b"")
}

/// [`encode_head`], the head ending with `extra`: lines of the server's own, each
/// `\r\nName: value`, on every response (`--header`, `--cors`).
pub fn encode_head_with(
    out: &mut Vec<u8>,
    resp: &Response,
    date: &[u8; 29],
    framing: Framing,
    connection: ConnectionHeader,
    extra: &[u8],
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
    out.extend_from_slice(extra);
    out.extend_from_slice(b"\r\n\r\n");
}

/// The last head [`encode_head`] wrote for a plain answer, copied again while nothing it is
/// made of changes: load generators ask for one fixed answer thousands of times a second, and
/// its head changes only with the `Date`, once a second. A head with fields of its own
/// (`fields`, `headers`) or a type made at run time is encoded every time.
///
/// Every head a connection sends is encoded here, so the lines every response carries
/// (`extra`: `--header`, `--cors`) are added here, once encoded at start-up.
#[derive(Default)]
pub struct HeadMemo {
    key: Option<MemoKey>,
    bytes: Vec<u8>,
    extra: Option<std::sync::Arc<[u8]>>,
}

/// Everything a plain head is made of.
#[derive(Clone, Copy)]
struct MemoKey {
    status: u16,
    content_type: Option<&'static str>,
    framing: Framing,
    connection: ConnectionHeader,
    date_secs: u64,
}

impl PartialEq for MemoKey {
    fn eq(&self, other: &MemoKey) -> bool {
        // The same `'static` type is nearly always the very same string: its address says so
        // before its bytes are compared.
        let same_type = match (self.content_type, other.content_type) {
            (Some(a), Some(b)) => std::ptr::eq(a, b) || a == b,
            (a, b) => a == b,
        };
        self.status == other.status
            && self.date_secs == other.date_secs
            && self.framing == other.framing
            && self.connection == other.connection
            && same_type
    }
}

impl HeadMemo {
    /// A memo whose heads all end with `extra` (see [`encode_head_with`]).
    pub fn with_extra(extra: Option<std::sync::Arc<[u8]>>) -> HeadMemo {
        HeadMemo {
            extra: extra.filter(|e| !e.is_empty()),
            ..HeadMemo::default()
        }
    }

    /// Appends the head of `resp` to `out`, exactly as [`encode_head_with`] would with the memo's `extra`.
    pub fn encode(
        &mut self,
        out: &mut Vec<u8>,
        resp: &Response,
        date: &DateCache,
        framing: Framing,
        connection: ConnectionHeader,
    ) {
        let extra = self.extra.as_deref().unwrap_or_default();
        let content_type = match &resp.content_type {
            None => None,
            Some(Cow::Borrowed(t)) => Some(*t),
            Some(Cow::Owned(_)) => {
                return encode_head_with(out, resp, date.get(), framing, connection, extra)
            }
        };
        if resp.fields.is_some() || !resp.headers.is_empty() {
            return encode_head_with(out, resp, date.get(), framing, connection, extra);
        }
        let key = MemoKey {
            status: resp.status,
            content_type,
            framing,
            connection,
            date_secs: date.secs(),
        };
        if self.key != Some(key) {
            self.bytes.clear();
            encode_head_with(
                &mut self.bytes,
                resp,
                date.get(),
                framing,
                connection,
                extra,
            );
            self.key = Some(key);
        }
        out.extend_from_slice(&self.bytes);
    }
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
    fn the_head_memo_writes_what_encode_head_writes() {
        use std::time::{Duration, UNIX_EPOCH};
        let plain =
            |t: &'static str, body: &'static [u8]| Response::new(200, t, Body::Static(body));
        let with_fields = || Response {
            fields: Some(std::sync::Arc::from(&b"ETag: \"x\"\r\n"[..])),
            ..Response::empty(200)
        };
        let made_type = |t: &str| Response {
            content_type: Some(Cow::Owned(t.into())),
            ..Response::empty(200)
        };
        let close = ConnectionHeader::Close;
        let omit = ConnectionHeader::Omit;
        // Each step follows one that leaves the memo holding the same key but for one thing.
        let steps = [
            (plain("text/plain", b"hi"), omit, 0),
            (plain("text/plain", b"hi"), omit, 0),
            (plain("text/plain", b"hi"), omit, 1), // the next second: a new Date
            (plain("text/plain", b"hi"), close, 1),
            (plain("text/html", b"hi"), close, 1),
            (plain("text/html", b"hello"), close, 1),
            (Response::error(404), close, 1),
            (Response::empty(200), close, 1),
            (Response::empty(200).with_header("Allow", "GET"), close, 1),
            (with_fields(), close, 1),
            (made_type("text/x-made"), close, 1),
            (made_type("text/x-other"), close, 1),
            (Response::empty(204), close, 1),
        ];
        let mut date = DateCache::default();
        let mut memo = HeadMemo::default();
        for (i, (resp, connection, second)) in steps.into_iter().enumerate() {
            date.refresh(UNIX_EPOCH + Duration::from_secs(784_111_777 + second));
            let framing = Framing::Length(resp.body.len().unwrap_or(0));
            let (mut want, mut got) = (Vec::new(), b"before".to_vec());
            encode_head(&mut want, &resp, date.get(), framing, connection);
            memo.encode(&mut got, &resp, &date, framing, connection);
            assert_eq!(&got[..6], b"before");
            let (got, want) = (
                String::from_utf8_lossy(&got[6..]),
                String::from_utf8_lossy(&want),
            );
            assert_eq!(got, want, "step {i}");
        }
    }

    #[test]
    fn the_memo_ends_every_head_with_its_extra_lines() {
        let extra: std::sync::Arc<[u8]> = std::sync::Arc::from(&b"\r\nX-A: 1"[..]);
        let mut memo = HeadMemo::with_extra(Some(extra));
        let date = DateCache::default();
        for resp in [
            Response::new(200, "text/plain", Body::Static(b"hi")),
            Response::new(200, "text/plain", Body::Static(b"hi")), // from the memo
            Response::error(404).with_header("Allow", "GET"),
        ] {
            let mut out = Vec::new();
            memo.encode(
                &mut out,
                &resp,
                &date,
                Framing::Length(2),
                ConnectionHeader::Omit,
            );
            assert!(out.ends_with(b"\r\nX-A: 1\r\n\r\n"), "{out:?}");
            assert_eq!(out.windows(6).filter(|w| w == b"X-A: 1").count(), 1);
        }
        let mut out = Vec::new();
        HeadMemo::with_extra(None).encode(
            &mut out,
            &Response::empty(204),
            &date,
            Framing::None,
            ConnectionHeader::Omit,
        );
        assert!(!out.windows(3).any(|w| w == b"X-A"));
    }

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
