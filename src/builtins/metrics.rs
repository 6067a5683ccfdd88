//! `/-/metrics`: the counters of `/-/stats` and the request latency histogram in the
//! Prometheus text exposition format 0.0.4 (rendered by `Stats::to_prometheus`).

use crate::handler::{Body, Context, Request, Response};
use crate::http::Method;

/// The exposition format's media type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4";

pub fn metrics(req: &Request<'_>, cx: &Context<'_>) -> Response {
    if !matches!(req.method, Method::Get | Method::Head) {
        return Response::method_not_allowed("GET, HEAD");
    }
    Response::new(
        200,
        CONTENT_TYPE,
        Body::Owned(cx.stats.to_prometheus().into_bytes()),
    )
}
