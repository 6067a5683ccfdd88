//! Shared helpers for the integration tests: an in-process server on an ephemeral port and a
//! raw, strict HTTP/1.1 client that reads exactly one response at a time from a persistent
//! buffer (so pipelined responses can be read one after another).

#![allow(dead_code)]

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use spindle::{Config, Server, ShutdownHandle, StartError};

/// How long any single read may block before the test fails instead of hanging.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The `/-/bytes/N` pattern: byte `i` is `PATTERN[i % 64]`.
pub const PATTERN: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The expected body of `/-/bytes/n`.
pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| PATTERN[i % 64]).collect()
}

/// A server running on its own thread; shut down gracefully and joined on drop.
/// The suite runs under `SPINDLE_TORTURE=1` too (tiny socket buffers, tiny reads and writes,
/// see `.ci/run`): large payloads are scaled down there so that it stays quick.
pub fn torture() -> bool {
    std::env::var_os("SPINDLE_TORTURE").is_some_and(|v| !v.is_empty() && v != "0")
}

/// `n`, or a sixteenth of it in torture mode.
pub fn scaled(n: usize) -> usize {
    if torture() {
        (n / 16).max(1)
    } else {
        n
    }
}

/// An empty scratch directory: with it as ROOT, every path outside `/-/` is 404.
pub fn empty_root() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("spindle-test-empty-root-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub addrs: Vec<SocketAddr>,
    handle: ShutdownHandle,
    join: Option<JoinHandle<io::Result<()>>>,
}

impl TestServer {
    /// A server with the default configuration (on 127.0.0.1:0).
    pub fn start() -> TestServer {
        TestServer::with(|_| {})
    }

    /// A server whose configuration `tweak` may change before it binds.
    pub fn with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        TestServer::try_with(tweak).expect("server failed to start")
    }

    pub fn try_with(tweak: impl FnOnce(&mut Config)) -> Result<TestServer, StartError> {
        let mut config = Config {
            binds: vec!["127.0.0.1:0".parse().unwrap()],
            root: empty_root(),
            // Keep a test's teardown short even if it leaves a response in flight.
            shutdown_grace: Duration::from_millis(500),
            ..Config::default()
        };
        tweak(&mut config);
        let server = Server::bind(&config)?;
        let addrs = server.local_addrs();
        let handle = server.shutdown_handle();
        let join = thread::spawn(move || server.run());
        Ok(TestServer {
            addr: addrs[0],
            addrs,
            handle,
            join: Some(join),
        })
    }

    pub fn connect(&self) -> Client {
        Client::connect(self.addr)
    }

    /// Asks the server to shut down gracefully (without waiting for it).
    pub fn begin_shutdown(&self) {
        self.handle.shutdown();
    }

    /// Shuts down and waits for `run` to return; returns its result.
    pub fn shutdown_and_join(&mut self) -> io::Result<()> {
        self.handle.shutdown();
        let join = self.join.take().expect("already joined");
        join.join().expect("server thread panicked")
    }

    /// Whether the server thread has returned.
    pub fn is_finished(&self) -> bool {
        self.join.as_ref().is_none_or(|j| j.is_finished())
    }

    /// One GET on a fresh connection.
    pub fn get(&self, path: &str) -> Response {
        let mut c = self.connect();
        c.send(get(path).as_bytes());
        c.read_response()
    }

    /// `/-/stats`, parsed into a flat map of counters (`status.200` for the status object).
    pub fn stats(&self) -> Stats {
        let r = self.get("/-/stats");
        assert_eq!(r.status, 200);
        Stats::parse(&r.body_str())
    }

    /// Asserts that the server still answers a fresh connection.
    pub fn assert_alive(&self) {
        let r = self.get("/-/plaintext");
        assert_eq!(r.status, 200, "server stopped serving new connections");
        assert_eq!(r.body, b"Hello, World!");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.handle.shutdown();
        if let Some(join) = self.join.take() {
            let result = join.join();
            if !thread::panicking() {
                match result {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => panic!("server returned an error: {e}"),
                    Err(_) => panic!("server thread panicked"),
                }
            }
        }
    }
}

/// `GET path HTTP/1.1` with a Host header.
pub fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n")
}

/// `HEAD path HTTP/1.1` with a Host header.
pub fn head(path: &str) -> String {
    format!("HEAD {path} HTTP/1.1\r\nHost: test\r\n\r\n")
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
pub fn assert_imf_fixdate(d: &str) {
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
        let mut headers = Vec::new();
        loop {
            let line = self.line("header")?;
            raw_head.extend_from_slice(&line);
            raw_head.extend_from_slice(b"\r\n");
            if line.is_empty() {
                break;
            }
            headers.push(parse_field(&line)?);
        }
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
                loop {
                    let t = self.line("trailer")?;
                    raw.extend_from_slice(&t);
                    raw.extend_from_slice(b"\r\n");
                    if t.is_empty() {
                        break;
                    }
                    resp.trailers.push(parse_field(&t)?);
                }
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

    /// Everything until the peer closes (buffered bytes included).
    fn read_rest(&mut self) -> Result<Vec<u8>, String> {
        loop {
            match self.fill() {
                Ok(0) => return Ok(std::mem::take(&mut self.buf)),
                Ok(_) => {}
                Err(e) => {
                    return Err(format!(
                        "read error before close: {e}; have {} bytes",
                        self.buf.len()
                    ))
                }
            }
        }
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

/// `/-/stats` as a flat map: top-level numbers by name, status counts as `status.CODE`.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub values: Vec<(String, u64)>,
}

impl Stats {
    /// A tiny parser for the flat JSON `/-/stats` returns (numbers and one nested object).
    pub fn parse(json: &str) -> Stats {
        let s = json.trim();
        assert!(s.starts_with('{') && s.ends_with('}'), "not an object: {s}");
        let mut values = Vec::new();
        let mut prefix = String::new();
        let b = s.as_bytes();
        let mut i = 1;
        while i < b.len() {
            match b[i] {
                b'"' => {
                    let end = i + 1 + s[i + 1..].find('"').expect("unterminated key");
                    let key = &s[i + 1..end];
                    i = end + 1;
                    assert_eq!(b[i], b':', "expected ':' after key {key} in {s}");
                    i += 1;
                    if b[i] == b'{' {
                        prefix = format!("{key}.");
                        i += 1;
                    } else {
                        let start = i;
                        while i < b.len() && b[i].is_ascii_digit() {
                            i += 1;
                        }
                        let n: u64 = s[start..i]
                            .parse()
                            .unwrap_or_else(|_| panic!("value of {key} is not a number in {s}"));
                        values.push((format!("{prefix}{key}"), n));
                    }
                }
                b'}' => {
                    prefix.clear();
                    i += 1;
                }
                b',' => i += 1,
                c => panic!("unexpected {:?} at {i} in {s}", c as char),
            }
        }
        Stats { values }
    }

    pub fn get(&self, key: &str) -> Option<u64> {
        self.values.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    /// The value of `key`, 0 if absent (a status code never seen is absent).
    pub fn count(&self, key: &str) -> u64 {
        self.get(key).unwrap_or(0)
    }
}

/// Starts the `spindle` binary on 127.0.0.1:0 serving `root`, with `extra` arguments, and
/// returns it with the address from its start-up line.
pub fn spawn_binary(extra: &[&str], root: &std::path::Path) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(["--bind", "127.0.0.1:0", "-q"])
        .args(extra)
        .arg(root)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn spindle");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .strip_prefix("listening on http://")
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("unexpected start-up line {line:?}"))
        .to_owned();
    (child, addr)
}

impl Client {
    /// Like [`Client::connect`], with `SO_RCVBUF` set to `bytes` before connecting, so that the
    /// window the client advertises is small from the first segment: the server's writes then
    /// stop short while the client is not reading.
    pub fn connect_with_recv_buffer(addr: SocketAddr, bytes: usize) -> Client {
        let socket = socket2::Socket::new(
            socket2::Domain::for_address(addr),
            socket2::Type::STREAM,
            None,
        )
        .expect("socket");
        socket.set_recv_buffer_size(bytes).expect("SO_RCVBUF");
        socket.connect(&addr.into()).expect("connect");
        Client::over(socket.into())
    }
}

/// The binary with exactly `args` (no `-q`, no ROOT added), stdout and stderr piped, and the
/// address of its first `listening` line, waited for at most `READ_TIMEOUT` (the child is
/// killed and the test fails if it never comes). The rest of stdout stays unread in the
/// returned reader: a test that never reads it plays a reader that stalls.
pub struct Spawned {
    pub child: std::process::Child,
    pub addr: String,
    /// The `listening` line as printed.
    pub first_line: String,
    pub stdout: std::io::BufReader<std::process::ChildStdout>,
}

pub fn spawn_binary_piped(args: &[&str]) -> Spawned {
    use std::io::BufRead;
    use std::sync::mpsc;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn spindle");
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = mpsc::channel();
    let reader = thread::spawn(move || {
        let mut line = String::new();
        let r = out.read_line(&mut line);
        let _ = tx.send(());
        (r, line, out)
    });
    if rx.recv_timeout(READ_TIMEOUT).is_err() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("no listening line within {READ_TIMEOUT:?}");
    }
    let (r, line, stdout) = reader.join().unwrap();
    r.unwrap();
    let addr = line
        .strip_prefix("listening on http://")
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("unexpected start-up line {line:?}"))
        .to_owned();
    Spawned {
        child,
        addr,
        first_line: line,
        stdout,
    }
}

/// Sends `sig` to the child.
pub fn signal(child: &std::process::Child, sig: i32) {
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

/// Waits for the child to exit, at most `limit` (then kills it and fails).
pub fn wait_exit(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let until = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("spindle did not exit within {limit:?}");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Makes a FIFO at `path` (removing whatever was there).
pub fn mkfifo(path: &std::path::Path) {
    use std::os::unix::ffi::OsStrExt;
    let _ = std::fs::remove_file(path);
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

/// Runs the binary with `args` to its end, at most `READ_TIMEOUT` (a server that starts
/// instead of failing is killed and the test fails): its status, stdout and stderr.
pub fn run_binary(args: &[&str]) -> (std::process::ExitStatus, String, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn spindle");
    let status = wait_exit(&mut child, READ_TIMEOUT);
    let (mut out, mut err) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status, out, err)
}
