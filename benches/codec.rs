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
    self, Head, HeadScanner, Known, KnownHost, ParseError, Slots, MAX_HEADERS, MAX_REQUEST_LINE,
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
fn digest(head: &Head<'_>) -> usize {
    head.summary.len + head.path.len() + head.headers.len() + usize::from(head.summary.keep_alive)
}

/// What a connection does with a complete head in its buffer that it has not seen before:
/// parse it in place (the request line by hand, the fields by `httparse::parse_headers`, a few
/// header slots first), knowing nothing (an empty `Known` each time: nothing is recalled).
fn parse_in_place(raw: &[u8]) -> usize {
    parse_known(raw, &mut Known::default())
}

/// [`parse_in_place`], knowing what the heads before taught: the last head itself, above all.
fn parse_known(raw: &[u8], known: &mut Known) -> usize {
    let mut slots = Slots::default();
    match parse::parse_head(raw, MAX_HEAD, &mut slots, known).expect("parse failed") {
        Some(head) => digest(&head),
        None => panic!("incomplete head"),
    }
}

/// Find the end of the head with the incremental scanner (which checks each line), then parse
/// it: the two steps a head that arrived in pieces goes through.
fn scan_then_parse(raw: &[u8]) -> usize {
    let mut scanner = HeadScanner::default();
    let len = scanner
        .scan(raw, MAX_HEAD)
        .expect("scan failed")
        .expect("incomplete head");
    parse_in_place(&raw[..len])
}

/// Issue 9 §5's other shape, measured and not taken: httparse for the whole head, request line
/// included, and spindle's head-level rules (target form, Host, framing, persistence, Expect)
/// applied on top by [`on_top`]. What it produces, field for field the same as [`Head`].
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
/// `Error::Version` the head goes to spindle's parser, whose version check is spindle's (1.2 is
/// 1.1, 2.0 is 505).
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
        Err(httparse::Error::Version) => {
            let mut slots = Slots::default();
            return f(
                match parse::parse_head(raw, max_head, &mut slots, &mut Known::default()) {
                    Ok(Some(h)) => Ok((as_hp(&h), h.summary.len)),
                    Ok(None) => panic!("incomplete head"),
                    Err(e) => Err(e),
                },
            );
        }
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

/// spindle's parse of a head, in the [`HpHead`] shape.
fn as_hp<'a>(h: &Head<'a>) -> HpHead<'a> {
    HpHead {
        line: h.line,
        method: h.method,
        target: h.target,
        path: h.path,
        query: h.query,
        version: h.summary.version,
        headers: h.headers,
        framing: h.summary.framing,
        keep_alive: h.summary.keep_alive,
        expect_continue: h.summary.expect_continue,
    }
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
    let said = parse::read_fields(headers, version, &mut KnownHost::default())?;
    Ok(HpHead {
        line,
        method,
        target,
        path,
        query,
        version,
        headers,
        framing: said.framing,
        keep_alive: said.keep_alive,
        expect_continue: said.expect_continue,
    })
}

/// `hp_whole` as a connection would use it, reduced to a number.
fn httparse_whole(raw: &[u8]) -> usize {
    hp_whole(raw, MAX_HEAD, |r| {
        let (head, len) = r.expect("parse failed");
        hp_digest(&head, len)
    })
}

/// Everything a head parses to, or the status it is refused with, comparable across parsers.
type Outcome = Result<String, u16>;

fn outcome_spindle(raw: &[u8]) -> Outcome {
    let mut slots = Slots::default();
    outcome_hp(
        match parse::parse_head(raw, MAX_HEAD, &mut slots, &mut Known::default()) {
            Ok(Some(h)) => Ok((as_hp(&h), h.summary.len)),
            Ok(None) => panic!("incomplete head"),
            Err(e) => Err(e),
        },
    )
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

/// Heads on which both parsers must agree (outside the timing): framing, persistence,
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
/// the two benchmarked heads) exactly as `parse_head` does, plus 17 and 101 fields.
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
    }
    check_agreement();
    let mut g = c.benchmark_group("parse");
    for (name, raw) in heads {
        g.throughput(Throughput::Bytes(raw.len() as u64));
        g.bench_function(name, |b| b.iter(|| parse_in_place(black_box(raw))));
    }
    g.finish();
    // The same head again, as a load generator sends it: recalled, not parsed (`known.rs`).
    let mut g = c.benchmark_group("parse_known");
    for (name, raw) in heads {
        let mut known = Known::default();
        assert_eq!(parse_known(raw, &mut known), parse_in_place(raw), "{name}");
        g.throughput(Throughput::Bytes(raw.len() as u64));
        g.bench_function(name, |b| b.iter(|| parse_known(black_box(raw), &mut known)));
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
