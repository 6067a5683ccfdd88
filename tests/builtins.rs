//! The canned endpoints under `/-/` (SPEC §5), byte-exact, and their error answers.

mod common;

use std::time::{Duration, Instant};

use common::*;

#[test]
fn plaintext() {
    let srv = TestServer::start();
    let r = srv.get("/-/plaintext");
    r.assert_framed();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(r.content_length(), Some(13));
    assert_eq!(r.body, b"Hello, World!");
}

#[test]
fn json() {
    let srv = TestServer::start();
    let r = srv.get("/-/json");
    r.assert_framed();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.content_length(), Some(27));
    assert_eq!(r.body, br#"{"message":"Hello, World!"}"#);
}

#[test]
fn bytes_are_the_documented_pattern() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    for n in [0usize, 1, 63, 64, 65, 1000, 65_536, 300_001] {
        let r = c.request(get(&format!("/-/bytes/{n}")).as_bytes());
        r.assert_framed();
        assert_eq!(r.status, 200, "n={n}");
        assert_eq!(r.content_length(), Some(n as u64), "n={n}");
        assert!(!r.is_chunked());
        assert_eq!(r.body.len(), n);
        assert!(r.body == pattern(n), "n={n}: body differs from the pattern");
    }
}

#[test]
fn bytes_pattern_literal() {
    let srv = TestServer::start();
    let r = srv.get("/-/bytes/70");
    assert_eq!(
        r.body,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/ABCDEF"
    );
}

#[test]
fn bytes_limits() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(head("/-/bytes/1073741824").as_bytes());
    let r = c.read_head_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.content_length(), Some(1 << 30));
    for bad in [
        "/-/bytes/1073741825",
        "/-/bytes/-1",
        "/-/bytes/x",
        "/-/bytes/",
        "/-/bytes/99999999999",
    ] {
        let r = srv.get(bad);
        r.assert_framed();
        assert_eq!(r.status, 400, "{bad}");
        assert!(
            r.body_str().starts_with("N must be a whole number"),
            "{bad}"
        );
    }
}

#[test]
fn bytes_without_argument_is_404() {
    let srv = TestServer::start();
    assert_eq!(srv.get("/-/bytes").status, 404);
}

#[test]
fn stream_is_chunked_one_line_per_chunk() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    for n in [0usize, 1, 5, 300] {
        let r = c.request(get(&format!("/-/stream/{n}")).as_bytes());
        r.assert_framed();
        assert_eq!(r.status, 200);
        assert!(r.is_chunked(), "n={n}");
        assert!(!r.has_header("content-length"));
        assert!(!r.says_close());
        assert_eq!(r.chunks.len(), n, "n={n}: chunk count");
        for (i, chunk) in r.chunks.iter().enumerate() {
            assert_eq!(
                String::from_utf8_lossy(chunk),
                format!("{{\"chunk\":{i}}}\n"),
                "chunk {i}"
            );
        }
    }
    // The connection is still in sync afterwards.
    assert_eq!(c.request(get("/-/plaintext").as_bytes()).status, 200);
}

#[test]
fn stream_exact_wire_bytes() {
    let srv = TestServer::start();
    let r = srv.get("/-/stream/2");
    assert_eq!(
        r.raw_chunked.as_deref(),
        Some(&b"c\r\n{\"chunk\":0}\n\r\nc\r\n{\"chunk\":1}\n\r\n0\r\n\r\n"[..])
    );
}

#[test]
fn stream_http10_is_close_delimited() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(b"GET /-/stream/3 HTTP/1.0\r\n\r\n");
    let r = c.read_response();
    r.assert_common();
    assert_eq!(r.status, 200);
    assert!(!r.has_header("transfer-encoding"), "{:?}", r.headers);
    assert!(!r.has_header("content-length"));
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.body, b"{\"chunk\":0}\n{\"chunk\":1}\n{\"chunk\":2}\n");
}

#[test]
fn stream_http10_keep_alive_still_closes() {
    // A 1.0 client never gets chunked, so an unknown length must end with the close even if
    // the client asked to keep the connection.
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(b"GET /-/stream/2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    let r = c.read_response();
    assert!(!r.has_header("transfer-encoding"));
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.body, b"{\"chunk\":0}\n{\"chunk\":1}\n");
}

#[test]
fn stream_limits() {
    let srv = TestServer::start();
    for bad in ["/-/stream/100001", "/-/stream/abc", "/-/stream/"] {
        let r = srv.get(bad);
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(
            r.body_str(),
            "N must be a whole number from 0 to 100000\n",
            "{bad}"
        );
    }
}

#[test]
fn delay_waits_then_answers() {
    let srv = TestServer::start();
    let t = Instant::now();
    let r = srv.get("/-/delay/300");
    let took = t.elapsed();
    r.assert_framed();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"Hello, World!");
    assert!(
        took >= Duration::from_millis(300),
        "answered after {took:?}"
    );
    assert!(
        took < Duration::from_millis(1500),
        "answered after {took:?}"
    );
}

#[test]
fn delay_zero_and_keep_alive() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    for ms in [0, 10, 50] {
        let r = c.request(get(&format!("/-/delay/{ms}")).as_bytes());
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"Hello, World!");
        assert!(!r.says_close());
    }
}

#[test]
fn delay_limits() {
    let srv = TestServer::start();
    let t = Instant::now();
    for bad in ["/-/delay/60001", "/-/delay/-5", "/-/delay/1.5", "/-/delay/"] {
        let r = srv.get(bad);
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(
            r.body_str(),
            "MS must be a whole number from 0 to 60000\n",
            "{bad}"
        );
    }
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[test]
fn delay_max_is_accepted() {
    // 60000 is allowed: it must not answer 400 straight away. Check nothing arrives soon.
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(get("/-/delay/60000").as_bytes());
    c.assert_silent_for(Duration::from_millis(300));
}

#[test]
fn status_any_code_any_method() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    for (method, code) in [
        ("GET", 200u16),
        ("GET", 201),
        ("POST", 202),
        ("PUT", 299),
        ("DELETE", 301),
        ("OPTIONS", 404),
        ("PATCH", 418),
        ("GET", 500),
        ("TRACE", 503),
        ("GET", 599),
    ] {
        c.send(format!("{method} /-/status/{code} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        let r = c.read_response();
        r.assert_framed();
        assert_eq!(r.status, code, "{method} {code}");
        assert_eq!(r.content_length(), Some(0), "{method} {code}");
        assert!(r.body.is_empty());
        assert!(!r.says_close(), "{method} {code}");
    }
    // HEAD too.
    c.send(head("/-/status/202").as_bytes());
    let r = c.read_head_response();
    assert_eq!(r.status, 202);
    assert_eq!(r.content_length(), Some(0));
    assert_eq!(
        c.request(get("/-/plaintext").as_bytes()).body,
        b"Hello, World!"
    );
}

#[test]
fn status_204_and_304_have_no_length() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    for code in [204u16, 304] {
        let r = c.request(get(&format!("/-/status/{code}")).as_bytes());
        r.assert_common();
        assert_eq!(r.status, code);
        assert!(!r.has_header("content-length"), "{code}: {:?}", r.headers);
        assert!(!r.has_header("transfer-encoding"));
        // No body bytes either: the next response follows directly.
        let r = c.request(get("/-/bytes/2").as_bytes());
        assert_eq!(r.status, 200, "out of sync after {code}");
        assert_eq!(r.body, b"AB");
    }
}

#[test]
fn status_out_of_range_is_400() {
    let srv = TestServer::start();
    for bad in [
        "/-/status/199",
        "/-/status/100",
        "/-/status/600",
        "/-/status/0",
        "/-/status/abc",
        "/-/status/",
        "/-/status/2000",
    ] {
        let r = srv.get(bad);
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(
            r.body_str(),
            "CODE must be a status from 200 to 599\n",
            "{bad}"
        );
    }
}

#[test]
fn echo_post_and_put() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let r = c.request(&post("/-/echo", "application/x-test; a=b", b"hello echo"));
    r.assert_framed();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/x-test; a=b"));
    assert_eq!(r.content_length(), Some(10));
    assert_eq!(r.body, b"hello echo");
    c.send(b"PUT /-/echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 3\r\n\r\na,b");
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/csv"));
    assert_eq!(r.body, b"a,b");
}

#[test]
fn echo_empty_body() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let r = c.request(&post("/-/echo", "text/plain", b""));
    assert_eq!(r.status, 200);
    assert_eq!(r.content_length(), Some(0));
    // No body headers at all.
    let r = c.request(b"POST /-/echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(r.content_length(), Some(0));
}

#[test]
fn echo_binary_body() {
    let srv = TestServer::start();
    let body: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let mut c = srv.connect();
    let r = c.request(&post("/-/echo", "application/octet-stream", &body));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, body);
}

#[test]
fn echo_wrong_method_is_405() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    for m in ["GET", "DELETE", "PATCH"] {
        c.send(format!("{m} /-/echo HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        let r = c.read_response();
        r.assert_framed();
        assert_eq!(r.status, 405, "{m}");
        assert_eq!(r.header("allow"), Some("POST, PUT"), "{m}");
    }
    c.send(head("/-/echo").as_bytes());
    let r = c.read_head_response();
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST, PUT"));
}

#[test]
fn get_only_endpoints_refuse_other_methods() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    for path in [
        "/-/plaintext",
        "/-/json",
        "/-/bytes/5",
        "/-/stream/5",
        "/-/delay/5",
        "/-/stats",
    ] {
        for m in ["POST", "PUT", "DELETE"] {
            c.send(
                format!("{m} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").as_bytes(),
            );
            let r = c.read_response();
            r.assert_framed();
            assert_eq!(r.status, 405, "{m} {path}");
            assert_eq!(r.header("allow"), Some("GET, HEAD"), "{m} {path}");
        }
    }
}

#[test]
fn unknown_builtin_is_404() {
    let srv = TestServer::start();
    for path in [
        "/-/x",
        "/-//x", // `/-/` itself is the index (tests/builtins_more.rs)
        "/-/plaintext/extra",
        "/-/worker/1",
        "/-/unstable/x",
        "/-/redirect",
        "/-/PLAINTEXT",
        "/-/json/1",
        "/-/stats/x",
    ] {
        let r = srv.get(path);
        r.assert_framed();
        assert_eq!(r.status, 404, "{path}");
    }
}

#[test]
fn outside_builtins_is_404() {
    let srv = TestServer::start();
    for path in [
        "/no-such-file-spindle-test",
        "/-plaintext",
        "/x/-/plaintext",
    ] {
        assert_eq!(srv.get(path).status, 404, "{path}");
    }
}

#[test]
fn builtins_can_be_turned_off() {
    let srv = TestServer::with(|c| c.builtins = false);
    for path in ["/-/plaintext", "/-/json", "/-/stats", "/-/bytes/10"] {
        let r = srv.get(path);
        r.assert_framed();
        assert_eq!(r.status, 404, "{path}");
    }
    let mut c = srv.connect();
    let r = c.request(&post("/-/echo", "text/plain", b"abc"));
    assert_ne!(r.status, 200);
    assert_ne!(r.body, b"abc");
}

#[test]
fn stats_shape() {
    let srv = TestServer::start();
    let r = srv.get("/-/stats");
    r.assert_framed();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let s = Stats::parse(&r.body_str());
    for key in [
        "uptime_s",
        "connections_open",
        "connections_total",
        "requests_total",
        "bytes_in",
        "bytes_out",
        "timeouts",
        "refused",
    ] {
        assert!(s.get(key).is_some(), "missing {key} in {}", r.body_str());
    }
    assert!(r.body_str().contains("\"status\":{"), "{}", r.body_str());
    // This very connection is open.
    assert!(s.count("connections_open") >= 1);
    assert!(s.count("connections_total") >= 1);
}

#[test]
fn stats_count_requests_and_statuses() {
    let srv = TestServer::start();
    let before = srv.stats();
    const N: u64 = 25;
    let mut c = srv.connect();
    for _ in 0..N {
        assert_eq!(c.request(get("/-/plaintext").as_bytes()).status, 200);
    }
    for _ in 0..3 {
        assert_eq!(c.request(get("/-/status/418").as_bytes()).status, 418);
    }
    drop(c);
    let after = srv.stats();
    assert!(
        after.count("requests_total") >= before.count("requests_total") + N + 3,
        "{before:?} -> {after:?}"
    );
    assert!(after.count("status.200") >= before.count("status.200") + N);
    assert_eq!(after.count("status.418"), before.count("status.418") + 3);
    // stats itself is one connection each, plus ours.
    assert!(after.count("connections_total") >= before.count("connections_total") + 2);
    assert!(after.count("bytes_in") > before.count("bytes_in"));
    assert!(after.count("bytes_out") > before.count("bytes_out") + N * 13);
}

#[test]
fn stats_connections_open_drops_after_close() {
    let srv = TestServer::start();
    let mut conns: Vec<Client> = (0..5).map(|_| srv.connect()).collect();
    for c in &mut conns {
        assert_eq!(c.request(get("/-/plaintext").as_bytes()).status, 200);
    }
    let open = srv.stats().count("connections_open");
    assert!(open >= 6, "connections_open {open} with 6 open");
    drop(conns);
    // The server notices the closes shortly.
    let now = std::cell::Cell::new(open);
    eventually(
        Duration::from_secs(2),
        || format!("connections_open stuck at {}", now.get()),
        || {
            now.set(srv.stats().count("connections_open"));
            now.get() <= 1
        },
    );
}

#[test]
fn unknown_builtin_is_404_for_every_method() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    for m in ["POST", "PUT", "DELETE"] {
        c.send(format!("{m} /-/nope HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").as_bytes());
        let r = c.read_response();
        assert_eq!(r.status, 404, "{m} /-/nope");
        assert!(!r.has_header("allow"), "{m} /-/nope: {:?}", r.headers);
    }
}

#[test]
fn stats_are_exact_on_a_fresh_server() {
    let srv = TestServer::start();
    let req = b"GET /-/bytes/100 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let mut c = srv.connect();
    c.send(req);
    let r = c.read_response();
    assert_eq!(r.status, 200);
    let written = r.raw_head.len() + r.body.len();
    c.assert_closed();
    let mut n404 = srv.connect();
    for _ in 0..3 {
        assert_eq!(n404.request(get("/-/nope").as_bytes()).status, 404);
    }
    let r404 = n404.request(get("/-/nope").as_bytes());
    drop(n404);
    let stats_req = b"GET /-/stats HTTP/1.0\r\n\r\n";
    let mut s = srv.connect();
    s.send(stats_req);
    let body = s.read_response().body_str();
    let st = Stats::parse(&body);
    assert_eq!(st.count("connections_total"), 3, "{body}");
    assert_eq!(st.count("status.200"), 1, "{body}");
    assert_eq!(st.count("status.404"), 4, "{body}");
    assert!(
        (5..=6).contains(&st.count("requests_total")),
        "requests_total: {body}"
    );
    let in_404 = 4 * get("/-/nope").len();
    assert_eq!(
        st.count("bytes_in") as usize,
        req.len() + in_404 + stats_req.len(),
        "bytes_in: {body}"
    );
    let out_404 = 4 * (r404.raw_head.len() + r404.body.len());
    assert_eq!(
        st.count("bytes_out") as usize,
        written + out_404,
        "bytes_out: {body}"
    );
    assert_eq!(st.count("timeouts"), 0);
    assert_eq!(st.count("refused"), 0);
}

#[test]
fn stream_at_its_maximum() {
    let srv = TestServer::start();
    let r = srv.get("/-/stream/100000");
    assert_eq!(r.status, 200);
    assert_eq!(r.chunks.len(), 100_000);
    assert_eq!(r.chunks[0], b"{\"chunk\":0}\n");
    assert_eq!(r.chunks[99_999], b"{\"chunk\":99999}\n");
}

#[test]
fn health_is_200_while_serving_even_without_the_built_ins() {
    for builtins in [true, false] {
        let srv = TestServer::with(|c| c.builtins = builtins);
        let r = srv.get("/-/health");
        r.assert_framed();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"ok\n"[..]));
        let mut c = srv.connect();
        let r = c.request(b"POST /-/health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(r.status, 405);
        assert_eq!(r.header("allow"), Some("GET, HEAD"));
        if !builtins {
            assert_eq!(srv.get("/-/plaintext").status, 404, "the others are off");
        }
    }
}

#[test]
fn health_is_503_once_a_shutdown_begins() {
    let srv = TestServer::start();
    // A head still arriving when the drain starts is answered, and says so.
    let mut c = srv.connect();
    c.send(b"GET /-/health HTTP/1.1\r\nHost: x\r\n");
    std::thread::sleep(Duration::from_millis(100));
    srv.begin_shutdown();
    std::thread::sleep(Duration::from_millis(100));
    c.send(b"\r\n");
    let r = c.read_response();
    assert_eq!((r.status, r.body.as_slice()), (503, &b"draining\n"[..]));
    assert!(r.says_close(), "the last answer of a draining connection");
}
