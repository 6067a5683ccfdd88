//! Counters behind `/-/stats`, owned by the reactor and updated as connections do their work.

use std::time::Instant;

pub struct Stats {
    pub started: Instant,
    pub connections_open: u64,
    pub connections_total: u64,
    pub requests_total: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Responses by status code (index = code).
    pub status: Box<[u64; 600]>,
    /// Connections closed by a request, body, idle or write timeout.
    pub timeouts: u64,
    /// Accepts that failed for want of descriptors (EMFILE/ENFILE) or memory.
    pub refused: u64,
    /// Access-log lines dropped because the log's writer fell behind.
    pub access_log_dropped: u64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            started: Instant::now(),
            connections_open: 0,
            connections_total: 0,
            requests_total: 0,
            bytes_in: 0,
            bytes_out: 0,
            status: Box::new([0; 600]),
            timeouts: 0,
            refused: 0,
            access_log_dropped: 0,
        }
    }
}

impl Stats {
    pub fn count_response(&mut self, status: u16) {
        self.requests_total += 1;
        if let Some(n) = self.status.get_mut(usize::from(status)) {
            *n += 1;
        }
    }

    /// The `/-/stats` JSON document.
    pub fn to_json(&self) -> String {
        use std::fmt::Write;
        let mut s = String::with_capacity(256);
        let _ = write!(
            s,
            "{{\"uptime_s\":{},\"connections_open\":{},\"connections_total\":{},\
             \"requests_total\":{},\"bytes_in\":{},\"bytes_out\":{},\"status\":{{",
            self.started.elapsed().as_secs(),
            self.connections_open,
            self.connections_total,
            self.requests_total,
            self.bytes_in,
            self.bytes_out,
        );
        let mut first = true;
        for (code, n) in self.status.iter().enumerate().filter(|(_, n)| **n > 0) {
            let _ = write!(s, "{}\"{}\":{}", if first { "" } else { "," }, code, n);
            first = false;
        }
        let _ = write!(
            s,
            "}},\"timeouts\":{},\"refused\":{},\"access_log_dropped\":{}}}",
            self.timeouts, self.refused, self.access_log_dropped
        );
        s
    }
}
