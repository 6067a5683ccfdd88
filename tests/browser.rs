//! A real browser at work: headless Chromium loads a page that fetches a directory listing,
//! resolves every link the way the browser does, follows each, and reports; and it watches
//! `/-/dashboard` plot a server under load, in real time; and, through the DevTools protocol
//! (`tests/browser/cdp.py`), it sorts a listing by clicking a column, uploads through the
//! listing's form, and shows the listing on a phone-sized screen.
//! Needs Debian's `chromium`; run with `cargo test --test browser -- --ignored`.

mod common;

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{get, Client, ScratchDir, TestServer};

const CHROMIUM: &str = "/usr/bin/chromium";

/// One browser at a time: the dashboard test watches in real time, and several Chromiums at
/// once on two cores starve it.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Headless Chromium with its own scratch profile and nothing that reaches beyond loopback
/// (no background networking, updates, sync or QUIC).
fn chromium(profile: &ScratchDir) -> Command {
    let mut c = Command::new(CHROMIUM);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()));
    c
}

/// Names that break naive listings: spaces, UTF-8, `#`, `%`, `?`, `<`, `&`, `:` (a file named
/// `javascript:alert(1)` must stay a relative link), quotes.
const NAMES: &[&str] = &[
    "a b.txt",
    "ünïcødé ☃.txt",
    "#hash.txt",
    "100%.txt",
    "what?.txt",
    "<b>&amp;.txt",
    "javascript:alert(1)",
    "it's \"quoted\".txt",
    "semi;colon.txt",
];

/// Runs in the browser: every link of the listing, resolved by the browser against the
/// listing's URL, must answer 200 with the file's name as its body (or, for `../` and the
/// subdirectory, 200 at all); a `javascript:` URL is a failure.
const CHECK: &str = r#"<!doctype html><meta charset="utf-8"><body><pre id="out">running</pre>
<script>
(async () => {
  const out = [];
  try {
    const base = new URL("sub/", location.href);
    const html = await (await fetch(base)).text();
    const doc = new DOMParser().parseFromString(html, "text/html");
    const links = [...doc.querySelectorAll("a[href]")];
    out.push("links " + links.length);
    for (const a of links) {
      const raw = a.getAttribute("href");
      const url = new URL(raw, base);
      if (url.protocol !== "http:") { out.push("BAD-SCHEME " + raw); continue; }
      const r = await fetch(url);
      const body = await r.text();
      const name = a.textContent.replace(/\/$/, "");
      // An entry's link serves that entry; the page's own (breadcrumb, sort, tar) just answer.
      const entry = a.closest("tbody") !== null;
      const ok = r.status === 200 && (!entry || name === ".." || raw.endsWith("/") || body === name);
      out.push((ok ? "OK " : "FAIL ") + r.status + " " + JSON.stringify(name) + " -> " + url.pathname);
    }
  } catch (e) { out.push("ERROR " + e); }
  document.getElementById("out").textContent = out.join("\n") + "\ndone";
})();
</script>"#;

#[test]
#[ignore = "needs Debian's chromium: cargo test --test browser -- --ignored"]
fn chromium_follows_every_link_of_a_listing() {
    let _one = one_at_a_time();
    assert!(
        Path::new(CHROMIUM).exists(),
        "apt-get install -y chromium first"
    );
    let root = ScratchDir::new("browser");
    root.mkdir("sub/a dir ☃");
    for name in NAMES {
        root.write(Path::new("sub").join(name), name);
    }
    root.write("check.html", CHECK);
    let srv = TestServer::with(|c| c.root = root.path().to_owned());

    let profile = ScratchDir::new("chromium-profile");
    let out = chromium(&profile)
        .args(["--virtual-time-budget=10000", "--dump-dom"])
        .arg(format!("http://{}/check.html", srv.addr))
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&out.stdout);
    drop((root, profile));

    // The report is what the script wrote into <pre id="out">.
    let text = dom
        .split_once("<pre id=\"out\">")
        .and_then(|(_, rest)| rest.split_once("</pre>"))
        .map(|(report, _)| report.to_owned())
        .unwrap_or_default();
    assert!(text.contains("done"), "the page did not finish:\n{dom}");
    // Every name, the subdirectory, and `..`; and the page's own five: the breadcrumb's `/`,
    // "download as .tar" and the three sort links.
    assert!(
        text.contains(&format!("links {}", NAMES.len() + 2 + 5)),
        "{text}"
    );
    assert!(
        !text.contains("FAIL") && !text.contains("BAD") && !text.contains("ERROR"),
        "{text}"
    );
    assert_eq!(
        text.matches("OK 200").count(),
        NAMES.len() + 2 + 5,
        "{text}"
    );
}

/// How long the dashboard is watched, in real time.
const WATCH_MS: u64 = 5000;
/// Threads putting load on the server meanwhile, each over one keep-alive connection.
const LOADERS: usize = 3;

/// The dashboard in a frame that fills the window, and a report of what it shows.
///
/// `--dump-dom` serialises the page once it has loaded, and the image below is a `/-/delay`:
/// the server answers it after `WATCH_MS` on its own timer, so the load, and with it the dump
/// and the screenshot, come that much later in real time (no virtual time: the dashboard's
/// one-a-second polls and its rates are real). Meanwhile the script copies what the dashboard
/// shows into `<pre id="out">` five times a second; the dump carries the last copy.
fn watch_page() -> String {
    format!(
        r#"<!doctype html><meta charset="utf-8">
<style>html, body {{ margin: 0; height: 100%; }} iframe {{ border: 0; width: 100%; height: 100%; display: block; }}</style>
<body><iframe id="dash" src="/-/dashboard"></iframe><pre id="out" hidden>no report</pre>
<img src="/-/delay/{WATCH_MS}" hidden>
<script>
setInterval(() => {{
  const d = document.getElementById("dash").contentDocument;
  const el = (id) => d && d.getElementById(id);
  if (!el("plot-rps")) return;
  const lines = [];
  for (const p of ["rps", "conns", "bytes", "latency"]) lines.push("points-" + p + "=" + el("plot-" + p).dataset.points);
  for (const v of ["rps", "conns", "out", "p50", "p99"]) lines.push("now-" + v + "=" + el("now-" + v).textContent);
  lines.push("error-hidden=" + el("error").hidden);
  lines.push("error=" + el("error").textContent);
  lines.push("failures=" + (d.body.dataset.failures || 0));
  lines.push("worker-rows=" + el("worker-rows").rows.length);
  lines.push("status-200=" + [...el("status-rows").rows].some((r) => r.cells[0].textContent === "200"));
  document.getElementById("out").textContent = lines.join("\n");
}}, 200);
</script>"#
    )
}

/// A number as the dashboard shows it (`12`, `3.5`, `100.1 k`, `1.20 M`), or `None` for `–`.
fn shown_number(text: &str) -> Option<f64> {
    let (n, scale) = match text.split_once(' ') {
        Some((n, "k")) => (n, 1e3),
        Some((n, "M")) => (n, 1e6),
        _ => (text, 1.0),
    };
    n.parse::<f64>().ok().map(|n| n * scale)
}

#[test]
#[ignore = "needs Debian's chromium: cargo test --test browser -- --ignored"]
fn chromium_watches_the_dashboard_plot_a_load() {
    let _one = one_at_a_time();
    assert!(
        Path::new(CHROMIUM).exists(),
        "apt-get install -y chromium first"
    );
    let root = ScratchDir::new("dashboard");
    root.write("watch.html", watch_page());
    let srv = TestServer::with(|c| {
        c.root = root.path().to_owned();
        c.workers = 2;
    });

    // The load: keep-alive GETs of /-/plaintext in a loop, from a few threads, until the
    // browser is done.
    let stop = Arc::new(AtomicBool::new(false));
    let loaders: Vec<_> = (0..LOADERS)
        .map(|_| {
            let (stop, addr) = (stop.clone(), srv.addr);
            thread::spawn(move || {
                let mut c = Client::connect(addr);
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    assert_eq!(c.request(get("/-/plaintext").as_bytes()).status, 200);
                    n += 1;
                }
                n
            })
        })
        .collect();

    let shot = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("dashboard.png");
    let _ = std::fs::remove_file(&shot);
    let profile = ScratchDir::new("chromium-profile");
    let started = Instant::now();
    let mut browser = chromium(&profile)
        .args(["--hide-scrollbars", "--window-size=1280,900", "--dump-dom"])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("http://{}/watch.html", srv.addr))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run chromium");
    let mut stdout = browser.stdout.take().unwrap();
    let reader = thread::spawn(move || {
        let mut dom = String::new();
        let _ = stdout.read_to_string(&mut dom);
        dom
    });
    // A browser that hangs fails the test rather than holding it forever.
    let limit = Duration::from_millis(WATCH_MS) + Duration::from_secs(60);
    while browser.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = browser.kill();
            let _ = browser.wait();
            panic!("chromium did not finish within {limit:?}");
        }
        thread::sleep(Duration::from_millis(50));
    }
    let watched = started.elapsed();
    let dom = reader.join().unwrap();
    stop.store(true, Ordering::Relaxed);
    let requests: u64 = loaders.into_iter().map(|t| t.join().unwrap()).sum();
    drop((root, profile));

    let report = dom
        .split_once("<pre id=\"out\" hidden=\"\">")
        .and_then(|(_, rest)| rest.split_once("</pre>"))
        .map(|(report, _)| report.to_owned())
        .unwrap_or_default();
    let shown: HashMap<&str, &str> = report.lines().filter_map(|l| l.split_once('=')).collect();
    let field = |k: &str| {
        *shown
            .get(k)
            .unwrap_or_else(|| panic!("no {k} in the report:\n{report}\n\n{dom}"))
    };
    let points = |k: &str| {
        field(k)
            .parse::<u32>()
            .unwrap_or_else(|_| panic!("{k}: {report}"))
    };
    let context = format!("{report}\n({requests} requests by the load, watched for {watched:?})");

    assert!(
        watched >= Duration::from_millis(WATCH_MS),
        "the page was read before the watch was over: {context}"
    );
    assert_eq!(field("error-hidden"), "true", "an error banner: {context}");
    assert_eq!(field("failures"), "0", "a poll failed: {context}");
    // About one sample a second: the first sets the starting point of the rates.
    assert!(
        points("points-rps") >= 3,
        "too few req/s samples: {context}"
    );
    assert!(points("points-conns") >= 3, "{context}");
    assert!(points("points-bytes") >= 3, "{context}");
    assert!(points("points-latency") >= 3, "{context}");
    // The page's own polls alone are 1 req/s; the load is many thousands.
    let rps = shown_number(field("now-rps"));
    assert!(
        rps.is_some_and(|r| r > 100.0),
        "no load in req/s: {context}"
    );
    // The load's connections (and the page's own) are open.
    assert!(
        shown_number(field("now-conns")).is_some_and(|n| n >= LOADERS as f64),
        "{context}"
    );
    assert!(
        shown_number(field("now-out")).is_none(),
        "bytes have a unit: {context}"
    );
    assert!(field("now-out").ends_with("B"), "{context}");
    // Quantiles are a number in ms, or "–" while the server does not report them.
    for q in ["now-p50", "now-p99"] {
        let v = field(q);
        assert!(
            v == "–" || shown_number(v).is_some(),
            "{q} = {v:?}: {context}"
        );
    }
    assert_eq!(field("worker-rows"), "2", "a row per worker: {context}");
    assert_eq!(field("status-200"), "true", "{context}");
    assert!(shot.exists(), "no screenshot at {}", shot.display());
    println!("{context}\nscreenshot: {}", shot.display());
}

/// The DevTools driver the tests below talk through (python3 and `websockets` from PyPI).
const CDP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/cdp.py");

/// Runs `steps` (a JSON array, see `tests/browser/cdp.py`) in a fresh headless Chromium with
/// a DevTools port: one JSON result per step, or the test fails with the driver's reason.
fn drive(steps: &str) -> Vec<String> {
    drive_with(&[], steps)
}

/// [`drive`], with more Chromium flags.
fn drive_with(flags: &[&str], steps: &str) -> Vec<String> {
    use std::io::Write;
    let profile = ScratchDir::new("chromium-cdp");
    let mut browser = chromium(&profile)
        .args(["--remote-debugging-port=0", "--window-size=1024,768"])
        .args(flags)
        .arg("about:blank")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run chromium");
    let mut driver = Command::new("python3")
        .arg(CDP)
        .arg(profile.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3");
    let mut stdin = driver.stdin.take().expect("driver stdin");
    stdin
        .write_all(steps.as_bytes())
        .expect("steps to the driver");
    drop(stdin);
    let (status, out, err) = common::finish(driver, Duration::from_secs(90));
    let _ = browser.kill();
    let _ = browser.wait();
    assert!(
        status.success(),
        "the driver failed: {err}\nresults so far:\n{out}"
    );
    out.lines().map(str::to_owned).collect()
}

/// JavaScript that gives the listing's entry names, in the order shown.
const ROW_NAMES: &str =
    "[...document.querySelectorAll('tbody tr td:first-child a')].map(a => a.textContent)";

fn json_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Clicking the "Size" column's head reorders the rows by size; clicking it again reverses.
#[test]
#[ignore = "needs Debian's chromium: cargo test --test browser -- --ignored"]
fn chromium_sorts_a_listing_by_clicking_size() {
    let _one = one_at_a_time();
    assert!(
        Path::new(CHROMIUM).exists(),
        "apt-get install -y chromium first"
    );
    let root = ScratchDir::new("browser-sort");
    for (name, size) in [("a-big", 3000), ("b-small", 1), ("c-middle", 200)] {
        root.write(Path::new("d").join(name), vec![b'x'; size]);
    }
    root.mkdir("d/sub");
    let srv = TestServer::with(|c| c.root = root.path().to_owned());
    let url = format!("http://{}/d/", srv.addr);
    let steps = format!(
        r#"[{{"open": {url}}}, {{"eval": {rows}}}, {{"click": "thead th.size a"}}, {{"eval": {rows}}},
            {{"click": "thead th.size a"}}, {{"eval": {rows}}}]"#,
        url = json_str(&url),
        rows = json_str(ROW_NAMES),
    );
    let r = drive(&steps);
    assert_eq!(
        r[1], r#"["../", "sub/", "a-big", "b-small", "c-middle"]"#,
        "{r:?}"
    );
    assert_eq!(
        r[2],
        json_str(&format!("{url}?sort=size&order=asc")),
        "{r:?}"
    );
    assert_eq!(
        r[3], r#"["../", "sub/", "b-small", "c-middle", "a-big"]"#,
        "{r:?}"
    );
    assert_eq!(
        r[4],
        json_str(&format!("{url}?sort=size&order=desc")),
        "{r:?}"
    );
    assert_eq!(
        r[5], r#"["../", "sub/", "a-big", "c-middle", "b-small"]"#,
        "{r:?}"
    );
}

/// With `--allow-write`, a file set on the form's file input and the form submitted as is (no
/// box ticked) is a multipart POST to the directory, and after the redirect the listing shows
/// the file. (Until the uploads' POST handler is merged the POST is answered 405, and this
/// fails with "upload not listed".)
#[test]
#[ignore = "needs Debian's chromium: cargo test --test browser -- --ignored"]
fn chromium_uploads_a_file_through_the_form() {
    let _one = one_at_a_time();
    assert!(
        Path::new(CHROMIUM).exists(),
        "apt-get install -y chromium first"
    );
    let root = ScratchDir::new("browser-upload");
    root.mkdir("up");
    let local = ScratchDir::new("browser-upload-src");
    let file = local.write("hello upload.txt", "hello from the browser\n");
    let log = local.path().join("access.log");
    let (dir, log_path) = (root.path().to_owned(), log.to_string_lossy().into_owned());
    let srv = TestServer::with(|c| {
        c.root = dir;
        c.allow_write = true;
        c.access_log = Some(log_path);
    });
    let url = format!("http://{}/up/", srv.addr);
    let steps = format!(
        r#"[{{"open": {url}}},
            {{"set_files": "form.upload input[type=file][multiple]", "files": [{file}]}},
            {{"submit": "form.upload button[type=submit]"}},
            {{"eval": {rows}}}, {{"eval": "document.body.innerText.slice(0, 200)"}}]"#,
        url = json_str(&url),
        file = json_str(&file.to_string_lossy()),
        rows = json_str(ROW_NAMES),
    );
    let r = drive(&steps);
    assert_eq!(r[1], "1", "the file input holds the file: {r:?}");
    assert!(
        r[2].contains(r#""method": "POST""#)
            && r[2].contains(&format!(r#""url": {}"#, json_str(&url)))
            && r[2].contains(r#""content_type": "multipart/form-data; boundary="#),
        "the browser's request: {r:?}"
    );
    drop(srv); // the access log is written out
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    let post = logged
        .lines()
        .find(|l| l.contains("\"POST /up/ HTTP/1.1\""));
    assert!(post.is_some(), "no POST /up/ in the access log:\n{logged}");
    assert!(
        r[3].contains("\"hello upload.txt\""),
        "upload not listed: the page after the POST ({}) lists {} and says {}; the access log: {}",
        r[2],
        r[3],
        r[4],
        post.unwrap_or_default()
    );
    assert_eq!(
        std::fs::read(root.path().join("up/hello upload.txt")).ok(),
        Some(b"hello from the browser\n".to_vec())
    );
}

/// The form's folder picker: a whole folder, its subfolder included, arrives under its own
/// name (the browser sends each file's relative path as its filename).
#[test]
#[ignore = "needs Debian's chromium: cargo test --test browser -- --ignored"]
fn chromium_uploads_a_folder_through_the_form() {
    let _one = one_at_a_time();
    assert!(
        Path::new(CHROMIUM).exists(),
        "apt-get install -y chromium first"
    );
    let root = ScratchDir::new("browser-folder");
    let local = ScratchDir::new("browser-folder-src");
    local.mkdir("album");
    local.mkdir("album/day 2");
    local.write("album/a.txt", "first\n");
    local.write("album/day 2/b.txt", "second\n");
    let dir = root.path().to_owned();
    let srv = TestServer::with(|c| {
        c.root = dir;
        c.allow_write = true;
    });
    let url = format!("http://{}/", srv.addr);
    let album = local.path().join("album");
    let steps = format!(
        r#"[{{"open": {url}}},
            {{"set_files": "form.upload input[webkitdirectory]", "files": [{album}]}},
            {{"submit": "form.upload button[type=submit]"}},
            {{"eval": {rows}}}]"#,
        url = json_str(&url),
        album = json_str(&album.to_string_lossy()),
        rows = json_str(ROW_NAMES),
    );
    let r = drive(&steps);
    // (r[1], the input's file count, is read before Chromium has walked the folder: 0.)
    assert!(r[3].contains("\"album/\""), "the folder is listed: {r:?}");
    assert_eq!(
        std::fs::read(root.path().join("album/a.txt")).ok(),
        Some(b"first\n".to_vec())
    );
    assert_eq!(
        std::fs::read(root.path().join("album/day 2/b.txt")).ok(),
        Some(b"second\n".to_vec())
    );
}

/// The listing on a phone-sized viewport (390x844): nothing wider than the screen, even with
/// long names and the upload form; a screenshot is left in target/listing-phone.png.
#[test]
#[ignore = "needs Debian's chromium: cargo test --test browser -- --ignored"]
fn chromium_shows_the_listing_on_a_phone_without_overflow() {
    let _one = one_at_a_time();
    assert!(
        Path::new(CHROMIUM).exists(),
        "apt-get install -y chromium first"
    );
    let root = ScratchDir::new("browser-phone");
    // No space or hyphen: only `overflow-wrap: anywhere` can break it.
    let long =
        "a_very_long_file_name_without_any_break_opportunity_that_must_wrap_on_a_phone.tar.gz";
    root.write(
        Path::new("photos/2026/holiday").join(long),
        vec![0u8; 123_456_789 % 5000],
    );
    root.write("photos/2026/holiday/IMG_0001.jpg", vec![0u8; 2_500_000]);
    root.write("photos/2026/holiday/notes with spaces.txt", "x");
    root.mkdir("photos/2026/holiday/raw files");
    let dir = root.path().to_owned();
    let srv = TestServer::with(|c| {
        c.root = dir;
        c.allow_write = true;
    });
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("listing-phone.png");
    let _ = std::fs::remove_file(&shot);
    let url = format!(
        "http://{}/photos/2026/holiday/?sort=size&order=desc",
        srv.addr
    );
    let steps = format!(
        r#"[{{"viewport": [390, 844]}}, {{"open": {url}}},
            {{"eval": "[document.documentElement.scrollWidth, window.innerWidth]"}},
            {{"screenshot": {shot}}}]"#,
        url = json_str(&url),
        shot = json_str(&shot.to_string_lossy()),
    );
    let r = drive(&steps);
    assert_eq!(
        r[2], "[390, 390]",
        "the page is wider than the phone: {r:?}"
    );
    assert!(shot.exists(), "no screenshot");
    println!("screenshot: {}", shot.display());
}

/// Over HTTPS (`--tls-self-signed`), Chromium gets the listing in a secure context, over
/// HTTP/1.1 (it offers h2 first in ALPN; the server picks http/1.1), and follows a link in it.
#[cfg(feature = "tls")]
#[test]
#[ignore = "needs Debian's chromium: cargo test --test browser -- --ignored"]
fn chromium_browses_a_listing_over_https() {
    let _one = one_at_a_time();
    assert!(
        Path::new(CHROMIUM).exists(),
        "apt-get install -y chromium first"
    );
    let root = ScratchDir::new("browser-https");
    root.write("d/hello.txt", "hello over TLS");
    let srv = TestServer::with(|c| {
        c.root = root.path().to_owned();
        c.tls = Some(spindle::config::TlsSource::SelfSigned { out: None });
    });
    let url = format!("https://127.0.0.1:{}/d/", srv.addr.port());
    let facts = "[location.protocol, window.isSecureContext, \
        performance.getEntriesByType('navigation')[0].nextHopProtocol]";
    let steps = format!(
        r#"[{{"open": {url}}}, {{"eval": {facts}}}, {{"eval": {rows}}},
            {{"click": "tbody a[href='./hello.txt']"}}, {{"eval": "document.body.textContent"}}]"#,
        url = json_str(&url),
        facts = json_str(facts),
        rows = json_str(ROW_NAMES),
    );
    // The certificate is made at start-up and trusted by no one: this browser is told to
    // accept it (the test is about TLS working, not about trust).
    let r = drive_with(&["--ignore-certificate-errors"], &steps);
    assert_eq!(r[1], r#"["https:", true, "http/1.1"]"#, "{r:?}");
    assert_eq!(r[2], r#"["../", "hello.txt"]"#, "{r:?}");
    assert_eq!(r[4], json_str("hello over TLS"), "{r:?}");
}
