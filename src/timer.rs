//! Timers without a per-request heap push: one FIFO per timeout kind, linked through slab keys
//! (lwan's trick: every entry of a queue has the same duration, so appending keeps it sorted and
//! re-arming is O(1)), plus a small min-heap for arbitrary per-request delays (`/-/delay`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

/// The timeouts a connection can be waiting on; at most one at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerKind {
    /// A request head must be complete by then (`--request-timeout`); never moved per byte.
    Request = 0,
    /// A request body must make progress (`--request-timeout`).
    Body = 1,
    /// Keep-alive idle between requests (`--keep-alive-timeout`).
    Idle = 2,
    /// A response must make progress (`--write-timeout`).
    Write = 3,
    /// Draining input after our write side is shut (graceful close).
    Linger = 4,
    /// Shutting down: a client accepted but not yet heard from may still send its first request.
    Drain = 5,
}

const KINDS: usize = 6;

/// How long each kind of timer runs.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub request: Duration,
    pub body: Duration,
    pub idle: Duration,
    pub write: Duration,
    pub linger: Duration,
    pub drain: Duration,
}
const NIL: usize = usize::MAX;

#[derive(Clone, Copy)]
struct Link {
    kind: Option<TimerKind>,
    prev: usize,
    next: usize,
    deadline: Instant,
}

#[derive(Clone, Copy)]
struct Ends {
    head: usize,
    tail: usize,
}

pub struct Timers {
    durations: [Duration; KINDS],
    links: Vec<Link>,
    queues: [Ends; KINDS],
    /// (when, key, connection serial): the serial tells a stale entry from a reused key.
    delays: BinaryHeap<Reverse<(Instant, usize, u64)>>,
}

impl Timers {
    pub fn new(t: Timeouts) -> Self {
        Timers {
            // Indexed by `TimerKind as usize`.
            durations: [t.request, t.body, t.idle, t.write, t.linger, t.drain],
            links: Vec::new(),
            queues: [Ends {
                head: NIL,
                tail: NIL,
            }; KINDS],
            delays: BinaryHeap::new(),
        }
    }

    /// Arms (or re-arms) `key`'s timer of `kind`, due `now` + that kind's duration.
    pub fn set(&mut self, key: usize, kind: TimerKind, now: Instant) {
        self.cancel(key);
        if key >= self.links.len() {
            self.links.resize(
                key + 1,
                Link {
                    kind: None,
                    prev: NIL,
                    next: NIL,
                    deadline: now,
                },
            );
        }
        let q = &mut self.queues[kind as usize];
        let tail = q.tail;
        self.links[key] = Link {
            kind: Some(kind),
            prev: tail,
            next: NIL,
            deadline: now + self.durations[kind as usize],
        };
        if tail == NIL {
            q.head = key;
        } else {
            self.links[tail].next = key;
        }
        q.tail = key;
    }

    pub fn duration(&self, kind: TimerKind) -> Duration {
        self.durations[kind as usize]
    }

    pub fn kind(&self, key: usize) -> Option<TimerKind> {
        self.links.get(key).and_then(|l| l.kind)
    }

    pub fn cancel(&mut self, key: usize) {
        let Some(link) = self.links.get_mut(key) else {
            return;
        };
        let Some(kind) = link.kind.take() else {
            return;
        };
        let (prev, next) = (link.prev, link.next);
        let q = &mut self.queues[kind as usize];
        if prev == NIL {
            q.head = next;
        } else {
            self.links[prev].next = next;
        }
        if next == NIL {
            q.tail = prev;
        } else {
            self.links[next].prev = prev;
        }
    }

    /// The next due timer, if any is due by `now`: removes and returns it.
    pub fn pop_expired(&mut self, now: Instant) -> Option<(usize, TimerKind)> {
        for q in 0..KINDS {
            let head = self.queues[q].head;
            if head != NIL && self.links[head].deadline <= now {
                let kind = self.links[head].kind?;
                self.cancel(head);
                return Some((head, kind));
            }
        }
        None
    }

    /// Schedules a delayed response for connection `key` (whose serial is `serial`).
    pub fn add_delay(&mut self, at: Instant, key: usize, serial: u64) {
        self.delays.push(Reverse((at, key, serial)));
    }

    /// The next due delay, if any is due by `now`: (key, serial).
    pub fn pop_delay(&mut self, now: Instant) -> Option<(usize, u64)> {
        match self.delays.peek() {
            Some(Reverse((at, _, _))) if *at <= now => {
                self.delays.pop().map(|Reverse((_, k, s))| (k, s))
            }
            _ => None,
        }
    }

    /// The earliest deadline of all.
    pub fn next_deadline(&self) -> Option<Instant> {
        let queues = self
            .queues
            .iter()
            .filter(|q| q.head != NIL)
            .map(|q| self.links[q.head].deadline);
        let delay = self.delays.peek().map(|Reverse((at, _, _))| *at);
        queues.chain(delay).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timers() -> Timers {
        let s = Duration::from_secs(1);
        Timers::new(Timeouts {
            request: s,
            body: s * 2,
            idle: s * 3,
            write: s * 4,
            linger: s * 5,
            drain: s * 6,
        })
    }

    #[test]
    fn fifo_order_and_rearm() {
        let mut t = timers();
        let t0 = Instant::now();
        t.set(1, TimerKind::Request, t0);
        t.set(2, TimerKind::Request, t0 + Duration::from_millis(10));
        t.set(3, TimerKind::Idle, t0);
        t.set(1, TimerKind::Request, t0 + Duration::from_millis(20)); // re-armed: now last
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_millis(1010)));
        let late = t0 + Duration::from_secs(10);
        assert_eq!(t.pop_expired(late), Some((2, TimerKind::Request)));
        assert_eq!(t.pop_expired(late), Some((1, TimerKind::Request)));
        assert_eq!(t.pop_expired(late), Some((3, TimerKind::Idle)));
        assert_eq!(t.pop_expired(late), None);
        assert_eq!(t.next_deadline(), None);
    }

    #[test]
    fn cancel_unlinks_from_the_middle() {
        let mut t = timers();
        let t0 = Instant::now();
        for k in 0..5 {
            t.set(k, TimerKind::Write, t0);
        }
        t.cancel(2);
        t.cancel(0);
        t.cancel(4);
        assert_eq!(t.kind(2), None);
        let late = t0 + Duration::from_secs(10);
        assert_eq!(t.pop_expired(late), Some((1, TimerKind::Write)));
        assert_eq!(t.pop_expired(late), Some((3, TimerKind::Write)));
        assert_eq!(t.pop_expired(late), None);
    }

    #[test]
    fn not_due_yet() {
        let mut t = timers();
        let t0 = Instant::now();
        t.set(7, TimerKind::Linger, t0);
        assert_eq!(t.pop_expired(t0), None);
        t.add_delay(t0 + Duration::from_millis(5), 7, 42);
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_millis(5)));
        assert_eq!(t.pop_delay(t0), None);
        assert_eq!(t.pop_delay(t0 + Duration::from_millis(5)), Some((7, 42)));
    }
}
