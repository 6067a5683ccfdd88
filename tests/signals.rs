//! The binary and its signals: SIGTERM finishes what is in flight, flushes the access log and
//! exits 0; a second signal stops at once with exit status 1. An access log whose reader
//! stalls never holds the process beyond `--shutdown-grace`, nor past a second signal — with
//! one worker or two.

mod common;

use std::net::TcpStream;
use std::process::Child;
use std::time::{Duration, Instant};

use common::{get, signal, wait_exit, Client, ScratchDir, Spawned, Stats};

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
    with_workers_and_access_log("1", grace, log)
}

/// The same with `--workers WORKERS`.
fn with_workers_and_access_log(workers: &str, grace: &str, log: &str) -> Spawned {
    common::spawn_binary_piped(&[
        "--bind",
        "127.0.0.1:0",
        "--workers",
        workers,
        "--shutdown-grace",
        grace,
        "--access-log",
        log,
    ])
}

/// Requests with a 30 000-byte User-Agent over `conns` keep-alive connections at once, each on
/// a thread of its own, until the server reports dropped access-log lines: then the pipe is
/// full, the writer is stuck in `write` and the queue behind it is full too. Several
/// connections reach both workers, and are quicker in torture mode, where each connection's
/// window is tiny.
fn fill_the_log(srv: &Spawned, conns: usize) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let addr: std::net::SocketAddr = srv.addr.parse().unwrap();
    let req = Arc::new(format!(
        "GET /-/plaintext HTTP/1.1\r\nHost: x\r\nUser-Agent: {}\r\n\r\n",
        "a".repeat(30_000)
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..conns)
        .map(|_| {
            let (req, stop) = (req.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut c = Client::connect(addr);
                while !stop.load(Ordering::Relaxed) {
                    assert_eq!(c.request(req.as_bytes()).status, 200);
                }
            })
        })
        .collect();
    let stalled = common::within(Duration::from_secs(60), || {
        common::stats_at(addr).count("access_log_dropped") > 0
    });
    stop.store(true, Ordering::Relaxed);
    for s in senders {
        s.join().unwrap();
    }
    assert!(
        stalled.is_some(),
        "no access-log line dropped: the log never stalled"
    );
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
    fill_the_log(&srv, 8);
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
    fill_the_log(&srv, 8);
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
    fill_the_log(&srv, 8);
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

/// `--workers 2`, the log on a FIFO whose reader reads nothing until SIGTERM, then slowly: at
/// the signal most lines of both workers still wait for the writer, and each worker waits
/// for its own (woken by the writer as they go out) before the exit, 0, well within the grace.
#[test]
fn sigterm_with_two_workers_writes_every_workers_lines_before_exit_0() {
    const CONNS: usize = 200;
    const PER_CONN: usize = 3;
    const PAD: usize = 1000;
    let dir = ScratchDir::new("signal-log-workers");
    let path = dir.join("access.fifo");
    common::mkfifo(&path);
    let reader = common::SlowReader::open(&path, 16 * 1024, Duration::from_millis(5));
    let mut srv = with_workers_and_access_log("2", "20", path.to_str().unwrap());
    let addr = srv.addr.parse().unwrap();
    let open = common::load(addr, CONNS, PER_CONN, PAD);
    let (stats, asked) = common::stats_once_all_answered(addr, 2, (CONNS * PER_CONN) as u64);
    assert_eq!(stats.count("access_log_dropped"), 0, "{stats:?}");
    drop(open);
    signal(&srv.child, libc::SIGTERM);
    reader.start();
    let t = Instant::now();
    let status = wait_exit(&mut srv.child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
    assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
    let text = reader.finish(Duration::from_secs(5));
    let lines = common::parse_log(&text);
    common::assert_one_line_per_request(&lines, CONNS, PER_CONN, PAD, asked);
    let err = srv.read_stderr();
    assert!(!err.contains("not written at exit"), "{err}");
}

/// Plain requests on fresh connections until each of two workers has answered one since
/// `before`: then each has lines of its own behind the stalled writer.
fn a_line_on_each_worker_since(srv: &Spawned, before: &Stats) {
    let addr = srv.addr.parse().unwrap();
    let old = before.per_worker(2, "requests_total");
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let r = Client::connect(addr).request(get("/-/plaintext").as_bytes());
        assert_eq!(r.status, 200);
        let now = common::stats_at(addr).per_worker(2, "requests_total");
        if now.iter().zip(&old).all(|(n, o)| n > o) {
            return;
        }
        assert!(
            Instant::now() < until,
            "not both workers: {old:?} -> {now:?}"
        );
    }
}

/// Two workers, the writer stuck on a FIFO nobody reads: a queue full (lines
/// dropped), and both with lines the writer has not written.
fn stall_both_workers(srv: &Spawned) {
    fill_the_log(srv, 8);
    let after = common::stats_at(srv.addr.parse().unwrap());
    a_line_on_each_worker_since(srv, &after);
}

/// Whether every worker of two warned that lines of its own were not written.
fn both_report_lost_lines(err: &str) -> bool {
    ["@w1]", "@w2]"].iter().all(|w| {
        err.lines()
            .any(|l| l.contains(w) && l.contains("lines not written at exit"))
    })
}

#[test]
fn a_stalled_access_log_fifo_holds_two_workers_no_longer_than_the_grace() {
    let (_dir, path, reader) = stalled_fifo("stalled-fifo-workers");
    let mut srv = with_workers_and_access_log("2", "2", path.to_str().unwrap());
    stall_both_workers(&srv);
    let (status, took) = srv.signal_and_wait(libc::SIGTERM, Duration::from_secs(6));
    assert_eq!(status.code(), Some(0));
    assert!(took < Duration::from_secs(4), "exit took {took:?}");
    let err = srv.read_stderr();
    assert!(both_report_lost_lines(&err), "{err}");
    drop(reader);
}

#[test]
fn a_second_signal_cuts_two_workers_waiting_for_a_stalled_access_log() {
    let (_dir, path, reader) = stalled_fifo("stalled-fifo-workers-2");
    let mut srv = with_workers_and_access_log("2", "30", path.to_str().unwrap());
    stall_both_workers(&srv);
    signal(&srv.child, libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        srv.child.try_wait().unwrap().is_none(),
        "the log is waited for within the grace period (30 s)"
    );
    let (status, took) = srv.signal_and_wait(libc::SIGTERM, Duration::from_secs(5));
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(status.code(), Some(1));
    let err = srv.read_stderr();
    assert!(both_report_lost_lines(&err), "{err}");
    drop(reader);
}
