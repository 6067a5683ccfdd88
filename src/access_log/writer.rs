//! The one thread that writes the access log for every worker. Each worker's front
//! ([`super::AccessLog`]) hands it whole batches of complete lines through a [`Link`] of its own;
//! the writer writes each batch with one `write_all`. Being the only writer of the descriptor is
//! what keeps lines whole: two writers to a pipe could interleave any write above `PIPE_BUF`.
//!
//! Each front has its own [`Progress`] (what the writer finished of *its* lines) and its own
//! bound on batches in flight, so one busy worker neither fills another's queue nor makes
//! another's unwritten lines look written, and the writer wakes the reactor whose batch it
//! finished.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, OnceLock};
use std::thread;

use mio::Waker;

use super::AccessLog;

/// A front's batches in flight to the writer; beyond that, its lines are dropped and counted.
const QUEUE: u64 = 16;

/// Whole lines of one front, and the front to tell once they are written.
struct Batch {
    bytes: Vec<u8>,
    lines: u64,
    from: Arc<Progress>,
}

/// What the writer tells one front.
struct Progress {
    /// Batches and lines the writer is done with (written or failed).
    batches: AtomicU64,
    lines: AtomicU64,
    /// Of those lines, the ones a write error (or a failed deferred open) lost.
    failed: AtomicU64,
    /// The front's reactor is waiting for the log (shutdown): wake it after each of its batches.
    waiting: AtomicBool,
    waker: OnceLock<Arc<Waker>>,
    /// Written buffers go back to their front, to be reused.
    give_back: Sender<Vec<u8>>,
}

impl Progress {
    /// Called by the writer once it is done with a batch of `lines`.
    fn done(&self, lines: u64, written: bool) {
        if !written {
            self.failed.fetch_add(lines, Ordering::Relaxed);
        }
        // SeqCst, with `Link::expect_wakes`: either the writer sees `waiting` or the front
        // sees these counts; never neither (a missed wake would sleep until the grace ends).
        self.lines.fetch_add(lines, Ordering::SeqCst);
        self.batches.fetch_add(1, Ordering::SeqCst);
        if self.waiting.load(Ordering::SeqCst) {
            if let Some(w) = self.waker.get() {
                let _ = w.wake();
            }
        }
    }
}

/// The writer thread's intake. Opened once, for every worker; each gets a front from
/// [`Writer::front`]. The thread ends when every front is gone, and is never joined.
pub struct Writer {
    /// Unbounded, so that no front ever waits on a send; the bound is per front instead
    /// (`QUEUE` batches in flight, checked by [`Link::send`]).
    intake: Sender<Batch>,
}

impl Writer {
    /// Appends to the file at `dest`, or writes to standard output for `-`. Never blocks: a
    /// FIFO without a reader is opened later, by the writer thread.
    pub fn open(dest: &str) -> io::Result<Writer> {
        let target = Target::open(dest)?;
        let (intake, batches) = mpsc::channel();
        let name = dest.to_owned();
        thread::Builder::new()
            .name("access-log".into())
            .spawn(move || write_batches(target, &name, &batches))?;
        Ok(Writer { intake })
    }

    /// A front for one worker: its own batch, counters and link to this writer.
    pub fn front(&self) -> AccessLog {
        let (give_back, spare) = mpsc::channel();
        let progress = Arc::new(Progress {
            batches: AtomicU64::new(0),
            lines: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            waiting: AtomicBool::new(false),
            waker: OnceLock::new(),
            give_back,
        });
        AccessLog::new(Link {
            intake: self.intake.clone(),
            progress,
            spare,
            batches: 0,
            lines: 0,
        })
    }
}

/// One front's end of the writer: what it handed over, and what the writer did with it.
pub(super) struct Link {
    intake: Sender<Batch>,
    progress: Arc<Progress>,
    spare: Receiver<Vec<u8>>,
    /// Batches and lines handed over.
    batches: u64,
    lines: u64,
}

impl Link {
    /// Hands `bytes`, `lines` whole lines, to the writer; gives them back if this front already
    /// has `QUEUE` batches in flight (the writer is behind) or the writer is gone. Never waits.
    pub(super) fn send(&mut self, bytes: Vec<u8>, lines: u64) -> Result<(), Vec<u8>> {
        let done = self.progress.batches.load(Ordering::SeqCst);
        if self.batches.saturating_sub(done) >= QUEUE {
            return Err(bytes);
        }
        let from = self.progress.clone();
        match self.intake.send(Batch { bytes, lines, from }) {
            Ok(()) => {
                self.batches += 1;
                self.lines += lines;
                Ok(())
            }
            Err(mpsc::SendError(batch)) => Err(batch.bytes),
        }
    }

    /// A buffer the writer is done with, if one came back.
    pub(super) fn spare(&self) -> Option<Vec<u8>> {
        self.spare.try_recv().ok()
    }

    /// The reactor waits for the log from now on: the writer wakes it after each batch.
    pub(super) fn expect_wakes(&self) {
        self.progress.waiting.store(true, Ordering::SeqCst);
    }

    pub(super) fn wake_with(&self, waker: Arc<Waker>) {
        let _ = self.progress.waker.set(waker);
    }

    /// Lines handed over that the writer is not done with yet.
    pub(super) fn unwritten(&self) -> u64 {
        self.lines
            .saturating_sub(self.progress.lines.load(Ordering::SeqCst))
    }

    /// The end: the lines not written by now are counted lost once, here (the return value).
    pub(super) fn give_up(&mut self) -> u64 {
        let unwritten = self.unwritten();
        self.lines -= unwritten;
        unwritten
    }

    /// Lines the writer failed to write.
    pub(super) fn failed(&self) -> u64 {
        self.progress.failed.load(Ordering::Relaxed)
    }
}

/// Where the writer thread writes.
enum Target {
    Open(File),
    /// A FIFO that had no reader at start-up: the writer thread opens it (blocking until a
    /// reader comes), so that `mkfifo log; spindle --access-log log & cat log` works.
    Later(String),
}

impl Target {
    fn open(dest: &str) -> io::Result<Target> {
        if dest == "-" {
            // A descriptor of our own: no lock shared with `println!`, no line buffering.
            return Ok(Target::Open(File::from(
                io::stdout().as_fd().try_clone_to_owned()?,
            )));
        }
        // O_NONBLOCK: a FIFO without a reader fails at once with ENXIO instead of blocking.
        match OpenOptions::new()
            .create(true)
            .append(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(dest)
        {
            Ok(f) => {
                // The writer thread blocks on a full pipe rather than losing a partial write.
                clear_nonblocking(&f)?;
                Ok(Target::Open(f))
            }
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) => Ok(Target::Later(dest.to_owned())),
            Err(e) => Err(e),
        }
    }

    /// On the writer thread: the file, once a deferred FIFO has a reader; `None` if its open
    /// failed (every line is lost then, and counted).
    fn into_file(self) -> Option<File> {
        match self {
            Target::Open(f) => Some(f),
            Target::Later(path) => match OpenOptions::new().append(true).open(&path) {
                Ok(f) => {
                    log::info!("access log {path}: a reader came, writing");
                    Some(f)
                }
                Err(e) => {
                    log::warn!("access log {path}: {e}: no line will be written");
                    None
                }
            },
        }
    }
}

/// The writer thread: opens a deferred FIFO, then writes each batch whole, reports it to its
/// front and gives the buffer back, until every front is gone.
fn write_batches(target: Target, name: &str, batches: &Receiver<Batch>) {
    let mut out = Out {
        file: target.into_file(),
        name,
        failing: false,
    };
    for Batch {
        mut bytes,
        lines,
        from,
    } in batches
    {
        let written = out.write(&bytes);
        bytes.clear();
        let _ = from.give_back.send(bytes);
        from.done(lines, written);
    }
}

/// The writer's descriptor (none if a deferred open failed), and whether writing is failing:
/// an error is reported once per run of failures.
struct Out<'a> {
    file: Option<File>,
    name: &'a str,
    failing: bool,
}

impl Out<'_> {
    /// Writes one batch with one `write_all`; false if its lines are lost.
    fn write(&mut self, bytes: &[u8]) -> bool {
        let Some(f) = self.file.as_mut() else {
            return false;
        };
        match f.write_all(bytes).and_then(|()| f.flush()) {
            Ok(()) => {
                self.failing = false;
                true
            }
            Err(e) => {
                if !self.failing {
                    log::warn!(
                        "access log {}: {e}: lines are lost until writing works again",
                        self.name
                    );
                    self.failing = true;
                }
                false
            }
        }
    }
}

/// Clears `O_NONBLOCK` on `f`, which the writer thread writes with blocking calls.
fn clear_nonblocking(f: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = f.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own; F_GETFL/F_SETFL touch only its status flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    use mio::{Events, Poll, Token};

    use super::*;
    use crate::access_log::Entry;

    /// A FIFO of this test's own (removed on drop).
    struct Fifo(PathBuf);

    impl Fifo {
        fn new(tag: &str) -> Fifo {
            use std::os::unix::ffi::OsStrExt;
            let path = std::env::temp_dir().join(format!("spindle-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_file(&path);
            let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
            // SAFETY: a valid NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
            Fifo(path)
        }

        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Fifo {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    /// One line for `front` with `ua` as its User-Agent.
    fn line(front: &mut AccessLog, ua: &[u8]) {
        let mut entry = Entry::new(Some("127.0.0.1".parse().unwrap()));
        front.start(&mut entry, None, b"GET / HTTP/1.1", None, Some(ua));
        front.finish(&mut entry, 200, 13, Instant::now());
    }

    fn until_flushed(front: &mut AccessLog) {
        let until = Instant::now() + Duration::from_secs(5);
        while !front.flush() {
            assert!(Instant::now() < until, "the log was not flushed");
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// A poll with a waker for a front, and a wait for that waker.
    fn poll_for(front: &AccessLog) -> Poll {
        let poll = Poll::new().unwrap();
        front.wake_with(Arc::new(Waker::new(poll.registry(), Token(7)).unwrap()));
        poll
    }

    fn woken(poll: &mut Poll) -> bool {
        let mut events = Events::with_capacity(4);
        poll.poll(&mut events, Some(Duration::from_secs(5)))
            .unwrap();
        events.iter().any(|e| e.token() == Token(7))
    }

    /// Two fronts on one writer, which is stuck writing B's batch (a line longer than the
    /// pipe, which nobody reads yet): A's lines written never count as B's, and once the
    /// reader comes, each front's own waker is woken for its own batch.
    #[test]
    fn each_front_counts_and_is_woken_for_its_own_lines() {
        let fifo = Fifo::new("alog-fronts");
        let reader = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(fifo.path())
            .unwrap();
        let writer = Writer::open(fifo.path().to_str().unwrap()).unwrap();
        let (mut a, mut b) = (writer.front(), writer.front());
        drop(writer);
        let (mut poll_a, mut poll_b) = (poll_for(&a), poll_for(&b));
        for _ in 0..3 {
            line(&mut a, b"a");
        }
        until_flushed(&mut a);
        let mut stale = Events::with_capacity(4);
        poll_a.poll(&mut stale, Some(Duration::ZERO)).unwrap();
        let long = vec![b'b'; 200_000];
        line(&mut b, &long);
        assert!(!b.flush());
        thread::sleep(Duration::from_millis(100));
        assert!(
            !b.flush(),
            "B's line is not written, whatever A's count says"
        );
        line(&mut a, b"a2");
        assert!(!a.flush(), "A's second batch waits behind B's");
        clear_nonblocking(&reader).unwrap();
        let read_all = thread::spawn(move || {
            let mut text = String::new();
            let mut reader = reader;
            reader.read_to_string(&mut text).map(|_| text)
        });
        assert!(woken(&mut poll_b), "B's waker, for B's batch");
        assert!(woken(&mut poll_a), "A's waker, for A's batch");
        until_flushed(&mut a);
        until_flushed(&mut b);
        assert_eq!((a.abandon(), b.abandon()), (0, 0));
        drop((a, b));
        let text = read_all.join().unwrap().unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{}", text.len());
        for l in &lines {
            assert!(l.starts_with("127.0.0.1 - - ["), "{l:.80}");
            assert!(
                l.contains("] \"GET / HTTP/1.1\" 200 13 \"-\" \""),
                "{l:.80}"
            );
        }
        assert!(lines[3].ends_with(&format!("\"{}\"", "b".repeat(200_000))));
        assert!(lines[4].ends_with("\"a2\""), "{}", lines[4]);
    }

    /// A FIFO that never gets a reader: the writer waits in its open for good, and each front
    /// counts its own lines lost at the end.
    #[test]
    fn each_front_abandons_its_own_lines() {
        let fifo = Fifo::new("alog-abandon");
        let writer = Writer::open(fifo.path().to_str().unwrap()).unwrap();
        let (mut a, mut b) = (writer.front(), writer.front());
        line(&mut a, b"a");
        line(&mut a, b"a");
        line(&mut b, b"b");
        assert!(!a.flush() && !b.flush());
        assert_eq!((a.abandon(), b.abandon()), (2, 1));
        assert_eq!((a.dropped, b.dropped), (2, 1));
    }
}
