//! Cross-site writes refused: a state-changing request must name this machine in `Host` (an
//! IP literal, `localhost`, its hostname, an `--allow-host`) and, when it sends `Origin`, come
//! from this server's own origin. Both attacks, over raw sockets: a page on another site
//! posting a form to 127.0.0.1 (the browser sends its `Origin`), and DNS rebinding (the page's
//! own name, now resolving to 127.0.0.1, in `Host`, and no `Origin`: it is same-origin to the
//! browser).

mod common;

use std::time::Duration;

use common::{ScratchDir, TestServer};

/// A server with only the default names allowed (the test harness allows `x` and `test`).
fn server(tweak: impl FnOnce(&mut spindle::Config)) -> TestServer {
    TestServer::with(|c| {
        c.allow_hosts.clear();
        tweak(c);
    })
}

fn post(host: &str, origin: Option<&str>, body: &str) -> String {
    let origin = origin.map_or(String::new(), |o| format!("Origin: {o}\r\n"));
    format!(
        "POST /-/echo HTTP/1.1\r\nHost: {host}\r\n{origin}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn a_cross_site_form_post_is_refused() {
    let srv = server(|_| {});
    let host = srv.addr.to_string();
    let mut c = srv.connect();
    let r = c.request(post(&host, Some("http://evil.example"), "rm=all").as_bytes());
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body_str(),
        "cross-site write refused: Origin does not match Host\n"
    );
    // Its body was thrown away, not read as the next request: the connection goes on.
    let r = c.request(post(&host, None, "ok").as_bytes());
    assert_eq!((r.status, &r.body[..]), (200, &b"ok"[..]));
    for origin in [
        "null",
        "https://evil.example",
        "http://127.0.0.1", // another port
        "http://127.0.0.1.evil.example",
        &format!("http://{host}/"),
        &format!("https://{host}"),
    ] {
        let r = srv
            .connect()
            .request(post(&host, Some(origin), "x").as_bytes());
        assert_eq!(r.status, 403, "Origin: {origin}");
    }
    assert_eq!(srv.stats().count("cross_site_refused"), 7);
}

#[test]
fn dns_rebinding_is_refused() {
    let srv = server(|_| {});
    let port = srv.addr.port();
    for host in [
        format!("evil.example:{port}"),
        "evil.example".into(),
        format!("localhost.evil.example:{port}"),
        format!("127.0.0.1.nip.io:{port}"),
    ] {
        let r = srv.connect().request(post(&host, None, "x").as_bytes());
        assert_eq!(r.status, 403, "Host: {host}");
        assert!(r.body_str().contains("--allow-host"), "{}", r.body_str());
    }
    // The authority of an absolute-form target is the host asked for (RFC 9112 §3.2.2).
    let absolute = format!(
        "POST http://evil.example:{port}/-/echo HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 1\r\n\r\nx"
    );
    assert_eq!(srv.connect().request(absolute.as_bytes()).status, 403);
    // Reads are not refused: a rebinding page could only read what any client can.
    let get = format!("GET /-/plaintext HTTP/1.1\r\nHost: evil.example:{port}\r\nOrigin: http://evil.example\r\n\r\n");
    assert_eq!(srv.connect().request(get.as_bytes()).status, 200);
}

#[test]
fn refused_writes_change_nothing_on_disk() {
    let dir = ScratchDir::new("cross-site");
    dir.write("keep.txt", "kept");
    let root = dir.path().to_owned();
    let srv = server(move |c| {
        c.root = root;
        c.allow_write = true;
    });
    let port = srv.addr.port();
    let put = format!(
        "PUT /new.txt HTTP/1.1\r\nHost: evil.example:{port}\r\nContent-Length: 3\r\n\r\nbad"
    );
    assert_eq!(srv.connect().request(put.as_bytes()).status, 403);
    let delete = format!(
        "DELETE /keep.txt HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://evil.example\r\n\r\n"
    );
    assert_eq!(srv.connect().request(delete.as_bytes()).status, 403);
    assert!(!dir.join("new.txt").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("keep.txt")).unwrap(),
        "kept"
    );
    // The same from this origin goes through.
    let put = format!(
        "PUT /new.txt HTTP/1.1\r\nHost: localhost:{port}\r\nOrigin: http://localhost:{port}\r\nContent-Length: 4\r\n\r\ngood"
    );
    assert_eq!(srv.connect().request(put.as_bytes()).status, 201);
    assert_eq!(
        std::fs::read_to_string(dir.join("new.txt")).unwrap(),
        "good"
    );
}

#[test]
fn this_machine_may_write_under_each_of_its_names() {
    let srv = server(|c| c.allow_hosts = vec!["files.lan".into()]);
    let port = srv.addr.port();
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let hostname = hostname.trim();
    for (host, origin) in [
        (format!("127.0.0.1:{port}"), None),
        (
            format!("127.0.0.1:{port}"),
            Some(format!("http://127.0.0.1:{port}")),
        ),
        (
            format!("[::1]:{port}"),
            Some(format!("http://[::1]:{port}")),
        ),
        (format!("192.168.1.20:{port}"), None),
        (
            format!("LocalHost:{port}"),
            Some(format!("http://localhost:{port}")),
        ),
        (format!("{hostname}:{port}"), None),
        (
            format!("files.lan:{port}"),
            Some(format!("http://FILES.lan:{port}")),
        ),
        ("files.lan".into(), Some("http://files.lan:80".into())),
    ] {
        let r = srv
            .connect()
            .request(post(&host, origin.as_deref(), "ok").as_bytes());
        assert_eq!(
            (r.status, &r.body[..]),
            (200, &b"ok"[..]),
            "{host} {origin:?}"
        );
    }
    // HTTP/1.0 without Host is no browser: nothing to check.
    let old = b"POST /-/echo HTTP/1.0\r\nContent-Length: 2\r\n\r\nok";
    assert_eq!(srv.connect().request(old).status, 200);
    let other = srv
        .connect()
        .request(post(&format!("files.lan.evil:{port}"), None, "x").as_bytes());
    assert_eq!(other.status, 403);
}

#[test]
fn the_check_is_the_same_for_a_head_split_at_every_byte_and_pipelined() {
    let srv = server(|_| {});
    let host = srv.addr.to_string();
    let bad = post(&host, Some("http://evil.example"), "a=1");
    let good = post(&host, None, "b=2");
    let mut c = srv.connect();
    c.send_bytewise(bad.as_bytes(), Duration::ZERO);
    assert_eq!(c.read_response().status, 403);
    c.send(format!("{bad}{good}{bad}{good}").as_bytes());
    let got: Vec<(u16, Vec<u8>)> = (0..4)
        .map(|_| {
            let r = c.read_response();
            (r.status, r.body)
        })
        .collect();
    assert_eq!(got[0].0, 403);
    assert_eq!((got[1].0, &got[1].1[..]), (200, &b"b=2"[..]));
    assert_eq!(got[2].0, 403);
    assert_eq!(got[3].0, 200);
}

#[test]
fn a_refused_write_that_expects_100_continue_gets_no_interim_answer() {
    let srv = server(|_| {});
    let port = srv.addr.port();
    let mut c = srv.connect();
    let req = format!(
        "PUT /x HTTP/1.1\r\nHost: evil.example:{port}\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n"
    );
    let r = c.request(req.as_bytes());
    assert_eq!(r.status, 403, "no 100 Continue first");
    assert!(r.says_close());
}

#[test]
fn allow_origin_lets_another_origin_write_under_this_machine_s_name_only() {
    let srv = server(|c| {
        c.allow_origins = vec!["http://localhost:3000".into()];
        c.cors = true;
    });
    let host = srv.addr.to_string();
    let r = srv
        .connect()
        .request(post(&host, Some("http://localhost:3000"), "dev").as_bytes());
    assert_eq!((r.status, &r.body[..]), (200, &b"dev"[..]));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let r = srv
        .connect()
        .request(post(&host, Some("http://localhost:3001"), "x").as_bytes());
    assert_eq!(r.status, 403);
    let rebound = post("evil.example", Some("http://localhost:3000"), "x");
    assert_eq!(srv.connect().request(rebound.as_bytes()).status, 403);
}

#[test]
fn bad_allow_host_or_allow_origin_is_a_usage_error() {
    let root = common::empty_root();
    let root = root.to_str().unwrap();
    for args in [
        ["--allow-host", "a b"],
        ["--allow-host", ""],
        ["--allow-host", "evil.example:80"],
        ["--allow-origin", "localhost:3000"],
        ["--allow-origin", "http://localhost:3000/app"],
        ["--allow-origin", "null"],
    ] {
        let mut all = vec!["--bind", "127.0.0.1:0"];
        all.extend_from_slice(&args);
        all.push(root);
        let (status, _, err) = common::run_binary(&all);
        assert_eq!(status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(args[0]), "{args:?}: {err}");
    }
}
