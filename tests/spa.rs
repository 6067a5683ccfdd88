//! `--spa` over real sockets (issue 13): a GET or HEAD for a missing path whose last segment
//! has no extension gets ROOT's `index.html` (200), so that a client-side router can take the
//! URL; a missing path with an extension is still 404, and what exists is served as before.

mod common;

use common::*;

const INDEX: &[u8] = b"<!doctype html><div id=app></div>";

fn root(tag: &str) -> ScratchDir {
    let d = ScratchDir::new(tag);
    d.write("index.html", INDEX);
    d.write("app.js", b"console.log(1)");
    d.write("docs/guide.txt", b"the guide");
    d.write("listed/a.txt", b"a");
    d
}

fn serve(d: &ScratchDir, spa: bool) -> TestServer {
    let root = d.path().to_owned();
    TestServer::with(move |c| {
        c.root = root;
        c.spa = spa;
    })
}

/// One request on a fresh connection, framing checked, and the connection still in step.
fn ask(srv: &TestServer, method: &str, target: &str) -> Response {
    let mut c = srv.connect();
    c.send(format!("{method} {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    let r = c.read_response_for(method == "HEAD");
    r.assert_framed();
    c.send(get("/-/plaintext").as_bytes());
    assert_eq!(c.read_response().body, b"Hello, World!", "out of step");
    r
}

#[test]
fn missing_routes_get_the_index_and_missing_assets_stay_404() {
    let d = root("spa");
    let srv = serve(&d, true);
    for route in [
        "/users/42",
        "/settings",
        "/deep/er/route/",
        "/docs/missing-page",
        "/a%20b",
        "/users/42?tab=2",
    ] {
        let r = ask(&srv, "GET", route);
        assert_eq!((r.status, &r.body[..]), (200, INDEX), "{route}");
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
        let h = ask(&srv, "HEAD", route);
        assert_eq!(h.status, 200, "HEAD {route}");
        assert_eq!(h.content_length(), Some(INDEX.len() as u64));
        assert!(h.body.is_empty());
    }
    for asset in [
        "/missing.js",
        "/img/logo.png",
        "/docs/missing.txt",
        "/users/42%2Ejson",
    ] {
        assert_eq!(ask(&srv, "GET", asset).status, 404, "{asset}");
        assert_eq!(ask(&srv, "HEAD", asset).status, 404, "HEAD {asset}");
    }
    // Only GET and HEAD fall back.
    assert_eq!(ask(&srv, "POST", "/users/42").status, 404);
    assert_eq!(ask(&srv, "OPTIONS", "/users/42").status, 404);
    // The built-ins are not routes: a missing one is still their own 404.
    let r = ask(&srv, "GET", "/-/nothing-here");
    assert_eq!(r.status, 404);
    assert_ne!(r.body, INDEX);
}

/// With the built-ins off, `/-/…` reaches the files, and still never falls back.
#[test]
fn not_under_the_builtins_prefix() {
    let d = root("spa-nobuiltins");
    let root = d.path().to_owned();
    let srv = TestServer::with(move |c| {
        c.root = root;
        c.spa = true;
        c.builtins = false;
    });
    let mut c = srv.connect();
    c.send(b"GET /-/stats HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(c.read_response().status, 404);
    c.send(b"GET /route HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(c.read_response().body, INDEX);
}

#[test]
fn what_exists_is_unchanged() {
    let d = root("spa-exists");
    let srv = serve(&d, true);
    let r = ask(&srv, "GET", "/app.js");
    assert_eq!((r.status, &r.body[..]), (200, &b"console.log(1)"[..]));
    let r = ask(&srv, "GET", "/docs/guide.txt");
    assert_eq!((r.status, &r.body[..]), (200, &b"the guide"[..]));
    // A directory is still redirected, then listed.
    let r = ask(&srv, "GET", "/listed");
    assert_eq!(r.status, 301);
    let r = ask(&srv, "GET", "/listed/");
    assert_eq!(r.status, 200);
    assert!(r.body_str().contains("a.txt"), "a listing, not the index");
    // Bad paths are still 400.
    assert_eq!(ask(&srv, "GET", "/%zz").status, 400);
}

#[test]
fn off_by_default_and_no_index_no_fallback() {
    let d = root("spa-off");
    let srv = serve(&d, false);
    assert_eq!(ask(&srv, "GET", "/users/42").status, 404);
    drop(srv);
    let bare = ScratchDir::new("spa-bare");
    bare.write("x.txt", b"x");
    let srv = serve(&bare, true);
    assert_eq!(ask(&srv, "GET", "/users/42").status, 404);
}

#[test]
fn the_flag_on_the_command_line() {
    let d = root("spa-cli");
    let (mut child, addr) = spawn_binary(&["--spa"], d.path());
    let addr: std::net::SocketAddr = addr.parse().unwrap();
    let mut c = Client::connect(addr);
    c.send(b"GET /route HTTP/1.1\r\nHost: t\r\n\r\n");
    let r = c.read_response();
    assert_eq!((r.status, &r.body[..]), (200, INDEX));
    signal(&child, libc::SIGTERM);
    wait_exit(&mut child, std::time::Duration::from_secs(10));
}
