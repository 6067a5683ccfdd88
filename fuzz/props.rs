//! The properties the cargo-fuzz targets in `fuzz/` check, one function per target taking the
//! fuzzer's raw bytes and panicking on a violation; `tests/fuzz_seeds.rs` replays the seeds.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

use spindle::buf::OUT_HIGH;
use spindle::conn::script::{split_at, Peer, Script};
use spindle::conn::{Ask, Conn, Drive, Event, Limits, Shared, TimerChange, Transport};
use spindle::files::precondition::{self, Precondition};
use spindle::files::range::{self, Ranges};
use spindle::files::resolve::{normalise, percent_decode, ResolveError, Resolved, Root};
use spindle::files::Files;
use spindle::http::body::BodyDecoder;
use spindle::http::date::{format_http_date, parse_http_date, DateCache};
use spindle::http::multipart;
use spindle::http::parse::{
    leading_empty_lines, parse_head, HeadScanner, Known, ParseError, Slots, MAX_REQUEST_LINE,
};
use spindle::router::Router;
use spindle::trace::Tag;

const TAG: Tag = Tag {
    worker: 1,
    serial: 1,
    traced: true,
};
use spindle::timer::TimerKind;

// The `tls` target's property, in a file of its own (rustls is there only with TLS built in).
#[cfg(feature = "tls")]
#[path = "props_tls.rs"]
mod tls_props;
#[cfg(feature = "tls")]
pub use tls_props::tls;

/// A small deterministic generator, so that a few input bytes choose many split points.
struct Rng(u32);

impl Rng {
    fn new(seed: u32) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9) | 1)
    }

    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }

    /// Uniform in `1..=max` (`max >= 1`).
    fn size(&mut self, max: usize) -> usize {
        1 + self.next() as usize % max
    }
}

/// `data` cut into non-empty pieces of at most `max` bytes, sizes drawn from `rng`.
fn cut<'a>(data: &'a [u8], max: usize, rng: &mut Rng) -> Vec<&'a [u8]> {
    let mut cuts = Vec::new();
    let mut at = 0;
    while at < data.len() {
        at += rng.size(max.min(data.len() - at));
        cuts.push(at);
    }
    split_at(data, &cuts)
}

/// An empty scratch directory, made once per process: ROOT for `resolve` and `conn`.
fn empty_root() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("spindle-fuzz-empty-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the empty fuzzing root");
        dir
    })
}

// ---------------------------------------------------------------------------------------------
// head

/// What the parser makes of a buffer, without the borrowed head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HeadOutcome {
    Complete(usize),
    Partial,
    Refused(ParseError),
}

fn parse_outcome(buf: &[u8], max_head: usize) -> HeadOutcome {
    // Knowing the head's Host, or the head itself (as a later request does), changes nothing.
    let mut known = Known::default();
    let cold = format!(
        "{:?}",
        parse_head(buf, max_head, &mut Slots::default(), &mut known)
    );
    let warm = format!(
        "{:?}",
        parse_head(buf, max_head, &mut Slots::default(), &mut known)
    );
    assert_eq!(cold, warm, "what the first parse taught changed the answer");
    let recalled = format!(
        "{:?}",
        parse_head(buf, max_head, &mut Slots::default(), &mut known)
    );
    assert_eq!(cold, recalled, "the recalled head is not the parsed one");
    // Nor does knowing another head, one that many of these buffers start like.
    let mut other = Known::default();
    let usual = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    for _ in 0..2 {
        let _ = parse_head(usual, max_head, &mut Slots::default(), &mut other);
    }
    let after_other = format!(
        "{:?}",
        parse_head(buf, max_head, &mut Slots::default(), &mut other)
    );
    assert_eq!(cold, after_other, "a known other head changed the answer");
    let mut slots = Slots::default();
    let outcome = match parse_head(buf, max_head, &mut slots, &mut known) {
        Ok(Some(head)) => {
            assert!(buf.starts_with(head.line), "the request line is the start");
            assert!(head.path.starts_with(b"/") || head.path == b"*", "{head:?}");
            HeadOutcome::Complete(head.summary.len)
        }
        Ok(None) => HeadOutcome::Partial,
        Err(e) => HeadOutcome::Refused(e),
    };
    if let HeadOutcome::Complete(len) = outcome {
        assert!(len > 0 && len <= buf.len() && len <= max_head, "{len}");
    }
    outcome
}

fn scan_outcome(r: Result<Option<usize>, ParseError>) -> HeadOutcome {
    match r {
        Ok(Some(len)) => HeadOutcome::Complete(len),
        Ok(None) => HeadOutcome::Partial,
        Err(e) => HeadOutcome::Refused(e),
    }
}

/// Request heads, for three `--max-head` values. The parser never panics; the incremental
/// scanner fed one byte at a time finds what a fresh scan of the whole finds; where the scanner
/// finds an end the parser agrees (so a connection never waits for bytes it already has); and
/// whatever the parser decides on a prefix of the input (a complete head, an error) it decides
/// on the whole — so how a head is split across reads never changes its answer.
pub fn head(data: &[u8]) {
    // The connection drops empty lines before a request line itself (RFC 9112 §2.2).
    let raw = &data[leading_empty_lines(data)..];
    for max_head in [32 * 1024, 8192, 64] {
        head_with(raw, max_head);
    }
}

fn head_with(raw: &[u8], max_head: usize) {
    let whole = parse_outcome(raw, max_head);
    let scanned = scan_outcome(HeadScanner::default().scan(raw, max_head));
    if let HeadOutcome::Complete(len) = whole {
        assert_eq!(scanned, whole, "parser and scanner disagree on the end");
        assert_eq!(parse_outcome(&raw[..len], max_head), whole);
    }
    if let HeadOutcome::Complete(len) = scanned {
        let head_only = parse_outcome(&raw[..len], max_head);
        assert_ne!(
            head_only,
            HeadOutcome::Partial,
            "scanner found an end the parser does not"
        );
        assert_eq!(
            head_only, whole,
            "the bytes after the head changed the answer"
        );
    }

    // The scanner fed byte by byte (its first decision) against one fresh scan of the whole.
    let mut scanner = HeadScanner::default();
    let mut incremental = HeadOutcome::Partial;
    for end in 1..=raw.len() {
        incremental = scan_outcome(scanner.scan(&raw[..end], max_head));
        if incremental != HeadOutcome::Partial {
            break;
        }
    }
    assert!(
        same_decision(incremental, scanned),
        "byte-by-byte scan decided {incremental:?}, a whole scan {scanned:?}"
    );

    // Prefixes: at each line end (and just before it), and at a few even cuts.
    let mut cuts: Vec<usize> = raw
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'\n')
        .flat_map(|(i, _)| [i, i + 1])
        .take(32)
        .collect();
    cuts.extend((1..8).map(|k| raw.len() * k / 8));
    for at in cuts {
        let prefix = parse_outcome(&raw[..at], max_head);
        assert!(
            prefix == HeadOutcome::Partial || same_decision(prefix, whole),
            "a prefix of {at} bytes decided {prefix:?}, the whole {whole:?}"
        );
    }
}

/// Whether a decision taken on part of the input (`early`) gives the answer the whole gives:
/// the same head, or the same status (431 is both `HeadTooLarge` and `TooManyHeaders`).
fn same_decision(early: HeadOutcome, whole: HeadOutcome) -> bool {
    match (early, whole) {
        // `--max-head` bytes without the end of the head are 431, whatever follows; the whole
        // may name another fault first — a request line past the 8 KiB line limit (414), a bad
        // line (400, 501, 505) — but only in a line that ends beyond the limit: had that line
        // ended within it, the prefix would have named it too.
        (HeadOutcome::Refused(ParseError::HeadTooLarge), HeadOutcome::Refused(_)) => true,
        (HeadOutcome::Refused(e), HeadOutcome::Refused(w)) => e.status() == w.status(),
        (e, w) => e == w,
    }
}

// ---------------------------------------------------------------------------------------------
// chunked

/// Body bytes, and where in the stream the body ended (if it did); `Err` for bad framing.
type Decoding = Result<(Vec<u8>, Option<usize>), ()>;

/// Runs a decoder over `pieces` as a connection does, checking `decode`'s contract each step.
fn decode_all(mut dec: BodyDecoder, pieces: &[&[u8]]) -> Decoding {
    let mut body = Vec::new();
    let mut pending = Vec::new();
    let mut offset = 0;
    for piece in pieces {
        pending.extend_from_slice(piece);
        while !pending.is_empty() {
            if dec.is_done() {
                return Ok((body, Some(offset)));
            }
            let d = dec.decode(&pending).map_err(|_| ())?;
            assert!(d.consumed <= pending.len(), "{d:?}");
            assert!(
                d.data.start <= d.data.end && d.data.end <= d.consumed,
                "{d:?}"
            );
            // Nothing consumed from non-empty input would spin the connection's body loop.
            assert!(d.consumed > 0, "no progress on {} bytes", pending.len());
            // "Decodes until it yields some body data, runs out of input, or the body ends."
            assert!(
                d.done || !d.data.is_empty() || d.consumed == pending.len(),
                "{d:?}"
            );
            assert_eq!(d.done, dec.is_done());
            body.extend_from_slice(&pending[d.data.clone()]);
            pending.drain(..d.consumed);
            offset += d.consumed;
            if d.done {
                return Ok((body, Some(offset)));
            }
        }
    }
    Ok((body, None))
}

/// Chunked bodies (the first byte picks split sizes and a `Content-Length`): the decoder keeps
/// its contract, and the body, where it ends and whether it is refused are the same whole, byte
/// by byte and in random pieces. A length body is checked the same way.
pub fn chunked(data: &[u8]) {
    let Some((&sel, raw)) = data.split_first() else {
        return;
    };
    let mut rng = Rng::new(u32::from(sel));
    let bytes: Vec<&[u8]> = raw.chunks(1).collect();
    let pieces = cut(raw, 1 << (sel % 8), &mut rng);
    for dec in [BodyDecoder::chunked(), BodyDecoder::length(u64::from(sel))] {
        let whole = decode_all(dec.clone(), &[raw]);
        assert_eq!(decode_all(dec.clone(), &bytes), whole, "byte by byte");
        assert_eq!(decode_all(dec, &pieces), whole, "in pieces");
    }
    if let Ok((body, end)) = decode_all(BodyDecoder::chunked(), &[raw]) {
        assert!(body.len() <= raw.len());
        assert!(end.is_none_or(|e| e <= raw.len()), "{end:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// range

/// What RFC 9110 §14 says of a single `bytes=a-b`, `bytes=a-` or `bytes=-n` with no whitespace:
/// an oracle written apart from the parser. `None` for any other shape.
fn simple_range(v: &[u8], len: u64) -> Option<Ranges> {
    let spec = v.strip_prefix(b"bytes=")?;
    let dash = spec.iter().position(|&b| b == b'-')?;
    let (a, b) = (&spec[..dash], &spec[dash + 1..]);
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    if v.len() > 1024 || !digits(a) || !digits(b) || (a.is_empty() && b.is_empty()) {
        return None;
    }
    // Decimal strings of any length: compare without leading zeros, as u128 when they fit.
    let value = |s: &[u8]| -> Option<u128> {
        let s = &s[s.iter().position(|&d| d != b'0').unwrap_or(s.len())..];
        (s.len() <= 38).then(|| s.iter().fold(0u128, |n, &d| n * 10 + u128::from(d - b'0')))
    };
    let len128 = u128::from(len);
    let from = |f: u128| match f < len128 {
        true => Ranges::Partial {
            start: f as u64,
            end: len - 1,
        },
        false => Ranges::Unsatisfiable,
    };
    Some(match (value(a), value(b)) {
        // `-n`: the last n bytes.
        _ if a.is_empty() => match value(b) {
            Some(0) => Ranges::Unsatisfiable,
            _ if len == 0 => Ranges::Full,
            n => Ranges::Partial {
                start: len - n.map_or(len128, |n| n.min(len128)) as u64,
                end: len - 1,
            },
        },
        // `a-`.
        (first, _) if b.is_empty() => first.map_or(Ranges::Unsatisfiable, from),
        // `a-b` with b < a is invalid, so ignored.
        (None, Some(_)) => Ranges::Full,
        (Some(f), Some(l)) if l < f => Ranges::Full,
        (Some(f), Some(l)) => match from(f) {
            Ranges::Partial { start, end } => Ranges::Partial {
                start,
                end: end.min(u64::try_from(l).unwrap_or(u64::MAX)),
            },
            other => other,
        },
        (Some(f), None) => from(f),
        // Both over 38 digits: leave their comparison to the parser.
        (None, None) => return None,
    })
}

/// `Range`, `If-Range` and the other conditional headers. Input: a byte choosing lengths, then
/// the Range value, then (after a newline, if any) a second value used as If-Range,
/// If-None-Match and If-Modified-Since. A partial range always lies inside the representation,
/// an empty one never has one, a single simple range matches an oracle, If-Range can only turn
/// a range into the whole, and a date that parses formats back to itself.
pub fn range(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let (value, other) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let etag = "\"5-2ebc6361-2\"";
    let mtime = 784_111_777; // Sun, 06 Nov 1994 08:49:37 GMT
    let sel64 = u64::from(sel);
    for len in [
        0,
        1,
        2,
        sel64,
        sel64 * 1000 + 7,
        1 << 32,
        u64::MAX - sel64,
        u64::MAX,
    ] {
        let plain = range::ranges(Some(value), None, etag, mtime, len);
        if let Ranges::Partial { start, end } = plain {
            assert!(start <= end && end < len, "{start}-{end}/{len}");
            let _ = range::content_range(start, end, len);
        }
        if let Some(want) = simple_range(value, len) {
            assert_eq!(plain, want, "len {len}");
        }
        assert_eq!(range::ranges(None, other, etag, mtime, len), Ranges::Full);
        if let Some(other) = other {
            let guarded = range::ranges(Some(value), Some(other), etag, mtime, len);
            assert!(
                guarded == plain || guarded == Ranges::Full,
                "If-Range changed {plain:?} into {guarded:?}"
            );
        }
    }
    let _ = precondition::check(Some(value), other, etag, mtime);
    let _ = precondition::check(other, Some(value), etag, mtime);
    if precondition::check(Some(b"*"), other, etag, mtime) != Precondition::NotModified {
        panic!("If-None-Match: * always matches an existing resource");
    }
    for v in [Some(value), other].into_iter().flatten() {
        if let Some(secs) = parse_http_date(v) {
            // Up to 9999-12-31T23:59:59, the last moment an IMF-fixdate can say.
            if secs <= 253_402_300_799 {
                let mut text = [0; 29];
                format_http_date(secs, &mut text);
                assert_eq!(parse_http_date(&text), Some(secs));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// resolve

/// Path resolution: whatever the request path, decoding refuses NUL and never grows; the
/// normalised path never climbs (no `..`, empty or `.` segment), never names a dotfile unless
/// asked to, and normalises to itself; and against an empty ROOT only ROOT itself is found.
pub fn resolve(raw: &[u8]) {
    static ROOT: OnceLock<Root> = OnceLock::new();
    let root = ROOT.get_or_init(|| Root::new(empty_root()).expect("canonicalise the empty root"));
    let decoded = percent_decode(raw);
    for show_hidden in [false, true] {
        let found = root.resolve(raw, show_hidden);
        let normal = match &decoded {
            Ok(d) => normalise(d, show_hidden),
            Err(e) => Err(*e),
        };
        match (&normal, &found) {
            (Err(e), Err(f)) => assert_eq!(e, f),
            (Ok((rel, slash)), Ok(Resolved::Dir { path, slash: s })) => {
                assert!(rel.is_empty(), "the empty root holds nothing");
                assert_eq!(path, root.path());
                assert_eq!(slash, s);
            }
            (Ok((rel, _)), Err(ResolveError::NotFound)) => assert!(!rel.is_empty()),
            _ => panic!("normalise gave {normal:?}, resolve gave {found:?}"),
        }
    }
    let Ok(decoded) = decoded else {
        return;
    };
    assert!(!decoded.contains(&0));
    assert!(decoded.len() <= raw.len());
    if !raw.contains(&b'%') {
        assert_eq!(decoded, raw, "nothing to decode");
    }
    for show_hidden in [false, true] {
        let Ok((relative, _)) = normalise(&decoded, show_hidden) else {
            continue;
        };
        if !relative.is_empty() {
            for seg in relative.split(|&b| b == b'/') {
                assert!(!seg.is_empty() && seg != b"." && seg != b"..");
                assert!(show_hidden || seg[0] != b'.');
            }
        }
        let mut again = b"/".to_vec();
        again.extend_from_slice(&relative);
        let (twice, _) = normalise(&again, show_hidden).expect("a normalised path normalises");
        assert_eq!(twice, relative, "normalising is idempotent");
    }
}

// ---------------------------------------------------------------------------------------------
// conn

/// One conn case, decoded from the fuzzer's bytes.
struct ConnCase {
    /// The byte stream the client sends.
    stream: Vec<u8>,
    /// For the split run: largest write (0: none), largest read piece, generator seed.
    write_max: usize,
    piece_max: usize,
    seed: u32,
    eof: bool,
    rdhup: bool,
    /// When nothing more can happen, fire the timer the connection has armed, once.
    fire_timer: bool,
    /// Split run in torture mode (reads and writes of at most 61 bytes).
    torture: bool,
    /// Split run: no `WouldBlock` between pieces (each is still a read of its own).
    no_gaps: bool,
    limits: Limits,
    /// Output bytes after which the peer stops reading, in both runs.
    cap: usize,
    /// ROOT of the server.
    root: &'static Path,
}

/// Longest client stream (after repetition).
const MAX_STREAM: usize = 64 * 1024;

impl ConnCase {
    /// Bytes 0–4 configure, the rest is the stream:
    /// 0: write limit of the split run (0: none);
    /// 1: low nibble: largest read piece is `2^n` bytes; high nibble: generator seed;
    /// 2: flags: 1 EOF, 2 EPOLLRDHUP, 4 fire the last timer, 8 torture, 16 no gaps,
    ///    32 `--max-body 64` and `--max-head 8194`;
    /// 3: generator seed;
    /// 4: from 0xc0 up, the stream is repeated `2^(b & 7)` times (at most 64 KiB in all).
    fn new(data: &[u8]) -> ConnCase {
        let at = |i: usize| data.get(i).copied().unwrap_or(0);
        let (b0, b1, b2, b3, b4) = (at(0), at(1), at(2), at(3), at(4));
        let payload = data.get(5..).unwrap_or_default();
        let times = if b4 >= 0xc0 { 1 << (b4 & 7) } else { 1 };
        let mut stream = payload.repeat(times);
        stream.truncate(MAX_STREAM);
        mask_stats(&mut stream);
        let write_max = usize::from(b0);
        let small = b2 & 32 != 0;
        ConnCase {
            stream,
            write_max,
            piece_max: 1 << (b1 & 15).min(14),
            seed: u32::from(b1 >> 4) << 8 | u32::from(b3),
            eof: b2 & 1 != 0,
            rdhup: b2 & 2 != 0,
            fire_timer: b2 & 4 != 0,
            torture: b2 & 8 != 0,
            no_gaps: b2 & 16 != 0,
            limits: Limits {
                // Above the request-line limit, so that 414 and 431 never depend on the split.
                max_head: if small {
                    MAX_REQUEST_LINE + 2
                } else {
                    32 * 1024
                },
                max_body: if small { 64 } else { 1 << 20 },
            },
            cap: if write_max == 0 {
                256 * 1024
            } else {
                (write_max * 1024).clamp(4096, 256 * 1024)
            },
            root: empty_root(),
        }
    }
}

/// `/-/stats` reports bytes in and out so far, which depend on how the I/O was split: it is the
/// one answer that may differ, so it is never asked for.
fn mask_stats(stream: &mut [u8]) {
    for i in 0..stream.len().saturating_sub(7) {
        if &stream[i..i + 8] == b"/-/stats" {
            stream[i + 7] = b'z';
        }
    }
}

/// How one run delivers the stream and takes the output.
struct Io<'a> {
    pieces: Vec<&'a [u8]>,
    gaps: bool,
    write_max: usize,
    torture: bool,
}

/// The reactor's bookkeeping for the one connection.
struct Rig {
    again_budget: usize,
    agains: usize,
    /// The timer the connection wants armed.
    armed: Option<TimerKind>,
    /// A `/-/delay` is pending.
    delayed: bool,
}

impl Rig {
    /// Drives until the connection stops asking for another turn, then files its timer and
    /// delay as the reactor does.
    fn turn<T: Transport>(&mut self, conn: &mut Conn<T>, sh: &mut Shared) -> Drive {
        loop {
            let mut d = conn.drive(sh);
            match conn.take_ask() {
                Some(Ask::Delay(_)) => self.delayed = true,
                // The helper thread, played here and now: its answer is in before the next turn.
                Some(Ask::Offload(job)) => {
                    let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).ok();
                    conn.offload_done(answer, sh);
                    d = Drive::Again;
                }
                None => {}
            }
            match conn.timer_change() {
                TimerChange::Keep => {}
                TimerChange::Arm(kind) => self.armed = Some(kind),
                TimerChange::Disarm => self.armed = None,
            }
            if d != Drive::Again {
                assert_eq!(d == Drive::Closed, conn.is_closed());
                return d;
            }
            // The next turn of the reactor's loop, with its share of TLS handshakes.
            sh.new_turn(sh.epoch);
            self.agains += 1;
            assert!(
                self.agains <= self.again_budget,
                "Drive::Again {} times: spinning",
                self.agains
            );
        }
    }
}

/// The shared state of a fresh reactor: a router over the empty root, and a pinned `Date` (so
/// outputs compare byte for byte — nothing else in an answer depends on the clock).
fn fresh_shared(root: &Path, limits: &Limits, torture: bool) -> Shared {
    let files = Files::new(root, true, false, false).expect("serve the fuzzing root");
    let mut date = DateCache::default();
    date.refresh(UNIX_EPOCH + Duration::from_secs(1_000_000_000));
    Shared {
        torture,
        date,
        ..Shared::new(Box::new(Router::new(true, files)), limits.clone())
    }
}

/// Drives a connection over `io` the way the reactor does — an event, then turns while it asks
/// for them, then its timer and delay bookkeeping — until it is closed or nothing more can
/// happen: no byte read or written and no delay pending (and, if asked, its timer has fired).
/// Returns everything written.
fn run_conn(case: &ConnCase, io: Io<'_>) -> Vec<u8> {
    let mut peer = Peer::sending(&io.pieces, io.gaps, case.eof);
    peer.write_max = io.write_max;
    peer.cap = case.cap;
    // The reads the script holds, the end of the stream counting as one.
    let n_steps = peer.steps.len() + usize::from(case.eof);
    let script = Script::new(peer);
    let mut sh = fresh_shared(case.root, &case.limits, io.torture);
    let mut conn = Conn::new(script.clone(), TAG, None);

    // Every round of `drive` that reports progress reads, consumes, generates or writes bytes
    // (or changes state, a few times per request): more `Again`s than this is spinning.
    let rounds = 64 + 4 * case.stream.len() + 2 * case.cap + 4 * OUT_HIGH;
    let mut rig = Rig {
        again_budget: rounds / 16,
        agains: 0,
        armed: Some(TimerKind::Request), // the reactor arms it on accept
        delayed: false,
    };
    let mut timer_fired = false;
    // Each event after the first needs a step read, a piece of one, or bytes written.
    let max_events = 64 + 2 * (n_steps + case.stream.len()) + case.cap;
    for event in 0.. {
        assert!(event < max_events, "{event} events and still moving");
        let rdhup = {
            let mut peer = script.peer();
            peer.ready();
            case.rdhup && peer.fin_queued()
        };
        conn.on_event(Event {
            readable: true,
            writable: true,
            read_closed: rdhup,
            error: false,
        });
        if rig.turn(&mut conn, &mut sh) == Drive::Closed {
            break;
        }
        if script.peer().moved {
            continue;
        }
        // Stuck: only a timer can move it now.
        if rig.delayed {
            rig.delayed = false;
            conn.delay_elapsed(&mut sh);
        } else if let (true, false, Some(kind)) = (case.fire_timer, timer_fired, rig.armed) {
            timer_fired = true;
            conn.on_timeout(kind, &mut sh);
        } else {
            break;
        }
        if rig.turn(&mut conn, &mut sh) == Drive::Closed {
            break;
        }
    }
    conn.release(&mut sh.pool);
    let written = std::mem::take(&mut script.peer().written);
    assert!(written.len() <= case.cap);
    assert!(
        written.is_empty() || written.starts_with(&b"HTTP/1.1 "[..written.len().min(9)]),
        "{:?}",
        String::from_utf8_lossy(&written[..written.len().min(200)])
    );
    written
}

/// The whole connection state machine fed arbitrary bytes split arbitrarily, through a
/// [`Script`] transport (see [`ConnCase::new`] for how the first bytes choose the splits, the
/// write limit and the limits). It never panics, never spins, writes nothing but responses, and
/// what it writes with the stream in one read and unlimited writes equals, byte for byte, what
/// it writes with the stream in the chosen pieces and partial writes with `WouldBlock` between.
/// `/-/delay` answers when nothing else can happen (the timer firing), in both runs alike.
/// (This is how it found that a bad line in a head split over several reads was refused only
/// once the head ended; `fuzz/seeds/conn/late-refusal-*` keep those inputs.)
pub fn conn(data: &[u8]) {
    let case = ConnCase::new(data);
    let whole = run_conn(
        &case,
        Io {
            pieces: vec![&case.stream[..]],
            gaps: true,
            write_max: 0,
            torture: false,
        },
    );
    let mut rng = Rng::new(case.seed);
    let split = run_conn(
        &case,
        Io {
            pieces: cut(&case.stream, case.piece_max, &mut rng),
            gaps: !case.no_gaps,
            write_max: case.write_max,
            torture: case.torture,
        },
    );
    if whole != split {
        let at = whole.iter().zip(&split).take_while(|(a, b)| a == b).count();
        let from = at.saturating_sub(300);
        panic!(
            "the split changed the output at byte {at} (whole {} B, split {} B)\n\
             whole: {:?}\nsplit: {:?}",
            whole.len(),
            split.len(),
            String::from_utf8_lossy(&whole[from..whole.len().min(at + 300)]),
            String::from_utf8_lossy(&split[from..split.len().min(at + 300)]),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// bodies

/// A small ROOT with each kind of file answer: a cached file, one sent with `sendfile` (above
/// the cache's 16 KiB), a directory to list.
fn files_root() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("spindle-fuzz-files-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("dir")).expect("create the fuzzing root");
        std::fs::write(dir.join("small.txt"), b"small\n").expect("write small.txt");
        std::fs::write(dir.join("big.bin"), vec![b'b'; 40_000]).expect("write big.bin");
        std::fs::write(dir.join("dir/a.txt"), b"a").expect("write dir/a.txt");
        dir
    })
}

/// The requests a `bodies` case picks from: every kind of answer.
const BODY_REQUESTS: [&str; 16] = [
    "GET /small.txt",
    "GET /big.bin",
    "HEAD /big.bin",
    "GET /big.bin\r\nRange: bytes=0-9",
    "GET /dir/",
    "GET /dir",
    "GET /small.txt\r\nIf-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT",
    "GET /nope",
    "POST /small.txt",
    "GET /-/plaintext",
    "GET /-/bytes/3000",
    "GET /-/stream/3",
    "GET /-/delay/1",
    "GET /-/status/503",
    "POST /-/echo",
    "HEAD /-/stream/2",
];

/// Builds a client stream from the fuzzer's bytes: per request, one byte picks the request
/// (low nibble), its body framing (bits 4–5: none, `Content-Length`, chunked, two chunks) and
/// `Expect: 100-continue` (bit 6); the next byte is the body's length, then the body itself
/// (any bytes: a request hidden there is what this target looks for). Returns the stream and,
/// per request, whether it is a HEAD.
fn body_case(data: &[u8]) -> (Vec<u8>, Vec<bool>) {
    let mut stream = Vec::new();
    let mut heads = Vec::new();
    let mut rest = data;
    while let [pick, len, tail @ ..] = rest {
        if heads.len() == 6 {
            break;
        }
        let body = &tail[..usize::from(*len).min(tail.len())];
        rest = &tail[body.len()..];
        let request = BODY_REQUESTS[usize::from(pick & 15)];
        heads.push(request.starts_with("HEAD "));
        stream.extend_from_slice(request.as_bytes());
        stream.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\n");
        if pick & 64 != 0 {
            stream.extend_from_slice(b"Expect: 100-continue\r\n");
        }
        match (pick >> 4) & 3 {
            0 => stream.extend_from_slice(b"\r\n"), // no body: its bytes are not sent
            1 => {
                stream.extend_from_slice(
                    format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes(),
                );
                stream.extend_from_slice(body);
            }
            framing => {
                stream.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                let halves = if framing == 3 {
                    body.split_at(body.len() / 2)
                } else {
                    (body, &[][..])
                };
                for part in [halves.0, halves.1] {
                    if !part.is_empty() {
                        stream.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
                        stream.extend_from_slice(part);
                        stream.extend_from_slice(b"\r\n");
                    }
                }
                stream.extend_from_slice(b"0\r\n\r\n");
            }
        }
    }
    (stream, heads)
}

/// Counts the final responses in `out` (a `100 Continue` is not one), reading each body by its
/// own framing; `heads[i]` says whether the i-th request was a HEAD. Panics on output that is
/// not a sequence of well-framed responses.
fn count_answers(mut out: &[u8], heads: &[bool]) -> usize {
    let mut answers = 0;
    while !out.is_empty() {
        let end = out
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| {
                panic!(
                    "a response head without its end: {:?}",
                    String::from_utf8_lossy(out)
                )
            });
        let head = String::from_utf8_lossy(&out[..end]).to_ascii_lowercase();
        out = &out[end + 4..];
        let status: u16 = head
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("status line {head:?}"));
        if status == 100 {
            continue;
        }
        answers += 1;
        let is_head = heads.get(answers - 1).copied().unwrap_or(false);
        if is_head || status == 204 || status == 304 {
            continue;
        }
        let field = |name: &str| {
            head.lines()
                .find_map(|l| l.strip_prefix(name).map(str::trim).map(str::to_string))
        };
        if field("transfer-encoding:").is_some() {
            loop {
                let nl = out
                    .windows(2)
                    .position(|w| w == b"\r\n")
                    .unwrap_or_else(|| panic!("chunk size line"));
                let size = usize::from_str_radix(&String::from_utf8_lossy(&out[..nl]), 16)
                    .unwrap_or_else(|_| panic!("chunk size"));
                out = &out[(nl + 2 + size + 2).min(out.len())..];
                if size == 0 {
                    break;
                }
            }
        } else if let Some(n) = field("content-length:") {
            let n: usize = n.parse().unwrap_or_else(|_| panic!("Content-Length {n:?}"));
            out = &out[n.min(out.len())..];
        } else {
            break; // close-delimited: the rest is its body
        }
    }
    answers
}

/// Requests with bodies nobody reads, each followed by more requests: the connection throws
/// every such body away before the next head (or closes), whatever the answer was, so it never
/// answers more requests than it was sent — an answer made from a body's bytes would be
/// request smuggling. Checked with the stream in one piece and in pieces.
pub fn bodies(data: &[u8]) {
    let (stream, heads) = body_case(data);
    let mut case = ConnCase::new(&[]);
    case.stream = stream;
    case.eof = true;
    case.cap = 1 << 20;
    case.root = files_root();
    let mut rng = Rng::new(data.iter().map(|&b| u32::from(b)).sum());
    for pieces in [vec![&case.stream[..]], cut(&case.stream, 64, &mut rng)] {
        let out = run_conn(
            &case,
            Io {
                pieces,
                gaps: true,
                write_max: 0,
                torture: false,
            },
        );
        let answers = count_answers(&out, &heads);
        assert!(
            answers <= heads.len(),
            "{answers} answers to {} requests: {:?}\n{:?}",
            heads.len(),
            String::from_utf8_lossy(&case.stream),
            String::from_utf8_lossy(&out)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// multipart

/// What a multipart body gave: its events (data merged, however it was sliced) and the
/// verdict of its end.
type Parts = (Vec<(u8, Vec<u8>)>, Result<(), multipart::Error>);

/// `pieces` fed to a parser for the boundary `b`, then `finish`.
fn parse_parts(pieces: &[&[u8]]) -> Parts {
    let mut p = multipart::Parser::new(b"b");
    let mut evs: Vec<(u8, Vec<u8>)> = Vec::new();
    let mut on = |e: multipart::Event<'_>| -> Result<(), multipart::Error> {
        match e {
            multipart::Event::Part { name, filename } => {
                let mut v = name.to_vec();
                v.push(0);
                v.extend_from_slice(filename.unwrap_or(b"(none)"));
                evs.push((b'P', v));
            }
            multipart::Event::Data(d) => {
                assert!(!d.is_empty(), "an empty data event");
                match evs.last_mut() {
                    Some((b'D', prev)) => prev.extend_from_slice(d),
                    _ => evs.push((b'D', d.to_vec())),
                }
            }
            multipart::Event::PartEnd => evs.push((b'E', Vec::new())),
            multipart::Event::End => evs.push((b'Z', Vec::new())),
        }
        Ok(())
    };
    for piece in pieces {
        if let Err(e) = p.feed(piece, &mut on) {
            return (evs, Err(e));
        }
    }
    (evs, p.finish())
}

/// Multipart bodies (boundary `b`; the first byte picks split sizes): never a panic, and the
/// same events and verdict whole, byte by byte and in random pieces. The data of the parts
/// never adds up to more than the input.
pub fn multipart(data: &[u8]) {
    let Some((&sel, raw)) = data.split_first() else {
        return;
    };
    let mut rng = Rng::new(u32::from(sel));
    let whole = parse_parts(&[raw]);
    let bytes: Vec<&[u8]> = raw.chunks(1).collect();
    assert_eq!(parse_parts(&bytes), whole, "byte by byte");
    assert_eq!(
        parse_parts(&cut(raw, 1 << (sel % 8), &mut rng)),
        whole,
        "in pieces"
    );
    let data_len: usize = whole
        .0
        .iter()
        .filter(|e| e.0 == b'D')
        .map(|e| e.1.len())
        .sum();
    assert!(data_len <= raw.len());
}
