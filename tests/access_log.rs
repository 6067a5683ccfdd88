//! `--access-log`: one Combined Log Format line per request, escaped, written off the reactor
//! thread and complete once the server has shut down; with several workers, through one
//! writer, so that every line stays whole.

mod common;

use common::{get, ScratchDir, TestServer};

#[test]
fn one_escaped_combined_line_per_request() {
    let dir = ScratchDir::new("access-log");
    let path = dir.join("access.log");
    let dest = path.to_str().unwrap().to_owned();
    let mut srv = TestServer::with(move |c| c.access_log = Some(dest));
    let mut c = srv.connect();
    assert_eq!(c.request(get("/-/plaintext").as_bytes()).status, 200);
    let r = c.request(
        b"GET /-/bytes/7?q=\"x\" HTTP/1.1\r\nHost: x\r\nReferer: http://r/\"\r\nUser-Agent: t\xffool\r\n\r\n",
    );
    assert_eq!(r.status, 200);
    let mut bad = srv.connect();
    bad.send(b"NOT HTTP\r\n\r\n");
    assert_eq!(bad.read_response().status, 400);
    srv.shutdown_and_join().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let find = |needle: &str| {
        lines
            .iter()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle}: {text}"))
            .to_string()
    };
    let plain = find("/-/plaintext");
    assert!(plain.starts_with("127.0.0.1 - - ["), "{plain}");
    assert!(
        plain.ends_with("] \"GET /-/plaintext HTTP/1.1\" 200 13 \"-\" \"-\""),
        "{plain}"
    );
    let bytes = find("/-/bytes/7");
    assert!(
        bytes.ends_with(
            "\"GET /-/bytes/7?q=\\x22x\\x22 HTTP/1.1\" 200 7 \"http://r/\\x22\" \"t\\xFFool\""
        ),
        "{bytes}"
    );
    let refused = find(" 400 ");
    assert!(refused.ends_with("\"-\" 400 16 \"-\" \"-\""), "{refused}");
}

#[test]
fn an_access_log_that_cannot_be_opened_is_a_start_error_naming_the_path() {
    let path = std::env::temp_dir().join("spindle-test-no-such-dir/x/y.log");
    let dest = path.to_str().unwrap().to_owned();
    match TestServer::try_with(|c| c.access_log = Some(dest.clone())) {
        Err(e) => assert_eq!(
            e.to_string(),
            format!("access log {dest}: No such file or directory")
        ),
        Ok(_) => panic!("started with an access log in a missing directory"),
    }
    // The binary: exit 1 at once, one line on stderr, nothing on stdout.
    let root = common::empty_root();
    let (status, out, err) = common::run_binary(&[
        "--bind",
        "127.0.0.1:0",
        "--access-log",
        &dest,
        root.to_str().unwrap(),
    ]);
    assert_eq!(status.code(), Some(1));
    assert_eq!(
        err,
        format!("spindle: access log {dest}: No such file or directory\n")
    );
    assert!(out.is_empty(), "{out:?}");
}

/// `mkfifo log; spindle --access-log log & cat log`: the FIFO has no reader when the server
/// starts. It starts anyway (listening line, requests answered at once), and the lines reach
/// the reader that comes later.
#[test]
fn a_fifo_without_a_reader_at_start_up_does_not_hold_the_start() {
    use std::io::Read;
    use std::sync::mpsc;
    use std::time::Duration;
    let dir = ScratchDir::new("access-log-fifo");
    let path = dir.join("access.fifo");
    common::mkfifo(&path);
    let root = common::empty_root();
    let mut srv = common::spawn_binary_piped(&[
        "--bind",
        "127.0.0.1:0",
        "--access-log",
        path.to_str().unwrap(),
        root.to_str().unwrap(),
    ]);
    let mut c = srv.connect();
    assert_eq!(c.request(get("/-/plaintext").as_bytes()).status, 200);
    // Now the reader comes (`cat log`).
    let (tx, rx) = mpsc::channel();
    let p = path.clone();
    std::thread::spawn(move || {
        let mut text = String::new();
        let r = std::fs::File::open(p).and_then(|mut f| f.read_to_string(&mut text));
        let _ = tx.send(r.map(|_| text));
    });
    assert_eq!(c.request(get("/-/json").as_bytes()).status, 200);
    drop(c);
    // Give the writer's open a moment to meet the reader, then stop: the log is flushed on exit.
    std::thread::sleep(Duration::from_millis(200));
    let (status, _) = srv.signal_and_wait(libc::SIGTERM, Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
    let text = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("the reader got no end of file")
        .unwrap();
    assert!(
        text.contains("\"GET /-/plaintext HTTP/1.1\" 200 13"),
        "{text}"
    );
    assert!(text.contains("\"GET /-/json HTTP/1.1\" 200"), "{text}");
}

/// `--workers 2`, the log on a FIFO read slowly in small pieces: the pipe fills, so a batch
/// goes out in several writes, and two writers' pieces would interleave. 200 connections × 3
/// requests, both workers answering: every request has exactly one line, each line whole.
#[test]
fn two_workers_write_one_whole_line_per_request_through_a_slow_pipe() {
    use std::time::Duration;
    const CONNS: usize = 200;
    const PER_CONN: usize = 3;
    const PAD: usize = 2000;
    let dir = ScratchDir::new("access-log-workers");
    let path = dir.join("access.fifo");
    common::mkfifo(&path);
    let reader = common::SlowReader::open(&path, 4096, Duration::from_millis(1));
    reader.start();
    let dest = path.to_str().unwrap().to_owned();
    let mut srv = TestServer::with(move |c| {
        c.workers = 2;
        c.access_log = Some(dest);
        c.shutdown_grace = Duration::from_secs(10);
    });
    let open = common::load(srv.addr, CONNS, PER_CONN, PAD);
    let (stats, asked) = common::stats_once_all_answered(srv.addr, 2, (CONNS * PER_CONN) as u64);
    assert_eq!(stats.count("access_log_dropped"), 0, "{stats:?}");
    drop(open);
    srv.shutdown_and_join().unwrap();
    let text = reader.finish(Duration::from_secs(20));
    let lines = common::parse_log(&text);
    common::assert_one_line_per_request(&lines, CONNS, PER_CONN, PAD, asked);
}
