//! Slowloris: many clients trickling a head one byte at a time cannot hold the server. The head
//! deadline starts with the request and does not move per byte.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::TestServer;

#[test]
fn trickling_heads_get_408_at_the_deadline_and_others_are_served_meanwhile() {
    let srv = TestServer::with(|c| c.request_timeout = Duration::from_millis(800));
    let head = b"GET /-/plaintext HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    let mut slow: Vec<TcpStream> = (0..200)
        .map(|_| {
            let s = TcpStream::connect(srv.addr).unwrap();
            s.set_nodelay(true).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s
        })
        .collect();
    let started = Instant::now();
    // One byte per connection every 100 ms for 1.5 s, well past the 0.8 s deadline: the heads
    // never complete. Were the deadline moved by each byte, no 408 would come before ~2.3 s.
    let mut sent = 0;
    while started.elapsed() < Duration::from_millis(1500) {
        for s in slow.iter_mut() {
            let _ = s.write_all(&head[sent % head.len()..sent % head.len() + 1]);
        }
        sent += 1;
        // Meanwhile a normal request on a new connection is answered at once.
        let t = Instant::now();
        let r = srv.get("/-/plaintext");
        assert_eq!(r.status, 200);
        assert!(
            t.elapsed() < Duration::from_millis(300),
            "a normal request took {:?}",
            t.elapsed()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Every slow connection gets 408 and is closed, around the deadline (not per-byte later).
    for s in slow.iter_mut() {
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        assert!(
            got.starts_with(b"HTTP/1.1 408 "),
            "{:?}",
            String::from_utf8_lossy(&got)
        );
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(2000),
        "408s came only after {took:?}"
    );
    srv.assert_alive();
}
