//! The binary and its signals: SIGTERM finishes what is in flight, flushes the access log and
//! exits 0; a second signal stops at once with exit status 1. An access log whose reader
//! stalls never holds the process beyond `--shutdown-grace`, nor past a second signal.

mod common;

use std::net::TcpStream;
use std::process::Child;
use std::time::Duration;

use common::{get, signal, wait_exit, Client, ScratchDir, Spawned};

/// Starts the binary on port 0 and returns it with the address it printed.
fn start(extra: &[&str]) -> (Child, String) {
    common::spawn_binary(extra, &common::empty_root())
}

#[test]
fn sigterm_finishes_the_download_in_flight_and_flushes_the_log() {
    let dir = ScratchDir::new("signal-log");
    let log = dir.join("access.log");
    let (mut child, addr) = start(&["--access-log", log.to_str().unwrap()]);
    // A 8 MiB download, read slowly through a small receive buffer so it is still in flight.
    let mut c = Client::connect_with_recv_buffer(addr.parse().unwrap(), 16 * 1024);
    c.set_read_timeout(Duration::from_secs(10));
    c.send(b"GET /-/bytes/8388608 HTTP/1.1\r\nHost: x\r\n\r\n");
    c.wait_read().0.expect("the first bytes of the download");
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
    let got = c.read_to_close();
    let body_at = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(got.len() - body_at, 8 << 20, "the whole body arrived");
    assert!(got[body_at..]
        .iter()
        .enumerate()
        .all(|(i, &b)| b == spindle::builtins::PATTERN[i % 64]));
    let status = wait_exit(&mut child, Duration::from_secs(5));
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
    let mut c = Client::connect_with_recv_buffer(addr.parse().unwrap(), 4 * 1024);
    c.send(b"GET /-/bytes/100000000 HTTP/1.1\r\nHost: x\r\n\r\n");
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, libc::SIGINT);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the grace period is 30 s"
    );
    signal(&child, libc::SIGINT);
    let status = wait_exit(&mut child, Duration::from_secs(5));
    assert_eq!(status.code(), Some(1));
    drop(c);
}

#[test]
fn sigint_with_nothing_in_flight_exits_0_at_once() {
    let (mut child, addr) = start(&[]);
    let mut idle = Client::connect(addr.parse().unwrap());
    let r = idle.request(get("/-/plaintext").as_bytes());
    assert_eq!(r.body, b"Hello, World!");
    signal(&child, libc::SIGINT);
    let status = wait_exit(&mut child, Duration::from_secs(3));
    assert_eq!(status.code(), Some(0));
    // The idle keep-alive connection was closed.
    idle.assert_closed();
}

/// The binary with `--shutdown-grace GRACE --access-log LOG`, its stdout never read after the
/// listening line.
fn with_access_log(grace: &str, log: &str) -> Spawned {
    common::spawn_binary_piped(&[
        "--bind",
        "127.0.0.1:0",
        "--shutdown-grace",
        grace,
        "--access-log",
        log,
    ])
}

/// Requests with a 30 000-byte User-Agent on one keep-alive connection until the server
/// reports dropped access-log lines: then the pipe is full, the writer is stuck in `write`
/// and the queue behind it is full too.
fn fill_the_log(srv: &Spawned) {
    let req = format!(
        "GET /-/plaintext HTTP/1.1\r\nHost: x\r\nUser-Agent: {}\r\n\r\n",
        "a".repeat(30_000)
    );
    let mut c = srv.connect();
    for i in 0..2_000 {
        assert_eq!(c.request(req.as_bytes()).status, 200);
        if i % 8 == 7 {
            let stats = srv.connect().request(get("/-/stats").as_bytes());
            if common::Stats::parse(&stats.body_str()).count("access_log_dropped") > 0 {
                return;
            }
        }
    }
    panic!("2000 requests and no access-log line dropped: the log never stalled");
}

/// A FIFO for the access log (in its scratch directory), with a reader that holds it open and
/// never reads.
fn stalled_fifo(name: &str) -> (ScratchDir, std::path::PathBuf, std::fs::File) {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = ScratchDir::new(name);
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
    let mut srv = with_access_log("2", path.to_str().unwrap());
    fill_the_log(&srv);
    let (status, took) = srv.signal_and_wait(libc::SIGTERM, Duration::from_secs(6));
    assert_eq!(status.code(), Some(0));
    assert!(took < Duration::from_secs(4), "exit took {took:?}");
    let err = srv.read_stderr();
    assert!(err.contains("lines not written at exit"), "{err}");
    drop(reader);
}

#[test]
fn a_second_signal_cuts_the_wait_for_a_stalled_access_log() {
    let (_dir, path, reader) = stalled_fifo("stalled-fifo-2");
    let mut srv = with_access_log("30", path.to_str().unwrap());
    fill_the_log(&srv);
    signal(&srv.child, libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        srv.child.try_wait().unwrap().is_none(),
        "the log is waited for within the grace period (30 s)"
    );
    let (status, took) = srv.signal_and_wait(libc::SIGTERM, Duration::from_secs(5));
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(status.code(), Some(1));
    drop(reader);
}

#[test]
fn a_stalled_reader_of_the_access_log_on_stdout_holds_the_exit_no_longer_than_the_grace() {
    // Nobody reads the child's stdout after the listening line.
    let mut srv = with_access_log("2", "-");
    fill_the_log(&srv);
    let (status, took) = srv.signal_and_wait(libc::SIGTERM, Duration::from_secs(6));
    assert_eq!(status.code(), Some(0));
    assert!(took < Duration::from_secs(4), "exit took {took:?}");
}

#[test]
fn an_access_log_fifo_that_never_gets_a_reader_holds_the_exit_no_longer_than_the_grace() {
    let dir = ScratchDir::new("readerless");
    let path = dir.join("access.fifo");
    common::mkfifo(&path);
    let mut srv = with_access_log("1", path.to_str().unwrap());
    let mut c = srv.connect();
    assert_eq!(c.request(get("/-/plaintext").as_bytes()).status, 200);
    let (status, took) = srv.signal_and_wait(libc::SIGTERM, Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
    assert!(took < Duration::from_secs(3), "{took:?}");
    let err = srv.read_stderr();
    assert!(err.contains("1 lines not written at exit"), "{err}");
}
