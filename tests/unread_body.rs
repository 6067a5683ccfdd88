//! A request body that no handler reads is thrown away before the next head is parsed, whatever
//! the answer was (SPEC §6). A client that hides a request in such a body must get exactly one
//! response for the request it sent, and then either a normal answer to its next request or a
//! close — never an answer made from the body's bytes. Every kind of response, with a
//! `Content-Length` body and a chunked one, with the body sent at once and after the answer.

mod common;

use std::time::Duration;

use common::{Client, ScratchDir, TestServer};

/// The request hidden in the body: answering it would be request smuggling.
const HIDDEN: &[u8] = b"GET /-/status/418 HTTP/1.1\r\nHost: x\r\n\r\n";
/// The request sent after the body: the connection may answer it, or have closed.
const NEXT: &[u8] = b"GET /-/status/204 HTTP/1.1\r\nHost: x\r\n\r\n";

/// A file bigger than the file cache keeps in memory, so it goes out with `sendfile`.
const BIG: usize = 200_000;

/// A scratch ROOT: `small.txt`, `big.bin` ([`BIG`] bytes) and `dir/a.txt`.
fn scratch_root(test: &str) -> ScratchDir {
    let dir = ScratchDir::new(&format!("unread-body-{test}"));
    dir.write("small.txt", b"small file\n");
    dir.write("big.bin", vec![b'b'; BIG]);
    dir.write("dir/a.txt", b"a");
    dir
}

/// One kind of response: the request line, extra headers, and the status it gets.
struct Kind {
    name: &'static str,
    method: &'static str,
    target: &'static str,
    headers: String,
    status: u16,
}

fn kinds(etag: &str) -> Vec<Kind> {
    let k = |name, method, target, headers: &str, status| Kind {
        name,
        method,
        target,
        headers: headers.to_string(),
        status,
    };
    vec![
        k("cached file", "GET", "/small.txt", "", 200),
        k("sendfile file", "GET", "/big.bin", "", 200),
        k("HEAD of a sendfile file", "HEAD", "/big.bin", "", 200),
        k("range", "GET", "/big.bin", "Range: bytes=0-9\r\n", 206),
        k(
            "range of a cached file",
            "GET",
            "/small.txt",
            "Range: bytes=1-3\r\n",
            206,
        ),
        k("listing", "GET", "/dir/", "", 200),
        k(
            "JSON listing",
            "GET",
            "/dir/",
            "Accept: application/json\r\n",
            200,
        ),
        k("redirect", "GET", "/dir", "", 301),
        k(
            "304",
            "GET",
            "/small.txt",
            &format!("If-None-Match: {etag}\r\n"),
            304,
        ),
        k("416", "GET", "/big.bin", "Range: bytes=999999-\r\n", 416),
        k("404", "GET", "/nope", "", 404),
        k("405", "POST", "/small.txt", "", 405),
        k("plaintext", "GET", "/-/plaintext", "", 200),
        k("bytes", "GET", "/-/bytes/100000", "", 200),
        k("stream", "GET", "/-/stream/50", "", 200),
        k("delay", "GET", "/-/delay/20", "", 200),
        k("status 503", "GET", "/-/status/503", "", 503),
    ]
}

/// The body, framed both ways.
fn bodies() -> [(&'static str, String, Vec<u8>); 2] {
    let mut chunked = format!("{:x}\r\n", HIDDEN.len()).into_bytes();
    chunked.extend_from_slice(HIDDEN);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    [
        (
            "Content-Length",
            format!("Content-Length: {}\r\n", HIDDEN.len()),
            HIDDEN.to_vec(),
        ),
        (
            "chunked",
            "Transfer-Encoding: chunked\r\n".to_string(),
            chunked,
        ),
    ]
}

/// Sends the request with its body (at once, or after reading the answer), then [`NEXT`];
/// checks that one answer comes back, then the answer to `NEXT` or a clean close, and nothing
/// else. Returns whether the connection served `NEXT`.
fn check(srv: &TestServer, kind: &Kind, framing: &str, late: bool) -> bool {
    let (_, header, body) = bodies()
        .into_iter()
        .find(|(name, ..)| *name == framing)
        .unwrap();
    let what = format!(
        "{} ({framing} body{})",
        kind.name,
        if late { ", sent after the answer" } else { "" }
    );
    let head = format!(
        "{} {} HTTP/1.1\r\nHost: x\r\n{}{}\r\n",
        kind.method, kind.target, kind.headers, header
    );
    let mut c = srv.connect();
    c.send(head.as_bytes());
    if !late {
        c.send(&body);
        c.send(NEXT);
    }
    let first = c
        .try_read_response(kind.method == "HEAD")
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(first.status, kind.status, "{what}: first answer");
    if late {
        // The client may already have gone when the answer says it will close.
        let _ = std::io::Write::write_all(&mut c.stream, &body);
        let _ = std::io::Write::write_all(&mut c.stream, NEXT);
    }
    match c.try_read_response(false) {
        Ok(next) => {
            assert_eq!(
                next.status, 204,
                "{what}: the second answer was made from the body's bytes"
            );
            assert!(
                !first.says_close(),
                "{what}: answered after Connection: close"
            );
            assert_nothing_more(&mut c, &what);
            true
        }
        Err(e) => {
            assert!(
                e.starts_with("connection closed while reading status line; have \"\""),
                "{what}: {e}"
            );
            false
        }
    }
}

/// Nothing follows (the connection is idle, or closes).
fn assert_nothing_more(c: &mut Client, what: &str) {
    c.set_read_timeout(Duration::from_millis(30));
    let rest = match c.try_read_to_close() {
        Ok(rest) => rest,
        Err(_) => c.buffered().to_vec(), // still open and silent
    };
    assert!(
        rest.is_empty(),
        "{what}: more after the second answer: {:?}",
        String::from_utf8_lossy(&rest)
    );
}

fn etag(srv: &TestServer) -> String {
    let r = srv.get("/small.txt");
    r.header("etag").expect("an ETag").to_string()
}

#[test]
fn no_answer_is_ever_made_from_an_unread_body() {
    let root = scratch_root("no_answer_is_ever_made_from_an_unread_body");
    let dir = root.path().to_owned();
    let srv = TestServer::with(|c| c.root = dir);
    let etag = etag(&srv);
    let mut served = Vec::new();
    for kind in kinds(&etag) {
        for (framing, ..) in bodies() {
            for late in [false, true] {
                if check(&srv, &kind, framing, late) {
                    served.push(format!("{} {framing} {late}", kind.name));
                }
            }
        }
    }
    // Throwing the body away keeps the connection: every kind serves the next request.
    assert_eq!(served.len(), kinds(&etag).len() * 4, "served: {served:?}");
    srv.assert_alive();
}

#[test]
fn a_body_split_at_every_byte_after_a_sendfile_answer() {
    let root = scratch_root("a_body_split_at_every_byte_after_a_sendfile_answer");
    let dir = root.path().to_owned();
    let srv = TestServer::with(|c| c.root = dir);
    for (framing, header, body) in bodies() {
        let mut all = format!("GET /big.bin HTTP/1.1\r\nHost: x\r\n{header}\r\n").into_bytes();
        all.extend_from_slice(&body);
        all.extend_from_slice(NEXT);
        let mut c = srv.connect();
        c.send_bytewise(&all, Duration::ZERO);
        let first = c.read_response();
        assert_eq!((first.status, first.body.len()), (200, BIG), "{framing}");
        let next = c.read_response();
        assert_eq!(next.status, 204, "{framing}: smuggled");
        assert_nothing_more(&mut c, framing);
    }
}

#[test]
fn a_client_that_waits_for_100_continue_is_closed_after_the_answer() {
    // It may never send the body it announced: where the next request begins is unknowable.
    let root = scratch_root("a_client_that_waits_for_100_continue_is_closed_after_the_answer");
    let dir = root.path().to_owned();
    let srv = TestServer::with(|c| c.root = dir);
    let mut c = srv.connect();
    c.send(
        b"GET /big.bin HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 39\r\n\r\n",
    );
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert!(r.says_close());
    c.send(HIDDEN);
    let rest = c.try_read_to_close().unwrap_or_default();
    assert!(!String::from_utf8_lossy(&rest).contains("418"), "{rest:?}");
}

#[test]
fn a_broken_unread_body_closes_after_the_answer() {
    let root = scratch_root("a_broken_unread_body_closes_after_the_answer");
    let dir = root.path().to_owned();
    let srv = TestServer::with(|c| c.root = dir);
    for target in ["/big.bin", "/small.txt", "/-/bytes/70000", "/dir/"] {
        let mut c = srv.connect();
        c.send(
            format!("GET {target} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
                .as_bytes(),
        );
        c.send(HIDDEN);
        let r = c.read_response();
        assert_eq!(r.status, 200, "{target}");
        let rest = c.try_read_to_close().unwrap_or_default();
        assert!(
            rest.is_empty(),
            "{target}: {:?}",
            String::from_utf8_lossy(&rest)
        );
    }
}

#[test]
fn an_unread_body_over_max_body_closes_after_the_answer() {
    let root = scratch_root("an_unread_body_over_max_body_closes_after_the_answer");
    let dir = root.path().to_owned();
    let srv = TestServer::with(|c| {
        c.root = dir;
        c.max_body = 100;
    });
    let mut c = srv.connect();
    let mut req =
        b"GET /big.bin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..4 {
        req.extend_from_slice(format!("{:x}\r\n", HIDDEN.len()).as_bytes());
        req.extend_from_slice(HIDDEN);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    req.extend_from_slice(NEXT);
    c.send(&req);
    assert_eq!(c.read_response().status, 200);
    let rest = c.try_read_to_close().unwrap_or_default();
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
}
