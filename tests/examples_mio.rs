//! examples/mio_echo.rs and examples/mio_http.rs, run as the learner would run them (the
//! binaries `cargo test` builds), over raw sockets.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use common::{get, head, scaled, spawn_example, Spawned, READ_TIMEOUT};

fn start(name: &str) -> Spawned {
    let s = spawn_example(name, &["127.0.0.1:0"]);
    assert_eq!(s.first_line, format!("listening on http://{}/\n", s.addr));
    assert!(
        !s.addr.ends_with(":0"),
        "printed the requested port, not the bound one"
    );
    s
}

fn raw(s: &Spawned) -> TcpStream {
    let c = TcpStream::connect(&s.addr).expect("connect");
    c.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    c.set_write_timeout(Some(READ_TIMEOUT)).unwrap();
    c.set_nodelay(true).unwrap();
    c
}

/// The server's resident set, in KiB.
fn vm_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"));
    let kib = line
        .and_then(|l| l.trim().strip_suffix("kB"))
        .expect("VmRSS");
    kib.trim().parse().expect("VmRSS number")
}

// ---- mio_echo ----

#[test]
fn echo_serves_50_concurrent_clients_their_own_bytes() {
    let s = start("mio_echo");
    let clients: Vec<_> = (0..50)
        .map(|i| {
            let mut c = raw(&s);
            thread::spawn(move || {
                let mine: Vec<u8> = format!("client {i};").repeat(500).into_bytes();
                // Three writes, so that the server sees the clients interleaved.
                for part in mine.chunks(mine.len() / 3 + 1) {
                    c.write_all(part).unwrap();
                    thread::sleep(Duration::from_millis(5));
                }
                let mut back = vec![0; mine.len()];
                c.read_exact(&mut back).unwrap();
                assert!(back == mine, "client {i} got someone else's bytes");
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
}

#[test]
fn echo_returns_4_mib_intact_while_the_client_writes_and_reads_at_once() {
    let s = start("mio_echo");
    let data: Vec<u8> = (0..scaled(4 << 20)).map(|i| (i * 7 % 251) as u8).collect();
    let mut c = raw(&s);
    let mut w = c.try_clone().unwrap();
    let sent = data.clone();
    // Written from a thread: neither side's buffers can hold 4 MiB, so a client that wrote it
    // all before reading would deadlock against a server that (rightly) stops reading.
    let writer = thread::spawn(move || {
        w.write_all(&sent).unwrap();
        w.shutdown(Shutdown::Write).unwrap();
    });
    let mut back = Vec::new();
    c.read_to_end(&mut back).expect("echo, then EOF");
    writer.join().unwrap();
    assert_eq!(back.len(), data.len());
    assert!(back == data, "the echo differs");
}

#[test]
fn echo_answers_bytes_sent_one_at_a_time() {
    let s = start("mio_echo");
    let mut c = raw(&s);
    for &b in b"one byte at a time, each echoed before the next is sent" {
        c.write_all(&[b]).unwrap();
        let mut one = [0u8];
        c.read_exact(&mut one).unwrap();
        assert_eq!(one[0], b);
    }
}

#[test]
fn echo_half_close_gets_everything_back_then_eof() {
    let s = start("mio_echo");
    let mut c = raw(&s);
    let data: Vec<u8> = (0..64 * 1024).map(|i| (i % 253) as u8).collect();
    c.write_all(&data).unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let mut back = Vec::new();
    c.read_to_end(&mut back)
        .expect("all bytes, then EOF (not a reset or a timeout)");
    assert!(back == data, "got {} of {} bytes", back.len(), data.len());
}

// ---- mio_http ----

fn hello(r: &common::Response) {
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"Hello, World!\n");
}

#[test]
fn http_get_head_and_404() {
    let s = start("mio_http");
    let mut c = s.connect();
    let r = c.request(get("/").as_bytes());
    hello(&r);
    assert_eq!(r.header("content-length"), Some("14"));
    c.send(head("/").as_bytes());
    let r = c.read_head_response();
    assert_eq!((r.status, r.header("content-length")), (200, Some("14")));
    // No body came after HEAD's head: the next response starts right away.
    let r = c.request(get("/nope").as_bytes());
    assert_eq!(r.status, 404);
    assert!(!r.says_close(), "a 404 keeps the connection");
    hello(&c.request(get("/").as_bytes()));
}

#[test]
fn http_head_split_at_every_byte_is_answered() {
    let s = start("mio_http");
    let mut c = s.connect();
    let req = b"GET / HTTP/1.1\r\nHost: test\r\nUser-Agent: bytewise\r\n\r\n";
    c.send_bytewise(req, Duration::from_millis(2));
    hello(&c.read_response());
    // And again on the same connection: the search state was reset after the first head.
    c.send_bytewise(req, Duration::ZERO);
    hello(&c.read_response());
}

#[test]
fn http_100_pipelined_requests_get_100_responses_in_order() {
    let s = start("mio_http");
    let mut c = s.connect();
    let mut all = String::new();
    for i in 0..100 {
        all += &get(if i % 3 == 0 { "/missing" } else { "/" });
    }
    c.send(all.as_bytes());
    for i in 0..100 {
        let r = c.read_response();
        assert_eq!(r.status, if i % 3 == 0 { 404 } else { 200 }, "response {i}");
    }
    hello(&c.request(get("/").as_bytes()));
}

#[test]
fn http_client_that_pipelines_but_never_reads_stays_bounded() {
    let s = start("mio_http");
    let pid = s.child.id();
    let before = vm_rss_kib(pid);
    // 200 000 requests (3.6 MB) would be some 16 MB of responses if the server kept parsing
    // while nobody reads them; with its 64 KiB high-water mark it stops reading instead.
    let hog = raw(&s);
    let mut w = hog.try_clone().unwrap();
    let writer = thread::spawn(move || {
        let batch = "GET / HTTP/1.1\r\n\r\n".repeat(1000);
        for _ in 0..200 {
            if w.write_all(batch.as_bytes()).is_err() {
                return; // unblocked by the shutdown below, or timed out: both fine
            }
        }
    });
    let until = Instant::now() + Duration::from_secs(2);
    let mut peak = 0;
    while Instant::now() < until {
        peak = peak.max(vm_rss_kib(pid));
        thread::sleep(Duration::from_millis(50));
    }
    // Meanwhile another client is served.
    hello(&s.connect().request(get("/").as_bytes()));
    let grown = peak.saturating_sub(before);
    eprintln!("VmRSS {before} KiB at start, peak {peak} KiB");
    assert!(
        grown < 8 * 1024,
        "VmRSS grew by {grown} KiB (from {before} KiB)"
    );
    hog.shutdown(Shutdown::Both).unwrap();
    writer.join().unwrap();
}

#[test]
fn http_head_over_8_kib_is_431_and_closes() {
    let s = start("mio_http");
    let mut c = s.connect();
    let big = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(9000));
    c.send(big.as_bytes());
    let r = c.read_response();
    assert_eq!(r.status, 431);
    assert!(r.says_close());
    c.assert_closed();
    // A head just under the limit is fine.
    let mut c = s.connect();
    let fits = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(8000));
    hello(&c.request(fits.as_bytes()));
}

#[test]
fn http_garbage_is_400_and_closes() {
    let s = start("mio_http");
    for garbage in [&b"NOT HTTP AT ALL\r\n\r\n"[..], b"\x00\x01\x02\xff\r\n\r\n"] {
        let mut c = s.connect();
        c.send(garbage);
        let r = c.read_response();
        assert_eq!(r.status, 400, "for {garbage:?}");
        c.assert_closed();
    }
}

#[test]
fn http_keep_alive_rules() {
    let s = start("mio_http");
    // Connection: close.
    let mut c = s.connect();
    let r = c.request(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
    hello(&r);
    assert!(r.says_close());
    c.assert_closed();
    // HTTP/1.0 closes by default...
    let mut c = s.connect();
    let r = c.request(b"GET / HTTP/1.0\r\n\r\n");
    hello(&r);
    c.assert_closed();
    // ...and stays open when asked.
    let mut c = s.connect();
    let ka = b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    let r = c.request(ka);
    hello(&r);
    assert_eq!(r.header("connection"), Some("keep-alive"));
    hello(&c.request(ka));
    // HTTP/1.1 stays open by default.
    let mut c = s.connect();
    hello(&c.request(get("/").as_bytes()));
    hello(&c.request(get("/").as_bytes()));
    c.assert_silent_for(Duration::from_millis(100));
}

#[test]
fn http_request_with_a_body_is_501_and_closes() {
    let s = start("mio_http");
    let bodies: [&[u8]; 2] = [
        b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    ];
    for req in bodies {
        let mut c = s.connect();
        c.send(req);
        let r = c.read_response();
        assert_eq!(r.status, 501, "for {:?}", String::from_utf8_lossy(req));
        c.assert_closed();
    }
    // Content-Length: 0 is no body.
    let mut c = s.connect();
    let r = c.request(b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(r.status, 404);
}

#[test]
fn http_refusal_reaches_a_client_still_sending_its_body() {
    // Closing with the body unread sends a reset: the client's writes fail, and a reset can
    // also destroy a response not yet read (RFC 9112 §9.6). The server shuts its write side
    // and reads on (lingers) instead, so the whole body goes in and the 501 comes out.
    let s = start("mio_http");
    let mut c = s.connect();
    let body = vec![b'x'; scaled(4 << 20)];
    c.send(format!("POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes());
    let mut w = c.stream.try_clone().unwrap();
    let writer = thread::spawn(move || w.write_all(&body).is_ok());
    thread::sleep(Duration::from_millis(300)); // the response (and a reset, if any) arrive
    let r = c.read_response();
    assert_eq!(r.status, 501);
    assert!(
        writer.join().unwrap(),
        "the lingering server took the whole body"
    );
    c.stream.shutdown(Shutdown::Write).unwrap();
    c.assert_closed();
}
