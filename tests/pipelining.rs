//! Requests split anywhere across reads, many requests in one read, HEAD/GET pipelines, and
//! half-closed clients (SPEC §3: "both are normal, not edge cases").

mod common;

use std::thread;
use std::time::Duration;

use common::*;

/// A response with the `Date` header removed, for comparing answers across connections.
fn comparable(r: &Response) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let headers = r
        .headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("date"))
        .cloned()
        .collect();
    (r.status, headers, r.body.clone())
}

#[test]
fn get_one_byte_at_a_time() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send_bytewise(
        b"GET /-/plaintext HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bytewise\r\nAccept: */*\r\n\r\n",
        Duration::from_millis(1),
    );
    let r = c.read_response();
    r.assert_framed();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"Hello, World!");
    // Still keep-alive and in sync.
    c.send_bytewise(get("/-/bytes/7").as_bytes(), Duration::ZERO);
    assert_eq!(c.read_response().body, b"ABCDEFG");
}

#[test]
fn post_bodies_one_byte_at_a_time() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send_bytewise(
        &post("/-/echo", "text/plain", b"byte by byte body"),
        Duration::from_millis(1),
    );
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"byte by byte body");
    c.send_bytewise(
        b"POST /-/echo HTTP/1.1\r\nHost: x\r\nContent-Type: a/b\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nabcd\r\n2\r\nef\r\n0\r\nT: v\r\n\r\n",
        Duration::from_millis(1),
    );
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("a/b"));
    assert_eq!(r.body, b"abcdef");
}

fn split_everywhere(srv: &TestServer, req: &[u8]) {
    let mut reference = srv.connect();
    let expected = comparable(&reference.request(req));
    assert_eq!(expected.0, 200);
    for at in 1..req.len() {
        let mut c = srv.connect();
        // Give the server a chance to read the first part on its own.
        c.send_split(req, &[at], Duration::from_micros(300));
        let r = c.read_response();
        assert_eq!(comparable(&r), expected, "split at {at}");
        assert!(c.buffered().is_empty(), "split at {at}: extra bytes");
    }
}

#[test]
fn get_split_at_every_offset() {
    let srv = TestServer::start();
    split_everywhere(
        &srv,
        b"\r\nGET /-/bytes/100 HTTP/1.1\r\nHost: example.com\r\nX-Some: value\r\n\r\n",
    );
}

#[test]
fn chunked_post_split_at_every_offset() {
    let srv = TestServer::start();
    split_everywhere(
        &srv,
        b"POST /-/echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: x\r\n\r\n",
    );
}

#[test]
fn content_length_post_split_at_every_offset() {
    let srv = TestServer::start();
    split_everywhere(
        &srv,
        &post("/-/echo", "application/json", br#"{"split":"everywhere"}"#),
    );
}

fn pipelined_bytes(srv: &TestServer, n: usize) {
    let mut c = srv.connect();
    let mut all = Vec::new();
    for i in 0..n {
        all.extend_from_slice(get(&format!("/-/bytes/{i}")).as_bytes());
    }
    c.send(&all);
    for i in 0..n {
        let r = c.read_response();
        assert_eq!(r.status, 200, "response {i}");
        assert_eq!(
            r.content_length(),
            Some(i as u64),
            "response {i} out of order"
        );
        assert_eq!(r.body, pattern(i), "response {i}");
    }
    // Nothing more, and the connection is still open.
    assert!(c.buffered().is_empty());
    assert_eq!(c.request(get("/-/plaintext").as_bytes()).status, 200);
}

#[test]
fn ten_pipelined_requests_in_one_write() {
    let srv = TestServer::start();
    pipelined_bytes(&srv, 10);
}

#[test]
fn two_hundred_pipelined_requests_in_one_write() {
    let srv = TestServer::start();
    pipelined_bytes(&srv, 200);
}

#[test]
fn pipelined_statuses_in_order() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let mut all = Vec::new();
    for code in 200..300 {
        all.extend_from_slice(get(&format!("/-/status/{code}")).as_bytes());
    }
    c.send(&all);
    for code in 200..300u16 {
        let r = c.read_response();
        assert_eq!(r.status, code, "out of order");
    }
}

#[test]
fn pipelined_mix_of_head_and_get() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let plan: Vec<(bool, String)> = vec![
        (true, "/-/bytes/100".into()),
        (false, "/-/bytes/5".into()),
        (true, "/-/plaintext".into()),
        (true, "/-/stream/4".into()),
        (false, "/-/stream/2".into()),
        (true, "/-/json".into()),
        (false, "/-/json".into()),
        (true, "/-/status/204".into()),
        (false, "/-/status/304".into()),
        (true, "/-/status/201".into()),
        (false, "/-/bytes/3".into()),
        (true, "/-/nope".into()),
        (false, "/-/plaintext".into()),
    ];
    let mut all = Vec::new();
    for (is_head, path) in &plan {
        let req = if *is_head { head(path) } else { get(path) };
        all.extend_from_slice(req.as_bytes());
    }
    c.send(&all);
    let expect: Vec<(u16, &[u8])> = vec![
        (200, b""),
        (200, b"ABCDE"),
        (200, b""),
        (200, b""),
        (200, b"{\"chunk\":0}\n{\"chunk\":1}\n"),
        (200, b""),
        (200, br#"{"message":"Hello, World!"}"#),
        (204, b""),
        (304, b""),
        (201, b""),
        (200, b"ABC"),
        (404, b""),
        (200, b"Hello, World!"),
    ];
    for (i, ((is_head, path), (status, body))) in plan.iter().zip(expect).enumerate() {
        let r = c.read_response_for(*is_head);
        assert_eq!(r.status, status, "#{i} {path}");
        assert_eq!(r.body, body, "#{i} {path}");
    }
    assert!(c.buffered().is_empty());
    c.assert_silent_for(Duration::from_millis(100));
}

#[test]
fn pipelined_request_after_body() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let mut all = post("/-/echo", "text/plain", b"first");
    all.extend_from_slice(
        b"POST /-/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nsecond\r\n0\r\n\r\n",
    );
    all.extend_from_slice(get("/-/bytes/2").as_bytes());
    c.send(&all);
    assert_eq!(c.read_response().body, b"first");
    assert_eq!(c.read_response().body, b"second");
    assert_eq!(c.read_response().body, b"AB");
}

#[test]
fn half_close_after_request_still_gets_response() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(get("/-/plaintext").as_bytes());
    c.shutdown_write();
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"Hello, World!");
    c.assert_closed();
}

#[test]
fn half_close_after_large_response_request() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(get("/-/bytes/3000000").as_bytes());
    c.shutdown_write();
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), 3_000_000);
    assert!(r.body == pattern(3_000_000));
    c.assert_closed();
}

#[test]
fn half_close_after_pipelined_requests() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let mut all = Vec::new();
    for i in 1..=5 {
        all.extend_from_slice(get(&format!("/-/bytes/{i}")).as_bytes());
    }
    all.extend_from_slice(get("/-/stream/3").as_bytes());
    all.extend_from_slice(&post("/-/echo", "x/y", b"last"));
    c.send(&all);
    c.shutdown_write();
    for i in 1..=5 {
        assert_eq!(c.read_response().body, pattern(i));
    }
    assert_eq!(c.read_response().chunks.len(), 3);
    assert_eq!(c.read_response().body, b"last");
    c.assert_closed();
}

#[test]
fn half_close_during_delay() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(get("/-/delay/200").as_bytes());
    c.shutdown_write();
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"Hello, World!");
    c.assert_closed();
}

#[test]
fn half_close_mid_request_closes_quietly() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(b"GET /-/plaintext HTTP/1.1\r\nHo");
    c.shutdown_write();
    // The request can never complete: close (an error answer would also be acceptable, but
    // no 200 may be produced from half a request).
    let rest = c.read_to_close();
    assert!(
        !String::from_utf8_lossy(&rest).contains("200 OK"),
        "{:?}",
        String::from_utf8_lossy(&rest)
    );
    srv.assert_alive();
}

#[test]
fn pipelining_without_reading_applies_backpressure() {
    // 2000 requests for 10 KB each = 20 MB of answers the client does not read while it
    // writes: the server must stop reading, not buffer without bound, and resume afterwards.
    // (In torture mode a sixteenth, 1.25 MB, still far beyond its tiny socket buffers.)
    let srv = TestServer::start();
    let mut c = srv.connect();
    let n = scaled(2000);
    let mut all = Vec::new();
    for _ in 0..n {
        all.extend_from_slice(get("/-/bytes/10000").as_bytes());
    }
    let mut writer = c.stream.try_clone().unwrap();
    let t = thread::spawn(move || {
        use std::io::Write;
        writer.write_all(&all).unwrap();
    });
    thread::sleep(Duration::from_millis(300));
    let expected = pattern(10_000);
    for i in 0..n {
        let r = c.read_response();
        assert_eq!(r.status, 200, "#{i}");
        assert!(r.body == expected, "#{i}: wrong body");
    }
    t.join().unwrap();
    assert!(c.buffered().is_empty());
}

#[test]
fn large_and_streamed_responses_pipelined() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let mut all = Vec::new();
    all.extend_from_slice(get("/-/bytes/500000").as_bytes());
    all.extend_from_slice(get("/-/stream/1000").as_bytes());
    all.extend_from_slice(get("/-/bytes/70000").as_bytes());
    all.extend_from_slice(get("/-/stream/1").as_bytes());
    c.send(&all);
    assert!(c.read_response().body == pattern(500_000));
    let s = c.read_response();
    assert_eq!(s.chunks.len(), 1000);
    assert_eq!(s.chunks[999], b"{\"chunk\":999}\n");
    assert!(c.read_response().body == pattern(70_000));
    assert_eq!(c.read_response().body, b"{\"chunk\":0}\n");
}

#[test]
fn request_arriving_during_a_delay_is_served_after_it() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(get("/-/delay/300").as_bytes());
    thread::sleep(Duration::from_millis(100));
    c.send(get("/-/bytes/4").as_bytes());
    let r = c.read_response();
    assert_eq!(r.body, b"Hello, World!");
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"ABCD");
}

#[test]
fn request_arriving_during_a_large_response_is_served_after_it() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(get("/-/bytes/20000000").as_bytes());
    thread::sleep(Duration::from_millis(100));
    c.send(get("/-/bytes/5").as_bytes());
    thread::sleep(Duration::from_millis(50));
    c.send(head("/-/json").as_bytes());
    let r = c.read_response();
    assert_eq!(r.body.len(), 20_000_000);
    assert!(r.body == pattern(20_000_000));
    assert_eq!(c.read_response().body, b"ABCDE");
    let h = c.read_head_response();
    assert_eq!(h.content_length(), Some(27));
    c.assert_silent_for(Duration::from_millis(100));
}

#[test]
fn pipelined_head_of_delay_then_get() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let mut all = head("/-/delay/100").into_bytes();
    all.extend_from_slice(get("/-/delay/50").as_bytes());
    all.extend_from_slice(head("/-/bytes/9").as_bytes());
    all.extend_from_slice(get("/-/bytes/9").as_bytes());
    c.send(&all);
    let h = c.read_head_response();
    assert_eq!(h.status, 200);
    assert_eq!(h.content_length(), Some(13));
    assert_eq!(c.read_response().body, b"Hello, World!");
    assert_eq!(c.read_head_response().content_length(), Some(9));
    assert_eq!(c.read_response().body, b"ABCDEFGHI");
}

#[test]
fn connection_close_stops_the_pipeline() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let mut all = get("/-/bytes/1").into_bytes();
    all.extend_from_slice(b"GET /-/bytes/2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    all.extend_from_slice(get("/-/bytes/3").as_bytes());
    c.send(&all);
    assert_eq!(c.read_response().body, b"A");
    let r = c.read_response();
    assert_eq!(r.body, b"AB");
    assert!(r.says_close());
    // Nothing after the close, and a clean close despite the unread request.
    let rest = c
        .try_read_to_close()
        .expect("reset instead of a clean close");
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
}
