//! The binary and its signals: SIGTERM finishes what is in flight, flushes the access log and
//! exits 0; a second signal stops at once with exit status 1. An access log whose reader
//! stalls never holds the process beyond `--shutdown-grace`, nor past a second signal.

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
    let dir = common::ScratchDir::new("signal-log");
    let log = dir.join("access.log");
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

/// Requests with a 30 000-byte User-Agent on one keep-alive connection until the server
/// reports dropped access-log lines: then the pipe is full, the writer is stuck in `write`
/// and the queue behind it is full too.
fn fill_the_log(addr: &str) {
    let addr: std::net::SocketAddr = addr.parse().unwrap();
    let req = format!(
        "GET /-/plaintext HTTP/1.1\r\nHost: x\r\nUser-Agent: {}\r\n\r\n",
        "a".repeat(30_000)
    );
    let mut c = common::Client::connect(addr);
    for i in 0..2_000 {
        assert_eq!(c.request(req.as_bytes()).status, 200);
        if i % 8 == 7 {
            let mut s = common::Client::connect(addr);
            let stats = s.request(common::get("/-/stats").as_bytes());
            if common::Stats::parse(&stats.body_str()).count("access_log_dropped") > 0 {
                return;
            }
        }
    }
    panic!("2000 requests and no access-log line dropped: the log never stalled");
}

/// A FIFO for the access log (in its scratch directory), with a reader that holds it open and
/// never reads.
fn stalled_fifo(name: &str) -> (common::ScratchDir, std::path::PathBuf, std::fs::File) {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = common::ScratchDir::new(name);
    let path = dir.join("access.fifo");
    common::mkfifo(&path);
    let reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&path)
        .unwrap();
    (dir, path, reader)
}

#[test]
fn a_stalled_access_log_fifo_holds_the_exit_no_longer_than_the_grace() {
    let (_dir, path, reader) = stalled_fifo("stalled-fifo");
    let mut srv = common::spawn_binary_piped(&[
        "--bind",
        "127.0.0.1:0",
        "--shutdown-grace",
        "2",
        "--access-log",
        path.to_str().unwrap(),
    ]);
    fill_the_log(&srv.addr);
    let t = Instant::now();
    signal(&srv.child, libc::SIGTERM);
    let status = common::wait_exit(&mut srv.child, Duration::from_secs(6));
    let took = t.elapsed();
    assert_eq!(status.code(), Some(0));
    assert!(took < Duration::from_secs(4), "exit took {took:?}");
    let mut err = String::new();
    srv.child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("lines not written at exit"), "{err}");
    drop(reader);
}

#[test]
fn a_second_signal_cuts_the_wait_for_a_stalled_access_log() {
    let (_dir, path, reader) = stalled_fifo("stalled-fifo-2");
    let mut srv = common::spawn_binary_piped(&[
        "--bind",
        "127.0.0.1:0",
        "--shutdown-grace",
        "30",
        "--access-log",
        path.to_str().unwrap(),
    ]);
    fill_the_log(&srv.addr);
    signal(&srv.child, libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        srv.child.try_wait().unwrap().is_none(),
        "the log is waited for within the grace period (30 s)"
    );
    let t = Instant::now();
    signal(&srv.child, libc::SIGTERM);
    let status = common::wait_exit(&mut srv.child, Duration::from_secs(5));
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert_eq!(status.code(), Some(1));
    drop(reader);
}

#[test]
fn a_stalled_reader_of_the_access_log_on_stdout_holds_the_exit_no_longer_than_the_grace() {
    // Nobody reads the child's stdout after the listening line.
    let mut srv = common::spawn_binary_piped(&[
        "--bind",
        "127.0.0.1:0",
        "--shutdown-grace",
        "2",
        "--access-log",
        "-",
    ]);
    fill_the_log(&srv.addr);
    let t = Instant::now();
    signal(&srv.child, libc::SIGTERM);
    let status = common::wait_exit(&mut srv.child, Duration::from_secs(6));
    let took = t.elapsed();
    assert_eq!(status.code(), Some(0));
    assert!(took < Duration::from_secs(4), "exit took {took:?}");
}

#[test]
fn an_access_log_fifo_that_never_gets_a_reader_holds_the_exit_no_longer_than_the_grace() {
    let dir = common::ScratchDir::new("readerless");
    let path = dir.join("access.fifo");
    common::mkfifo(&path);
    let mut srv = common::spawn_binary_piped(&[
        "--bind",
        "127.0.0.1:0",
        "--shutdown-grace",
        "1",
        "--access-log",
        path.to_str().unwrap(),
    ]);
    let addr: std::net::SocketAddr = srv.addr.parse().unwrap();
    let mut c = common::Client::connect(addr);
    assert_eq!(
        c.request(common::get("/-/plaintext").as_bytes()).status,
        200
    );
    let t = Instant::now();
    signal(&srv.child, libc::SIGTERM);
    let status = common::wait_exit(&mut srv.child, Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    let mut err = String::new();
    srv.child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("1 lines not written at exit"), "{err}");
}
