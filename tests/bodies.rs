//! Request bodies (SPEC §3): Content-Length and chunked (extensions, trailers), large bodies
//! with slow peers, `Expect: 100-continue`, and bodies no handler reads.

mod common;

use std::io::Read;
use std::time::{Duration, Instant};

use common::*;

fn chunked_post(path: &str, content_type: &str, framing: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n{framing}"
    )
    .into_bytes()
}

#[test]
fn content_length_echo() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let r = c.request(&post("/-/echo", "text/plain; charset=utf-8", b"Hello body"));
    r.assert_framed();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(r.content_length(), Some(10));
    assert_eq!(r.body, b"Hello body");
}

#[test]
fn chunked_echo_with_extensions_and_trailers() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let r = c.request(&chunked_post(
        "/-/echo",
        "application/x-chunks",
        "3;a=b\r\nabc\r\n4;name=\"quoted;value\";x\r\ndefg\r\n1\r\nh\r\n0;last=1\r\nX-Trailer: one\r\nY-Trailer: two\r\n\r\n",
    ));
    r.assert_framed();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/x-chunks"));
    assert_eq!(r.body, b"abcdefgh");
    // Trailers are not body, and the connection stays in sync.
    assert_eq!(c.request(get("/-/bytes/4").as_bytes()).body, b"ABCD");
}

#[test]
fn chunked_echo_without_trailers_and_empty() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let r = c.request(&chunked_post("/-/echo", "a/b", "0\r\n\r\n"));
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(r.content_length(), Some(0));
    let r = c.request(&chunked_post(
        "/-/echo",
        "a/b",
        "10\r\n0123456789abcdef\r\n0\r\n\r\n",
    ));
    assert_eq!(r.body, b"0123456789abcdef");
}

#[test]
fn chunked_echo_many_chunk_sizes() {
    let srv = TestServer::start();
    let mut framing = Vec::new();
    let mut expected = Vec::new();
    let mut k = 0u8;
    for size in (1..600).step_by(7) {
        framing.extend_from_slice(format!("{size:x}\r\n").as_bytes());
        for _ in 0..size {
            framing.push(k);
            expected.push(k);
            k = k.wrapping_add(1);
        }
        framing.extend_from_slice(b"\r\n");
    }
    framing.extend_from_slice(b"0\r\n\r\n");
    let mut req =
        b"POST /-/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    req.extend_from_slice(&framing);
    let mut c = srv.connect();
    let r = c.request(&req);
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), expected.len());
    assert!(r.body == expected);
}

#[test]
fn one_mib_echo_sent_and_read_slowly() {
    let mib = common::scaled(1024 * 1024);
    let srv = TestServer::with(|c| c.max_body = (mib + 4096) as u64);
    let body: Vec<u8> = (0..mib).map(|i| (i * 7 % 251) as u8).collect();
    let t = Instant::now();
    let mut c = srv.connect();
    c.send_slowly(
        &post("/-/echo", "application/octet-stream", &body),
        64 * 1024,
        Duration::from_millis(15),
    );
    c.throttle(8 * 1024, Duration::from_millis(8));
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.content_length(), Some(mib as u64));
    assert!(r.body == body, "echoed body differs");
    assert!(!r.says_close());
    eprintln!("1 MiB slow echo took {:?}", t.elapsed());
}

#[test]
fn one_mib_chunked_echo() {
    let mib = common::scaled(1024 * 1024);
    let srv = TestServer::with(|c| c.max_body = mib as u64);
    let body: Vec<u8> = (0..mib).map(|i| (i % 253) as u8).collect();
    let mut req =
        b"POST /-/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for part in body.chunks(10_000) {
        req.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        req.extend_from_slice(part);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let mut c = srv.connect();
    let r = c.request(&req);
    assert_eq!(r.status, 200);
    assert!(r.body == body);
}

/// Reads exactly `n` bytes, failing on timeout.
fn read_exact_bytes(c: &mut Client, n: usize) -> Vec<u8> {
    let mut got = vec![0u8; n];
    c.stream.read_exact(&mut got).expect("read");
    got
}

#[test]
fn expect_100_continue_comes_before_the_body() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(b"POST /-/echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n");
    // The client waits (up to the read timeout) for the interim answer before sending a byte.
    let interim = b"HTTP/1.1 100 Continue\r\n\r\n";
    let got = read_exact_bytes(&mut c, interim.len());
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(interim)
    );
    c.send(b"hello world");
    let r = c.read_response();
    r.assert_framed();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"hello world");
    assert!(!r.says_close());
    // Chunked with Expect too, on the same connection.
    c.send(b"POST /-/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n");
    let r = c.read_response();
    assert_eq!(r.status, 100);
    assert_eq!(r.raw_head, interim);
    c.send(b"3\r\nabc\r\n0\r\n\r\n");
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"abc");
}

#[test]
fn expect_100_continue_with_empty_body_gets_no_interim() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let r = c.request(
        b"POST /-/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nExpect: 100-continue\r\n\r\n",
    );
    // Either way the final answer must be a 200 with an empty body; a 100 here would be
    // allowed by RFC 9110 but is pointless, so check what comes first.
    let r = if r.status == 100 {
        c.read_response()
    } else {
        r
    };
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
}

#[test]
fn expect_100_continue_over_max_body_gets_413_not_100() {
    let srv = TestServer::with(|c| c.max_body = 100);
    let mut c = srv.connect();
    c.send(
        b"POST /-/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n",
    );
    let r = c.read_response();
    assert_eq!(r.status, 413, "the client must not be invited to send");
    assert!(r.says_close());
    c.assert_closed();
}

#[test]
fn expect_100_continue_to_handler_that_ignores_body() {
    // The final answer comes without a 100; the client then does not send the body, so the
    // server cannot keep the connection (it would read the body as the next request).
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(b"POST /-/status/202 HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\nExpect: 100-continue\r\n\r\n");
    let r = c.read_response();
    assert_eq!(
        r.status, 202,
        "expected the final answer, not an interim one"
    );
    assert!(r.says_close());
    c.assert_closed();
}

#[test]
fn expect_100_continue_on_http10_gets_no_interim() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(b"POST /-/echo HTTP/1.0\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nhi");
    let r = c.read_response();
    assert_eq!(r.status, 200, "a 1.0 client must not get 100 Continue");
    assert_eq!(r.body, b"hi");
}

#[test]
fn unread_body_is_discarded_and_pipeline_continues() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let mut all = b"POST /-/status/200 HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\n\r\nGET /-/status/500 HTTP/1.1\r\n\r\n"
        .to_vec();
    assert_eq!(
        all.len() - all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() - 4,
        30
    );
    all.extend_from_slice(get("/-/bytes/6").as_bytes());
    c.send(&all);
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert!(
        !r.says_close(),
        "a small unread body should not cost the connection"
    );
    let r = c.read_response();
    assert_eq!(r.status, 200, "the body was parsed as a request");
    assert_eq!(r.body, b"ABCDEF");
    assert!(c.buffered().is_empty());
    c.assert_silent_for(Duration::from_millis(100));
}

#[test]
fn unread_chunked_body_is_discarded() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let mut all = b"PUT /-/status/201 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1a\r\nGET /-/status/500 HTTP/1.1\r\n0\r\nT: x\r\n\r\n".to_vec();
    all.extend_from_slice(get("/-/bytes/2").as_bytes());
    c.send(&all);
    assert_eq!(c.read_response().status, 201);
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"AB");
}

#[test]
fn unread_body_arriving_after_the_answer() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(b"POST /no-such-path HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n");
    let r = c.read_response();
    assert_eq!(r.status, 404);
    c.send(b"0123456");
    std::thread::sleep(Duration::from_millis(50));
    c.send(b"789");
    c.send(get("/-/bytes/1").as_bytes());
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"A");
}

#[test]
fn large_unread_body_is_discarded() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let n = common::scaled(800_000);
    let body = vec![b'x'; n];
    let mut all = format!("POST /-/plaintext HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\n\r\n")
        .into_bytes();
    all.extend_from_slice(&body);
    all.extend_from_slice(get("/-/json").as_bytes());
    c.send(&all);
    let r = c.read_response();
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, br#"{"message":"Hello, World!"}"#);
}

#[test]
fn body_on_get_is_discarded() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let mut all =
        b"GET /-/plaintext HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello".to_vec();
    all.extend_from_slice(get("/-/bytes/2").as_bytes());
    c.send(&all);
    assert_eq!(c.read_response().body, b"Hello, World!");
    assert_eq!(c.read_response().body, b"AB");
}

#[test]
fn body_to_delay_still_answers() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(b"POST /-/delay/50 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody");
    // POST is not allowed on delay: 405 straight away, and the body is discarded.
    let r = c.read_response();
    assert_eq!(r.status, 405);
    assert_eq!(c.request(get("/-/bytes/1").as_bytes()).body, b"A");
}

#[test]
fn truncated_body_is_not_echoed() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(b"POST /-/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello");
    c.shutdown_write();
    let rest = c.read_to_close();
    let text = String::from_utf8_lossy(&rest);
    assert!(!text.contains("200 OK"), "echoed half a body: {text:?}");
    srv.assert_alive();
}

#[test]
fn http10_content_length_body() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(b"POST /-/echo HTTP/1.0\r\nContent-Type: a/b\r\nContent-Length: 3\r\n\r\nxyz");
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"xyz");
    assert!(r.says_close());
    c.assert_closed();
}

#[test]
fn unread_chunked_body_over_max_body_closes() {
    let srv = TestServer::with(|c| c.max_body = 1000);
    let mut c = srv.connect();
    let mut all =
        b"POST /-/status/200 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..3 {
        all.extend_from_slice(b"320\r\n");
        all.extend(std::iter::repeat_n(b'u', 800));
        all.extend_from_slice(b"\r\n");
    }
    all.extend_from_slice(b"0\r\n\r\n");
    all.extend_from_slice(get("/-/status/299").as_bytes());
    c.send(&all);
    let r = c.read_response();
    assert_eq!(r.status, 200);
    // The body went past --max-body: the connection closes, the next request is not served.
    let rest = c
        .try_read_to_close()
        .expect("reset instead of a clean close");
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
}
