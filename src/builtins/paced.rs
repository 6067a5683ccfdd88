//! Bodies on the reactor's timer, never a sleep or a thread: `/-/drip` (N bytes spread evenly
//! over a duration, after a delay) and `/-/sse` (server-sent events at an interval). Each
//! says when its next piece is due ([`Stream::due_in`]); the connection waits on the reactor's
//! timer meanwhile, holding no buffer, and a client that leaves frees it at once.

use std::time::{Duration, Instant, SystemTime};

use super::{number, query};
use crate::handler::{Action, Body, Response, Stream};

/// Largest `/-/drip` body.
pub const MAX_DRIP_BYTES: u64 = 10 << 20;
/// Longest `/-/drip` duration or delay, and `/-/sse` interval.
pub const MAX_PACE_MS: u64 = 60_000;
/// Most `/-/sse` events.
pub const MAX_EVENTS: u64 = 100_000;
/// A drip's pieces are at least this far apart: 10 000 drips cost at most 100 timer events a
/// second each, however many bytes they carry.
pub const DRIP_TICK: Duration = Duration::from_millis(10);

/// `/-/drip?bytes=N&duration=MS&delay=MS&code=C` (defaults 10 bytes, 2000 ms, no delay, 200):
/// after the delay, the head, then N `*` bytes in even pieces, the last at `duration`.
pub fn drip(query: Option<&[u8]>) -> Action {
    let args = (|| {
        let bytes = arg(query, "bytes", 10, MAX_DRIP_BYTES).ok_or(WHY_BYTES)?;
        let duration = arg(query, "duration", 2000, MAX_PACE_MS).ok_or(WHY_DURATION)?;
        let delay = arg(query, "delay", 0, MAX_PACE_MS).ok_or(WHY_DELAY)?;
        let code = arg(query, "code", 200, 599)
            .filter(|&c| c >= 200)
            .ok_or(WHY_CODE)?;
        Ok((bytes, duration, delay, code as u16))
    })();
    let (bytes, duration, delay, code) = match args {
        Ok(args) => args,
        Err(why) => return Action::Respond(Response::bad_request(why)),
    };
    let duration = Duration::from_millis(duration);
    let steps = bytes
        .min(duration.as_millis() as u64 / DRIP_TICK.as_millis() as u64)
        .max(1);
    let drip = Drip {
        bytes,
        sent: 0,
        steps: steps as u32,
        piece: 0,
        duration,
        start: None,
    };
    let response = Response::new(
        code,
        "application/octet-stream",
        Body::Stream(Box::new(drip)),
    );
    match delay {
        0 => Action::Respond(response),
        ms => Action::Delay(Duration::from_millis(ms), response),
    }
}

/// `/-/sse?count=N&interval=MS` (defaults 10 events, 1000 ms): `text/event-stream`, one event
/// at once and one every interval after, each in its own chunk, so that a proxy that buffers
/// shows.
pub fn sse(query: Option<&[u8]>) -> Action {
    let args = (|| {
        let count = arg(query, "count", 10, MAX_EVENTS).ok_or(WHY_COUNT)?;
        let interval = arg(query, "interval", 1000, MAX_PACE_MS).ok_or(WHY_INTERVAL)?;
        Ok::<_, &'static str>((count, interval))
    })();
    let (count, interval) = match args {
        Ok(args) => args,
        Err(why) => return Action::Respond(Response::bad_request(why)),
    };
    let events = Events {
        next: 0,
        count,
        interval: Duration::from_millis(interval),
        start: None,
    };
    let response = Response::new(200, "text/event-stream", Body::Stream(Box::new(events)))
        .with_header("Cache-Control", "no-cache")
        // nginx, as a proxy, passes each event on at once rather than buffering the stream.
        .with_header("X-Accel-Buffering", "no");
    Action::Respond(response)
}

/// `bytes` bytes in `steps` even pieces; piece `k` (from 0) is due at `duration·(k+1)/steps`
/// after the body starts, so the last byte leaves at `duration`.
struct Drip {
    bytes: u64,
    sent: u64,
    steps: u32,
    piece: u32,
    duration: Duration,
    /// When the first piece was asked for (after any delay, once the head is queued).
    start: Option<Instant>,
}

impl Drip {
    /// Bytes sent once piece `k` is out.
    fn through(&self, k: u32) -> u64 {
        self.bytes * (u64::from(k) + 1) / u64::from(self.steps)
    }
}

impl Stream for Drip {
    fn length(&self) -> Option<u64> {
        Some(self.bytes)
    }

    fn due_in(&mut self) -> Option<Duration> {
        let start = *self.start.get_or_insert_with(Instant::now);
        let due = start + self.duration * (self.piece + 1) / self.steps;
        due.checked_duration_since(Instant::now())
    }

    fn fill(&mut self, out: &mut Vec<u8>, max: usize) -> bool {
        let target = self.through(self.piece);
        let n = (target - self.sent).min(max as u64);
        out.resize(out.len() + n as usize, b'*');
        self.sent += n;
        if self.sent == target {
            self.piece += 1;
        }
        self.sent < self.bytes
    }
}

/// `count` server-sent events, event `k` due at `interval·k` after the stream starts.
struct Events {
    next: u64,
    count: u64,
    interval: Duration,
    start: Option<Instant>,
}

impl Stream for Events {
    fn length(&self) -> Option<u64> {
        None
    }

    fn due_in(&mut self) -> Option<Duration> {
        let start = *self.start.get_or_insert_with(Instant::now);
        let k = u32::try_from(self.next).unwrap_or(u32::MAX);
        (start + self.interval * k).checked_duration_since(Instant::now())
    }

    fn fill(&mut self, out: &mut Vec<u8>, _max: usize) -> bool {
        if self.next < self.count {
            let id = itoa::Buffer::new().format(self.next).to_owned();
            let ms = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            out.extend_from_slice(b"id: ");
            out.extend_from_slice(id.as_bytes());
            out.extend_from_slice(b"\nevent: ping\ndata: {\"id\":");
            out.extend_from_slice(id.as_bytes());
            out.extend_from_slice(b",\"timestamp_ms\":");
            out.extend_from_slice(itoa::Buffer::new().format(ms).as_bytes());
            out.extend_from_slice(b"}\n\n");
            self.next += 1;
        }
        self.next < self.count
    }
}

// What a bad parameter's 400 says (a test checks that each names its cap).
const WHY_BYTES: &str = "bytes must be a whole number from 0 to 10485760\n";
const WHY_DURATION: &str = "duration must be a whole number of ms from 0 to 60000\n";
const WHY_DELAY: &str = "delay must be a whole number of ms from 0 to 60000\n";
const WHY_CODE: &str = "code must be a status from 200 to 599\n";
const WHY_COUNT: &str = "count must be a whole number from 0 to 100000\n";
const WHY_INTERVAL: &str = "interval must be a whole number of ms from 0 to 60000\n";

/// The number `name` has in `query` (`default` if absent), if it is one of at most `max`.
fn arg(query: Option<&[u8]>, name: &str, default: u64, max: u64) -> Option<u64> {
    let Some(raw) = query::raw_value(query, name) else {
        return Some(default);
    };
    let mut buf = [0u8; 16];
    query::decode(raw, &mut buf)
        .ok()
        .and_then(number)
        .filter(|&n| n <= max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drip_pieces_add_up_and_end_on_the_last() {
        for (bytes, steps) in [(10, 10), (10, 3), (1000, 7), (1, 1), (5, 200)] {
            let steps = steps.min(bytes).max(1);
            let mut d = Drip {
                bytes,
                sent: 0,
                steps: steps as u32,
                piece: 0,
                duration: Duration::ZERO,
                start: None,
            };
            let mut out = Vec::new();
            let mut fills = 0;
            while d.fill(&mut out, 4) {
                fills += 1;
                assert!(fills < 10_000);
            }
            assert_eq!(out.len() as u64, bytes);
            assert_eq!(d.piece, steps as u32, "{bytes} in {steps}");
        }
    }

    #[test]
    fn args() {
        let q = Some(&b"bytes=5&duration=&x&code=201&delay=%31%30"[..]);
        assert_eq!(arg(q, "bytes", 10, 100), Some(5));
        assert_eq!(arg(q, "duration", 10, 100), None);
        assert_eq!(arg(q, "x", 10, 100), None);
        assert_eq!(arg(q, "code", 10, 100), None);
        assert_eq!(arg(q, "delay", 7, 100), Some(10));
        assert_eq!(arg(q, "interval", 7, 100), Some(7));
        assert_eq!(arg(None, "bytes", 3, 100), Some(3));
    }

    #[test]
    fn reasons_name_their_caps() {
        for (why, cap) in [
            (WHY_BYTES, MAX_DRIP_BYTES),
            (WHY_DURATION, MAX_PACE_MS),
            (WHY_DELAY, MAX_PACE_MS),
            (WHY_COUNT, MAX_EVENTS),
            (WHY_INTERVAL, MAX_PACE_MS),
        ] {
            assert!(why.ends_with(&format!(" to {cap}\n")), "{why}");
        }
    }
}
