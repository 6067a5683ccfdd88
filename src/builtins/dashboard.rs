//! `/-/dashboard`: one self-contained HTML page (its style and script inline, nothing fetched
//! from elsewhere) that polls `/-/stats` once a second and plots the last minute: requests and
//! bytes per second, open connections, latency quantiles, the spread over the workers and the
//! status counts. The page is `dashboard.html` beside this file, built into the binary.

use crate::handler::{Body, Request, Response};
use crate::http::Method;

/// The page, as it is in `dashboard.html`.
pub const PAGE: &[u8] = include_str!("dashboard.html").as_bytes();

/// `GET`/`HEAD /-/dashboard`: the page, re-checked by the browser each time (`no-cache`), so
/// that a new server's page is never an old one's.
pub fn dashboard(req: &Request<'_>) -> Response {
    if !matches!(req.method, Method::Get | Method::Head) {
        return Response::method_not_allowed("GET, HEAD");
    }
    Response::new(200, "text/html; charset=utf-8", Body::Static(PAGE))
        .with_header("Cache-Control", "no-cache")
}
