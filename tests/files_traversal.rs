//! Nothing outside ROOT is ever served (SPEC §4 "Safety", issue 3 point 1): `..` in every
//! spelling (raw, `%2e%2e`, `..%2f`, double-encoded, overlong UTF-8, backslashes, NUL bytes,
//! absolute-form targets), and symlinks to files or directories outside ROOT at any depth.
//!
//! Each test builds `BASE/secret` (and more) next to a scratch `BASE/root`, serves the latter,
//! and sends the requests raw, byte for byte, so that nothing normalises the path first.

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::PathBuf;

use common::*;

/// A scratch directory holding ROOT (`base/root`) and things outside it; removed on drop.
struct Scratch {
    base: ScratchDir,
    root: PathBuf,
    secret: Vec<u8>,
}

impl Scratch {
    fn new(test: &str) -> Scratch {
        let base = ScratchDir::new(&format!("traversal-{test}"));
        let root = base.mkdir("root");
        let secret = format!("TOP-SECRET-{test}").into_bytes();
        fs::write(base.join("secret"), &secret).unwrap();
        fs::write(base.join("secret.txt"), &secret).unwrap();
        fs::create_dir_all(base.join("outside")).unwrap();
        fs::write(base.join("outside/secret2.txt"), &secret).unwrap();
        // A sibling whose name starts with ROOT's: a prefix test on strings would let it in.
        fs::create_dir_all(base.join("rootx")).unwrap();
        fs::write(base.join("rootx/file.txt"), &secret).unwrap();
        // Inside ROOT: a file and a directory, so that a 404 is not the only answer there is.
        fs::write(root.join("inside.txt"), b"inside").unwrap();
        fs::create_dir_all(root.join("sub/deeper")).unwrap();
        fs::write(root.join("sub/deeper/x.txt"), b"x").unwrap();
        Scratch { base, root, secret }
    }

    fn serve(&self, show_hidden: bool) -> TestServer {
        let root = self.root.clone();
        TestServer::with(move |c| {
            c.root = root;
            c.show_hidden = show_hidden;
        })
    }

    fn leaks(&self, bytes: &[u8]) -> bool {
        bytes.windows(self.secret.len()).any(|w| w == self.secret)
    }
}

/// Sends `request` exactly as given on a fresh connection and reads one response.
fn raw(srv: &TestServer, request: &[u8], head: bool) -> Response {
    let mut c = srv.connect();
    c.send(request);
    let r = c.read_response_for(head);
    r.assert_framed();
    r
}

fn raw_get(srv: &TestServer, target: &[u8]) -> Response {
    let mut req = b"GET ".to_vec();
    req.extend_from_slice(target);
    req.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\n\r\n");
    raw(srv, &req, false)
}

fn raw_head(srv: &TestServer, target: &[u8]) -> Response {
    let mut req = b"HEAD ".to_vec();
    req.extend_from_slice(target);
    req.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\n\r\n");
    raw(srv, &req, true)
}

/// Request targets that try to climb out of ROOT to `BASE/secret` (or `BASE/secret.txt`).
const CLIMBS: &[&[u8]] = &[
    b"/../secret",
    b"/%2e%2e/secret",
    b"/%2E%2E/secret",
    b"/..%2fsecret",
    b"/..%2Fsecret",
    b"/%2e%2e%2fsecret",
    b"/%252e%252e/secret",
    b"/%252e%252e%252fsecret",
    b"/..%252fsecret",
    b"/%c0%ae%c0%ae/secret",
    b"/%c0%ae%c0%ae%c0%afsecret",
    b"/%e0%80%ae%e0%80%ae/secret",
    b"/..\\secret",
    b"/..%5csecret",
    b"/..%5Csecret",
    b"/%2e%2e%5csecret",
    b"/secret%00.txt",
    b"/..%00/secret",
    b"/%00/../secret",
    b"/./../secret",
    b"//../secret",
    b"/.%2e/secret",
    b"/%2e./secret",
    b"/..;/secret",
    b"/.../secret",
    b"/sub/../../secret",
    b"/sub/deeper/../../../secret",
    b"/sub/..%2f..%2fsecret",
    b"/sub/%2e%2e/%2e%2e/secret",
    b"/sub/deeper/%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret",
    b"/sub/..\\..\\secret",
    b"/../root/../secret",
    b"/%2e%2e/root/%2e%2e/secret",
    b"/../outside/secret2.txt",
    b"/../rootx/file.txt",
    b"/%2e%2e/rootx/file.txt",
    b"/..",
    b"/../",
    b"/%2e%2e",
    b"/%2e%2e/",
    b"/%u002e%u002e/secret",
    b"/secret",
    b"/secret.txt",
    b"http://x/../secret",
    b"http://x/%2e%2e/secret",
    b"http://x/..%2fsecret",
    b"http://x/sub/../../secret",
    b"http://x/../outside/",
];

#[test]
fn dot_dot_in_every_spelling_never_leaves_root() {
    let s = Scratch::new("climbs");
    for show_hidden in [false, true] {
        let srv = s.serve(show_hidden);
        // The server does serve what is inside, with `..` that stays inside.
        assert_eq!(raw_get(&srv, b"/inside.txt").body, b"inside");
        assert_eq!(raw_get(&srv, b"/sub/../inside.txt").body, b"inside");
        assert_eq!(raw_get(&srv, b"/sub/%2e%2e/inside.txt").body, b"inside");
        assert_eq!(
            raw_get(&srv, b"/sub/deeper/..%2f..%2finside.txt").body,
            b"inside"
        );
        for &target in CLIMBS {
            let shown = String::from_utf8_lossy(target);
            for head in [false, true] {
                let r = if head {
                    raw_head(&srv, target)
                } else {
                    raw_get(&srv, target)
                };
                assert!(
                    r.status == 400 || r.status == 404,
                    "{} {shown} (show_hidden {show_hidden}): got {}",
                    if head { "HEAD" } else { "GET" },
                    r.status
                );
                assert!(!s.leaks(&r.body), "{shown}: the secret leaked");
                assert!(!r.has_header("etag"), "{shown}: {:?}", r.headers);
            }
        }
        // Conditional and range forms do not open a way either.
        for target in [&b"/../secret"[..], b"/%2e%2e/secret", b"/..%2fsecret"] {
            let mut req = b"GET ".to_vec();
            req.extend_from_slice(target);
            req.extend_from_slice(
                b" HTTP/1.1\r\nHost: x\r\nRange: bytes=0-\r\nIf-None-Match: *\r\n\
                  Accept-Encoding: gzip\r\n\r\n",
            );
            let r = raw(&srv, &req, false);
            assert!(r.status == 400 || r.status == 404, "{}", r.status);
            assert!(!s.leaks(&r.body));
        }
        srv.assert_alive();
    }
}

#[test]
fn symlinks_out_of_root_are_404_and_unlisted() {
    let s = Scratch::new("symlinks");
    let (base, root) = (&s.base, &s.root);
    fs::create_dir_all(root.join("a/b")).unwrap();
    fs::write(root.join("real.txt"), b"real").unwrap();
    fs::write(root.join("y.txt"), b"plain y").unwrap();
    fs::create_dir_all(root.join("idx")).unwrap();
    // Out of ROOT: absolute and relative, to files and directories, at the top and nested.
    symlink(base.join("secret"), root.join("out-file")).unwrap();
    symlink("../secret", root.join("rel-out")).unwrap();
    symlink(base.join("outside"), root.join("out-dir")).unwrap();
    symlink(base.join("outside"), root.join("a/b/deep-out")).unwrap();
    symlink("../../../secret", root.join("a/b/deep-file")).unwrap();
    symlink("../../..", root.join("a/b/up")).unwrap();
    symlink(base.join("rootx/file.txt"), root.join("prefix-trap")).unwrap();
    symlink(base.join("rootx"), root.join("prefix-dir")).unwrap();
    symlink(base.join("nothing-here"), root.join("dangling")).unwrap();
    symlink(base.join("secret"), root.join("y.txt.gz")).unwrap();
    symlink(base.join("secret"), root.join("idx/index.html")).unwrap();
    // Inside ROOT: served.
    symlink("real.txt", root.join("in-link")).unwrap();
    symlink(root.join("a"), root.join("in-dir")).unwrap();
    symlink("../../real.txt", root.join("a/b/in-up")).unwrap();
    let srv = s.serve(false);

    for target in [
        &b"/out-file"[..],
        b"/rel-out",
        b"/out-dir",
        b"/out-dir/",
        b"/out-dir/secret2.txt",
        b"/a/b/deep-out",
        b"/a/b/deep-out/",
        b"/a/b/deep-out/secret2.txt",
        b"/a/b/deep-file",
        b"/a/b/up",
        b"/a/b/up/",
        b"/a/b/up/secret",
        b"/a/b/up/outside/secret2.txt",
        b"/in-dir/b/deep-file",
        b"/in-dir/b/deep-out/secret2.txt",
        b"/in-dir/b/up/secret",
        b"/prefix-trap",
        b"/prefix-dir/",
        b"/prefix-dir/file.txt",
        b"/dangling",
        b"/y.txt.gz",
        b"/idx/index.html",
        b"/out%2dfile",
        b"/a/b/deep%2dout%2fsecret2.txt",
    ] {
        let shown = String::from_utf8_lossy(target);
        let r = raw_get(&srv, target);
        assert_eq!(r.status, 404, "GET {shown}");
        assert!(!s.leaks(&r.body), "GET {shown}: the secret leaked");
        let r = raw_head(&srv, target);
        assert_eq!(r.status, 404, "HEAD {shown}");
        assert!(!r.has_header("etag"), "HEAD {shown}");
    }

    // A .gz sibling outside ROOT is never sent in place of the file.
    let r = raw(
        &srv,
        b"GET /y.txt HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n",
        false,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"plain y");
    assert!(!r.has_header("content-encoding"));
    // An index.html leading out is not the directory's page: the listing (without it) is.
    let r = raw_get(&srv, b"/idx/");
    assert!(!s.leaks(&r.body), "/idx/: the secret leaked");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(!r.body_str().contains("index.html"), "{}", r.body_str());

    // Links inside ROOT are served, through a symlinked directory too.
    assert_eq!(raw_get(&srv, b"/in-link").body, b"real");
    assert_eq!(raw_get(&srv, b"/a/b/in-up").body, b"real");
    assert_eq!(raw_get(&srv, b"/in-dir/b/in-up").body, b"real");
    let r = raw_get(&srv, b"/in-dir");
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/in-dir/"));

    // Listings show only what a click would serve.
    let hrefs = |target: &[u8], json: bool| -> String {
        let mut req = b"GET ".to_vec();
        req.extend_from_slice(target);
        req.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\n");
        if json {
            req.extend_from_slice(b"Accept: application/json\r\n");
        }
        req.extend_from_slice(b"\r\n");
        let r = raw(&srv, &req, false);
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(target));
        r.body_str()
    };
    // The entries' links: the table body's (the page's head has breadcrumb and sort links).
    let links = |page: &str| -> Vec<String> {
        let body = page.split_once("<tbody>").map_or("", |(_, b)| b);
        body.split("href=\"")
            .skip(1)
            .map(|s| s[..s.find('"').unwrap()].to_string())
            .collect()
    };
    assert_eq!(
        links(&hrefs(b"/", false)),
        [
            "./a/",
            "./idx/",
            "./in-dir/",
            "./sub/",
            "./in-link",
            "./inside.txt",
            "./real.txt",
            "./y.txt"
        ]
    );
    assert_eq!(links(&hrefs(b"/a/b/", false)), ["../", "./in-up"]);
    assert_eq!(links(&hrefs(b"/in-dir/b/", false)), ["../", "./in-up"]);
    assert_eq!(links(&hrefs(b"/idx/", false)), ["../"]);
    for (dir, json) in [
        (&b"/"[..], true),
        (b"/a/b/", true),
        (b"/idx/", true),
        (b"/", false),
        (b"/a/b/", false),
    ] {
        let page = hrefs(dir, json);
        for name in [
            "out-file",
            "rel-out",
            "out-dir",
            "deep-out",
            "deep-file",
            "\"up",
            "/up",
            "prefix-trap",
            "prefix-dir",
            "dangling",
            "y.txt.gz",
            "index.html",
        ] {
            assert!(
                !page.contains(name),
                "{name} listed in {}: {page}",
                String::from_utf8_lossy(dir)
            );
        }
    }
    srv.assert_alive();
}
