//! Finding the end of a head that arrives in pieces, in O(n): the scanner remembers how far it
//! has looked, so a head trickling in byte by byte is not re-read from its start on every read.
//! Each line is checked once, as its end arrives, by the same functions [`super::parse_head`]
//! uses, so a bad line is refused as soon as it is complete, however the head was split.

use memchr::memchr;

use super::{check_field_line, parse_request_line, ParseError, MAX_HEADERS, MAX_REQUEST_LINE};
use crate::http::token::is_tchar;

/// Finds the end of a request head in a growing buffer without re-reading what it has seen.
#[derive(Debug, Default, Clone)]
pub struct HeadScanner {
    /// Where the next search starts.
    pos: usize,
    /// End of the request line (index of its `\n`), once seen.
    line_end: Option<usize>,
    /// Lines before this index have been checked.
    checked: usize,
    /// Field lines seen so far.
    fields: usize,
    /// Bytes of the method checked so far, before the request line is complete.
    method: usize,
    /// The method has ended with its space: nothing more to check until the line ends.
    method_done: bool,
    /// The buffer's length at the last scan.
    seen: usize,
}

impl HeadScanner {
    pub fn reset(&mut self) {
        *self = HeadScanner::default();
    }

    /// Nothing scanned since the last reset.
    pub fn is_fresh(&self) -> bool {
        self.pos == 0 && self.line_end.is_none()
    }

    /// The buffer has grown since the last scan (or there has been none).
    pub fn has_news(&self, buf: &[u8]) -> bool {
        buf.len() != self.seen
    }

    /// True until a non-empty first line is seen: empty lines here are skipped, not parsed.
    pub fn before_request_line(&self) -> bool {
        self.line_end.is_none_or(|e| e <= 1)
    }

    /// Looks for the empty line that ends the head in `buf` (which starts at the request line).
    /// `Ok(Some(len))`: the head is `buf[..len]`. `Ok(None)`: need more bytes. Before the
    /// request line ends, its method is checked byte by byte as well (see [`method_prefix`]).
    pub fn scan(&mut self, buf: &[u8], max_head: usize) -> Result<Option<usize>, ParseError> {
        self.seen = buf.len();
        let mut i = self.pos;
        while let Some(off) = memchr(b'\n', &buf[i..]) {
            let nl = i + off;
            if nl >= self.checked {
                self.check_line(buf, nl)?;
            }
            let end = match (buf.get(nl + 1), buf.get(nl + 2)) {
                (Some(b'\n'), _) => Some(nl + 2),
                (Some(b'\r'), Some(b'\n')) => Some(nl + 3),
                (None, _) | (Some(b'\r'), None) => {
                    // Cannot tell yet whether an empty line follows: look here again.
                    self.pos = nl;
                    return self.incomplete(buf, max_head);
                }
                _ => None,
            };
            if let Some(end) = end {
                if end > max_head {
                    return Err(ParseError::HeadTooLarge);
                }
                return Ok(Some(end));
            }
            i = nl + 1;
        }
        self.pos = buf.len();
        self.incomplete(buf, max_head)
    }

    /// Checks the line that ends with the `\n` at `nl`: the request line, or a field line.
    fn check_line(&mut self, buf: &[u8], nl: usize) -> Result<(), ParseError> {
        let raw = &buf[self.checked..nl];
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if self.line_end.is_none() {
            if line.len() > MAX_REQUEST_LINE {
                // A bad method byte is a 400 however long the line: it is refused on arrival,
                // before the line is known to be too long.
                method_prefix(line)?;
                return Err(ParseError::UriTooLong);
            }
            parse_request_line(line)?;
            self.line_end = Some(nl);
        } else if !line.is_empty() {
            check_field_line(&buf[self.checked..=nl])?;
            self.fields += 1;
            if self.fields > MAX_HEADERS {
                return Err(ParseError::TooManyHeaders);
            }
        }
        self.checked = nl + 1;
        Ok(())
    }

    fn incomplete(&mut self, buf: &[u8], max_head: usize) -> Result<Option<usize>, ParseError> {
        if self.line_end.is_none() && !self.method_done {
            // The method is checked as it arrives, from where the last look stopped, so that
            // bytes that cannot begin a request are refused at once, however they trickle in.
            let from = self.method.min(buf.len());
            match buf[from..].iter().position(|&b| !is_tchar(b)) {
                None => self.method = buf.len(),
                Some(k) => {
                    let k = from + k;
                    method_prefix(buf)?;
                    self.method = k;
                    self.method_done = k > 0;
                }
            }
        }
        // One byte of slack: the CR of a CRLF that has not been followed by its LF yet.
        if self.line_end.is_none() && buf.len() > MAX_REQUEST_LINE + 1 {
            Err(ParseError::UriTooLong)
        } else if buf.len() >= max_head {
            Err(ParseError::HeadTooLarge)
        } else {
            Ok(None)
        }
    }
}

/// Checks the start of a request line whose end may not have arrived: the method's bytes must
/// be token characters up to the space that ends it (RFC 9112 §3). A TLS ClientHello, or any
/// other byte that cannot begin a request, is refused here without waiting for a line end, with
/// the answer [`parse_request_line`] gives once the line is whole. A lone CR may still be the
/// start of an empty line (RFC 9112 §2.2), which the connection skips: it waits.
pub fn method_prefix(start: &[u8]) -> Result<(), ParseError> {
    match start.iter().position(|&b| !is_tchar(b)) {
        None => Ok(()),
        Some(k) if k > 0 && start[k] == b' ' => Ok(()),
        Some(0) if start == b"\r" => Ok(()),
        Some(_) => Err(ParseError::Malformed),
    }
}

/// Number of empty lines (`\r\n` or `\n`) at the start of `buf`, which RFC 9112 §2.2 says to
/// ignore before a request line. Returns the bytes to skip.
pub fn leading_empty_lines(buf: &[u8]) -> usize {
    let mut i = 0;
    loop {
        match (buf.get(i), buf.get(i + 1)) {
            (Some(b'\n'), _) => i += 1,
            (Some(b'\r'), Some(b'\n')) => i += 2,
            _ => return i,
        }
    }
}
