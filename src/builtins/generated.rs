//! Bodies generated as the socket drains, never held whole: `/-/bytes/N` and `/-/stream/N`.

use super::PATTERN;
use crate::handler::{Body, Response, Stream};

/// `/-/bytes/N`: N bytes of [`PATTERN`].
pub(super) fn bytes(len: u64) -> Response {
    let pattern = Pattern { sent: 0, len };
    Response::new(
        200,
        "application/octet-stream",
        Body::Stream(Box::new(pattern)),
    )
}

/// `/-/stream/N`: N chunks of one JSON line each.
pub(super) fn stream(count: u64) -> Response {
    let lines = Lines { next: 0, count };
    Response::new(200, "application/x-ndjson", Body::Stream(Box::new(lines)))
}

/// `/-/bytes/N`: the repeating [`PATTERN`], generated as the socket drains.
struct Pattern {
    sent: u64,
    len: u64,
}

impl Stream for Pattern {
    fn length(&self) -> Option<u64> {
        Some(self.len)
    }

    fn fill(&mut self, out: &mut Vec<u8>, max: usize) -> bool {
        let mut left = (self.len - self.sent).min(max as u64) as usize;
        while left > 0 {
            let at = (self.sent % 64) as usize;
            let n = (64 - at).min(left);
            out.extend_from_slice(&PATTERN[at..at + n]);
            self.sent += n as u64;
            left -= n;
        }
        self.sent < self.len
    }
}

/// `/-/stream/N`: N chunks, each one JSON line `{"chunk":i}`.
struct Lines {
    next: u64,
    count: u64,
}

impl Stream for Lines {
    fn length(&self) -> Option<u64> {
        None
    }

    fn fill(&mut self, out: &mut Vec<u8>, _max: usize) -> bool {
        if self.next < self.count {
            out.extend_from_slice(b"{\"chunk\":");
            out.extend_from_slice(itoa::Buffer::new().format(self.next).as_bytes());
            out.extend_from_slice(b"}\n");
            self.next += 1;
        }
        self.next < self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_is_contiguous_across_fills() {
        let mut p = Pattern { sent: 0, len: 200 };
        let mut out = Vec::new();
        while p.fill(&mut out, 7) {}
        assert_eq!(out.len(), 200);
        for (i, b) in out.iter().enumerate() {
            assert_eq!(*b, PATTERN[i % 64]);
        }
    }
}
