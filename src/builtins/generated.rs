//! Bodies generated as the socket drains, never held whole: `/-/bytes/N` and `/-/stream/N`.

use super::PATTERN;
use crate::handler::{Body, Response, Stream};

/// `/-/bytes/N`: N bytes of [`PATTERN`] with a `Content-Length`; with `?chunk=K`
/// (`Some(K)`), chunked framing in pieces of at most K bytes (each `fill` makes one chunk).
pub(super) fn bytes(len: u64, chunk: Option<usize>) -> Response {
    let pattern = Pattern {
        chunk,
        ..Pattern::span(0, len)
    };
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

/// `/-/bytes/N` (and `/-/range/N`'s parts): the repeating [`PATTERN`], generated as the socket
/// drains. Byte `i` of the whole is `PATTERN[i % 64]` whatever part is sent.
pub(super) struct Pattern {
    /// The offset of the next byte.
    sent: u64,
    /// The offset the body ends at (exclusive).
    len: u64,
    /// Chunked framing, at most this many bytes a chunk.
    chunk: Option<usize>,
}

impl Pattern {
    /// Bytes `start..end` of the pattern, with a `Content-Length`.
    pub(super) fn span(start: u64, end: u64) -> Pattern {
        Pattern {
            sent: start,
            len: end,
            chunk: None,
        }
    }
}

impl Stream for Pattern {
    fn length(&self) -> Option<u64> {
        match self.chunk {
            None => Some(self.len - self.sent),
            Some(_) => None,
        }
    }

    fn fill(&mut self, out: &mut Vec<u8>, max: usize) -> bool {
        let max = self.chunk.map_or(max, |k| k.min(max));
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
        let mut p = Pattern::span(0, 200);
        let mut out = Vec::new();
        while p.fill(&mut out, 7) {}
        assert_eq!(out.len(), 200);
        for (i, b) in out.iter().enumerate() {
            assert_eq!(*b, PATTERN[i % 64]);
        }
    }

    #[test]
    fn a_span_is_offset_correct_and_chunks_are_bounded() {
        let mut p = Pattern::span(70, 200);
        assert_eq!(p.length(), Some(130));
        let mut out = Vec::new();
        while p.fill(&mut out, 1000) {}
        assert_eq!(out.len(), 130);
        for (i, b) in out.iter().enumerate() {
            assert_eq!(*b, PATTERN[(70 + i) % 64]);
        }
        let mut p = Pattern {
            chunk: Some(3),
            ..Pattern::span(0, 10)
        };
        assert_eq!(p.length(), None);
        let mut sizes = Vec::new();
        loop {
            let mut piece = Vec::new();
            let more = p.fill(&mut piece, 2);
            sizes.push(piece.len());
            if !more {
                break;
            }
        }
        assert_eq!(sizes, [2, 2, 2, 2, 2], "never more than max");
    }
}
