//! A raw, strict HTTP/1.1 client, its parsed responses, and the request builders.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use super::{TestServer, READ_TIMEOUT};

/// `GET path HTTP/1.1` with a Host header.
pub fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n")
}

/// `HEAD path HTTP/1.1` with a Host header.
pub fn head(path: &str) -> String {
    format!("HEAD {path} HTTP/1.1\r\nHost: test\r\n\r\n")
}

/// A request with a Host header and `headers`.
pub fn request(method: &str, target: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut s = format!("{method} {target} HTTP/1.1\r\nHost: test\r\n");
    for (n, v) in headers {
        s.push_str(&format!("{n}: {v}\r\n"));
    }
    s.push_str("\r\n");
    s.into_bytes()
}

/// One request on a fresh connection; the response is checked for Server/Date/framing. After
/// it, `/-/plaintext` is asked on the same connection, which catches a HEAD or 304 that sent a
/// body anyway (or any other framing error).
pub fn fetch(srv: &TestServer, method: &str, target: &str, headers: &[(&str, &str)]) -> Response {
    let mut c = srv.connect();
    c.send(&request(method, target, headers));
    let r = c.read_response_for(method == "HEAD");
    r.assert_framed();
    if !r.says_close() {
        c.send(get("/-/plaintext").as_bytes());
        let p = c.read_response();
        assert_eq!(
            (p.status, &p.body[..]),
            (200, &b"Hello, World!"[..]),
            "the connection is out of step after {method} {target}"
        );
    }
    r
}

/// A POST with a Content-Length body.
pub fn post(path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// One parsed response.
#[derive(Debug, Clone)]
pub struct Response {
    pub version: String,
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The head exactly as received, status line through the empty line.
    pub raw_head: Vec<u8>,
    /// The chunked framing exactly as received, if the body was chunked.
    pub raw_chunked: Option<Vec<u8>>,
    /// The data of each chunk, if the body was chunked.
    pub chunks: Vec<Vec<u8>>,
    pub trailers: Vec<(String, String)>,
}

impl Response {
    /// The value of the only `name` header (case-insensitive); panics if it appears twice.
    pub fn header(&self, name: &str) -> Option<&str> {
        let all = self.header_all(name);
        assert!(all.len() <= 1, "header {name} appears {} times", all.len());
        all.first().copied()
    }

    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn has_header(&self, name: &str) -> bool {
        !self.header_all(name).is_empty()
    }

    pub fn body_str(&self) -> String {
        String::from_utf8(self.body.clone()).expect("body is not UTF-8")
    }

    pub fn is_chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    }

    pub fn content_length(&self) -> Option<u64> {
        self.header("content-length")
            .map(|v| v.parse().expect("bad Content-Length"))
    }

    /// `Connection: close` is present.
    pub fn says_close(&self) -> bool {
        self.header_all("connection")
            .iter()
            .any(|v| v.eq_ignore_ascii_case("close"))
    }

    /// Asserts what every response must carry: `Server: spindle`, an IMF-fixdate `Date`, and
    /// exactly one framing (`Content-Length` or chunked) unless the status or `head_or_close`
    /// allows none (1xx/204/304, or an HTTP/1.0 close-delimited body).
    pub fn assert_common(&self) {
        assert_eq!(self.version, "HTTP/1.1", "status line version");
        assert_eq!(self.header("server"), Some("spindle"), "Server header");
        let date = self.header("date").expect("no Date header");
        assert_imf_fixdate(date);
        let cl = self.has_header("content-length");
        let te = self.has_header("transfer-encoding");
        assert!(!(cl && te), "both Content-Length and Transfer-Encoding");
        if self.status < 200 || self.status == 204 || self.status == 304 {
            assert!(!cl && !te, "{} with framing headers", self.status);
        }
    }

    /// [`Response::assert_common`] plus: framed by `Content-Length` or chunked.
    pub fn assert_framed(&self) {
        self.assert_common();
        if !(self.status < 200 || self.status == 204 || self.status == 304) {
            assert!(
                self.has_header("content-length") || self.is_chunked(),
                "response without Content-Length or chunked framing: {:?}",
                self.headers
            );
        }
    }
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`: 29 bytes, fixed positions.
fn assert_imf_fixdate(d: &str) {
    let b = d.as_bytes();
    assert_eq!(b.len(), 29, "Date {d:?} is not 29 bytes");
    let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    assert!(days.contains(&&d[0..3]), "Date {d:?}: day name");
    assert_eq!(&d[3..5], ", ", "Date {d:?}");
    assert!(b[5].is_ascii_digit() && b[6].is_ascii_digit(), "Date {d:?}");
    assert_eq!(b[7], b' ', "Date {d:?}");
    assert!(months.contains(&&d[8..11]), "Date {d:?}: month");
    assert_eq!(b[11], b' ', "Date {d:?}");
    assert!(b[12..16].iter().all(u8::is_ascii_digit), "Date {d:?}: year");
    assert_eq!(b[16], b' ', "Date {d:?}");
    for (i, c) in b[17..25].iter().enumerate() {
        if i == 2 || i == 5 {
            assert_eq!(*c, b':', "Date {d:?}");
        } else {
            assert!(c.is_ascii_digit(), "Date {d:?}");
        }
    }
    assert_eq!(&d[25..], " GMT", "Date {d:?}");
}

/// A raw TCP client with a persistent read buffer.
pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
    /// The peer closed (a read returned 0).
    eof: bool,
    /// Read at most this many bytes per read, sleeping after each (a slow reader).
    throttle: Option<(usize, Duration)>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        Client::over(TcpStream::connect(addr).expect("connect"))
    }

    /// A client over a connected stream, with the usual timeouts and `TCP_NODELAY`.
    fn over(stream: TcpStream) -> Client {
        stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(READ_TIMEOUT)).unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            stream,
            buf: Vec::new(),
            eof: false,
            throttle: None,
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    /// Sends `bytes` cut at the offsets `cuts` (ascending), one write a piece, with `pause`
    /// between them, so that the server may read each piece on its own.
    pub fn send_split(&mut self, bytes: &[u8], cuts: &[usize], pause: Duration) {
        let mut from = 0;
        for &at in cuts {
            assert!(from <= at && at <= bytes.len(), "bad cut {at} in {cuts:?}");
            self.send(&bytes[from..at]);
            thread::sleep(pause);
            from = at;
        }
        self.send(&bytes[from..]);
    }

    /// Sends one byte per write, with `pause` between them.
    pub fn send_bytewise(&mut self, bytes: &[u8], pause: Duration) {
        for b in bytes {
            self.stream.write_all(&[*b]).expect("send byte");
            if !pause.is_zero() {
                thread::sleep(pause);
            }
        }
    }

    pub fn shutdown_write(&mut self) {
        self.stream
            .shutdown(Shutdown::Write)
            .expect("shutdown(Write)");
    }

    /// Makes every later read take at most `piece` bytes, after a `pause`.
    pub fn throttle(&mut self, piece: usize, pause: Duration) {
        self.throttle = Some((piece, pause));
    }

    /// Writes `bytes` in `piece`-sized writes with `pause` between them.
    pub fn send_slowly(&mut self, bytes: &[u8], piece: usize, pause: Duration) {
        for part in bytes.chunks(piece) {
            self.send(part);
            thread::sleep(pause);
        }
    }

    pub fn set_read_timeout(&mut self, t: Duration) {
        self.stream.set_read_timeout(Some(t)).unwrap();
    }

    /// Bytes already received but not yet consumed by a parsed response.
    pub fn buffered(&self) -> &[u8] {
        &self.buf
    }

    /// Reads more bytes into the buffer. `Ok(0)` at end of stream.
    fn fill(&mut self) -> io::Result<usize> {
        if self.eof {
            return Ok(0);
        }
        let mut tmp = [0u8; 16 * 1024];
        let max = match self.throttle {
            Some((piece, pause)) => {
                thread::sleep(pause);
                piece.min(tmp.len())
            }
            None => tmp.len(),
        };
        loop {
            match self.stream.read(&mut tmp[..max]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(0);
                }
                Ok(n) => {
                    self.buf.extend_from_slice(&tmp[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Fills until at least `n` bytes are buffered.
    fn need(&mut self, n: usize, what: &str) -> Result<(), String> {
        while self.buf.len() < n {
            match self.fill() {
                Ok(0) => {
                    return Err(format!(
                        "connection closed while reading {what}; have {:?}",
                        String::from_utf8_lossy(&self.buf)
                    ))
                }
                Ok(_) => {}
                Err(e) => {
                    return Err(format!(
                        "read error while reading {what}: {e}; have {:?}",
                        String::from_utf8_lossy(&self.buf)
                    ))
                }
            }
        }
        Ok(())
    }

    /// Reads a CRLF-terminated line (without the CRLF) from the buffer, filling as needed.
    fn line(&mut self, what: &str) -> Result<Vec<u8>, String> {
        let mut from = 0;
        loop {
            if let Some(i) = self.buf[from..].iter().position(|&b| b == b'\n') {
                let nl = from + i;
                if nl == 0 || self.buf[nl - 1] != b'\r' {
                    return Err(format!(
                        "bare LF in {what}: {:?}",
                        String::from_utf8_lossy(&self.buf[..=nl])
                    ));
                }
                let line = self.buf[..nl - 1].to_vec();
                self.buf.drain(..=nl);
                return Ok(line);
            }
            from = self.buf.len();
            let have = self.buf.len();
            self.need(have + 1, what)?;
        }
    }

    /// Reads one response to a GET (or any non-HEAD request). Panics on any error.
    pub fn read_response(&mut self) -> Response {
        self.read_response_for(false)
    }

    /// Reads one response to a HEAD request (no body whatever the headers say).
    pub fn read_head_response(&mut self) -> Response {
        self.read_response_for(true)
    }

    pub fn read_response_for(&mut self, head_request: bool) -> Response {
        match self.try_read_response(head_request) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        }
    }

    /// Reads one response; `head_request` says whether it answers a HEAD.
    pub fn try_read_response(&mut self, head_request: bool) -> Result<Response, String> {
        let mut raw_head = Vec::new();
        let status_line = self.line("status line")?;
        raw_head.extend_from_slice(&status_line);
        raw_head.extend_from_slice(b"\r\n");
        let status_line = String::from_utf8(status_line).map_err(|e| e.to_string())?;
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or("").to_string();
        let code = parts.next().unwrap_or("");
        let reason = parts.next().unwrap_or("").to_string();
        if !version.starts_with("HTTP/1.") || code.len() != 3 {
            return Err(format!("bad status line {status_line:?}"));
        }
        let status: u16 = code
            .parse()
            .map_err(|_| format!("bad status line {status_line:?}"))?;
        let headers = self.fields("header", &mut raw_head)?;
        let mut resp = Response {
            version,
            status,
            reason,
            headers,
            body: Vec::new(),
            raw_head,
            raw_chunked: None,
            chunks: Vec::new(),
            trailers: Vec::new(),
        };
        if head_request || status < 200 || status == 204 || status == 304 {
            return Ok(resp);
        }
        let te = resp.header_all("transfer-encoding");
        if !te.is_empty() {
            if te.len() != 1 || !te[0].eq_ignore_ascii_case("chunked") {
                return Err(format!("unexpected Transfer-Encoding {te:?}"));
            }
            self.read_chunked(&mut resp)?;
        } else if let Some(cl) = resp.header_all("content-length").first() {
            let n: usize = cl
                .parse()
                .map_err(|_| format!("bad Content-Length {cl:?}"))?;
            self.need(n, "body")?;
            resp.body = self.buf.drain(..n).collect();
        } else {
            resp.body = self.read_rest()?;
        }
        Ok(resp)
    }

    fn read_chunked(&mut self, resp: &mut Response) -> Result<(), String> {
        let mut raw = Vec::new();
        loop {
            let line = self.line("chunk size")?;
            raw.extend_from_slice(&line);
            raw.extend_from_slice(b"\r\n");
            let text = String::from_utf8_lossy(&line).to_string();
            let size_text = text.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_text, 16)
                .map_err(|_| format!("bad chunk size line {text:?}"))?;
            if size == 0 {
                resp.trailers = self.fields("trailer", &mut raw)?;
                resp.raw_chunked = Some(raw);
                return Ok(());
            }
            self.need(size + 2, "chunk data")?;
            if &self.buf[size..size + 2] != b"\r\n" {
                return Err(format!("chunk of {size} bytes not followed by CRLF"));
            }
            resp.body.extend_from_slice(&self.buf[..size]);
            resp.chunks.push(self.buf[..size].to_vec());
            raw.extend_from_slice(&self.buf[..size + 2]);
            self.buf.drain(..size + 2);
        }
    }

    /// Header (or trailer) lines up to the empty line, each also appended to `raw` with its
    /// CRLF, the empty line included.
    fn fields(&mut self, what: &str, raw: &mut Vec<u8>) -> Result<Vec<(String, String)>, String> {
        let mut fields = Vec::new();
        loop {
            let line = self.line(what)?;
            raw.extend_from_slice(&line);
            raw.extend_from_slice(b"\r\n");
            if line.is_empty() {
                return Ok(fields);
            }
            fields.push(parse_field(&line)?);
        }
    }

    /// Everything until the peer closes (buffered bytes included).
    fn read_rest(&mut self) -> Result<Vec<u8>, String> {
        self.try_read_to_close().map_err(|e| {
            format!(
                "read error before close: {e}; have {} bytes",
                self.buf.len()
            )
        })
    }

    /// Reads everything until the server closes the connection. Panics on a read error
    /// (a reset or the read timeout).
    pub fn read_to_close(&mut self) -> Vec<u8> {
        match self.read_rest() {
            Ok(b) => b,
            Err(e) => panic!("{e}"),
        }
    }

    /// Like [`Client::read_to_close`], but returns the error instead of panicking.
    pub fn try_read_to_close(&mut self) -> io::Result<Vec<u8>> {
        loop {
            match self.fill() {
                Ok(0) => return Ok(std::mem::take(&mut self.buf)),
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Asserts that the server closes the connection without sending anything more.
    pub fn assert_closed(&mut self) {
        let rest = self.read_to_close();
        assert!(
            rest.is_empty(),
            "expected the connection to close, got {:?}",
            String::from_utf8_lossy(&rest)
        );
    }

    /// Asserts that nothing arrives (and the connection stays open) for `wait`.
    pub fn assert_silent_for(&mut self, wait: Duration) {
        assert!(self.buf.is_empty(), "unexpected buffered bytes");
        self.stream.set_read_timeout(Some(wait)).unwrap();
        let mut b = [0u8; 1];
        match self.stream.read(&mut b) {
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Ok(0) => panic!("connection closed, expected it to stay open"),
            Ok(_) => panic!("unexpected byte {:?}", b[0] as char),
            Err(e) => panic!("read error: {e}"),
        }
        self.stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    }

    /// Sends a request and reads its response.
    pub fn request(&mut self, req: &[u8]) -> Response {
        self.send(req);
        self.read_response()
    }

    /// Waits until a read returns, and reports how: `Ok(0)` for a clean close.
    pub fn wait_read(&mut self) -> (io::Result<usize>, Duration) {
        let t = Instant::now();
        let r = self.fill();
        (r, t.elapsed())
    }
}

fn parse_field(line: &[u8]) -> Result<(String, String), String> {
    let text = String::from_utf8(line.to_vec()).map_err(|e| e.to_string())?;
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("header line without colon: {text:?}"))?;
    if name.is_empty() || name.contains(' ') {
        return Err(format!("bad header name in {text:?}"));
    }
    Ok((name.to_string(), value.trim().to_string()))
}

/// Socket-level control, for the tests that decide exactly how much is read and how a
/// connection ends.
impl Client {
    /// Like [`Client::connect`], with `SO_RCVBUF` set to `bytes` before connecting, so that the
    /// window the client advertises is small from the first segment: the server's writes then
    /// stop short while the client is not reading.
    pub fn connect_with_recv_buffer(addr: SocketAddr, bytes: usize) -> Client {
        Client::dial(addr, |s| s.set_recv_buffer_size(bytes).expect("SO_RCVBUF"))
    }

    /// Like [`Client::connect_with_recv_buffer`], with an Ethernet-sized MSS too: on loopback
    /// (64 KiB segments) the server's send buffer would otherwise grow at once to more than a
    /// megabyte, swallow a whole file, and leave the server done with it long before the
    /// client stops reading or resets.
    pub fn connect_narrow(addr: SocketAddr, recv_buffer: usize) -> Client {
        Client::dial(addr, |s| {
            s.set_recv_buffer_size(recv_buffer).expect("SO_RCVBUF");
            s.set_tcp_mss(1400).expect("TCP_MAXSEG");
        })
    }

    /// A client whose socket is bound to `source` (an IP of 127.0.0.0/8, port 0 for any)
    /// before it connects: the peer address a server sees is then known in advance.
    pub fn connect_from(addr: SocketAddr, source: SocketAddr) -> Client {
        Client::dial(addr, |s| {
            s.bind(&source.into()).expect("bind the source address")
        })
    }

    /// A socket that `setup` may tune before it connects.
    fn dial(addr: SocketAddr, setup: impl FnOnce(&socket2::Socket)) -> Client {
        let socket = socket2::Socket::new(
            socket2::Domain::for_address(addr),
            socket2::Type::STREAM,
            None,
        )
        .expect("socket");
        setup(&socket);
        socket.connect(&addr.into()).expect("connect");
        Client::over(socket.into())
    }

    /// `SO_LINGER` {on, 0} and close: the kernel throws away what is queued and sends an RST.
    pub fn reset(self) {
        socket2::SockRef::from(&self.stream)
            .set_linger(Some(Duration::ZERO))
            .expect("SO_LINGER");
    }

    /// Reads a response head a byte at a time, so that no body byte is taken from the socket:
    /// the test decides how much of the body is read (with [`Client::read_exact`]).
    pub fn read_head_bytewise(&mut self) -> String {
        let mut byte = [0u8; 1];
        loop {
            if let Some(at) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head: Vec<u8> = self.buf.drain(..at + 4).collect();
                return String::from_utf8(head).expect("head is not UTF-8");
            }
            let n = self.stream.read(&mut byte).expect("reading a head");
            assert!(
                n > 0,
                "closed before a head: {:?}",
                String::from_utf8_lossy(&self.buf)
            );
            self.buf.push(byte[0]);
        }
    }

    /// Exactly `n` bytes: those buffered first, then no more from the socket than it takes.
    pub fn read_exact(&mut self, n: usize) -> Vec<u8> {
        let from_buf = n.min(self.buf.len());
        let mut v: Vec<u8> = self.buf.drain(..from_buf).collect();
        let have = v.len();
        v.resize(n, 0);
        self.stream
            .read_exact(&mut v[have..])
            .expect("reading a body");
        v
    }
}
