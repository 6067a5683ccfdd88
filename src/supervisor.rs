//! The main thread while serving: it starts each worker's reactor on a thread of its own
//! (named `w1`, `w2`…, which log lines carry), passes SIGINT and SIGTERM on to all of them, and
//! waits — in a small `mio::Poll` of its own — for every one to finish.

use std::any::Any;
use std::io::{self, ErrorKind};
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use log::{error, info, warn};
use mio::{Events, Interest, Poll, Token, Waker};
use signal_hook_mio::v1_0::Signals;

use crate::reactor::{CutShort, Reactor, ShutdownHandle};

/// A worker thread has finished (its message is in the channel).
const FINISHED: Token = Token(0);
/// SIGINT or SIGTERM.
const SIGNALS: Token = Token(1);

/// How a worker's `run` ended: its own result, or the panic that ended it.
type Outcome = thread::Result<io::Result<()>>;

/// What the supervisor waits on, made before serving starts (so that the descriptors it
/// takes are taken before the server says it listens).
pub struct Supervisor {
    poll: Poll,
    waker: Arc<Waker>,
    signals: Option<Signals>,
}

impl Supervisor {
    pub fn new() -> io::Result<Supervisor> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), FINISHED)?);
        Ok(Supervisor {
            poll,
            waker,
            signals: None,
        })
    }

    /// SIGINT and SIGTERM are the supervisor's to pass on from now.
    pub fn handle_signals(&mut self) -> io::Result<()> {
        let mut s = Signals::new([libc::SIGINT, libc::SIGTERM])?;
        self.poll
            .registry()
            .register(&mut s, SIGNALS, Interest::READABLE)?;
        self.signals = Some(s);
        Ok(())
    }

    /// Runs `workers` until all have finished. A first signal drains them all; a second cuts
    /// them short (`CutShort`). A worker that fails or panics is reported, and the others are
    /// drained: the server stops with that worker's error.
    pub fn run(mut self, workers: Vec<Reactor>) -> io::Result<()> {
        let waker = self.waker.clone();
        run(&mut self.poll, &waker, self.signals.as_mut(), workers)
    }
}

fn run(
    poll: &mut Poll,
    waker: &Arc<Waker>,
    signals: Option<&mut Signals>,
    workers: Vec<Reactor>,
) -> io::Result<()> {
    let stop = ShutdownHandle::all(workers.iter().map(Reactor::shutdown_handle));
    let (done, finished) = mpsc::channel();
    let mut threads = Vec::new();
    for (i, mut reactor) in workers.into_iter().enumerate() {
        let (done, waker) = (done.clone(), waker.clone());
        let spawned = thread::Builder::new()
            .name(format!("w{}", i + 1))
            .spawn(move || {
                let outcome = panic::catch_unwind(AssertUnwindSafe(|| reactor.run()));
                let _ = done.send((i, outcome));
                let _ = waker.wake();
            });
        match spawned {
            Ok(t) => threads.push(t),
            Err(e) => {
                stop.cut_short();
                join(threads);
                return Err(e);
            }
        }
    }
    let mut watch = Watch {
        running: threads.len(),
        signalled: false,
        result: Ok(()),
        stop,
    };
    let result = watch.until_all_finished(poll, signals, &finished);
    join(threads);
    result
}

/// What the supervisor knows while the workers run.
struct Watch {
    running: usize,
    signalled: bool,
    result: io::Result<()>,
    stop: ShutdownHandle,
}

impl Watch {
    fn until_all_finished(
        &mut self,
        poll: &mut Poll,
        mut signals: Option<&mut Signals>,
        finished: &Receiver<(usize, Outcome)>,
    ) -> io::Result<()> {
        let mut events = Events::with_capacity(8);
        while self.running > 0 {
            if let Err(e) = poll.poll(&mut events, None) {
                if e.kind() == ErrorKind::Interrupted {
                    continue;
                }
                self.stop.cut_short();
                return Err(e);
            }
            if let Some(signals) = signals.as_deref_mut() {
                for sig in signals.pending() {
                    self.on_signal(sig);
                }
            }
            while let Ok((i, outcome)) = finished.try_recv() {
                self.on_finished(i, outcome);
            }
        }
        std::mem::replace(&mut self.result, Ok(()))
    }

    fn on_signal(&mut self, sig: i32) {
        if self.signalled {
            warn!("signal {sig} again: stopping now");
            self.stop.cut_short();
        } else {
            info!("signal {sig}: shutting down (a second one stops at once)");
            self.signalled = true;
            self.stop.shutdown();
        }
    }

    fn on_finished(&mut self, i: usize, outcome: Outcome) {
        self.running -= 1;
        let failure = match outcome {
            Ok(Ok(())) => return,
            Ok(Err(e)) if e.get_ref().is_some_and(|e| e.is::<CutShort>()) => e,
            Ok(Err(e)) => {
                error!("worker w{} stopped: {e}", i + 1);
                e
            }
            Err(panic) => {
                error!("worker w{} panicked: {}", i + 1, panic_text(&*panic));
                io::Error::other(format!("worker w{} panicked", i + 1))
            }
        };
        // The first failure is the server's; the other workers finish what they have.
        if self.result.is_ok() {
            self.result = Err(failure);
        }
        self.stop.shutdown();
    }
}

fn panic_text(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

fn join(threads: Vec<JoinHandle<()>>) {
    for t in threads {
        let _ = t.join();
    }
}
