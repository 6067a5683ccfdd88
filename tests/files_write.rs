//! PUT and DELETE under ROOT: only with `--allow-write`, atomic, confined, and leaving nothing
//! behind when a client goes away halfway.

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;

use common::{eventually, get, mkfifo, names, TestServer};

type Scratch = common::RootAndOutside;

/// How this file's tests serve the scratch ROOT.
impl Scratch {
    fn server(&self, allow_write: bool) -> TestServer {
        let root = self.root.clone();
        TestServer::with(move |c| {
            c.root = root;
            c.allow_write = allow_write;
            c.max_body = 64 * 1024;
            c.request_timeout = Duration::from_millis(400);
        })
    }
}

fn put(path: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn delete(path: &str) -> Vec<u8> {
    format!("DELETE {path} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes()
}

/// How long the server's own thread may take to clean up.
const CLEANUP: Duration = Duration::from_secs(3);

#[test]
fn without_the_flag_put_and_delete_are_405_and_touch_nothing() {
    let s = Scratch::new("noflag");
    fs::write(s.root.join("keep.txt"), b"keep").unwrap();
    let srv = s.server(false);
    let mut c = srv.connect();
    for req in [
        put("/keep.txt", b"new"),
        put("/new.txt", b"new"),
        delete("/keep.txt"),
    ] {
        let r = c.request(&req);
        assert_eq!(r.status, 405);
        assert_eq!(r.header("allow"), Some("GET, HEAD"));
    }
    assert_eq!(fs::read(s.root.join("keep.txt")).unwrap(), b"keep");
    assert_eq!(names(&s.root), ["dir", "keep.txt"]);
}

#[test]
fn put_creates_then_replaces_and_get_sees_it_at_once() {
    let s = Scratch::new("put");
    let srv = s.server(true);
    let mut c = srv.connect();
    assert_eq!(c.request(&put("/dir/a.txt", b"first")).status, 201);
    assert_eq!(c.request(get("/dir/a.txt").as_bytes()).body, b"first");
    assert_eq!(c.request(&put("/dir/a.txt", b"second!")).status, 204);
    // No stale cache: the new contents right away.
    assert_eq!(c.request(get("/dir/a.txt").as_bytes()).body, b"second!");
    assert_eq!(fs::read(s.root.join("dir/a.txt")).unwrap(), b"second!");
    assert_eq!(
        names(&s.root.join("dir")),
        ["a.txt"],
        "no temporary file left"
    );
    // A chunked body, with a 405 on other methods listing the write methods.
    let r = c.request(
        b"PUT /b.bin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    );
    assert_eq!(r.status, 201);
    assert_eq!(fs::read(s.root.join("b.bin")).unwrap(), b"abcde");
    let r = c.request(b"POST /b.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD, PUT, DELETE"));
}

#[test]
fn put_needs_an_existing_directory_and_never_replaces_one() {
    let s = Scratch::new("parent");
    let srv = s.server(true);
    let mut c = srv.connect();
    assert_eq!(c.request(&put("/missing/a.txt", b"x")).status, 409);
    assert_eq!(c.request(&put("/dir", b"x")).status, 405);
    assert_eq!(c.request(&put("/dir/", b"x")).status, 405);
    assert!(s.root.join("dir").is_dir());
    assert_eq!(names(&s.root), ["dir"]);
}

#[test]
fn delete_removes_files_only() {
    let s = Scratch::new("delete");
    fs::write(s.root.join("dir/gone.txt"), b"x").unwrap();
    let srv = s.server(true);
    let mut c = srv.connect();
    assert_eq!(c.request(get("/dir/gone.txt").as_bytes()).status, 200);
    assert_eq!(c.request(&delete("/dir/gone.txt")).status, 204);
    assert_eq!(c.request(get("/dir/gone.txt").as_bytes()).status, 404);
    assert_eq!(c.request(&delete("/dir/gone.txt")).status, 404);
    assert_eq!(c.request(&delete("/dir")).status, 405);
    assert!(s.root.join("dir").is_dir());
}

#[test]
fn writes_stay_inside_root() {
    let s = Scratch::new("confined");
    fs::write(s.outside.join("victim.txt"), b"safe").unwrap();
    std::os::unix::fs::symlink(&s.outside, s.root.join("out")).unwrap();
    std::os::unix::fs::symlink(s.outside.join("victim.txt"), s.root.join("link.txt")).unwrap();
    let srv = s.server(true);
    let mut c = srv.connect();
    for (path, want) in [
        ("/../outside/x.txt", 400),
        ("/%2e%2e/outside/x.txt", 400),
        ("/dir/..%2f..%2foutside%2fx.txt", 400),
        ("/out/x.txt", 404),
        ("/out/victim.txt", 404),
        ("/.hidden", 404),
    ] {
        let mut c2 = srv.connect();
        assert_eq!(c2.request(&put(path, b"pwned")).status, want, "{path}");
    }
    // Replacing a symlink replaces the link, never what it points to.
    assert_eq!(c.request(&put("/link.txt", b"mine")).status, 204);
    assert_eq!(fs::read(s.outside.join("victim.txt")).unwrap(), b"safe");
    assert_eq!(fs::read(s.root.join("link.txt")).unwrap(), b"mine");
    assert_eq!(c.request(&delete("/out/victim.txt")).status, 404);
    assert_eq!(names(&s.outside), ["victim.txt"]);
}

#[test]
fn an_interrupted_put_leaves_nothing_behind() {
    let s = Scratch::new("interrupted");
    let srv = s.server(true);
    // Half a body, then the client goes away.
    let mut c = srv.connect();
    c.send(b"PUT /dir/half.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n\r\n");
    c.send(&[b'x'; 20000]);
    std::thread::sleep(Duration::from_millis(100));
    eventually(CLEANUP, "the temporary file appears", || {
        !names(&s.root.join("dir")).is_empty()
    });
    drop(c);
    eventually(CLEANUP, "the temporary file is removed", || {
        names(&s.root.join("dir")).is_empty()
    });
    // Half a body, then silence: the body timeout ends it the same way.
    let mut c = srv.connect();
    c.send(b"PUT /dir/slow.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n\r\n");
    c.send(&[b'y'; 1000]);
    let r = c.read_response();
    assert_eq!(r.status, 408);
    eventually(CLEANUP, "nothing left after the timeout", || {
        names(&s.root.join("dir")).is_empty()
    });
    // Too large a body: 413, no file.
    let mut c = srv.connect();
    let r = c.request(&put("/dir/big.bin", &vec![b'z'; 70 * 1024]));
    assert_eq!(r.status, 413);
    eventually(CLEANUP, "nothing left after 413", || {
        names(&s.root.join("dir")).is_empty()
    });
    srv.assert_alive();
}

/// The permission bits of `p` (not following a symlink).
fn mode_of(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

/// This process's umask, read without changing it (`umask(2)` would, for every thread).
fn umask() -> u32 {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Umask:")).unwrap();
    u32::from_str_radix(line["Umask:".len()..].trim(), 8).unwrap()
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn put_keeps_the_mode_of_the_file_it_replaces() {
    let s = Scratch::new("mode");
    let srv = s.server(true);
    let mut c = srv.connect();
    for (name, mode) in [
        ("private.txt", 0o600),
        ("group.txt", 0o640),
        ("run.sh", 0o755),
    ] {
        let path = s.root.join("dir").join(name);
        fs::write(&path, b"old").unwrap();
        set_mode(&path, mode);
        let r = c.request(&put(&format!("/dir/{name}"), b"new"));
        assert_eq!(r.status, 204, "{name}");
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(mode_of(&path), mode, "{name} is {:o}", mode_of(&path));
    }
    // Set-user-ID is not carried over to what a client uploaded.
    let suid = s.root.join("dir/suid");
    fs::write(&suid, b"old").unwrap();
    set_mode(&suid, 0o4755);
    assert_eq!(c.request(&put("/dir/suid", b"new")).status, 204);
    assert_eq!(mode_of(&suid), 0o755);
    // A new file gets what any new file gets: 0666 less the umask.
    assert_eq!(c.request(&put("/dir/new.txt", b"new")).status, 201);
    let want = 0o666 & !umask();
    let got = mode_of(&s.root.join("dir/new.txt"));
    assert_eq!(got, want, "new file is {got:o}, want {want:o}");
}

#[test]
fn delete_acts_on_regular_files_only_like_get() {
    let s = Scratch::new("delete_kinds");
    let dir = s.root.join("dir");
    mkfifo(&dir.join("fifo"));
    let _socket = std::os::unix::net::UnixListener::bind(dir.join("socket")).unwrap();
    std::os::unix::fs::symlink(dir.join("fifo"), dir.join("to-fifo")).unwrap();
    std::os::unix::fs::symlink("/dev/null", dir.join("to-null")).unwrap();
    std::os::unix::fs::symlink(s.outside.join("victim.txt"), dir.join("out-link")).unwrap();
    std::os::unix::fs::symlink(dir.join("missing"), dir.join("dangling")).unwrap();
    fs::write(s.outside.join("victim.txt"), b"safe").unwrap();
    fs::write(dir.join("real.txt"), b"real").unwrap();
    std::os::unix::fs::symlink(dir.join("real.txt"), dir.join("to-real")).unwrap();
    fs::create_dir(dir.join("sub")).unwrap();
    let srv = s.server(true);
    let mut c = srv.connect();
    for name in [
        "fifo", "socket", "to-fifo", "to-null", "out-link", "dangling",
    ] {
        let path = format!("/dir/{name}");
        assert_eq!(c.request(get(&path).as_bytes()).status, 404, "GET {name}");
        assert_eq!(c.request(&delete(&path)).status, 404, "DELETE {name}");
        assert!(
            fs::symlink_metadata(dir.join(name)).is_ok(),
            "{name} removed"
        );
    }
    for path in ["/dir/sub", "/dir/sub/"] {
        let r = c.request(&delete(path));
        assert_eq!(r.status, 405, "{path}");
        assert_eq!(r.header("allow"), Some("GET, HEAD"));
    }
    assert!(dir.join("sub").is_dir());
    // What GET serves, DELETE removes: a link goes, never what it points to.
    assert_eq!(c.request(&delete("/dir/to-real")).status, 204);
    assert!(fs::symlink_metadata(dir.join("to-real")).is_err());
    assert_eq!(fs::read(dir.join("real.txt")).unwrap(), b"real");
    assert_eq!(c.request(&delete("/dir/real.txt")).status, 204);
    assert!(!dir.join("real.txt").exists());
    assert_eq!(fs::read(s.outside.join("victim.txt")).unwrap(), b"safe");
}

/// The `href`s of a listing page's entries (its table body).
fn hrefs(page: &[u8]) -> Vec<String> {
    let page = String::from_utf8_lossy(page);
    let body = page.split_once("<tbody>").map_or("", |(_, b)| b);
    body.split("href=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

#[test]
fn a_listing_sees_a_put_or_a_delete_at_once() {
    let s = Scratch::new("listing_after_write");
    let srv = s.server(true);
    let mut c = srv.connect();
    assert_eq!(hrefs(&c.request(get("/dir/").as_bytes()).body), ["../"]);
    assert_eq!(c.request(&put("/dir/new.txt", b"new")).status, 201);
    assert_eq!(
        hrefs(&c.request(get("/dir/").as_bytes()).body),
        ["../", "./new.txt"]
    );
    assert_eq!(c.request(&delete("/dir/new.txt")).status, 204);
    assert_eq!(hrefs(&c.request(get("/dir/").as_bytes()).body), ["../"]);
}
