//! The binary and its signals: SIGTERM finishes what is in flight, flushes the access log and
//! exits 0; a second signal stops at once with exit status 1.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Child;
use std::time::{Duration, Instant};

/// Starts the binary on port 0 and returns it with the address it printed.
fn start(extra: &[&str]) -> (Child, String) {
    common::spawn_binary(extra, &std::env::temp_dir())
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

/// Waits for the child to exit, at most `limit`.
fn wait(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let until = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("spindle did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_finishes_the_download_in_flight_and_flushes_the_log() {
    let log = std::env::temp_dir().join(format!("spindle-signal-log-{}", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let (mut child, addr) = start(&["--access-log", log.to_str().unwrap()]);
    // A 8 MiB download, read slowly through a small receive buffer so it is still in flight.
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(16 * 1024).unwrap();
    sock.connect(&addr.parse::<std::net::SocketAddr>().unwrap().into())
        .unwrap();
    let mut s: TcpStream = sock.into();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /-/bytes/8388608 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let first = s.read(&mut buf).unwrap();
    signal(&child, libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        child.try_wait().unwrap().is_none(),
        "exited with a response in flight"
    );
    // New connections are no longer accepted.
    assert!(
        TcpStream::connect(&addr).is_err(),
        "still accepting after SIGTERM"
    );
    let mut got = buf[..first].to_vec();
    loop {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    let body_at = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(got.len() - body_at, 8 << 20, "the whole body arrived");
    assert!(got[body_at..]
        .iter()
        .enumerate()
        .all(|(i, &b)| b == spindle::builtins::PATTERN[i % 64]));
    let status = wait(&mut child, Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("\"GET /-/bytes/8388608 HTTP/1.1\" 200 8388608"),
        "{text}"
    );
    std::fs::remove_file(log).unwrap();
}

#[test]
fn a_second_signal_stops_at_once_with_status_1() {
    let (mut child, addr) = start(&["--shutdown-grace", "30"]);
    // A response that cannot finish: the client never reads.
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(4 * 1024).unwrap();
    sock.connect(&addr.parse::<std::net::SocketAddr>().unwrap().into())
        .unwrap();
    let mut s: TcpStream = sock.into();
    s.write_all(b"GET /-/bytes/100000000 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, libc::SIGINT);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the grace period is 30 s"
    );
    signal(&child, libc::SIGINT);
    let status = wait(&mut child, Duration::from_secs(5));
    assert_eq!(status.code(), Some(1));
}

#[test]
fn sigint_with_nothing_in_flight_exits_0_at_once() {
    let (mut child, addr) = start(&[]);
    let mut idle = TcpStream::connect(&addr).unwrap();
    idle.write_all(b"GET /-/plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 512];
    let mut got = Vec::new();
    while !got.ends_with(b"Hello, World!") {
        let n = idle.read(&mut buf).unwrap();
        assert!(n > 0, "closed before the answer");
        got.extend_from_slice(&buf[..n]);
    }
    signal(&child, libc::SIGINT);
    let status = wait(&mut child, Duration::from_secs(3));
    assert_eq!(status.code(), Some(0));
    // The idle keep-alive connection was closed.
    assert_eq!(idle.read(&mut buf).unwrap(), 0);
}
