//! Request heads: split the request line (by hand: spindle's version rules are its own) and the
//! header fields (with `httparse`), then apply RFC 9112's framing rules so that no
//! request-smuggling shape gets through. A head that arrives in pieces is found by
//! [`HeadScanner`] first; the parser itself only ever reads from the start of a buffer.

use memchr::memchr;

use super::token::is_tchar;
use super::{Method, Version};
pub use fields::{read_fields, Said};
pub use host::KnownHost;
pub use known::Known;
pub use scan::{leading_empty_lines, HeadScanner};

mod fields;
mod host;
mod known;
mod scan;
#[cfg(test)]
mod tests;

/// Longest request line we read; a longer one is 414.
pub const MAX_REQUEST_LINE: usize = 8192;
/// Most header fields in one request; more is 431.
pub const MAX_HEADERS: usize = 100;

/// How the body of a request is framed (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body.
    None,
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// Why a request head was refused. [`ParseError::status`] maps each to its status code, in one
/// place; every one of them closes the connection after the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Not HTTP: bad request line, bad header syntax, obs-fold, space before a colon.
    Malformed,
    /// Missing (on 1.1), duplicate or invalid `Host`.
    BadHost,
    /// Ambiguous body framing: TE with CL, differing lengths, bad length, TE on 1.0.
    BadFraming,
    /// Request line longer than [`MAX_REQUEST_LINE`].
    UriTooLong,
    /// Head longer than `--max-head`.
    HeadTooLarge,
    /// More than [`MAX_HEADERS`] header fields.
    TooManyHeaders,
    /// A well-formed method we do not know.
    UnknownMethod,
    /// A transfer coding other than `chunked`.
    UnknownCoding,
    /// `HTTP/2.0` and up (or `HTTP/0.x`).
    Version,
    /// An `Expect` other than `100-continue`.
    Expectation,
}

impl ParseError {
    pub fn status(self) -> u16 {
        match self {
            ParseError::Malformed | ParseError::BadHost | ParseError::BadFraming => 400,
            ParseError::UriTooLong => 414,
            ParseError::HeadTooLarge | ParseError::TooManyHeaders => 431,
            ParseError::UnknownMethod | ParseError::UnknownCoding => 501,
            ParseError::Version => 505,
            ParseError::Expectation => 417,
        }
    }
}

/// A parsed request head. Everything borrows from the connection's input buffer, except the
/// [`Summary`], which the connection keeps once those bytes are gone.
#[derive(Debug)]
pub struct Head<'a> {
    /// The request line as sent (without its line ending), for the access log.
    pub line: &'a [u8],
    pub method: Method,
    /// The request target as sent (absolute-form included).
    pub target: &'a [u8],
    /// The path part of the target, still percent-encoded.
    pub path: &'a [u8],
    /// What follows `?`, if anything.
    pub query: Option<&'a [u8]>,
    pub headers: &'a [httparse::Header<'a>],
    pub summary: Summary,
}

/// What a connection must know of a request after its head has been answered: owned, so it
/// outlives the borrowed [`Head`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Length of the head in the input buffer.
    pub len: usize,
    pub version: Version,
    /// Whether the connection may stay open after this request (RFC 9112 §9.3).
    pub keep_alive: bool,
    /// The method is `HEAD`: the answer is its head only.
    pub head_method: bool,
    pub framing: BodyFraming,
    pub expect_continue: bool,
}

impl<'a> Head<'a> {
    /// First value of the header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        header(self.headers, name)
    }
}

/// First value of the header `name` (case-insensitive) in `headers`.
pub fn header<'a>(headers: &[httparse::Header<'a>], name: &str) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value)
}

/// Header slots tried first: zeroing all 100 per request would cost more than parsing.
const FEW_HEADERS: usize = 16;
/// Most fields of a head `known.rs` remembers (a load generator's), and its slots for them.
const HANDFUL: usize = 4;

/// Room for the header fields of one head, on the caller's stack, cleared only when used: a
/// handful of slots for a recalled head, a few for a parse, and all of [`MAX_HEADERS`] only
/// for a head that has more fields than those.
#[derive(Default)]
pub struct Slots<'a> {
    handful: Option<[httparse::Header<'a>; HANDFUL]>,
    few: Option<[httparse::Header<'a>; FEW_HEADERS]>,
    all: Option<[httparse::Header<'a>; MAX_HEADERS]>,
}

/// The fields split from a block, and the block's length; `None` if it does not end yet.
type Split<'a> = Option<(&'a [httparse::Header<'a>], usize)>;

impl<'a> Slots<'a> {
    /// Splits the field lines of `block` (the head after its request line) with httparse: a
    /// token name, a colon, the value with OWS trimmed; obs-fold, whitespace before the colon,
    /// NUL, bare CR and other control bytes refused.
    fn split(&'a mut self, block: &'a [u8]) -> Result<Split<'a>, ParseError> {
        let few = self.few.insert([httparse::EMPTY_HEADER; FEW_HEADERS]);
        match httparse::parse_headers(block, few) {
            Err(httparse::Error::TooManyHeaders) => {}
            r => return split_result(r),
        }
        let all = self.all.insert([httparse::EMPTY_HEADER; MAX_HEADERS]);
        split_result(httparse::parse_headers(block, all))
    }

    /// `n` cleared slots (at most [`HANDFUL`]), for a recalled head's fields.
    fn room(&'a mut self, n: usize) -> &'a mut [httparse::Header<'a>] {
        let slots = self.handful.insert([httparse::EMPTY_HEADER; HANDFUL]);
        let len = slots.len().min(n);
        &mut slots[..len]
    }
}

fn split_result<'a>(
    r: httparse::Result<(usize, &'a [httparse::Header<'a>])>,
) -> Result<Split<'a>, ParseError> {
    match r {
        Ok(httparse::Status::Complete((len, fields))) => Ok(Some((fields, len))),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(field_error(e)),
    }
}

fn field_error(e: httparse::Error) -> ParseError {
    match e {
        httparse::Error::TooManyHeaders => ParseError::TooManyHeaders,
        _ => ParseError::Malformed,
    }
}

/// Checks one whole field line (with its line end) by the rules [`Slots::split`] applies, for
/// [`HeadScanner`]: httparse reads the field, then wants more bytes (the head goes on).
fn check_field_line(line: &[u8]) -> Result<(), ParseError> {
    let mut one = [httparse::EMPTY_HEADER; 1];
    match httparse::parse_headers(line, &mut one) {
        Ok(_) => Ok(()),
        Err(e) => Err(field_error(e)),
    }
}

/// Parses a head from the start of `buf`, its fields into `slots`. `Ok(None)` if its end is
/// not in `buf` yet (and no limit is broken by what is there). `known` carries what one head
/// teaches to the next: the very same head again is recalled, not parsed (see `known.rs`).
pub fn parse_head<'a>(
    buf: &'a [u8],
    max_head: usize,
    slots: &'a mut Slots<'a>,
    known: &mut Known,
) -> Result<Option<Head<'a>>, ParseError> {
    if known.head.starts(buf, max_head) {
        return known.head.recall(buf, slots).map(Some);
    }
    let parsed = parse_fresh(buf, max_head, slots, &mut known.host);
    if let Ok(Some(head)) = &parsed {
        known.head.remember(buf, head);
    }
    parsed
}

/// [`parse_head`] for a head not known: `known` carries the last valid `Host`.
fn parse_fresh<'a>(
    buf: &'a [u8],
    max_head: usize,
    slots: &'a mut Slots<'a>,
    known: &mut KnownHost,
) -> Result<Option<Head<'a>>, ParseError> {
    let (line, nl, request_line) = match usual_request_line(buf) {
        Some(usual) => usual,
        None => match request_line(buf)? {
            Some(found) => found,
            None => return partial(buf, max_head, false),
        },
    };
    let RequestLine {
        method,
        target,
        query_at,
        version,
    } = request_line;
    let split = match slots.split(&buf[nl + 1..]) {
        Ok(split) => split,
        Err(e) => return field_fault(buf, max_head, e),
    };
    let Some((headers, block_len)) = split else {
        return partial(buf, max_head, true);
    };
    let len = nl + 1 + block_len;
    if len > max_head {
        return Err(ParseError::HeadTooLarge);
    }
    let (path, query) = split_target(method, target, query_at)?;
    let said = read_fields(headers, version, known)?;
    Ok(Some(Head {
        line,
        method,
        target,
        path,
        query,
        headers,
        summary: Summary {
            len,
            version,
            keep_alive: said.keep_alive,
            head_method: method == Method::Head,
            framing: said.framing,
            expect_continue: said.expect_continue,
        },
    }))
}

/// A request line found at the start of a head: the line without its end, the index of its
/// `\n`, and its parts.
type FoundLine<'a> = (&'a [u8], usize, RequestLine<'a>);

/// The request line, the index of its `\n` and its parts, found the long way: the line end
/// first, then the line's own rules. `None`: its end is not here yet.
fn request_line(buf: &[u8]) -> Result<Option<FoundLine<'_>>, ParseError> {
    let Some(nl) = memchr(b'\n', buf) else {
        scan::method_prefix(buf)?;
        return Ok(None);
    };
    let line = buf[..nl].strip_suffix(b"\r").unwrap_or(&buf[..nl]);
    if line.len() > MAX_REQUEST_LINE {
        scan::method_prefix(line)?;
        return Err(ParseError::UriTooLong);
    }
    Ok(Some((line, nl, parse_request_line(line)?)))
}

/// The request line in its usual shape, `METHOD target HTTP/1.1\r\n` with a known method, read
/// straight from the head without first looking for its end. `None` for anything else, which
/// [`request_line`] then reads the long way and answers exactly as it answers every line.
fn usual_request_line(buf: &[u8]) -> Option<FoundLine<'_>> {
    let (m_end, t_end, query_at) = method_and_target(buf).ok()?;
    let version_at = m_end + 1 + t_end + 1;
    if buf.get(version_at..version_at + 10)? != b"HTTP/1.1\r\n" {
        return None;
    }
    let line = &buf[..version_at + 8];
    if line.len() > MAX_REQUEST_LINE {
        return None;
    }
    let request_line = RequestLine {
        method: Method::from_bytes(&buf[..m_end])?,
        target: &buf[m_end + 1..m_end + 1 + t_end],
        query_at,
        version: Version::Http11,
    };
    Some((line, version_at + 9, request_line))
}

/// httparse refuses a field at its first bad byte; the scanner, once the line has ended. The
/// scanner's verdict stands for a head not yet complete, so that the answer never depends on
/// where the reads happened to split it.
fn field_fault(buf: &[u8], max_head: usize, e: ParseError) -> Result<Option<Head<'_>>, ParseError> {
    match HeadScanner::default().scan(buf, max_head)? {
        Some(_) => Err(e),
        None => Ok(None),
    }
}

/// An incomplete head: fine, unless what is there already breaks a limit.
fn partial(buf: &[u8], max_head: usize, line_seen: bool) -> Result<Option<Head<'_>>, ParseError> {
    if !line_seen && buf.len() > MAX_REQUEST_LINE + 1 {
        Err(ParseError::UriTooLong)
    } else if buf.len() >= max_head {
        Err(ParseError::HeadTooLarge)
    } else {
        Ok(None)
    }
}

/// A request line split into its parts.
#[derive(Debug)]
pub struct RequestLine<'a> {
    pub method: Method,
    pub target: &'a [u8],
    /// Index of the first `?` in `target`.
    pub query_at: Option<usize>,
    pub version: Version,
}

/// Bytes a request target may hold, `?` aside: visible ASCII, and >= 0x80.
static TARGET: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0x21;
    while b < 256 {
        t[b] = b != 0x7f && b != b'?' as usize;
        b += 1;
    }
    t
};

/// `method SP request-target SP HTTP-version` (no CR or LF), exactly one space between the
/// parts. The target takes visible bytes, and bytes >= 0x80 for percent-decoding to sort out.
pub fn parse_request_line(line: &[u8]) -> Result<RequestLine<'_>, ParseError> {
    let (m_end, t_end, query_at) = method_and_target(line)?;
    let version = parse_version(&line[m_end + 1 + t_end + 1..])?;
    let method = Method::from_bytes(&line[..m_end]).ok_or(ParseError::UnknownMethod)?;
    Ok(RequestLine {
        method,
        target: &line[m_end + 1..m_end + 1 + t_end],
        query_at,
        version,
    })
}

/// The method's end (at the first space), the target's length and where its `?` is: the line
/// up to its second space, which must follow the target.
fn method_and_target(line: &[u8]) -> Result<(usize, usize, Option<usize>), ParseError> {
    let m_end = line
        .iter()
        .position(|&b| !is_tchar(b))
        .ok_or(ParseError::Malformed)?;
    if m_end == 0 || line[m_end] != b' ' {
        return Err(ParseError::Malformed);
    }
    let rest = &line[m_end + 1..];
    // The target ends at its first control byte or space, which must be the second space. One
    // plain pass over a table finds that, stopping at a `?` on the way.
    let mut t_end = 0;
    let mut query_at = None;
    loop {
        while t_end < rest.len() && TARGET[usize::from(rest[t_end])] {
            t_end += 1;
        }
        match rest.get(t_end) {
            Some(b'?') => {
                query_at = query_at.or(Some(t_end));
                t_end += 1;
            }
            Some(b' ') if t_end > 0 => break,
            _ => return Err(ParseError::Malformed),
        }
    }
    Ok((m_end, t_end, query_at))
}

/// `HTTP/x.y`: 1.0 is 1.0, any other 1.x is answered as 1.1 (RFC 9110 §2.5), 2 and up is 505.
fn parse_version(v: &[u8]) -> Result<Version, ParseError> {
    if v == b"HTTP/1.1" {
        return Ok(Version::Http11); // nearly always: one comparison of eight bytes
    }
    match v {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            match (major, minor) {
                (b'1', b'0') => Ok(Version::Http10),
                (b'1', _) => Ok(Version::Http11),
                _ => Err(ParseError::Version),
            }
        }
        _ => Err(ParseError::Malformed),
    }
}

/// Origin-form (`/p?q`), absolute-form (`http://host/p?q`) or `*` for OPTIONS.
pub fn split_target(
    method: Method,
    target: &[u8],
    query_at: Option<usize>,
) -> Result<(&[u8], Option<&[u8]>), ParseError> {
    let rest = if target.starts_with(b"/") {
        return Ok(match query_at {
            Some(q) => (&target[..q], Some(&target[q + 1..])),
            None => (target, None),
        });
    } else if target == b"*" && method == Method::Options {
        return Ok((target, None));
    } else if let Some(after_scheme) = strip_scheme(target) {
        // The authority runs to the first '/' or '?'; the path is what follows ("/" if none).
        let end = after_scheme
            .iter()
            .position(|&b| b == b'/' || b == b'?')
            .unwrap_or(after_scheme.len());
        if end == 0 || !host::valid_host(&after_scheme[..end]) {
            return Err(ParseError::Malformed);
        }
        let rest = &after_scheme[end..];
        if rest.is_empty() || rest[0] == b'?' {
            return Ok((b"/", rest.get(1..)));
        }
        rest
    } else {
        return Err(ParseError::Malformed);
    };
    Ok(match rest.iter().position(|&b| b == b'?') {
        Some(q) => (&rest[..q], Some(&rest[q + 1..])),
        None => (rest, None),
    })
}

fn strip_scheme(target: &[u8]) -> Option<&[u8]> {
    for scheme in [&b"http://"[..], b"https://"] {
        if target.len() > scheme.len() && target[..scheme.len()].eq_ignore_ascii_case(scheme) {
            return Some(&target[scheme.len()..]);
        }
    }
    None
}
