//! Micro-benchmarks of the HTTP/1.1 codec: request-head scanning and parsing, response-head
//! encoding and chunked body decoding. No sockets: these are the per-request CPU costs the
//! reactor pays on top of its system calls.
//!
//!     cargo bench --bench codec              # about 20 s after the build
//!     CODEC_PLOTS=1 cargo bench --bench codec  # with HTML plots in target/criterion
//!     cargo bench --bench codec -- --quick   # a few seconds
//!     cargo bench --bench codec -- parse     # only the parsing benchmarks

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use spindle::http::body::BodyDecoder;
use spindle::http::date::DateCache;
use spindle::http::parse::{self, Head, HeadScanner, Parsed, MAX_HEADERS};
use spindle::http::response::{encode_head, Body, ConnectionHeader, Framing, Response};

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
    }
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
