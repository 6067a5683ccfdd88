//! `--header` and `--cors` on every kind of response — a cached file, a file sent with
//! `sendfile`, a 206, a 304, a listing, a chunked `/-/stream`, a `/-/delay`, and the errors
//! the connection makes itself (400, 408, 413, 431) — because they are added where every head
//! is encoded, not by one handler; `--header`s refused at start-up (exit 2); CORS preflights,
//! odd ones too.

mod common;

use std::time::Duration;

use common::{get, Client, Response, ScratchDir, TestServer};

const LARGE: usize = 1 << 20; // over the file cache's limit: sent with sendfile

fn server(cors: bool) -> (TestServer, ScratchDir) {
    let dir = ScratchDir::new("headers-cors");
    dir.write("small.txt", "small");
    dir.write("large.bin", vec![b'L'; LARGE]);
    dir.mkdir("sub");
    dir.write("sub/a.txt", "a");
    let root = dir.path().to_owned();
    let srv = TestServer::with(move |c| {
        c.root = root;
        c.headers = vec![
            ("X-Frame-Options".into(), "DENY".into()),
            ("Cache-Control".into(), "no-store".into()),
        ];
        c.cors = cors;
        c.request_timeout = Duration::from_millis(500);
        c.max_body = 1000;
    });
    (srv, dir)
}

/// Every one of the added lines, once each.
fn assert_added(r: &Response, cors: bool, what: &str) {
    assert_eq!(r.header_all("x-frame-options"), ["DENY"], "{what}");
    assert_eq!(r.header_all("cache-control"), ["no-store"], "{what}");
    let allow_origin = r.header_all("access-control-allow-origin");
    match cors {
        true => {
            assert_eq!(allow_origin, ["*"], "{what}");
            let expose = r
                .header("access-control-expose-headers")
                .unwrap_or_default();
            assert!(
                expose.contains("ETag") && expose.contains("X-Frame-Options"),
                "{what}"
            );
        }
        false => assert!(allow_origin.is_empty(), "{what}"),
    }
}

/// Each kind of response, its status checked, from a fresh connection each.
fn every_kind(srv: &TestServer) -> Vec<(&'static str, Response)> {
    let mut out = Vec::new();
    let mut ask = |what: &'static str, req: &[u8], status: u16| {
        let mut c = srv.connect();
        c.send(req);
        let r = c.read_response();
        assert_eq!(r.status, status, "{what}");
        out.push((what, r));
    };
    ask("cached file", get("/small.txt").as_bytes(), 200);
    ask("cached file again", get("/small.txt").as_bytes(), 200);
    ask("sendfile file", get("/large.bin").as_bytes(), 200);
    ask(
        "range",
        b"GET /large.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\n\r\n",
        206,
    );
    let etag = srv.get("/small.txt").header("etag").unwrap().to_owned();
    let conditional =
        format!("GET /small.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: {etag}\r\n\r\n");
    ask("304", conditional.as_bytes(), 304);
    ask("listing", get("/sub/").as_bytes(), 200);
    ask("redirect", get("/sub").as_bytes(), 301);
    ask("chunked stream", get("/-/stream/3").as_bytes(), 200);
    ask("delay", get("/-/delay/20").as_bytes(), 200);
    ask("plaintext", get("/-/plaintext").as_bytes(), 200);
    ask("404", get("/nope").as_bytes(), 404);
    ask("400 of the parser", b"NOT HTTP\r\n\r\n", 400);
    let huge = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "b".repeat(40_000)
    );
    ask("431 of the parser", huge.as_bytes(), 431);
    ask(
        "413 of the connection",
        b"POST /-/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n",
        413,
    );
    ask(
        "408 of the connection",
        b"GET / HTTP/1.1\r\nHost: x\r\n",
        408,
    );
    out
}

#[test]
fn header_lines_are_on_every_kind_of_response() {
    let (srv, _dir) = server(false);
    let kinds = every_kind(&srv);
    for (what, r) in &kinds {
        assert_added(r, false, what);
    }
    let chunked = &kinds
        .iter()
        .find(|(w, _)| *w == "chunked stream")
        .unwrap()
        .1;
    assert!(chunked.is_chunked());
    let large = &kinds.iter().find(|(w, _)| *w == "sendfile file").unwrap().1;
    assert_eq!(large.body.len(), LARGE);
}

#[test]
fn cors_lines_are_on_every_kind_of_response() {
    let (srv, _dir) = server(true);
    for (what, r) in every_kind(&srv) {
        assert_added(&r, true, what);
    }
}

#[test]
fn head_requests_and_pipelines_carry_them_too() {
    let (srv, _dir) = server(true);
    let mut c = srv.connect();
    c.send(b"HEAD /large.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    let r = c.read_head_response();
    assert_added(&r, true, "HEAD");
    let three = get("/-/plaintext").repeat(3);
    c.send(three.as_bytes());
    for _ in 0..3 {
        assert_added(&c.read_response(), true, "pipelined");
    }
}

fn preflight(srv: &TestServer, method: &[u8], headers: Option<&[u8]>) -> Response {
    let mut req = b"OPTIONS /small.txt HTTP/1.1\r\nHost: x\r\nOrigin: http://app.example\r\n\
        Access-Control-Request-Method: "
        .to_vec();
    req.extend_from_slice(method);
    if let Some(h) = headers {
        req.extend_from_slice(b"\r\nAccess-Control-Request-Headers: ");
        req.extend_from_slice(h);
    }
    req.extend_from_slice(b"\r\n\r\n");
    let mut c = srv.connect();
    c.send(&req);
    c.read_response()
}

#[test]
fn a_preflight_is_answered_with_the_methods_served() {
    let (srv, _dir) = server(true);
    let r = preflight(&srv, b"PUT", Some(b"content-type, x-custom"));
    assert_eq!(r.status, 204);
    assert!(r.body.is_empty());
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("GET, HEAD, OPTIONS, POST, PUT")
    );
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("content-type, x-custom")
    );
    assert_eq!(r.header("access-control-max-age"), Some("3600"));
    assert_added(&r, true, "preflight");
    // No header list asked: none given.
    let r = preflight(&srv, b"GET", None);
    assert_eq!(r.status, 204);
    assert!(!r.has_header("access-control-allow-headers"));
}

#[test]
fn odd_preflights_get_a_sane_answer() {
    let (srv, _dir) = server(true);
    // Tokens that are not methods served: answered with what is, the browser refuses.
    for method in [&b"put"[..], b"BREW", b"M-SEARCH", b"X"] {
        let r = preflight(&srv, method, None);
        assert_eq!(r.status, 204, "{method:?}");
        assert_eq!(
            r.header("access-control-allow-methods"),
            Some("GET, HEAD, OPTIONS, POST, PUT")
        );
    }
    // Not a token, or too long: 400 saying so.
    let long = vec![b'A'; 5000];
    for method in [&b""[..], b"PU T", b"P(T)", b"PUT,GET", b"\"PUT\"", &long] {
        let r = preflight(&srv, method, None);
        assert_eq!(r.status, 400, "{:?}", String::from_utf8_lossy(method));
        assert!(r.body_str().contains("Access-Control-Request-Method"));
        assert_added(&r, true, "400 preflight");
    }
    let long_list = b"x-a, ".repeat(300);
    for list in [&b"x a"[..], b"x-a; x-b", b"x-a, (b)", &long_list] {
        let r = preflight(&srv, b"PUT", Some(list));
        assert_eq!(r.status, 400, "{:?}", String::from_utf8_lossy(list));
    }
    // A control byte never gets this far: the parser refuses the field.
    let r = preflight(&srv, b"PU\x01T", None);
    assert_eq!(r.status, 400);
    // Split at every byte, the same answer.
    let req = b"OPTIONS / HTTP/1.1\r\nHost: x\r\nOrigin: http://a\r\nAccess-Control-Request-Method: DELETE\r\n\r\n";
    let mut c = srv.connect();
    c.send_bytewise(req, Duration::ZERO);
    assert_eq!(c.read_response().status, 204);
    srv.assert_alive();
}

#[test]
fn cors_lets_other_pages_read_but_writes_stay_refused() {
    let (srv, _dir) = server(true);
    let port = srv.addr.port();
    assert_eq!(preflight(&srv, b"POST", Some(b"content-type")).status, 204);
    let write = format!(
        "POST /-/echo HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://app.example\r\nContent-Length: 1\r\n\r\nx"
    );
    let r = srv.connect().request(write.as_bytes());
    assert_eq!(r.status, 403);
    assert_added(&r, true, "403");
}

#[test]
fn without_cors_a_preflight_is_an_ordinary_options() {
    let (srv, _dir) = server(false);
    let r = preflight(&srv, b"PUT", None);
    assert_ne!(r.status, 204);
    assert!(!r.has_header("access-control-allow-methods"));
    assert!(!r.has_header("access-control-allow-origin"));
}

#[test]
fn bad_headers_are_usage_errors_at_start_up() {
    let root = common::empty_root();
    let root = root.to_str().unwrap();
    let too_many: Vec<String> = (0..33).map(|i| format!("X-{i}: v")).collect();
    let mut cases: Vec<Vec<&str>> = [
        "X-A: a\r\nX-B: b",
        "X-A: a\nSet-Cookie: x",
        "X-A: a\rb",
        "X-A: \x01",
        "X-A: a\x7f",
        "X-A: a\tb\x1b[31m",
        "X A: v",
        "X-A(b): v",
        ": v",
        "X-A",
        "Content-Length: 5",
        "content-length: 5",
        "Transfer-Encoding: chunked",
        "Connection: close",
        "Upgrade: h2c",
        "Keep-Alive: timeout=1",
        "Trailer: X",
    ]
    .iter()
    .map(|h| vec!["--header", *h])
    .collect();
    cases.push(
        too_many
            .iter()
            .flat_map(|h| ["--header", h.as_str()])
            .collect(),
    );
    cases.push(vec![
        "--cors",
        "--header",
        "Access-Control-Allow-Origin: https://a.example",
    ]);
    for args in cases {
        let mut all = vec!["--bind", "127.0.0.1:0"];
        all.extend_from_slice(&args);
        all.push(root);
        let (status, out, err) = common::run_binary(&all);
        assert_eq!(status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("--header"), "{args:?}: {err}");
        assert!(out.is_empty());
    }
}

#[test]
fn the_binary_adds_them_too() {
    let root = common::empty_root();
    let mut s = common::spawn_binary_piped(&[
        "--bind",
        "127.0.0.1:0",
        "--header",
        "X-Served-By:  spindle-test ",
        "--cors",
        "-q",
        root.to_str().unwrap(),
    ]);
    let mut c: Client = s.connect();
    let r = c.request(get("/-/plaintext").as_bytes());
    assert_eq!(r.header("x-served-by"), Some("spindle-test"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    drop(c);
    let _ = s.signal_and_wait(libc::SIGTERM, Duration::from_secs(10));
}
