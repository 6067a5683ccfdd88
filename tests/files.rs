//! Static files under ROOT over real sockets (SPEC §4, issue 3): GET/HEAD with content types and
//! validators, conditional requests, byte ranges (a sparse file over 4 GiB included), large and
//! slow downloads, directories (301, index.html, HTML and JSON listings whose every link
//! resolves), dotfiles, FIFOs and pre-compressed `.gz` siblings.
//!
//! Every test builds its own scratch ROOT under the temp directory and removes it at the end.

mod common;

use std::fs::{self, File};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant, UNIX_EPOCH};

use common::*;

/// The modification time given to every scratch file: 2001-09-09 01:46:40 UTC (a Sunday).
const T: u64 = 1_000_000_000;
const T_IMF: &str = "Sun, 09 Sep 2001 01:46:40 GMT";
const T_LISTING: &str = "2001-09-09 01:46:40";
const T_RFC3339: &str = "2001-09-09T01:46:40Z";

/// A scratch ROOT whose files all get mtime [`T`].
struct Scratch {
    dir: ScratchDir,
}

impl Scratch {
    fn new(test: &str) -> Scratch {
        Scratch {
            dir: ScratchDir::new(&format!("files-{test}")),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// Writes `rel` (creating its parents) with mtime [`T`].
    fn write(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let p = self.dir.write(rel, bytes);
        set_mtime(&p, T, 0);
        p
    }

    /// A server with this ROOT and `tweak` applied.
    fn serve(&self, tweak: impl FnOnce(&mut spindle::Config)) -> TestServer {
        let root = self.dir.path().to_owned();
        TestServer::with(move |c| {
            c.root = root;
            tweak(c);
        })
    }
}

fn set_mtime(p: &Path, secs: u64, nanos: u32) {
    let t = UNIX_EPOCH + Duration::new(secs, nanos);
    File::open(p).unwrap().set_modified(t).unwrap();
}

/// Deterministic pseudo-random bytes (xorshift), so that a misplaced block cannot go unseen.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn get_h(srv: &TestServer, target: &str, headers: &[(&str, &str)]) -> Response {
    fetch(srv, "GET", target, headers)
}

/// Headers without `Date`, for comparing two answers.
fn without_date(r: &Response) -> Vec<(String, String)> {
    r.headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("date"))
        .cloned()
        .collect()
}

/// Asserts a 200 with the whole `body` and the file headers.
fn assert_full(r: &Response, body: &[u8], content_type: &str) {
    assert_eq!(r.status, 200, "{:?}", r.headers);
    assert_eq!(r.header("content-type"), Some(content_type));
    assert_eq!(r.content_length(), Some(body.len() as u64));
    assert!(!r.has_header("content-range"), "{:?}", r.headers);
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    assert!(r.body == body, "body differs ({} bytes)", r.body.len());
}

/// Asserts a 206 with `file[start..=end]` of a file of `file.len()` bytes.
fn assert_partial(r: &Response, file: &[u8], start: usize, end: usize) {
    assert_eq!(r.status, 206, "{:?}", r.headers);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes {start}-{end}/{}", file.len()).as_str())
    );
    assert_eq!(r.content_length(), Some((end - start + 1) as u64));
    assert_eq!(r.body, &file[start..=end]);
}

/// The `href` values of an HTML page's table body (its entries), in order.
fn hrefs(page: &str) -> Vec<String> {
    let body = page.split_once("<tbody>").map_or("", |(_, b)| b);
    body.split("href=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

/// Strict `%XX` decoding (as a browser's request would be decoded by the server).
fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// GET and HEAD of files
// ---------------------------------------------------------------------------------------------

#[test]
fn get_and_head_of_files_with_types_and_validators() {
    let s = Scratch::new("get_and_head");
    let files: &[(&str, &[u8], &str)] = &[
        (
            "page.html",
            b"<!doctype html><p>hi</p>\n",
            "text/html; charset=utf-8",
        ),
        ("notes.txt", b"plain text\n", "text/plain; charset=utf-8"),
        ("pixel.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "image/png"),
        ("style.css", b"p{color:red}", "text/css; charset=utf-8"),
        ("app.js", b"alert(1)", "text/javascript; charset=utf-8"),
        ("data.json", b"{\"a\":1}", "application/json; charset=utf-8"),
        ("PHOTO.JPG", b"\xff\xd8\xff", "image/jpeg"),
        (
            "blob.unknownext",
            b"\x00\x01\x02",
            "application/octet-stream",
        ),
        ("Makefile", b"all:\n", "application/octet-stream"),
        ("empty.txt", b"", "text/plain; charset=utf-8"),
        ("sub/deeper/doc.pdf", b"%PDF-1.4", "application/pdf"),
    ];
    for (name, body, _) in files {
        s.write(name, body);
    }
    let srv = s.serve(|_| {});
    let mut etags = Vec::new();
    for &(name, body, ct) in files {
        let path = format!("/{name}");
        let r = get_h(&srv, &path, &[]);
        assert_full(&r, body, ct);
        assert_eq!(r.header("last-modified"), Some(T_IMF), "{name}");
        let etag = r.header("etag").expect("ETag").to_string();
        // Strong: quoted, no W/ prefix, nothing but etagc inside.
        assert!(
            etag.len() > 2 && etag.starts_with('"') && etag.ends_with('"'),
            "{etag}"
        );
        assert!(
            etag[1..etag.len() - 1]
                .bytes()
                .all(|b| b > b' ' && b != b'"' && b != 0x7f),
            "{etag}"
        );
        assert!(!r.has_header("content-encoding"));
        assert!(!r.has_header("vary"), "no .gz sibling, no Vary");
        // The same file again gives the same validator.
        assert_eq!(get_h(&srv, &path, &[]).header("etag"), Some(etag.as_str()));
        etags.push(etag.clone());

        // HEAD: the very same headers, no body (fetch checks the connection stays in step).
        let h = fetch(&srv, "HEAD", &path, &[]);
        assert_eq!(h.status, 200);
        assert!(h.body.is_empty());
        assert_eq!(without_date(&h), without_date(&r), "HEAD {name}");
    }
    // Different files, different tags.
    let mut unique = etags.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), etags.len(), "{etags:?}");

    // A query string is ignored.
    let r = get_h(&srv, "/notes.txt?v=1&x=%2e%2e", &[]);
    assert_full(&r, b"plain text\n", "text/plain; charset=utf-8");
    // Percent-encoded letters in the path name the same file.
    let r = get_h(&srv, "/n%6Ftes.txt", &[]);
    assert_full(&r, b"plain text\n", "text/plain; charset=utf-8");
    // Missing paths.
    for missing in [
        "/nope.txt",
        "/sub/nope",
        "/nope/deeper.txt",
        "/notes.txt.bak",
    ] {
        let r = get_h(&srv, missing, &[]);
        assert_eq!(r.status, 404, "{missing}");
        assert!(!r.has_header("etag"));
        let h = fetch(&srv, "HEAD", missing, &[]);
        assert_eq!(h.status, 404, "HEAD {missing}");
        assert!(h.body.is_empty());
    }
}

#[test]
fn other_methods_405_on_files_404_on_missing() {
    let s = Scratch::new("other_methods");
    s.write("f.txt", b"data");
    s.write("d/inner.txt", b"inner");
    let srv = s.serve(|_| {});
    for (method, extra) in [
        ("POST", &[("Content-Length", "0")][..]),
        ("PUT", &[("Content-Length", "0")][..]),
        ("DELETE", &[][..]),
        ("PATCH", &[("Content-Length", "0")][..]),
    ] {
        let r = fetch(&srv, method, "/f.txt", extra);
        assert_eq!(r.status, 405, "{method} /f.txt");
        assert_eq!(r.header("allow"), Some("GET, HEAD"), "{method}");
        let r = fetch(&srv, method, "/missing.txt", extra);
        if matches!(method, "PUT" | "DELETE") {
            // Without --allow-write these are refused wherever they point (SPEC §4): 405 as
            // for an existing file, or 404; either way nothing is touched.
            assert!(r.status == 404 || r.status == 405, "{method}: {}", r.status);
            if r.status == 405 {
                assert_eq!(r.header("allow"), Some("GET, HEAD"), "{method}");
            }
        } else {
            assert_eq!(r.status, 404, "{method} /missing.txt");
            assert!(!r.has_header("allow"));
        }
    }
    // A PUT with a body is refused and touches nothing.
    let mut c = srv.connect();
    c.send(b"PUT /f.txt HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nXXXXX");
    let r = c.read_response();
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    let mut c = srv.connect();
    c.send(b"PUT /new.txt HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nXXXXX");
    let status = c.read_response().status;
    assert!(status == 404 || status == 405, "{status}");
    let r = c.request(b"DELETE /f.txt HTTP/1.1\r\nHost: test\r\n\r\n");
    assert_eq!(r.status, 405);
    assert_eq!(fs::read(s.path("f.txt")).unwrap(), b"data");
    assert!(!s.path("new.txt").exists());
    assert_eq!(get_h(&srv, "/f.txt", &[]).body, b"data");
}

// ---------------------------------------------------------------------------------------------
// Conditional requests
// ---------------------------------------------------------------------------------------------

/// Asserts a 304 carrying the validators of `full` and nothing else of a body.
fn assert_not_modified(r: &Response, full: &Response) {
    assert_eq!(r.status, 304, "{:?}", r.headers);
    assert!(r.body.is_empty());
    assert_eq!(r.header("etag"), full.header("etag"));
    assert_eq!(r.header("last-modified"), full.header("last-modified"));
    assert!(!r.has_header("content-length"));
    assert!(!r.has_header("transfer-encoding"));
}

#[test]
fn if_none_match_gives_304() {
    let s = Scratch::new("if_none_match");
    s.write("a.txt", b"conditional body");
    let srv = s.serve(|_| {});
    let full = get_h(&srv, "/a.txt", &[]);
    assert_eq!(full.status, 200);
    let etag = full.header("etag").unwrap().to_string();
    let weak = format!("W/{etag}");
    let list = format!("\"other\", {etag}");
    let list_weak = format!("W/\"x\",W/\"y\" ,  {weak}");
    for inm in [
        etag.as_str(),
        list.as_str(),
        "*",
        weak.as_str(),
        list_weak.as_str(),
    ] {
        for method in ["GET", "HEAD"] {
            let r = fetch(&srv, method, "/a.txt", &[("If-None-Match", inm)]);
            assert_not_modified(&r, &full);
        }
    }
    // No match: the full answer.
    for inm in ["\"other\"", "W/\"other\", \"x\"", "\"\""] {
        let r = get_h(&srv, "/a.txt", &[("If-None-Match", inm)]);
        assert_full(&r, b"conditional body", "text/plain; charset=utf-8");
        assert_eq!(r.header("etag"), Some(etag.as_str()));
    }
    // A tag that merely contains ours, or ours without quotes, is not a match.
    let unquoted = etag.trim_matches('"').to_string();
    let longer = format!("\"{unquoted}0\"");
    for inm in [unquoted.as_str(), longer.as_str()] {
        let r = get_h(&srv, "/a.txt", &[("If-None-Match", inm)]);
        assert_eq!(r.status, 200, "If-None-Match: {inm}");
    }
    // If-None-Match wins over If-Modified-Since, both ways.
    let later = "Mon, 10 Sep 2001 01:46:40 GMT";
    let earlier = "Sat, 08 Sep 2001 01:46:40 GMT";
    let r = get_h(
        &srv,
        "/a.txt",
        &[("If-None-Match", "\"other\""), ("If-Modified-Since", later)],
    );
    assert_full(&r, b"conditional body", "text/plain; charset=utf-8");
    let r = get_h(
        &srv,
        "/a.txt",
        &[("If-None-Match", &etag), ("If-Modified-Since", earlier)],
    );
    assert_not_modified(&r, &full);
}

#[test]
fn if_modified_since() {
    let s = Scratch::new("if_modified_since");
    s.write("a.html", b"<p>dated</p>");
    let srv = s.serve(|_| {});
    let full = get_h(&srv, "/a.html", &[]);
    assert_eq!(full.header("last-modified"), Some(T_IMF));
    // Equal, one second later, a day later, years later: 304. The obsolete formats too.
    for ims in [
        T_IMF,
        "Sun, 09 Sep 2001 01:46:41 GMT",
        "Mon, 10 Sep 2001 01:46:40 GMT",
        "Fri, 01 Jan 2021 00:00:00 GMT",
        "Sunday, 09-Sep-01 01:46:40 GMT",
        "Sun Sep  9 01:46:40 2001",
    ] {
        for method in ["GET", "HEAD"] {
            let r = fetch(&srv, method, "/a.html", &[("If-Modified-Since", ims)]);
            assert_not_modified(&r, &full);
        }
    }
    // Earlier: the full answer. An unparsable date is ignored.
    for ims in [
        "Sun, 09 Sep 2001 01:46:39 GMT",
        "Sat, 08 Sep 2001 01:46:40 GMT",
        "Thu, 01 Jan 1970 00:00:00 GMT",
        "yesterday",
        "Sun, 09 Sep 2001 01:46:40",
    ] {
        let r = get_h(&srv, "/a.html", &[("If-Modified-Since", ims)]);
        assert_full(&r, b"<p>dated</p>", "text/html; charset=utf-8");
    }
}

#[test]
fn etag_changes_when_the_file_changes() {
    let s = Scratch::new("etag_changes");
    let p = s.write("v.txt", b"version-1");
    let srv = s.serve(|_| {});
    let r1 = get_h(&srv, "/v.txt", &[]);
    let tag1 = r1.header("etag").unwrap().to_string();
    // Same size, same second, different content and sub-second mtime: a new strong tag
    // (once the server's file cache has looked again, which it does at least every second).
    fs::write(&p, b"version-2").unwrap();
    set_mtime(&p, T, 500_000_000);
    thread::sleep(Duration::from_millis(1100));
    let r2 = get_h(&srv, "/v.txt", &[("If-None-Match", &tag1)]);
    assert_full(&r2, b"version-2", "text/plain; charset=utf-8");
    let tag2 = r2.header("etag").unwrap().to_string();
    assert_ne!(tag1, tag2);
    // The old tag no longer selects a range either.
    let r = get_h(
        &srv,
        "/v.txt",
        &[("Range", "bytes=0-0"), ("If-Range", &tag1)],
    );
    assert_full(&r, b"version-2", "text/plain; charset=utf-8");
    let r = get_h(
        &srv,
        "/v.txt",
        &[("Range", "bytes=0-0"), ("If-Range", &tag2)],
    );
    assert_partial(&r, b"version-2", 0, 0);
}

// ---------------------------------------------------------------------------------------------
// Ranges
// ---------------------------------------------------------------------------------------------

#[test]
fn single_ranges() {
    let s = Scratch::new("single_ranges");
    let file = noise(50, 7);
    s.write("r.bin", &file);
    let srv = s.serve(|_| {});
    let full = get_h(&srv, "/r.bin", &[]);
    assert_full(&full, &file, "application/octet-stream");
    for (range, start, end) in [
        ("bytes=0-0", 0, 0),
        ("bytes=-1", 49, 49),
        ("bytes=10-", 10, 49),
        ("bytes=0-49", 0, 49),
        ("bytes=0-", 0, 49),
        ("bytes=49-49", 49, 49),
        ("bytes=3-7", 3, 7),
        ("bytes=40-200", 40, 49),
        ("bytes=-10", 40, 49),
        ("bytes=-100", 0, 49),
        ("bytes=0-99999999999999999999999", 0, 49),
        ("BYTES = 1 - 2", 1, 2),
    ] {
        let r = get_h(&srv, "/r.bin", &[("Range", range)]);
        assert_partial(&r, &file, start, end);
        assert_eq!(r.header("content-type"), Some("application/octet-stream"));
        assert_eq!(r.header("etag"), full.header("etag"), "{range}");
        assert_eq!(r.header("last-modified"), Some(T_IMF));
        assert_eq!(r.header("accept-ranges"), Some("bytes"));
        // HEAD with the same Range: the same head, no body.
        let h = fetch(&srv, "HEAD", "/r.bin", &[("Range", range)]);
        assert_eq!(without_date(&h), without_date(&r), "HEAD {range}");
        assert!(h.body.is_empty());
    }
    // Several ranges one after another on one connection: framing stays right.
    let mut c = srv.connect();
    let mut batch = Vec::new();
    for range in ["bytes=0-4", "bytes=-3", "bytes=100-", "bytes=20-29"] {
        batch.extend(request("GET", "/r.bin", &[("Range", range)]));
    }
    c.send(&batch);
    assert_partial(&c.read_response(), &file, 0, 4);
    assert_partial(&c.read_response(), &file, 47, 49);
    assert_eq!(c.read_response().status, 416);
    assert_partial(&c.read_response(), &file, 20, 29);
}

#[test]
fn unsatisfiable_ranges_are_416() {
    let s = Scratch::new("unsatisfiable");
    let file = noise(50, 8);
    s.write("r.bin", &file);
    s.write("empty.txt", b"");
    let srv = s.serve(|_| {});
    let etag = get_h(&srv, "/r.bin", &[])
        .header("etag")
        .unwrap()
        .to_string();
    // A resume past the end is 416, never 404 or 200.
    for range in [
        "bytes=100-200",
        "bytes=50-",
        "bytes=50-50",
        "bytes=-0",
        "bytes=99999999999999999999999-",
        "bytes=60-70, 80-",
    ] {
        for method in ["GET", "HEAD"] {
            let r = fetch(&srv, method, "/r.bin", &[("Range", range)]);
            assert_eq!(r.status, 416, "{method} Range: {range}");
            assert_eq!(r.header("content-range"), Some("bytes */50"), "{range}");
            assert!(!r.body.windows(4).any(|w| w == &file[..4]));
        }
    }
    // With a matching If-Range the range stands: still 416.
    let r = get_h(
        &srv,
        "/r.bin",
        &[("Range", "bytes=100-200"), ("If-Range", &etag)],
    );
    assert_eq!(r.status, 416);
    assert_eq!(r.header("content-range"), Some("bytes */50"));
    // An empty file has no byte 0.
    let r = get_h(&srv, "/empty.txt", &[("Range", "bytes=0-")]);
    assert_eq!(r.status, 416);
    assert_eq!(r.header("content-range"), Some("bytes */0"));
}

#[test]
fn ignored_ranges_and_if_range() {
    let s = Scratch::new("ignored_ranges");
    let file = noise(50, 9);
    s.write("r.bin", &file);
    let srv = s.serve(|_| {});
    let full = get_h(&srv, "/r.bin", &[]);
    let etag = full.header("etag").unwrap().to_string();
    // Invalid, other unit, or several ranges (documented: the whole 200, never multipart).
    for range in [
        "bytes=5-2",
        "items=0-1",
        "bytes=0-1,3-4",
        "bytes=0-0,-1",
        "bytes=0-10,5-20,0-49",
        "bytes=",
        "bytes=a-b",
        "bytes 0-1",
        "bytes=--1",
    ] {
        let r = get_h(&srv, "/r.bin", &[("Range", range)]);
        assert_full(&r, &file, "application/octet-stream");
        assert_eq!(r.header("etag"), Some(etag.as_str()), "{range}");
    }
    // If-Range with the current ETag or the exact Last-Modified: the range.
    for if_range in [etag.as_str(), T_IMF] {
        let r = get_h(
            &srv,
            "/r.bin",
            &[("Range", "bytes=10-19"), ("If-Range", if_range)],
        );
        assert_partial(&r, &file, 10, 19);
    }
    // Anything else (another tag, a weak tag, another date): the whole file.
    let weak = format!("W/{etag}");
    for if_range in [
        "\"different\"",
        weak.as_str(),
        "Sun, 09 Sep 2001 01:46:41 GMT",
        "Sun, 09 Sep 2001 01:46:39 GMT",
    ] {
        let r = get_h(
            &srv,
            "/r.bin",
            &[("Range", "bytes=10-19"), ("If-Range", if_range)],
        );
        assert_full(&r, &file, "application/octet-stream");
    }
}

#[test]
fn ranges_in_a_sparse_file_over_4_gib() {
    let s = Scratch::new("sparse_4gib");
    const LEN: u64 = 5 << 30;
    let p = s.path("huge.bin");
    {
        let f = File::create(&p).unwrap();
        f.set_len(LEN).unwrap();
        f.write_all_at(b"END-MARKER-0123!", LEN - 16).unwrap();
        f.write_all_at(b"4GiBedge", (4 << 30) - 4).unwrap();
        f.write_all_at(b"start", 0).unwrap();
    }
    set_mtime(&p, T, 0);
    let srv = s.serve(|_| {});

    let h = fetch(&srv, "HEAD", "/huge.bin", &[]);
    assert_eq!(h.status, 200);
    assert_eq!(h.content_length(), Some(5_368_709_120));
    assert_eq!(h.header("accept-ranges"), Some("bytes"));
    assert_eq!(h.header("last-modified"), Some(T_IMF));

    let cases: &[(&str, u64, &[u8])] = &[
        ("bytes=5368709104-5368709119", LEN - 16, b"END-MARKER-0123!"),
        ("bytes=-16", LEN - 16, b"END-MARKER-0123!"),
        ("bytes=5368709104-", LEN - 16, b"END-MARKER-0123!"),
        ("bytes=5368709112-9999999999", LEN - 8, b"ER-0123!"),
        ("bytes=4294967292-4294967299", (4 << 30) - 4, b"4GiBedge"),
        ("bytes=4294967296-4294967299", 4 << 30, b"edge"),
        ("bytes=0-7", 0, b"start\0\0\0"),
    ];
    let mut c = srv.connect();
    for &(range, start, want) in cases {
        let r = c.request(&request("GET", "/huge.bin", &[("Range", range)]));
        r.assert_framed();
        assert_eq!(r.status, 206, "{range}");
        let end = start + want.len() as u64 - 1;
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes {start}-{end}/5368709120").as_str()),
            "{range}"
        );
        assert_eq!(r.content_length(), Some(want.len() as u64), "{range}");
        assert_eq!(r.body, want, "{range}");
    }
    let r = c.request(&request(
        "GET",
        "/huge.bin",
        &[("Range", "bytes=5368709120-")],
    ));
    assert_eq!(r.status, 416);
    assert_eq!(r.header("content-range"), Some("bytes */5368709120"));
}

// ---------------------------------------------------------------------------------------------
// Large files
// ---------------------------------------------------------------------------------------------

const BIG: usize = 3 << 20;

fn assert_same_bytes(got: &[u8], want: &[u8], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    if let Some(i) = got.iter().zip(want).position(|(a, b)| a != b) {
        panic!("{what}: first difference at byte {i}");
    }
}

#[test]
fn large_file_whole_and_pipelined() {
    let s = Scratch::new("large_file");
    let big = noise(BIG, 11);
    s.write("big.bin", &big);
    let srv = s.serve(|_| {});

    let mut c = srv.connect();
    let r = c.request(&request("GET", "/big.bin", &[]));
    r.assert_framed();
    assert_eq!(r.status, 200);
    assert_eq!(r.content_length(), Some(BIG as u64));
    assert_same_bytes(&r.body, &big, "whole download");

    // Two GETs pipelined in one write, then a GET of /-/plaintext: all intact, in order.
    let mut c = srv.connect();
    let mut batch = request("GET", "/big.bin", &[]);
    batch.extend(request("GET", "/big.bin", &[("Range", "bytes=1048576-")]));
    batch.extend(request("GET", "/big.bin", &[]));
    batch.extend(get("/-/plaintext").into_bytes());
    c.send(&batch);
    let r1 = c.read_response();
    assert_eq!(r1.status, 200);
    assert_same_bytes(&r1.body, &big, "first pipelined");
    let r2 = c.read_response();
    assert_partial(&r2, &big, 1 << 20, BIG - 1);
    let r3 = c.read_response();
    assert_eq!(r3.status, 200);
    assert_same_bytes(&r3.body, &big, "third pipelined");
    let p = c.read_response();
    assert_eq!((p.status, &p.body[..]), (200, &b"Hello, World!"[..]));

    // A GET of it, then (after it is read) /-/plaintext on the same connection.
    let r = c.request(&request("GET", "/big.bin", &[]));
    assert_same_bytes(&r.body, &big, "after pipeline");
    let p = c.request(get("/-/plaintext").as_bytes());
    assert_eq!((p.status, &p.body[..]), (200, &b"Hello, World!"[..]));
}

#[test]
fn large_file_read_slowly_is_byte_exact() {
    let s = Scratch::new("large_slow");
    // In torture mode the server's 61-byte writes make a quarter slow enough.
    let len = if torture() { BIG / 4 } else { BIG };
    let big = noise(len, 12);
    s.write("big.bin", &big);
    let srv = s.serve(|_| {});
    let addr = srv.addr;
    let start = Instant::now();
    let reader = thread::spawn(move || {
        let mut c = Client::connect(addr);
        c.throttle(16 * 1024, Duration::from_millis(10));
        let r = c.request(&request("GET", "/big.bin", &[]));
        // The connection is still good afterwards.
        let p = c.request(get("/-/plaintext").as_bytes());
        (r, p)
    });
    // Meanwhile the server answers others at once.
    let mut probes = 0;
    while !reader.is_finished() {
        let t = Instant::now();
        srv.assert_alive();
        assert!(
            t.elapsed() < Duration::from_millis(500),
            "a slow download stalled the server for {:?}",
            t.elapsed()
        );
        probes += 1;
        thread::sleep(Duration::from_millis(100));
    }
    let (r, p) = reader.join().unwrap();
    assert!(probes >= 3, "the download was not slow ({probes} probes)");
    assert!(start.elapsed() >= Duration::from_secs(1));
    assert_eq!(r.status, 200);
    assert_same_bytes(&r.body, &big, "slow download");
    assert_eq!((p.status, &p.body[..]), (200, &b"Hello, World!"[..]));
}

// ---------------------------------------------------------------------------------------------
// Directories
// ---------------------------------------------------------------------------------------------

#[test]
fn directories_redirect_to_the_slash_form() {
    let s = Scratch::new("dir_redirect");
    s.write("dir/f.txt", b"f");
    s.write("dir/sub/g.txt", b"g");
    s.write("my dir/h.txt", b"h");
    let srv = s.serve(|_| {});
    for (target, location) in [
        ("/dir", "/dir/"),
        ("/dir?a=1", "/dir/?a=1"),
        ("/dir?a=1&b=%2F", "/dir/?a=1&b=%2F"),
        ("/dir/sub", "/dir/sub/"),
        ("/my%20dir", "/my%20dir/"),
    ] {
        for method in ["GET", "HEAD"] {
            let r = fetch(&srv, method, target, &[]);
            assert_eq!(r.status, 301, "{method} {target}");
            assert_eq!(r.header("location"), Some(location), "{target}");
        }
        // Following the redirect gives the listing.
        let r = get_h(&srv, location, &[]);
        assert_eq!(r.status, 200, "{location}");
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    }
}

#[test]
fn index_html_is_served_for_the_directory() {
    let s = Scratch::new("index_html");
    s.write("site/index.html", b"<h1>home</h1>");
    s.write("site/other.txt", b"other");
    s.write("index.html", b"<h1>root</h1>");
    let srv = s.serve(|_| {});
    let r = get_h(&srv, "/site/", &[]);
    assert_full(&r, b"<h1>home</h1>", "text/html; charset=utf-8");
    assert_eq!(r.header("last-modified"), Some(T_IMF));
    let direct = get_h(&srv, "/site/index.html", &[]);
    assert_eq!(r.header("etag"), direct.header("etag"));
    let r = get_h(&srv, "/", &[]);
    assert_full(&r, b"<h1>root</h1>", "text/html; charset=utf-8");
    let r = get_h(&srv, "/site?x", &[]);
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/site/?x"));
    // The index is a file: conditional requests and ranges apply.
    let etag = direct.header("etag").unwrap();
    assert_eq!(
        get_h(&srv, "/site/", &[("If-None-Match", etag)]).status,
        304
    );
    assert_partial(
        &get_h(&srv, "/site/", &[("Range", "bytes=1-2")]),
        b"<h1>home</h1>",
        1,
        2,
    );
    // Even without listings.
    drop(srv);
    let srv = s.serve(|c| c.listing = false);
    let r = get_h(&srv, "/site/", &[]);
    assert_full(&r, b"<h1>home</h1>", "text/html; charset=utf-8");
}

/// The files of the listing directory, in the order a listing must show them (bytewise).
const LIST_FILES: &[&str] = &[
    "#hash",
    "100%",
    "<tag>",
    "a&b",
    "a.txt",
    "b.txt",
    "c:d",
    "javascript:x",
    "what?",
    "with space.txt",
    "\u{e9}.txt",
];
const LIST_HREFS: &[&str] = &[
    "../",
    "./adir/",
    "./z%20dir/",
    "./%23hash",
    "./100%25",
    "./%3Ctag%3E",
    "./a%26b",
    "./a.txt",
    "./b.txt",
    "./c%3Ad",
    "./javascript%3Ax",
    "./what%3F",
    "./with%20space.txt",
    "./%C3%A9.txt",
];

fn content_of(name: &[u8]) -> Vec<u8> {
    let mut v = b"content of ".to_vec();
    v.extend_from_slice(name);
    v
}

/// `list/` with two directories and [`LIST_FILES`] (created in a shuffled order), a dotfile,
/// and the mtimes of everything set to [`T`].
fn listing_tree(s: &Scratch) {
    for name in LIST_FILES.iter().rev() {
        s.write(&format!("list/{name}"), &content_of(name.as_bytes()));
    }
    s.write("list/z dir/inner?.txt", b"content of inner?.txt");
    s.write("list/adir/.keep", b"");
    s.write("list/.hidden", b"hidden");
    s.write("list/.hdir/x.txt", b"x");
    s.write("top.txt", &content_of(b"top.txt"));
    for d in ["list/z dir", "list/adir", "list/.hdir", "list", ""] {
        set_mtime(&s.path(d), T, 0);
    }
}

#[test]
fn html_listing_order_escaping_and_hrefs() {
    let s = Scratch::new("html_listing");
    listing_tree(&s);
    let srv = s.serve(|_| {});
    let r = get_h(&srv, "/list/", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let page = r.body_str();
    assert_eq!(hrefs(&page), LIST_HREFS, "{page}");
    // Names are HTML-escaped in the text; no raw markup from a name survives.
    for text in [
        ">&lt;tag&gt;</a>",
        ">a&amp;b</a>",
        ">#hash</a>",
        ">100%</a>",
        ">what?</a>",
        ">c:d</a>",
        ">with space.txt</a>",
        ">\u{e9}.txt</a>",
        ">adir/</a>",
        ">z dir/</a>",
        "<a href=\"./javascript%3Ax\">javascript:x</a>",
        "<a href=\"../\">",
    ] {
        assert!(page.contains(text), "{text:?} not in {page}");
    }
    assert!(!page.contains("<tag>"));
    assert!(!page.contains("a&b"));
    assert!(
        !page.contains("hidden") && !page.contains(".hdir"),
        "{page}"
    );
    // Each file row shows its size and modification time.
    for name in LIST_FILES {
        let href = LIST_HREFS
            .iter()
            .find(|h| percent_decode(h.trim_start_matches("./")) == name.as_bytes())
            .unwrap();
        let at = page.find(&format!("href=\"{href}\"")).unwrap();
        let row = &page[at..at + page[at..].find("</tr>").unwrap()];
        let size = content_of(name.as_bytes()).len();
        assert!(
            row.contains(&format!("title=\"{size} bytes\">{size} B</td>")),
            "{row}"
        );
        assert!(row.contains(T_LISTING), "{row}");
    }
    // `..` everywhere but at the top.
    let top = get_h(&srv, "/", &[]);
    assert_eq!(top.status, 200);
    assert_eq!(hrefs(&top.body_str()), ["./list/", "./top.txt"]);
    let sub = get_h(&srv, "/list/z%20dir/", &[]);
    assert_eq!(hrefs(&sub.body_str()), ["../", "./inner%3F.txt"]);
    // An empty-looking directory (only a dotfile) still links up.
    let adir = get_h(&srv, "/list/adir/", &[]);
    assert_eq!(hrefs(&adir.body_str()), ["../"]);
    // HEAD of a listing: same head, no body (a listing is chunked: no length to compute).
    let h = fetch(&srv, "HEAD", "/list/", &[]);
    assert_eq!(h.status, 200);
    assert_eq!(h.header("content-type"), r.header("content-type"));
    assert!(h.is_chunked() && r.is_chunked());
}

/// Requests what a browser would for `href` in the listing of `dir` (a decoded-path prefix as
/// sent, ending in `/`).
fn follow(dir: &str, href: &str) -> String {
    if href == "../" {
        let trimmed = dir.trim_end_matches('/');
        trimmed[..=trimmed.rfind('/').unwrap()].to_string()
    } else {
        format!("{dir}{}", href.strip_prefix("./").expect("href without ./"))
    }
}

#[test]
fn every_listing_link_resolves() {
    let s = Scratch::new("links_resolve");
    listing_tree(&s);
    let srv = s.serve(|_| {});
    let mut pending = vec!["/".to_string()];
    let mut files = 0;
    let mut dirs = 0;
    while let Some(dir) = pending.pop() {
        let r = get_h(&srv, &dir, &[]);
        assert_eq!(r.status, 200, "{dir}");
        for href in hrefs(&r.body_str()) {
            let target = follow(&dir, &href);
            let got = get_h(&srv, &target, &[]);
            assert_eq!(got.status, 200, "link {href:?} in {dir} -> {target}");
            if href.ends_with('/') {
                assert_eq!(
                    got.header("content-type"),
                    Some("text/html; charset=utf-8"),
                    "{target}"
                );
                if href != "../" {
                    dirs += 1;
                    pending.push(target);
                }
            } else {
                // The link decodes to the file's name and serves exactly its bytes.
                let name = percent_decode(href.strip_prefix("./").unwrap());
                assert_eq!(got.body, content_of(&name), "{target}");
                files += 1;
            }
        }
    }
    assert_eq!(files, LIST_FILES.len() + 2, "top.txt and inner?.txt too");
    assert_eq!(dirs, 3);
}

/// A minimal reader for the listing's JSON: an array of flat objects with string and number
/// values. Returns each object's fields in order.
fn parse_json_listing(text: &str) -> Vec<Vec<(String, String)>> {
    let b: Vec<char> = text.chars().collect();
    let mut i = 0;
    let ws = |i: &mut usize| {
        while *i < b.len() && b[*i].is_whitespace() {
            *i += 1;
        }
    };
    let string = |i: &mut usize| -> String {
        assert_eq!(b[*i], '"', "string expected at {i} in {text}");
        *i += 1;
        let mut s = String::new();
        loop {
            match b[*i] {
                '"' => {
                    *i += 1;
                    return s;
                }
                '\\' => {
                    *i += 1;
                    match b[*i] {
                        'u' => {
                            let hex: String = b[*i + 1..*i + 5].iter().collect();
                            s.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                            *i += 4;
                        }
                        'n' => s.push('\n'),
                        't' => s.push('\t'),
                        c => s.push(c),
                    }
                    *i += 1;
                }
                c => {
                    assert!(c >= ' ', "raw control character in a JSON string");
                    s.push(c);
                    *i += 1;
                }
            }
        }
    };
    let mut out = Vec::new();
    ws(&mut i);
    assert_eq!(b[i], '[', "{text}");
    i += 1;
    loop {
        ws(&mut i);
        if b[i] == ']' {
            i += 1;
            break;
        }
        if b[i] == ',' {
            assert!(!out.is_empty(), "leading comma in {text}");
            i += 1;
            ws(&mut i);
        }
        assert_eq!(b[i], '{', "{text}");
        i += 1;
        let mut fields = Vec::new();
        loop {
            ws(&mut i);
            if b[i] == '}' {
                i += 1;
                break;
            }
            if b[i] == ',' {
                i += 1;
                ws(&mut i);
            }
            let key = string(&mut i);
            ws(&mut i);
            assert_eq!(b[i], ':', "{text}");
            i += 1;
            ws(&mut i);
            let value = if b[i] == '"' {
                string(&mut i)
            } else {
                let start = i;
                while b[i].is_ascii_digit() {
                    i += 1;
                }
                assert!(i > start, "number expected at {i} in {text}");
                b[start..i].iter().collect()
            };
            fields.push((key, value));
        }
        out.push(fields);
    }
    ws(&mut i);
    assert_eq!(i, b.len(), "trailing bytes after the array in {text}");
    out
}

#[test]
fn json_listing() {
    let s = Scratch::new("json_listing");
    listing_tree(&s);
    let srv = s.serve(|_| {});
    for accept in ["application/json", "application/json, */*;q=0.1"] {
        let r = get_h(&srv, "/list/", &[("Accept", accept)]);
        assert_eq!(r.status, 200);
        let ct = r.header("content-type").unwrap();
        assert!(
            ct == "application/json" || ct == "application/json; charset=utf-8",
            "{ct}"
        );
        let got = parse_json_listing(&r.body_str());
        let mut want = Vec::new();
        for d in ["adir", "z dir"] {
            let size = fs::metadata(s.path(&format!("list/{d}"))).unwrap().len();
            want.push(vec![
                ("name".to_string(), d.to_string()),
                ("type".to_string(), "dir".to_string()),
                ("size".to_string(), size.to_string()),
                ("mtime".to_string(), T_RFC3339.to_string()),
            ]);
        }
        for f in LIST_FILES {
            want.push(vec![
                ("name".to_string(), f.to_string()),
                ("type".to_string(), "file".to_string()),
                (
                    "size".to_string(),
                    content_of(f.as_bytes()).len().to_string(),
                ),
                ("mtime".to_string(), T_RFC3339.to_string()),
            ]);
        }
        assert_eq!(got, want);
    }
    // The top has no `..` entry in JSON either; an empty listing is `[]`.
    let r = get_h(&srv, "/", &[("Accept", "application/json")]);
    let names: Vec<String> = parse_json_listing(&r.body_str())
        .into_iter()
        .map(|o| o[0].1.clone())
        .collect();
    assert_eq!(names, ["list", "top.txt"]);
    let r = get_h(&srv, "/list/adir/", &[("Accept", "application/json")]);
    assert!(parse_json_listing(&r.body_str()).is_empty());
    // Without the Accept header: HTML.
    let r = get_h(&srv, "/list/", &[("Accept", "text/html,*/*")]);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
}

#[test]
fn listing_disabled_is_404() {
    let s = Scratch::new("no_listing");
    listing_tree(&s);
    let srv = s.serve(|c| c.listing = false);
    for target in ["/", "/list/", "/list/z%20dir/"] {
        let r = get_h(&srv, target, &[]);
        assert_eq!(r.status, 404, "{target}");
        let r = get_h(&srv, target, &[("Accept", "application/json")]);
        assert_eq!(r.status, 404, "{target} (JSON)");
        assert!(!r.body.windows(3).any(|w| w == b"a.t"));
    }
    // Files are still served, and the slash redirect still happens.
    assert_eq!(get_h(&srv, "/list/a.txt", &[]).body, content_of(b"a.txt"));
    assert_eq!(get_h(&srv, "/list", &[]).status, 301);
}

#[test]
fn dotfiles_are_hidden_unless_show_hidden() {
    let s = Scratch::new("dotfiles");
    listing_tree(&s);
    s.write(".env", b"SECRET=1");
    let srv = s.serve(|_| {});
    for target in [
        "/.env",
        "/%2eenv",
        "/list/.hidden",
        "/list/%2Ehidden",
        "/list/.hdir/x.txt",
        "/list/.hdir/",
        "/list/.hdir",
        "/list/z%20dir/../.hidden",
    ] {
        for method in ["GET", "HEAD"] {
            let r = fetch(&srv, method, target, &[]);
            assert_eq!(r.status, 404, "{method} {target}");
            assert!(!r.body.windows(6).any(|w| w == b"SECRET" || w == b"hidden"));
        }
    }
    let top = get_h(&srv, "/", &[]).body_str();
    assert!(!top.contains("env"), "{top}");
    let json = get_h(&srv, "/list/", &[("Accept", "application/json")]).body_str();
    assert!(!json.contains("hid") && !json.contains("hdir"), "{json}");
    drop(srv);

    let srv = s.serve(|c| c.show_hidden = true);
    assert_full(
        &get_h(&srv, "/.env", &[]),
        b"SECRET=1",
        "application/octet-stream",
    );
    assert_eq!(get_h(&srv, "/list/.hidden", &[]).body, b"hidden");
    assert_eq!(get_h(&srv, "/list/.hdir/x.txt", &[]).body, b"x");
    let page = get_h(&srv, "/list/", &[]).body_str();
    let links = hrefs(&page);
    assert_eq!(links[..4], ["../", "./.hdir/", "./adir/", "./z%20dir/"]);
    assert!(links.contains(&"./.hidden".to_string()), "{links:?}");
    assert_eq!(
        hrefs(&get_h(&srv, "/", &[]).body_str()),
        ["./list/", "./.env", "./top.txt"]
    );
    let json = get_h(&srv, "/list/", &[("Accept", "application/json")]).body_str();
    assert!(json.contains("\".hidden\"") && json.contains("\".hdir\""));
    // Showing dotfiles does not make `..` a name.
    assert_ne!(get_h(&srv, "/list/../..", &[]).status, 200);
}

#[test]
fn file_with_a_trailing_slash_is_404() {
    let s = Scratch::new("trailing_slash");
    s.write("file.txt", b"file");
    s.write("d/inner.txt", b"inner");
    let srv = s.serve(|_| {});
    for target in [
        "/file.txt/",
        "/d/inner.txt/",
        "/file.txt//",
        "/file.txt%2f",
        "/d/inner.txt/?q",
    ] {
        let r = get_h(&srv, target, &[]);
        assert_eq!(r.status, 404, "{target}");
        assert_ne!(r.body, b"file");
    }
    assert_eq!(get_h(&srv, "/file.txt", &[]).body, b"file");
}

/// RFC 3986 §5.2.4: `/file.txt/.` is `/file.txt/` once its dot-segment is removed.
#[test]
fn file_with_a_trailing_dot_segment_is_404() {
    let s = Scratch::new("trailing_dot");
    s.write("file.txt", b"file");
    let srv = s.serve(|_| {});
    for target in ["/file.txt/.", "/file.txt/%2e", "/file.txt/./"] {
        let r = get_h(&srv, target, &[]);
        assert_eq!(r.status, 404, "{target}");
    }
}

#[test]
fn fifo_is_404_without_blocking() {
    let s = Scratch::new("fifo");
    s.write("pipes/regular.txt", b"regular");
    mkfifo(&s.path("pipes/fifo"));
    let srv = s.serve(|_| {});
    for (method, target) in [
        ("GET", "/pipes/fifo"),
        ("HEAD", "/pipes/fifo"),
        ("GET", "/pipes/fifo?x"),
        ("GET", "/pipes/fifo/"),
        ("GET", "/pipes/fifo.gz"),
    ] {
        let t = Instant::now();
        let mut c = srv.connect();
        c.set_read_timeout(Duration::from_secs(2));
        c.send(&request(method, target, &[]));
        let r = c.read_response_for(method == "HEAD");
        assert_eq!(r.status, 404, "{method} {target}");
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
        let t = Instant::now();
        srv.assert_alive();
        assert!(
            t.elapsed() < Duration::from_millis(500),
            "{:?}",
            t.elapsed()
        );
    }
    assert_eq!(get_h(&srv, "/pipes/regular.txt", &[]).body, b"regular");
}

#[test]
fn fifo_is_not_listed() {
    let s = Scratch::new("fifo_listing");
    s.write("pipes/regular.txt", b"regular");
    mkfifo(&s.path("pipes/fifo"));
    let srv = s.serve(|_| {});
    let page = get_h(&srv, "/pipes/", &[]).body_str();
    assert_eq!(hrefs(&page), ["../", "./regular.txt"], "{page}");
    let json = get_h(&srv, "/pipes/", &[("Accept", "application/json")]).body_str();
    assert!(!json.contains("fifo"), "{json}");
}

// ---------------------------------------------------------------------------------------------
// Pre-compressed files
// ---------------------------------------------------------------------------------------------

#[test]
fn precompressed_gz_sibling() {
    let s = Scratch::new("precompressed");
    let plain = b"plain text, many times over; plain text, many times over\n";
    let gz = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03pretend-compressed";
    s.write("x.txt", plain);
    s.write("x.txt.gz", gz);
    s.write("y.txt", b"no sibling");
    let srv = s.serve(|_| {});

    let p = get_h(&srv, "/x.txt", &[]);
    assert_full(&p, plain, "text/plain; charset=utf-8");
    assert_eq!(p.header("vary"), Some("Accept-Encoding"));
    assert!(!p.has_header("content-encoding"));
    let plain_tag = p.header("etag").unwrap().to_string();

    let mut gz_tag = String::new();
    for ae in [
        "gzip",
        "gzip, deflate, br",
        "br;q=1.0, gzip;q=0.8",
        "GZIP",
        "*",
    ] {
        let z = get_h(&srv, "/x.txt", &[("Accept-Encoding", ae)]);
        assert_full(&z, gz, "text/plain; charset=utf-8");
        assert_eq!(z.header("content-encoding"), Some("gzip"), "{ae}");
        assert_eq!(z.header("vary"), Some("Accept-Encoding"));
        let tag = z.header("etag").unwrap();
        assert_ne!(tag, plain_tag, "the .gz needs its own ETag");
        gz_tag = tag.to_string();
        let h = fetch(&srv, "HEAD", "/x.txt", &[("Accept-Encoding", ae)]);
        assert_eq!(without_date(&h), without_date(&z), "HEAD {ae}");
    }
    for ae in ["gzip;q=0", "deflate, br", "identity", "gzip; q=0.0", ""] {
        let r = get_h(&srv, "/x.txt", &[("Accept-Encoding", ae)]);
        assert_full(&r, plain, "text/plain; charset=utf-8");
        assert!(!r.has_header("content-encoding"), "{ae:?}");
        assert_eq!(r.header("vary"), Some("Accept-Encoding"), "{ae:?}");
        assert_eq!(r.header("etag"), Some(plain_tag.as_str()));
    }
    // Validators belong to their representation.
    let r = get_h(
        &srv,
        "/x.txt",
        &[("Accept-Encoding", "gzip"), ("If-None-Match", &gz_tag)],
    );
    assert_eq!(r.status, 304);
    assert_eq!(r.header("etag"), Some(gz_tag.as_str()));
    let r = get_h(&srv, "/x.txt", &[("If-None-Match", &gz_tag)]);
    assert_full(&r, plain, "text/plain; charset=utf-8");
    // A range applies to the bytes sent.
    let r = get_h(
        &srv,
        "/x.txt",
        &[("Accept-Encoding", "gzip"), ("Range", "bytes=0-1")],
    );
    assert_partial(&r, gz, 0, 1);
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    // The .gz itself is just a gzip file; a file without a sibling has no Vary.
    let r = get_h(&srv, "/x.txt.gz", &[("Accept-Encoding", "gzip")]);
    assert_full(&r, gz, "application/gzip");
    assert!(!r.has_header("content-encoding"));
    let r = get_h(&srv, "/y.txt", &[("Accept-Encoding", "gzip")]);
    assert_full(&r, b"no sibling", "text/plain; charset=utf-8");
    assert!(!r.has_header("vary") && !r.has_header("content-encoding"));
}

// ---------------------------------------------------------------------------------------------
// Directories under other spellings (issue 8 A, B)
// ---------------------------------------------------------------------------------------------

/// `docs/` with an index, a subdirectory, and a file no page links to.
fn docs_tree(s: &Scratch) {
    s.write("docs/index.html", b"<h1>docs</h1>");
    s.write("docs/sub/s.txt", b"s");
    s.write("docs/unlinked-private.txt", b"private");
    s.write("a b/c.txt", b"c");
}

#[test]
fn dot_segments_never_reach_the_listing_behind_an_index() {
    let s = Scratch::new("dot_index");
    docs_tree(&s);
    let srv = s.serve(|_| {});
    assert_full(
        &get_h(&srv, "/docs/", &[]),
        b"<h1>docs</h1>",
        "text/html; charset=utf-8",
    );
    for target in [
        "/docs/.",
        "/docs/%2e",
        "/docs/%2E/",
        "/docs/sub/..",
        "/docs/sub/%2e%2e",
        "/docs/sub/../",
        "/docs/./",
        "/docs//",
        "/docs%2f",
        "//docs/",
        "/./docs/",
    ] {
        for accept in ["text/html", "application/json"] {
            for method in ["GET", "HEAD"] {
                let r = fetch(&srv, method, target, &[("Accept", accept)]);
                let body = r.body_str();
                assert!(
                    !body.contains("unlinked"),
                    "{method} {target} lists: {body}"
                );
                assert_eq!(r.status, 301, "{method} {target}");
                assert_eq!(r.header("location"), Some("/docs/"), "{target}");
            }
        }
    }
    // The top directory has one spelling too.
    for target in ["/.", "/%2e", "/docs/..", "//"] {
        let r = get_h(&srv, target, &[]);
        assert_eq!(r.status, 301, "{target}");
        assert_eq!(r.header("location"), Some("/"), "{target}");
    }
    // The query is kept.
    let r = get_h(&srv, "/docs/.?a=1", &[]);
    assert_eq!(r.header("location"), Some("/docs/?a=1"));
}

#[test]
fn the_slash_redirect_never_leaves_the_site() {
    let s = Scratch::new("open_redirect");
    docs_tree(&s);
    let srv = s.serve(|_| {});
    for (target, location) in [
        ("//evil.example/../docs", "/docs/"),
        ("/\\evil.example/../docs", "/docs/"),
        ("http://x//evil.example/../docs", "/docs/"),
        ("//evil.example/../docs?q=1", "/docs/?q=1"),
        ("///evil.example/%2e%2e/docs", "/docs/"),
        ("/%2fevil.example/../docs", "/docs/"),
        ("/%5cevil.example/../docs", "/docs/"),
        ("/docs", "/docs/"),
        ("/docs?a=1&b=%2F", "/docs/?a=1&b=%2F"),
        ("/a%20b", "/a%20b/"),
        ("/docs/sub", "/docs/sub/"),
    ] {
        for method in ["GET", "HEAD"] {
            let r = fetch(&srv, method, target, &[]);
            assert_eq!(r.status, 301, "{method} {target}");
            let got = r.header("location").unwrap_or_default();
            assert_eq!(got, location, "{target}");
            assert!(got.starts_with('/') && !got.starts_with("//"), "{got}");
            assert!(!got.contains('\\'), "{got}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Listings rendered as they are read (issue 8 E)
// ---------------------------------------------------------------------------------------------

/// What the server's listing of `dir` must be: built from the file system here, rendered by
/// the library's whole-page functions (proved equal to the pages before issue 8 in its tests).
fn expected_listing(dir: &Path, shown: &[u8], json: bool) -> Vec<u8> {
    use std::os::unix::fs::MetadataExt;
    let mut entries: Vec<spindle::files::listing::Entry> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let meta = fs::metadata(e.path()).unwrap();
            spindle::files::listing::Entry {
                name: e.file_name().as_bytes().to_vec(),
                is_dir: meta.is_dir(),
                size: meta.len(),
                mtime_secs: meta.mtime() as u64,
            }
        })
        .filter(|e| e.name[0] != b'.')
        .collect();
    if json {
        spindle::files::listing::json(&mut entries)
    } else {
        spindle::files::listing::html(shown, &mut entries)
    }
}

/// `big/` with `n` files of awkward names and sizes, and a few directories.
fn big_tree(s: &Scratch, n: usize) {
    for i in 0..n {
        let name = format!("file {i:05} <&\u{e9}>.txt");
        s.write(&format!("big/{name}"), &vec![b'x'; i % 97]);
    }
    for d in ["big/d1", "big/d2 x"] {
        fs::create_dir_all(s.path(d)).unwrap();
    }
}

#[test]
fn a_large_listing_read_in_small_pieces_is_the_whole_page() {
    let s = Scratch::new("big_listing");
    let n = scaled(2000);
    big_tree(&s, n);
    let srv = s.serve(|_| {});
    for json in [false, true] {
        let want = expected_listing(&s.path("big"), b"/big/", json);
        let accept = if json {
            "application/json"
        } else {
            "text/html"
        };
        let mut c = srv.connect();
        c.throttle(997, Duration::ZERO);
        c.send(&request("GET", "/big/", &[("Accept", accept)]));
        let r = c.read_response();
        assert_eq!(r.status, 200);
        assert!(r.is_chunked(), "a listing goes out chunked");
        assert_eq!(r.content_length(), None);
        // Produced as the client drains it: in pieces, none above the output high-water mark.
        assert!(r.chunks.len() > 1 || torture(), "{} chunks", r.chunks.len());
        assert!(r.chunks.iter().all(|c| c.len() <= 64 * 1024));
        assert_same_bytes(&r.body, &want, if json { "JSON listing" } else { "HTML" });
        if json {
            assert_eq!(r.header("content-type"), Some("application/json"));
            let rows = parse_json_listing(&r.body_str());
            assert_eq!(rows.len(), n + 2);
        } else {
            assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
            assert_eq!(hrefs(&r.body_str()).len(), n + 3, "files, dirs and ../");
        }
        // The connection carries on.
        c.send(get("/-/plaintext").as_bytes());
        assert_eq!(c.read_response().body, b"Hello, World!");
        // A second listing (from the cached snapshot) is the same page.
        let again = get_h(&srv, "/big/", &[("Accept", accept)]);
        assert_same_bytes(&again.body, &want, "the second listing");
    }
}

#[test]
fn head_of_a_listing_is_chunked_with_no_body() {
    let s = Scratch::new("head_listing");
    listing_tree(&s);
    let srv = s.serve(|_| {});
    for accept in ["text/html", "application/json"] {
        let get = get_h(&srv, "/list/", &[("Accept", accept)]);
        // Pipelined: a body after the HEAD would show up as a broken second response.
        let mut c = srv.connect();
        let mut reqs = request("HEAD", "/list/", &[("Accept", accept)]);
        reqs.extend_from_slice(&request("GET", "/-/plaintext", &[]));
        c.send(&reqs);
        let h = c.read_head_response();
        assert_eq!(h.status, 200);
        assert_eq!(h.header("transfer-encoding"), Some("chunked"));
        assert_eq!(h.content_length(), None);
        assert_eq!(h.header("content-type"), get.header("content-type"));
        assert!(!h.says_close());
        let p = c.read_response();
        assert_eq!((p.status, &p.body[..]), (200, &b"Hello, World!"[..]));
        assert!(c.buffered().is_empty());
    }
}

#[test]
fn an_http10_listing_is_close_delimited() {
    let s = Scratch::new("http10_listing");
    listing_tree(&s);
    let srv = s.serve(|_| {});
    for keep_alive in [false, true] {
        let mut c = srv.connect();
        let extra = if keep_alive {
            "Connection: keep-alive\r\n"
        } else {
            ""
        };
        c.send(format!("GET /list/ HTTP/1.0\r\n{extra}\r\n").as_bytes());
        let raw = c.read_to_close();
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        let lower = head.to_ascii_lowercase();
        assert!(!lower.contains("content-length"), "{head}");
        assert!(!lower.contains("transfer-encoding"), "{head}");
        assert!(lower.contains("connection: close"), "{head}");
        let want = expected_listing(&s.path("list"), b"/list/", false);
        assert_eq!(body.as_bytes(), &want[..]);
    }
}

#[test]
fn a_listing_is_read_again_after_a_second() {
    let s = Scratch::new("listing_fresh");
    s.write("d/a.txt", b"a");
    let srv = s.serve(|_| {});
    assert_eq!(
        hrefs(&get_h(&srv, "/d/", &[]).body_str()),
        ["../", "./a.txt"]
    );
    s.write("d/b.txt", b"b");
    thread::sleep(Duration::from_millis(1100));
    assert_eq!(
        hrefs(&get_h(&srv, "/d/", &[]).body_str()),
        ["../", "./a.txt", "./b.txt"]
    );
}

#[test]
fn control_bytes_in_names_are_shown_not_sent() {
    let s = Scratch::new("ctl_names");
    s.write("c/ctl\x1b[31mred", b"red");
    let srv = s.serve(|_| {});
    let page = get_h(&srv, "/c/", &[]).body;
    assert!(
        !page.iter().any(|&b| (b < 0x20 && b != b'\n') || b == 0x7f),
        "{:?}",
        String::from_utf8_lossy(&page)
    );
    let text = String::from_utf8(page).unwrap();
    assert!(
        text.contains("<a href=\"./ctl%1B%5B31mred\">ctl\u{241b}[31mred</a>"),
        "{text}"
    );
    assert_eq!(get_h(&srv, "/c/ctl%1B%5B31mred", &[]).body, b"red");
}
