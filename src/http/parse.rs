//! Request heads: find where a head ends (incrementally, so a head trickling in byte by byte
//! costs O(n)), split the request line and the header fields, and apply RFC 9112's framing rules
//! so that no request-smuggling shape gets through.

use super::token::{is_tchar, parse_decimal, table, trim_ows};
use super::{Method, Version};

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
    /// More header fields than the storage given to [`parse_head`] holds.
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
}

impl HeadScanner {
    pub fn reset(&mut self) {
        *self = HeadScanner::default();
    }

    /// Nothing scanned since the last reset.
    pub fn is_fresh(&self) -> bool {
        self.pos == 0 && self.line_end.is_none()
    }

    /// True until a non-empty first line is seen: empty lines here are skipped, not parsed.
    pub fn before_request_line(&self) -> bool {
        self.line_end.is_none_or(|e| e <= 1)
    }

    /// Looks for the empty line that ends the head in `buf` (which starts at the request line).
    /// `Ok(Some(len))`: the head is `buf[..len]`. `Ok(None)`: need more bytes.
    ///
    /// Each line is checked once, as its end arrives, with the parser's own rules, so that a
    /// bad line is refused as soon as it is complete however the head was split into reads —
    /// exactly as [`parse_head`] refuses it when the same bytes come in one read. Before the
    /// request line ends, its method is checked byte by byte as well (see [`method_prefix`]).
    pub fn scan(&mut self, buf: &[u8], max_head: usize) -> Result<Option<usize>, ParseError> {
        let mut i = self.pos;
        while let Some(off) = find_newline(&buf[i..]) {
            let nl = i + off;
            if nl >= self.checked {
                let raw = &buf[self.checked..nl];
                let line = raw.strip_suffix(b"\r").unwrap_or(raw);
                if self.line_end.is_none() {
                    if line_len(buf, nl) > MAX_REQUEST_LINE {
                        // A bad method byte is a 400 however long the line: it is refused on
                        // arrival, before the line is known to be too long.
                        method_prefix(line)?;
                        return Err(ParseError::UriTooLong);
                    }
                    parse_request_line(line)?;
                    self.line_end = Some(nl);
                } else if !line.is_empty() {
                    field_line(line)?;
                    self.fields += 1;
                    if self.fields > MAX_HEADERS {
                        return Err(ParseError::TooManyHeaders);
                    }
                }
                self.checked = nl + 1;
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
fn method_prefix(start: &[u8]) -> Result<(), ParseError> {
    match start.iter().position(|&b| !is_tchar(b)) {
        None => Ok(()),
        Some(k) if k > 0 && start[k] == b' ' => Ok(()),
        Some(0) if start == b"\r" => Ok(()),
        Some(_) => Err(ParseError::Malformed),
    }
}

/// Length of the line that ends with the `\n` at `nl`, without its CR.
fn line_len(buf: &[u8], nl: usize) -> usize {
    if nl > 0 && buf[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
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

/// A parsed request head. Everything borrows from the connection's input buffer.
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
    pub version: Version,
    pub headers: &'a [httparse::Header<'a>],
    pub framing: BodyFraming,
    /// Whether the connection may stay open after this request (RFC 9112 §9.3).
    pub keep_alive: bool,
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

/// Header slots tried first: zeroing 100 of them per request would cost more than parsing.
const FEW_HEADERS: usize = 16;

/// The outcome of parsing from the start of a buffer that may hold only part of a head.
#[derive(Debug)]
pub enum Parsed<'a> {
    /// A whole head, `len` bytes long.
    Complete { head: Head<'a>, len: usize },
    /// The head does not end within the buffer (yet).
    Partial,
}

/// Parses a head from the start of `buf` and hands the result to `f`: first with room for a
/// few headers, and only if that is not enough again with room for [`MAX_HEADERS`].
pub fn with_parsed_head<R>(
    buf: &[u8],
    max_head: usize,
    f: impl FnOnce(Result<Parsed<'_>, ParseError>) -> R,
) -> R {
    let mut few = [httparse::EMPTY_HEADER; FEW_HEADERS];
    match parse_head(buf, max_head, &mut few) {
        Err(ParseError::TooManyHeaders) => {}
        r => return f(r),
    }
    let mut all = [httparse::EMPTY_HEADER; MAX_HEADERS];
    f(parse_head(buf, max_head, &mut all))
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Has-zero-byte of each byte below `n` (n <= 128): the lowest set bit marks the first such
/// byte; bits above it may be false alarms, so only the lowest one is ever used.
#[inline]
fn below(x: u64, n: u8) -> u64 {
    x.wrapping_sub(LO * u64::from(n)) & !x & HI
}

/// Has-zero-byte of each byte equal to `b`.
#[inline]
fn equal(x: u64, b: u8) -> u64 {
    below(x ^ (LO * u64::from(b)), 1)
}

/// Index of the first byte of `hay` for which `hit` (a word-at-a-time test) is set; `byte` is
/// the same test for one byte, for inputs shorter than a word.
#[inline]
fn first_hit(hay: &[u8], hit: impl Fn(u64) -> u64, byte: impl Fn(u8) -> bool) -> Option<usize> {
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&hay[at..at + 8]);
        hit(u64::from_le_bytes(w))
    };
    if hay.len() < 8 {
        return hay.iter().position(|&b| byte(b));
    }
    let mut at = 0;
    while at + 8 <= hay.len() {
        let found = word(at);
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    if at == hay.len() {
        return None;
    }
    // The last word overlaps bytes already tested: they hold no hit, and a false alarm can only
    // sit above a true hit, so the lowest bit set is still the first hit.
    let last = hay.len() - 8;
    let found = word(last);
    (found != 0).then(|| last + (found.trailing_zeros() / 8) as usize)
}

/// Index of the first `\n` in `hay`, a word at a time.
fn find_newline(hay: &[u8]) -> Option<usize> {
    first_hit(hay, |x| equal(x, b'\n'), |b| b == b'\n')
}

/// Index of the first control byte (below 0x20, or DEL), or also space if `space` is set.
fn find_control(hay: &[u8], space: bool) -> Option<usize> {
    let n = if space { 0x21 } else { 0x20 };
    first_hit(
        hay,
        |x| below(x, n) | equal(x, 0x7f),
        |b| b < n || b == 0x7f,
    )
}

/// Parses a head from the start of `buf` into `storage`. `Partial` if its end is not in
/// `buf` yet (and no limit is exceeded by what is there).
pub fn parse_head<'a>(
    buf: &'a [u8],
    max_head: usize,
    storage: &'a mut [httparse::Header<'a>],
) -> Result<Parsed<'a>, ParseError> {
    let Some(nl) = find_newline(buf) else {
        method_prefix(buf)?;
        return partial(buf, max_head, false);
    };
    let line = buf[..nl].strip_suffix(b"\r").unwrap_or(&buf[..nl]);
    if line_len(buf, nl) > MAX_REQUEST_LINE {
        method_prefix(line)?;
        return Err(ParseError::UriTooLong);
    }
    let RequestLine {
        method,
        target,
        query_at,
        version,
    } = parse_request_line(line)?;
    let Some((headers, len)) = parse_fields(buf, nl + 1, storage)? else {
        return partial(buf, max_head, true);
    };
    if len > max_head {
        return Err(ParseError::HeadTooLarge);
    }
    let (path, query) = split_target(method, target, query_at)?;
    let mut fields = Fields::default();
    for h in headers.iter() {
        fields.add(h)?;
    }
    let framing = fields.framing(version)?;
    if fields.hosts > 1 || (fields.hosts == 0 && version == Version::Http11) {
        return Err(ParseError::BadHost);
    }
    let keep_alive = match version {
        Version::Http11 => !fields.close,
        Version::Http10 => fields.keep_alive && !fields.close,
    };
    let head = Head {
        line,
        method,
        target,
        path,
        query,
        version,
        headers,
        framing,
        keep_alive,
        expect_continue: fields.expect_continue,
    };
    Ok(Parsed::Complete { head, len })
}

/// An incomplete head: fine, unless what is there already breaks a limit.
fn partial(buf: &[u8], max_head: usize, line_seen: bool) -> Result<Parsed<'_>, ParseError> {
    if !line_seen && buf.len() > MAX_REQUEST_LINE + 1 {
        Err(ParseError::UriTooLong)
    } else if buf.len() >= max_head {
        Err(ParseError::HeadTooLarge)
    } else {
        Ok(Parsed::Partial)
    }
}

/// Header field lines from `buf[at..]` up to the empty line: `name ":" OWS value OWS`. The name
/// is a token, so obs-fold (a line starting with whitespace) and whitespace before the colon
/// are refused; the value may hold visible bytes, spaces and tabs, nothing else (no NUL, no
/// bare CR). Returns the fields and where the head ends, or `None` if it does not end in `buf`.
/// Hand-written rather than `httparse::parse_headers`: on the short heads load generators send
/// it costs a fraction, and the strictness is ours to read.
#[allow(clippy::type_complexity)]
fn parse_fields<'a>(
    buf: &'a [u8],
    mut at: usize,
    storage: &'a mut [httparse::Header<'a>],
) -> Result<Option<(&'a [httparse::Header<'a>], usize)>, ParseError> {
    let mut n = 0;
    loop {
        let Some(nl) = find_newline(&buf[at..]) else {
            return Ok(None);
        };
        let raw = &buf[at..at + nl];
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        at += nl + 1;
        if line.is_empty() {
            return Ok(Some((&storage[..n], at)));
        }
        let (colon, value) = field_line(line)?;
        let slot = storage.get_mut(n).ok_or(ParseError::TooManyHeaders)?;
        // SAFETY: every byte of the name is a token character, and those are all ASCII.
        let name = unsafe { std::str::from_utf8_unchecked(&line[..colon]) };
        *slot = httparse::Header { name, value };
        n += 1;
    }
}

/// Checks one field line: `name ":" OWS value OWS`, with a token for the name and only visible
/// bytes, spaces and tabs in the value. Returns where the colon is, and the trimmed value.
fn field_line(line: &[u8]) -> Result<(usize, &[u8]), ParseError> {
    let colon = line
        .iter()
        .position(|&b| !is_tchar(b))
        .ok_or(ParseError::Malformed)?;
    if colon == 0 || line[colon] != b':' {
        return Err(ParseError::Malformed);
    }
    let value = trim_ows(&line[colon + 1..]);
    let mut i = 0;
    while let Some(c) = find_control(&value[i..], false) {
        if value[i + c] != b'\t' {
            return Err(ParseError::Malformed);
        }
        i += c + 1;
    }
    Ok((colon, value))
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

/// `method SP request-target SP HTTP-version` (no CR or LF), exactly one space between the
/// parts, in one pass over the bytes.
pub fn parse_request_line(line: &[u8]) -> Result<RequestLine<'_>, ParseError> {
    let m_end = line
        .iter()
        .position(|&b| !is_tchar(b))
        .ok_or(ParseError::Malformed)?;
    if m_end == 0 || line[m_end] != b' ' {
        return Err(ParseError::Malformed);
    }
    let rest = &line[m_end + 1..];
    // The target (visible bytes, and >= 0x80 for percent-decoding to sort out) ends at the
    // first control or space, which must be the second space.
    // One pass finds both the first `?` and the end.
    let mut query_at = None;
    let mut t_end = 0;
    loop {
        let q = query_at.is_none();
        let hit = first_hit(
            &rest[t_end..],
            |x| below(x, 0x21) | equal(x, 0x7f) | if q { equal(x, b'?') } else { 0 },
            |b| b < 0x21 || b == 0x7f || (q && b == b'?'),
        )
        .ok_or(ParseError::Malformed)?;
        t_end += hit;
        if rest[t_end] != b'?' {
            break;
        }
        query_at = Some(t_end);
        t_end += 1;
    }
    if t_end == 0 || rest[t_end] != b' ' {
        return Err(ParseError::Malformed);
    }
    let version = parse_version(&rest[t_end + 1..])?;
    let method = Method::from_bytes(&line[..m_end]).ok_or(ParseError::UnknownMethod)?;
    Ok(RequestLine {
        method,
        target: &rest[..t_end],
        query_at,
        version,
    })
}

/// `HTTP/x.y`: 1.0 is 1.0, any other 1.x is answered as 1.1 (RFC 9110 §2.5), 2 and up is 505.
fn parse_version(v: &[u8]) -> Result<Version, ParseError> {
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
        if end == 0 || !valid_host(&after_scheme[..end]) {
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

/// RFC 3986 reg-name characters: unreserved, sub-delims, and `%` (of a pct-encoded triplet).
static REG_NAME: [bool; 256] = table(b"-._~!$&'()*+,;=%");

/// A `Host` value or an absolute-form authority (RFC 9112 §3.2, RFC 3986 §3.2.2):
/// `uri-host [ ":" port ]`, uri-host an IP-literal (`[` IPv6address or IPvFuture `]`), an
/// IPv4address or a reg-name (an IPv4 address is a reg-name too, syntactically), port digits
/// worth at most 65535. The empty port RFC 3986 allows (`host:`) is accepted; an empty host
/// is not (RFC 9110 §4.2.1). No userinfo. An empty *value* is the caller's to allow.
fn valid_host(v: &[u8]) -> bool {
    let (host_ok, port) = if let Some(rest) = v.strip_prefix(b"[") {
        let Some(close) = rest.iter().position(|&b| b == b']') else {
            return false;
        };
        let port = match &rest[close + 1..] {
            [] => None,
            [b':', port @ ..] => Some(port),
            _ => return false,
        };
        (ip_literal(&rest[..close]), port)
    } else {
        return reg_name_and_port(v);
    };
    host_ok && port.is_none_or(valid_port)
}

/// `reg-name [ ":" port ]` in one pass over the bytes: this runs on every request.
fn reg_name_and_port(v: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&b) = v.get(i) {
        match b {
            b':' => return i > 0 && valid_port(&v[i + 1..]),
            b'%' => match v.get(i + 1..i + 3) {
                Some([a, b]) if a.is_ascii_hexdigit() && b.is_ascii_hexdigit() => i += 3,
                _ => return false,
            },
            _ if REG_NAME[usize::from(b)] => i += 1,
            _ => return false,
        }
    }
    i > 0
}

/// What is between the brackets: an IPv6address or `v` 1*HEXDIG `.` 1*( unreserved /
/// sub-delims / `:` ). (No zone identifier: RFC 9110 does not allow one in a URI.)
fn ip_literal(a: &[u8]) -> bool {
    if let [b'v' | b'V', rest @ ..] = a {
        let Some(dot) = rest.iter().position(|&b| b == b'.') else {
            return false;
        };
        let (ver, tail) = (&rest[..dot], &rest[dot + 1..]);
        return !ver.is_empty()
            && ver.iter().all(u8::is_ascii_hexdigit)
            && !tail.is_empty()
            && tail
                .iter()
                .all(|&b| b != b'%' && (REG_NAME[usize::from(b)] || b == b':'));
    }
    // Only hex digits, colons and dots get as far as the standard library's parser, which
    // takes exactly RFC 4291's text forms (with a dotted-quad tail): those of RFC 3986.
    a.iter()
        .all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        && std::str::from_utf8(a).is_ok_and(|s| s.parse::<std::net::Ipv6Addr>().is_ok())
}

/// `*DIGIT`, worth at most 65535 (empty is allowed: RFC 3986 §3.2.3).
fn valid_port(p: &[u8]) -> bool {
    p.is_empty() || parse_decimal(p).is_some_and(|n| n <= 65535)
}

/// What the header fields say about framing, persistence, Host and Expect.
#[derive(Default)]
pub struct Fields {
    pub hosts: u32,
    length: Option<u64>,
    /// Transfer codings seen, in order: only a single `chunked` is acceptable.
    codings: u32,
    chunked_last: bool,
    pub close: bool,
    pub keep_alive: bool,
    pub expect_continue: bool,
}

impl Fields {
    pub fn add(&mut self, h: &httparse::Header<'_>) -> Result<(), ParseError> {
        let name = h.name;
        // Most fields are none of ours: their length alone says so.
        if !matches!(name.len(), 4 | 6 | 10 | 14 | 17) {
            return Ok(());
        }
        if name.eq_ignore_ascii_case("host") {
            self.hosts += 1;
            let v = trim_ows(h.value);
            // An empty Host is what a client sends for a target without an authority.
            if !v.is_empty() && !valid_host(v) {
                return Err(ParseError::BadHost);
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            // A list of identical values ("5, 5") or repeated identical fields is one length.
            for item in h.value.split(|&b| b == b',') {
                let n = parse_length(trim_ows(item)).ok_or(ParseError::BadFraming)?;
                if self.length.is_some_and(|l| l != n) {
                    return Err(ParseError::BadFraming);
                }
                self.length = Some(n);
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            for item in h.value.split(|&b| b == b',') {
                let coding = trim_ows(item);
                if coding.is_empty() || self.chunked_last {
                    // An empty element, or anything after `chunked`: framing is ambiguous.
                    return Err(ParseError::BadFraming);
                }
                if !coding.eq_ignore_ascii_case(b"chunked") {
                    return Err(ParseError::UnknownCoding);
                }
                self.codings += 1;
                self.chunked_last = true;
            }
            if self.codings == 0 {
                return Err(ParseError::BadFraming);
            }
        } else if name.eq_ignore_ascii_case("connection") {
            for item in h.value.split(|&b| b == b',') {
                let token = trim_ows(item);
                if token.eq_ignore_ascii_case(b"close") {
                    self.close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    self.keep_alive = true;
                }
            }
        } else if name.eq_ignore_ascii_case("expect") {
            if trim_ows(h.value).eq_ignore_ascii_case(b"100-continue") {
                self.expect_continue = true;
            } else {
                return Err(ParseError::Expectation);
            }
        }
        Ok(())
    }

    pub fn framing(&self, version: Version) -> Result<BodyFraming, ParseError> {
        match (self.codings, self.length) {
            (0, None) => Ok(BodyFraming::None),
            (0, Some(n)) => Ok(BodyFraming::Length(n)),
            // TE with CL, or TE on HTTP/1.0 (RFC 9112 §6.1): the framing is faulty.
            (_, Some(_)) => Err(ParseError::BadFraming),
            (_, None) if version == Version::Http10 => Err(ParseError::BadFraming),
            (_, None) => Ok(BodyFraming::Chunked),
        }
    }
}

/// `1*DIGIT`, no sign, at most 19 digits (leading zeros count): a longer value is refused even
/// when it is worth less than `u64::MAX`, as it always has been.
fn parse_length(v: &[u8]) -> Option<u64> {
    if v.len() > 19 {
        return None;
    }
    parse_decimal(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> Result<(Method, Vec<u8>, Version, BodyFraming, bool), ParseError> {
        // The scanner and the parser must agree on where the head ends.
        let mut scanner = HeadScanner::default();
        let scanned = scanner.scan(raw, 32768);
        with_parsed_head(raw, 32768, |r| match r? {
            Parsed::Complete { head: h, len } => {
                if let Ok(s) = scanned {
                    assert_eq!(s, Some(len), "scanner and parser disagree");
                }
                Ok((
                    h.method,
                    h.path.to_vec(),
                    h.version,
                    h.framing,
                    h.keep_alive,
                ))
            }
            Parsed::Partial => panic!("partial"),
        })
    }

    fn err(raw: &[u8]) -> ParseError {
        parse(raw).expect_err("should be refused")
    }

    #[test]
    fn simple_get() {
        let (m, p, v, f, ka) = parse(b"GET /a?b HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(
            (m, &p[..], v, f, ka),
            (
                Method::Get,
                &b"/a"[..],
                Version::Http11,
                BodyFraming::None,
                true
            )
        );
    }

    #[test]
    fn bare_lf_lines_are_accepted() {
        assert!(parse(b"GET / HTTP/1.1\nHost: x\n\n").is_ok());
    }

    #[test]
    fn persistence_rules() {
        assert!(
            !parse(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap()
                .4
        );
        assert!(!parse(b"GET / HTTP/1.0\r\n\r\n").unwrap().4);
        assert!(
            parse(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
                .unwrap()
                .4
        );
        assert!(
            !parse(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, close\r\n\r\n")
                .unwrap()
                .4
        );
    }

    #[test]
    fn versions() {
        assert_eq!(
            parse(b"GET / HTTP/1.2\r\nHost: x\r\n\r\n").unwrap().2,
            Version::Http11
        );
        assert_eq!(
            err(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n"),
            ParseError::Version
        );
        assert_eq!(err(b"GET / HTTP/0.9\r\n\r\n"), ParseError::Version);
        assert_eq!(
            err(b"GET / HTTP/1.10\r\nHost: x\r\n\r\n"),
            ParseError::Malformed
        );
        assert_eq!(
            err(b"GET / http/1.1\r\nHost: x\r\n\r\n"),
            ParseError::Malformed
        );
        assert_eq!(
            err(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
            ParseError::Version
        );
    }

    #[test]
    fn request_line_shapes() {
        assert_eq!(
            err(b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n"),
            ParseError::Malformed
        );
        assert_eq!(
            err(b"GET / HTTP/1.1 \r\nHost: x\r\n\r\n"),
            ParseError::Malformed
        );
        assert_eq!(
            err(b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n"),
            ParseError::Malformed
        );
        assert_eq!(
            err(b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n"),
            ParseError::UnknownMethod
        );
        assert_eq!(
            err(b"GET x HTTP/1.1\r\nHost: x\r\n\r\n"),
            ParseError::Malformed
        );
        assert_eq!(
            err(b"GET * HTTP/1.1\r\nHost: x\r\n\r\n"),
            ParseError::Malformed
        );
        assert!(parse(b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n").is_ok());
        assert_eq!(
            err(b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n"),
            ParseError::Malformed
        );
        assert_eq!(
            err(b"GET /\r HTTP/1.1\r\nHost: x\r\n\r\n"),
            ParseError::Malformed
        );
    }

    #[test]
    fn absolute_form() {
        let r = parse(b"GET http://example.com:80/a/b?c HTTP/1.1\r\nHost: example.com\r\n\r\n");
        assert_eq!(r.unwrap().1, b"/a/b");
        assert_eq!(
            parse(b"GET HTTP://h HTTP/1.1\r\nHost: h\r\n\r\n")
                .unwrap()
                .1,
            b"/"
        );
        assert_eq!(
            err(b"GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n"),
            ParseError::Malformed
        );
    }

    #[test]
    fn host_rules() {
        assert_eq!(err(b"GET / HTTP/1.1\r\n\r\n"), ParseError::BadHost);
        assert_eq!(
            err(b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"),
            ParseError::BadHost
        );
        assert_eq!(
            err(b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n"),
            ParseError::BadHost
        );
        assert_eq!(
            err(b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"),
            ParseError::BadHost
        );
        assert!(parse(b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n").is_ok());
        assert!(parse(b"GET / HTTP/1.1\r\nHost:\r\n\r\n").is_ok());
        assert!(parse(b"GET / HTTP/1.0\r\n\r\n").is_ok());
    }

    #[test]
    fn host_grammar() {
        for good in [
            &b"a"[..],
            b"example.com",
            b"example.com:8080",
            b"a:0",
            b"a:65535",
            b"a:00080",
            b"a:",
            b"127.0.0.1",
            b"999.1.1.1",
            b"a%20b",
            b"a%C3%A9",
            b"-._~!$&'()*+,;=",
            b"[::1]",
            b"[::1]:",
            b"[::1]:443",
            b"[::]",
            b"[1:2:3:4:5:6:7:8]",
            b"[1::8]",
            b"[::ffff:192.0.2.1]",
            b"[2001:DB8::1]",
            b"[v1.a]",
            b"[V1F.a:b!$]",
        ] {
            assert!(valid_host(good), "{:?}", String::from_utf8_lossy(good));
            let mut raw = b"GET / HTTP/1.1\r\nHost: ".to_vec();
            raw.extend_from_slice(good);
            raw.extend_from_slice(b"\r\n\r\n");
            assert!(parse(&raw).is_ok(), "{:?}", String::from_utf8_lossy(good));
        }
        for bad in [
            &b""[..],
            b"host:port:x",
            b"]]%%[[",
            b"a:99999",
            b"a:65536",
            b"a:4294967296",
            b"a:b",
            b"a:8o",
            b"a: 80",
            b"a:-1",
            b"a:+1",
            b":80",
            b":",
            b"[::1",
            b"[::1]x",
            b"[::1]]",
            b"[::1]:x",
            b"[::1]:65536",
            b"::1",
            b"[]",
            b"[1:2:3:4:5:6:7:8:9]",
            b"[1::2::3]",
            b"[12345::]",
            b"[::g]",
            b"[::1%25eth0]",
            b"[1.2.3.4]",
            b"[::01.2.3.4]",
            b"[v]",
            b"[v1]",
            b"[v1.]",
            b"[vg.a]",
            b"[v1.a%20]",
            b"[v1.a/]",
            b"a%",
            b"a%2",
            b"a%2g",
            b"a[b",
            b"a]",
            b"a@b",
            b"a/b",
            b"a\\b",
            b"a b",
            b"\xc3\xa9",
        ] {
            assert!(!valid_host(bad), "{:?}", String::from_utf8_lossy(bad));
            if bad.is_empty() {
                continue; // an empty Host *value* is allowed
            }
            let mut raw = b"GET / HTTP/1.1\r\nHost: ".to_vec();
            raw.extend_from_slice(bad);
            raw.extend_from_slice(b"\r\n\r\n");
            assert_eq!(
                parse(&raw).map(|_| ()),
                Err(ParseError::BadHost),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // The absolute-form authority follows the same grammar (and may not be empty).
        for (target, ok) in [
            (&b"http://a:8080/x"[..], true),
            (b"http://[::1]:8080/x", true),
            (b"http://a:/x", true),
            (b"http://a:99999/x", false),
            (b"http://a:b/x", false),
            (b"http://h:p:x/", false),
            (b"http://[::1/x", false),
            (b"http://u@h/x", false),
            (b"http://:80/x", false),
        ] {
            let mut raw = b"GET ".to_vec();
            raw.extend_from_slice(target);
            raw.extend_from_slice(b" HTTP/1.1\r\nHost: h\r\n\r\n");
            let r = parse(&raw).map(|_| ());
            let want = if ok {
                Ok(())
            } else {
                Err(ParseError::Malformed)
            };
            assert_eq!(r, want, "{:?}", String::from_utf8_lossy(target));
        }
    }

    #[test]
    fn bytes_that_cannot_start_a_request_are_refused_on_arrival() {
        let partial = |raw: &[u8]| with_parsed_head(raw, 32768, |r| r.map(|_| ()));
        let hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
        for bad in [
            &hello[..1],
            &hello[..],
            b"GE\x16",
            b"GET\t",
            b"GET\r",
            b"\rX",
            b"\r\r",
            b" GET",
            b"(",
            b"G(T",
            b"\x00",
            b"\xff",
        ] {
            let name = String::from_utf8_lossy(bad);
            assert_eq!(partial(bad), Err(ParseError::Malformed), "{name:?}");
            assert_eq!(
                HeadScanner::default().scan(bad, 32768),
                Err(ParseError::Malformed),
                "{name:?}"
            );
            // Byte by byte, the scanner refuses at the first byte that cannot belong.
            let mut s = HeadScanner::default();
            let first = (1..=bad.len()).find(|&end| s.scan(&bad[..end], 32768).is_err());
            let at = bad.iter().position(|&b| !is_tchar(b)).map(|k| {
                if bad[k] == b'\r' && k == 0 {
                    k + 2
                } else {
                    k + 1
                }
            });
            assert_eq!(first, at, "{name:?}");
        }
        // Token bytes, the method's space, a lone CR (perhaps an empty line): wait for more.
        for fine in [
            &b"G"[..],
            b"GET",
            b"get",
            b"M-SEARCH",
            b"M-SEARCH *",
            b"!#$%&'*+-.^_`|~",
            b"GET ",
            b"GET /\x16",
            b"\r",
        ] {
            let name = String::from_utf8_lossy(fine);
            assert_eq!(partial(fine), Ok(()), "{name:?}");
            let mut s = HeadScanner::default();
            for end in 1..=fine.len() {
                assert_eq!(s.scan(&fine[..end], 32768), Ok(None), "{name:?} at {end}");
            }
        }
        // A bad method byte is a 400 even on a request line too long to read (a 414 otherwise),
        // so the answer does not depend on whether the line's end was in the same read.
        let mut long = b"\x16".to_vec();
        long.resize(MAX_REQUEST_LINE + 10, b'a');
        long.extend_from_slice(b"\r\nHost: x\r\n\r\n");
        assert_eq!(err(&long), ParseError::Malformed);
        assert_eq!(
            HeadScanner::default().scan(&long, 32768),
            Err(ParseError::Malformed)
        );
        long[0] = b'G';
        assert_eq!(err(&long), ParseError::UriTooLong);
    }

    #[test]
    fn framing_rules() {
        let f = |raw: &[u8]| parse(raw).map(|r| r.3);
        assert_eq!(
            f(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"),
            Ok(BodyFraming::Length(5))
        );
        assert_eq!(
            f(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"),
            Ok(BodyFraming::Length(5))
        );
        assert_eq!(
            f(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n"),
            Ok(BodyFraming::Length(5))
        );
        assert_eq!(
            f(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0000000000000000005\r\n\r\n"),
            Ok(BodyFraming::Length(5))
        );
        assert_eq!(
            f(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Ok(BodyFraming::Chunked)
        );
        assert_eq!(
            f(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: CHUNKED\r\n\r\n"),
            Ok(BodyFraming::Chunked)
        );
        for bad in [
            &b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"[..],
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
            // At most 19 digits, even when a longer value would fit in a u64.
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551615\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 00000000000000000005\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ,chunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n\r\n",
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        ] {
            assert_eq!(f(bad), Err(ParseError::BadFraming), "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(
            f(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            Err(ParseError::UnknownCoding)
        );
        assert_eq!(
            f(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n"),
            Err(ParseError::UnknownCoding)
        );
    }

    #[test]
    fn header_syntax() {
        assert_eq!(
            err(b"GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n"),
            ParseError::Malformed
        );
        assert_eq!(
            err(b"GET / HTTP/1.1\r\nHost : x\r\n\r\n"),
            ParseError::Malformed
        );
        assert_eq!(
            err(b"GET / HTTP/1.1\r\nHost: x\r\nA\0: b\r\n\r\n"),
            ParseError::Malformed
        );
        assert_eq!(
            err(b"GET / HTTP/1.1\r\nHost: x\r\nExpect: tea\r\n\r\n"),
            ParseError::Expectation
        );
        let mut many = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
        for _ in 0..MAX_HEADERS {
            many.extend_from_slice(b"A: b\r\n");
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(err(&many), ParseError::TooManyHeaders);
    }

    #[test]
    fn partial_heads_and_limits() {
        let p = |raw: &[u8], max| {
            with_parsed_head(raw, max, |r| r.map(|p| matches!(p, Parsed::Partial)))
        };
        assert_eq!(p(b"GET / HTTP/1.1\r\nHost: x\r\n", 32768), Ok(true));
        assert_eq!(p(b"GET / HTT", 32768), Ok(true));
        assert_eq!(p(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 32768), Ok(false));
        assert_eq!(
            p(&[b'a'; MAX_REQUEST_LINE + 2], 32768),
            Err(ParseError::UriTooLong)
        );
        assert_eq!(
            p(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 20),
            Err(ParseError::HeadTooLarge)
        );
        assert_eq!(
            p(b"GET / HTTP/1.1\r\nHost: xxxxxxxx", 20),
            Err(ParseError::HeadTooLarge)
        );
        // An error in a complete line is reported before the head is complete.
        assert_eq!(
            p(b"GET / HTTP/1.1\r\nHost : x\r\n", 32768),
            Err(ParseError::Malformed)
        );
    }

    #[test]
    fn scanner_limits() {
        let mut s = HeadScanner::default();
        let long = [b'a'; MAX_REQUEST_LINE + 3];
        assert_eq!(s.scan(&long, 32768), Err(ParseError::UriTooLong));
        let mut s = HeadScanner::default();
        let mut big = b"GET / HTTP/1.1\r\n".to_vec();
        big.resize(1000, b'a');
        assert_eq!(s.scan(&big, 1000), Err(ParseError::HeadTooLarge));
        let mut s = HeadScanner::default();
        assert_eq!(
            s.scan(b"GET / HTTP/1.1\r\n\r\n", 10),
            Err(ParseError::HeadTooLarge)
        );
    }

    #[test]
    fn newline_search() {
        for len in 0..40 {
            for at in 0..=len {
                let mut v = vec![b'a'; len];
                if at < len {
                    v[at] = b'\n';
                    v.push(b'\n');
                    assert_eq!(find_newline(&v), Some(at));
                } else {
                    assert_eq!(find_newline(&v), None);
                }
            }
        }
        assert_eq!(find_newline(b"\x8a\x0b\n"), Some(2));
    }

    #[test]
    fn scanner_is_incremental() {
        let raw = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET";
        let mut s = HeadScanner::default();
        for end in 0..raw.len() {
            match s.scan(&raw[..end], 32768).unwrap() {
                Some(len) => {
                    assert_eq!(len, 27);
                    assert!(end >= 27);
                    return;
                }
                None => assert!(end < 27),
            }
        }
        panic!("never found the end");
    }

    #[test]
    fn scanner_refuses_a_bad_line_as_soon_as_it_is_complete() {
        // Whatever the split, the scanner refuses at the same byte as the parser does given
        // the prefix in one piece (found by the `conn` fuzz target).
        let many = format!("GET / HTTP/1.1\r\n{}", "A: b\r\n".repeat(MAX_HEADERS + 1));
        for (raw, err) in [
            (
                &b"GET / HTTP/1.1\r\nbad\r\nHost: x\r\n\r\n"[..],
                ParseError::Malformed,
            ),
            (b"GET / HTTP/1.1\r\nA : b\r\n", ParseError::Malformed),
            (b"GET / HTTP/1.1\r\n folded\r\n", ParseError::Malformed),
            (b"FOO / HTTP/1.1\r\nHost: x", ParseError::UnknownMethod),
            (b"\x16\x03\x01\x02\x00", ParseError::Malformed),
            (b"GET\x01 / HTTP/1.1\r\n", ParseError::Malformed),
            (b"GET / HTTP/2.0\r\n", ParseError::Version),
            (many.as_bytes(), ParseError::TooManyHeaders),
        ] {
            let whole_at = (1..=raw.len())
                .find(|&end| with_parsed_head(&raw[..end], 32768, |r| r.map(|_| ())).is_err())
                .unwrap();
            assert_eq!(
                with_parsed_head(&raw[..whole_at], 32768, |r| r.map(|_| ()).unwrap_err()),
                err
            );
            let mut s = HeadScanner::default();
            for end in 1..=raw.len() {
                match s.scan(&raw[..end], 32768) {
                    Ok(None) => assert!(end < whole_at, "{end}"),
                    Ok(Some(_)) => panic!("ended"),
                    Err(e) => {
                        assert_eq!((end, e), (whole_at, err));
                        break;
                    }
                }
            }
        }
    }

    #[test]
    fn leading_blank_lines() {
        assert_eq!(leading_empty_lines(b"\r\n\nGET"), 3);
        assert_eq!(leading_empty_lines(b"\r"), 0);
        assert_eq!(leading_empty_lines(b"GET"), 0);
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn request() -> impl Strategy<Value = Vec<u8>> {
            (
                prop_oneof![Just("GET"), Just("HEAD"), Just("POST"), Just("DELETE")],
                "/[a-z0-9/._~%-]{0,20}(\\?[a-z=&]{0,10})?",
                proptest::collection::vec(("[A-Za-z-]{1,12}", "[ -~]{0,20}"), 0..20),
                prop_oneof![Just("\r\n"), Just("\n")],
            )
                .prop_map(|(m, target, fields, eol)| {
                    let mut r = format!("{m} {target} HTTP/1.1{eol}Host: example{eol}");
                    for (name, value) in fields {
                        if !matches!(
                            name.to_ascii_lowercase().as_str(),
                            "host"
                                | "content-length"
                                | "transfer-encoding"
                                | "expect"
                                | "connection"
                        ) {
                            r.push_str(&format!("{name}: {value}{eol}"));
                        }
                    }
                    r.push_str(eol);
                    r.into_bytes()
                })
        }

        proptest! {
            /// A valid head parses, the scanner finds the same end however it arrives, and every
            /// proper prefix is merely partial.
            #[test]
            fn valid_heads_parse_whole_and_in_pieces(raw in request(), cut in any::<prop::sample::Index>()) {
                let len = with_parsed_head(&raw, 32768, |r| match r {
                    Ok(Parsed::Complete { len, .. }) => len,
                    other => panic!("{other:?} for {:?}", String::from_utf8_lossy(&raw)),
                });
                prop_assert_eq!(len, raw.len());
                let at = cut.index(raw.len());
                let partial = with_parsed_head(&raw[..at], 32768, |r| matches!(r, Ok(Parsed::Partial)));
                prop_assert!(partial, "prefix of {} bytes", at);
                let mut scanner = HeadScanner::default();
                prop_assert_eq!(scanner.scan(&raw[..at], 32768), Ok(None));
                prop_assert_eq!(scanner.scan(&raw, 32768), Ok(Some(raw.len())));
            }

            /// Arbitrary bytes never panic the parser or the scanner.
            #[test]
            fn arbitrary_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..300)) {
                let _ = with_parsed_head(&raw, 256, |r| r.is_ok());
                let _ = HeadScanner::default().scan(&raw, 256);
                let _ = parse_request_line(&raw);
            }
        }
    }
}
