//! One connection: its input and output buffers and the state machine that turns bytes in into
//! responses out — pipelining, bodies, keep-alive, graceful close. It reads and writes through
//! [`Transport`], so tests drive it with scripted partial I/O and no socket.

use std::mem;
use std::time::{Duration, Instant};

use crate::access_log::{AccessLog, Entry};
use crate::buf::{BufPool, OUT_HIGH};
use crate::handler::{Handler, Job};
use crate::http::body::BodyDecoder;
use crate::http::date::DateCache;
use crate::http::parse::HeadScanner;
use crate::http::parse::Known;
use crate::http::response::{HeadMemo, Response};
use crate::stats::Stats;
use crate::timer::TimerKind;
use crate::trace::Tag;
use body_in::Pending;
use body_out::BodyOut;
use buffers::{Buffers, Filled};
use latency::Latency;
use request::ReqMeta;
pub use transport::Transport;
use unread::Unread;

/// Narrates a step of this connection in the state it is in: `w1 c37 ReadingHead read 120 B`.
macro_rules! say {
    ($conn:expr, $($arg:tt)+) => {
        $crate::narrate!($conn.tag, $conn.state.name(), $($arg)+)
    };
}

mod body_in;
mod body_out;
mod buffers;
mod latency;
mod request;
mod respond;
pub mod script;
pub mod transport;
mod unread;

/// Rounds of read → serve → write per wake-up before others get a turn (fairness).
const ROUNDS: usize = 16;
/// Bytes written from the output buffer in one turn after which the others get theirs,
/// whatever the rounds left: a generated body (a 50 000-entry listing, `/-/bytes`) costs reactor
/// time per byte. (`sendfile` is bounded by `FILE_ROUND` per round instead: the kernel copies.)
const TURN_BYTES: u64 = 128 * 1024;
/// TLS handshake reads per turn of the reactor's loop, over all its connections; those past it
/// wait for the next turn (a keep-alive client is served in between).
const HANDSHAKES_PER_TURN: usize = 8;
/// The most one read or write moves in torture mode (odd, so splits fall everywhere).
pub const TORTURE_IO: usize = 61;

/// Limits a connection enforces (from the command line).
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_head: usize,
    pub max_body: u64,
}

/// What every connection of a reactor shares: the buffer pool, the counters, the cached
/// `Date`, the handler and the limits. The reactor owns it and lends it to one connection at a
/// time.
pub struct Shared {
    /// Torture mode (`SPINDLE_TORTURE=1`): every read and write moves at most `TORTURE_IO`
    /// bytes, so that partial I/O happens everywhere, all the time.
    pub torture: bool,
    pub pool: BufPool,
    /// `--access-log`, if on.
    pub log: Option<AccessLog>,
    pub stats: Stats,
    pub date: DateCache,
    /// The last plain head encoded, for the next identical answer.
    pub heads: HeadMemo,
    /// What the last heads taught the parser: the last one and the last valid `Host`.
    pub known: Known,
    pub handler: Box<dyn Handler>,
    /// Checked before the handler is asked (`policy.rs`): cross-site writes, `--auth`, CORS.
    pub policy: Option<std::sync::Arc<crate::policy::Policy>>,
    pub limits: Limits,
    /// A shutdown has begun: what is in flight finishes, and `/-/health` says 503.
    pub draining: bool,
    /// The reactor's clock, read once per turn of its loop, in nanoseconds since `epoch`
    /// ([`Shared::set_now`]): when a request's head is parsed and when its last byte goes
    /// out, for the latency histogram (`conn/latency.rs`; its resolution is one turn).
    pub now_ns: u64,
    pub epoch: Instant,
    /// TLS handshakes this turn may still run ([`Shared::handshake_turn`]).
    pub handshakes_left: usize,
}

impl Shared {
    /// What a reactor's connections share, with a small buffer pool, no access log, no torture
    /// and fresh counters, `Date` and head memo (the reactor sets its own pool, log and torture).
    pub fn new(handler: Box<dyn Handler>, limits: Limits) -> Shared {
        Shared {
            torture: false,
            pool: BufPool::new(8),
            log: None,
            stats: Stats::default(),
            date: DateCache::default(),
            heads: HeadMemo::default(),
            known: Known::default(),
            handler,
            policy: None,
            limits,
            draining: false,
            now_ns: 0,
            epoch: Instant::now(),
            handshakes_left: HANDSHAKES_PER_TURN,
        }
    }

    /// With `policy` checked before the handler, and its lines (`--header`, `--cors`) in
    /// every head.
    pub fn with_policy(mut self, policy: Option<std::sync::Arc<crate::policy::Policy>>) -> Shared {
        self.heads = HeadMemo::with_extra(policy.as_ref().map(|p| p.head_extra()));
        self.policy = policy;
        self
    }

    /// A handshake may run now: one of this turn's few. (A full handshake costs the reactor
    /// a few hundred microseconds: a thousand arriving at once must not stall the others.)
    #[inline]
    pub fn handshake_turn(&mut self) -> bool {
        match self.handshakes_left.checked_sub(1) {
            Some(left) => {
                self.handshakes_left = left;
                true
            }
            None => false,
        }
    }

    /// A new turn of the reactor's loop, with its `now`.
    pub fn new_turn(&mut self, now: Instant) {
        self.handshakes_left = HANDSHAKES_PER_TURN;
        self.set_now(now);
    }

    /// The reactor's `now` for this turn of its loop.
    pub fn set_now(&mut self, now: Instant) {
        let ns = now.saturating_duration_since(self.epoch).as_nanos();
        self.now_ns = u64::try_from(ns).unwrap_or(u64::MAX);
    }
}

/// Runs handler code. A panic there is caught and becomes `None` — answered 500 and closing
/// that one connection — instead of unwinding through the reactor and taking every connection
/// down. (This needs `panic = "unwind"`, the default; the release profile keeps it.)
fn guarded<R>(f: impl FnOnce() -> R) -> Option<R> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok()
}

/// What [`Conn::drive`] leaves the reactor to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drive {
    /// Nothing more to do until an event or a timer.
    Wait,
    /// Ran out of its turn with work left: drive again soon, after the others.
    Again,
    /// Finished: remove it.
    Closed,
}

/// What the reactor must do with a connection's timer after a turn ([`Conn::timer_change`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerChange {
    /// Leave it as it is.
    Keep,
    /// Arm this one (re-arm it, if it is the one armed: the connection made progress).
    Arm(TimerKind),
    /// No timer now (a `/-/delay` runs).
    Disarm,
}

/// A readiness event, as mio reports it: only a hint (see [`Conn::on_event`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Event {
    pub readable: bool,
    pub writable: bool,
    /// The peer's FIN arrived (EPOLLRDHUP, or a hang-up).
    pub read_closed: bool,
    pub error: bool,
}

/// What a connection asks of the reactor after a turn ([`Conn::take_ask`]).
pub enum Ask {
    /// A timer: call [`Conn::delay_elapsed`] this much later (`/-/delay`).
    Delay(Duration),
    /// Run this job on a helper thread and hand its answer to [`Conn::offload_done`]
    /// (or, if no helper can take it, call [`Conn::offload_refused`]).
    Offload(Job),
}

/// What the connection is waiting for.
enum State {
    /// A request head (none of it yet, or part of it).
    ReadingHead,
    /// A request body, for a handler's sink. (A body nobody reads is not a state: see
    /// [`Unread`].)
    ReadingBody {
        decoder: BodyDecoder,
        sink: Pending,
        received: u64,
    },
    /// The reactor's timer, before answering (`/-/delay`).
    Delayed { response: Response, meta: ReqMeta },
    /// A helper thread's answer (work that may block, such as reading a huge directory).
    Offloaded { meta: ReqMeta },
    /// Room in the output buffer or the socket, to send more of a generated or file body.
    SendingBody { body: BodyOut, keep_alive: bool },
    /// The reactor's timer, before the next piece of a paced body (`/-/drip`, `/-/sse`).
    Pacing { body: BodyOut, keep_alive: bool },
    /// The last response to drain; then close (gracefully if `linger`).
    Closing,
    /// Our write side is shut; reading and discarding until the peer closes or time runs out,
    /// so that a client still sending reads our error instead of a reset.
    Lingering,
    /// Done; the reactor removes it.
    Closed,
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            State::ReadingHead => "ReadingHead",
            State::ReadingBody { .. } => "ReadingBody",
            State::Delayed { .. } => "Delayed",
            State::Offloaded { .. } => "Offloaded",
            State::SendingBody { .. } => "SendingBody",
            State::Pacing { .. } => "Pacing",
            State::Closing => "Closing",
            State::Lingering => "Lingering",
            State::Closed => "Closed",
        }
    }
}

/// What the socket may do, as far as the connection knows. Events only set these; a read or
/// write that hits `WouldBlock`, or comes up short, clears them (epoll is edge-triggered).
#[derive(Debug, Default)]
struct Socket {
    /// It may have bytes for us.
    readable: bool,
    /// It may take bytes.
    writable: bool,
    /// The peer's FIN is queued (EPOLLRDHUP): read until 0 rather than stop at a short read.
    fin_queued: bool,
    /// A read returned 0: the peer sends nothing more.
    read_closed: bool,
}

/// The reactor's timer for a connection: the one armed, and what happened since that restarts
/// it (see [`Conn::timer_change`]).
#[derive(Debug, Default)]
struct TimerBook {
    armed: Option<TimerKind>,
    /// A response has been queued: from now on, waiting between requests is idle time.
    answered: bool,
    new_request: bool,
    read_progress: bool,
    write_progress: bool,
}

pub struct Conn<T> {
    io: T,
    /// Its name in the log, `w1 c37`; the serial, unique per connection, also tells a stale
    /// timer entry or helper answer from one for a new connection on a reused slab key.
    pub tag: Tag,
    state: State,
    /// Input not yet used, and output not yet written; none held while idle.
    buf: Buffers,
    scanner: HeadScanner,
    /// The declared body of the last request, if no handler read it: thrown away before the
    /// next head, whatever the answer.
    unread: Unread,
    /// What the socket may do, as far as the connection knows.
    sock: Socket,
    /// On close, shut down the write side and drain input first.
    linger: bool,
    /// The server is shutting down: answer what is in flight, keep nothing alive.
    draining: bool,
    /// The reactor's timer for this connection: which is armed, and what moved since.
    timer: TimerBook,
    /// A timer or a helper thread this connection waits for, not yet asked of the reactor.
    ask: Option<Ask>,
    /// Queued on the reactor's turn list.
    pub in_turns: bool,
    /// The access-log line of the request being answered (begun when its head was parsed).
    log: Entry,
    /// Responses queued and not yet all out, for the latency histogram.
    latency: Latency,
}

impl<T: Transport> Conn<T> {
    /// A new connection; the reactor arms its `Head` timer.
    pub fn new(io: T, tag: Tag, peer: Option<std::net::IpAddr>) -> Self {
        Conn {
            io,
            tag,
            state: State::ReadingHead,
            buf: Buffers::default(),
            scanner: HeadScanner::default(),
            unread: Unread::Nothing,
            sock: Socket::default(),
            linger: false,
            draining: false,
            timer: TimerBook {
                armed: Some(TimerKind::Request),
                ..TimerBook::default()
            },
            ask: None,
            in_turns: false,
            log: Entry::new(peer),
            latency: Latency::default(),
        }
    }

    /// The state it is in, for the log.
    pub fn state_name(&self) -> &'static str {
        self.state.name()
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// Whether the connection holds any buffer (an idle one should not).
    pub fn holds_buffers(&self) -> bool {
        self.buf.holds_any()
    }

    /// A readiness event: only a hint, acted on by reading or writing until `WouldBlock`.
    pub fn on_event(&mut self, ev: Event) {
        let Event {
            readable,
            writable,
            read_closed,
            error,
        } = ev;
        say!(
            self,
            "event:{}{}{}{}",
            if readable { " readable" } else { "" },
            if writable { " writable" } else { "" },
            if read_closed { " read-closed" } else { "" },
            if error { " error" } else { "" }
        );
        self.sock.readable |= readable || read_closed || error;
        self.sock.writable |= writable || error;
        self.sock.fin_queued |= read_closed;
    }

    /// Reads, answers and writes as far as the socket allows, within one turn's budget.
    pub fn drive(&mut self, sh: &mut Shared) -> Drive {
        let (written_before, mut sent_by_sendfile) = (sh.stats.bytes_out, 0);
        for _ in 0..ROUNDS {
            let mut progress = false;
            let mut held = false;
            if self.sock.readable && !self.sock.read_closed && self.wants_input() {
                if self.io.handshaking() && !sh.handshake_turn() {
                    held = true; // the turn's handshakes are spent: after the others
                } else {
                    progress |= self.read_in(sh);
                }
            }
            progress |= self.serve(sh);
            if self.owed() > 0 && self.sock.writable {
                progress |= self.write_out(sh);
            }
            if self.owed() == 0 && self.sock.writable {
                let before = sh.stats.bytes_out;
                progress |= self.sendfile_body(sh);
                sent_by_sendfile += sh.stats.bytes_out - before;
            }
            self.latency.observe(&mut sh.stats, sh.now_ns);
            self.settle(sh);
            if self.is_closed() {
                self.latency.close(&mut sh.stats, sh.now_ns);
                return Drive::Closed;
            }
            if held && !progress {
                say!(self, "handshake waits: this turn's are spent");
                return Drive::Again;
            }
            if !progress {
                self.say_if_held_back();
                return Drive::Wait;
            }
            if sh.stats.bytes_out - written_before - sent_by_sendfile >= TURN_BYTES {
                break;
            }
        }
        Drive::Again
    }

    /// Input may be waiting, but too much output is owed to take more: say so, as the
    /// connection settles to wait for the client to read.
    fn say_if_held_back(&self) {
        if self.sock.readable
            && !self.sock.read_closed
            && !self.wants_input()
            && self.owed() >= OUT_HIGH
        {
            say!(
                self,
                "not reading: {} B owed, above the high-water mark, until the client reads",
                self.owed()
            );
        }
    }

    /// Bytes of output not yet written. What the transport holds below (a TLS layer's sealed
    /// records) counts as one: enough to keep writing, and to hold a close, until it is out.
    fn owed(&self) -> usize {
        self.buf.owed() + usize::from(self.io.holds_output())
    }

    fn wants_input(&self) -> bool {
        match self.state {
            State::ReadingHead | State::ReadingBody { .. } => self.owed() < OUT_HIGH,
            State::Lingering => true,
            // A body nobody reads is thrown away while the answer goes out, so that a client
            // still sending it is never stuck behind a full socket.
            // While waiting for a timer or a helper thread, a peer that has gone (a reset, a
            // FIN) is worth a read: a reset closes the connection now, not when the wait ends.
            State::Delayed { .. } | State::Offloaded { .. } | State::Pacing { .. } => {
                self.unread.is_body() || self.sock.fin_queued
            }
            State::SendingBody { .. } => self.unread.is_body(),
            _ => false,
        }
    }

    /// One read into the input buffer. Returns whether anything happened.
    fn read_in(&mut self, sh: &mut Shared) -> bool {
        let grow_to = matches!(self.state, State::ReadingHead).then_some(sh.limits.max_head);
        let lingering = matches!(self.state, State::Lingering);
        let cap = sh.torture.then_some(TORTURE_IO);
        let filled = self
            .buf
            .fill(&mut self.io, &mut sh.pool, grow_to, lingering, cap);
        match self.io.handshake_news() {
            Some(true) => sh.stats.tls_handshakes += 1,
            Some(false) => sh.stats.tls_handshake_errors += 1,
            None => {}
        }
        match filled {
            Filled::Full => false,
            Filled::Eof => {
                say!(self, "read 0 B (peer closed its side)");
                self.sock.read_closed = true;
                true
            }
            Filled::Bytes { n, room } => {
                sh.stats.bytes_in += n as u64;
                self.timer.read_progress = true;
                // Edge-triggered epoll: a short read means the socket buffer is drained, and new
                // bytes will raise a new edge — so skip the read that would only say WouldBlock.
                // Not once the FIN is known to be queued: that needs a read of its own.
                if n < room && !self.sock.fin_queued {
                    self.sock.readable = false;
                }
                say!(
                    self,
                    "read {} B (buffer {}/{}){}",
                    n,
                    self.buf.unread().len(),
                    self.buf.input.len(),
                    if self.sock.readable {
                        ""
                    } else {
                        "; short read, socket drained"
                    }
                );
                true
            }
            Filled::WouldBlock => {
                say!(self, "read -> WouldBlock");
                self.sock.readable = false;
                false
            }
            Filled::Interrupted => true,
            Filled::Failed(e) if transport::is_plain_on_tls(&e) => {
                self.refuse_plain(sh);
                true
            }
            Filled::Failed(e) => {
                crate::conn_debug!(self.tag, "read error: {}", e);
                self.set_state(State::Closed);
                true
            }
        }
    }

    /// Writes owed output until done or `WouldBlock`. Returns whether anything happened.
    fn write_out(&mut self, sh: &mut Shared) -> bool {
        let cap = sh.torture.then_some(TORTURE_IO);
        let done = self
            .buf
            .flush(&mut self.io, cap, &self.tag, self.state.name());
        sh.stats.bytes_out += done.written as u64;
        self.latency.wrote(done.written);
        self.timer.write_progress |= done.written > 0;
        if done.blocked {
            self.sock.writable = false;
        }
        if done.broken {
            self.set_state(State::Closed);
            return true;
        }
        done.written > 0
    }

    /// After a round: finish a close once the output is out, and hand idle buffers back.
    fn settle(&mut self, sh: &mut Shared) {
        if self.owed() == 0 && matches!(self.state, State::Closing) {
            let unread = self.buf.has_input();
            // TLS ends with a close_notify that must reach the peer before the socket closes:
            // the half-close of lingering sends it, and the FIN only after it.
            let half_close = self.linger || unread || self.io.secure();
            if half_close && !self.sock.read_closed {
                let _ = self.io.shutdown_write();
                self.set_state(State::Lingering);
            } else {
                self.set_state(State::Closed);
            }
        }
        let refills = matches!(&self.state, State::SendingBody { body, .. } if body.refills());
        self.buf.give_back_idle(&mut sh.pool, refills);
    }

    fn set_state(&mut self, state: State) {
        crate::narrate!(self.tag, self.state.name(), "-> {}", state.name());
        self.state = state;
    }

    /// Moves to `next` and hands back the state left, for its contents.
    fn replace_state(&mut self, next: State) -> State {
        let old = mem::replace(&mut self.state, State::Closed);
        crate::narrate!(self.tag, old.name(), "-> {}", next.name());
        self.state = next;
        old
    }

    /// Answers every request the buffered input allows, until the output is above high water.
    fn serve(&mut self, sh: &mut Shared) -> bool {
        let mut progress = false;
        loop {
            // An unread body goes first, in every state: it is input, not an answer.
            let mut step = self.skip_unread(sh);
            if self.owed() >= OUT_HIGH {
                if !step {
                    break;
                }
                progress = true;
                continue;
            }
            step |= match self.state {
                State::ReadingHead => self.serve_head(sh),
                State::ReadingBody { .. } => self.serve_body(sh),
                // One piece per round: it is written before the next is made, so that the
                // turn budget bounds what a generated body costs the reactor.
                State::SendingBody { .. } => {
                    if self.pump_body(sh) {
                        return true;
                    }
                    false
                }
                // A client that has gone gets no more of a slow body: free it now, not at the
                // next piece (whose write would only fail).
                State::Pacing { .. } if self.sock.read_closed => {
                    self.set_state(State::Closed);
                    false
                }
                State::Lingering => {
                    self.buf.consume(self.buf.unread().len());
                    if self.sock.read_closed {
                        self.set_state(State::Closed);
                    }
                    false
                }
                _ => false,
            };
            if !step {
                break;
            }
            progress = true;
        }
        progress
    }

    /// Throws away what the input holds of a body nobody reads. Returns whether it did.
    fn skip_unread(&mut self, sh: &mut Shared) -> bool {
        if !self.unread.is_body() || !self.buf.has_input() {
            return false;
        }
        let used = self.unread.consume(self.buf.unread(), sh.limits.max_body);
        self.buf.consume(used);
        self.timer.read_progress |= used > 0;
        say!(
            self,
            "threw away {} B of an unread body{}",
            used,
            match self.unread {
                Unread::Nothing => " (its end)",
                Unread::Body { .. } => "",
                Unread::Unframed => ": broken or too long, no next request",
            }
        );
        used > 0 || !self.unread.is_body()
    }

    /// The reactor's timer for this connection fired.
    pub fn on_timeout(&mut self, kind: TimerKind, sh: &mut Shared) {
        self.timer.armed = None;
        say!(self, "{:?} timer expired", kind);
        match (kind, &self.state) {
            // Part of a request arrived but not all of it in time: tell the client.
            (TimerKind::Request, State::ReadingHead) if self.buf.has_input() => {
                self.latency.head(sh.now_ns); // the 408 is the answer to a head never complete
                self.fail(408, false, sh)
            }
            (TimerKind::Body, State::ReadingBody { .. }) => self.fail(408, false, sh),
            // A client that stopped reading: a plain close would leave the kernel trying to
            // deliver the queued megabytes to it for minutes; a reset frees them now.
            (TimerKind::Write, _) => {
                self.io.abort();
                self.set_state(State::Closed)
            }
            _ => self.set_state(State::Closed),
        }
    }

    /// A delay asked for is over: answer now (`/-/delay`), or send the next piece of a paced
    /// body.
    pub fn delay_elapsed(&mut self, sh: &mut Shared) {
        match self.state {
            State::Delayed { .. } => {
                if let State::Delayed { response, meta } = self.replace_state(State::ReadingHead) {
                    self.respond(response, meta, sh);
                }
            }
            State::Pacing { .. } => self.toggle_pacing(),
            _ => {}
        }
    }

    /// A helper thread finished this connection's job: answer with its response (`None`: the
    /// job panicked — 500, and the connection closes).
    pub fn offload_done(&mut self, answer: Option<Response>, sh: &mut Shared) {
        if let State::Offloaded { .. } = self.state {
            if let State::Offloaded { mut meta } = self.replace_state(State::ReadingHead) {
                let resp = answer.unwrap_or_else(|| {
                    meta.keep_alive = false;
                    Response::error(500)
                });
                self.respond(resp, meta, sh);
            }
        }
    }

    /// Every helper thread is busy and their queue is full: 503 now, rather than wait.
    pub fn offload_refused(&mut self, sh: &mut Shared) {
        say!(self, "no helper thread free: 503");
        self.offload_done(Some(Response::error(503)), sh);
    }

    /// Server shutdown: idle connections close now, busy ones after their current response.
    /// A client accepted but not yet heard from may have its request on the way (its readiness
    /// event still to come): it gets one look at the socket now and a short while (the `Drain`
    /// timer) for its first request, so that a restart turns away no request.
    pub fn begin_shutdown(&mut self, sh: &mut Shared) {
        self.draining = true;
        let fresh = !self.timer.answered && !self.sock.read_closed;
        if self.is_idle() && fresh {
            self.sock.readable = true;
            self.read_in(sh);
        }
        if self.is_idle() && !fresh {
            self.set_state(State::Closed);
        }
    }

    /// Waiting for a head, with nothing read and nothing to send.
    fn is_idle(&self) -> bool {
        matches!(self.state, State::ReadingHead) && !self.buf.has_input() && self.owed() == 0
    }

    /// Which timer the connection needs now, if that differs from the armed one (or the armed
    /// one must restart because the connection made progress).
    pub fn timer_change(&mut self) -> TimerChange {
        let want = match self.state {
            State::Closed | State::Delayed { .. } => None,
            State::Lingering => Some(TimerKind::Linger),
            _ if self.owed() > 0 && !self.sock.writable => Some(TimerKind::Write),
            // Its next piece ends the wait; the body's schedule is bounded by its caps.
            State::Pacing { .. } => None,
            // A helper thread that never answers is a response that makes no progress.
            State::Offloaded { .. } | State::SendingBody { .. } | State::Closing => {
                Some(TimerKind::Write)
            }
            State::ReadingBody { .. } => Some(TimerKind::Body),
            // Waiting for the rest of a body nobody reads: it must keep coming.
            State::ReadingHead if self.unread.is_body() => Some(TimerKind::Body),
            // Shutting down: a client not yet heard from has a moment to speak.
            State::ReadingHead
                if self.draining && !self.timer.answered && !self.buf.has_input() =>
            {
                Some(TimerKind::Drain)
            }
            State::ReadingHead if self.buf.has_input() || !self.timer.answered => {
                Some(TimerKind::Request)
            }
            State::ReadingHead => Some(TimerKind::Idle),
        };
        let restart = match want {
            // A new request restarts the head deadline; an answered one, the idle time.
            Some(TimerKind::Request | TimerKind::Idle) => self.timer.new_request,
            Some(TimerKind::Body) => self.timer.read_progress,
            Some(TimerKind::Write) => self.timer.write_progress,
            _ => false,
        };
        self.timer.new_request = false;
        self.timer.read_progress = false;
        self.timer.write_progress = false;
        if want == self.timer.armed && !restart {
            return TimerChange::Keep;
        }
        self.timer.armed = want;
        match want {
            Some(kind) => TimerChange::Arm(kind),
            None => TimerChange::Disarm,
        }
    }

    /// Gives the buffers back to the pool (the connection is being removed).
    pub fn release(&mut self, pool: &mut BufPool) {
        self.buf.release(pool);
    }

    /// What the connection needs from the reactor (a timer, a helper thread), once.
    pub fn take_ask(&mut self) -> Option<Ask> {
        self.ask.take()
    }
}

#[cfg(test)]
mod tests;
