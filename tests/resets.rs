//! Resets and half-closes (SPEC §6: "no input from a client panics the process or disturbs
//! another connection"). Clients that reset (`SO_LINGER` 0, then close: an RST) in the middle of
//! a 1 MiB response, of a request body and of a chunked upload leave no descriptor, no temporary
//! file and no panic behind, while another client keeps being served throughout; a client that
//! half-closes (`shutdown(SHUT_WR)`) after its requests still reads every response in full, then
//! the server's close.
//!
//! The server runs in this process, so its descriptors are ours: `/proc/self/fd` is counted once
//! the server and the other client are settled, and must come back to that number after each
//! batch of resets. The tests of this file take one lock (`serial`), so that no other test's
//! sockets come and go in the count. Every timeout of the server is set far beyond the 5 s the
//! count may take to come back (and the `timeouts` counter must not move): a connection can only
//! be gone in time because the server noticed the reset.

mod common;

use std::cell::RefCell;
use std::fs;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use common::*;

/// Every server timeout: far longer than any wait below.
const FAR: Duration = Duration::from_secs(300);
/// How long the descriptor count (or the upload directory) may take to come back.
const SETTLE: Duration = Duration::from_secs(5);
/// `SO_RCVBUF` of the resetting clients: the server's writes stop short almost at once, so the
/// reset finds it in the middle of the body.
const SMALL_RCVBUF: usize = 4096;
/// The declared length of the uploads: `--max-body`'s default, 1 MiB.
const MIB: usize = 1 << 20;

static SERIAL: Mutex<()> = Mutex::new(());

/// One test of this file at a time (a failed one does not stop the others).
fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Descriptors open in this process (the reading of the directory itself included, always 1).
fn open_fds() -> usize {
    fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}

/// What each open descriptor is (`socket:[…]`, `anon_inode:[eventpoll]`, a path), for messages.
fn fd_list() -> String {
    let mut v: Vec<String> = fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .filter_map(|e| {
            let e = e.ok()?;
            let to = fs::read_link(e.path()).ok()?;
            Some(format!(
                "{}={}",
                e.file_name().to_string_lossy(),
                to.display()
            ))
        })
        .collect();
    v.sort();
    v.join(" ")
}

/// The served file's bytes: not periodic, so a byte from the wrong offset shows.
fn file_bytes(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).rotate_left(7) as u8)
        .collect()
}

/// Reads one response's head (200 with `Content-Length: len`) and the first `depth` body bytes,
/// which must be `want[..depth]`; nothing more is taken from the socket.
fn read_into_body(s: &mut Client, len: usize, depth: usize, want: &[u8], what: &str) {
    let head = s.read_head_bytewise();
    assert!(head.starts_with("HTTP/1.1 200 "), "{what}: {head}");
    let cl = format!("\r\ncontent-length: {len}\r\n");
    assert!(head.to_ascii_lowercase().contains(&cl), "{what}: {head}");
    let body = s.read_exact(depth);
    assert!(
        body == want[..depth],
        "{what}: wrong bytes in the first {depth}"
    );
}

/// The length of `big.bin`: 1 MiB, or 256 KiB in torture mode — scaled down, but still well
/// beyond the 64 KiB first piece copied in behind the head, so that `sendfile` is in play.
fn file_len() -> usize {
    scaled(MIB).max(256 * 1024)
}

/// A scratch ROOT holding `big.bin` ([`file_len`] bytes) and an empty `up/` for uploads.
fn scratch_root(test: &str) -> ScratchDir {
    let root = ScratchDir::new(&format!("resets-{test}"));
    root.mkdir("up");
    root.write("big.bin", file_bytes(file_len()));
    root
}

/// Another client, on one keep-alive connection, asking and checking in a loop on its own
/// thread while the resets happen: `/-/plaintext`, a streamed `/-/bytes/N`, and a pipelined
/// pair. Any wrong or missing byte panics its thread, and [`Other::finish`] re-raises it.
struct Other {
    stop: Arc<AtomicBool>,
    served: Arc<AtomicU64>,
    join: Option<JoinHandle<()>>,
}

impl Other {
    fn start(addr: SocketAddr) -> Other {
        let mut c = Client::connect(addr);
        // Answered before the descriptors are counted: the server holds its socket by then.
        check_plaintext(&c.request(get("/-/plaintext").as_bytes()));
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicU64::new(1));
        let join = {
            let (stop, served) = (stop.clone(), served.clone());
            thread::spawn(move || {
                let n = scaled(100_000);
                let want = pattern(n);
                let bytes = get(&format!("/-/bytes/{n}"));
                let pair = format!("{}{}", get("/-/plaintext"), bytes);
                while !stop.load(Ordering::Relaxed) {
                    check_plaintext(&c.request(get("/-/plaintext").as_bytes()));
                    let r = c.request(bytes.as_bytes());
                    assert_eq!(r.status, 200, "other client: /-/bytes/{n}");
                    assert!(r.body == want, "other client: wrong /-/bytes/{n} body");
                    c.send(pair.as_bytes());
                    check_plaintext(&c.read_response());
                    let r = c.read_response();
                    assert!(r.body == want, "other client: wrong pipelined body");
                    served.fetch_add(4, Ordering::Relaxed);
                }
            })
        };
        Other {
            stop,
            served,
            join: Some(join),
        }
    }

    /// Waits until the other client has been served some more (it still is, after the resets).
    fn progresses(&self) {
        let at = self.served.load(Ordering::Relaxed);
        let finished = || self.join.as_ref().is_none_or(|j| j.is_finished());
        eventually(
            SETTLE,
            || format!("the other client is stuck at {at} responses"),
            || self.served.load(Ordering::Relaxed) > at || finished(),
        );
        assert!(
            !finished(),
            "the other client's thread ended (see its panic above)"
        );
    }

    /// Stops the loop; re-raises its panic if it had one.
    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Err(e) = self.join.take().unwrap().join() {
            std::panic::resume_unwind(e);
        }
        self.served.load(Ordering::Relaxed)
    }
}

impl Drop for Other {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}

fn check_plaintext(r: &Response) {
    assert_eq!(r.status, 200, "other client: /-/plaintext");
    assert_eq!(r.body, b"Hello, World!", "other client: /-/plaintext body");
}

/// One test's world: the lock, a scratch ROOT, a server with far-away timeouts, the other
/// client, a keep-alive connection that asks `/-/stats`, and the descriptor count once all of
/// them are settled.
struct Bench {
    other: Option<Other>,
    /// Asks `/-/stats` without opening a connection that would then have to close.
    probe: RefCell<Client>,
    srv: TestServer,
    scratch: ScratchDir,
    file: Vec<u8>,
    /// Descriptors open once settled, and what they are.
    fds: usize,
    fd_list: String,
    _serial: MutexGuard<'static, ()>,
}

impl Bench {
    fn new(test: &str) -> Bench {
        let serial = serial();
        let scratch = scratch_root(test);
        let root = scratch.path().to_owned();
        let srv = TestServer::with(|c| {
            c.root = root;
            c.allow_write = true;
            c.request_timeout = FAR;
            c.keep_alive_timeout = FAR;
            c.write_timeout = FAR;
        });
        let file = fs::read(scratch.join("big.bin")).unwrap();
        // A first download of the file, on a connection closed before counting.
        let r = srv.get("/big.bin");
        assert_eq!(r.status, 200);
        assert!(r.body == file, "GET /big.bin: wrong body");
        let other = Other::start(srv.addr);
        let probe = RefCell::new(Client::connect(srv.addr));
        // The server closes the warm-up connection when it reads our FIN. Once the stats say
        // that only the other client and the probe are left, the server has closed every other
        // socket (it counts a connection out as it drops it): the count is exact.
        eventually(SETTLE, "the warm-up connection never closed", || {
            stats(&probe).count("connections_open") == 2
        });
        let fds = open_fds();
        Bench {
            other: Some(other),
            probe,
            srv,
            scratch,
            file,
            fds,
            fd_list: fd_list(),
            _serial: serial,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.srv.addr
    }

    /// After a batch of resets: the descriptor count comes back to where it was, no timer had
    /// to do it, the other client is still being served, and a fresh client gets right answers.
    fn settled(&self, what: &str) {
        self.descriptors_back(self.fds, 2, what);
        self.other.as_ref().unwrap().progresses();
        assert_eq!(
            stats(&self.probe).count("timeouts"),
            0,
            "{what}: a timeout closed something"
        );
        self.srv.assert_alive();
        let r = self.srv.get("/big.bin");
        assert_eq!(r.status, 200, "{what}: GET /big.bin afterwards");
        assert!(
            r.body == self.file,
            "{what}: GET /big.bin afterwards: wrong body"
        );
    }

    /// Ends the other client (re-raising its panic) and checks it was served throughout.
    fn finish(mut self) {
        let served = self.other.take().unwrap().finish();
        assert!(
            served > 4,
            "the other client was served only {served} times"
        );
        self.settled_fds_only();
    }

    fn settled_fds_only(&self) {
        // Its connection is gone on both sides now: one descriptor each.
        self.descriptors_back(self.fds - 2, 1, "at the end");
    }

    /// Waits until the server has `conns` connections open and this process `fds` descriptors.
    fn descriptors_back(&self, fds: usize, conns: u64, what: &str) {
        let open = || stats(&self.probe).count("connections_open");
        eventually(
            SETTLE,
            || {
                format!(
                    "{what}: {} descriptors open, {fds} before the resets; the server has {} \
                     connections open, {conns} before\n now: {}\n then: {}",
                    open_fds(),
                    open(),
                    fd_list(),
                    self.fd_list
                )
            },
            || open() == conns && open_fds() == fds,
        );
    }
}

/// `/-/stats` over the probe's connection.
fn stats(probe: &RefCell<Client>) -> Stats {
    let r = probe.borrow_mut().request(get("/-/stats").as_bytes());
    assert_eq!(r.status, 200);
    Stats::parse(&r.body_str())
}

/// Where to reset a download of `len` bytes, `count` times: at the head, inside the first
/// piece (the one copied in behind the head), and spread all over the rest.
fn depths(len: usize, count: usize) -> Vec<usize> {
    (0..count)
        .map(|i| match i % 3 {
            0 if i % 2 == 0 => 0,
            0 => 1,
            1 => (i * 7919) % len.min(60_000),
            _ => len / count * i + i,
        })
        .map(|d| d.min(len - 1))
        .collect()
}

#[test]
fn resets_in_the_middle_of_a_1mib_file_response() {
    let b = Bench::new("file");
    let len = b.file.len();
    // One at a time, at many depths.
    for (i, depth) in depths(len, 50).into_iter().enumerate() {
        let mut s = Client::connect_narrow(b.addr(), SMALL_RCVBUF);
        s.send(get("/big.bin").as_bytes());
        read_into_body(&mut s, len, depth, &b.file, &format!("download {i}"));
        s.reset();
    }
    b.settled("50 downloads reset one by one");
    // Twenty at once: the resets arrive in the same batch of events.
    let mut all = Vec::new();
    for i in 0..20 {
        let mut s = Client::connect_narrow(b.addr(), SMALL_RCVBUF);
        s.send(get("/big.bin").as_bytes());
        read_into_body(
            &mut s,
            len,
            i * 1000,
            &b.file,
            &format!("parallel download {i}"),
        );
        all.push(s);
    }
    all.into_iter().for_each(Client::reset);
    b.settled("20 downloads reset together");
    // Half-closed first, then reset.
    for (i, depth) in depths(len, 10).into_iter().enumerate() {
        let mut s = Client::connect_narrow(b.addr(), SMALL_RCVBUF);
        s.send(get("/big.bin").as_bytes());
        s.shutdown_write();
        read_into_body(&mut s, len, depth, &b.file, &format!("half-closed {i}"));
        s.reset();
    }
    b.settled("10 half-closed downloads reset");
    b.finish();
}

#[test]
fn resets_in_the_middle_of_a_stream_or_a_pipelined_batch() {
    let b = Bench::new("stream");
    // A long `/-/bytes/N`: the connection is `Streaming`, refilling as the socket drains.
    let n = scaled(64 * MIB);
    let want = pattern(scaled(2 * MIB));
    for (i, depth) in depths(want.len(), 20).into_iter().enumerate() {
        let mut s = Client::connect_narrow(b.addr(), SMALL_RCVBUF);
        s.send(get(&format!("/-/bytes/{n}")).as_bytes());
        read_into_body(&mut s, n, depth, &want, &format!("/-/bytes {i}"));
        s.reset();
    }
    b.settled("20 streams reset");
    // A pipelined batch of file, stream and small answers, reset partway through.
    let batch: String = (0..8)
        .flat_map(|_| {
            [
                get("/big.bin"),
                get("/-/plaintext"),
                get("/-/bytes/100000"),
                get("/-/stream/50"),
            ]
        })
        .collect();
    let len = b.file.len();
    for (i, depth) in depths(len, 12).into_iter().enumerate() {
        let mut s = Client::connect_narrow(b.addr(), SMALL_RCVBUF);
        s.send(batch.as_bytes());
        read_into_body(&mut s, len, depth, &b.file, &format!("pipelined batch {i}"));
        s.reset();
    }
    // The same batch, reset without reading a byte, and before the server has read it all.
    for i in 0..10 {
        let mut s = Client::connect_narrow(b.addr(), SMALL_RCVBUF);
        s.send(batch.as_bytes());
        if i % 2 == 1 {
            thread::sleep(Duration::from_millis(5));
        }
        s.reset();
    }
    b.settled("pipelined batches reset");
    b.finish();
}

/// Waits until the upload directory holds one temporary file of `size` bytes: the server is
/// then known to be in the middle of that body.
fn upload_reaches(up: &Path, size: u64) {
    eventually(
        SETTLE,
        || format!("no temporary file of {size} B in {up:?}: {:?}", names(up)),
        || {
            let n = names(up);
            n.len() == 1
                && n[0].starts_with(".spindle-upload-")
                && fs::metadata(up.join(&n[0])).is_ok_and(|m| m.len() == size)
        },
    );
}

/// Waits until the upload directory is empty: no file, no temporary file.
fn upload_gone(up: &Path, what: &str) {
    eventually(
        SETTLE,
        || format!("{what}: left behind in {up:?}: {:?}", names(up)),
        || names(up).is_empty(),
    );
}

#[test]
fn resets_in_the_middle_of_a_request_body() {
    let b = Bench::new("body");
    let body = file_bytes(MIB);
    let half = scaled(MIB / 2);
    // How much of the 1 MiB body is sent before the reset.
    let sent = [0, 1, 1000, half, scaled(MIB) - 1];
    // `/-/echo` keeps the body in memory until it is all there.
    for (i, &k) in sent.iter().cycle().take(20).enumerate() {
        let mut s = Client::connect(b.addr());
        let expect = if i % 4 == 3 {
            "Expect: 100-continue\r\n"
        } else {
            ""
        };
        let head =
            format!("POST /-/echo HTTP/1.1\r\nHost: x\r\n{expect}Content-Length: {MIB}\r\n\r\n");
        s.send(head.as_bytes());
        if !expect.is_empty() {
            let head = s.read_head_bytewise();
            assert!(head.starts_with("HTTP/1.1 100 "), "{head}");
        }
        s.send(&body[..k]);
        if i % 2 == 0 {
            thread::sleep(Duration::from_millis(5)); // let the server take it in first
        }
        s.reset();
    }
    b.settled("20 echo bodies reset");
    // A PUT streams into a temporary file: the reset must remove it (and close it).
    let up = b.scratch.join("up");
    for (i, &k) in sent.iter().enumerate() {
        let mut s = Client::connect(b.addr());
        let head =
            format!("PUT /up/put-{i}.bin HTTP/1.1\r\nHost: x\r\nContent-Length: {MIB}\r\n\r\n");
        s.send(head.as_bytes());
        s.send(&body[..k]);
        upload_reaches(&up, k as u64);
        s.reset();
        upload_gone(&up, &format!("PUT reset after {k} B"));
    }
    b.settled("5 uploads reset");
    b.finish();
}

/// A chunked body in pieces of `piece` bytes: the wire bytes, and for each reset point the
/// wire offset and how many data bytes precede it.
fn chunked(data: &[u8], piece: usize) -> (Vec<u8>, Vec<(usize, usize, &'static str)>) {
    let mut wire = Vec::new();
    let mut points = Vec::new();
    let mut done = 0;
    for (i, c) in data.chunks(piece).enumerate() {
        let size = format!("{:x}", c.len());
        if i == 1 {
            points.push((wire.len() + 1, done, "in a size line"));
        }
        wire.extend_from_slice(size.as_bytes());
        wire.extend_from_slice(b"\r\n");
        if i == 2 {
            points.push((wire.len(), done, "after a size line"));
        }
        if i == 3 {
            points.push((wire.len() + c.len() / 2, done + c.len() / 2, "in a chunk"));
        }
        wire.extend_from_slice(c);
        if i == 4 {
            points.push((
                wire.len() + 1,
                done + c.len(),
                "between a chunk's CR and LF",
            ));
        }
        wire.extend_from_slice(b"\r\n");
        done += c.len();
        if i == 5 || i == data.len() / piece / 2 {
            points.push((wire.len(), done, "between chunks"));
        }
    }
    wire.extend_from_slice(b"0\r\n");
    points.push((
        wire.len(),
        done,
        "after the last chunk, before the trailers",
    ));
    wire.extend_from_slice(b"\r\n");
    (wire, points)
}

#[test]
fn resets_in_the_middle_of_a_chunked_upload() {
    let b = Bench::new("chunked");
    let data = file_bytes(scaled(MIB) - 1);
    let (wire, points) = chunked(&data, scaled(16 * 1024));
    let head = |target: &str| {
        format!("{target} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    };
    // The whole upload is answered (the framing is right), before any of it is cut.
    let mut c = Client::connect(b.addr());
    let mut req = head("POST /-/echo").into_bytes();
    req.extend_from_slice(&wire);
    let r = c.request(&req);
    assert_eq!(r.status, 200);
    assert!(r.body == data, "the whole chunked echo came back different");
    drop(c);
    for round in 0..4 {
        for &(at, _, _) in &points {
            let mut s = Client::connect(b.addr());
            s.send(head("POST /-/echo").as_bytes());
            s.send(&wire[..at]);
            if round % 2 == 1 {
                thread::sleep(Duration::from_millis(5)); // let the server take it in first
            }
            s.reset();
        }
    }
    b.settled("chunked echo bodies reset");
    let up = b.scratch.join("up");
    for (i, &(at, data_bytes, where_)) in points.iter().enumerate() {
        let mut s = Client::connect(b.addr());
        s.send(head(&format!("PUT /up/chunked-{i}.bin")).as_bytes());
        s.send(&wire[..at]);
        upload_reaches(&up, data_bytes as u64);
        s.reset();
        upload_gone(&up, &format!("chunked PUT reset {where_}"));
    }
    b.settled("chunked uploads reset");
    b.finish();
}

/// After the last response, the server closes: the client reads EOF, not the read timeout.
fn closes(c: &mut Client, what: &str) {
    match c.try_read_to_close() {
        Ok(rest) => assert!(
            rest.is_empty(),
            "{what}: more after the responses: {:?}",
            String::from_utf8_lossy(&rest)
        ),
        Err(e) => {
            panic!("{what}: the server did not close after the responses to a half-close: {e}")
        }
    }
}

#[test]
fn a_half_close_after_the_requests_still_gets_every_response() {
    let b = Bench::new("halfclose");
    let addr = b.addr();
    // One request, then FIN: the whole response, then the server's close (the keep-alive
    // timeout is far away: only the FIN can end it).
    for path in ["/big.bin", "/-/plaintext"] {
        let mut c = Client::connect(addr);
        c.send(get(path).as_bytes());
        c.shutdown_write();
        let r = c.read_response();
        assert_eq!(r.status, 200, "{path}");
        let want: &[u8] = if path == "/big.bin" {
            &b.file
        } else {
            b"Hello, World!"
        };
        assert!(r.body == want, "{path}: wrong body after a half-close");
        closes(&mut c, path);
    }
    // Two pipelined requests, then FIN: both responses.
    let mut c = Client::connect(addr);
    c.send(format!("{}{}", get("/-/plaintext"), get("/big.bin")).as_bytes());
    c.shutdown_write();
    assert_eq!(c.read_response().body, b"Hello, World!");
    assert!(
        c.read_response().body == b.file,
        "pipelined /big.bin after FIN"
    );
    closes(&mut c, "two pipelined");
    drop(c);
    // A request with a body, then FIN.
    let mut c = Client::connect(addr);
    let body = file_bytes(scaled(200_000));
    c.send(&post("/-/echo", "application/octet-stream", &body));
    c.shutdown_write();
    assert!(c.read_response().body == body, "echo after FIN");
    closes(&mut c, "an echo");
    drop(c);
    // Many small pipelined answers to a client that reads nothing for a while: the server reads
    // the FIN while it still owes most of them, and must send them all before closing.
    let n = 400;
    let mut c = Client::connect_with_recv_buffer(addr, SMALL_RCVBUF);
    c.send(get("/-/plaintext").repeat(n).as_bytes());
    c.shutdown_write();
    thread::sleep(Duration::from_millis(200));
    for i in 0..n {
        let r = c.read_response();
        assert_eq!(r.status, 200, "response {i} of {n}");
        assert_eq!(r.body, b"Hello, World!", "response {i} of {n}");
    }
    closes(&mut c, &format!("{n} pipelined"));
    drop(c);
    // The same with a file between them.
    let mut c = Client::connect_with_recv_buffer(addr, SMALL_RCVBUF);
    c.send(
        format!(
            "{}{}{}",
            get("/-/plaintext"),
            get("/big.bin"),
            get("/-/plaintext")
        )
        .as_bytes(),
    );
    c.shutdown_write();
    thread::sleep(Duration::from_millis(100));
    assert_eq!(c.read_response().body, b"Hello, World!");
    assert!(
        c.read_response().body == b.file,
        "/big.bin between two after FIN"
    );
    assert_eq!(c.read_response().body, b"Hello, World!");
    closes(&mut c, "a file between two");
    drop(c);
    b.settled("half-closes");
    b.finish();
}

/// The count itself is sound: a descriptor left open is seen.
#[test]
fn the_descriptor_count_sees_a_leak() {
    let _serial = serial();
    let before = open_fds();
    let f = fs::File::open("/proc/self/fd").unwrap();
    assert_eq!(open_fds(), before + 1);
    drop(f);
    assert_eq!(open_fds(), before);
}
