//! `--trace` tells the story it promises (README, SPEC §7): on the binary, a head in two pieces,
//! a delay, a client that stops reading, each narrated on stderr — and nothing of it on stdout.

mod common;

use std::collections::HashSet;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use common::{empty_root, spawn_binary_piped, Client, Spawned};

/// The names `Conn` gives its states.
const STATES: [&str; 9] = [
    "ReadingHead",
    "ReadingBody",
    "Delayed",
    "Offloaded",
    "SendingBody",
    "Pacing",
    "Closing",
    "Lingering",
    "Closed",
];

/// Reads the child's stderr all along into a shared buffer: a trace that fills its pipe would
/// stall the server.
fn drain_stderr(srv: &mut Spawned) -> (Arc<Mutex<Vec<u8>>>, JoinHandle<()>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut stderr = srv.child.stderr.take().unwrap();
    let sink = log.clone();
    let drain = thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    (log, drain)
}

/// SIGTERM, a clean exit, and all the child wrote to stderr.
fn stop(mut srv: Spawned, log: Arc<Mutex<Vec<u8>>>, drain: JoinHandle<()>) -> String {
    let (status, _) = srv.signal_and_wait(libc::SIGTERM, Duration::from_secs(10));
    assert!(status.success());
    drain.join().unwrap();
    let text = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    text
}

/// The `w1 c37` tag of a log line, if it has one: the two words after the `[module]`.
fn tag_of(line: &str) -> Option<(&str, &str)> {
    let rest = line.split_once("] ")?.1;
    let mut words = rest.split(' ');
    let (w, c) = (words.next()?, words.next()?);
    let numbered = |s: &str, p: char| {
        s.strip_prefix(p)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    (numbered(w, 'w') && numbered(c, 'c')).then_some((w, c))
}

/// One request on a fresh connection, which the client then closes and the server reaps.
fn one_request(addr: SocketAddr, client: Option<SocketAddr>, n: usize) {
    let mut c = match client {
        Some(source) => Client::connect_from(addr, source),
        None => Client::connect(addr),
    };
    let req = format!("GET /-/plaintext?{n} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(c.request(req.as_bytes()).status, 200);
    c.assert_closed();
}

#[test]
fn trace_conn_by_serial_narrates_that_connection_alone() {
    let root = empty_root();
    let args = [
        "--bind",
        "127.0.0.1:0",
        "--trace-conn",
        "c2",
        root.to_str().unwrap(),
    ];
    let mut srv = spawn_binary_piped(&args);
    let (log, drain) = drain_stderr(&mut srv);
    let addr = srv.addr.parse().unwrap();
    for n in 1..=3 {
        one_request(addr, None, n);
    }
    let log = stop(srv, log, drain);
    let tags: HashSet<_> = log.lines().filter_map(tag_of).collect();
    assert_eq!(
        tags,
        HashSet::from([("w1", "c2")]),
        "tags other than w1 c2:\n{log}"
    );
    for line in [
        "w1 c2 accepted from 127.0.0.1:",
        "w1 c2 ReadingHead parsed GET /-/plaintext?2 ",
        "w1 c2 ReadingHead queued 200 OK",
        "w1 c2 Closed removed (0 open)",
    ] {
        assert!(log.contains(line), "no {line:?} in the trace:\n{log}");
    }
    assert!(
        !log.contains("plaintext?1") && !log.contains("plaintext?3"),
        "{log}"
    );
}

#[test]
fn trace_conn_by_ip_narrates_every_connection_from_it() {
    let root = empty_root();
    let args = [
        "--bind",
        "127.0.0.1:0",
        "--trace-conn",
        "127.0.0.2",
        root.to_str().unwrap(),
    ];
    let mut srv = spawn_binary_piped(&args);
    let (log, drain) = drain_stderr(&mut srv);
    let addr = srv.addr.parse().unwrap();
    let other: SocketAddr = "127.0.0.2:0".parse().unwrap();
    one_request(addr, None, 1);
    one_request(addr, Some(other), 2);
    one_request(addr, None, 3);
    one_request(addr, Some(other), 4);
    let log = stop(srv, log, drain);
    let tags: HashSet<_> = log.lines().filter_map(tag_of).collect();
    assert_eq!(tags, HashSet::from([("w1", "c2"), ("w1", "c4")]), "{log}");
    assert!(log.contains("w1 c4 accepted from 127.0.0.2:"), "{log}");
}

/// Serials are one sequence across workers, and a slab key reused at once does not reuse the
/// name: a reader can follow `c37` through a busy log.
#[test]
fn serials_are_unique_across_workers_and_not_reused_with_slab_keys() {
    let root = empty_root();
    let args = [
        "--bind",
        "127.0.0.1:0",
        "--workers",
        "2",
        "--trace",
        root.to_str().unwrap(),
    ];
    let mut srv = spawn_binary_piped(&args);
    let (log, drain) = drain_stderr(&mut srv);
    let addr = srv.addr.parse().unwrap();
    // Several at once, so that both workers get some, then one at a time, so that each takes
    // slab key 0 again.
    let together: Vec<_> = (0..8)
        .map(|n| thread::spawn(move || one_request(addr, None, n)))
        .collect();
    for t in together {
        t.join().unwrap();
    }
    for n in 8..16 {
        one_request(addr, None, n);
    }
    let log = stop(srv, log, drain);
    let accepted: Vec<(&str, &str)> = log
        .lines()
        .filter(|l| l.contains(" accepted from ") && l.contains(" as slab key "))
        .filter_map(tag_of)
        .collect();
    assert_eq!(accepted.len(), 16, "{log}");
    let serials: HashSet<&str> = accepted.iter().map(|&(_, c)| c).collect();
    assert_eq!(serials.len(), 16, "a serial given twice: {accepted:?}");
    let expected: HashSet<String> = (1..=16).map(|n| format!("c{n}")).collect();
    assert_eq!(serials, expected.iter().map(String::as_str).collect());
    // Slab keys come back at once (the last freed is the next given): one key, several names.
    let mut keys: Vec<(&str, &str)> = log
        .lines()
        .filter_map(|l| {
            Some((
                tag_of(l)?.0,
                l.split_once(" as slab key ")?.1.split(' ').next()?,
            ))
        })
        .collect();
    let given = keys.len();
    keys.sort();
    keys.dedup();
    assert!(keys.len() < given, "no slab key was given twice:\n{log}");
    // Every narrated line names its state right after the tag.
    for line in log.lines().filter(|l| l.contains(" TRACE ")) {
        if let Some((w, c)) = tag_of(line) {
            let after = line.split_once(&format!("{w} {c} ")).unwrap().1;
            let state = after.split(' ').next().unwrap();
            assert!(STATES.contains(&state), "no state in {line:?}");
        }
    }
}

#[test]
fn trace_narrates_partial_heads_delays_short_writes_and_unread_events() {
    let root = empty_root();
    let mut srv = spawn_binary_piped(&["--bind", "127.0.0.1:0", "--trace", root.to_str().unwrap()]);
    let (log, drain) = drain_stderr(&mut srv);
    let addr = srv.addr.parse().unwrap();

    let mut c = Client::connect(addr);
    c.send(b"GET /-/plaintext HTTP/1.1\r\nHo");
    thread::sleep(Duration::from_millis(100));
    c.send(b"st: x\r\n\r\n");
    assert_eq!(c.read_response().status, 200);
    assert_eq!(
        c.request(b"GET /-/delay/10 HTTP/1.1\r\nHost: x\r\n\r\n")
            .status,
        200
    );

    // A client that does not read: the server's writes stop short, and a later request raises
    // a readable event that it leaves unread while the output is above its high-water mark.
    let mut slow = Client::connect_with_recv_buffer(addr, 4096);
    slow.send(b"GET /-/bytes/100000000 HTTP/1.1\r\nHost: x\r\n\r\n");
    thread::sleep(Duration::from_millis(200));
    slow.send(b"GET /-/plaintext HTTP/1.1\r\nHost: x\r\n\r\n");
    thread::sleep(Duration::from_millis(200));
    drop(slow);
    drop(c);

    let (status, _) = srv.signal_and_wait(libc::SIGTERM, Duration::from_secs(10));
    assert!(status.success());
    drain.join().unwrap();
    let mut stdout = String::new();
    srv.stdout.read_to_string(&mut stdout).unwrap();
    assert_eq!(stdout, "", "stdout has only the listening line");
    let log = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    for line in [
        "timer: Request in",
        "accept -> WouldBlock",
        "waiting for the rest of the head (29 B so far)",
        "ReadingHead -> Delayed",
        "timer: delay of 10ms",
        "Delayed -> ReadingHead",
        "short write, socket full",
        "above the high-water mark",
        "Closing -> Closed",
    ] {
        assert!(log.contains(line), "no {line:?} in the trace:\n{log}");
    }
    // Once per piece of a head, not once per look at it; never about a connection already gone.
    assert_eq!(
        log.matches("waiting for the rest of the head").count(),
        1,
        "{log}"
    );
    assert!(!log.contains("Closed not reading"), "{log}");
}
