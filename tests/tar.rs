//! Folder download over real sockets (issue 13): `GET /dir/?download=tar` streams a pax/ustar
//! archive, read back here by Python's `tarfile` (strict, `filter="data"`) and compared with
//! the tree on disk, names and bytes. Long names and deep paths, dotfiles both ways, symlinks
//! (never followed out of ROOT), empty directories, files that grow or shrink while a slow
//! client reads, a client that leaves mid-archive, and torture mode.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::Duration;

use common::*;

/// What an archive holds: path -> `None` for a directory, `Some(bytes)` for a file.
type Tree = BTreeMap<String, Option<Vec<u8>>>;

/// Reads `tar` with Python's `tarfile` (errors are fatal; `filter="data"` refuses absolute
/// names, `..`, links and devices; the end must follow the last member) into `out`, and
/// returns what it holds.
fn untar(tar: &[u8], out: &Path) -> Tree {
    std::fs::create_dir_all(out).unwrap();
    let file = out.join("archive.tar");
    std::fs::write(&file, tar).unwrap();
    let script = r#"
import sys, tarfile
with tarfile.open(sys.argv[1], "r:", errorlevel=2) as t:
    members = t.getmembers()
    t.extractall(sys.argv[2], filter="data")
    # tarfile stops quietly at a broken header: what follows the last member must be the
    # end, zeros only, at least two blocks of them.
    rest = open(sys.argv[1], "rb").read()[t.offset:]
    if len(rest) < 1024 or rest.count(0) != len(rest):
        sys.exit(f"not the end of an archive at {t.offset}: {rest[:64]!r}")
for m in members:
    kind = "d" if m.isdir() else "f" if m.isfile() else "?"
    sys.stdout.buffer.write(kind.encode() + b"\t" + m.name.encode("utf-8", "surrogateescape") + b"\n")
"#;
    let dest = out.join("x");
    let run = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&file)
        .arg(&dest)
        .output()
        .expect("python3");
    assert!(
        run.status.success(),
        "tarfile refused the archive: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut tree = Tree::new();
    for line in String::from_utf8(run.stdout).unwrap().lines() {
        let (kind, name) = line.split_once('\t').unwrap();
        let content = match kind {
            "d" => None,
            "f" => Some(std::fs::read(dest.join(name)).unwrap()),
            other => panic!("{name}: an entry of kind {other}"),
        };
        assert!(
            tree.insert(name.to_string(), content).is_none(),
            "{name} twice"
        );
    }
    tree
}

/// The tree under `dir` on disk, named under `top` as the archive names it: regular files
/// and directories, no symlinks, dotfiles only if `hidden`.
fn on_disk(dir: &Path, top: &str, hidden: bool) -> Tree {
    let mut tree = Tree::new();
    tree.insert(top.to_string(), None);
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        if name.starts_with('.') && !hidden {
            continue;
        }
        let t = e.file_type().unwrap();
        let path = format!("{top}/{name}");
        if t.is_dir() {
            tree.extend(on_disk(&e.path(), &path, hidden));
        } else if t.is_file() {
            tree.insert(path, Some(std::fs::read(e.path()).unwrap()));
        }
    }
    tree
}

/// Asserts two trees are equal, naming what differs (not printing every byte).
#[track_caller]
fn assert_same(got: &Tree, want: &Tree) {
    let names = |t: &Tree| t.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(got), names(want), "the names");
    for (name, content) in want {
        assert!(&got[name] == content, "{name}: the bytes differ");
    }
}

/// The chunked body's bytes (strictly framed: the test fails on anything else).
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size = usize::from_str_radix(std::str::from_utf8(&body[..eol]).unwrap(), 16).unwrap();
        body = &body[eol + 2..];
        if size == 0 {
            assert_eq!(body, b"\r\n", "after the last chunk");
            return out;
        }
        out.extend_from_slice(&body[..size]);
        assert_eq!(&body[size..size + 2], b"\r\n");
        body = &body[size + 2..];
    }
}

/// A scratch ROOT with a little of everything under `site/`.
fn site(tag: &str) -> ScratchDir {
    let d = ScratchDir::new(tag);
    d.write(
        "site/index.html",
        b"<p>an index does not stop a download</p>",
    );
    d.write("site/a.txt", b"alpha");
    d.write("site/empty-file", b"");
    d.write("site/sub/b.bin", pattern(70_000));
    d.write("site/sub/odd size", pattern(513));
    d.write("site/.secret", b"dotfile");
    d.write("site/.dotdir/inside.txt", b"hidden dir");
    d.mkdir("site/empty-dir");
    d.mkdir("site/sub/empty-too");
    // Longer than ustar's 100 bytes, and deep.
    let long = format!("site/{}/{}.txt", "l".repeat(90), "n".repeat(80));
    d.write(&long, b"long name");
    // Deep, within the 32 directories a walk keeps open.
    let deep: String = (0..30).map(|i| format!("d{i}/")).collect();
    d.write(format!("site/{deep}leaf.txt"), b"deep");
    d.write("site/ünïcödé name.txt", b"utf-8");
    d
}

fn serve(d: &ScratchDir, tweak: impl FnOnce(&mut spindle::Config)) -> TestServer {
    let root = d.path().to_owned();
    TestServer::with(move |c| {
        c.root = root;
        tweak(c);
    })
}

/// `GET target` on a fresh connection: the response, checked for framing.
fn download(addr: SocketAddr, target: &str) -> Response {
    let mut c = Client::connect(addr);
    c.set_read_timeout(Duration::from_secs(30));
    c.send(format!("GET {target} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
    let r = c.read_response();
    r.assert_framed();
    r
}

#[test]
fn the_archive_holds_the_tree_names_and_bytes() {
    let d = site("tar-tree");
    let srv = serve(&d, |_| {});
    let r = download(srv.addr, "/site/?download=tar");
    assert_eq!(r.status, 200);
    assert!(r.is_chunked(), "the length is not known ahead");
    assert_eq!(r.header("content-type"), Some("application/x-tar"));
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"site.tar\"; filename*=UTF-8''site.tar")
    );
    assert_eq!(r.body.len() % 512, 0);
    let got = untar(&r.body, &d.join("out"));
    let want = on_disk(&d.join("site"), "site", false);
    assert_same(&got, &want);
    assert!(got.contains_key("site/empty-dir") && got.contains_key("site/sub/empty-too"));
    assert!(got.keys().any(|k| k.len() > 150), "the long name is whole");
    assert!(!got
        .keys()
        .any(|k| k.contains("secret") || k.contains("dotdir")));
    // A subdirectory's archive is named after it; ROOT's after ROOT.
    let r = download(srv.addr, "/site/sub/?download=tar");
    let got = untar(&r.body, &d.join("out-sub"));
    assert_same(&got, &on_disk(&d.join("site/sub"), "sub", false));
    let r = download(srv.addr, "/?download=tar");
    let top = d.path().file_name().unwrap().to_str().unwrap().to_string();
    assert!(r
        .header("content-disposition")
        .unwrap()
        .contains(&format!("filename=\"{top}.tar\"")));
}

#[test]
fn dotfiles_follow_show_hidden() {
    let d = site("tar-hidden");
    let srv = serve(&d, |c| c.show_hidden = true);
    let r = download(srv.addr, "/site/?download=tar");
    let got = untar(&r.body, &d.join("out"));
    assert_same(&got, &on_disk(&d.join("site"), "site", true));
    assert_eq!(got["site/.secret"].as_deref(), Some(&b"dotfile"[..]));
    assert!(got.contains_key("site/.dotdir/inside.txt"));
}

#[test]
fn symlinks_are_not_followed() {
    let outside = ScratchDir::new("tar-outside");
    outside.write("secret.txt", b"outside ROOT");
    outside.write("dir/more.txt", b"outside ROOT too");
    let d = ScratchDir::new("tar-links");
    d.write("site/real.txt", b"inside");
    d.write("site/inner/x.txt", b"x");
    let link = |target: &Path, name: &str| {
        std::os::unix::fs::symlink(target, d.join(name)).unwrap();
    };
    link(&outside.join("secret.txt"), "site/to-file");
    link(outside.path(), "site/to-dir");
    link(&d.join("site/inner"), "site/inner-link");
    link(Path::new("/etc"), "site/etc");
    let srv = serve(&d, |_| {});
    let r = download(srv.addr, "/site/?download=tar");
    let got = untar(&r.body, &d.join("out"));
    let names: Vec<&str> = got.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["site", "site/inner", "site/inner/x.txt", "site/real.txt"]
    );
    assert!(!r.body.windows(12).any(|w| w == b"outside ROOT"));
}

#[test]
fn head_bad_values_redirects_and_no_listing() {
    let d = site("tar-misc");
    let srv = serve(&d, |_| {});
    let mut c = srv.connect();
    c.send(b"HEAD /site/?download=tar HTTP/1.1\r\nHost: t\r\n\r\n");
    let h = c.read_head_response();
    assert_eq!(h.status, 200);
    assert_eq!(h.header("content-type"), Some("application/x-tar"));
    assert!(h.body.is_empty());
    // Anything else named download is a 400 saying why; the connection stays in step.
    for q in [
        "download=zip",
        "download=",
        "download",
        "download=TAR",
        "x=1&download=tgz",
    ] {
        c.send(format!("GET /site/?{q} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
        let r = c.read_response();
        assert_eq!(
            (r.status, r.body_str().as_str()),
            (400, "download must be tar\n"),
            "{q}"
        );
    }
    c.send(b"GET /site/?download=t%61r HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(
        c.read_response().header("content-type"),
        Some("application/x-tar")
    );
    // A name with quotes, backslashes and more is safe in the quoted form, whole in filename*.
    d.write("site/say \"hi\" \\ é;x/f.txt", b"f");
    c.send(
        b"GET /site/say%20%22hi%22%20%5C%20%C3%A9%3Bx/?download=tar HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"say _hi_ _ __;x.tar\"; filename*=UTF-8''say%20%22hi%22%20%5C%20%C3%A9%3Bx.tar")
    );
    // Another spelling of the directory is sent to its normal form, query kept.
    c.send(b"GET /site?download=tar HTTP/1.1\r\nHost: t\r\n\r\n");
    let r = c.read_response();
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/site/?download=tar"));
    // On a file, the query is ignored as before.
    c.send(b"GET /site/a.txt?download=tar HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(c.read_response().body, b"alpha");
    // Pipelined behind an archive, a request is answered after its last chunk.
    c.send(b"GET /site/sub/?download=tar HTTP/1.1\r\nHost: t\r\n\r\nGET /-/plaintext HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(c.read_response().status, 200);
    assert_eq!(c.read_response().body, b"Hello, World!");
    drop(c);
    // With --no-listing a folder cannot be downloaded either: the index, as before.
    let srv = serve(&d, |c| c.listing = false);
    let r = download(srv.addr, "/site/?download=tar");
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    // A request split at every byte gets the same archive.
    let srv = serve(&d, |_| {});
    let whole = download(srv.addr, "/site/sub/?download=tar");
    let mut c = srv.connect();
    c.send_bytewise(
        b"GET /site/sub/?download=tar HTTP/1.1\r\nHost: t\r\n\r\n",
        Duration::ZERO,
    );
    let r = c.read_response();
    assert_eq!(
        untar(&r.body, &d.join("a")),
        untar(&whole.body, &d.join("b"))
    );
}

/// A file big enough that the server is still sending it when the test changes it.
const BIG: usize = 24 << 20;

/// The binary serving `d` with `env`, and a slow client that has read `head_start` bytes of
/// `target`'s archive (and then reads nothing while `meanwhile` runs).
fn slow_download(
    d: &ScratchDir,
    env: &[(&str, &std::ffi::OsStr)],
    meanwhile: impl FnOnce(),
) -> (Vec<u8>, String) {
    let root = d.path().to_str().unwrap();
    let mut srv = spawn_binary_piped_with_env(&["--bind", "127.0.0.1:0", root], env);
    let mut c = Client::connect_narrow(srv.addr.parse().unwrap(), 16 * 1024);
    c.send(b"GET /site/?download=tar HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    let head = c.read_head_bytewise();
    assert!(head.contains("chunked"), "{head}");
    let mut body = c.read_exact(8 * 1024);
    meanwhile();
    body.extend(c.read_to_close());
    let (status, _) = srv.signal_and_wait(libc::SIGTERM, Duration::from_secs(10));
    assert!(status.success());
    (dechunk(&body), srv.read_stderr())
}

#[test]
fn a_file_that_shrinks_while_sent_is_padded_with_zeros() {
    let d = ScratchDir::new("tar-shrink");
    let data = pattern(BIG); // no zero byte in it
    d.write("site/big.bin", &data);
    let (tar, log) = slow_download(&d, &[], || {
        std::fs::OpenOptions::new()
            .write(true)
            .open(d.join("site/big.bin"))
            .unwrap()
            .set_len(1 << 20)
            .unwrap();
    });
    let got = untar(&tar, &d.join("out"));
    let sent = got["site/big.bin"].as_ref().unwrap();
    assert_eq!(sent.len(), BIG, "the size the header announced");
    let k = sent
        .iter()
        .position(|&b| b == 0)
        .expect("zeros where the file ended");
    assert!((1 << 20..BIG).contains(&k), "cut at {k}");
    assert_eq!(&sent[..k], &data[..k]);
    assert!(sent[k..].iter().all(|&b| b == 0));
    assert!(log.contains("padded with zeros"), "{log}");
}

#[test]
fn a_file_that_grows_while_sent_is_cut_to_its_header() {
    let d = ScratchDir::new("tar-grow");
    let data = pattern(BIG);
    d.write("site/big.bin", &data);
    d.write("site/zz-after.txt", b"after");
    let (tar, log) = slow_download(&d, &[], || {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(d.join("site/big.bin"))
            .unwrap();
        f.write_all(&vec![b'!'; 1 << 20]).unwrap();
    });
    let got = untar(&tar, &d.join("out"));
    assert!(
        got["site/big.bin"].as_deref() == Some(&data[..]),
        "exactly as announced"
    );
    assert_eq!(got["site/zz-after.txt"].as_deref(), Some(&b"after"[..]));
    assert!(log.contains("grew while sent"), "{log}");
}

/// Descriptors the process `pid` has open on files and directories under `dir` (only those:
/// the count of all of them moves with every connection, and with pipes a concurrently
/// spawned child may inherit).
fn fds_under(pid: u32, dir: &Path) -> usize {
    let dir = dir.canonicalize().unwrap();
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target.starts_with(&dir))
        .count()
}

#[test]
fn a_client_that_leaves_mid_archive_frees_everything() {
    let d = ScratchDir::new("tar-leave");
    let deep: String = (0..10).map(|i| format!("d{i}/")).collect();
    d.write(format!("site/{deep}big.bin"), pattern(BIG));
    let root = d.path().to_str().unwrap();
    let srv = spawn_binary_piped(&["--bind", "127.0.0.1:0", root]);
    let pid = srv.child.id();
    let addr: SocketAddr = srv.addr.parse().unwrap();
    assert_eq!(fds_under(pid, d.path()), 0);
    let mut c = Client::connect_narrow(addr, 16 * 1024);
    c.send(b"GET /site/?download=tar HTTP/1.1\r\nHost: t\r\n\r\n");
    c.read_head_bytewise();
    c.read_exact(64 * 1024);
    // Mid-archive: 11 directories and the file open.
    eventually(Duration::from_secs(5), "the walk's descriptors", || {
        fds_under(pid, d.path()) == 12
    });
    c.reset();
    eventually(Duration::from_secs(5), "every descriptor closed", || {
        fds_under(pid, d.path()) == 0
    });
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"GET /-/plaintext HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.ends_with("Hello, World!"), "still serving");
}

#[test]
fn torture_mode_archives_are_whole() {
    let d = site("tar-torture");
    d.write("site/sub/c.bin", pattern(300_000));
    let root = d.path().to_str().unwrap();
    let srv = spawn_binary_piped_with_env(
        &["--bind", "127.0.0.1:0", root],
        &[("SPINDLE_TORTURE", "1".as_ref())],
    );
    let addr: SocketAddr = srv.addr.parse().unwrap();
    let r = download(addr, "/site/?download=tar");
    let got = untar(&r.body, &d.join("out"));
    assert_same(&got, &on_disk(&d.join("site"), "site", false));
    thread::sleep(Duration::from_millis(10));
}
