//! Memory is bounded by design: a client that pipelines a flood of GETs for a 1 MiB file and
//! never reads cannot grow the server (measured on the binary, in a child process).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Child;
use std::time::{Duration, Instant};

fn rss_kib(child: &Child) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn a_client_that_pipelines_without_reading_cannot_grow_the_server() {
    let root = common::ScratchDir::new("memory");
    root.write("1m.bin", vec![7u8; 1 << 20]);
    let (mut child, addr) = common::spawn_binary(&[], root.path());
    let get = |path: &str| {
        let mut s = TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        got
    };
    // Warm up (the pool and the file cache reach their size), then the baseline.
    for _ in 0..5 {
        assert!(get("/1m.bin").starts_with(b"HTTP/1.1 200 OK"));
    }
    let before = rss_kib(&child);

    // The floods: 50 MB of pipelined GETs each — for the 1 MiB file, and for the small
    // `/-/plaintext` (whose answers would pile up fastest) — written for as long as the
    // server takes them (it stops reading once its output is backed up, so the writes soon
    // block), never read.
    let mut floods = Vec::new();
    let mut written = 0usize;
    for one in [
        &b"GET /1m.bin HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        b"GET /-/plaintext HTTP/1.1\r\nHost: x\r\n\r\n",
    ] {
        let flood = TcpStream::connect(&addr).unwrap();
        socket2::SockRef::from(&flood)
            .set_recv_buffer_size(4096)
            .unwrap();
        flood
            .set_write_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let chunk = one.repeat(1024);
        let mut sent = 0usize;
        let started = Instant::now();
        let mut w = &flood;
        while sent < 50_000_000 && started.elapsed() < Duration::from_secs(2) {
            match w.write(&chunk) {
                Ok(n) => sent += n,
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        written += sent;
        floods.push(flood);
    }
    std::thread::sleep(Duration::from_millis(300));
    let during = rss_kib(&child);
    // Meanwhile everyone else is served.
    let other = get("/1m.bin");
    assert!(other.starts_with(b"HTTP/1.1 200 OK"));
    assert_eq!(
        other.len() - (other.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4),
        1 << 20
    );
    let _ = child.kill();
    let _ = child.wait();
    eprintln!("flood wrote {written} B; RSS {before} KiB before, {during} KiB during");
    assert!(
        during < before + 8 * 1024,
        "RSS grew from {before} KiB to {during} KiB under a {written}-byte unread pipeline"
    );
}
