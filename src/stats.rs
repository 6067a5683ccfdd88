//! Counters behind `/-/stats`. Each reactor owns its [`Stats`] and updates them as connections
//! do their work; with several workers, each also publishes them on a shared [`Board`] for the
//! others' `/-/stats`, with plain stores to a slot only it writes (no lock, no read-modify-write).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

/// Status codes counted (index = code).
const CODES: usize = 600;

/// Upper bounds (`le`) of the request latency buckets, in nanoseconds: 0.1 ms to 10 s in
/// 1-2.5-5 steps, Prometheus-style, and one more bucket above them all (`+Inf`).
pub const BOUNDS_NS: [u64; 16] = [
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];
/// Buckets of a [`Histogram`]: one per bound, and `+Inf`.
pub const BUCKETS: usize = BOUNDS_NS.len() + 1;
/// Status classes with a histogram each: 1xx to 5xx.
pub const CLASSES: usize = 5;
/// What a histogram publishes: its buckets and its sum.
const HIST_WORDS: usize = BUCKETS + 1;

/// Request latencies: how many fell in each bucket (not cumulative: bucket `i` holds those
/// above bound `i - 1` and at most bound `i`), and their sum.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Histogram {
    pub buckets: [u64; BUCKETS],
    pub sum_ns: u64,
}

impl Histogram {
    /// `n` requests that each took `ns` nanoseconds.
    pub fn observe(&mut self, ns: u64, n: u64) {
        let i = BOUNDS_NS.partition_point(|&le| le < ns);
        if let Some(b) = self.buckets.get_mut(i) {
            *b += n;
        }
        self.sum_ns = self.sum_ns.wrapping_add(ns.saturating_mul(n));
    }

    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    pub fn add(&mut self, other: &Histogram) {
        for (a, b) in self.buckets.iter_mut().zip(other.buckets) {
            *a += b;
        }
        self.sum_ns = self.sum_ns.wrapping_add(other.sum_ns);
    }

    /// What was observed since `earlier` (a snapshot of the same histogram).
    pub fn since(&self, earlier: &Histogram) -> Histogram {
        let mut d = *self;
        for (a, b) in d.buckets.iter_mut().zip(earlier.buckets) {
            *a = a.saturating_sub(b);
        }
        d.sum_ns = d.sum_ns.wrapping_sub(earlier.sum_ns);
        d
    }

    /// The `q` quantile (0 < q ≤ 1) in seconds, as Prometheus' `histogram_quantile` computes it:
    /// the bucket holding the rank found, then linear interpolation within it (the first
    /// bucket starts at 0; a rank in `+Inf` gives the highest finite bound). `None` if empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let count = self.count();
        if count == 0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * count as f64;
        let mut below = 0u64;
        for (i, &n) in self.buckets.iter().enumerate() {
            let upto = below + n;
            if upto as f64 >= rank && n > 0 {
                let Some(&upper) = BOUNDS_NS.get(i) else {
                    break; // +Inf
                };
                let lower = if i == 0 { 0 } else { BOUNDS_NS[i - 1] };
                let within = (rank - below as f64) / n as f64;
                let ns = lower as f64 + (upper - lower) as f64 * within;
                return Some(ns / 1e9);
            }
            below = upto;
        }
        Some(BOUNDS_NS[BOUNDS_NS.len() - 1] as f64 / 1e9)
    }
}

/// The class index of a status code: 0 for 1xx … 4 for 5xx.
fn class_of(status: u16) -> Option<usize> {
    match status {
        100..=599 => Some(usize::from(status / 100 - 1)),
        _ => None,
    }
}

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
    /// Requests refused for want of valid `--auth` credentials (401).
    pub auth_failures: u64,
    /// Writes refused as cross-site or under a name not this machine's (403).
    pub cross_site_refused: u64,
    /// TLS handshakes finished.
    pub tls_handshakes: u64,
    /// TLS handshakes that failed: refused by rustls, or the peer gone in the middle.
    pub tls_handshake_errors: u64,
    /// Request latencies by status class (1xx…5xx): see [`Stats::observe`].
    pub latency: [Histogram; CLASSES],
    /// Classes observed since the last publish (bit `i`: class `i`), the only ones to publish.
    latency_dirty: u8,
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
const SCALARS: usize = 12;

/// Every worker's counters as it last published them.
pub struct Board {
    workers: Box<[Slot]>,
}

struct Slot {
    scalars: [AtomicU64; SCALARS],
    status: Box<[AtomicU64]>,
    /// Class `c`'s histogram: its buckets, then its sum, at `c * HIST_WORDS`.
    latency: Box<[AtomicU64]>,
}

impl Slot {
    fn latency(&self) -> [Histogram; CLASSES] {
        let mut h = [Histogram::default(); CLASSES];
        for (c, words) in h.iter_mut().zip(self.latency.chunks(HIST_WORDS)) {
            for (b, w) in c.buckets.iter_mut().zip(words) {
                *b = w.load(Relaxed);
            }
            c.sum_ns = words.get(BUCKETS).map_or(0, |w| w.load(Relaxed));
        }
        h
    }
}

/// What the supervisor's `--stats-interval` line needs of every worker, as last published.
#[derive(Clone, Copy, Debug, Default)]
pub struct Totals {
    pub requests: u64,
    pub connections_open: u64,
    /// Every status class's latencies together.
    pub latency: Histogram,
}

impl Board {
    pub fn new(workers: usize) -> Board {
        let slot = || Slot {
            scalars: Default::default(),
            status: (0..CODES).map(|_| AtomicU64::new(0)).collect(),
            latency: (0..CLASSES * HIST_WORDS)
                .map(|_| AtomicU64::new(0))
                .collect(),
        };
        Board {
            workers: (0..workers.max(1)).map(|_| slot()).collect(),
        }
    }

    /// Every worker's counters as it last published them, summed.
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for slot in self.workers.iter() {
            t.connections_open += slot.scalars[0].load(Relaxed);
            t.requests += slot.scalars[2].load(Relaxed);
            for h in slot.latency() {
                t.latency.add(&h);
            }
        }
        t
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
            auth_failures: 0,
            cross_site_refused: 0,
            tls_handshakes: 0,
            tls_handshake_errors: 0,
            latency: [Histogram::default(); CLASSES],
            latency_dirty: 0,
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
        let [_, conns, requests, bytes_in, bytes_out, timeouts, refused, dropped, auth, cross, tls, tls_errors] =
            slot.scalars.each_ref().map(|a| a.load(Relaxed));
        stats.connections_total = conns;
        stats.requests_total = requests;
        stats.bytes_in = bytes_in;
        stats.bytes_out = bytes_out;
        stats.timeouts = timeouts;
        stats.refused = refused;
        stats.access_log_dropped = dropped;
        stats.log_dropped_before = dropped;
        stats.auth_failures = auth;
        stats.cross_site_refused = cross;
        stats.tls_handshakes = tls;
        stats.tls_handshake_errors = tls_errors;
        stats.latency = slot.latency();
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

    /// `n` responses with `status`, each `ns` nanoseconds from its complete head to its last
    /// byte handed to the kernel (the connection measures; see `conn/latency.rs`). A few adds:
    /// nothing allocated, no clock read.
    pub fn observe(&mut self, status: u16, ns: u64, n: u64) {
        if let Some(c) = class_of(status) {
            self.latency[c].observe(ns, n);
            self.latency_dirty |= 1 << c;
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
            self.auth_failures,
            self.cross_site_refused,
            self.tls_handshakes,
            self.tls_handshake_errors,
        ]
    }

    /// Puts this worker's counters where the other workers (and the worker made again if this
    /// one dies) read them. A turn of the event loop ends with this: a few stores.
    pub fn publish(&mut self) {
        let Some(slot) = self.board.workers.get(self.worker) else {
            return;
        };
        let dirty = std::mem::take(&mut self.latency_dirty);
        for (c, (h, words)) in self
            .latency
            .iter()
            .zip(slot.latency.chunks(HIST_WORDS))
            .enumerate()
        {
            if dirty & (1 << c) != 0 {
                for (to, &v) in words.iter().zip(h.buckets.iter().chain([&h.sum_ns])) {
                    to.store(v, Relaxed);
                }
            }
        }
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

    /// Worker `i`'s latencies by class: this worker's own, live; another's as last published.
    fn latency_of(&self, i: usize) -> [Histogram; CLASSES] {
        match self.board.workers.get(i) {
            Some(_) if i == self.worker => self.latency,
            Some(slot) => slot.latency(),
            None => Default::default(),
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
    /// connection and request counts (to show how the kernel spread the load), and latency
    /// quantiles overall and per worker.
    pub fn to_json(&self) -> String {
        use std::fmt::Write;
        let n = self.board.workers.len();
        let workers: Vec<[u64; SCALARS]> = (0..n).map(|i| self.scalars_of(i)).collect();
        let latencies: Vec<Histogram> = (0..n).map(|i| merged(&self.latency_of(i))).collect();
        let total = workers.iter().fold([0; SCALARS], |mut t, w| {
            t.iter_mut().zip(w).for_each(|(t, v)| *t += v);
            t
        });
        let latency = latencies.iter().fold(Histogram::default(), |mut t, h| {
            t.add(h);
            t
        });
        let [open, conns, requests, bytes_in, bytes_out, timeouts, refused, dropped, auth, cross, tls, tls_errors] =
            total;
        let mut s = String::with_capacity(512);
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
             \"auth_failures\":{auth},\"cross_site_refused\":{cross},\
             \"tls_handshakes\":{tls},\"tls_handshake_errors\":{tls_errors},\
             \"latency_ms\":{},\"workers\":[",
            Quantiles(&latency)
        );
        for (i, (w, h)) in workers.iter().zip(&latencies).enumerate() {
            let _ = write!(
                s,
                "{}{{\"worker\":{},\"connections_open\":{},\"connections_total\":{},\
                 \"requests_total\":{},\"latency_ms\":{}}}",
                if i == 0 { "" } else { "," },
                i + 1,
                w[0],
                w[1],
                w[2],
                Quantiles(h)
            );
        }
        s.push_str("]}");
        s
    }

    /// `/-/metrics`: the same counters in the Prometheus text exposition format 0.0.4, and
    /// the latency histogram by status class (summed over the workers).
    pub fn to_prometheus(&self) -> String {
        use std::fmt::Write;
        let n = self.board.workers.len();
        let workers: Vec<[u64; SCALARS]> = (0..n).map(|i| self.scalars_of(i)).collect();
        let total = workers.iter().fold([0; SCALARS], |mut t, w| {
            t.iter_mut().zip(w).for_each(|(t, v)| *t += v);
            t
        });
        let mut latency = [Histogram::default(); CLASSES];
        for i in 0..n {
            for (t, h) in latency.iter_mut().zip(self.latency_of(i)) {
                t.add(&h);
            }
        }
        let mut s = String::with_capacity(4096);
        let family = |s: &mut String, name: &str, kind: &str, help: &str| {
            let _ = write!(s, "# HELP {name} {help}\n# TYPE {name} {kind}\n");
        };
        family(
            &mut s,
            "spindle_uptime_seconds",
            "gauge",
            "Seconds since the server started.",
        );
        let _ = writeln!(
            s,
            "spindle_uptime_seconds {}",
            self.started.elapsed().as_secs()
        );
        // The counters /-/stats shows per worker, by worker.
        for (index, name, kind, help) in [
            (
                0,
                "spindle_connections_open",
                "gauge",
                "Connections open now.",
            ),
            (
                1,
                "spindle_connections_total",
                "counter",
                "Connections accepted.",
            ),
            (
                2,
                "spindle_requests_total",
                "counter",
                "Responses sent (every status).",
            ),
        ] {
            family(&mut s, name, kind, help);
            for (i, w) in workers.iter().enumerate() {
                let _ = writeln!(s, "{name}{{worker=\"{}\"}} {}", i + 1, w[index]);
            }
        }
        for (index, name, help) in [
            (3, "spindle_bytes_in_total", "Bytes read from clients."),
            (4, "spindle_bytes_out_total", "Bytes written to clients."),
            (
                5,
                "spindle_timeouts_total",
                "Connections closed by a request, body, idle or write timeout.",
            ),
            (
                6,
                "spindle_refused_total",
                "Accepts that failed for want of descriptors or memory.",
            ),
            (
                7,
                "spindle_access_log_dropped_total",
                "Access-log lines dropped because the writer fell behind.",
            ),
            (
                8,
                "spindle_auth_failures_total",
                "Requests refused for want of valid --auth credentials (401).",
            ),
            (
                9,
                "spindle_cross_site_refused_total",
                "Writes refused as cross-site or under a name not this machine's (403).",
            ),
            (
                10,
                "spindle_tls_handshakes_total",
                "TLS handshakes finished.",
            ),
            (
                11,
                "spindle_tls_handshake_errors_total",
                "TLS handshakes that failed (refused, or the peer gone in the middle).",
            ),
        ] {
            family(&mut s, name, "counter", help);
            let _ = writeln!(s, "{name} {}", total[index]);
        }
        family(
            &mut s,
            "spindle_responses_total",
            "counter",
            "Responses sent, by status code.",
        );
        for (code, n) in self
            .status_sum()
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
        {
            let _ = writeln!(s, "spindle_responses_total{{code=\"{code}\"}} {n}");
        }
        let name = "spindle_request_duration_seconds";
        family(
            &mut s,
            name,
            "histogram",
            "From a request's complete head to the last byte of its response handed to the \
             kernel, by status class (resolution: one turn of a worker's event loop).",
        );
        for (c, h) in latency.iter().enumerate() {
            let class = c + 1;
            let mut cumulative = 0;
            for (i, n) in h.buckets.iter().enumerate() {
                cumulative += n;
                match BOUNDS_NS.get(i) {
                    Some(&le) => {
                        let le = le as f64 / 1e9;
                        let _ = writeln!(
                            s,
                            "{name}_bucket{{class=\"{class}xx\",le=\"{le}\"}} {cumulative}"
                        );
                    }
                    None => {
                        let _ = writeln!(
                            s,
                            "{name}_bucket{{class=\"{class}xx\",le=\"+Inf\"}} {cumulative}"
                        );
                    }
                }
            }
            let sum = h.sum_ns as f64 / 1e9;
            let _ = writeln!(s, "{name}_sum{{class=\"{class}xx\"}} {sum}");
            let _ = writeln!(s, "{name}_count{{class=\"{class}xx\"}} {cumulative}");
        }
        s
    }
}

/// Every class's latencies in one histogram.
fn merged(classes: &[Histogram; CLASSES]) -> Histogram {
    classes.iter().fold(Histogram::default(), |mut t, h| {
        t.add(h);
        t
    })
}

/// `{"p50":0.21,"p90":0.4,"p99":1.8}`: quantiles in milliseconds (0 while nothing has been
/// observed).
struct Quantiles<'a>(&'a Histogram);

impl std::fmt::Display for Quantiles<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |q| Ms(self.0.quantile(q).unwrap_or(0.0) * 1e3);
        write!(
            f,
            "{{\"p50\":{},\"p90\":{},\"p99\":{}}}",
            ms(0.5),
            ms(0.9),
            ms(0.99)
        )
    }
}

/// Milliseconds with at most 3 decimals, no trailing zeros (`0.25`, `12`, `0.004`).
pub struct Ms(pub f64);

impl std::fmt::Display for Ms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = format!("{:.3}", self.0);
        let s = s.trim_end_matches('0').trim_end_matches('.');
        f.write_str(if s.is_empty() || s == "-" { "0" } else { s })
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
        assert!(json.contains("{\"worker\":2,\"connections_open\":0,\"connections_total\":7,\"requests_total\":3,\"latency_ms\":"), "{json}");
    }

    #[test]
    fn buckets_hold_up_to_their_bound_and_quantiles_interpolate_as_prometheus_does() {
        let mut h = Histogram::default();
        assert_eq!(h.quantile(0.5), None);
        h.observe(0, 1);
        h.observe(100_000, 1); // exactly 0.1 ms: le="0.0001"
        h.observe(100_001, 1);
        assert_eq!(&h.buckets[..3], &[2, 1, 0]);
        h.observe(20_000_000_000, 1); // 20 s: +Inf
        assert_eq!(h.buckets[BUCKETS - 1], 1);
        assert_eq!(h.count(), 4);
        // Rank 2 of 4 is the end of the first bucket [0, 0.1 ms].
        assert_eq!(h.quantile(0.5), Some(0.0001));
        // A rank in +Inf: the highest finite bound.
        assert_eq!(h.quantile(0.99), Some(10.0));
        // 100 in (1 ms, 2.5 ms]: p50 is halfway, 1.75 ms; p90 at 90 %.
        let mut h = Histogram::default();
        h.observe(2_000_000, 100);
        let close = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() < 1e-12;
        assert!(close(h.quantile(0.5), 0.00175), "{:?}", h.quantile(0.5));
        assert!(close(h.quantile(0.9), 0.00235), "{:?}", h.quantile(0.9));
        assert_eq!(h.sum_ns, 200_000_000);
        let later = {
            let mut l = h;
            l.observe(0, 3);
            l
        };
        assert_eq!(later.since(&h).count(), 3);
    }

    #[test]
    fn latencies_are_published_and_shown_per_worker() {
        let board = Arc::new(Board::new(2));
        let mut w2 = Stats::of_worker(board.clone(), 1);
        w2.count_response(200);
        w2.observe(200, 2_000_000, 1);
        w2.count_response(503);
        w2.observe(503, 50_000, 1);
        w2.publish();
        let totals = board.totals();
        assert_eq!((totals.requests, totals.latency.count()), (2, 2));
        assert_eq!(Stats::resume(board.clone(), 1).latency, w2.latency);
        let w1 = Stats::of_worker(board, 0);
        let json = w1.to_json();
        assert!(
            json.contains("\"access_log_dropped\":0,\"auth_failures\":0,\"cross_site_refused\":0,\"tls_handshakes\":0,\"tls_handshake_errors\":0,\"latency_ms\":{\"p50\":0.1,\"p90\":2.2,\"p99\":2.47},\"workers\":["),
            "{json}"
        );
        assert!(
            json.contains("\"requests_total\":0,\"latency_ms\":{\"p50\":0,\"p90\":0,\"p99\":0}}"),
            "{json}"
        );
        let text = w1.to_prometheus();
        for line in [
            "# TYPE spindle_request_duration_seconds histogram\n",
            "spindle_request_duration_seconds_bucket{class=\"2xx\",le=\"0.001\"} 0\n",
            "spindle_request_duration_seconds_bucket{class=\"2xx\",le=\"0.0025\"} 1\n",
            "spindle_request_duration_seconds_bucket{class=\"5xx\",le=\"0.0001\"} 1\n",
            "spindle_request_duration_seconds_bucket{class=\"5xx\",le=\"+Inf\"} 1\n",
            "spindle_request_duration_seconds_sum{class=\"2xx\"} 0.002\n",
            "spindle_request_duration_seconds_count{class=\"1xx\"} 0\n",
            "spindle_requests_total{worker=\"2\"} 2\n",
            "spindle_responses_total{code=\"503\"} 1\n",
            "# TYPE spindle_connections_open gauge\n",
        ] {
            assert!(text.contains(line), "no {line:?} in\n{text}");
        }
    }
}
