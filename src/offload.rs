//! Work that may block for long — reading a directory of 50 000 entries, a cold `stat` on a
//! slow disk — runs here, on a few helper threads, never on the reactor's. A finished job's
//! result goes back through a channel, and the reactor's `mio::Waker` turns that into one more
//! poll event, as nginx's thread pools and libuv's file-system pool do. Bounded: a queue of
//! [`QUEUE`] jobs; when it is full the job is handed back at once, to be answered 503.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread;

use mio::Waker;

/// Helper threads per reactor.
pub const THREADS: usize = 2;
/// Jobs waiting for a helper thread, at most.
pub const QUEUE: usize = 64;

/// A job, and who it is for: a slab key, and that connection's serial (a key may be reused by
/// the time the job is done).
type Task<T> = (usize, u64, Box<dyn FnOnce() -> T + Send>);

/// A finished job: for connection `key` if its serial is still `serial`. `result` is `None` if
/// the job panicked.
pub struct Done<T> {
    pub key: usize,
    pub serial: u64,
    pub result: Option<T>,
}

pub struct Offload<T> {
    to_helpers: SyncSender<Task<T>>,
    done: Receiver<Done<T>>,
}

impl<T: Send + 'static> Offload<T> {
    /// Starts the helper threads; each finished job wakes the poll through `waker`.
    pub fn new(waker: Arc<Waker>) -> std::io::Result<Offload<T>> {
        let (to_helpers, tasks) = mpsc::sync_channel::<Task<T>>(QUEUE);
        let tasks = Arc::new(Mutex::new(tasks));
        let (finished, done) = mpsc::channel();
        for i in 0..THREADS {
            let (tasks, finished, waker) = (tasks.clone(), finished.clone(), waker.clone());
            thread::Builder::new()
                .name(format!("offload-{i}"))
                .spawn(move || helper(&tasks, &finished, &waker))?;
        }
        Ok(Offload { to_helpers, done })
    }

    /// Queues `job` for connection `key`; hands it back if the queue is full.
    pub fn submit(
        &self,
        key: usize,
        serial: u64,
        job: Box<dyn FnOnce() -> T + Send>,
    ) -> Result<(), Box<dyn FnOnce() -> T + Send>> {
        match self.to_helpers.try_send((key, serial, job)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full((_, _, job)) | TrySendError::Disconnected((_, _, job))) => {
                Err(job)
            }
        }
    }

    /// The next finished job, if any (never waits).
    pub fn finished(&self) -> Option<Done<T>> {
        self.done.try_recv().ok()
    }
}

/// One helper thread: runs jobs until the reactor (and with it the sender) is gone. A job that
/// panics is reported as such and the thread goes on.
fn helper<T>(tasks: &Mutex<Receiver<Task<T>>>, finished: &Sender<Done<T>>, waker: &Waker) {
    lower_priority();
    loop {
        // The lock is held only while waiting for the next task, never while running one.
        let next = match tasks.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok((key, serial, job)) = next else {
            return;
        };
        let result = catch_unwind(AssertUnwindSafe(job)).ok();
        if finished
            .send(Done {
                key,
                serial,
                result,
            })
            .is_err()
        {
            return;
        }
        let _ = waker.wake();
    }
}

/// Helpers yield the CPU to the reactor: on a machine with few cores, a big directory being
/// read must not take the core the reactor needs to answer everyone else.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls on this thread's own id; nothing is borrowed.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, HELPER_NICE);
    }
}

/// The helpers' nice value (the reactor keeps the default 0).
const HELPER_NICE: libc::c_int = 10;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn jobs_come_back_with_their_keys_and_wake_the_poll() {
        let mut poll = mio::Poll::new().unwrap();
        let waker = Arc::new(Waker::new(poll.registry(), mio::Token(7)).unwrap());
        let off = Offload::<u32>::new(waker).unwrap();
        off.submit(3, 30, Box::new(|| 42)).ok().unwrap();
        off.submit(4, 40, Box::new(|| panic!("a job that panics")))
            .ok()
            .unwrap();
        let mut events = mio::Events::with_capacity(4);
        let mut got = Vec::new();
        while got.len() < 2 {
            poll.poll(&mut events, Some(Duration::from_secs(5)))
                .unwrap();
            assert!(!events.is_empty(), "no wake-up");
            while let Some(d) = off.finished() {
                got.push((d.key, d.serial, d.result));
            }
        }
        got.sort_by_key(|g| g.0);
        assert_eq!(got, vec![(3, 30, Some(42)), (4, 40, None)]);
    }

    #[test]
    fn a_full_queue_hands_the_job_back() {
        let poll = mio::Poll::new().unwrap();
        let waker = Arc::new(Waker::new(poll.registry(), mio::Token(7)).unwrap());
        let off = Offload::<u32>::new(waker).unwrap();
        let (release, gate) = mpsc::channel::<()>();
        let gate = Arc::new(Mutex::new(gate));
        // Every helper thread blocked, then the queue filled: the next job comes back.
        let mut refused = 0;
        for _ in 0..THREADS + QUEUE + 1 {
            let gate = gate.clone();
            let job = Box::new(move || {
                let _ = gate.lock().map(|g| g.recv_timeout(Duration::from_secs(5)));
                0
            });
            if off.submit(0, 0, job).is_err() {
                refused += 1;
            }
        }
        assert!(refused >= 1);
        drop(release);
    }
}
