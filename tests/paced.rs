//! Paced bodies on the reactor's timer (issue 12): `/-/drip` spreads its bytes over its
//! duration, `/-/sse` sends its events at its interval, many run at once on one thread, and a
//! client that leaves mid-body frees its connection at once.

mod common;

use std::io::Read;
use std::thread;
use std::time::{Duration, Instant};

use common::*;

/// Reads from `c` until `n` bytes past the head's end have come, noting when each read
/// returned: (time since `t0`, body bytes so far).
fn body_arrivals(c: &mut Client, t0: Instant, n: usize) -> (String, Vec<(Duration, usize)>) {
    let mut all = Vec::new();
    let mut arrivals = Vec::new();
    let mut buf = [0u8; 4096];
    let mut head_end = None;
    loop {
        let got = c.stream.read(&mut buf).expect("read");
        assert!(got > 0, "closed early: {:?}", String::from_utf8_lossy(&all));
        all.extend_from_slice(&buf[..got]);
        if head_end.is_none() {
            head_end = all.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
        }
        if let Some(h) = head_end {
            arrivals.push((t0.elapsed(), all.len() - h));
            if all.len() - h >= n {
                let head = String::from_utf8_lossy(&all[..h]).into_owned();
                return (head, arrivals);
            }
        }
    }
}

#[test]
fn drip_spreads_its_bytes_over_its_duration() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let t0 = Instant::now();
    c.send(get("/-/drip?bytes=5&duration=1000").as_bytes());
    let (head, arrivals) = body_arrivals(&mut c, t0, 5);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("Content-Length: 5\r\n"), "{head}");
    // Byte k is due at 200·(k+1) ms: the first not before 200 ms, the last not before 1 s,
    // and (generously, on a shared machine) none more than 400 ms late.
    let mut seen = 0;
    for &(at, so_far) in &arrivals {
        for k in seen..so_far {
            let due = Duration::from_millis(200 * (k as u64 + 1));
            assert!(
                at + Duration::from_millis(5) >= due,
                "byte {k} at {at:?}: {arrivals:?}"
            );
            assert!(
                at < due + Duration::from_millis(400),
                "byte {k} late: {arrivals:?}"
            );
        }
        seen = so_far;
    }
    assert!(arrivals.len() >= 4, "the bytes came together: {arrivals:?}");
    // The connection goes on: the next request is answered.
    let r = c.request(get("/-/plaintext").as_bytes());
    assert_eq!(r.body, b"Hello, World!");
}

#[test]
fn drip_delay_code_head_and_zero_duration() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let t0 = Instant::now();
    let r = c.request(get("/-/drip?bytes=3&duration=0&delay=300&code=503").as_bytes());
    assert!(
        t0.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!((r.status, r.body.as_slice()), (503, &b"***"[..]));
    c.send(head("/-/drip?bytes=100&duration=50").as_bytes());
    let r = c.read_head_response();
    assert_eq!((r.status, r.content_length()), (200, Some(100)));
    assert!(r.body.is_empty());
    let r = c.request(get("/-/drip?bytes=0").as_bytes());
    assert_eq!((r.status, r.body.len()), (200, 0));
    let r = c.request(get("/-/drip?bytes=200000&duration=100").as_bytes());
    assert_eq!(r.body, vec![b'*'; 200_000]);
}

#[test]
fn bad_pace_parameters_are_400_with_a_reason() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    for (path, why) in [
        ("/-/drip?bytes=x", "bytes must be"),
        ("/-/drip?bytes=10485761", "bytes must be"),
        ("/-/drip?duration=60001", "duration must be"),
        ("/-/drip?delay=-1", "delay must be"),
        ("/-/drip?code=199", "code must be"),
        ("/-/drip?code=600", "code must be"),
        ("/-/sse?count=100001", "count must be"),
        ("/-/sse?interval=1.5", "interval must be"),
    ] {
        let r = c.request(get(path).as_bytes());
        assert_eq!(r.status, 400, "{path}");
        assert!(r.body_str().starts_with(why), "{path}: {}", r.body_str());
    }
    // Still in step: a 400 for a bad parameter keeps the connection.
    assert_eq!(c.request(get("/-/plaintext").as_bytes()).status, 200);
    let r = c.request(b"POST /-/drip HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(r.status, 405);
}

#[test]
fn sse_sends_each_event_at_its_interval_in_its_own_chunk() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let t0 = Instant::now();
    c.send(get("/-/sse?count=3&interval=300").as_bytes());
    let r = c.read_response();
    let took = t0.elapsed();
    assert_eq!(r.status, 200);
    assert!(r.is_chunked());
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    let body = r.body_str();
    let events: Vec<&str> = body.split_terminator("\n\n").collect();
    assert_eq!(events.len(), 3, "{body}");
    for (i, e) in events.iter().enumerate() {
        assert!(
            e.starts_with(&format!("id: {i}\nevent: ping\ndata: {{\"id\":{i},")),
            "{e}"
        );
    }
    // Events at 0, 300 and 600 ms.
    assert!(took >= Duration::from_millis(600), "{took:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
    assert_eq!(c.request(get("/-/plaintext").as_bytes()).status, 200);
}

/// Two hundred drips at once on the one reactor thread: they overlap rather than queue.
#[test]
fn many_drips_run_at_once() {
    let _ = spindle::listener::raise_nofile_limit();
    let srv = TestServer::start();
    let t0 = Instant::now();
    let mut clients: Vec<Client> = (0..200).map(|_| srv.connect()).collect();
    for c in &mut clients {
        c.send(get("/-/drip?bytes=4&duration=800").as_bytes());
    }
    for c in &mut clients {
        let r = c.read_response();
        assert_eq!(r.body, b"****");
    }
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(800), "{took:?}");
    assert!(
        took < Duration::from_secs(4),
        "200 drips of 0.8 s took {took:?}"
    );
}

/// A client that closes during a minute-long drip is gone from the server at once, not at
/// the drip's next piece (6 s later) when a write would fail.
#[test]
fn a_client_that_leaves_mid_drip_is_freed_at_once() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(get("/-/drip?bytes=10&duration=60000").as_bytes());
    let head = c.read_head_bytewise();
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    let open = |srv: &TestServer| srv.stats().count("connections_open");
    // This connection and the one asking for the stats.
    assert_eq!(open(&srv), 2);
    drop(c);
    let freed = within(Duration::from_secs(3), || open(&srv) == 1);
    let freed = freed.unwrap_or_else(|| panic!("still {} open after 3 s", open(&srv)));
    assert!(freed < Duration::from_secs(1), "freed after {freed:?}");
}

/// A paced body to a client that stops reading is still bounded by the write timeout.
#[test]
fn a_drip_nobody_reads_meets_the_write_timeout() {
    let srv = TestServer::with(|c| c.write_timeout = Duration::from_millis(500));
    let mut c = Client::connect_narrow(srv.addr, 4096);
    c.send(get("/-/drip?bytes=10485760&duration=2000").as_bytes());
    thread::sleep(Duration::from_millis(200));
    let open = |srv: &TestServer| srv.stats().count("connections_open");
    let closed = within(Duration::from_secs(6), || open(&srv) == 1);
    assert!(
        closed.is_some(),
        "a stalled drip was never cut: {} open",
        open(&srv)
    );
}
