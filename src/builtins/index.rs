//! `/-/`: the list of the built-in endpoints, one example each; HTML, or JSON for
//! `Accept: application/json`.

use std::fmt::Write;

use crate::files::contains_ignore_case;
use crate::handler::{Body, Request, Response};

/// (methods, example URL, what it answers). Every example is a URL that answers 2xx or 3xx.
const ENDPOINTS: &[(&str, &str, &str)] = &[
    ("GET", "/-/plaintext", "Hello, World! as text/plain"),
    ("GET", "/-/json", "{\"message\":\"Hello, World!\"}"),
    ("GET", "/-/bytes/1024", "N bytes of the repeating pattern"),
    (
        "GET",
        "/-/bytes/1024?chunk=100",
        "the same, chunked in K-byte chunks",
    ),
    ("GET", "/-/stream/10", "N chunks of one JSON line each"),
    ("GET", "/-/delay/100", "Hello, World! after MS milliseconds"),
    (
        "GET",
        "/-/drip?bytes=10&duration=2000&delay=0&code=200",
        "N bytes spread evenly over the duration, after the delay",
    ),
    (
        "GET",
        "/-/sse?count=10&interval=1000",
        "server-sent events, one per interval",
    ),
    ("ANY", "/-/status/204", "that status, empty body"),
    ("POST, PUT", "/-/echo", "the request body back"),
    ("GET", "/-/stats", "the server's counters"),
    (
        "GET",
        "/-/metrics",
        "the counters and latency histogram, for Prometheus",
    ),
    ("GET", "/-/dashboard", "a page that plots /-/stats live"),
    ("GET", "/-/health", "ok while serving, 503 while draining"),
    (
        "GET",
        "/-/redirect/3",
        "302 to /-/redirect/N-1, then /-/plaintext",
    ),
    (
        "GET",
        "/-/redirect-to?url=/-/json&status=307",
        "status S to the local path U",
    ),
    (
        "GET",
        "/-/response-headers?X-Hello=world",
        "those header fields on a 200",
    ),
    (
        "GET",
        "/-/cache/60",
        "Cache-Control: public, max-age=SECONDS",
    ),
    (
        "GET",
        "/-/etag/v1",
        "ETag: \"TAG\", with If-None-Match and If-Match",
    ),
    ("GET", "/-/range/1024", "N pattern bytes with Range support"),
    (
        "GET",
        "/-/unstable?failure_rate=0.1&code=503",
        "a share F of answers fail with C",
    ),
    (
        "ANY",
        "/-/anything/x?y=1",
        "the request described back as JSON",
    ),
    (
        "GET",
        "/-/worker",
        "which worker answered, its connection counts",
    ),
    ("GET", "/-/", "this list"),
];

pub(super) fn index(req: &Request<'_>) -> Response {
    let json = req
        .header("accept")
        .is_some_and(|a| contains_ignore_case(a, b"application/json"));
    // The examples and descriptions are written above: nothing to escape but `"` and `&`.
    let mut out = String::with_capacity(4096);
    if json {
        out.push('[');
        for (i, (methods, url, what)) in ENDPOINTS.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            let _ = write!(
                out,
                "{sep}{{\"methods\":\"{methods}\",\"example\":\"{url}\",\"answer\":\""
            );
            escaped(&mut out, what, '"', "\\\"");
            out.push_str("\"}");
        }
        out.push_str("]\n");
        return Response::new(200, "application/json", Body::Owned(out.into_bytes()));
    }
    out.push_str(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>spindle built-ins</title>\
         </head><body><h1>Built-in endpoints</h1><table>\n\
         <tr><th>methods</th><th>example</th><th>answer</th></tr>\n",
    );
    for (methods, url, what) in ENDPOINTS {
        let _ = write!(out, "<tr><td>{methods}</td><td><a href=\"");
        escaped(&mut out, url, '&', "&amp;");
        out.push_str("\">");
        escaped(&mut out, url, '&', "&amp;");
        out.push_str("</a></td><td>");
        escaped(&mut out, what, '&', "&amp;");
        out.push_str("</td></tr>\n");
    }
    out.push_str("</table></body></html>\n");
    Response::new(
        200,
        "text/html; charset=utf-8",
        Body::Owned(out.into_bytes()),
    )
}

/// Appends `s` to `out` with every `c` written as `with`.
fn escaped(out: &mut String, s: &str, c: char, with: &str) {
    for (i, piece) in s.split(c).enumerate() {
        if i > 0 {
            out.push_str(with);
        }
        out.push_str(piece);
    }
}
