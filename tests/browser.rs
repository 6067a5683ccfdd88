//! A real browser reads a directory listing: headless Chromium loads a page that fetches the
//! listing, resolves every link the way the browser does, follows each, and reports.
//! Needs Debian's `chromium`; run with `cargo test --test browser -- --ignored`.

mod common;

use std::path::Path;
use std::process::Command;

use common::{ScratchDir, TestServer};

const CHROMIUM: &str = "/usr/bin/chromium";

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
      const ok = r.status === 200 && (name === ".." || raw.endsWith("/") || body === name);
      out.push((ok ? "OK " : "FAIL ") + r.status + " " + JSON.stringify(name) + " -> " + url.pathname);
    }
  } catch (e) { out.push("ERROR " + e); }
  document.getElementById("out").textContent = out.join("\n") + "\ndone";
})();
</script>"#;

#[test]
#[ignore = "needs Debian's chromium: cargo test --test browser -- --ignored"]
fn chromium_follows_every_link_of_a_listing() {
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
    let out = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
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
    // Every name, the subdirectory, and `..`.
    assert!(
        text.contains(&format!("links {}", NAMES.len() + 2)),
        "{text}"
    );
    assert!(
        !text.contains("FAIL") && !text.contains("BAD") && !text.contains("ERROR"),
        "{text}"
    );
    assert_eq!(text.matches("OK 200").count(), NAMES.len() + 2, "{text}");
}
