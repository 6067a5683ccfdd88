//! Counters behind `/-/stats`. Each reactor owns its [`Stats`] and updates them as connections
//! do their work; with several workers, each also publishes them on a shared [`Board`] for the
//! others' `/-/stats`, with plain stores to a slot only it writes (no lock, no read-modify-write).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

/// Status codes counted (index = code).
const CODES: usize = 600;

pub struct Stats {
    pub started: Instant,
    pub connections_open: u64,
    pub connections_total: u64,
    pub requests_total: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Responses by status code (index = code).
    pub status: Box<[u64; CODES]>,
    /// Connections closed by a request, body, idle or write timeout.
    pub timeouts: u64,
    /// Accepts that failed for want of descriptors (EMFILE/ENFILE) or memory.
    pub refused: u64,
    /// Access-log lines dropped because the log's writer fell behind.
    pub access_log_dropped: u64,
    /// Where every worker publishes, and which slot is this one's.
    board: Arc<Board>,
    worker: usize,
    /// The codes answered at least once: the only status counts there are to publish.
    codes_seen: Vec<u16>,
    /// Lines the access log of this worker's earlier life dropped (a new log counts from 0).
    log_dropped_before: u64,
}

impl Default for Stats {
    /// The counters of a server with one worker.
    fn default() -> Self {
        Stats::of_worker(Arc::new(Board::new(1)), 0)
    }
}

/// The scalar counters, in the order they are published and summed.
const SCALARS: usize = 8;

/// Every worker's counters as it last published them.
pub struct Board {
    workers: Box<[Slot]>,
}

struct Slot {
    scalars: [AtomicU64; SCALARS],
    status: Box<[AtomicU64]>,
}

impl Board {
    pub fn new(workers: usize) -> Board {
        let slot = || Slot {
            scalars: Default::default(),
            status: (0..CODES).map(|_| AtomicU64::new(0)).collect(),
        };
        Board {
            workers: (0..workers.max(1)).map(|_| slot()).collect(),
        }
    }
}

impl std::fmt::Debug for Board {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Board({} workers)", self.workers.len())
    }
}

impl Stats {
    /// The counters of worker `worker` (from 0) of those on `board`.
    pub fn of_worker(board: Arc<Board>, worker: usize) -> Stats {
        Stats {
            started: Instant::now(),
            connections_open: 0,
            connections_total: 0,
            requests_total: 0,
            bytes_in: 0,
            bytes_out: 0,
            status: Box::new([0; CODES]),
            timeouts: 0,
            refused: 0,
            access_log_dropped: 0,
            board,
            worker,
            codes_seen: Vec::new(),
            log_dropped_before: 0,
        }
    }

    /// Worker `worker`'s counters, going on from what it last published (a worker made again
    /// after a crash: its connections are gone, but nothing it counted is forgotten).
    pub fn resume(board: Arc<Board>, worker: usize) -> Stats {
        let mut stats = Stats::of_worker(board, worker);
        let Some(slot) = stats.board.workers.get(worker) else {
            return stats;
        };
        let [_, conns, requests, bytes_in, bytes_out, timeouts, refused, dropped] =
            slot.scalars.each_ref().map(|a| a.load(Relaxed));
        stats.connections_total = conns;
        stats.requests_total = requests;
        stats.bytes_in = bytes_in;
        stats.bytes_out = bytes_out;
        stats.timeouts = timeouts;
        stats.refused = refused;
        stats.access_log_dropped = dropped;
        stats.log_dropped_before = dropped;
        for (code, n) in slot.status.iter().enumerate() {
            let n = n.load(Relaxed);
            if let (Some(to), true) = (stats.status.get_mut(code), n > 0) {
                *to = n;
                stats.codes_seen.push(code as u16);
            }
        }
        stats
    }

    /// What this worker's access log has dropped so far (on top of an earlier life's).
    pub fn set_log_dropped(&mut self, dropped: u64) {
        self.access_log_dropped = self.log_dropped_before + dropped;
    }

    pub fn count_response(&mut self, status: u16) {
        self.requests_total += 1;
        if let Some(n) = self.status.get_mut(usize::from(status)) {
            if *n == 0 {
                self.codes_seen.push(status);
            }
            *n += 1;
        }
    }

    fn scalars(&self) -> [u64; SCALARS] {
        [
            self.connections_open,
            self.connections_total,
            self.requests_total,
            self.bytes_in,
            self.bytes_out,
            self.timeouts,
            self.refused,
            self.access_log_dropped,
        ]
    }

    /// Puts this worker's counters where the other workers (and the worker made again if this
    /// one dies) read them. A turn of the event loop ends with this: a few stores.
    pub fn publish(&self) {
        let Some(slot) = self.board.workers.get(self.worker) else {
            return;
        };
        for (to, v) in slot.scalars.iter().zip(self.scalars()) {
            to.store(v, Relaxed);
        }
        for &code in &self.codes_seen {
            let code = usize::from(code);
            if let (Some(to), Some(&v)) = (slot.status.get(code), self.status.get(code)) {
                to.store(v, Relaxed);
            }
        }
    }

    /// Worker `i`'s scalar counters: this worker's own, live; another's as last published.
    fn scalars_of(&self, i: usize) -> [u64; SCALARS] {
        match self.board.workers.get(i) {
            Some(_) if i == self.worker => self.scalars(),
            Some(slot) => slot.scalars.each_ref().map(|a| a.load(Relaxed)),
            None => [0; SCALARS],
        }
    }

    /// Status counts over all workers (this one's live, the others' as of their last turn).
    fn status_sum(&self) -> Vec<u64> {
        let mut sum = self.status.to_vec();
        for (i, slot) in self.board.workers.iter().enumerate() {
            if i != self.worker {
                for (s, n) in sum.iter_mut().zip(slot.status.iter()) {
                    *s += n.load(Relaxed);
                }
            }
        }
        sum
    }

    /// The `/-/stats` JSON document: every worker's counters summed, then each worker's own
    /// connection and request counts (to show how the kernel spread the load).
    pub fn to_json(&self) -> String {
        use std::fmt::Write;
        let workers: Vec<[u64; SCALARS]> = (0..self.board.workers.len())
            .map(|i| self.scalars_of(i))
            .collect();
        let total = workers.iter().fold([0; SCALARS], |mut t, w| {
            t.iter_mut().zip(w).for_each(|(t, v)| *t += v);
            t
        });
        let [open, conns, requests, bytes_in, bytes_out, timeouts, refused, dropped] = total;
        let mut s = String::with_capacity(256);
        let _ = write!(
            s,
            "{{\"uptime_s\":{},\"connections_open\":{open},\"connections_total\":{conns},\
             \"requests_total\":{requests},\"bytes_in\":{bytes_in},\"bytes_out\":{bytes_out},\
             \"status\":{{",
            self.started.elapsed().as_secs(),
        );
        let mut first = true;
        for (code, n) in self
            .status_sum()
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
        {
            let _ = write!(s, "{}\"{}\":{}", if first { "" } else { "," }, code, n);
            first = false;
        }
        let _ = write!(
            s,
            "}},\"timeouts\":{timeouts},\"refused\":{refused},\"access_log_dropped\":{dropped},\
             \"workers\":["
        );
        for (i, w) in workers.iter().enumerate() {
            let _ = write!(
                s,
                "{}{{\"worker\":{},\"connections_open\":{},\"connections_total\":{},\
                 \"requests_total\":{}}}",
                if i == 0 { "" } else { "," },
                i + 1,
                w[0],
                w[1],
                w[2]
            );
        }
        s.push_str("]}");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_made_again_goes_on_from_what_it_published() {
        let board = Arc::new(Board::new(2));
        let mut first = Stats::of_worker(board.clone(), 1);
        first.connections_open = 3;
        first.connections_total = 7;
        first.count_response(200);
        first.count_response(404);
        first.set_log_dropped(5);
        first.publish();
        let mut again = Stats::resume(board.clone(), 1);
        assert_eq!(again.connections_open, 0, "its connections died with it");
        assert_eq!((again.connections_total, again.requests_total), (7, 2));
        assert_eq!((again.status[200], again.status[404]), (1, 1));
        again.set_log_dropped(1); // its new log's count
        assert_eq!(again.access_log_dropped, 6);
        again.count_response(200);
        again.publish();
        // Worker 0 sees the sums, worker 1's status counts included.
        let other = Stats::of_worker(board, 0);
        let json = other.to_json();
        assert!(json.contains("\"requests_total\":3,"), "{json}");
        assert!(json.contains("\"status\":{\"200\":2,\"404\":1}"), "{json}");
        assert!(json.contains("{\"worker\":2,\"connections_open\":0,\"connections_total\":7,\"requests_total\":3}"), "{json}");
    }
}
