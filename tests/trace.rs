//! `--trace` tells the story it promises (README, SPEC §7): on the binary, a head in two pieces,
//! a delay, a client that stops reading, each narrated on stderr — and nothing of it on stdout.

mod common;

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use common::{empty_root, spawn_binary_piped, Client};

#[test]
fn trace_narrates_partial_heads_delays_short_writes_and_unread_events() {
    let root = empty_root();
    let mut srv = spawn_binary_piped(&["--bind", "127.0.0.1:0", "--trace", root.to_str().unwrap()]);
    // Drained all along: a trace that fills its pipe would stall the server.
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
}
