//! Issue 12's built-ins (go-httpbin's useful ones), over real sockets: each endpoint's answer,
//! its caps and its 400s, HEAD, and a kept-alive connection that goes on after every answer.

mod common;

use common::*;

/// A GET with extra header lines (each ending in CRLF).
fn get_with(path: &str, headers: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: test\r\n{headers}\r\n")
}

/// Sends `raw` on `c`, reads the answer (framed), then checks that the connection still
/// answers: the next request on it gets its own, whole answer.
fn ask(c: &mut Client, raw: &str) -> Response {
    let r = c.request(raw.as_bytes());
    r.assert_framed();
    let next = c.request(get("/-/plaintext").as_bytes());
    assert_eq!(next.status, 200, "after {raw:?}");
    assert_eq!(next.body, b"Hello, World!", "after {raw:?}");
    r
}

/// A 400 with a one-line text/plain reason, on a connection that stays open.
fn assert_bad(c: &mut Client, path: &str) -> String {
    let r = ask(c, &get(path));
    // Only the start of the body in the message: with a cap removed it may be a GiB.
    let start = String::from_utf8_lossy(&r.body[..r.body.len().min(200)]);
    assert_eq!(r.status, 400, "{path}: {start}");
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert!(!r.says_close(), "{path}");
    let reason = r.body_str();
    assert!(
        reason.ends_with('\n') && reason.lines().count() == 1 && reason.len() > 10,
        "{path}: {reason:?}"
    );
    reason
}

// ---- /-/bytes/N?chunk=K ----

#[test]
fn bytes_in_chunks() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    for (n, k) in [
        (1000usize, 100usize),
        (10, 1),
        (64, 64),
        (65, 64),
        (0, 5),
        (5, 1_048_576),
    ] {
        let r = ask(&mut c, &get(&format!("/-/bytes/{n}?chunk={k}")));
        assert_eq!(r.status, 200);
        assert!(r.is_chunked(), "n={n} k={k}");
        assert!(!r.has_header("content-length"));
        assert_eq!(r.body, pattern(n), "n={n} k={k}");
        assert!(r.chunks.iter().all(|ch| !ch.is_empty() && ch.len() <= k));
        if !torture() {
            assert_eq!(r.chunks.len(), n.div_ceil(k), "n={n} k={k}");
        }
    }
    // Without chunk, as before: Content-Length.
    let r = ask(&mut c, &get("/-/bytes/10?other=1"));
    assert_eq!(r.content_length(), Some(10));
    assert_eq!(r.body, pattern(10));
}

#[test]
fn bytes_chunk_limits() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    for bad in ["0", "1048577", "x", "", "-1", "%zz", "99999999999"] {
        let reason = assert_bad(&mut c, &format!("/-/bytes/10?chunk={bad}"));
        assert_eq!(reason, "chunk must be a number from 1 to 1048576\n");
    }
    // The cap on N still holds with chunks.
    assert_eq!(ask(&mut c, &get("/-/bytes/1073741825?chunk=5")).status, 400);
    c.send(head("/-/bytes/1073741824?chunk=1048576").as_bytes());
    let r = c.read_head_response();
    assert_eq!(r.status, 200);
    assert!(r.is_chunked());
}

#[test]
fn bytes_chunked_to_http10_is_close_delimited() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(b"GET /-/bytes/100?chunk=7 HTTP/1.0\r\n\r\n");
    let r = c.read_response();
    assert!(!r.has_header("transfer-encoding"));
    assert_eq!(r.body, pattern(100));
}

// ---- /-/redirect/N, /-/redirect-to ----

#[test]
fn redirect_chain_ends_at_plaintext() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let mut path = "/-/redirect/5".to_string();
    let mut hops = 0;
    loop {
        let r = ask(&mut c, &get(&path));
        if r.status == 200 {
            assert_eq!(r.body, b"Hello, World!");
            break;
        }
        assert_eq!(r.status, 302, "{path}");
        assert_eq!(r.content_length(), Some(0));
        path = r.header("location").expect("Location").to_string();
        hops += 1;
    }
    assert_eq!(hops, 5);
    let r = ask(&mut c, &get("/-/redirect/100"));
    assert_eq!(r.header("location"), Some("/-/redirect/99"));
    let r = ask(&mut c, &get("/-/redirect/1"));
    assert_eq!(r.header("location"), Some("/-/plaintext"));
    for bad in ["0", "101", "x", "", "-1"] {
        let reason = assert_bad(&mut c, &format!("/-/redirect/{bad}"));
        assert_eq!(reason, "N must be a number from 1 to 100\n");
    }
}

#[test]
fn redirect_to_local_paths() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    for (query, status, location) in [
        ("url=/-/json", 302, "/-/json"),
        ("url=/-/json&status=307", 307, "/-/json"),
        (
            "status=301&url=%2F-%2Fplaintext%3Fa%3D1",
            301,
            "/-/plaintext?a=1",
        ),
        ("url=/a%2Bb+c", 302, "/a+b+c"),
        ("url=/&status=300", 300, "/"),
        ("url=/&status=399", 399, "/"),
    ] {
        let r = ask(&mut c, &get(&format!("/-/redirect-to?{query}")));
        assert_eq!(r.status, status, "{query}");
        assert_eq!(r.header("location"), Some(location), "{query}");
    }
}

/// No open redirect and no header injection: each of these is a 400 without a `Location`.
#[test]
fn redirect_to_refuses_other_hosts_and_injection() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    for url in [
        "//evil.example/",
        "%2F%2Fevil.example",
        "/%5Cevil.example",
        "/\\evil.example",
        "http://evil.example/",
        "https:%2F%2Fevil.example",
        "evil.example",
        "",
        "/a%0d%0aSet-Cookie:%20x=1",
        "/a%0aX-Injected:%201",
        "/a%0d",
        "/a%00",
        "/a%09b",
        "/a%20b",
        "/a%7f",
        "/%C3%A9",
    ] {
        let r = ask(&mut c, &get(&format!("/-/redirect-to?url={url}")));
        assert_eq!(r.status, 400, "{url}");
        assert!(!r.has_header("location"), "{url}: {:?}", r.headers);
        assert!(!r.has_header("set-cookie") && !r.has_header("x-injected"));
        assert!(r
            .body_str()
            .starts_with("url must be a path on this server"));
    }
    let long = format!("/-/redirect-to?url=/{}", "a".repeat(2048));
    assert!(assert_bad(&mut c, &long).starts_with("url must be percent-encoded"));
    let ok = format!("/-/redirect-to?url=/{}", "a".repeat(2047));
    assert_eq!(ask(&mut c, &get(&ok)).status, 302);
    assert_eq!(assert_bad(&mut c, "/-/redirect-to"), "url is required\n");
    assert!(assert_bad(&mut c, "/-/redirect-to?url=%zz").starts_with("url must be"));
    for s in ["299", "400", "200", "x", "3000"] {
        let reason = assert_bad(&mut c, &format!("/-/redirect-to?url=/&status={s}"));
        assert_eq!(reason, "status must be a number from 300 to 399\n");
    }
}

// ---- /-/response-headers ----

#[test]
fn response_headers_are_sent_and_listed() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let r = ask(
        &mut c,
        &get("/-/response-headers?X-One=1&Cache-Control=no-store&x-one=two%20words&X-Tab=a%09b"),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header_all("x-one"), ["1", "two words"]);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("x-tab"), Some("a\tb"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.body_str(),
        "{\"X-One\":[\"1\",\"two words\"],\"Cache-Control\":[\"no-store\"],\
         \"X-Tab\":[\"a\\u0009b\"]}\n"
    );
    // Content-Type replaces the body's own (`+` is a plus sign).
    let r = ask(
        &mut c,
        &get("/-/response-headers?Content-Type=application/ld+json"),
    );
    assert_eq!(r.header("content-type"), Some("application/ld+json"));
    let r = ask(&mut c, &get("/-/response-headers"));
    assert_eq!(r.body_str(), "{}\n");
}

/// Nothing that changes framing, the connection, `Date` or `Server`; no CR, LF or other
/// control byte in a value; a token for a name.
#[test]
fn response_headers_refuse_framing_and_injection() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    for q in [
        "Content-Length=0",
        "content-length=99",
        "Transfer-Encoding=chunked",
        "Connection=close",
        "Upgrade=websocket",
        "Keep-Alive=timeout%3D1",
        "Trailer=X",
        "Date=yesterday",
        "Server=other",
        "X-A=a%0d%0aContent-Length:%200",
        "X-A=a%0aX-Injected:%201",
        "X-A=a%0db",
        "X-A=%00",
        "X-A=%1b[31m",
        "X-A=%7f",
        "X%0d%0aX-Injected=1",
        "X%20A=1",
        "X:A=1",
        "=1",
        "X-A=%zz",
    ] {
        let r = ask(&mut c, &get(&format!("/-/response-headers?{q}")));
        assert_eq!(r.status, 400, "{q}");
        assert!(!r.has_header("x-a") && !r.has_header("x-injected"), "{q}");
        assert!(!r.says_close(), "{q}");
        assert_eq!(r.header_all("date").len(), 1);
        assert_eq!(r.header("server"), Some("spindle"));
    }
}

#[test]
fn response_headers_caps() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let fields = |n: usize| {
        (0..n)
            .map(|i| format!("X-{i}=v"))
            .collect::<Vec<_>>()
            .join("&")
    };
    let r = ask(&mut c, &get(&format!("/-/response-headers?{}", fields(32))));
    assert_eq!(r.status, 200);
    assert!(r.has_header("x-31"));
    let reason = assert_bad(&mut c, &format!("/-/response-headers?{}", fields(33)));
    assert_eq!(reason, "at most 32 header fields\n");
    let ok = format!("/-/response-headers?X-A={}", "a".repeat(4096 - 3));
    assert_eq!(ask(&mut c, &get(&ok)).status, 200);
    let over = format!("/-/response-headers?X-A={}", "a".repeat(4096 - 2));
    assert!(assert_bad(&mut c, &over).starts_with("at most 4096 bytes"));
    let split = format!(
        "/-/response-headers?X-A={}&X-B={}",
        "a".repeat(2000),
        "b".repeat(2100)
    );
    assert!(assert_bad(&mut c, &split).starts_with("at most 4096 bytes"));
}

// ---- /-/cache, /-/etag ----

#[test]
fn cache_control() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let r = ask(&mut c, &get("/-/cache/60"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), Some("public, max-age=60"));
    let r = ask(&mut c, &get("/-/cache/31536000"));
    assert_eq!(r.header("cache-control"), Some("public, max-age=31536000"));
    for bad in ["31536001", "x", "", "-1"] {
        let reason = assert_bad(&mut c, &format!("/-/cache/{bad}"));
        assert_eq!(reason, "SECONDS must be a number from 0 to 31536000\n");
    }
}

#[test]
fn etag_and_its_conditions() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let r = ask(&mut c, &get("/-/etag/v1"));
    assert_eq!((r.status, r.header("etag")), (200, Some("\"v1\"")));
    for (header, status) in [
        ("If-None-Match: \"v1\"", 304),
        ("If-None-Match: W/\"v1\"", 304),
        ("If-None-Match: \"a\", \"v1\"", 304),
        ("If-None-Match: *", 304),
        ("If-None-Match: \"v2\"", 200),
        ("If-None-Match: v1", 200),
        ("If-Match: \"v1\"", 200),
        ("If-Match: *", 200),
        ("If-Match: \"a\", \"v1\"", 200),
        ("If-Match: \"v2\"", 412),
        ("If-Match: W/\"v1\"", 412),
        ("If-Match: junk", 412),
        ("If-Match: \"v2\"\r\nIf-None-Match: \"v1\"", 412),
        ("If-Match: \"v1\"\r\nIf-None-Match: \"v1\"", 304),
    ] {
        let r = ask(&mut c, &get_with("/-/etag/v1", &format!("{header}\r\n")));
        assert_eq!(r.status, status, "{header}");
        assert_eq!(r.header("etag"), Some("\"v1\""), "{header}");
        if status == 304 {
            assert!(r.body.is_empty() && !r.has_header("content-length"));
        }
    }
    let tag = "a".repeat(64);
    let r = ask(&mut c, &get(&format!("/-/etag/{tag}")));
    assert_eq!(r.header("etag"), Some(format!("\"{tag}\"").as_str()));
    for bad in ["", &"a".repeat(65)] {
        assert!(assert_bad(&mut c, &format!("/-/etag/{bad}")).starts_with("TAG must be"));
    }
}

// ---- /-/range/N ----

#[test]
fn range_answers_as_files_do() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let r = ask(&mut c, &get("/-/range/100"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    assert_eq!(r.content_length(), Some(100));
    assert_eq!(r.body, pattern(100));
    let p = pattern(100);
    for (range, start, end) in [
        ("bytes=10-19", 10, 19),
        ("bytes=-5", 95, 99),
        ("bytes=90-", 90, 99),
        ("bytes=0-1000", 0, 99),
        ("bytes=-1000", 0, 99),
        ("bytes=99-99", 99, 99),
    ] {
        let r = ask(
            &mut c,
            &get_with("/-/range/100", &format!("Range: {range}\r\n")),
        );
        assert_eq!(r.status, 206, "{range}");
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes {start}-{end}/100").as_str())
        );
        assert_eq!(r.body, &p[start..=end], "{range}");
        assert_eq!(r.header("accept-ranges"), Some("bytes"));
    }
    for range in ["bytes=100-", "bytes=200-300", "bytes=-0"] {
        let r = ask(
            &mut c,
            &get_with("/-/range/100", &format!("Range: {range}\r\n")),
        );
        assert_eq!(r.status, 416, "{range}");
        assert_eq!(r.header("content-range"), Some("bytes */100"));
    }
    // Several ranges, a bad one, another unit: the whole body, as files answer.
    for range in ["bytes=0-1,5-6", "bytes=5-1", "items=0-1"] {
        let r = ask(
            &mut c,
            &get_with("/-/range/100", &format!("Range: {range}\r\n")),
        );
        assert_eq!(r.status, 200, "{range}");
        assert_eq!(r.body, p);
    }
    // If-Range: the strong tag keeps the range; another tag or a date means the whole body.
    assert_eq!(r.header("etag"), Some("\"range-100\""));
    for (if_range, status) in [
        ("\"range-100\"", 206),
        ("W/\"range-100\"", 200),
        ("\"range-99\"", 200),
        ("Sun, 06 Nov 1994 08:49:37 GMT", 200),
    ] {
        let headers = format!("Range: bytes=1-2\r\nIf-Range: {if_range}\r\n");
        let r = ask(&mut c, &get_with("/-/range/100", &headers));
        assert_eq!(r.status, status, "{if_range}");
    }
    let r = ask(&mut c, &get_with("/-/range/0", "Range: bytes=0-\r\n"));
    assert_eq!(
        (r.status, r.header("content-range")),
        (416, Some("bytes */0"))
    );
}

#[test]
fn range_is_offset_correct_far_in_and_capped() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let n = scaled(3_000_000);
    let (a, b) = (n / 2 + 7, n / 2 + 70_006);
    let r = ask(
        &mut c,
        &get_with(
            &format!("/-/range/{n}"),
            &format!("Range: bytes={a}-{b}\r\n"),
        ),
    );
    assert_eq!(r.status, 206);
    let want: Vec<u8> = (a..=b).map(|i| PATTERN[i % 64]).collect();
    assert!(
        r.body == want,
        "the part differs from the pattern at its offset"
    );
    c.send(
        get_with("/-/range/1073741824", "Range: bytes=1073741823-\r\n")
            .replacen("GET", "HEAD", 1)
            .as_bytes(),
    );
    let r = c.read_head_response();
    assert_eq!(r.status, 206);
    assert_eq!(r.content_length(), Some(1));
    assert_eq!(
        r.header("content-range"),
        Some("bytes 1073741823-1073741823/1073741824")
    );
    for bad in ["1073741825", "x", ""] {
        assert!(assert_bad(&mut c, &format!("/-/range/{bad}")).starts_with("N must be"));
    }
}

// ---- /-/unstable ----

#[test]
fn unstable_fails_its_share_exactly() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let statuses = |c: &mut Client, q: &str, n: usize| -> Vec<u16> {
        (0..n)
            .map(|_| ask(c, &get(&format!("/-/unstable?{q}"))).status)
            .collect()
    };
    // A fresh worker: its first request is number 0.
    assert_eq!(
        statuses(&mut c, "failure_rate=0.5&code=503", 6),
        [200, 503, 200, 503, 200, 503]
    );
    // 6 so far: the next 94 complete the hundred, then a whole hundred at 0.1.
    statuses(&mut c, "failure_rate=0", 94)
        .iter()
        .for_each(|&s| assert_eq!(s, 200));
    let hundred = statuses(&mut c, "failure_rate=0.1", 100);
    assert_eq!(hundred.iter().filter(|&&s| s == 500).count(), 10);
    assert_eq!(hundred[9], 500, "every tenth");
    assert!(hundred[..9].iter().all(|&s| s == 200));
    assert!(statuses(&mut c, "failure_rate=1&code=429", 5)
        .iter()
        .all(|&s| s == 429));
    let r = ask(&mut c, &get("/-/unstable?failure_rate=0"));
    assert_eq!(r.body, b"Hello, World!");
    for bad in ["1.5", "-0.1", "x", "", "%zz"] {
        let reason = assert_bad(&mut c, &format!("/-/unstable?failure_rate={bad}"));
        assert_eq!(reason, "failure_rate must be a number from 0 to 1\n");
    }
    for bad in ["399", "600", "200", "x"] {
        let reason = assert_bad(&mut c, &format!("/-/unstable?failure_rate=1&code={bad}"));
        assert_eq!(reason, "code must be a number from 400 to 599\n");
    }
}

// ---- /-/anything ----

#[test]
fn anything_describes_the_request() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let r = ask(
        &mut c,
        "GET /-/anything/a%20b?x=1&y HTTP/1.1\r\nHost: test\r\nX-Q: \"q\" \\ \t.\r\n\r\n",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.body_str(),
        "{\"method\":\"GET\",\"target\":\"/-/anything/a%20b?x=1&y\",\"headers\":\
         [[\"Host\",\"test\"],[\"X-Q\",\"\\\"q\\\" \\\\ \\u0009.\"]],\"body_length\":0}\n"
    );
    // Bytes that are not UTF-8 become \ufffd; the document stays valid UTF-8.
    let mut raw = b"GET /-/anything HTTP/1.1\r\nHost: test\r\nX-B: a\xffb\r\n\r\n".to_vec();
    let r = c.request(&raw);
    assert!(
        r.body_str().contains("[\"X-B\",\"a\\ufffdb\"]"),
        "{}",
        r.body_str()
    );
    raw.clear();
    // Any method; the body is counted, Content-Length or chunked.
    let r = ask(
        &mut c,
        &String::from_utf8(post("/-/anything", "a/b", b"hello")).unwrap(),
    );
    assert!(r.body_str().starts_with("{\"method\":\"POST\""));
    assert!(r.body_str().ends_with(",\"body_length\":5}\n"));
    let chunked = "PUT /-/anything HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n\
                   3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n";
    assert!(ask(&mut c, chunked)
        .body_str()
        .ends_with("\"body_length\":7}\n"));
    let delete = "DELETE /-/anything/x HTTP/1.1\r\nHost: test\r\n\r\n";
    assert!(ask(&mut c, delete)
        .body_str()
        .starts_with("{\"method\":\"DELETE\""));
}

#[test]
fn anything_body_is_bounded_by_max_body() {
    let srv = TestServer::with(|c| c.max_body = 10);
    let mut c = srv.connect();
    let r = c.request(&post("/-/anything", "a/b", &[b'x'; 11]));
    assert_eq!(r.status, 413);
    let mut c = srv.connect();
    let r = ask(
        &mut c,
        &String::from_utf8(post("/-/anything", "a/b", &[b'x'; 10])).unwrap(),
    );
    assert!(r.body_str().ends_with("\"body_length\":10}\n"));
}

// ---- /-/worker ----

#[test]
fn worker_says_who_answered() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let r = ask(&mut c, &get("/-/worker"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.body_str(),
        "{\"worker\":1,\"connections_open\":1,\"connections_total\":1}\n"
    );
    let mut d = srv.connect();
    let r = ask(&mut d, &get("/-/worker"));
    assert_eq!(
        r.body_str(),
        "{\"worker\":1,\"connections_open\":2,\"connections_total\":2}\n"
    );
}

#[test]
fn worker_numbers_match_the_stats() {
    let srv = TestServer::with(|c| c.workers = 2);
    let mut seen = [false; 2];
    for _ in 0..40 {
        let mut c = srv.connect();
        let body = ask(&mut c, &get("/-/worker")).body_str();
        let w: usize = body["{\"worker\":".len()..body.find(',').unwrap()]
            .parse()
            .unwrap();
        assert!((1..=2).contains(&w), "{body}");
        seen[w - 1] = true;
    }
    assert_eq!(seen, [true, true], "40 connections all on one of 2 workers");
}

// ---- /-/ ----

#[test]
fn index_lists_every_endpoint_and_each_example_answers() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let html = ask(&mut c, &get("/-/"));
    assert_eq!(html.status, 200);
    assert_eq!(
        html.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = html.body_str();
    let json = ask(&mut c, &get_with("/-/", "Accept: application/json\r\n"));
    assert_eq!(json.header("content-type"), Some("application/json"));
    let json = json.body_str();
    assert!(json.starts_with('[') && json.ends_with("]\n"));
    let examples: Vec<&str> = json
        .split("\"example\":\"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    for name in [
        "plaintext",
        "json",
        "bytes",
        "stream",
        "delay",
        "status",
        "echo",
        "stats",
        "health",
        "redirect",
        "redirect-to",
        "response-headers",
        "cache",
        "etag",
        "range",
        "unstable",
        "anything",
        "worker",
    ] {
        let prefix = format!("/-/{name}");
        assert!(
            examples.iter().any(|e| e
                .strip_prefix(&prefix)
                .is_some_and(|r| r.is_empty() || r.starts_with(['/', '?']))),
            "{name} is not listed"
        );
    }
    for e in examples {
        assert!(
            html.contains(&format!("href=\"{}\"", e.replace('&', "&amp;"))),
            "{e}"
        );
        if e != "/-/echo" {
            let r = ask(&mut c, &get(e));
            assert!((200..400).contains(&r.status), "{e}: {}", r.status);
        }
    }
    let r = ask(
        &mut c,
        &String::from_utf8(post("/-/", "a/b", b"x")).unwrap(),
    );
    assert_eq!(r.status, 405);
}

// ---- all of them ----

const EVERY_NEW: &[&str] = &[
    "/-/",
    "/-/bytes/100?chunk=10",
    "/-/redirect/2",
    "/-/redirect-to?url=/x",
    "/-/response-headers?X-A=1",
    "/-/cache/10",
    "/-/etag/x",
    "/-/range/100",
    "/-/unstable?failure_rate=0",
    "/-/anything",
    "/-/worker",
];

#[test]
fn head_answers_like_get_without_a_body() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    for path in EVERY_NEW
        .iter()
        .chain(&["/-/range/100?", "/-/redirect-to?url=//x"])
    {
        let g = ask(&mut c, &get(path));
        c.send(head(path).as_bytes());
        let h = c.read_head_response();
        h.assert_framed();
        assert_eq!(h.status, g.status, "{path}");
        for name in [
            "content-type",
            "content-length",
            "transfer-encoding",
            "location",
            "etag",
        ] {
            // /-/anything's body names the method: one byte longer for HEAD.
            if name != "content-length" || !path.starts_with("/-/anything") {
                assert_eq!(h.header(name), g.header(name), "{path}: {name}");
            }
        }
        let next = c.request(get("/-/plaintext").as_bytes());
        assert_eq!(next.body, b"Hello, World!", "after HEAD {path}");
    }
    // HEAD with a range.
    c.send(b"HEAD /-/range/100 HTTP/1.1\r\nHost: t\r\nRange: bytes=1-2\r\n\r\n");
    let h = c.read_head_response();
    assert_eq!((h.status, h.content_length()), (206, Some(2)));
    assert_eq!(ask(&mut c, &get("/-/plaintext")).status, 200);
}

#[test]
fn other_methods_get_405_but_anything_takes_all() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    for path in EVERY_NEW.iter().filter(|p| **p != "/-/anything") {
        let r = ask(&mut c, &String::from_utf8(post(path, "a/b", b"x")).unwrap());
        assert_eq!(r.status, 405, "{path}");
        assert_eq!(r.header("allow"), Some("GET, HEAD"));
    }
}

#[test]
fn turned_off_with_no_builtins() {
    let srv = TestServer::with(|c| c.builtins = false);
    let mut c = srv.connect();
    for path in EVERY_NEW {
        let r = c.request(get(path).as_bytes());
        assert_eq!(r.status, 404, "{path}");
    }
}
