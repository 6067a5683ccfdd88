//! The HTML listing page over real sockets (issue 13): sorting by `?sort=name|size|date` and
//! `order=asc|desc` (HTML and JSON; directories first; ties by name; a bad value is a 400 with
//! its reason), the breadcrumb's links, human sizes, hostile names in the new places a name
//! appears (title, breadcrumb), the upload form only with `--allow-write`, and the query kept
//! through the redirect to a directory's normal form.

mod common;

use std::fs::File;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use common::{Response, ScratchDir, TestServer};

fn set_mtime(p: &Path, secs: u64) {
    let t = UNIX_EPOCH + Duration::from_secs(secs);
    File::options()
        .write(true)
        .open(p)
        .or_else(|_| File::open(p))
        .unwrap()
        .set_modified(t)
        .unwrap();
}

/// `d/` with files of chosen sizes and dates (two ties on each key) and two directories.
fn tree() -> ScratchDir {
    let s = ScratchDir::new("listing-page");
    // name, size, mtime
    for (name, size, mtime) in [
        ("b.txt", 10, 3_000),
        ("a.txt", 10, 2_000),
        ("c.txt", 2_000, 1_000),
        ("d.txt", 1, 2_000),
    ] {
        let p = s.write(Path::new("d").join(name), vec![b'x'; size]);
        set_mtime(&p, mtime);
    }
    set_mtime(&s.mkdir("d/zdir"), 1_000);
    set_mtime(&s.mkdir("d/adir"), 5_000);
    s
}

fn server(root: &ScratchDir, allow_write: bool) -> TestServer {
    let dir = root.path().to_owned();
    TestServer::with(|c| {
        c.root = dir;
        c.allow_write = allow_write;
        c.max_upload = 3 << 20;
    })
}

fn get(srv: &TestServer, target: &str, accept: Option<&str>) -> Response {
    let mut c = srv.connect();
    let accept = accept.map_or(String::new(), |a| format!("Accept: {a}\r\n"));
    c.request(format!("GET {target} HTTP/1.1\r\nHost: x\r\n{accept}\r\n").as_bytes())
}

/// The entries' names in the page's table body, in order (`../` left out).
fn names(page: &str) -> Vec<String> {
    let body = page.split_once("<tbody>").map_or("", |(_, b)| b);
    body.split("<tr><td><a href=\"")
        .skip(1)
        .map(|row| {
            let text = &row[row.find("\">").unwrap() + 2..row.find("</a>").unwrap()];
            text.to_string()
        })
        .filter(|n| n != "../")
        .collect()
}

/// The names in a JSON listing, in order.
fn json_names(body: &str) -> Vec<String> {
    body.split("{\"name\": \"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

#[test]
fn every_sort_order_with_ties_and_directories_first() {
    let root = tree();
    let srv = server(&root, false);
    let cases = [
        ("", ["adir/", "zdir/", "a.txt", "b.txt", "c.txt", "d.txt"]),
        (
            "?order=desc",
            ["zdir/", "adir/", "d.txt", "c.txt", "b.txt", "a.txt"],
        ),
        (
            "?sort=name&order=asc",
            ["adir/", "zdir/", "a.txt", "b.txt", "c.txt", "d.txt"],
        ),
        // a.txt and b.txt are both 10 bytes: by name, reversed in desc.
        (
            "?sort=size",
            ["adir/", "zdir/", "d.txt", "a.txt", "b.txt", "c.txt"],
        ),
        (
            "?sort=size&order=desc",
            ["zdir/", "adir/", "c.txt", "b.txt", "a.txt", "d.txt"],
        ),
        // a.txt and d.txt share a second; directories by date too.
        (
            "?sort=date",
            ["zdir/", "adir/", "c.txt", "a.txt", "d.txt", "b.txt"],
        ),
        (
            "?sort=date&order=desc",
            ["adir/", "zdir/", "b.txt", "d.txt", "a.txt", "c.txt"],
        ),
        (
            "?x=1&sort=%73ize&view=no",
            ["adir/", "zdir/", "d.txt", "a.txt", "b.txt", "c.txt"],
        ),
    ];
    for (query, want) in cases {
        let r = get(&srv, &format!("/d/{query}"), None);
        assert_eq!(r.status, 200, "{query}");
        assert_eq!(names(&r.body_str()), want, "{query}");
        // The JSON array is in the same order (names without the directories' `/`).
        let r = get(&srv, &format!("/d/{query}"), Some("application/json"));
        let plain: Vec<&str> = want.iter().map(|n| n.trim_end_matches('/')).collect();
        assert_eq!(json_names(&r.body_str()), plain, "{query}");
    }
}

#[test]
fn the_column_links_sort_and_reverse() {
    let root = tree();
    let srv = server(&root, false);
    let page = get(&srv, "/d/", None).body_str();
    let head = &page[page.find("<thead>").unwrap()..page.find("</thead>").unwrap()];
    let link = |label: &str| {
        let end = head.find(&format!("\">{label}")).unwrap();
        let start = head[..end].rfind("href=\"").unwrap() + 6;
        head[start..end].replace("&amp;", "&")
    };
    assert_eq!(link("Size"), "./?sort=size&order=asc");
    assert_eq!(
        link("Name"),
        "./?sort=name&order=desc",
        "the current column reverses"
    );
    // Followed as a browser would (relative to /d/), the size link sorts, and is marked.
    let sized = get(&srv, "/d/?sort=size&order=asc", None).body_str();
    assert_eq!(names(&sized)[2..], ["d.txt", "a.txt", "b.txt", "c.txt"]);
    assert!(sized.contains("<th class=\"size\" aria-sort=\"ascending\"><a href=\"./?sort=size&amp;order=desc\">Size \u{25b2}</a>"), "{sized}");
    assert_eq!(sized.matches("aria-sort").count(), 1);
}

#[test]
fn bad_sort_parameters_are_400_with_the_reason_and_the_connection_goes_on() {
    let root = tree();
    let srv = server(&root, false);
    let mut c = srv.connect();
    for (query, reason) in [
        ("sort=bogus", "sort must be name, size or date\n"),
        ("sort=", "sort must be name, size or date\n"),
        ("sort=%", "sort must be name, size or date\n"),
        ("sort=SIZE", "sort must be name, size or date\n"),
        ("sort=size&order=sideways", "order must be asc or desc\n"),
        ("order=", "order must be asc or desc\n"),
    ] {
        for method in ["GET", "HEAD"] {
            let req = format!("{method} /d/?{query} HTTP/1.1\r\nHost: x\r\n\r\n");
            c.send(req.as_bytes());
            let r = c.read_response_for(method == "HEAD");
            assert_eq!(r.status, 400, "{method} {query}");
            if method == "GET" {
                assert_eq!(r.body_str(), reason, "{query}");
            }
            assert!(!r.says_close(), "{query}");
        }
    }
    // Still the same connection: a good listing after them.
    let r = c.request(b"GET /d/?sort=date HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status, 200);
    // A file, or a directory with an index, ignores the query as before.
    root.write("d/adir/index.html", "home");
    assert_eq!(get(&srv, "/d/adir/?sort=bogus", None).body_str(), "home");
    assert_eq!(get(&srv, "/d/a.txt?sort=bogus", None).status, 200);
}

#[test]
fn sorted_listings_pipelined_and_split_at_every_byte() {
    let root = tree();
    let srv = server(&root, false);
    let want = names(&get(&srv, "/d/?sort=size&order=desc", None).body_str());
    let req = b"GET /d/?sort=size&order=desc HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut c = srv.connect();
    c.send(&req.repeat(3));
    for _ in 0..3 {
        assert_eq!(names(&c.read_response().body_str()), want);
    }
    let mut c = srv.connect();
    c.send_bytewise(req, Duration::ZERO);
    assert_eq!(names(&c.read_response().body_str()), want);
}

#[test]
fn the_redirect_to_the_normal_form_keeps_the_query() {
    let root = tree();
    let srv = server(&root, false);
    let r = get(&srv, "/d?sort=size&order=desc", None);
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/d/?sort=size&order=desc"));
    let r = get(&srv, "/d/./zdir/..?sort=date", None);
    assert_eq!(r.header("location"), Some("/d/?sort=date"));
}

#[test]
fn the_breadcrumb_links_every_ancestor() {
    let root = tree();
    root.mkdir("d/adir/deep er");
    let srv = server(&root, false);
    let page = get(&srv, "/d/adir/deep%20er/", None).body_str();
    let h1 = &page[page.find("<h1>").unwrap()..page.find("</h1>").unwrap()];
    assert_eq!(
        h1,
        "<h1>Index of <a href=\"../../../\">/</a><a href=\"../../\">d</a>/\
         <a href=\"../\">adir</a>/deep er/"
    );
    // Each link, resolved against the page's URL, lists that ancestor.
    for (href, title) in [("../../../", "/"), ("../../", "/d/"), ("../", "/d/adir/")] {
        let depth = href.len() / 3;
        let mut path: Vec<&str> = vec!["d", "adir", "deep%20er"];
        path.truncate(3 - depth);
        let target = format!(
            "/{}",
            path.iter().map(|p| format!("{p}/")).collect::<String>()
        );
        let r = get(&srv, &target, None);
        assert_eq!(r.status, 200, "{href} -> {target}");
        assert!(
            r.body_str()
                .contains(&format!("<title>Index of {title}</title>")),
            "{target}"
        );
    }
    assert!(get(&srv, "/", None)
        .body_str()
        .contains("<h1>Index of /</h1>"));
}

#[test]
fn hostile_directory_names_are_escaped_in_title_and_breadcrumb() {
    let root = ScratchDir::new("listing-hostile");
    let evil = "<img src=x onerror=alert(1)>\"'&";
    root.mkdir(Path::new(evil).join("in"));
    let srv = server(&root, false);
    let enc = "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E%22'%26";
    let r = get(&srv, &format!("/{enc}/in/"), None);
    assert_eq!(r.status, 200);
    let page = r.body_str();
    let shown = "&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;";
    assert!(
        page.contains(&format!("<title>Index of /{shown}/in/</title>")),
        "{page}"
    );
    assert!(
        page.contains(&format!("<a href=\"../\">{shown}</a>/in/</h1>")),
        "{page}"
    );
    assert!(!page.contains("<img") && !page.contains("'&"), "{page}");
}

#[test]
fn sizes_in_human_units_with_the_exact_bytes() {
    let root = ScratchDir::new("listing-sizes");
    root.write("d/small", vec![0; 17]);
    root.write("d/kib", vec![0; 1234]);
    root.write("d/mib", vec![0; 3 << 20]);
    let srv = server(&root, false);
    let page = get(&srv, "/d/", None).body_str();
    for cell in [
        "title=\"17 bytes\">17 B</td>",
        "title=\"1234 bytes\">1.2 KiB</td>",
        "title=\"3145728 bytes\">3 MiB</td>",
    ] {
        assert!(page.contains(cell), "{cell} in {page}");
    }
}

#[test]
fn the_upload_form_only_with_allow_write_and_the_tar_link_always() {
    let root = tree();
    let read_only = server(&root, false);
    let page = get(&read_only, "/d/", None).body_str();
    assert!(
        !page.contains("<form") && !page.contains("type=\"file\""),
        "{page}"
    );
    assert!(page.contains("<a href=\"./?download=tar\">download as .tar</a>"));
    drop(read_only);

    let writable = server(&root, true);
    let page = get(&writable, "/d/", None).body_str();
    let form = &page[page.find("<form").unwrap()..page.find("</form>").unwrap()];
    assert!(form.contains("method=\"post\" enctype=\"multipart/form-data\" action=\"./\""));
    let fields: Vec<&str> = form
        .split("name=\"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert_eq!(fields, ["overwrite", "mkdir", "file", "file"], "{form}");
    assert!(form.contains("webkitdirectory") && form.contains(" multiple"));
    assert!(form.contains("up to 3 MiB per upload"), "{form}");
    // The same page for HEAD-less JSON: no form there.
    let json = get(&writable, "/d/", Some("application/json")).body_str();
    assert!(!json.contains("form"));
}
