//! Request heads: find where a head ends (incrementally, so a head trickling in byte by byte
//! costs O(n)), split the request line ourselves, let httparse read the header block, and apply
//! RFC 9112's framing rules so that no request-smuggling shape gets through.

use super::{Method, Version};

/// Longest request line we read; a longer one is 414.
pub const MAX_REQUEST_LINE: usize = 8192;
/// Most header fields in one request; more is 431.
pub const MAX_HEADERS: usize = 100;

/// How the body of a request is framed (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
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
    /// Head longer than `--max-head`, or more than [`MAX_HEADERS`] fields.
    HeadTooLarge,
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
            ParseError::HeadTooLarge => 431,
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
}

impl HeadScanner {
    pub fn reset(&mut self) {
        self.pos = 0;
        self.line_end = None;
    }

    /// True until a non-empty first line is seen: empty lines here are skipped, not parsed.
    pub fn before_request_line(&self) -> bool {
        self.line_end.is_none_or(|e| e <= 1)
    }

    /// Looks for the empty line that ends the head in `buf` (which starts at the request line).
    /// `Ok(Some(len))`: the head is `buf[..len]`. `Ok(None)`: need more bytes.
    pub fn scan(&mut self, buf: &[u8], max_head: usize) -> Result<Option<usize>, ParseError> {
        let mut i = self.pos;
        while let Some(off) = buf[i..].iter().position(|&b| b == b'\n') {
            let nl = i + off;
            if self.line_end.is_none() {
                if nl > MAX_REQUEST_LINE {
                    return Err(ParseError::UriTooLong);
                }
                self.line_end = Some(nl);
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

    fn incomplete(&self, buf: &[u8], max_head: usize) -> Result<Option<usize>, ParseError> {
        if self.line_end.is_none() && buf.len() > MAX_REQUEST_LINE {
            Err(ParseError::UriTooLong)
        } else if buf.len() >= max_head {
            Err(ParseError::HeadTooLarge)
        } else {
            Ok(None)
        }
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
    pub method: Method,
    /// The request target as sent (absolute-form included).
    pub target: &'a [u8],
    /// The path part of the target, still percent-encoded.
    pub path: &'a [u8],
    /// What follows `?`, if anything.
    pub query: Option<&'a [u8]>,
    pub version: Version,
    pub headers: &'a [httparse::Header<'a>],
    pub framing: Framing,
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

/// Parses a complete head (`buf` as found by [`HeadScanner::scan`]) into `storage`.
pub fn parse_head<'a>(
    buf: &'a [u8],
    storage: &'a mut [httparse::Header<'a>],
) -> Result<Head<'a>, ParseError> {
    let nl = buf
        .iter()
        .position(|&b| b == b'\n')
        .ok_or(ParseError::Malformed)?;
    let line = strip_cr(&buf[..nl])?;
    let (method, target, version) = parse_request_line(line)?;
    let headers = match httparse::parse_headers(&buf[nl + 1..], storage) {
        Ok(httparse::Status::Complete((_, headers))) => headers,
        Ok(httparse::Status::Partial) => return Err(ParseError::Malformed),
        Err(httparse::Error::TooManyHeaders) => return Err(ParseError::HeadTooLarge),
        Err(_) => return Err(ParseError::Malformed),
    };
    let (path, query) = split_target(method, target)?;
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
    Ok(Head {
        method,
        target,
        path,
        query,
        version,
        headers,
        framing,
        keep_alive,
        expect_continue: fields.expect_continue,
    })
}

fn strip_cr(line: &[u8]) -> Result<&[u8], ParseError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.contains(&b'\r') {
        return Err(ParseError::Malformed);
    }
    Ok(line)
}

/// `method SP request-target SP HTTP-version`, with exactly one space between the parts.
pub fn parse_request_line(line: &[u8]) -> Result<(Method, &[u8], Version), ParseError> {
    let mut parts = line.split(|&b| b == b' ');
    let (Some(m), Some(target), Some(v), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::Malformed);
    };
    if m.is_empty() || !m.iter().all(|&b| is_tchar(b)) {
        return Err(ParseError::Malformed);
    }
    if target.is_empty() || target.iter().any(|&b| b <= b' ' || b == 0x7f) {
        return Err(ParseError::Malformed);
    }
    let version = parse_version(v)?;
    let method = Method::from_bytes(m).ok_or(ParseError::UnknownMethod)?;
    Ok((method, target, version))
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
fn split_target(method: Method, target: &[u8]) -> Result<(&[u8], Option<&[u8]>), ParseError> {
    let rest = if target.starts_with(b"/") {
        target
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

/// `Host`: reg-name, IPv4 or `[IPv6]`, optional `:port`. Empty is allowed (RFC 9112 §3.2).
fn valid_host(v: &[u8]) -> bool {
    v.iter().all(|&b| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'['
                    | b']'
                    | b'%'
            )
    })
}

/// RFC 9110 §5.6.2 token characters.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// What the header fields say about framing, persistence, Host and Expect.
#[derive(Default)]
struct Fields {
    hosts: u32,
    length: Option<u64>,
    /// Transfer codings seen, in order: only a single `chunked` is acceptable.
    codings: u32,
    chunked_last: bool,
    close: bool,
    keep_alive: bool,
    expect_continue: bool,
}

impl Fields {
    fn add(&mut self, h: &httparse::Header<'_>) -> Result<(), ParseError> {
        let name = h.name;
        if name.eq_ignore_ascii_case("host") {
            self.hosts += 1;
            if !valid_host(trim(h.value)) {
                return Err(ParseError::BadHost);
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            // A list of identical values ("5, 5") or repeated identical fields is one length.
            for item in h.value.split(|&b| b == b',') {
                let n = parse_length(trim(item)).ok_or(ParseError::BadFraming)?;
                if self.length.is_some_and(|l| l != n) {
                    return Err(ParseError::BadFraming);
                }
                self.length = Some(n);
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            for item in h.value.split(|&b| b == b',') {
                let coding = trim(item);
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
                let token = trim(item);
                if token.eq_ignore_ascii_case(b"close") {
                    self.close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    self.keep_alive = true;
                }
            }
        } else if name.eq_ignore_ascii_case("expect") {
            if trim(h.value).eq_ignore_ascii_case(b"100-continue") {
                self.expect_continue = true;
            } else {
                return Err(ParseError::Expectation);
            }
        }
        Ok(())
    }

    fn framing(&self, version: Version) -> Result<Framing, ParseError> {
        match (self.codings, self.length) {
            (0, None) => Ok(Framing::None),
            (0, Some(n)) => Ok(Framing::Length(n)),
            // TE with CL, or TE on HTTP/1.0 (RFC 9112 §6.1): the framing is faulty.
            (_, Some(_)) => Err(ParseError::BadFraming),
            (_, None) if version == Version::Http10 => Err(ParseError::BadFraming),
            (_, None) => Ok(Framing::Chunked),
        }
    }
}

/// `1*DIGIT`, no sign, no overflow.
fn parse_length(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 {
        return None;
    }
    v.iter().try_fold(0u64, |n, &b| {
        if b.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

fn trim(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |e| e + 1);
    &v[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> Result<(Method, Vec<u8>, Version, Framing, bool), ParseError> {
        let mut scanner = HeadScanner::default();
        let len = scanner.scan(raw, 32768)?.ok_or(ParseError::Malformed)?;
        let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let h = parse_head(&raw[..len], &mut storage)?;
        Ok((
            h.method,
            h.path.to_vec(),
            h.version,
            h.framing,
            h.keep_alive,
        ))
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
                Framing::None,
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
    fn framing_rules() {
        let f = |raw: &[u8]| parse(raw).map(|r| r.3);
        assert_eq!(
            f(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"),
            Ok(Framing::Length(5))
        );
        assert_eq!(
            f(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"),
            Ok(Framing::Length(5))
        );
        assert_eq!(
            f(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n"),
            Ok(Framing::Length(5))
        );
        assert_eq!(
            f(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Ok(Framing::Chunked)
        );
        assert_eq!(
            f(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: CHUNKED\r\n\r\n"),
            Ok(Framing::Chunked)
        );
        for bad in [
            &b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"[..],
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
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
        assert_eq!(err(&many), ParseError::HeadTooLarge);
    }

    #[test]
    fn scanner_limits() {
        let mut s = HeadScanner::default();
        let long = [b'a'; MAX_REQUEST_LINE + 2];
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
    fn leading_blank_lines() {
        assert_eq!(leading_empty_lines(b"\r\n\nGET"), 3);
        assert_eq!(leading_empty_lines(b"\r"), 0);
        assert_eq!(leading_empty_lines(b"GET"), 0);
    }
}
