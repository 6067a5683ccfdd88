//! Error answers (SPEC §3): each refused request gets its status, `Connection: close`, then the
//! connection closes with nothing served after it, and the server keeps serving new connections.

mod common;

use common::*;

/// A valid request appended after each bad one: it must never be answered.
const FOLLOW: &[u8] = b"GET /-/plaintext HTTP/1.1\r\nHost: x\r\n\r\n";

/// Sends `req` (then a valid pipelined request), expects exactly one `status` response with
/// `Connection: close`, then the close; then checks the server still serves a new connection.
fn expect_error(srv: &TestServer, req: &[u8], status: u16) -> Response {
    let mut c = srv.connect();
    let mut bytes = req.to_vec();
    bytes.extend_from_slice(FOLLOW);
    c.send(&bytes);
    let r = c.read_response();
    assert_eq!(
        r.status,
        status,
        "request {:?} answered {} {}",
        String::from_utf8_lossy(&req[..req.len().min(200)]),
        r.status,
        r.reason
    );
    r.assert_framed();
    assert!(
        r.says_close(),
        "error {status} without Connection: close: {:?}",
        r.headers
    );
    let rest = c.read_to_close();
    assert!(
        rest.is_empty(),
        "bytes after the {status} response: {:?}",
        String::from_utf8_lossy(&rest)
    );
    srv.assert_alive();
    r
}

#[test]
fn malformed_request_lines_are_400() {
    let srv = TestServer::start();
    for req in [
        &b"GET\r\n\r\n"[..],
        b"GET /\r\n\r\n",
        b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n",
        b"GET / HTTX/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1.1\r\nHost: x\r\n\r\n",
        b"GET / http/1.1\r\nHost: x\r\n\r\n",
        b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /\rX HTTP/1.1\r\nHost: x\r\n\r\n",
        b" GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET x HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    ] {
        expect_error(&srv, req, 400);
    }
}

#[test]
fn malformed_header_lines_are_400() {
    let srv = TestServer::start();
    for req in [
        &b"GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost: x\r\n: empty-name\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nBad\x01Name: v\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n",
    ] {
        expect_error(&srv, req, 400);
    }
}

#[test]
fn unknown_method_is_501() {
    let srv = TestServer::start();
    for m in ["BREW", "PROPFIND", "FOO-BAR"] {
        let req = format!("{m} /-/plaintext HTTP/1.1\r\nHost: x\r\n\r\n");
        expect_error(&srv, req.as_bytes(), 501);
    }
}

#[test]
fn http2_and_up_is_505() {
    let srv = TestServer::start();
    for v in ["HTTP/2.0", "HTTP/3.0", "HTTP/9.9"] {
        let req = format!("GET /-/plaintext {v}\r\nHost: x\r\n\r\n");
        expect_error(&srv, req.as_bytes(), 505);
    }
}

#[test]
fn http2_preface_is_refused() {
    // The HTTP/2 connection preface is `PRI * HTTP/2.0`: 505 (or 501 for PRI), never a 200.
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    let r = c.read_response();
    assert!(matches!(r.status, 400 | 501 | 505), "got {}", r.status);
    assert!(r.says_close());
    c.assert_closed();
    srv.assert_alive();
}

#[test]
fn request_line_over_8k_is_414() {
    let srv = TestServer::start();
    let long = format!("GET /-/{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(9000));
    expect_error(&srv, long.as_bytes(), 414);
    // Also when no line end has arrived yet.
    let mut c = srv.connect();
    c.send(format!("GET /{}", "b".repeat(8300)).as_bytes());
    let r = c.read_response();
    assert_eq!(r.status, 414);
    assert!(r.says_close());
    c.assert_closed();
    srv.assert_alive();
}

/// A request line of exactly `len` bytes (without its line end) for /-/plaintext.
fn request_line_of(len: usize) -> String {
    let line = format!("GET /-/plaintext?{} HTTP/1.1", "q".repeat(len - 4 - 13 - 9));
    assert_eq!(line.len(), len);
    line
}

#[test]
fn request_line_just_under_8k_is_served() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    for len in [8000, 8191] {
        let req = format!("{}\r\nHost: x\r\n\r\n", request_line_of(len));
        let r = c.request(req.as_bytes());
        assert_eq!(r.status, 200, "request line of {len} bytes");
        assert_eq!(r.body, b"Hello, World!");
    }
}

#[test]
fn request_line_of_8193_bytes_is_414() {
    let srv = TestServer::start();
    let line = request_line_of(8193);
    expect_error(&srv, format!("{line}\r\nHost: x\r\n\r\n").as_bytes(), 414);
    expect_error(&srv, format!("{line}\nHost: x\n\n").as_bytes(), 414);
}

#[test]
fn request_line_of_exactly_8192_bytes_is_served() {
    let srv = TestServer::start();
    let line = request_line_of(8192);
    for end in ["\n", "\r\n"] {
        let mut c = srv.connect();
        let r = c.request(format!("{line}{end}Host: x{end}{end}").as_bytes());
        assert_eq!(r.status, 200, "8192-byte request line ending in {end:?}");
    }
}

#[test]
fn head_over_max_head_is_431() {
    let srv = TestServer::with(|c| c.max_head = 4096);
    let mut req = String::from("GET /-/plaintext HTTP/1.1\r\nHost: x\r\n");
    for i in 0..50 {
        req.push_str(&format!("X-Filler-{i}: {}\r\n", "v".repeat(80)));
    }
    req.push_str("\r\n");
    assert!(req.len() > 4096);
    expect_error(&srv, req.as_bytes(), 431);
}

#[test]
fn head_under_max_head_is_served() {
    let srv = TestServer::with(|c| c.max_head = 4096);
    let mut req = String::from("GET /-/plaintext HTTP/1.1\r\nHost: x\r\n");
    for i in 0..35 {
        req.push_str(&format!("X-Filler-{i}: {}\r\n", "v".repeat(80)));
    }
    req.push_str("\r\n");
    assert!(req.len() < 4000);
    let mut c = srv.connect();
    assert_eq!(c.request(req.as_bytes()).status, 200);
}

#[test]
fn head_over_default_max_head_is_431() {
    let srv = TestServer::start();
    let mut req = String::from("GET /-/plaintext HTTP/1.1\r\nHost: x\r\n");
    for i in 0..40 {
        req.push_str(&format!("X-Filler-{i}: {}\r\n", "v".repeat(1000)));
    }
    req.push_str("\r\n");
    assert!(req.len() > 32 * 1024);
    expect_error(&srv, req.as_bytes(), 431);
}

#[test]
fn more_than_100_headers_is_431() {
    let srv = TestServer::start();
    let mut req = String::from("GET /-/plaintext HTTP/1.1\r\nHost: x\r\n");
    for i in 0..100 {
        req.push_str(&format!("X-{i}: v\r\n"));
    }
    req.push_str("\r\n");
    expect_error(&srv, req.as_bytes(), 431);
}

#[test]
fn exactly_100_headers_is_served() {
    let srv = TestServer::start();
    let mut req = String::from("GET /-/plaintext HTTP/1.1\r\nHost: x\r\n");
    for i in 0..99 {
        req.push_str(&format!("X-{i}: v\r\n"));
    }
    req.push_str("\r\n");
    let mut c = srv.connect();
    let r = c.request(req.as_bytes());
    assert_eq!(r.status, 200);
    assert!(!r.says_close());
}

#[test]
fn missing_host_on_11_is_400() {
    let srv = TestServer::start();
    expect_error(&srv, b"GET /-/plaintext HTTP/1.1\r\n\r\n", 400);
    expect_error(
        &srv,
        b"GET /-/plaintext HTTP/1.1\r\nUser-Agent: t\r\n\r\n",
        400,
    );
}

#[test]
fn duplicate_host_is_400() {
    let srv = TestServer::start();
    expect_error(
        &srv,
        b"GET /-/plaintext HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
        400,
    );
    expect_error(
        &srv,
        b"GET /-/plaintext HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n",
        400,
    );
    // On 1.0 too.
    expect_error(
        &srv,
        b"GET /-/plaintext HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
        400,
    );
}

#[test]
fn invalid_host_is_400() {
    let srv = TestServer::start();
    for host in [
        "a b",
        "a/b",
        "a\"b",
        "a<b>",
        "a@b",
        // RFC 9112 §3.2: `uri-host [ ":" port ]`, and nothing else (issue 8 §6).
        "host:port:x",
        "]]%%[[",
        "a:99999",
        "a:65536",
        "a:b",
        "a:-1",
        "a:+80",
        "[::1",
        "::1",
        "[::1]x",
        "[::1]:99999",
        "[1:2:3:4:5:6:7:8:9]",
        "[::g]",
        "[fe80::1%25eth0]",
        "[v1]",
        "[vx.a]",
        "[]",
        ":80",
        "a%2",
        "a%zz",
        "a[b]",
    ] {
        let req = format!("GET /-/plaintext HTTP/1.1\r\nHost: {host}\r\n\r\n");
        expect_error(&srv, req.as_bytes(), 400);
    }
}

#[test]
fn valid_host_forms_are_served() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    for host in [
        "example.com",
        "example.com:8080",
        "127.0.0.1:1",
        "[::1]:8080",
        "xn--bcher-kva.example",
        "",
        "localhost:65535",
        "a:0",
        // RFC 3986 §3.2.3 allows an empty port; spindle takes it.
        "a:",
        "[::1]:",
        "[::1]",
        "[2001:db8::ffff:192.0.2.1]:443",
        "[1:2:3:4:5:6:7:8]",
        "[v1.fe80::a+en1]",
        "a%20b",
        "sub-delims!$&'()*+,;=~_.",
        "999.999.999.999",
    ] {
        let req = format!("GET /-/plaintext HTTP/1.1\r\nHost: {host}\r\n\r\n");
        let r = c.request(req.as_bytes());
        assert_eq!(r.status, 200, "Host: {host:?}");
    }
}

#[test]
fn content_length_over_max_body_is_413() {
    let srv = TestServer::with(|c| c.max_body = 1000);
    let r = expect_error(
        &srv,
        b"POST /-/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n",
        413,
    );
    assert_eq!(r.status, 413);
    // Also with the body actually sent, and to a handler that would not read it.
    let mut req =
        b"POST /-/status/200 HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n".to_vec();
    req.extend(std::iter::repeat_n(b'z', 5000));
    expect_error(&srv, &req, 413);
    // Exactly max_body is fine.
    let body = vec![b'q'; 1000];
    let mut c = srv.connect();
    let r = c.request(&post("/-/echo", "text/plain", &body));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, body);
}

#[test]
fn default_max_body_is_1mib() {
    let srv = TestServer::start();
    let req = format!(
        "POST /-/echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        1024 * 1024 + 1
    );
    expect_error(&srv, req.as_bytes(), 413);
}

#[test]
fn chunked_body_over_max_body_is_413() {
    let srv = TestServer::with(|c| c.max_body = 1000);
    let mut req =
        b"POST /-/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..4 {
        req.extend_from_slice(b"1f4\r\n");
        req.extend(std::iter::repeat_n(b'c', 500));
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let mut c = srv.connect();
    c.send(&req);
    let r = c.read_response();
    assert_eq!(r.status, 413);
    assert!(r.says_close());
    c.assert_closed();
    srv.assert_alive();
}

#[test]
fn chunked_body_at_max_body_is_served() {
    let srv = TestServer::with(|c| c.max_body = 1000);
    let mut req =
        b"POST /-/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    req.extend_from_slice(b"3e8\r\n");
    req.extend(std::iter::repeat_n(b'c', 1000));
    req.extend_from_slice(b"\r\n0\r\n\r\n");
    let mut c = srv.connect();
    let r = c.request(&req);
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), 1000);
}

#[test]
fn unknown_expectation_is_417() {
    let srv = TestServer::start();
    expect_error(
        &srv,
        b"GET /-/plaintext HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\n\r\n",
        417,
    );
    expect_error(
        &srv,
        b"POST /-/echo HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 0\r\n\r\n",
        417,
    );
}

#[test]
fn expect_100_continue_is_case_insensitive() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let r = c.request(b"GET /-/plaintext HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\n\r\n");
    assert_eq!(r.status, 200);
}

#[test]
fn error_responses_have_common_headers() {
    let srv = TestServer::start();
    let r = expect_error(&srv, b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n", 501);
    r.assert_framed();
    assert_eq!(r.body.len() as u64, r.content_length().unwrap());
    assert!(!r.body.is_empty(), "error answers carry a short text body");
}

#[test]
fn error_after_good_requests_on_same_connection() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&get("/-/bytes/1").into_bytes());
    bytes.extend_from_slice(&get("/-/bytes/2").into_bytes());
    bytes.extend_from_slice(b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n");
    bytes.extend_from_slice(&get("/-/bytes/3").into_bytes());
    c.send(&bytes);
    assert_eq!(c.read_response().body, b"A");
    assert_eq!(c.read_response().body, b"AB");
    let r = c.read_response();
    assert_eq!(r.status, 501);
    assert!(r.says_close());
    c.assert_closed();
    srv.assert_alive();
}

#[test]
fn not_found_and_405_keep_the_connection() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let r = c.request(get("/-/nothing-here").as_bytes());
    assert_eq!(r.status, 404);
    assert!(!r.says_close());
    let r = c.request(b"POST /-/plaintext HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(r.status, 405);
    assert!(!r.says_close());
    assert_eq!(c.request(get("/-/plaintext").as_bytes()).status, 200);
}

#[test]
fn client_closing_early_does_not_disturb_server() {
    let srv = TestServer::start();
    for _ in 0..20 {
        let mut c = srv.connect();
        c.send(b"GET /-/bytes/1000000 HTTP/1.1\r\nHost: x\r\n\r\n");
        drop(c);
        let mut c = srv.connect();
        c.send(b"GET /-/plai");
        drop(c);
    }
    srv.assert_alive();
}

#[test]
fn malformed_header_bytes_are_400() {
    let srv = TestServer::start();
    for req in [
        &b"GET /-/plaintext HTTP/1.1\r\nHost: x\rX-Y: z\r\n\r\n"[..],
        b"GET /-/plaintext HTTP/1.1\r\nHo st: x\r\n\r\n",
        b"GET /-/plaintext HTTP/1.1\r\nHost: x\r\nX-A\r\n\r\n",
        b"GET /-/plaintext HTTP/1.1\r\nHost: x\r\n\rX: y\r\n\r\n",
    ] {
        expect_error(&srv, req, 400);
    }
}

/// Sends a HEAD request that is refused and returns the bytes after the response head.
fn head_error(srv: &TestServer, req: &[u8], status: u16) {
    let mut c = srv.connect();
    c.send(req);
    let r = c.read_head_response();
    assert_eq!(r.status, status);
    assert!(r.says_close());
    let rest = c.read_to_close();
    assert!(
        rest.is_empty(),
        "HEAD answered {status} with content: {:?}",
        String::from_utf8_lossy(&rest)
    );
}

#[test]
fn error_answer_to_head_has_no_body() {
    let srv = TestServer::with(|c| c.max_body = 10);
    head_error(&srv, b"HEAD /-/plaintext HTTP/1.1\r\n\r\n", 400);
    head_error(
        &srv,
        b"HEAD /-/plaintext HTTP/1.1\r\nHost: a b\r\n\r\n",
        400,
    );
    head_error(
        &srv,
        b"HEAD /-/plaintext HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n",
        413,
    );
    head_error(
        &srv,
        b"HEAD /-/plaintext HTTP/1.1\r\nHost: x\r\nExpect: nope\r\n\r\n",
        417,
    );
}

#[test]
fn not_found_answer_to_head_has_no_body() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(head("/-/nope").as_bytes());
    let r = c.read_head_response();
    assert_eq!(r.status, 404);
    assert!(r.content_length().is_some());
    c.assert_silent_for(std::time::Duration::from_millis(100));
}

/// A GET whose head is just over `filler` bytes, in header fields of about 1 KB (so that a
/// 100 KiB head stays under the 100-field limit).
fn big_head_request(path: &str, filler: usize) -> Vec<u8> {
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: x\r\n");
    let mut i = 0;
    while req.len() < filler {
        req.push_str(&format!("X-Filler-{i}: {}\r\n", "w".repeat(1100)));
        i += 1;
    }
    req.push_str("\r\n");
    req.into_bytes()
}

#[test]
fn large_heads_under_the_limit_are_served() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let big = big_head_request("/-/bytes/2", 30 * 1024);
    assert!(big.len() < 32 * 1024 && big.len() > 30 * 1024);
    let r = c.request(&big);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"AB");
    // Pipelined around other requests, so the big head straddles buffer boundaries.
    let mut all = get("/-/bytes/1").into_bytes();
    all.extend_from_slice(&big_head_request("/-/bytes/3", 20 * 1024));
    all.extend_from_slice(&big_head_request("/-/bytes/4", 31 * 1024));
    all.extend_from_slice(get("/-/bytes/5").as_bytes());
    c.send(&all);
    for n in 1..=5 {
        if n == 2 {
            continue;
        }
        let r = c.read_response();
        assert_eq!(r.status, 200, "request for {n} bytes");
        assert_eq!(r.body, pattern(n));
    }
}

#[test]
fn larger_max_head_is_honoured() {
    let srv = TestServer::with(|c| c.max_head = 100 * 1024);
    let mut c = srv.connect();
    let big = big_head_request("/-/json", 90 * 1024);
    let r = c.request(&big);
    assert_eq!(r.status, 200, "a 90 KiB head with --max-head 100 KiB");
    expect_error(&srv, &big_head_request("/-/json", 101 * 1024), 431);
}

#[test]
fn small_max_head_does_not_limit_pipelines() {
    // --max-head bounds one head, not the bytes of many pipelined requests in one read.
    let srv = TestServer::with(|c| c.max_head = 1024);
    let mut c = srv.connect();
    let mut all = Vec::new();
    for i in 0..200 {
        all.extend_from_slice(get(&format!("/-/bytes/{i}")).as_bytes());
    }
    c.send(&all);
    for i in 0..200 {
        let r = c.read_response();
        assert_eq!(r.status, 200, "#{i}");
        assert_eq!(r.body.len(), i);
    }
}

#[test]
fn a_bad_line_is_refused_as_soon_as_it_arrives_whatever_the_split() {
    // The head never ends, so only an early refusal answers before the 10 s request timeout.
    // (Found by the `conn` fuzz target: a split head used to wait for its end.)
    let srv = TestServer::start();
    for (first, rest, status) in [
        (&b"GET / HTTP/1.1\r\n"[..], &b"bad\r\n"[..], 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\n", b"Space : before\r\n", 400),
        (b"F", b"OO / HTTP/1.1\r\nHost: x\r\n", 501),
        (b"GET / HTTP/2.", b"0\r\n", 505),
    ] {
        let mut c = srv.connect();
        c.send(first);
        std::thread::sleep(std::time::Duration::from_millis(50));
        let t = std::time::Instant::now();
        c.send(rest);
        let r = c.read_response();
        assert_eq!(r.status, status, "{:?}", String::from_utf8_lossy(rest));
        assert!(r.says_close());
        assert!(
            t.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            t.elapsed()
        );
        c.assert_closed();
    }
}

#[test]
fn invalid_absolute_form_authority_is_400() {
    let srv = TestServer::start();
    for authority in ["a:99999", "a:b", "h:p:x", "[::1", "u@h", ":80"] {
        let req = format!("GET http://{authority}/-/plaintext HTTP/1.1\r\nHost: x\r\n\r\n");
        expect_error(&srv, req.as_bytes(), 400);
    }
    let mut c = srv.connect();
    for authority in ["a:8080", "[::1]:8080", "a:"] {
        let req = format!("GET http://{authority}/-/plaintext HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(c.request(req.as_bytes()).status, 200, "{authority}");
    }
}

/// The start of a TLS ClientHello: a handshake record (0x16), TLS 1.0 record version, length,
/// then the handshake header. A client that speaks TLS to a plain-HTTP port sends this first.
const CLIENT_HELLO: &[u8] = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x8a\x1f";

/// Sends `first` (and then `rest`, ignoring write errors once the server has answered), and
/// expects a 400 and the close within 200 ms of `first` — long before the 10 s head timeout.
fn refused_at_once(srv: &TestServer, first: &[&[u8]], rest: &[u8]) {
    let mut c = srv.connect();
    c.set_read_timeout(std::time::Duration::from_secs(2));
    let t = std::time::Instant::now();
    for piece in first {
        c.send(piece);
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    for b in rest {
        use std::io::Write;
        let _ = c.stream.write(&[*b]);
    }
    let r = c.read_response();
    let took = t.elapsed();
    assert_eq!(r.status, 400, "{first:?}");
    assert!(r.says_close());
    assert!(
        took < std::time::Duration::from_millis(200)
            + std::time::Duration::from_millis(2) * first.len() as u32,
        "answered after {took:?}"
    );
    let _ = c.try_read_to_close();
    srv.assert_alive();
}

#[test]
fn tls_client_hello_is_refused_at_once() {
    let srv = TestServer::start();
    // In one write.
    refused_at_once(&srv, &[CLIENT_HELLO], b"");
    // Its first byte alone: nothing more is needed to know it is not HTTP.
    refused_at_once(&srv, &[&CLIENT_HELLO[..1]], b"");
    // Byte by byte.
    let bytes: Vec<&[u8]> = CLIENT_HELLO.chunks(1).collect();
    refused_at_once(&srv, &bytes[..1], &CLIENT_HELLO[1..]);
}

#[test]
fn a_non_token_byte_in_the_method_is_refused_at_once() {
    let srv = TestServer::start();
    for bad in [
        &b"GE\x01"[..],
        b"GET\t",
        b"G(T",
        b"\x00",
        b"\xff",
        b"\r\nGE\x7f",
        b"GET\r",
    ] {
        refused_at_once(&srv, &[bad], b"");
        let bytes: Vec<&[u8]> = bad.chunks(1).collect();
        refused_at_once(&srv, &bytes, b"");
    }
}

#[test]
fn a_bad_method_byte_on_an_overlong_line_is_400_not_414() {
    // However much of the line the first read holds, the answer is the same.
    let srv = TestServer::start();
    let mut req = b"\x16".to_vec();
    req.resize(9000, b'a');
    req.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_error(&srv, &req, 400);
}

#[test]
fn empty_lines_then_a_request_still_work_byte_by_byte() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send_bytewise(
        b"\r\n\r\n\nGET /-/plaintext HTTP/1.1\r\nHost: x\r\n\r\n",
        std::time::Duration::from_millis(1),
    );
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"Hello, World!");
}

#[test]
fn odd_token_methods_are_not_refused_early() {
    let srv = TestServer::start();
    for method in ["get", "M-SEARCH", "X_Y.Z~!"] {
        let mut c = srv.connect();
        c.send_bytewise(method.as_bytes(), std::time::Duration::from_millis(1));
        c.send(b" ");
        // Token bytes and the space after them may begin a request: the server waits.
        c.assert_silent_for(std::time::Duration::from_millis(300));
        c.send(b"* HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(c.read_response().status, 501, "{method}");
    }
}
