//! The basics of every response (SPEC §3): Server, Date, framing, persistence rules for 1.0 and
//! 1.1, HEAD, request-target forms, version handling, and IPv6 listeners.

mod common;

use common::*;

#[test]
fn plaintext_exact_response() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let r = c.request(get("/-/plaintext").as_bytes());
    r.assert_framed();
    assert_eq!(r.status, 200);
    assert_eq!(r.reason, "OK");
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(r.header("content-length"), Some("13"));
    assert_eq!(r.body, b"Hello, World!");
    assert!(!r.has_header("transfer-encoding"));
    // HTTP/1.1 keep-alive is the default: no `Connection: close`.
    assert!(!r.says_close(), "{:?}", r.headers);
    // Nothing follows the body.
    assert!(c.buffered().is_empty());
}

#[test]
fn every_response_has_server_and_date() {
    let srv = TestServer::start();
    for path in [
        "/-/plaintext",
        "/-/json",
        "/-/bytes/10",
        "/-/stream/3",
        "/-/status/201",
        "/-/status/500",
        "/-/nope",
        "/no-such-file-here",
        "/-/stats",
    ] {
        let r = srv.get(path);
        r.assert_framed();
        assert_eq!(r.header_all("server"), vec!["spindle"], "{path}");
        assert_eq!(r.header_all("date").len(), 1, "{path}");
    }
}

#[test]
fn keep_alive_http11_serves_many_requests_on_one_connection() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    for i in 0..20 {
        let path = format!("/-/bytes/{i}");
        let r = c.request(get(&path).as_bytes());
        assert_eq!(r.status, 200);
        assert_eq!(r.body, pattern(i));
        assert!(!r.says_close());
    }
}

#[test]
fn http11_connection_close_is_honoured() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(b"GET /-/plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let r = c.read_response();
    r.assert_framed();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.body, b"Hello, World!");
    c.assert_closed();
}

#[test]
fn http11_connection_close_among_other_tokens() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(b"GET /-/plaintext HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, CLOSE\r\n\r\n");
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert!(r.says_close());
    c.assert_closed();
}

#[test]
fn http10_without_keep_alive_closes() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(b"GET /-/plaintext HTTP/1.0\r\n\r\n");
    let r = c.read_response();
    r.assert_framed();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.body, b"Hello, World!");
    c.assert_closed();
}

#[test]
fn http10_with_keep_alive_stays_open() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    for _ in 0..3 {
        c.send(b"GET /-/json HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        let r = c.read_response();
        r.assert_framed();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("connection"), Some("keep-alive"));
        assert_eq!(r.body, br#"{"message":"Hello, World!"}"#);
    }
    // Without the token the last one closes.
    c.send(b"GET /-/json HTTP/1.0\r\n\r\n");
    let r = c.read_response();
    assert_eq!(r.header("connection"), Some("close"));
    c.assert_closed();
}

#[test]
fn http10_host_is_optional() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(b"GET /-/plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(c.read_response().status, 200);
}

#[test]
fn higher_minor_version_is_answered_as_11() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let r = c.request(b"GET /-/plaintext HTTP/1.2\r\nHost: x\r\n\r\n");
    r.assert_framed();
    assert_eq!(r.status, 200);
    assert_eq!(r.version, "HTTP/1.1");
    assert_eq!(r.body, b"Hello, World!");
    assert!(!r.says_close());
    // Kept alive as 1.1 would be.
    let r = c.request(b"GET /-/plaintext HTTP/1.9\r\nHost: x\r\n\r\n");
    assert_eq!(r.status, 200);
    // ... and streamed bodies are chunked for it, as for 1.1.
    let r = c.request(b"GET /-/stream/2 HTTP/1.2\r\nHost: x\r\n\r\n");
    assert!(r.is_chunked());
    assert_eq!(r.body, b"{\"chunk\":0}\n{\"chunk\":1}\n");
}

#[test]
fn absolute_form_target() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let r = c.request(b"GET http://x/-/plaintext HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"Hello, World!");
    let r = c.request(b"GET http://example.com:8080/-/bytes/5?q=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"ABCDE");
}

#[test]
fn query_string_is_ignored_for_routing() {
    let srv = TestServer::start();
    let r = srv.get("/-/plaintext?a=b&c");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"Hello, World!");
}

#[test]
fn leading_empty_lines_are_ignored() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let r = c.request(b"\r\nGET /-/plaintext HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"Hello, World!");
    // Also between pipelined requests, and as bare LF.
    c.send(b"GET /-/bytes/3 HTTP/1.1\r\nHost: x\r\n\r\n\r\n\nGET /-/bytes/4 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(c.read_response().body, b"ABC");
    assert_eq!(c.read_response().body, b"ABCD");
}

#[test]
fn head_gets_get_headers_and_no_body() {
    let srv = TestServer::start();
    for path in ["/-/plaintext", "/-/json", "/-/bytes/1000", "/-/stats"] {
        let mut c = srv.connect();
        let g = c.request(get(path).as_bytes());
        c.send(head(path).as_bytes());
        let h = c.read_head_response();
        h.assert_framed();
        assert_eq!(h.status, g.status, "{path}");
        assert_eq!(h.header("content-type"), g.header("content-type"), "{path}");
        if path != "/-/stats" {
            assert_eq!(
                h.header("content-length"),
                g.header("content-length"),
                "{path}"
            );
        } else {
            assert!(h.has_header("content-length"));
        }
        // No body: the next response starts right away.
        let r = c.request(get("/-/plaintext").as_bytes());
        assert_eq!(r.status, 200, "{path}: out of sync after HEAD");
        assert_eq!(r.body, b"Hello, World!");
        assert!(c.buffered().is_empty());
    }
}

#[test]
fn head_of_streamed_body_has_no_body() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(head("/-/stream/5").as_bytes());
    let h = c.read_head_response();
    h.assert_framed();
    assert_eq!(h.status, 200);
    assert!(h.is_chunked());
    let r = c.request(get("/-/plaintext").as_bytes());
    assert_eq!(r.status, 200, "out of sync after HEAD of a stream");
    assert_eq!(r.body, b"Hello, World!");
}

#[test]
fn head_of_huge_bytes_sends_nothing() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(head("/-/bytes/1073741824").as_bytes());
    let h = c.read_head_response();
    assert_eq!(h.status, 200);
    assert_eq!(h.header("content-length"), Some("1073741824"));
    let r = c.request(get("/-/json").as_bytes());
    assert_eq!(r.body, br#"{"message":"Hello, World!"}"#);
}

#[test]
fn header_names_are_case_insensitive() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let r = c.request(b"GET /-/plaintext HTTP/1.1\r\nhOsT: x\r\nCONNECTION: CLOSE\r\n\r\n");
    assert_eq!(r.status, 200);
    assert!(r.says_close());
    c.assert_closed();
}

#[test]
fn bare_lf_line_endings_in_head_are_accepted() {
    // RFC 9112 §2.2 lets a recipient accept a bare LF as a line terminator in the head.
    let srv = TestServer::start();
    let mut c = srv.connect();
    let r = c.request(b"GET /-/plaintext HTTP/1.1\nHost: x\n\n");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"Hello, World!");
}

#[test]
fn ipv6_loopback() {
    let srv = match TestServer::try_with(|c| c.binds = vec!["[::1]:0".parse().unwrap()]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("skipping: cannot bind [::1]:0 ({e})");
            return;
        }
    };
    assert!(srv.addr.is_ipv6());
    let r = srv.get("/-/plaintext");
    r.assert_framed();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"Hello, World!");
}

#[test]
fn two_listeners_both_serve() {
    let srv = TestServer::with(|c| {
        c.binds = vec![
            "127.0.0.1:0".parse().unwrap(),
            "127.0.0.1:0".parse().unwrap(),
        ]
    });
    assert_eq!(srv.addrs.len(), 2);
    assert_ne!(srv.addrs[0], srv.addrs[1]);
    for addr in srv.addrs.clone() {
        let mut c = Client::connect(addr);
        let r = c.request(get("/-/plaintext").as_bytes());
        assert_eq!(r.status, 200);
    }
}

#[test]
fn date_header_is_current() {
    let srv = TestServer::start();
    let r = srv.get("/-/plaintext");
    let d = r.header("date").unwrap().to_string();
    // The year matches the system clock's (good enough without a date crate).
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let year = 1970 + secs / 31_556_952;
    let got: u64 = d[12..16].parse().unwrap();
    assert!(got == year || got + 1 == year || got == year + 1, "{d}");
}

#[test]
fn http10_keep_alive_across_statuses_and_head() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(b"GET /-/nope HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    let r = c.read_response();
    assert_eq!(r.status, 404);
    assert_eq!(r.header("connection"), Some("keep-alive"));
    c.send(b"HEAD /-/bytes/10 HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    let r = c.read_head_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.content_length(), Some(10));
    assert_eq!(r.header("connection"), Some("keep-alive"));
    c.send(b"GET /-/status/204 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    let r = c.read_response();
    assert_eq!(r.status, 204);
    assert_eq!(r.header("connection"), Some("keep-alive"));
    c.send(b"POST /-/echo HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok");
    let r = c.read_response();
    assert_eq!(r.body, b"ok");
    assert_eq!(r.header("connection"), Some("keep-alive"));
    assert_eq!(
        c.request(b"GET /-/plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .body,
        b"Hello, World!"
    );
}

#[test]
fn options_asterisk_lists_what_the_server_supports() {
    for (builtins, write, allow) in [
        (true, false, "GET, HEAD, OPTIONS, POST, PUT"),
        (false, false, "GET, HEAD, OPTIONS"),
        (false, true, "GET, HEAD, OPTIONS, POST, PUT, DELETE"),
        (true, true, "GET, HEAD, OPTIONS, POST, PUT, DELETE"),
    ] {
        let srv = TestServer::with(|c| {
            c.builtins = builtins;
            c.allow_write = write;
        });
        let mut c = srv.connect();
        let r = c.request(b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
        r.assert_framed();
        assert_eq!(r.status, 200, "builtins {builtins}, write {write}");
        assert_eq!(r.header("allow"), Some(allow));
        assert_eq!(r.header("content-length"), Some("0"));
        assert!(r.body.is_empty());
        assert!(!r.says_close());
        // Kept alive, and HTTP/1.0 without Host too.
        assert_eq!(
            c.request(get("/-/bytes/2").as_bytes()).status,
            if builtins { 200 } else { 404 }
        );
        let mut c = srv.connect();
        let r = c.request(b"OPTIONS * HTTP/1.0\r\n\r\n");
        assert_eq!((r.status, r.header("allow")), (200, Some(allow)));
    }
}

#[test]
fn asterisk_is_only_for_options() {
    let srv = TestServer::start();
    for m in ["GET", "HEAD", "POST", "PUT", "DELETE"] {
        let mut c = srv.connect();
        let req = format!("{m} * HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        c.send(req.as_bytes());
        let r = c.read_response_for(m == "HEAD");
        assert_eq!(r.status, 400, "{m} *");
    }
}

#[test]
fn options_on_a_path_is_405_with_allow() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let r = c.request(b"OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
}
