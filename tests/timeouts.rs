//! Timeouts (SPEC §3, §6): request head (408 only to a client that sent something, and never
//! moved per byte), keep-alive idle, request body progress, stalled writes.

mod common;

use std::io::{Read, Write};
use std::thread;
use std::time::{Duration, Instant};

use common::*;

const SHORT: Duration = Duration::from_millis(300);

fn short_timeouts() -> TestServer {
    TestServer::with(|c| {
        c.request_timeout = SHORT;
        c.keep_alive_timeout = SHORT;
    })
}

fn assert_between(took: Duration, lo_ms: u64, hi_ms: u64, what: &str) {
    assert!(
        took >= Duration::from_millis(lo_ms) && took <= Duration::from_millis(hi_ms),
        "{what} after {took:?}, expected {lo_ms}..{hi_ms} ms"
    );
}

#[test]
fn partial_head_gets_408_then_close() {
    let srv = short_timeouts();
    let mut c = srv.connect();
    let t = Instant::now();
    c.send(b"GET /-/plaintext HTTP/1.1\r\nHo");
    let r = c.read_response();
    let took = t.elapsed();
    r.assert_framed();
    assert_eq!(r.status, 408);
    assert!(r.says_close());
    assert_between(took, 250, 1500, "408");
    c.assert_closed();
    srv.assert_alive();
}

#[test]
fn silent_connection_is_closed_quietly() {
    let srv = short_timeouts();
    let mut c = srv.connect();
    let (res, took) = c.wait_read();
    assert_eq!(res.expect("expected a clean close"), 0, "sent something");
    assert!(c.buffered().is_empty(), "{:?}", c.buffered());
    assert_between(took, 250, 1500, "close");
    srv.assert_alive();
}

#[test]
fn idle_keep_alive_is_closed_quietly() {
    let srv = short_timeouts();
    let mut c = srv.connect();
    let r = c.request(get("/-/plaintext").as_bytes());
    assert_eq!(r.status, 200);
    let (res, took) = c.wait_read();
    assert_eq!(res.expect("expected a clean close"), 0, "sent something");
    assert!(c.buffered().is_empty(), "{:?}", c.buffered());
    assert_between(took, 250, 1500, "idle close");
}

#[test]
fn head_deadline_does_not_move_per_byte() {
    let srv = TestServer::with(|c| c.request_timeout = Duration::from_millis(500));
    let mut c = srv.connect();
    let req = b"GET /-/plaintext HTTP/1.1\r\nHost: x\r\nX-Slow: trickle\r\n\r\n";
    let mut writer = c.stream.try_clone().unwrap();
    let t = Instant::now();
    let trickle = thread::spawn(move || {
        for b in req.iter() {
            if writer.write_all(&[*b]).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(100));
        }
    });
    let r = c.read_response();
    let took = t.elapsed();
    assert_eq!(r.status, 408);
    assert_between(took, 450, 1000, "408");
    assert!(took < Duration::from_millis(100) * req.len() as u32 / 2);
    c.assert_closed();
    drop(c);
    trickle.join().unwrap();
}

#[test]
fn idle_and_request_timeouts_are_distinct() {
    // Long request timeout, short idle timeout: the idle one governs after a response.
    let srv = TestServer::with(|c| {
        c.request_timeout = Duration::from_secs(5);
        c.keep_alive_timeout = SHORT;
    });
    let mut c = srv.connect();
    assert_eq!(c.request(get("/-/plaintext").as_bytes()).status, 200);
    let (res, took) = c.wait_read();
    assert_eq!(res.unwrap(), 0);
    assert_between(took, 250, 1500, "idle close");

    // Short request timeout, long idle timeout: an idle connection survives the request one.
    let srv = TestServer::with(|c| {
        c.request_timeout = SHORT;
        c.keep_alive_timeout = Duration::from_secs(5);
    });
    let mut c = srv.connect();
    assert_eq!(c.request(get("/-/plaintext").as_bytes()).status, 200);
    c.assert_silent_for(Duration::from_millis(700));
    assert_eq!(c.request(get("/-/plaintext").as_bytes()).status, 200);
}

#[test]
fn partial_second_request_gets_408() {
    let srv = TestServer::with(|c| {
        c.request_timeout = SHORT;
        c.keep_alive_timeout = Duration::from_secs(5);
    });
    let mut c = srv.connect();
    assert_eq!(c.request(get("/-/plaintext").as_bytes()).status, 200);
    let t = Instant::now();
    c.send(b"GET /-/plain");
    let r = c.read_response();
    assert_eq!(r.status, 408);
    assert_between(t.elapsed(), 250, 1500, "408");
    c.assert_closed();
}

#[test]
fn request_timeout_restarts_for_each_request() {
    // Several quick requests over a period longer than the request timeout all succeed.
    let srv = short_timeouts();
    let mut c = srv.connect();
    for _ in 0..6 {
        assert_eq!(c.request(get("/-/plaintext").as_bytes()).status, 200);
        thread::sleep(Duration::from_millis(120));
    }
}

#[test]
fn stalled_body_gets_408() {
    let srv = short_timeouts();
    let mut c = srv.connect();
    let t = Instant::now();
    c.send(b"POST /-/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello");
    let r = c.read_response();
    assert_eq!(r.status, 408);
    assert!(r.says_close());
    assert_between(t.elapsed(), 250, 1500, "408");
    c.assert_closed();
}

#[test]
fn slow_body_making_progress_is_not_cut() {
    // 12 pieces, 100 ms apart: 1.2 s in all, but never 300 ms without progress.
    let srv = short_timeouts();
    let mut c = srv.connect();
    c.send(b"POST /-/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n");
    c.send_slowly(b"abcdefghijkl", 1, Duration::from_millis(100));
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"abcdefghijkl");
}

#[test]
fn delay_longer_than_request_timeout_is_answered() {
    let srv = short_timeouts();
    let mut c = srv.connect();
    let r = c.request(get("/-/delay/700").as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"Hello, World!");
}

#[test]
fn timeouts_are_counted() {
    let srv = short_timeouts();
    let before = srv.stats().count("timeouts");
    let mut quiet = srv.connect();
    let mut partial = srv.connect();
    partial.send(b"GET /");
    assert_eq!(quiet.wait_read().0.unwrap(), 0);
    assert_eq!(partial.read_response().status, 408);
    let after = srv.stats().count("timeouts");
    assert!(after >= before + 2, "timeouts {before} -> {after}");
}

/// Asks for `path` and never reads; returns once the write timeout has closed the connection
/// (within 3 s), with the client still connected on its side.
fn stall(srv: &TestServer, path: &str) -> Client {
    let before = srv.stats().count("timeouts");
    // A small receive buffer, or loopback would swallow megabytes before the stall. Shrunk
    // after connecting, so the window already offered still lets the server queue megabytes:
    // what the reset on timeout must throw away (see `stalled_write_is_closed`).
    let mut c = srv.connect();
    socket2::SockRef::from(&c.stream)
        .set_recv_buffer_size(4096)
        .unwrap();
    c.send(get(path).as_bytes());
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        thread::sleep(Duration::from_millis(100));
        let s = srv.stats();
        if s.count("connections_open") == 1 {
            assert!(s.count("timeouts") > before);
            return c;
        }
        assert!(
            Instant::now() < deadline,
            "the stalled connection for {path} is still open: {s:?}"
        );
    }
}

#[test]
fn stalled_write_is_closed() {
    let srv = TestServer::with(|c| c.write_timeout = SHORT);
    // 500 MB that the client never reads.
    let mut c = stall(&srv, "/-/bytes/500000000");
    // The client sees the end of the stream well before 500 MB, and at once: the server
    // resets rather than leaving the kernel to trickle its queued bytes out for minutes.
    let t = Instant::now();
    let mut total = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match c.stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n,
        }
    }
    assert!(total < 100_000_000, "read {total} bytes");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}

#[test]
fn slow_reader_making_progress_is_not_cut() {
    let srv = TestServer::with(|c| c.write_timeout = Duration::from_millis(400));
    let mut c = srv.connect();
    const N: usize = 12_000_000;
    c.send(get(&format!("/-/bytes/{N}")).as_bytes());
    // Read about 1 MB, pause 150 ms, repeat: slower than the server, never stalled 400 ms.
    let mut data = Vec::with_capacity(N + 1024);
    let mut buf = vec![0u8; 1 << 16];
    let mut since_pause = 0;
    let head_end = loop {
        let n = c.stream.read(&mut buf).expect("read");
        assert!(n > 0, "closed after {} bytes", data.len());
        data.extend_from_slice(&buf[..n]);
        since_pause += n;
        if since_pause >= 1 << 20 {
            thread::sleep(Duration::from_millis(150));
            since_pause = 0;
        }
        if let Some(p) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            if data.len() >= p + 4 + N {
                break p + 4;
            }
        }
    };
    assert!(data.starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert_eq!(data.len(), head_end + N);
    assert!(data[head_end..] == pattern(N)[..]);
}

#[test]
fn stalled_file_download_is_closed() {
    // The same for a file going out by sendfile: the descriptor must not be held for ever.
    let root = ScratchDir::new("stall");
    root.write("big.bin", vec![b'z'; scaled(32 << 20)]);
    let srv = TestServer::with(|c| {
        c.root = root.path().to_owned();
        c.write_timeout = SHORT;
    });
    stall(&srv, "/big.bin");
}
