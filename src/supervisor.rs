//! The main thread while serving: it starts each worker's reactor on a thread of its own
//! (named `w1`, `w2`…, which log lines carry), passes a shutdown (a signal, or a
//! [`ShutdownHandle`]) on to all of them, and makes a worker that dies again on the same
//! listeners. It waits in a small `mio::Poll` of its own.

use std::any::Any;
use std::io::{self, ErrorKind};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use log::{error, info, warn};
use mio::{Events, Interest, Poll, Token, Waker};
use signal_hook_mio::v1_0::Signals;

use crate::reactor::{CutShort, Reactor, ShutdownHandle, CUT, DRAIN, SERVE};
use crate::stats::{Board, Ms, Totals};
use crate::workers::Kit;

/// A worker finished, or a shutdown was asked for.
const WAKE: Token = Token(0);
/// SIGINT or SIGTERM.
const SIGNALS: Token = Token(1);
/// A worker that dies sooner than this after its start waits out the rest before the next.
const RESTART_EVERY: Duration = Duration::from_secs(1);

/// How a worker's `run` ended: its own result, or the panic that ended it.
type Outcome = thread::Result<io::Result<()>>;

/// What the supervisor waits on, made before serving starts (so that the descriptors it takes
/// are taken before the server says it listens).
pub struct Supervisor {
    poll: Poll,
    waker: Arc<Waker>,
    signals: Option<Signals>,
    /// What a [`ShutdownHandle`] or a signal asks: `SERVE`, `DRAIN` or `CUT`.
    asked: Arc<AtomicU8>,
    /// `--stats-interval`: a summary line on stderr this often.
    stats_interval: Option<Duration>,
}

impl Supervisor {
    pub fn new() -> io::Result<Supervisor> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKE)?);
        Ok(Supervisor {
            poll,
            waker,
            signals: None,
            asked: Arc::new(AtomicU8::new(SERVE)),
            stats_interval: None,
        })
    }

    /// `--stats-interval`: every `every`, one line on stderr from the board.
    pub fn set_stats_interval(&mut self, every: Option<Duration>) {
        self.stats_interval = every;
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

    /// Stops every worker, whichever are running by then.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle::new(self.asked.clone(), self.waker.clone())
    }

    /// Runs the workers until all have finished. A first shutdown drains them all; a second
    /// cuts them short (`CutShort`). A worker that fails or panics is reported and made again
    /// on the same listeners, while the others serve on.
    pub fn run(mut self, kit: Kit, workers: Vec<Reactor>) -> io::Result<()> {
        let (done, finished) = mpsc::channel();
        let ticker = self
            .stats_interval
            .map(|every| Ticker::new(every, kit.board()));
        let mut crew = Crew {
            kit,
            threads: Vec::new(),
            stops: Vec::new(),
            started: Vec::new(),
            done,
            waker: self.waker.clone(),
            running: 0,
            level: SERVE,
            result: Ok(()),
        };
        for (w, reactor) in workers.into_iter().enumerate() {
            if let Err(e) = crew.start(w, reactor) {
                crew.raise(CUT);
                crew.join();
                return Err(e);
            }
        }
        let result = crew.until_all_finished(&mut self, &finished, ticker);
        crew.join();
        result
    }
}

/// Makes this thread `SCHED_BATCH`: it keeps its fair share and its time slices, but a wake-up
/// no longer lets it preempt the thread on the core. Why: two workers sharing a core otherwise
/// take the core from each other mid-batch, each time a packet arrives for the one asleep, and
/// those switches cost 5–10 % more CPU per request than one worker needs (`benches/workers.sh`;
/// measured in benches/README). A worker woken while its sibling runs waits, at most, for the end
/// of that slice, or until the sibling sleeps in `epoll_wait` — usually first.
fn no_wakeup_preemption() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: `param` is a valid sched_param; pid 0 is the calling thread.
        if unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) } != 0 {
            log::debug!("SCHED_BATCH: {}", io::Error::last_os_error());
        }
    }
}

/// The running workers, and what the supervisor knows of them.
struct Crew {
    kit: Kit,
    threads: Vec<JoinHandle<()>>,
    /// `stops[w]`: worker `w`'s current reactor.
    stops: Vec<ShutdownHandle>,
    started: Vec<Instant>,
    done: Sender<(usize, Outcome)>,
    waker: Arc<Waker>,
    running: usize,
    /// How far the workers have been told to stop.
    level: u8,
    result: io::Result<()>,
}

impl Crew {
    fn start(&mut self, w: usize, mut reactor: Reactor) -> io::Result<()> {
        let stop = reactor.shutdown_handle();
        let (done, waker) = (self.done.clone(), self.waker.clone());
        let siblings = self.kit.workers() > 1;
        let thread = thread::Builder::new()
            .name(format!("w{}", w + 1))
            .spawn(move || {
                if siblings {
                    no_wakeup_preemption();
                }
                let outcome = panic::catch_unwind(AssertUnwindSafe(|| reactor.run()));
                let _ = done.send((w, outcome));
                let _ = waker.wake();
            })?;
        if self.level >= DRAIN {
            stop.shutdown(); // asked while it was being made
        }
        match self.stops.get_mut(w) {
            Some(s) => *s = stop,
            None => self.stops.push(stop),
        }
        match self.started.get_mut(w) {
            Some(t) => *t = Instant::now(),
            None => self.started.push(Instant::now()),
        }
        self.threads.push(thread);
        self.running += 1;
        Ok(())
    }

    fn until_all_finished(
        &mut self,
        sup: &mut Supervisor,
        finished: &Receiver<(usize, Outcome)>,
        mut ticker: Option<Ticker>,
    ) -> io::Result<()> {
        let mut events = Events::with_capacity(8);
        let mut signalled = false;
        while self.running > 0 {
            let timeout = ticker.as_ref().map(Ticker::until_due);
            let polled = sup.poll.poll(&mut events, timeout);
            if let Some(t) = ticker.as_mut() {
                t.tick_if_due();
            }
            if let Err(e) = polled {
                if e.kind() == ErrorKind::Interrupted {
                    continue;
                }
                self.raise(CUT);
                return Err(e);
            }
            for sig in sup
                .signals
                .as_mut()
                .map(|s| s.pending())
                .into_iter()
                .flatten()
            {
                let level = if signalled { CUT } else { DRAIN };
                signalled = true;
                sup.asked.fetch_max(level, Ordering::SeqCst);
                match level {
                    CUT => warn!("signal {sig} again: stopping now"),
                    _ => info!("signal {sig}: shutting down (a second one stops at once)"),
                }
            }
            self.raise(sup.asked.load(Ordering::SeqCst));
            while let Ok((w, outcome)) = finished.try_recv() {
                self.on_finished(w, outcome);
            }
        }
        std::mem::replace(&mut self.result, Ok(()))
    }

    /// Tells every current worker to stop as far as `level`, once.
    fn raise(&mut self, level: u8) {
        if level > self.level {
            self.level = level;
            self.kit.close_listeners();
            let all = ShutdownHandle::all(self.stops.iter().cloned());
            if level >= CUT {
                all.cut_short();
            } else if level >= DRAIN {
                all.shutdown();
            }
        }
    }

    fn on_finished(&mut self, w: usize, outcome: Outcome) {
        self.running -= 1;
        let failure = match outcome {
            Ok(Ok(())) => return,
            Ok(Err(e)) if e.get_ref().is_some_and(|e| e.is::<CutShort>()) => {
                self.keep_first(e);
                return;
            }
            Ok(Err(e)) => format!("stopped: {e}"),
            Err(panic) => format!("panicked: {}", panic_text(&*panic)),
        };
        if self.level >= DRAIN {
            error!("worker w{} {failure} while shutting down", w + 1);
            return;
        }
        error!("worker w{} {failure}: starting it again", w + 1);
        if let Err(e) = self.restart(w) {
            error!("cannot start worker w{} again: {e}", w + 1);
            self.keep_first(io::Error::other(format!("worker w{} {failure}", w + 1)));
            self.raise(DRAIN);
        }
    }

    /// Worker `w` again, on the listeners the kit kept open: clients queued meanwhile are
    /// answered by the new one. One that dies at once is made again at most once a second.
    fn restart(&mut self, w: usize) -> io::Result<()> {
        let ran = self.started.get(w).map_or(RESTART_EVERY, Instant::elapsed);
        if let Some(wait) = RESTART_EVERY.checked_sub(ran) {
            thread::sleep(wait);
        }
        let reactor = self.kit.reactor(w).map_err(io::Error::other)?;
        self.start(w, reactor)
    }

    fn keep_first(&mut self, e: io::Error) {
        if self.result.is_ok() {
            self.result = Err(e);
        }
    }

    fn join(&mut self) {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// `--stats-interval`: a summary of the board on stderr every interval, from this thread (the
/// workers only publish), so that the line costs the reactors nothing.
struct Ticker {
    every: Duration,
    board: Arc<Board>,
    due: Instant,
    last: (Instant, Totals),
}

impl Ticker {
    fn new(every: Duration, board: Arc<Board>) -> Ticker {
        let now = Instant::now();
        let last = (now, board.totals());
        Ticker {
            every,
            board,
            due: now + every,
            last,
        }
    }

    fn until_due(&self) -> Duration {
        self.due.saturating_duration_since(Instant::now())
    }

    fn tick_if_due(&mut self) {
        let now = Instant::now();
        if now < self.due {
            return;
        }
        let totals = self.board.totals();
        let (then, before) = std::mem::replace(&mut self.last, (now, totals));
        eprintln!("{}", summary(&before, &totals, now - then));
        // The next one an interval after this one was due, or after now if that is past.
        self.due = (self.due + self.every).max(now);
    }
}

/// `stats: 1523.4 req/s, 12 open, p99 0.25 ms (last 1 s)`: requests per second and the 99th
/// percentile latency over the interval (`p99 -` when it had no request), connections open now.
fn summary(before: &Totals, now: &Totals, over: Duration) -> String {
    let requests = now.requests.saturating_sub(before.requests);
    let rate = requests as f64 / over.as_secs_f64().max(1e-9);
    let p99 = now.latency.since(&before.latency).quantile(0.99);
    format!(
        "stats: {rate:.1} req/s, {} open, p99 {} (last {:.3} s)",
        now.connections_open,
        p99.map_or_else(|| "-".to_owned(), |s| format!("{} ms", Ms(s * 1e3))),
        over.as_secs_f64()
    )
}

fn panic_text(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}
