//! `--auth`: HTTP Basic authentication (RFC 7617) on every request but CORS preflights and
//! `/-/health` (or on writes only), over raw sockets: a wrong password, no header, bad
//! base64, no colon, a header too long (within and over `--max-head`), the `sha256:` form,
//! the user in the access log and the password in no log at all.

mod common;

use std::io::Read;
use std::time::Duration;

use common::{get, spawn_binary_piped, ScratchDir, TestServer};
use spindle::policy::auth::Credential;

/// "alice:wonder land" and "bob:hunter2" (given as the digest `sha256sum` prints).
const ALICE: &str = "YWxpY2U6d29uZGVyIGxhbmQ=";
const BOB: &str = "Ym9iOmh1bnRlcjI=";
const BOB_SHA: &str = "bob:sha256:f52fbd32b2b3b86ff88ef6c490628285f482af15ddcb29541f94bcf526a3f6c7";
const CHALLENGE: &str = "Basic realm=\"spindle\", charset=\"UTF-8\"";

fn creds() -> Vec<Credential> {
    vec![
        Credential::parse("alice:wonder land").unwrap(),
        Credential::parse(BOB_SHA).unwrap(),
    ]
}

fn server(writes_only: bool) -> TestServer {
    TestServer::with(|c| {
        c.auth = creds();
        c.auth_writes_only = writes_only;
    })
}

/// `GET path` with `Authorization: VALUE`.
fn get_with(path: &str, authorization: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {authorization}\r\n\r\n")
}

fn stats_with_alice(srv: &TestServer) -> common::Stats {
    let mut c = srv.connect();
    let r = c.request(get_with("/-/stats", &format!("Basic {ALICE}")).as_bytes());
    assert_eq!(r.status, 200);
    common::Stats::parse(&r.body_str())
}

#[test]
fn each_bad_credential_is_a_401_with_its_reason_and_the_challenge() {
    let srv = server(false);
    for (authorization, reason) in [
        (None, "credentials required"),
        (Some("Basic YWxpY2U6d3Jvbmc="), "wrong user name or password"), // alice:wrong
        (Some("Basic Ym9iOndvbmRlciBsYW5k"), "wrong user name or password"), // bob:wonder land
        (Some("Basic !!!!"), "not valid base64"),
        (Some("Basic YWxpY2U6d29uZGVyIGxhbmQ"), "not valid base64"), // unpadded
        (Some("Basic YWxpY2V3b25kZXI="), "no colon"),               // alicewonder
        (Some("Bearer abc"), "only the Basic scheme"),
        // The digest is what bob's password is checked against, not a password itself.
        (
            Some("Basic Ym9iOnNoYTI1NjpmNTJmYmQzMmIyYjNiODZmZjg4ZWY2YzQ5MDYyODI4NWY0ODJhZjE1ZGRjYjI5NTQxZjk0YmNmNTI2YTNmNmM3"),
            "wrong user name or password",
        ),
    ] {
        let mut c = srv.connect();
        let req = match authorization {
            Some(a) => get_with("/-/plaintext", a),
            None => get("/-/plaintext"),
        };
        let r = c.request(req.as_bytes());
        assert_eq!(r.status, 401, "{authorization:?}");
        assert_eq!(r.header("www-authenticate"), Some(CHALLENGE));
        assert!(r.body_str().contains(reason), "{authorization:?}: {}", r.body_str());
        // A refusal keeps the connection: the client can try again on it.
        let ok = c.request(get_with("/-/plaintext", &format!("Basic {BOB}")).as_bytes());
        assert_eq!((ok.status, &ok.body[..]), (200, &b"Hello, World!"[..]));
    }
    let stats = stats_with_alice(&srv);
    assert_eq!(stats.count("auth_failures"), 8);
    assert_eq!(stats.count("status.401"), 8);
    let mut c = srv.connect();
    let r = c.request(get_with("/-/metrics", &format!("Basic {ALICE}")).as_bytes());
    assert!(
        r.body_str().contains("\nspindle_auth_failures_total 8\n"),
        "{}",
        r.body_str()
    );
}

#[test]
fn the_right_pairs_pass_the_sha256_form_too() {
    let srv = server(false);
    for value in [
        format!("Basic {ALICE}"),
        format!("basic   {BOB}  "),
        format!("BASIC {BOB}"),
    ] {
        let r = srv
            .connect()
            .request(get_with("/-/plaintext", &value).as_bytes());
        assert_eq!(r.status, 200, "{value}");
    }
    // Two Authorization fields: which one counts is not for the server to guess.
    let two = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {ALICE}\r\nAuthorization: Basic {BOB}\r\n\r\n"
    );
    assert_eq!(srv.connect().request(two.as_bytes()).status, 401);
}

#[test]
fn a_head_split_at_every_byte_is_checked_the_same() {
    let srv = server(false);
    let req = get_with("/-/plaintext", &format!("Basic {ALICE}"));
    let mut c = srv.connect();
    c.send_bytewise(req.as_bytes(), Duration::ZERO);
    assert_eq!(c.read_response().status, 200);
    let bad = get_with("/-/plaintext", "Basic YWxpY2U6d3Jvbmc=");
    c.send_bytewise(bad.as_bytes(), Duration::ZERO);
    assert_eq!(c.read_response().status, 401);
    // Pipelined: each request is judged on its own.
    let both = format!("{bad}{req}{bad}");
    c.send(both.as_bytes());
    let got: Vec<u16> = (0..3).map(|_| c.read_response().status).collect();
    assert_eq!(got, [401, 200, 401]);
}

#[test]
fn a_very_long_header_is_refused_within_max_head_and_431_over_it() {
    let srv = server(false);
    let long = format!("Basic {}", "QUFB".repeat(5000)); // 20 kB, under the 32 KiB head limit
    let mut c = srv.connect();
    let r = c.request(get_with("/-/plaintext", &long).as_bytes());
    assert_eq!(r.status, 401);
    assert!(r.body_str().contains("too long"), "{}", r.body_str());
    assert_eq!(
        c.request(get_with("/", &format!("Basic {ALICE}")).as_bytes())
            .status,
        200
    );
    let longer = format!("Basic {}", "QUFB".repeat(9000)); // 36 kB: over --max-head
    let mut c = srv.connect();
    let r = c.request(get_with("/-/plaintext", &longer).as_bytes());
    assert_eq!(r.status, 431);
    c.assert_closed();
    srv.assert_alive_with(&format!("Basic {ALICE}"));
}

trait AliveWith {
    fn assert_alive_with(&self, authorization: &str);
}

impl AliveWith for TestServer {
    fn assert_alive_with(&self, authorization: &str) {
        let r = self
            .connect()
            .request(get_with("/-/plaintext", authorization).as_bytes());
        assert_eq!(r.status, 200, "server stopped serving");
    }
}

#[test]
fn preflights_and_health_need_no_credentials() {
    let srv = server(false);
    let health = srv.get("/-/health");
    assert_eq!(health.status, 200);
    let preflight = b"OPTIONS /f HTTP/1.1\r\nHost: x\r\nOrigin: http://app.example\r\n\
        Access-Control-Request-Method: PUT\r\n\r\n";
    let r = srv.connect().request(preflight);
    assert_ne!(r.status, 401, "browsers send no credentials on a preflight");
    // An OPTIONS that is not a preflight is a request like any other.
    let plain = b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_eq!(srv.connect().request(plain).status, 401);
    // HEAD: the 401's head, no body.
    let mut c = srv.connect();
    c.send(b"HEAD /-/plaintext HTTP/1.1\r\nHost: x\r\n\r\n");
    let r = c.read_head_response();
    assert_eq!((r.status, r.body.len()), (401, 0));
    assert_eq!(r.header("www-authenticate"), Some(CHALLENGE));
}

#[test]
fn auth_writes_only_asks_only_state_changing_requests() {
    let srv = server(true);
    assert_eq!(srv.get("/-/plaintext").status, 200);
    assert_eq!(srv.get("/-/stats").status, 200);
    let post = |authorization: Option<&str>| {
        let a = authorization.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
        format!("POST /-/echo HTTP/1.1\r\nHost: x\r\n{a}Content-Length: 2\r\n\r\nhi")
    };
    let mut c = srv.connect();
    assert_eq!(c.request(post(None).as_bytes()).status, 401);
    assert_eq!(
        c.request(post(Some("Basic YWxpY2U6d3Jvbmc=")).as_bytes())
            .status,
        401
    );
    let ok = c.request(post(Some(&format!("Basic {BOB}"))).as_bytes());
    assert_eq!((ok.status, &ok.body[..]), (200, &b"hi"[..]));
    assert_eq!(srv.stats().count("auth_failures"), 2);
}

#[test]
fn the_user_is_in_the_access_log_and_the_password_in_no_log() {
    let dir = ScratchDir::new("auth-log");
    let root = dir.path().to_str().unwrap().to_owned();
    let mut s = spawn_binary_piped(&[
        "--bind",
        "127.0.0.1:0",
        "--auth",
        "alice:wonder land",
        "--auth",
        BOB_SHA,
        "--access-log",
        "-",
        "--trace",
        "-vv",
        &root,
    ]);
    let mut c = s.connect();
    for a in [
        format!("Basic {ALICE}"),
        "Basic YWxpY2U6d29uZGVyIGxhbmQy".into(), // alice:wonder land2
        format!("Basic {BOB}"),
    ] {
        c.request(get_with("/-/plaintext", &a).as_bytes());
    }
    c.request(get("/-/plaintext").as_bytes());
    drop(c);
    let (status, _) = s.signal_and_wait(libc::SIGTERM, Duration::from_secs(10));
    assert!(status.success());
    let mut out = String::new();
    s.stdout.read_to_string(&mut out).unwrap();
    let err = s.read_stderr();
    let lines: Vec<&str> = out.lines().filter(|l| l.contains("/-/plaintext")).collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(lines[0].starts_with("127.0.0.1 - alice ["), "{}", lines[0]);
    assert!(lines[0].contains("\" 200 13 "), "{}", lines[0]);
    assert!(
        lines[1].starts_with("127.0.0.1 - - ["),
        "a failed try names no one: {}",
        lines[1]
    );
    assert!(lines[2].starts_with("127.0.0.1 - bob ["), "{}", lines[2]);
    assert!(lines[3].starts_with("127.0.0.1 - - ["), "{}", lines[3]);
    assert!(
        err.contains("parsed GET /-/plaintext"),
        "the trace was on: {err}"
    );
    for secret in [
        "wonder",
        "hunter2",
        ALICE,
        BOB,
        "YWxpY2U6d29uZGVyIGxhbmQy",
        "f52fbd32",
    ] {
        assert!(!out.contains(secret), "{secret} on stdout: {out}");
        assert!(!err.contains(secret), "{secret} on stderr: {err}");
    }
}

#[test]
fn bad_auth_syntax_is_a_usage_error() {
    let root = common::empty_root();
    let root = root.to_str().unwrap();
    for args in [
        &["--auth", "alice"][..],
        &["--auth", ":pw"],
        &["--auth", "alice:"],
        &["--auth", "bob:sha256:f52f"],
        &["--auth-writes-only"],
    ] {
        let mut all = vec!["--bind", "127.0.0.1:0"];
        all.extend_from_slice(args);
        all.push(root);
        let (status, out, err) = common::run_binary(&all);
        assert_eq!(status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("--auth"), "{args:?}: {err}");
        assert!(out.is_empty());
    }
}

#[test]
fn without_auth_nothing_is_asked() {
    let srv = TestServer::start();
    let r = srv.get("/-/plaintext");
    assert_eq!(r.status, 200);
    assert!(!r.has_header("www-authenticate"));
}
