//! The access log (SPEC §7): one Combined Log Format line per request, gathered into batches on
//! the reactor thread and written by a thread of its own, so a slow disk or pipe never stalls serving.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::net::IpAddr;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::http::date::{concat_into, Civil};

/// A batch is handed to the writer when it reaches this size, or a second after its first line.
const BATCH: usize = 64 * 1024;
/// Batches in flight to the writer; beyond that, lines are dropped and counted.
const QUEUE: usize = 16;
const FLUSH_EVERY: Duration = Duration::from_secs(1);

pub struct AccessLog {
    batch: Vec<u8>,
    lines: u64,
    /// When the oldest line in `batch` was written.
    since: Option<Instant>,
    to_writer: Option<SyncSender<Vec<u8>>>,
    /// Written batches coming back, to be reused.
    spare: Receiver<Vec<u8>>,
    writer: Option<JoinHandle<()>>,
    /// Lines dropped because the writer fell behind.
    pub dropped: u64,
    /// Per-request scratch buffers, reused.
    free: Vec<Vec<u8>>,
    clf_secs: u64,
    clf_time: [u8; 26],
}

impl AccessLog {
    /// Appends to the file at `dest`, or writes to standard output for `-`.
    pub fn open(dest: &str) -> io::Result<AccessLog> {
        let mut out: Box<dyn Write + Send> = if dest == "-" {
            Box::new(io::stdout())
        } else {
            Box::new(OpenOptions::new().create(true).append(true).open(dest)?)
        };
        let (to_writer, from_reactor) = mpsc::sync_channel::<Vec<u8>>(QUEUE);
        let (give_back, spare) = mpsc::channel();
        let writer = thread::Builder::new()
            .name("access-log".into())
            .spawn(move || {
                for mut batch in from_reactor {
                    if let Err(e) = out.write_all(&batch).and_then(|()| out.flush()) {
                        log::warn!("access log: {e}");
                    }
                    batch.clear();
                    let _ = give_back.send(batch);
                }
            })?;
        Ok(AccessLog {
            batch: Vec::with_capacity(BATCH),
            lines: 0,
            since: None,
            to_writer: Some(to_writer),
            spare,
            writer: Some(writer),
            dropped: 0,
            free: Vec::new(),
            clf_secs: u64::MAX,
            clf_time: [b' '; 26],
        })
    }

    /// A scratch buffer for the part of a line known when the request head is parsed.
    pub fn take_scratch(&mut self) -> Vec<u8> {
        self.free.pop().unwrap_or_default()
    }

    /// Writes `"request line" ` and, after `split`, ` "referer" "user-agent"` into `scratch`.
    pub fn begin(
        scratch: &mut Vec<u8>,
        request_line: &[u8],
        referer: Option<&[u8]>,
        ua: Option<&[u8]>,
    ) -> usize {
        scratch.clear();
        scratch.push(b'"');
        escape(scratch, request_line);
        scratch.extend_from_slice(b"\" ");
        let split = scratch.len();
        for field in [referer, ua] {
            scratch.extend_from_slice(b" \"");
            match field {
                Some(v) => escape(scratch, v),
                None => scratch.push(b'-'),
            }
            scratch.push(b'"');
        }
        split
    }

    /// One line: `peer - - [time] "request" status bytes "referer" "user-agent"`. `scratch`
    /// is what `begin` wrote (empty when the request never parsed), and is kept for reuse.
    pub fn line(
        &mut self,
        peer: Option<IpAddr>,
        scratch: Vec<u8>,
        split: usize,
        status: u16,
        bytes: u64,
        now: Instant,
    ) {
        self.refresh_time();
        let b = &mut self.batch;
        match peer {
            Some(ip) => {
                let _ = write!(b, "{ip}");
            }
            None => b.push(b'-'),
        }
        b.extend_from_slice(b" - - [");
        b.extend_from_slice(&self.clf_time);
        b.extend_from_slice(b"] ");
        let (head, tail) = if scratch.is_empty() || split > scratch.len() {
            (&b"\"-\" "[..], &b" \"-\" \"-\""[..])
        } else {
            (&scratch[..split], &scratch[split..])
        };
        b.extend_from_slice(head);
        b.extend_from_slice(itoa::Buffer::new().format(status).as_bytes());
        b.push(b' ');
        b.extend_from_slice(itoa::Buffer::new().format(bytes).as_bytes());
        b.extend_from_slice(tail);
        b.push(b'\n');
        self.lines += 1;
        self.since.get_or_insert(now);
        if scratch.capacity() > 0 && scratch.capacity() <= 4096 && self.free.len() < 256 {
            self.free.push(scratch);
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
    }

    /// When `tick` must run next, if any line is waiting.
    pub fn deadline(&self) -> Option<Instant> {
        self.since.map(|t| t + FLUSH_EVERY)
    }

    fn hand_over(&mut self) {
        self.since = None;
        if self.batch.is_empty() {
            return;
        }
        let Some(tx) = &self.to_writer else { return };
        let fresh = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BATCH));
        let batch = std::mem::replace(&mut self.batch, fresh);
        match tx.try_send(batch) {
            Ok(()) => {}
            Err(TrySendError::Full(mut batch)) | Err(TrySendError::Disconnected(mut batch)) => {
                self.dropped += self.lines;
                batch.clear();
                self.batch = batch;
            }
        }
        self.lines = 0;
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

impl Drop for AccessLog {
    /// Shutdown: the last lines are written before the process exits.
    fn drop(&mut self) {
        if let Some(tx) = self.to_writer.take() {
            if !self.batch.is_empty() {
                let _ = tx.send(std::mem::take(&mut self.batch));
            }
        }
        if let Some(w) = self.writer.take() {
            let _ = w.join();
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
        let mut log = AccessLog::open(path.to_str().unwrap()).unwrap();
        let now = Instant::now();
        let mut s = log.take_scratch();
        let split = AccessLog::begin(&mut s, b"GET /a\"b HTTP/1.1", Some(b"http://r/"), None);
        log.line(Some("127.0.0.1".parse().unwrap()), s, split, 200, 13, now);
        log.line(None, Vec::new(), 0, 400, 0, now);
        drop(log);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("127.0.0.1 - - ["), "{}", lines[0]);
        assert!(
            lines[0].ends_with("] \"GET /a\\x22b HTTP/1.1\" 200 13 \"http://r/\" \"-\""),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].ends_with("] \"-\" 400 0 \"-\" \"-\""),
            "{}",
            lines[1]
        );
        std::fs::remove_file(path).unwrap();
    }
}
