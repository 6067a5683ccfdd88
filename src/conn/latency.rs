//! Request latency, from a request's complete head to the last byte of its response handed to
//! the kernel, measured without a clock read or an allocation per request.
//!
//! Both ends are the reactor's `now` ([`Shared::now_ns`](super::Shared)), read once per turn
//! of its event loop: the resolution is one turn. A request whose head arrives and whose answer
//! goes out in the same turn measures 0 (and every request of a pipelined batch answered in
//! one turn does); one that waits (a `/-/delay`, a helper thread, a body being uploaded, a
//! socket full of a large download) measures whole turns, which under light load are
//! microseconds apart, and under heavy load are as long as a turn takes.
//!
//! A connection knows where each queued response ends in its output (a position counted in
//! bytes handed to the kernel, the head and body of every response in order, `100 Continue`
//! included) and observes the response once the bytes written pass that position. A body
//! still being generated or sent with `sendfile` has no end position until it is done
//! ([`Latency::body_done`]); `sendfile` bytes are not in the count at all (they go out only
//! once the output before them is all written, so the response ends where the count stands).
//!
//! Bounded, inline: responses that started in the same turn with the same status class and
//! are waiting together are one entry (observed when the last of them is out: at most a few
//! turns late for the earlier ones, and only when the socket filled between them); beyond
//! [`PENDING`] entries the oldest is observed at once, with the time so far. A response the
//! connection never finished (reset, timed out, cut off) is observed when it closes, with the
//! time until then, so that every response counted in `requests_total` is observed once.

use crate::stats::Stats;

/// Entries waiting per connection.
pub(super) const PENDING: usize = 4;
/// The end of a body not yet all queued.
const OPEN: u64 = u64::MAX;

#[derive(Clone, Copy, Debug, Default)]
struct Waiting {
    /// When their heads were complete ([`Shared::now_ns`](super::Shared)).
    started: u64,
    /// Where in the connection's output the last of these responses ends.
    end: u64,
    /// Responses in this entry.
    n: u32,
    /// Their status code / 100.
    class: u16,
}

#[derive(Debug, Default)]
pub(super) struct Latency {
    /// Bytes of output handed to the kernel so far (not counting `sendfile`'s).
    written: u64,
    /// When the head of the request being answered was complete: a connection answers one
    /// request at a time, in order, so that one instant is enough.
    started: u64,
    /// Oldest first; `waiting[..len]` are in use.
    waiting: [Waiting; PENDING],
    len: usize,
}

impl Latency {
    /// A request head is complete (or broken, or given up on) at `now_ns`: its latency starts.
    pub(super) fn head(&mut self, now_ns: u64) {
        self.started = now_ns;
    }

    /// `n` more bytes of output went to the kernel.
    pub(super) fn wrote(&mut self, n: usize) {
        self.written += n as u64;
    }

    /// The response with `status` to the request of the last [`Latency::head`] is queued;
    /// `owed`: output bytes not yet written, this response's included. `whole`: its body is
    /// all queued (else [`Latency::body_done`] says when it is).
    pub(super) fn queued(
        &mut self,
        status: u16,
        owed: usize,
        whole: bool,
        stats: &mut Stats,
        now_ns: u64,
    ) {
        let class = status / 100;
        let end = match whole {
            true => self.written + owed as u64,
            false => OPEN,
        };
        // The usual case under pipelining: one more answer of the same turn and class.
        if let Some(last) = self.waiting[..self.len].last_mut() {
            if last.started == self.started && last.class == class && last.end != OPEN && whole {
                last.end = end;
                last.n += 1;
                return;
            }
        }
        if self.len == PENDING {
            self.pop(stats, now_ns);
        }
        if let Some(slot) = self.waiting.get_mut(self.len) {
            *slot = Waiting {
                started: self.started,
                end,
                n: 1,
                class,
            };
            self.len += 1;
        }
    }

    /// The body of the last response queued is all queued now (a generated body) or sent
    /// (`sendfile`); `owed`: output bytes not yet written.
    pub(super) fn body_done(&mut self, owed: usize) {
        let end = self.written + owed as u64;
        if let Some(last) = self.waiting[..self.len].last_mut() {
            if last.end == OPEN {
                last.end = end;
            }
        }
    }

    /// Observes the responses that are all out.
    pub(super) fn observe(&mut self, stats: &mut Stats, now_ns: u64) {
        while self.len > 0 && self.waiting[0].end <= self.written {
            self.pop(stats, now_ns);
        }
    }

    /// The connection closes: what is still waiting is observed now.
    pub(super) fn close(&mut self, stats: &mut Stats, now_ns: u64) {
        while self.len > 0 {
            self.pop(stats, now_ns);
        }
    }

    /// Observes the oldest entry (there is one).
    fn pop(&mut self, stats: &mut Stats, now_ns: u64) {
        let w = self.waiting[0];
        let ns = now_ns.saturating_sub(w.started);
        stats.observe(w.class * 100, ns, u64::from(w.n));
        self.waiting.copy_within(1.., 0);
        self.len -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(stats: &Stats) -> u64 {
        stats.latency.iter().map(|h| h.count()).sum()
    }

    #[test]
    fn a_response_is_observed_once_its_last_byte_is_written() {
        let (mut l, mut stats) = (Latency::default(), Stats::default());
        let t0 = 1_000_000_000u64;
        let t1 = t0 + 3_000_000;
        l.head(t0);
        l.queued(200, 100, true, &mut stats, t0);
        l.wrote(99);
        l.observe(&mut stats, t1);
        assert_eq!(count(&stats), 0, "one byte still owed");
        l.wrote(1);
        l.observe(&mut stats, t1);
        assert_eq!(stats.latency[1].count(), 1);
        assert_eq!(stats.latency[1].sum_ns, 3_000_000);
    }

    #[test]
    fn pipelined_answers_of_one_turn_are_one_entry_and_bodies_end_later() {
        let (mut l, mut stats) = (Latency::default(), Stats::default());
        let t0 = 1_000_000_000u64;
        for i in 1..=16 {
            l.head(t0);
            l.queued(200, 10 * i, true, &mut stats, t0);
        }
        assert_eq!(l.len, 1);
        l.head(t0);
        l.queued(404, 170, true, &mut stats, t0);
        l.head(t0);
        l.queued(200, 1170, false, &mut stats, t0); // a download: head queued
        assert_eq!(l.len, 3);
        l.wrote(170);
        l.observe(&mut stats, t0);
        assert_eq!(
            (stats.latency[1].count(), stats.latency[3].count()),
            (16, 1)
        );
        l.wrote(1000);
        l.observe(&mut stats, t0);
        assert_eq!(count(&stats), 17, "the body is not done");
        l.body_done(0); // sendfile sent the rest
        l.observe(&mut stats, t0 + 1_000_000_000);
        assert_eq!(stats.latency[1].count(), 17);
        assert_eq!(stats.latency[1].buckets[12], 1, "1 s, in le=1");
    }

    #[test]
    fn beyond_the_entries_the_oldest_is_observed_and_the_rest_at_close() {
        let (mut l, mut stats) = (Latency::default(), Stats::default());
        let t0 = 1_000_000_000u64;
        for i in 0..PENDING as u32 + 2 {
            let at = t0 + 1_000_000 * u64::from(i);
            l.head(at);
            l.queued(200, 10 * (i as usize + 1), true, &mut stats, at);
        }
        assert_eq!(count(&stats), 2);
        l.close(&mut stats, t0 + 1_000_000_000);
        assert_eq!(count(&stats), PENDING as u64 + 2);
        assert_eq!(l.len, 0);
    }
}
