#![cfg(test)]
// (Declared in conn.rs as `#[cfg(test)] mod tests;`: test code only.)
//! The connection state machine driven through the scripted transport of `script.rs`: any split
//! of the input, any split of the output, `WouldBlock` anywhere — and no socket.

use proptest::prelude::*;

use super::script::{split_at, Fixed, Peer, Script, Step};
use super::*;
use crate::buf::IN_SIZE;
use crate::handler::{Action, Body, Context, Response};
use crate::router::Router;
use crate::trace::Tag;

const TAG: Tag = Tag {
    worker: 1,
    serial: 1,
    traced: true,
};

/// Static files from an empty scratch directory: every path outside `/-/` is 404.
fn empty_root() -> crate::files::Files {
    let dir = std::env::temp_dir().join(format!("spindle-conn-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    crate::files::Files::new(&dir, true, false, false).unwrap()
}

/// `/-/plaintext`'s answer without the `Router`: for tests that need some answer, no files.
fn plaintext() -> Fixed {
    Fixed {
        path: b"/-/plaintext",
        body: b"Hello, World!",
    }
}

struct Rig {
    sh: Shared,
}

impl Rig {
    /// A reactor whose handler is [`plaintext`].
    fn new() -> Self {
        Rig {
            sh: Shared::new(
                Box::new(plaintext()),
                Limits {
                    max_head: 32 * 1024,
                    max_body: 1 << 20,
                },
            ),
        }
    }

    /// A reactor with the server's handler (`/-/` and an empty ROOT), for tests of what the
    /// connection does with its answers (streamed bodies, statuses, request bodies).
    fn router() -> Self {
        let mut rig = Rig::new();
        rig.sh.handler = Box::new(Router::new(true, empty_root()));
        rig
    }

    /// Drives `conn` the way the reactor would: an event, then turns until it waits, repeated
    /// while the script has steps left. Returns the last `Drive`.
    fn run(&mut self, conn: &mut Conn<Script>) -> Drive {
        let mut last = Drive::Wait;
        for _ in 0..100_000 {
            conn.io.peer().ready();
            conn.on_event(Event {
                readable: true,
                writable: true,
                ..Event::default()
            });
            loop {
                let sh = &mut self.sh;
                last = conn.drive(sh);
                if last != Drive::Again {
                    break;
                }
            }
            let busy = conn.owed() > 0 || matches!(conn.state, State::SendingBody { .. });
            if last == Drive::Closed || (conn.io.peer().drained() && !busy) {
                break;
            }
        }
        last
    }
}

/// A connection whose peer sends `raw` in one read and takes at most `write_max` bytes a write.
fn conn(raw: &[u8], write_max: usize) -> Conn<Script> {
    let mut peer = Peer::sending(&[raw], false, false);
    peer.write_max = write_max;
    Conn::new(Script::new(peer), TAG, None)
}

/// What the server wrote so far.
fn written(c: &Conn<Script>) -> Vec<u8> {
    c.io.peer().written.clone()
}

/// Everything `rig` wrote for `input` delivered as `pieces`, each followed by WouldBlock.
fn output_for(mut rig: Rig, pieces: &[&[u8]], write_max: usize, eof: bool) -> (Vec<u8>, Drive) {
    let mut peer = Peer::sending(pieces, true, eof);
    peer.write_max = write_max;
    let mut c = Conn::new(Script::new(peer), TAG, None);
    let last = rig.run(&mut c);
    (written(&c), last)
}

const GET: &[u8] = b"GET /-/plaintext HTTP/1.1\r\nHost: x\r\n\r\n";

#[test]
fn one_request_one_response() {
    let (out, last) = output_for(Rig::new(), &[GET], 0, false);
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\nHello, World!"), "{text}");
    assert_eq!(last, Drive::Wait);
}

#[test]
fn byte_at_a_time_equals_all_at_once() {
    let whole = output_for(Rig::new(), &[GET], 0, false).0;
    let bytes: Vec<&[u8]> = GET.chunks(1).collect();
    assert_eq!(output_for(Rig::new(), &bytes, 0, false).0, whole);
}

#[test]
fn tiny_partial_writes_deliver_everything() {
    let raw = b"GET /-/bytes/100000 HTTP/1.1\r\nHost: x\r\n\r\n";
    let (out, _) = output_for(Rig::router(), &[raw], 7, false);
    let body_at = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(out.len() - body_at, 100_000);
    assert!(out[body_at..]
        .iter()
        .enumerate()
        .all(|(i, &b)| b == crate::builtins::PATTERN[i % 64]));
}

#[test]
fn pipelined_requests_are_answered_in_order_in_one_write() {
    let mut raw = Vec::new();
    for code in 200..210 {
        raw.extend_from_slice(
            format!("GET /-/status/{code} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
        );
    }
    let mut rig = Rig::router();
    let mut c = conn(&raw, 0);
    rig.run(&mut c);
    let text = String::from_utf8(written(&c)).unwrap();
    let codes: Vec<&str> = text.split("HTTP/1.1 ").skip(1).map(|r| &r[..3]).collect();
    let want: Vec<String> = (200..210).map(|c| c.to_string()).collect();
    assert_eq!(codes, want);
    assert_eq!(c.io.peer().writes, 1, "ten responses, one write");
}

#[test]
fn idle_connection_holds_no_buffers() {
    let mut rig = Rig::new();
    let mut c = conn(GET, 0);
    rig.run(&mut c);
    assert!(!written(&c).is_empty());
    assert!(!c.holds_buffers());
}

#[test]
fn buffers_shrink_back_after_a_large_request() {
    // A 30 KiB head (the input buffer grows past 16 KiB) asking for a 1 MiB answer that is
    // read slowly (the output buffer fills to its high-water mark), then the connection idles.
    let mut rig = Rig::router();
    let head = format!(
        "GET /-/bytes/1048576 HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(30 * 1024)
    );
    let mut c = conn(head.as_bytes(), 7000);
    rig.run(&mut c);
    assert!(written(&c).starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert!(written(&c).len() > 1 << 20, "the whole answer went out");
    assert!(!c.holds_buffers(), "idle: no buffers held");
    let cap = 8 * (crate::buf::IN_SIZE + 128 * 1024);
    assert!(
        rig.sh.pool.free_bytes() <= cap,
        "the pool kept {} bytes",
        rig.sh.pool.free_bytes()
    );
    // The grown input buffer was not kept: only buffers of the standard size go back.
    let next = rig.sh.pool.take_input();
    assert_eq!(next.len(), crate::buf::IN_SIZE);
    assert!(
        next.capacity() < 2 * crate::buf::IN_SIZE,
        "{}",
        next.capacity()
    );
}

#[test]
fn half_close_after_request_still_gets_the_response() {
    let (out, last) = output_for(Rig::new(), &[GET], 0, true);
    assert!(out.ends_with(b"Hello, World!"));
    assert_eq!(last, Drive::Closed);
}

#[test]
fn error_closes_gracefully() {
    let mut rig = Rig::new();
    let mut c = conn(b"BAD\r\n\r\nmore junk", 0);
    let last = rig.run(&mut c);
    assert!(written(&c).starts_with(b"HTTP/1.1 400 Bad Request\r\n"));
    assert!(c.io.peer().shut, "write side shut down before closing");
    assert_eq!(last, Drive::Wait, "lingering, not yet closed");
    assert!(matches!(c.state, State::Lingering));
}

/// A TLS connection's close goes through `shutdown_write` (which sends close_notify, and the
/// FIN only once it is out) even after a plain `Connection: close` answer: closing the socket
/// straight away could leave the close_notify unsent on a full socket (seen in CI's torture
/// pass: `openssl s_client` reported "unexpected eof").
#[test]
fn a_secure_connection_closes_with_a_half_close() {
    const CLOSE: &[u8] = b"GET /-/plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let mut rig = Rig::new();
    let mut c = conn(CLOSE, 0);
    c.io.peer().secure = true;
    let last = rig.run(&mut c);
    assert!(written(&c).ends_with(b"Hello, World!"));
    assert!(c.io.peer().shut, "closed without shutdown_write");
    assert_eq!(last, Drive::Wait, "lingering, not yet closed");
    // A plain connection closes at once.
    let mut c = conn(CLOSE, 0);
    assert_eq!(rig.run(&mut c), Drive::Closed);
    assert!(!c.io.peer().shut);
}

#[test]
fn output_high_water_stops_reading() {
    // 1000 pipelined requests for 64 KiB each, and a peer that never reads.
    let mut raw = Vec::new();
    for _ in 0..1000 {
        raw.extend_from_slice(b"GET /-/bytes/65536 HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    let mut rig = Rig::router();
    let mut c = conn(&raw, 1);
    // Writes: the first takes 1 byte, then everything is WouldBlock (until the next event).
    c.on_event(Event {
        readable: true,
        writable: true,
        ..Event::default()
    });
    let sh = &mut rig.sh;
    let d = c.drive(sh);
    assert_ne!(d, Drive::Again, "blocked on output, not spinning");
    assert!(c.owed() <= OUT_HIGH + 1024, "owed {}", c.owed());
    assert!(c.buf.end - c.buf.start <= c.buf.input.len());
    assert!(c.buf.input.len() <= IN_SIZE, "input did not grow");
    assert_eq!(
        c.io.peer().reads,
        1,
        "stopped reading once output backed up"
    );
}

#[test]
fn head_timeout_with_partial_request_is_408() {
    let mut rig = Rig::new();
    let mut c = conn(b"GET / HT", 0);
    rig.run(&mut c);
    let sh = &mut rig.sh;
    c.on_timeout(TimerKind::Request, sh);
    c.drive(sh);
    assert!(written(&c).starts_with(b"HTTP/1.1 408 "));
}

#[test]
fn head_timeout_without_bytes_closes_quietly() {
    let mut rig = Rig::new();
    let mut c = conn(b"", 0);
    let sh = &mut rig.sh;
    c.on_timeout(TimerKind::Request, sh);
    assert_eq!(c.drive(sh), Drive::Closed);
    assert!(written(&c).is_empty());
}

#[test]
fn timer_follows_the_state() {
    let mut rig = Rig::new();
    let mut c = conn(GET, 0);
    assert_eq!(c.timer.armed, Some(TimerKind::Request));
    rig.run(&mut c);
    assert_eq!(c.timer_change(), TimerChange::Arm(TimerKind::Idle));
    assert_eq!(
        c.timer_change(),
        TimerChange::Keep,
        "no churn when nothing changed"
    );
    c.io.peer().steps.push_back(Step::Data(GET.to_vec()));
    rig.run(&mut c);
    assert_eq!(
        c.timer_change(),
        TimerChange::Arm(TimerKind::Idle),
        "another request restarts the idle time"
    );
}

/// A mixed pipelined stream: plain GETs, HEAD, bodies by length and chunked, a delay-free
/// status, ending with a close.
fn mixed_stream() -> Vec<u8> {
    let mut raw = Vec::new();
    raw.extend_from_slice(GET);
    raw.extend_from_slice(b"HEAD /-/json HTTP/1.1\r\nHost: x\r\n\r\n");
    raw.extend_from_slice(b"POST /-/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    raw.extend_from_slice(
        b"PUT /-/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n",
    );
    raw.extend_from_slice(
        b"POST /-/status/201 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz",
    );
    raw.extend_from_slice(b"\r\nGET /-/stream/3 HTTP/1.1\r\nHost: x\r\n\r\n");
    raw.extend_from_slice(b"GET /nope HTTP/1.0\r\n\r\n");
    raw
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// However the input is split, and however small the writes, the output is the same.
    #[test]
    fn every_split_gives_the_same_responses(
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
        write_max in prop_oneof![Just(0usize), 1usize..64],
    ) {
        let raw = mixed_stream();
        let (whole, _) = output_for(Rig::router(), &[&raw], 0, false);
        let points: Vec<usize> = cuts.iter().map(|c| c.index(raw.len() + 1)).collect();
        let pieces = split_at(&raw, &points);
        let (split, end) = output_for(Rig::router(), &pieces, write_max, false);
        prop_assert_eq!(String::from_utf8_lossy(&split), String::from_utf8_lossy(&whole));
        prop_assert_eq!(end, Drive::Closed);
    }

    /// Arbitrary bytes in arbitrary pieces never panic the connection.
    #[test]
    fn arbitrary_input_never_panics(
        pieces in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..8),
    ) {
        let refs: Vec<&[u8]> = pieces.iter().map(|p| &p[..]).collect();
        let _ = output_for(Rig::new(), &refs, 3, true);
    }
}

/// Answers every request with bytes 10.. of a scratch file (a `Body::File`).
struct FileHandler {
    path: std::path::PathBuf,
}

impl Handler for FileHandler {
    fn handle(&mut self, _req: &crate::handler::Request<'_>, _cx: &Context<'_>) -> Action {
        let file = std::fs::File::open(&self.path).unwrap();
        let len = file.metadata().unwrap().len() - 10;
        Action::Respond(Response::new(
            200,
            "application/octet-stream",
            Body::File {
                file,
                offset: 10,
                len,
            },
        ))
    }
}

#[test]
fn file_bodies_are_copied_when_the_transport_cannot_sendfile() {
    let path = std::env::temp_dir().join(format!("spindle-conn-file-{}", std::process::id()));
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    let mut rig = Rig::new();
    rig.sh.handler = Box::new(FileHandler { path: path.clone() });
    let mut raw = GET.to_vec();
    raw.extend_from_slice(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
    raw.extend_from_slice(GET);
    let mut c = conn(&raw, 1000);
    rig.run(&mut c);
    let out = &written(&c);
    let heads: Vec<usize> = out
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"\r\n\r\n")
        .map(|(i, _)| i + 4)
        .collect();
    let body1 = &out[heads[0]..heads[0] + data.len() - 10];
    assert_eq!(body1, &data[10..]);
    // The HEAD answer has the length and no body; the next GET follows right after it.
    assert!(out[heads[0] + data.len() - 10..].starts_with(b"HTTP/1.1 200 OK"));
    assert!(out.ends_with(&data[data.len() - 1000..]));
    assert_eq!(c.timer_change(), TimerChange::Arm(TimerKind::Idle));
    std::fs::remove_file(path).unwrap();
}

/// Promises more bytes of a file than the file has, as a file that shrank after its length was
/// taken would.
struct ShrunkHandler {
    path: std::path::PathBuf,
}

impl Handler for ShrunkHandler {
    fn handle(&mut self, _req: &crate::handler::Request<'_>, _cx: &Context<'_>) -> Action {
        let file = std::fs::File::open(&self.path).unwrap();
        Action::Respond(Response::new(
            200,
            "application/octet-stream",
            Body::File {
                file,
                offset: 0,
                len: 500_000,
            },
        ))
    }
}

#[test]
fn a_file_that_shrank_ends_the_connection_instead_of_spinning() {
    let path = std::env::temp_dir().join(format!("spindle-conn-shrunk-{}", std::process::id()));
    std::fs::write(&path, vec![b'x'; 100_000]).unwrap();
    let mut rig = Rig::new();
    rig.sh.handler = Box::new(ShrunkHandler { path: path.clone() });
    let mut c = conn(GET, 0);
    assert_eq!(rig.run(&mut c), Drive::Closed);
    let out = written(&c);
    let head_end = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(
        out.len() - head_end,
        100_000,
        "what there was, then the close"
    );
    std::fs::remove_file(path).unwrap();
}

/// Panics on every request.
struct Panicky;

impl Handler for Panicky {
    fn handle(&mut self, _req: &crate::handler::Request<'_>, _cx: &Context<'_>) -> Action {
        panic!("a handler bug");
    }
}

#[test]
fn a_panicking_handler_costs_one_500_and_that_connection_only() {
    let mut rig = Rig::new();
    rig.sh.handler = Box::new(Panicky);
    let mut raw = GET.to_vec();
    raw.extend_from_slice(GET);
    let mut c = conn(&raw, 0);
    let last = rig.run(&mut c);
    let text = String::from_utf8_lossy(&written(&c)).into_owned();
    assert!(
        text.starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
        "{text}"
    );
    assert!(text.contains("Connection: close\r\n"), "{text}");
    assert_eq!(
        text.matches("HTTP/1.1").count(),
        1,
        "the pipelined request is not served"
    );
    assert_ne!(last, Drive::Again);
    // The same reactor state serves the next connection normally.
    rig.sh.handler = Box::new(plaintext());
    let mut next = conn(GET, 0);
    rig.run(&mut next);
    assert!(written(&next).ends_with(b"Hello, World!"));
}
