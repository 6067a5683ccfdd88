//! `/-/worker`: which worker answered, and its own connection counts.

use crate::handler::{Body, Context, Response};

/// `{"worker":W,"connections_open":O,"connections_total":T}`: W is 1-based, as in
/// `/-/stats`' `workers`; the counts are this worker's, live.
pub(super) fn worker(worker: usize, cx: &Context<'_>) -> Response {
    let json = format!(
        "{{\"worker\":{worker},\"connections_open\":{},\"connections_total\":{}}}\n",
        cx.stats.connections_open, cx.stats.connections_total
    );
    Response::new(200, "application/json", Body::Owned(json.into_bytes()))
}
