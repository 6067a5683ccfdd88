//! Micro-benchmarks of the HTTP/1.1 codec: request-head scanning and parsing, response-head
//! encoding and chunked body decoding. No sockets: these are the per-request CPU costs the
//! reactor pays on top of its system calls.
//!
//!     cargo bench --bench codec              # about 30 s after the build
//!     CODEC_PLOTS=1 cargo bench --bench codec  # with HTML plots in target/criterion
//!     cargo bench --bench codec -- --quick   # a few seconds
//!     cargo bench --bench codec -- parse     # only the parsing benchmarks (httparse's too)

use std::hint::black_box;
use std::mem::MaybeUninit;
use std::time::{Duration, SystemTime};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use spindle::http::body::BodyDecoder;
use spindle::http::date::DateCache;
use spindle::http::parse::{
    self, Head, HeadScanner, ParseError, Parsed, MAX_HEADERS, MAX_REQUEST_LINE,
};
use spindle::http::response::{encode_head, Body, ConnectionHeader, Framing, Response};
use spindle::http::{Method, Version};

/// What `wrk` sends.
const WRK_HEAD: &[u8] = b"GET /-/plaintext HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

/// A browser-like head: ten header fields.
const BROWSER_HEAD: &[u8] = b"GET /static/css/site.css?v=3 HTTP/1.1\r\n\
Host: www.example.com\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: text/css,*/*;q=0.1\r\n\
Accept-Language: en-GB,en;q=0.7,fr;q=0.3\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Referer: https://www.example.com/articles/2024/event-loops.html\r\n\
Connection: keep-alive\r\n\
Cookie: session=4f1c2a9be07d4d3b8e5a; theme=dark; consent=1\r\n\
If-Modified-Since: Tue, 05 Nov 2024 10:12:33 GMT\r\n\
Cache-Control: max-age=0\r\n\
\r\n";

const MAX_HEAD: usize = 32768;

/// Something derived from a parsed head, so that nothing is optimised away.
fn digest(head: &Head<'_>, len: usize) -> usize {
    len + head.path.len() + head.headers.len() + usize::from(head.keep_alive)
}

/// What a connection does with a complete head in its buffer: parse it in place, with a few
/// header slots first (`with_parsed_head`).
fn parse_in_place(raw: &[u8]) -> usize {
    parse::with_parsed_head(raw, MAX_HEAD, |r| match r.expect("parse failed") {
        Parsed::Complete { head, len } => digest(&head, len),
        Parsed::Partial => panic!("incomplete head"),
    })
}

/// Find the end of the head with the incremental scanner, then parse it into a full
/// `[httparse::EMPTY_HEADER; MAX_HEADERS]` storage.
fn scan_then_parse(raw: &[u8]) -> usize {
    let mut scanner = HeadScanner::default();
    let len = scanner
        .scan(raw, MAX_HEAD)
        .expect("scan failed")
        .expect("incomplete head");
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
    match parse::parse_head(&raw[..len], MAX_HEAD, &mut storage).expect("parse failed") {
        Parsed::Complete { head, len } => digest(&head, len),
        Parsed::Partial => panic!("incomplete head"),
    }
}

/// Issue 9 §5: the same work with httparse doing the tokenizing, and spindle's head-level rules
/// (target form, Host, framing, persistence, Expect) applied on top by [`on_top`]. What these
/// produce, field for field the same as [`Head`].
struct HpHead<'a> {
    line: &'a [u8],
    method: Method,
    target: &'a [u8],
    path: &'a [u8],
    query: Option<&'a [u8]>,
    version: Version,
    headers: &'a [httparse::Header<'a>],
    framing: parse::BodyFraming,
    keep_alive: bool,
    expect_continue: bool,
}

fn hp_digest(head: &HpHead<'_>, len: usize) -> usize {
    len + head.path.len() + head.headers.len() + usize::from(head.keep_alive)
}

/// httparse's errors, in spindle's terms: all of them are a 400 but too many fields.
fn hp_error(e: httparse::Error) -> ParseError {
    match e {
        httparse::Error::TooManyHeaders => ParseError::TooManyHeaders,
        _ => ParseError::Malformed,
    }
}

/// Shape (a): `httparse::Request::parse_with_uninit_headers` on the whole head, into 100
/// uninitialised slots (nothing zeroed). httparse takes only `HTTP/1.0` and `HTTP/1.1`: on
/// `Error::Version` the head goes to shape (b), whose version check is spindle's (1.2 is 1.1,
/// 2.0 is 505).
fn hp_whole<R>(
    raw: &[u8],
    max_head: usize,
    f: impl FnOnce(Result<(HpHead<'_>, usize), ParseError>) -> R,
) -> R {
    let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    let len = match req.parse_with_uninit_headers(raw, &mut slots) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => panic!("incomplete head"),
        Err(httparse::Error::Version) => return hp_headers(raw, max_head, f),
        Err(e) => return f(Err(hp_error(e))),
    };
    let (Some(method), Some(target), Some(minor)) = (req.method, req.path, req.version) else {
        unreachable!("a complete request has all three");
    };
    // httparse skips empty lines before the request line (spindle's connection does that
    // before parsing), and allows exactly one space between the parts: the line is found from
    // where the method is.
    let start = method.as_ptr() as usize - raw.as_ptr() as usize;
    let line = &raw[start..start + method.len() + target.len() + 10];
    let version = if minor == 0 {
        Version::Http10
    } else {
        Version::Http11
    };
    let Some(method) = Method::from_bytes(method.as_bytes()) else {
        return f(Err(ParseError::UnknownMethod));
    };
    let target = target.as_bytes();
    let query_at = target.iter().position(|&b| b == b'?');
    let r = on_top(
        line,
        method,
        target,
        query_at,
        version,
        req.headers,
        len,
        max_head,
    );
    f(r.map(|h| (h, len)))
}

/// Shape (b): the request line split by hand (spindle's own `parse_request_line`), then
/// `httparse::parse_headers` for the field block — 16 zeroed slots first, and 100 only if
/// that is not enough, as `with_parsed_head` does (`parse_headers` wants initialised slots).
fn hp_headers<R>(
    raw: &[u8],
    max_head: usize,
    f: impl FnOnce(Result<(HpHead<'_>, usize), ParseError>) -> R,
) -> R {
    let Some(nl) = find_newline(raw) else {
        panic!("incomplete head");
    };
    let line = raw[..nl].strip_suffix(b"\r").unwrap_or(&raw[..nl]);
    if line.len() > MAX_REQUEST_LINE {
        return f(Err(ParseError::UriTooLong));
    }
    let rl = match parse::parse_request_line(line) {
        Ok(rl) => rl,
        Err(e) => return f(Err(e)),
    };
    let block = &raw[nl + 1..];
    let mut few = [httparse::EMPTY_HEADER; 16];
    let mut all;
    let (hlen, headers) = match httparse::parse_headers(block, &mut few) {
        Ok(httparse::Status::Complete(r)) => r,
        Err(httparse::Error::TooManyHeaders) => {
            all = [httparse::EMPTY_HEADER; MAX_HEADERS];
            match httparse::parse_headers(block, &mut all) {
                Ok(httparse::Status::Complete(r)) => r,
                Ok(httparse::Status::Partial) => panic!("incomplete head"),
                Err(e) => return f(Err(hp_error(e))),
            }
        }
        Ok(httparse::Status::Partial) => panic!("incomplete head"),
        Err(e) => return f(Err(hp_error(e))),
    };
    let len = nl + 1 + hlen;
    let r = on_top(
        line,
        rl.method,
        rl.target,
        rl.query_at,
        rl.version,
        headers,
        len,
        max_head,
    );
    f(r.map(|h| (h, len)))
}

/// What `parse_head` does after tokenizing, over fields httparse has split: the limits, the
/// target's form, then Host, Content-Length, Transfer-Encoding,
/// Connection and Expect, and from them the framing and keep-alive. Copied from
/// `src/http/parse.rs`, where these pieces are private.
#[allow(clippy::too_many_arguments)]
fn on_top<'a>(
    line: &'a [u8],
    method: Method,
    target: &'a [u8],
    query_at: Option<usize>,
    version: Version,
    headers: &'a [httparse::Header<'a>],
    len: usize,
    max_head: usize,
) -> Result<HpHead<'a>, ParseError> {
    if line.len() > MAX_REQUEST_LINE {
        return Err(ParseError::UriTooLong);
    }
    if len > max_head {
        return Err(ParseError::HeadTooLarge);
    }
    let (path, query) = spindle::http::parse::split_target(method, target, query_at)?;
    let mut fields = spindle::http::parse::Fields::default();
    for h in headers {
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
    Ok(HpHead {
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
    })
}

/// Index of the first `\n`, a word at a time (as `src/http/parse.rs` finds it).
fn find_newline(hay: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let hit = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&hay[at..at + 8]);
        let x = u64::from_le_bytes(w) ^ (LO * u64::from(b'\n'));
        x.wrapping_sub(LO) & !x & HI
    };
    if hay.len() < 8 {
        return hay.iter().position(|&b| b == b'\n');
    }
    let mut at = 0;
    while at + 8 <= hay.len() {
        let found = hit(at);
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    if at == hay.len() {
        return None;
    }
    let last = hay.len() - 8;
    let found = hit(last);
    (found != 0).then(|| last + (found.trailing_zeros() / 8) as usize)
}

/// `hp_whole` as a connection would use it, reduced to a number.
fn httparse_whole(raw: &[u8]) -> usize {
    hp_whole(raw, MAX_HEAD, |r| {
        let (head, len) = r.expect("parse failed");
        hp_digest(&head, len)
    })
}

/// `hp_headers` as a connection would use it, reduced to a number.
fn httparse_headers(raw: &[u8]) -> usize {
    hp_headers(raw, MAX_HEAD, |r| {
        let (head, len) = r.expect("parse failed");
        hp_digest(&head, len)
    })
}

/// Everything a head parses to, or the status it is refused with, comparable across parsers.
type Outcome = Result<String, u16>;

fn outcome_spindle(raw: &[u8]) -> Outcome {
    parse::with_parsed_head(raw, MAX_HEAD, |r| match r {
        Ok(Parsed::Complete { head: h, len }) => Ok(format!(
            "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {} {} {} {}",
            h.line,
            h.method,
            h.target,
            h.path,
            h.query,
            h.version,
            h.framing,
            h.headers
                .iter()
                .map(|f| (f.name, f.value))
                .collect::<Vec<_>>(),
            h.keep_alive,
            h.expect_continue,
            len,
            h.header("host").is_some()
        )),
        Ok(Parsed::Partial) => panic!("incomplete head"),
        Err(e) => Err(e.status()),
    })
}

fn outcome_hp(r: Result<(HpHead<'_>, usize), ParseError>) -> Outcome {
    match r {
        Ok((h, len)) => Ok(format!(
            "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {} {} {} {}",
            h.line,
            h.method,
            h.target,
            h.path,
            h.query,
            h.version,
            h.framing,
            h.headers
                .iter()
                .map(|f| (f.name, f.value))
                .collect::<Vec<_>>(),
            h.keep_alive,
            h.expect_continue,
            len,
            parse::header(h.headers, "host").is_some()
        )),
        Err(e) => Err(e.status()),
    }
}

/// Heads on which all three parsers must agree (outside the timing): framing, persistence,
/// Host, Expect, versions, field syntax. Not a conformance suite, a check that the httparse
/// variants do the same work.
const AGREE: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\nHost: x\n\n",
    b"GET /a?b HTTP/1.0\r\n\r\n",
    b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, close\r\n\r\n",
    b"GET / HTTP/1.2\r\nHost: x\r\n\r\n",
    b"GET / HTTP/2.0\r\nHost: x\r\n\r\n",
    b"GET / HTTP/0.9\r\n\r\n",
    b"GET / HTTP/1.10\r\nHost: x\r\n\r\n",
    b"GET / http/1.1\r\nHost: x\r\n\r\n",
    b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
    b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET x HTTP/1.1\r\nHost: x\r\n\r\n",
    b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET http://example.com:80/a/b?c HTTP/1.1\r\nHost: example.com\r\n\r\n",
    b"GET / HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost:\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
    b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nExpect: fish\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\n Folded: y\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nName : y\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\n: y\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nA: b\x00c\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nA: b\rc\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nA: b\x7fc\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nA:\t b \t\r\nB: \xc3\xa9\xff\r\n\r\n",
];

/// Checks, outside the timing, that the httparse variants answer every head in [`AGREE`] (and
/// the two benchmarked heads) exactly as `with_parsed_head` does, plus 17 and 101 fields.
fn check_agreement() {
    let many = |n: usize| {
        let mut raw = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
        for i in 1..n {
            raw.extend_from_slice(format!("X-{i}: {i}\r\n").as_bytes());
        }
        raw.extend_from_slice(b"\r\n");
        raw
    };
    let (seventeen, too_many) = (many(17), many(MAX_HEADERS + 1));
    let extra = [WRK_HEAD, BROWSER_HEAD, &seventeen[..], &too_many[..]];
    for raw in AGREE.iter().copied().chain(extra) {
        let want = outcome_spindle(raw);
        let shown = String::from_utf8_lossy(raw);
        assert_eq!(
            hp_whole(raw, MAX_HEAD, outcome_hp),
            want,
            "whole: {shown:?}"
        );
        assert_eq!(
            hp_headers(raw, MAX_HEAD, outcome_hp),
            want,
            "headers: {shown:?}"
        );
    }
    // The one known difference: httparse wants a UTF-8 target, spindle takes any byte >= 0x80
    // and leaves it to percent-decoding and the router.
    let latin1 = b"GET /caf\xe9 HTTP/1.1\r\nHost: x\r\n\r\n";
    assert!(outcome_spindle(latin1).is_ok());
    assert_eq!(hp_whole(latin1, MAX_HEAD, outcome_hp), Err(400));
}

fn parse(c: &mut Criterion) {
    let heads = [("wrk", WRK_HEAD), ("browser", BROWSER_HEAD)];
    // Check once, outside the timing, that each head is what we think it is.
    for (name, raw) in heads {
        assert_eq!(
            HeadScanner::default().scan(raw, MAX_HEAD),
            Ok(Some(raw.len())),
            "{name}"
        );
        assert_eq!(parse_in_place(raw), scan_then_parse(raw), "{name}");
        assert_eq!(parse_in_place(raw), httparse_whole(raw), "{name}");
        assert_eq!(parse_in_place(raw), httparse_headers(raw), "{name}");
    }
    check_agreement();
    let mut g = c.benchmark_group("parse");
    for (name, raw) in heads {
        g.throughput(Throughput::Bytes(raw.len() as u64));
        g.bench_function(name, |b| b.iter(|| parse_in_place(black_box(raw))));
    }
    g.finish();
    let mut g = c.benchmark_group("scan_then_parse");
    for (name, raw) in heads {
        g.throughput(Throughput::Bytes(raw.len() as u64));
        g.bench_function(name, |b| b.iter(|| scan_then_parse(black_box(raw))));
    }
    g.finish();
    let mut g = c.benchmark_group("httparse_whole");
    for (name, raw) in heads {
        g.throughput(Throughput::Bytes(raw.len() as u64));
        g.bench_function(name, |b| b.iter(|| httparse_whole(black_box(raw))));
    }
    g.finish();
    let mut g = c.benchmark_group("httparse_headers");
    for (name, raw) in heads {
        g.throughput(Throughput::Bytes(raw.len() as u64));
        g.bench_function(name, |b| b.iter(|| httparse_headers(black_box(raw))));
    }
    g.finish();
}

fn encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode");
    let mut date = DateCache::default();
    date.refresh(SystemTime::now());
    let resp = Response::new(200, "text/plain", Body::Static(b"Hello, World!"));
    let mut out = Vec::with_capacity(4096);
    g.throughput(Throughput::Elements(1));
    g.bench_function("plaintext_head", |b| {
        b.iter(|| {
            out.clear();
            encode_head(
                &mut out,
                black_box(&resp),
                black_box(date.get()),
                Framing::Length(13),
                ConnectionHeader::Omit,
            );
            black_box(out.len())
        })
    });
    g.finish();
}

/// A 64 KiB body framed as sixteen 4 KiB chunks, with the terminating zero chunk.
fn chunked_body() -> (Vec<u8>, usize) {
    const CHUNK: usize = 4096;
    const TOTAL: usize = 64 * 1024;
    let mut raw = Vec::with_capacity(TOTAL + 256);
    let data: Vec<u8> = (0..TOTAL).map(|i| (i % 251) as u8).collect();
    for piece in data.chunks(CHUNK) {
        raw.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        raw.extend_from_slice(piece);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    (raw, TOTAL)
}

/// Decodes the whole of `raw`; returns the number of body bytes.
fn decode_all(raw: &[u8]) -> usize {
    let mut dec = BodyDecoder::chunked();
    let mut pos = 0;
    let mut body = 0;
    loop {
        let d = dec.decode(&raw[pos..]).expect("bad chunk");
        body += d.data.len();
        pos += d.consumed;
        if d.done {
            return body;
        }
        assert!(d.consumed > 0, "decoder stalled at {pos}");
    }
}

fn chunked(c: &mut Criterion) {
    let mut g = c.benchmark_group("chunked");
    let (raw, total) = chunked_body();
    assert_eq!(decode_all(&raw), total);
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function("decode_64k_in_4k_chunks", |b| {
        b.iter(|| decode_all(black_box(&raw)))
    });
    g.finish();
}

fn config() -> Criterion {
    // Short runs and no HTML plots (drawing them takes longer than measuring): the whole file
    // takes well under a minute, `-- --quick` a few seconds. CODEC_PLOTS=1 turns plots on.
    let c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    if std::env::var_os("CODEC_PLOTS").is_some() {
        c.with_plots()
    } else {
        c.without_plots()
    }
}

criterion_group! {
    name = benches;
    config = config();
    targets = parse, encode, chunked
}
criterion_main!(benches);
