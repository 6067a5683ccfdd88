//! The access log (SPEC §7): one Combined Log Format line per request, gathered into batches on
//! each worker's reactor thread (its front, [`AccessLog`]) and written by one thread for all
//! workers ([`Writer`], in `writer.rs`), so a slow disk or pipe never stalls serving and lines
//! from different workers never interleave.
//!
//! Nothing here ever waits for the writer: a stalled reader of a FIFO or of standard output
//! costs lines (dropped and counted), never the reactor or the exit. At shutdown each reactor
//! asks its [`AccessLog::flush`] on every turn until the writer has caught up with that front's
//! lines or the grace period is over; then [`AccessLog::abandon`] counts what is lost, and the
//! writer thread is left behind (never joined), so a writer stuck in `write(2)` cannot hold the
//! process.

mod writer;

use std::io::Write;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mio::Waker;

use crate::http::date::{concat_into, Civil};

use writer::Link;
pub use writer::Writer;

/// A batch is handed to the writer when it reaches this size, or a second after its first line.
const BATCH: usize = 64 * 1024;
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// One request's line while it is answered, owned by its connection: begun by
/// [`AccessLog::start`], written by [`AccessLog::finish`].
#[derive(Debug, Default)]
pub struct Entry {
    /// The client, for the line's first field.
    pub peer: Option<IpAddr>,
    /// The user name `--auth` accepted (up to `user_end`, empty if none), `"request line" `
    /// then, from `split`, ` "referer" "user-agent"`.
    line: Vec<u8>,
    user_end: usize,
    split: usize,
}

impl Entry {
    pub fn new(peer: Option<IpAddr>) -> Entry {
        Entry {
            peer,
            ..Entry::default()
        }
    }
}

/// One worker's front of the log: its batch of whole lines, its counters, its link to the
/// shared writer.
pub struct AccessLog {
    batch: Vec<u8>,
    lines: u64,
    /// When the oldest line in `batch` was written.
    since: Option<Instant>,
    writer: Link,
    /// Lines dropped because this front's queue to the writer was full.
    queue_dropped: u64,
    /// Dropping lines has been reported (until a batch gets through again).
    behind: bool,
    /// Lines lost: dropped because the writer fell behind, failed to write, or unwritten at exit.
    pub dropped: u64,
    /// Per-request scratch buffers, reused.
    free: Vec<Vec<u8>>,
    clf_secs: u64,
    clf_time: [u8; 26],
}

impl AccessLog {
    /// A front handing its batches over `writer` (see [`Writer::front`]).
    fn new(writer: Link) -> AccessLog {
        AccessLog {
            batch: Vec::with_capacity(BATCH),
            lines: 0,
            since: None,
            writer,
            queue_dropped: 0,
            behind: false,
            dropped: 0,
            free: Vec::new(),
            clf_secs: u64::MAX,
            clf_time: [b' '; 26],
        }
    }

    /// The reactor's waker, so that the writer can wake it while it waits in [`AccessLog::flush`].
    pub fn wake_with(&self, waker: Arc<Waker>) {
        self.writer.wake_with(waker);
    }

    /// Begins `entry` when its request's head is parsed: the user `--auth` accepted, the
    /// request line, `Referer` and `User-Agent`, escaped (the head's bytes are gone by the
    /// time the answer is known).
    pub fn start(
        &mut self,
        entry: &mut Entry,
        user: Option<&str>,
        request_line: &[u8],
        referer: Option<&[u8]>,
        ua: Option<&[u8]>,
    ) {
        if entry.line.capacity() == 0 {
            entry.line = self.free.pop().unwrap_or_default();
        }
        let line = &mut entry.line;
        line.clear();
        if let Some(user) = user {
            escape_field(line, user.as_bytes());
        }
        entry.user_end = line.len();
        line.push(b'"');
        escape(line, request_line);
        line.extend_from_slice(b"\" ");
        entry.split = line.len();
        for field in [referer, ua] {
            line.extend_from_slice(b" \"");
            match field {
                Some(v) => escape(line, v),
                None => line.push(b'-'),
            }
            line.push(b'"');
        }
    }

    /// Finishes `entry` with the answer and queues the line:
    /// `peer - user [time] "request" status bytes "referer" "user-agent"` (`-` for no user,
    /// `"-"` for a request that never parsed). The entry's buffer goes back for reuse: an idle connection holds none.
    pub fn finish(&mut self, entry: &mut Entry, status: u16, bytes: u64, now: Instant) {
        self.refresh_time();
        let b = &mut self.batch;
        match entry.peer {
            Some(ip) => {
                let _ = write!(b, "{ip}");
            }
            None => b.push(b'-'),
        }
        let line = std::mem::take(&mut entry.line);
        let (user, head, tail) = match line.get(..entry.split) {
            Some(start) if !line.is_empty() && entry.user_end < entry.split => (
                &start[..entry.user_end],
                &start[entry.user_end..],
                &line[entry.split..],
            ),
            _ => (&b""[..], &b"\"-\" "[..], &b" \"-\" \"-\""[..]),
        };
        b.extend_from_slice(b" - ");
        b.extend_from_slice(if user.is_empty() { b"-" } else { user });
        b.extend_from_slice(b" [");
        b.extend_from_slice(&self.clf_time);
        b.extend_from_slice(b"] ");
        b.extend_from_slice(head);
        b.extend_from_slice(itoa::Buffer::new().format(status).as_bytes());
        b.push(b' ');
        b.extend_from_slice(itoa::Buffer::new().format(bytes).as_bytes());
        b.extend_from_slice(tail);
        b.push(b'\n');
        entry.split = 0;
        entry.user_end = 0;
        self.lines += 1;
        self.since.get_or_insert(now);
        if line.capacity() > 0 && line.capacity() <= 4096 && self.free.len() < 256 {
            let mut line = line;
            line.clear();
            self.free.push(line);
        }
        if self.batch.len() >= BATCH {
            self.hand_over();
        }
    }

    /// Hands the batch over if its oldest line has waited a second.
    pub fn tick(&mut self, now: Instant) {
        if self
            .since
            .is_some_and(|t| now.duration_since(t) >= FLUSH_EVERY)
        {
            self.hand_over();
        }
        self.update_dropped();
    }

    /// When `tick` must run next, if any line is waiting.
    pub fn deadline(&self) -> Option<Instant> {
        self.since.map(|t| t + FLUSH_EVERY)
    }

    /// Hands the batch over; when the writer is behind, its lines are dropped and counted (with
    /// one warning per episode).
    fn hand_over(&mut self) {
        if self.try_hand_over() {
            self.behind = false;
        } else {
            if !self.behind {
                log::warn!(
                    "access log: the writer is behind (a stalled reader or disk?): dropping lines, counted in access_log_dropped"
                );
                self.behind = true;
            }
            self.queue_dropped += self.lines;
            self.batch.clear();
            self.lines = 0;
        }
    }

    /// Hands the batch over if this front's queue has room; false (keeping the batch) if not.
    fn try_hand_over(&mut self) -> bool {
        self.since = None;
        if self.batch.is_empty() {
            return true;
        }
        let batch = std::mem::take(&mut self.batch);
        match self.writer.send(batch, self.lines) {
            Ok(()) => {
                self.lines = 0;
                self.batch = self
                    .writer
                    .spare()
                    .unwrap_or_else(|| Vec::with_capacity(BATCH));
                true
            }
            Err(batch) => {
                self.batch = batch;
                false
            }
        }
    }

    /// Shutdown, once no connection can add a line: hands the batch over (retrying while the
    /// queue is full) and returns true once the writer is done with every line this front
    /// handed over (written, or lost and counted). Never waits; the writer wakes the reactor
    /// after each of this front's batches meanwhile.
    pub fn flush(&mut self) -> bool {
        // First: a batch finished between the checks below and the next poll still wakes it.
        self.writer.expect_wakes();
        self.try_hand_over() && self.writer.unwritten() == 0
    }

    /// The end (the grace period is over, or a second signal): whatever the writer has not
    /// written of this front's lines by now is lost. Returns how many lines that is, counted
    /// in `dropped`.
    pub fn abandon(&mut self) -> u64 {
        let _ = self.try_hand_over();
        let unwritten = self.lines + self.writer.give_up();
        self.queue_dropped += unwritten;
        self.batch.clear();
        self.lines = 0;
        self.update_dropped();
        unwritten
    }

    fn update_dropped(&mut self) {
        self.dropped = self.queue_dropped + self.writer.failed();
    }

    fn refresh_time(&mut self) {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if secs != self.clf_secs {
            self.clf_secs = secs;
            format_clf_time(secs, &mut self.clf_time);
        }
    }
}

/// Control bytes, quotes, backslashes and bytes above ASCII as `\xNN`, as nginx does.
fn escape(out: &mut Vec<u8>, v: &[u8]) {
    for &b in v {
        if !(0x20..0x7f).contains(&b) || b == b'"' || b == b'\\' {
            out.extend_from_slice(&[
                b'\\',
                b'x',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ]);
        } else {
            out.push(b);
        }
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// [`escape`] for an unquoted field (the user name): a space would end it, so it is escaped too.
fn escape_field(out: &mut Vec<u8>, v: &[u8]) {
    for piece in v.split(|&b| b == b' ').enumerate() {
        if piece.0 > 0 {
            out.extend_from_slice(b"\\x20");
        }
        escape(out, piece.1);
    }
}

/// `10/Oct/2000:13:55:36 +0000`.
fn format_clf_time(secs: u64, out: &mut [u8; 26]) {
    let c = Civil::from_secs(secs);
    concat_into(
        out,
        &[
            &c.day, b"/", c.month, b"/", &c.year, b":", &c.time, b" +0000",
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clf_time() {
        let mut t = [0; 26];
        format_clf_time(971_185_736, &mut t);
        assert_eq!(&t, b"10/Oct/2000:13:48:56 +0000");
    }

    #[test]
    fn escaping() {
        let mut v = Vec::new();
        escape(&mut v, b"a\"b\\c\x01\xff d");
        assert_eq!(v, b"a\\x22b\\x5Cc\\x01\\xFF d");
    }

    #[test]
    fn lines_reach_the_file_and_the_end_is_flushed() {
        let path = std::env::temp_dir().join(format!("spindle-alog-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let mut log = Writer::open(path.to_str().unwrap()).unwrap().front();
        let now = Instant::now();
        let mut entry = Entry::new(Some("127.0.0.1".parse().unwrap()));
        log.start(
            &mut entry,
            None,
            b"GET /a\"b HTTP/1.1",
            Some(b"http://r/"),
            None,
        );
        log.finish(&mut entry, 200, 13, now);
        log.start(&mut entry, Some("al ice\""), b"GET / HTTP/1.1", None, None);
        log.finish(&mut entry, 200, 0, now);
        log.finish(&mut Entry::new(None), 400, 0, now); // a request that never parsed
        let until = Instant::now() + Duration::from_secs(5);
        while !log.flush() {
            assert!(Instant::now() < until, "the log was not flushed");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(log.abandon(), 0);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("127.0.0.1 - - ["), "{}", lines[0]);
        assert!(
            lines[0].ends_with("] \"GET /a\\x22b HTTP/1.1\" 200 13 \"http://r/\" \"-\""),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].starts_with("127.0.0.1 - al\\x20ice\\x22 ["),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].starts_with("- - - [") && lines[2].ends_with("] \"-\" 400 0 \"-\" \"-\""),
            "{}",
            lines[2]
        );
        std::fs::remove_file(path).unwrap();
    }
}
