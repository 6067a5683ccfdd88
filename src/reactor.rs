//! The event loop: one `mio::Poll`, the listeners, a `Slab` of connections keyed by token, the
//! timers, a turn list for fairness, and shutdown. It moves connections along; it knows no HTTP.

use std::io::{self, ErrorKind};
use std::mem;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use log::{debug, info, trace, warn};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};
use slab::Slab;

use crate::access_log::AccessLog;
use crate::buf::BufPool;
use crate::conn::transport::{Layer, Pipe};
use crate::conn::{Ask, Conn, Drive, Event, Limits, Shared, TimerChange};
use crate::handler::{Handler, Response};
use crate::offload::Offload;
use crate::policy::Policy;
use crate::stats::Stats;
use crate::timer::{Timeouts, TimerKind, Timers};
use crate::trace::{Serials, Tag, TraceFilter};
use crate::{conn_debug, narrate};

/// Wakes the loop from another thread: shutdown, or a helper thread's finished job.
const WAKER: Token = Token(usize::MAX);
/// Listener `i` has token `LISTENER_BASE - i`; connections use small slab keys.
const LISTENER_BASE: usize = usize::MAX - 2;
/// After `EMFILE`, try accepting again this soon even if no connection closes.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);
/// How long a gracefully closing connection may drain input.
pub const LINGER: Duration = Duration::from_secs(2);
/// Once a shutdown begins, how long a client accepted but not yet heard from may take to send
/// its first request: enough for one already on its way (a restart turns none away), short
/// enough that a silent connection never holds the exit.
pub const DRAIN_FIRST_REQUEST: Duration = Duration::from_millis(250);

/// Timeouts and limits of one reactor.
#[derive(Clone, Debug)]
pub struct ReactorConfig {
    pub max_connections: usize,
    pub request_timeout: Duration,
    pub keep_alive_timeout: Duration,
    pub write_timeout: Duration,
    pub shutdown_grace: Duration,
    pub limits: Limits,
    /// Where connection serials come from: one counter for all workers.
    pub serials: Serials,
    /// `--trace-conn`: narrate only the connections this picks.
    pub trace_conn: Option<TraceFilter>,
    /// What a request must pass before a handler sees it, and the lines every head carries
    /// (`policy.rs`); `None`: nothing checked, nothing added.
    pub policy: Option<Arc<Policy>>,
}

/// What a reactor has been asked to do about stopping: a value that only ever goes up.
pub(crate) const SERVE: u8 = 0;
/// Finish what is in flight within `--shutdown-grace`, then return.
pub(crate) const DRAIN: u8 = 1;
/// Return now (a second signal).
pub(crate) const CUT: u8 = 2;

/// Asks running reactors (one, or every worker of a server) to stop, from any thread.
#[derive(Clone)]
pub struct ShutdownHandle {
    reactors: Vec<(Arc<AtomicU8>, Arc<Waker>)>,
}

impl ShutdownHandle {
    /// A handle that raises `stop` and wakes `waker`'s poll to look at it.
    pub(crate) fn new(stop: Arc<AtomicU8>, waker: Arc<Waker>) -> ShutdownHandle {
        ShutdownHandle {
            reactors: vec![(stop, waker)],
        }
    }

    /// One handle for all of `handles`.
    pub fn all(handles: impl IntoIterator<Item = ShutdownHandle>) -> ShutdownHandle {
        ShutdownHandle {
            reactors: handles.into_iter().flat_map(|h| h.reactors).collect(),
        }
    }

    /// A graceful shutdown: in-flight responses get `--shutdown-grace` to finish.
    pub fn shutdown(&self) {
        self.raise(DRAIN);
    }

    /// Stop at once (`run` returns [`CutShort`]).
    pub fn cut_short(&self) {
        self.raise(CUT);
    }

    fn raise(&self, level: u8) {
        for (stop, waker) in &self.reactors {
            stop.fetch_max(level, Ordering::SeqCst);
            let _ = waker.wake();
        }
    }
}

/// Why accepting is paused, if it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Accepting {
    Yes,
    /// At `--max-connections`: resume when a connection closes.
    AtLimit,
    /// Out of descriptors or memory: resume when a connection closes or the retry timer fires.
    OutOfResources {
        retry_at: Instant,
    },
}

pub struct Reactor {
    poll: Poll,
    events: Events,
    /// Each listener with what its connections speak (plain HTTP or TLS).
    listeners: Vec<(TcpListener, Layer)>,
    conns: Slab<Conn<Pipe>>,
    timers: Timers,
    /// Pool, stats, date, handler, limits: lent to one connection at a time.
    shared: Shared,
    config: ReactorConfig,
    now: Instant,
    /// Connections that used up their turn with work left.
    turns: Vec<usize>,
    spare_turns: Vec<usize>,
    /// Connections closed during this batch: removed only after it, so that no event of this
    /// batch can reach a new connection that reused the key.
    closed: Vec<usize>,
    /// 1-based, for the connections' tags.
    worker: usize,
    accepting: Accepting,
    /// This pause has been reported.
    pause_warned: bool,
    /// [`SERVE`], [`DRAIN`] or [`CUT`], raised by a [`ShutdownHandle`].
    stop: Arc<AtomicU8>,
    waker: Arc<Waker>,
    /// Helper threads for work that may block (their answers arrive through the waker).
    offload: Offload<Response>,
    draining_until: Option<Instant>,
}

/// `run` ended because a second signal cut the grace period short.
#[derive(Debug)]
pub struct CutShort;

impl std::fmt::Display for CutShort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a second signal cut the shutdown short")
    }
}

impl std::error::Error for CutShort {}

impl Reactor {
    /// Worker `worker`'s reactor (1-based) for `listeners`, answering with `handler` and
    /// counting into `stats` (its own counters on the server's board).
    pub fn new(
        worker: usize,
        listeners: Vec<(TcpListener, Layer)>,
        handler: Box<dyn Handler>,
        log: Option<AccessLog>,
        stats: Stats,
        config: ReactorConfig,
    ) -> io::Result<Reactor> {
        let poll = Poll::new()?;
        let mut listeners = listeners;
        for (i, (l, _)) in listeners.iter_mut().enumerate() {
            poll.registry()
                .register(l, Token(LISTENER_BASE - i), Interest::READABLE)?;
        }
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let offload = Offload::new(waker.clone())?;
        if let Some(log) = &log {
            log.wake_with(waker.clone());
        }
        let timers = Timers::new(Timeouts {
            request: config.request_timeout,
            body: config.request_timeout,
            idle: config.keep_alive_timeout,
            write: config.write_timeout,
            linger: LINGER,
            drain: DRAIN_FIRST_REQUEST,
        });
        Ok(Reactor {
            poll,
            events: Events::with_capacity(1024),
            listeners,
            conns: Slab::with_capacity(1024),
            timers,
            shared: Shared {
                torture: torture(),
                pool: BufPool::new(1024),
                log,
                stats,
                ..Shared::new(handler, config.limits.clone())
            }
            .with_policy(config.policy.clone()),
            config,
            now: Instant::now(),
            turns: Vec::new(),
            spare_turns: Vec::new(),
            closed: Vec::new(),
            worker,
            accepting: Accepting::Yes,
            pause_warned: false,
            stop: Arc::new(AtomicU8::new(SERVE)),
            waker,
            offload,
            draining_until: None,
        })
    }

    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle::new(self.stop.clone(), self.waker.clone())
    }

    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|(l, _)| l.local_addr().ok())
            .collect()
    }

    /// Runs until shut down (and every connection has finished or the grace period is over).
    pub fn run(&mut self) -> io::Result<()> {
        loop {
            let timeout = if self.turns.is_empty() {
                self.next_deadline()
                    .map(|d| d.saturating_duration_since(Instant::now()))
            } else {
                Some(Duration::ZERO)
            };
            if let Err(e) = self.poll.poll(&mut self.events, timeout) {
                if e.kind() == ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            self.now = Instant::now();
            self.shared.new_turn(self.now);
            self.shared.date.refresh(SystemTime::now());
            if let Some(log) = self.shared.log.as_mut() {
                log.tick(self.now);
                self.shared.stats.set_log_dropped(log.dropped);
            }
            self.dispatch_events();
            self.run_turns();
            self.fire_timers();
            self.reap();
            self.shared.stats.publish();
            let stop = self.stop.load(Ordering::Relaxed);
            if stop >= CUT {
                self.abandon_log();
                return Err(io::Error::other(CutShort));
            }
            if stop >= DRAIN && self.draining_until.is_none() {
                self.begin_shutdown();
            }
            if let Some(until) = self.draining_until {
                // The access log is one more thing to wait for, within the same grace period
                // (and a second signal still cuts it short: the writer is never joined). What
                // is gathered goes to the writer at every turn, so that it works meanwhile.
                let log_written = self.shared.log.as_mut().is_none_or(AccessLog::flush);
                if (self.conns.is_empty() && log_written) || self.now >= until {
                    self.abandon_log();
                    info!(
                        "shut down ({} connections cut at the end of the grace period)",
                        self.conns.len()
                    );
                    return Ok(());
                }
            }
        }
    }

    /// Exit: counts and reports the access-log lines the writer has not written.
    fn abandon_log(&mut self) {
        if let Some(log) = self.shared.log.as_mut() {
            let lost = log.abandon();
            if lost > 0 {
                warn!("access log: {lost} lines not written at exit (its reader or disk stalled)");
            }
            self.shared.stats.set_log_dropped(log.dropped);
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let retry = match self.accepting {
            Accepting::OutOfResources { retry_at } => Some(retry_at),
            _ => None,
        };
        let log = self.shared.log.as_ref().and_then(AccessLog::deadline);
        [self.timers.next_deadline(), retry, self.draining_until, log]
            .into_iter()
            .flatten()
            .min()
    }

    fn dispatch_events(&mut self) {
        // Take the events out so that handling them can borrow the reactor mutably.
        let events = mem::replace(&mut self.events, Events::with_capacity(0));
        for ev in events.iter() {
            match ev.token() {
                WAKER => self.collect_offloaded(),
                Token(t) if t > LISTENER_BASE - self.listeners.len() && t <= LISTENER_BASE => {
                    self.accept(LISTENER_BASE - t, true);
                }
                Token(key) => {
                    let Some(conn) = self.conns.get_mut(key) else {
                        continue;
                    };
                    if conn.is_closed() {
                        continue; // closed earlier in this batch, not yet removed
                    }
                    conn.on_event(Event {
                        readable: ev.is_readable(),
                        writable: ev.is_writable(),
                        read_closed: ev.is_read_closed(),
                        error: ev.is_error(),
                    });
                    self.drive(key);
                }
            }
        }
        self.events = events;
    }

    /// Accepts from listener `i` until `WouldBlock`, the connection limit, or no descriptors.
    /// `event`: a listener event brought us here, so a client is known to be waiting.
    fn accept(&mut self, i: usize, event: bool) {
        if self.draining_until.is_some() {
            return;
        }
        let mut accepted = false;
        loop {
            if self.conns.len() >= self.config.max_connections {
                // Whoever is queued raises no new edge: `reap` must accept for them.
                self.accepting = Accepting::AtLimit;
                // A new client knocked while we were already full: that is a real pause.
                if event && !accepted {
                    self.warn_pause(
                        format_args!("{} connections open (--max-connections)", self.conns.len()),
                        false,
                    );
                }
                return;
            }
            let Some((listener, _)) = self.listeners.get(i) else {
                return;
            };
            match listener.accept() {
                Ok((sock, peer)) => {
                    accepted = true;
                    self.add_conn(sock, peer, i);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if self.config.trace_conn.is_none() {
                        trace!("listener accept -> WouldBlock ({} open)", self.conns.len());
                    }
                    if self.pause_warned {
                        info!("accepting again ({} connections open)", self.conns.len());
                        self.pause_warned = false;
                    }
                    self.accepting = Accepting::Yes;
                    return;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if is_resource_error(&e) => {
                    if self.config.trace_conn.is_none() {
                        trace!("listener accept -> {e}: next try in {ACCEPT_RETRY:?}");
                    }
                    self.shared.stats.refused += 1;
                    self.accepting = Accepting::OutOfResources {
                        retry_at: self.now + ACCEPT_RETRY,
                    };
                    self.warn_pause(format_args!("accept: {e}"), true);
                    return;
                }
                // The client gave up before we got to it, or a firewall said no: next one.
                Err(e) if is_connection_error(&e) => debug!("accept: {}", e),
                Err(e) => {
                    warn!("accept: {}", e);
                    return;
                }
            }
        }
    }

    /// One warning per episode of paused accepting, not one per failed accept. `retry`: out of
    /// resources, when accepting is also retried on a timer.
    fn warn_pause(&mut self, why: std::fmt::Arguments<'_>, retry: bool) {
        if !self.pause_warned {
            if retry {
                warn!(
                    "{why}: accepting paused until a connection closes (retrying every {} ms)",
                    ACCEPT_RETRY.as_millis()
                );
            } else {
                warn!("{why}: accepting paused until a connection closes");
            }
            self.pause_warned = true;
        }
    }

    /// A connection accepted by listener `i`.
    fn add_conn(&mut self, sock: TcpStream, peer: SocketAddr, i: usize) {
        #[cfg(debug_assertions)]
        crash_for_tests();
        if let Err(e) = sock.set_nodelay(true) {
            debug!("TCP_NODELAY: {}", e);
        }
        if self.shared.torture {
            // The smallest socket buffers the kernel allows: partial writes at every turn.
            let s = socket2::SockRef::from(&sock);
            let _ = s.set_send_buffer_size(1);
            let _ = s.set_recv_buffer_size(1);
        }
        let serial = self.config.serials.next();
        let tag = Tag {
            worker: self.worker,
            serial,
            traced: self.config.trace_conn.is_none_or(|f| f.picks(serial, peer)),
        };
        let layer = self
            .listeners
            .get(i)
            .map_or(&Layer::Plain, |(_, layer)| layer);
        let mut pipe = match layer.wrap(sock, tag) {
            Ok(pipe) => pipe,
            Err(e) => {
                warn!("{} connection: {}", layer.scheme(), e);
                return;
            }
        };
        let entry = self.conns.vacant_entry();
        let key = entry.key();
        // Both interests, once: readiness is tracked in the connection, never re-registered.
        if let Err(e) = self.poll.registry().register(
            &mut pipe,
            Token(key),
            Interest::READABLE | Interest::WRITABLE,
        ) {
            warn!("register: {}", e);
            return;
        }
        entry.insert(Conn::new(pipe, tag, Some(peer.ip())));
        self.timers.set(key, TimerKind::Request, self.now);
        self.shared.stats.connections_open += 1;
        self.shared.stats.connections_total += 1;
        conn_debug!(tag, "accepted from {peer}");
        narrate!(
            tag,
            "ReadingHead",
            "accepted from {} as slab key {} ({} open)",
            peer,
            key,
            self.conns.len()
        );
        narrate!(
            tag,
            "ReadingHead",
            "timer: {:?} in {:?} (the first request's head, from now)",
            TimerKind::Request,
            self.timers.duration(TimerKind::Request)
        );
    }

    /// Lets connection `key` work, then files what it asks for: timers, a delay, another turn,
    /// or removal.
    fn drive(&mut self, key: usize) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        let result = conn.drive(&mut self.shared);
        self.after_drive(key, result);
    }

    /// Files what a driven connection asks for: a delay, a helper thread's job, another turn,
    /// its timer, or its removal.
    fn after_drive(&mut self, key: usize, mut result: Drive) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        match conn.take_ask() {
            Some(Ask::Delay(after)) => {
                self.timers
                    .add_delay(self.now + after, key, conn.tag.serial);
                narrate!(conn.tag, conn.state_name(), "timer: delay of {:?}", after);
            }
            Some(Ask::Offload(job)) => {
                if self.offload.submit(key, conn.tag.serial, job).is_ok() {
                    narrate!(conn.tag, conn.state_name(), "job handed to a helper thread");
                } else {
                    conn.offload_refused(&mut self.shared);
                    result = Drive::Again; // the 503 is queued: let it go out
                }
            }
            None => {}
        }
        match result {
            Drive::Closed => {
                self.timers.cancel(key);
                self.closed.push(key);
                return;
            }
            Drive::Again if !conn.in_turns => {
                conn.in_turns = true;
                self.turns.push(key);
            }
            _ => {}
        }
        match conn.timer_change() {
            TimerChange::Arm(kind) => {
                // A restart on progress (the same kind again) is not news.
                let narrated = conn.tag.traced && log::log_enabled!(log::Level::Trace);
                if narrated && self.timers.kind(key) != Some(kind) {
                    narrate!(
                        conn.tag,
                        conn.state_name(),
                        "timer: {:?} in {:?}",
                        kind,
                        self.timers.duration(kind)
                    );
                }
                self.timers.set(key, kind, self.now);
            }
            TimerChange::Disarm => {
                self.timers.cancel(key);
                // Only a delay runs without a timeout: it ends by itself.
                narrate!(
                    conn.tag,
                    conn.state_name(),
                    "timer: none while the delay runs"
                );
            }
            TimerChange::Keep => {}
        }
    }

    /// Hands finished helper-thread jobs to their connections, unless a connection is gone
    /// (its key may even belong to a new one: the serial tells).
    fn collect_offloaded(&mut self) {
        while let Some(done) = self.offload.finished() {
            let Some(conn) = self.conns.get_mut(done.key) else {
                continue;
            };
            if conn.tag.serial != done.serial || conn.is_closed() {
                continue;
            }
            narrate!(conn.tag, conn.state_name(), "a helper thread's job is done");
            conn.offload_done(done.result, &mut self.shared);
            self.drive(done.key);
        }
    }

    fn run_turns(&mut self) {
        // Two lists swapped each round, so that neither is allocated again: turns asked for
        // while these run go to the next round.
        let mut turns = mem::replace(&mut self.turns, mem::take(&mut self.spare_turns));
        for &key in &turns {
            match self.conns.get_mut(key) {
                // `in_turns` is false on a connection that reused the key of a closed one.
                Some(conn) if conn.in_turns && !conn.is_closed() => {
                    conn.in_turns = false;
                    self.drive(key);
                }
                _ => {}
            }
        }
        turns.clear();
        self.spare_turns = turns;
    }

    fn fire_timers(&mut self) {
        while let Some((key, kind)) = self.timers.pop_expired(self.now) {
            let Some(conn) = self.conns.get_mut(key) else {
                continue;
            };
            if !matches!(kind, TimerKind::Linger | TimerKind::Drain) {
                self.shared.stats.timeouts += 1;
            }
            conn.on_timeout(kind, &mut self.shared);
            self.drive(key);
        }
        while let Some((key, serial)) = self.timers.pop_delay(self.now) {
            let Some(conn) = self.conns.get_mut(key) else {
                continue;
            };
            if conn.tag.serial != serial || conn.is_closed() {
                continue;
            }
            conn.delay_elapsed(&mut self.shared);
            self.drive(key);
        }
        if let Accepting::OutOfResources { retry_at } = self.accepting {
            if self.now >= retry_at {
                if self.config.trace_conn.is_none() {
                    trace!("listener retrying accept (every {ACCEPT_RETRY:?} while out)");
                }
                self.accept_all();
            }
        }
    }

    /// Removes the connections closed in this round. Dropping the socket closes it, which also
    /// takes it out of the epoll set: no `deregister` call needed.
    fn reap(&mut self) {
        if self.closed.is_empty() {
            return;
        }
        let mut closed = mem::take(&mut self.closed);
        for key in closed.drain(..) {
            if let Some(mut conn) = self.conns.try_remove(key) {
                self.timers.cancel(key);
                conn.release(&mut self.shared.pool);
                self.shared.stats.connections_open -= 1;
                conn_debug!(conn.tag, "closed");
                narrate!(conn.tag, "Closed", "removed ({} open)", self.conns.len());
            }
        }
        if self.closed.is_empty() {
            self.closed = closed; // keep the allocation
        }
        if self.accepting != Accepting::Yes {
            // Edge-triggered: clients already waiting in the backlog raise no new event.
            self.accept_all();
        }
    }

    fn accept_all(&mut self) {
        for i in 0..self.listeners.len() {
            self.accept(i, false);
        }
    }

    fn begin_shutdown(&mut self) {
        info!(
            "shutting down: {} connections to finish within {:?}",
            self.conns.len(),
            self.config.shutdown_grace
        );
        self.draining_until = Some(self.now + self.config.shutdown_grace);
        self.shared.draining = true;
        for (mut l, _) in mem::take(&mut self.listeners) {
            let _ = self.poll.registry().deregister(&mut l);
        }
        let keys: Vec<usize> = self.conns.iter().map(|(k, _)| k).collect();
        for key in keys {
            if let Some(conn) = self.conns.get_mut(key) {
                conn.begin_shutdown(&mut self.shared);
            }
            self.drive(key);
        }
        self.reap();
    }
}

/// Tests only (debug builds): with `SPINDLE_TEST_CRASH=PATH` set, the worker that accepts a
/// connection while PATH exists removes it, stalls for 300 ms (clients arriving meanwhile
/// queue in the listener's backlog) and panics outside any handler guard: the fault that the
/// supervisor's restart of a worker is there for.
#[cfg(debug_assertions)]
fn crash_for_tests() {
    if let Some(path) = std::env::var_os("SPINDLE_TEST_CRASH") {
        if std::fs::remove_file(&path).is_ok() {
            std::thread::sleep(Duration::from_millis(300));
            panic!("SPINDLE_TEST_CRASH: this worker dies here, as asked");
        }
    }
}

/// `SPINDLE_TORTURE=1` in the environment: tiny socket buffers and tiny reads and writes, for
/// running the whole test suite under partial I/O (`.ci/run` does).
fn torture() -> bool {
    std::env::var_os("SPINDLE_TORTURE").is_some_and(|v| !v.is_empty() && v != "0")
}

fn is_resource_error(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::PermissionDenied
    ) || matches!(e.raw_os_error(), Some(libc::EPROTO))
}
