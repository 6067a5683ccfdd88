//! Uploads from the listing page's form: a `multipart/form-data` POST to a directory, with
//! `--allow-write`. Bodies are built by hand and sent as raw bytes: split anywhere, chunked,
//! stalled, cut off; names that try to leave ROOT; the limit; what is left on disk.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use common::{eventually, get, names, Response, TestServer};
use spindle::Config;

const B: &str = "----spindleFormBoundary7MA4YWxk";

type Scratch = common::RootAndOutside;

/// How this file's tests serve the scratch ROOT.
impl Scratch {
    fn dir(&self) -> PathBuf {
        self.root.join("dir")
    }

    /// `--allow-write`, `--max-body 1 KiB` (so an upload over it shows `--max-upload` applies),
    /// [`max_upload`], `--request-timeout 400ms`, then `tweak`.
    fn server_with(&self, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let root = self.root.clone();
        TestServer::with(move |c| {
            c.root = root;
            c.allow_write = true;
            c.max_body = 1024;
            c.max_upload = max_upload() as u64;
            c.request_timeout = Duration::from_millis(400);
            tweak(c);
        })
    }

    fn server(&self) -> TestServer {
        self.server_with(|_| {})
    }
}

/// `--max-upload` in these tests: 64 KiB (4 KiB in torture mode, where bytes move slowly).
fn max_upload() -> usize {
    common::scaled(64 * 1024)
}

/// One part: its name, its filename (a file input) or none (a text field), its data.
type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

/// A body as a browser builds it.
fn form(parts: &[Part<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, filename, data) in parts {
        out.extend_from_slice(format!("--{B}\r\n").as_bytes());
        match filename {
            Some(f) => out.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => out.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{B}--\r\n").as_bytes());
    out
}

/// The head of an upload to `path` with a `Content-Length` of `len`, and `extra` lines.
fn head(path: &str, len: usize, extra: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\n\
         Content-Type: multipart/form-data; boundary={B}\r\nContent-Length: {len}\r\n{extra}\r\n"
    )
    .into_bytes()
}

/// The whole request: head and body.
fn upload(path: &str, body: &[u8], extra: &str) -> Vec<u8> {
    let mut r = head(path, body.len(), extra);
    r.extend_from_slice(body);
    r
}

/// The same body, chunked, in pieces of `piece` bytes.
fn upload_chunked(path: &str, body: &[u8], piece: usize) -> Vec<u8> {
    let mut r = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\n\
         Content-Type: multipart/form-data; boundary={B}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for c in body.chunks(piece) {
        r.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        r.extend_from_slice(c);
        r.extend_from_slice(b"\r\n");
    }
    r.extend_from_slice(b"0\r\n\r\n");
    r
}

/// Names in `dir` that are temporary upload files.
fn temps(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.starts_with(".spindle-upload-"))
        .collect()
}

fn assert_refused(r: &Response, status: u16, says: &str) {
    assert_eq!(r.status, status, "{}", r.body_str());
    assert!(
        r.body_str().contains(says),
        "{status} should say {says:?}: {:?}",
        r.body_str()
    );
    assert_eq!(
        r.body_str().lines().count(),
        1,
        "one line: {:?}",
        r.body_str()
    );
}

const CLEANUP: Duration = Duration::from_secs(3);

#[test]
fn a_form_uploads_its_files_answers_303_and_keeps_the_connection() {
    let s = Scratch::new("basic");
    let srv = s.server();
    let mut c = srv.connect();
    // A request hidden in a file's data: it is data, never answered.
    let smuggled = b"GET /-/plaintext HTTP/1.1\r\nHost: x\r\n\r\n";
    let body = form(&[
        ("mkdir", None, b""),
        ("file", Some("a.txt"), b"alpha"),
        ("file", Some("b.bin"), smuggled),
        ("file", Some(""), b""), // an empty folder input
    ]);
    let r = c.request(&upload("/dir/", &body, ""));
    assert_eq!(r.status, 303, "{}", r.body_str());
    assert_eq!(r.header("location"), Some("/dir/"));
    assert_eq!(r.body_str(), "See Other: /dir/\n");
    assert!(!r.says_close());
    assert_eq!(fs::read(s.dir().join("a.txt")).unwrap(), b"alpha");
    assert_eq!(fs::read(s.dir().join("b.bin")).unwrap(), smuggled);
    assert_eq!(
        names(&s.dir()),
        ["a.txt", "b.bin"],
        "no temporary file left"
    );
    // The next request on the same connection is answered, and it is the only answer.
    let r = c.request(get("/dir/a.txt").as_bytes());
    assert_eq!((r.status, &r.body[..]), (200, &b"alpha"[..]));
    c.assert_silent_for(Duration::from_millis(100));
    // Over --max-body (1 KiB) but within --max-upload: taken.
    let big = vec![b'z'; max_upload() * 5 / 8];
    let r = c.request(&upload("/", &form(&[("file", Some("big"), &big)]), ""));
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/"));
    assert_eq!(fs::read(s.root.join("big")).unwrap(), big);
}

#[test]
fn the_body_split_at_every_byte_gives_the_same_upload() {
    let s = Scratch::new("split");
    let srv = s.server();
    let data = b"\r\n--\r\n----spindleFormBoundary7MA4YWx\r\r\n-";
    let body = form(&[("overwrite", None, b"1"), ("file", Some("f.txt"), data)]);
    let req = upload("/dir/", &body, "");
    let start = req.len() - body.len();
    for cut in start..=req.len() {
        let mut c = srv.connect();
        c.send_split(&req, &[cut], Duration::from_millis(2));
        let r = c.read_response();
        assert_eq!(r.status, 303, "cut at {cut}: {}", r.body_str());
        assert_eq!(
            fs::read(s.dir().join("f.txt")).unwrap(),
            data,
            "cut at {cut}"
        );
    }
    let mut c = srv.connect();
    c.send_bytewise(&req, Duration::ZERO);
    assert_eq!(c.read_response().status, 303);
    assert_eq!(names(&s.dir()), ["f.txt"]);
}

#[test]
fn a_chunked_upload_works_and_the_connection_goes_on() {
    let s = Scratch::new("chunked");
    let srv = s.server();
    let mut c = srv.connect();
    let data: Vec<u8> = (0..max_upload() as u32 * 3 / 4)
        .map(|i| (i % 251) as u8)
        .collect();
    let body = form(&[("file", Some("c.bin"), &data)]);
    let r = c.request(&upload_chunked("/dir/", &body, 333));
    assert_eq!(r.status, 303, "{}", r.body_str());
    assert_eq!(fs::read(s.dir().join("c.bin")).unwrap(), data);
    assert_eq!(c.request(get("/dir/c.bin").as_bytes()).body, data);
}

#[test]
fn the_json_answer_lists_what_was_uploaded_and_created() {
    let s = Scratch::new("json");
    let srv = s.server();
    let mut c = srv.connect();
    let body = form(&[
        ("mkdir", None, b"empty"),
        ("file", Some("photos/2024/a.jpg"), b"jpg"),
        ("file", Some("photos/b.jpg"), b"jpg2"),
        ("file", Some("top.txt"), b"t"),
    ]);
    let r = c.request(&upload("/dir/", &body, "Accept: application/json\r\n"));
    assert_eq!(r.status, 201, "{}", r.body_str());
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.body_str(),
        "{\"uploaded\":[\"photos/2024/a.jpg\",\"photos/b.jpg\",\"top.txt\"],\
         \"created\":[\"empty\",\"photos\",\"photos/2024\"]}\n"
    );
    assert!(s.dir().join("empty").is_dir());
    assert_eq!(fs::read(s.dir().join("photos/2024/a.jpg")).unwrap(), b"jpg");
    assert_eq!(fs::read(s.dir().join("photos/b.jpg")).unwrap(), b"jpg2");
    // Nothing uploaded: 200.
    let r = c.request(&upload(
        "/dir/",
        &form(&[("mkdir", None, b"")]),
        "Accept: application/json\r\n",
    ));
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), "{\"uploaded\":[],\"created\":[]}\n");
    // The listing sees the new files at once (the caches were told).
    assert!(c
        .request(get("/dir/").as_bytes())
        .body_str()
        .contains("top.txt"));
}

#[test]
fn mkdir_makes_a_folder_under_the_same_name_rules() {
    let s = Scratch::new("mkdir");
    let srv = s.server();
    let mut c = srv.connect();
    let r = c.request(&upload("/dir/", &form(&[("mkdir", None, b"new")]), ""));
    assert_eq!(r.status, 303);
    assert!(s.dir().join("new").is_dir());
    let r = c.request(&upload("/dir/", &form(&[("mkdir", None, b"new")]), ""));
    assert_refused(&r, 409, "\"new\" already exists");
    for (bad, says) in [
        ("../escape", "a . or .. segment"),
        (".hidden", "hidden"),
        ("/abs", "absolute"),
    ] {
        let r = c.request(&upload(
            "/dir/",
            &form(&[("mkdir", None, bad.as_bytes())]),
            "",
        ));
        assert_refused(&r, 400, says);
    }
    assert_eq!(names(&s.dir()), ["new"]);
    assert_eq!(names(&s.root), ["dir"]);
}

#[test]
fn an_existing_name_is_refused_unless_overwrite_came_first() {
    let s = Scratch::new("overwrite");
    fs::write(s.dir().join("keep.txt"), b"old").unwrap();
    let srv = s.server();
    let mut c = srv.connect();
    let r = c.request(&upload(
        "/dir/",
        &form(&[("file", Some("keep.txt"), b"new")]),
        "",
    ));
    assert_refused(&r, 409, "\"keep.txt\" already exists");
    assert_eq!(fs::read(s.dir().join("keep.txt")).unwrap(), b"old");
    // `overwrite` applies to the file parts after it only.
    let body = form(&[
        ("file", Some("fresh.txt"), b"f"),
        ("overwrite", None, b"1"),
        ("file", Some("keep.txt"), b"new"),
    ]);
    assert_eq!(c.request(&upload("/dir/", &body, "")).status, 303);
    assert_eq!(fs::read(s.dir().join("keep.txt")).unwrap(), b"new");
    let body = form(&[
        ("file", Some("fresh.txt"), b"again"),
        ("overwrite", None, b"1"),
    ]);
    assert_refused(&c.request(&upload("/dir/", &body, "")), 409, "fresh.txt");
    assert_eq!(fs::read(s.dir().join("fresh.txt")).unwrap(), b"f");
    // A folder is never replaced by a file.
    fs::create_dir(s.dir().join("sub")).unwrap();
    let body = form(&[("overwrite", None, b"1"), ("file", Some("sub"), b"x")]);
    assert_refused(
        &c.request(&upload("/dir/", &body, "")),
        409,
        "\"sub\" is a folder",
    );
    assert!(s.dir().join("sub").is_dir());
    assert!(temps(&s.dir()).is_empty());
}

#[test]
fn two_parts_with_the_same_name_the_second_is_refused() {
    let s = Scratch::new("twice");
    let srv = s.server();
    let mut c = srv.connect();
    for overwrite in [&b""[..], b"1"] {
        let mut parts: Vec<Part<'_>> = vec![];
        if !overwrite.is_empty() {
            parts.push(("overwrite", None, overwrite));
        }
        parts.push(("file", Some("same.txt"), b"first"));
        parts.push(("file", Some("same.txt"), b"second"));
        let r = c.request(&upload("/dir/", &form(&parts), ""));
        assert_refused(&r, 409, "\"same.txt\"");
        assert_eq!(fs::read(s.dir().join("same.txt")).unwrap(), b"first");
        fs::remove_file(s.dir().join("same.txt")).unwrap();
    }
}

#[test]
fn names_that_would_leave_the_directory_or_are_hidden_are_refused() {
    let s = Scratch::new("names");
    std::os::unix::fs::symlink(&s.outside, s.dir().join("out")).unwrap();
    let srv = s.server();
    let mut c = srv.connect();
    for (name, status, says) in [
        ("../x.txt", 400, "a . or .. segment"),
        ("../../outside/x.txt", 400, "a . or .. segment"),
        ("a/../../x.txt", 400, "a . or .. segment"),
        ("/tmp/x.txt", 400, "absolute"),
        (".env", 400, "hidden"),
        ("sub/.git/config", 400, "hidden"),
        ("a//b.txt", 400, "an empty segment"),
        ("a\\\\b.txt", 400, "backslash"),
        ("out/x.txt", 403, "leads out of the root"),
    ] {
        let body = form(&[("file", Some(name), b"evil")]);
        let r = c.request(&upload("/dir/", &body, ""));
        assert_refused(&r, status, says);
        let named = name
            .strip_suffix("/x.txt")
            .filter(|_| status == 403)
            .unwrap_or(name);
        assert!(r.body_str().contains(named), "names it: {}", r.body_str());
    }
    assert_eq!(names(&s.outside), Vec::<String>::new());
    assert_eq!(names(&s.dir()), ["out"]);
    assert_eq!(names(&s.root), ["dir"]);
    // With --show-hidden, dotfiles are fine.
    let srv = s.server_with(|c| c.show_hidden = true);
    let mut c = srv.connect();
    let r = c.request(&upload(
        "/dir/",
        &form(&[("file", Some(".env"), b"A=1")]),
        "",
    ));
    assert_eq!(r.status, 303);
    assert_eq!(fs::read(s.dir().join(".env")).unwrap(), b"A=1");
}

#[test]
fn malformed_forms_are_400_with_a_reason() {
    let s = Scratch::new("malformed");
    let srv = s.server_with(|c| c.max_upload = 64 * 1024); // room for a 9 KB part head
    let mut c = srv.connect();
    let no_name = format!(
        "--{B}\r\nContent-Disposition: form-data; filename=\"a.txt\"\r\n\r\nx\r\n--{B}--\r\n"
    );
    let r = c.request(&upload("/dir/", no_name.as_bytes(), ""));
    assert_refused(&r, 400, "a part without a name");
    let unknown = form(&[("avatar", Some("a.png"), b"x")]);
    assert_refused(
        &c.request(&upload("/dir/", &unknown, "")),
        400,
        "unknown form field \"avatar\"",
    );
    let no_filename = form(&[("file", None, b"x")]);
    assert_refused(
        &c.request(&upload("/dir/", &no_filename, "")),
        400,
        "without a filename",
    );
    let data_no_name = form(&[("file", Some(""), b"x")]);
    assert_refused(
        &c.request(&upload("/dir/", &data_no_name, "")),
        400,
        "no filename",
    );
    let huge_head = format!(
        "--{B}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\nX-Pad: {}\r\n\r\nx\r\n--{B}--\r\n",
        "p".repeat(9000)
    );
    assert_refused(
        &c.request(&upload("/dir/", huge_head.as_bytes(), "")),
        400,
        "over 8 KiB",
    );
    let mut cut = form(&[("file", Some("cut.txt"), b"x")]);
    cut.truncate(cut.len() - 6);
    assert_refused(
        &c.request(&upload("/dir/", &cut, "")),
        400,
        "closing boundary",
    );
    // The connection survived every one of them (each body read to its end).
    assert_eq!(c.request(get("/-/plaintext").as_bytes()).status, 200);
    // Not multipart: 415. A bad boundary: 400.
    let r = c.request(&common::post(
        "/dir/",
        "application/x-www-form-urlencoded",
        b"a=1",
    ));
    assert_refused(&r, 415, "multipart/form-data");
    let r = c.request(&common::post("/dir/", "multipart/form-data", b""));
    assert_refused(&r, 400, "without a boundary");
    assert_eq!(names(&s.dir()), Vec::<String>::new());
}

#[test]
fn without_allow_write_a_post_to_a_folder_stays_405() {
    let s = Scratch::new("noflag");
    let srv = s.server_with(|c| c.allow_write = false);
    let mut c = srv.connect();
    let r = c.request(&upload("/dir/", &form(&[("file", Some("a"), b"x")]), ""));
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    assert_eq!(names(&s.dir()), Vec::<String>::new());
}

#[test]
fn a_missing_folder_is_a_409_of_its_own() {
    let s = Scratch::new("missing");
    fs::write(s.dir().join("file.txt"), b"x").unwrap();
    let srv = s.server();
    let mut c = srv.connect();
    let r = c.request(&upload("/nodir/", &form(&[("file", Some("a"), b"x")]), ""));
    assert_refused(&r, 409, "no folder /nodir/");
    // A parent that is a file, in a folder upload's path.
    let r = c.request(&upload(
        "/dir/",
        &form(&[("file", Some("file.txt/a"), b"x")]),
        "",
    ));
    assert_refused(&r, 409, "\"file.txt\" is not a folder");
    assert_eq!(names(&s.root), ["dir"]);
}

#[test]
fn the_upload_limit_is_413_up_front_and_while_decoding() {
    let s = Scratch::new("limit");
    let srv = s.server();
    // Declared over --max-upload: 413 before any of the body is sent.
    let mut c = srv.connect();
    c.send(&head("/dir/", max_upload() + 1, ""));
    let r = c.read_response();
    assert_eq!(r.status, 413);
    // Chunked, and the closing boundary never comes: 413 once the body passes the limit.
    let mut c = srv.connect();
    let mut req = format!(
        "POST /dir/ HTTP/1.1\r\nHost: x\r\n\
         Content-Type: multipart/form-data; boundary={B}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    let start = format!(
        "--{B}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"endless\"\r\n\r\n"
    );
    req.extend_from_slice(format!("{:x}\r\n{start}\r\n", start.len()).as_bytes());
    c.send(&req);
    // Data without end, from another thread (the server stops reading at the limit).
    let mut writer = c.stream.try_clone().unwrap();
    let feeder = thread::spawn(move || {
        let mut chunk = format!("{:x}\r\n", 4096).into_bytes();
        chunk.extend_from_slice(&[b'e'; 4096]);
        chunk.extend_from_slice(b"\r\n");
        for _ in 0..max_upload() / 4096 + 2 {
            if std::io::Write::write_all(&mut writer, &chunk).is_err() {
                break;
            }
        }
    });
    let r = c.read_response();
    let _ = feeder.join();
    assert_eq!(r.status, 413);
    eventually(CLEANUP, "the temporary file removed", || {
        temps(&s.dir()).is_empty()
    });
    assert_eq!(names(&s.dir()), Vec::<String>::new());
}

#[test]
fn a_client_that_stalls_mid_part_gets_408_and_leaves_nothing() {
    let s = Scratch::new("stall");
    let srv = s.server();
    let mut c = srv.connect();
    let body = form(&[
        ("file", Some("done.txt"), b"ok"),
        ("file", Some("slow.txt"), b"never"),
    ]);
    let req = upload("/dir/", &body, "");
    let cut = req.len() - 20;
    let t = Instant::now();
    c.send(&req[..cut]);
    let r = c.read_response();
    assert_eq!(r.status, 408);
    assert!(
        t.elapsed() >= Duration::from_millis(350),
        "{:?}",
        t.elapsed()
    );
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    eventually(CLEANUP, "the part in progress removed", || {
        names(&s.dir()) == ["done.txt"]
    });
    assert_eq!(fs::read(s.dir().join("done.txt")).unwrap(), b"ok");
}

#[test]
fn a_disconnect_mid_part_keeps_the_parts_before_it_and_nothing_else() {
    let s = Scratch::new("disconnect");
    let srv = s.server();
    let big = vec![b'b'; max_upload() * 3 / 4];
    let body = form(&[
        ("file", Some("first.txt"), b"complete"),
        ("file", Some("second.bin"), &big),
    ]);
    let req = upload("/dir/", &body, "");
    let mut c = srv.connect();
    c.send(&req[..req.len() - big.len() / 2]);
    // The first part is put in place as soon as it is complete, while the second streams.
    eventually(CLEANUP, "first.txt in place", || {
        s.dir().join("first.txt").exists()
    });
    assert_eq!(temps(&s.dir()).len(), 1, "the second part's temporary file");
    drop(c);
    eventually(CLEANUP, "the temporary file removed", || {
        names(&s.dir()) == ["first.txt"]
    });
    assert_eq!(fs::read(s.dir().join("first.txt")).unwrap(), b"complete");
    srv.assert_alive();
    thread::sleep(Duration::from_millis(50));
}

#[test]
fn a_name_that_appears_while_its_part_streams_is_not_clobbered() {
    let s = Scratch::new("race");
    let srv = s.server();
    let body = form(&[("file", Some("race.txt"), b"from the form")]);
    let req = upload("/dir/", &body, "");
    let mut c = srv.connect();
    c.send(&req[..req.len() - 20]);
    eventually(CLEANUP, "the part under way", || temps(&s.dir()).len() == 1);
    fs::write(s.dir().join("race.txt"), b"someone else's").unwrap();
    c.send(&req[req.len() - 20..]);
    let r = c.read_response();
    assert_refused(&r, 409, "\"race.txt\" already exists");
    assert_eq!(
        fs::read(s.dir().join("race.txt")).unwrap(),
        b"someone else's"
    );
    assert_eq!(names(&s.dir()), ["race.txt"]);
}

#[test]
fn field_values_are_bounded() {
    let s = Scratch::new("fields");
    let srv = s.server();
    let mut c = srv.connect();
    let r = c.request(&upload(
        "/dir/",
        &form(&[("overwrite", None, &[b'1'; 17])]),
        "",
    ));
    assert_refused(&r, 400, "a form field over 16 bytes");
    let r = c.request(&upload("/dir/", &form(&[("overwrite", None, b"yes")]), ""));
    assert_refused(&r, 400, "overwrite must be 1");
    let r = c.request(&upload(
        "/dir/",
        &form(&[("mkdir", None, &[b'm'; 1025])]),
        "",
    ));
    assert_refused(&r, 400, "a form field over 1024 bytes");
    assert_eq!(names(&s.dir()), Vec::<String>::new());
}

#[test]
fn folder_uploads_are_bounded_in_depth_and_in_folders_made() {
    let s = Scratch::new("deep");
    let srv = s.server_with(|c| c.max_upload = 1 << 20);
    let mut c = srv.connect();
    let deep = "d/".repeat(32) + "f";
    let r = c.request(&upload("/dir/", &form(&[("file", Some(&deep), b"x")]), ""));
    assert_refused(&r, 400, "more than 32 segments deep");
    assert_eq!(names(&s.dir()), Vec::<String>::new());
    // Parts 31 new folders deep each: 33 make 1023 folders, the 34th reaches the limit.
    let paths: Vec<String> = (0..34)
        .map(|i| format!("t{i}/{}f", "d/".repeat(30)))
        .collect();
    let parts: Vec<Part<'_>> = paths
        .iter()
        .map(|p| ("file", Some(p.as_str()), &b"x"[..]))
        .collect();
    let r = c.request(&upload("/dir/", &form(&parts), ""));
    assert_refused(&r, 400, "more than 1024 new folders in one form");
    let (mut dirs, mut files) = (0, 0);
    let mut todo = vec![s.dir()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                dirs += 1;
                todo.push(e.path());
            } else {
                files += 1;
            }
        }
    }
    assert_eq!(
        (dirs, files),
        (1024, 33),
        "no folder past the limit, no temporary file"
    );
}
