//! `/-/dashboard` over a socket: the page, its headers, and that it asks for nothing but
//! `/-/stats`. What it draws is tested in a real browser, in `tests/browser.rs`.

mod common;

use common::{head, post, TestServer};

#[test]
fn the_page_is_served_whole_and_not_cached_stale() {
    let srv = TestServer::start();
    let r = srv.get("/-/dashboard");
    r.assert_framed();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    let page = r.body_str();
    assert!(page.starts_with("<!doctype html>"), "{page}");
    assert!(page.trim_end().ends_with("</html>"));
    assert_eq!(r.content_length(), Some(page.len() as u64));
    // Every plot a test or a reader may look for, each counting its samples.
    for id in ["plot-rps", "plot-conns", "plot-bytes", "plot-latency"] {
        assert!(
            page.contains(&format!(r#"id="{id}" data-points="0""#)),
            "{id}"
        );
    }
    assert!(page.contains(r#"id="error" role="alert" hidden"#));

    let mut c = srv.connect();
    c.send(head("/-/dashboard").as_bytes());
    let r = c.read_head_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.content_length(), Some(page.len() as u64));
    assert!(r.body.is_empty());
}

#[test]
fn the_page_fetches_nothing_from_elsewhere() {
    let page = TestServer::start().get("/-/dashboard").body_str();
    // No scheme, no protocol-relative URL, no external script, style, font or image.
    for bad in [
        "http:", "https:", "//cdn", "src=", "href=", "@import", "url(", "<link",
    ] {
        assert!(!page.contains(bad), "the page has {bad:?}");
    }
    // Its one request: /-/stats, relative to the page.
    assert!(page.contains(r#"const STATS_URL = "stats";"#));
    assert_eq!(page.matches("fetch(").count(), 1);
    // What comes from the JSON goes in as text.
    assert!(!page.contains("innerHTML"));
    assert!(!page.contains("insertAdjacentHTML"));
    assert!(!page.contains("document.write"));
}

#[test]
fn only_get_and_head_and_not_without_builtins() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let r = c.request(&post("/-/dashboard", "text/plain", b"x"));
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    assert_eq!(srv.get("/-/dashboard/").status, 404);

    let off = TestServer::with(|c| c.builtins = false);
    let r = off.get("/-/dashboard");
    r.assert_framed();
    assert_eq!(r.status, 404);
}
