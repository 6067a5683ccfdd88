//! `/-/range/N`: N bytes of the `/-/bytes` pattern with byte ranges, answered by the file
//! server's `Range` rules ([`crate::files::range`]): one range → 206 with `Content-Range`, an
//! unsatisfiable one → 416 with `Content-Range: bytes */N`, several → the whole body (200).
//! Every part is generated as the socket drains, offset-correct: byte `i` is `PATTERN[i % 64]`.

use super::generated::Pattern;
use super::{number, MAX_BYTES};
use crate::files::range::{self, Ranges};
use crate::handler::{Body, Request, Response};

pub(super) fn range(n: &[u8], req: &Request<'_>) -> Response {
    let Some(len) = number(n).filter(|&n| n <= MAX_BYTES) else {
        return Response::bad_request("N must be a number from 0 to 1073741824\n");
    };
    // A strong tag for `If-Range` to name (the body of `/-/range/N` never changes); there is
    // no Last-Modified, so an `If-Range` date never matches and means the whole body.
    let etag = format!("\"range-{len}\"");
    let ranges = range::ranges(
        req.header("range"),
        req.header("if-range"),
        &etag,
        u64::MAX,
        len,
    );
    let (status, start, end) = match ranges {
        Ranges::Full => (200, 0, len),
        Ranges::Partial { start, end } => (206, start, end + 1),
        Ranges::Unsatisfiable => {
            return Response::error(416)
                .with_header("Content-Range", range::content_range_unsatisfied(len))
                .with_header("Accept-Ranges", "bytes");
        }
    };
    let body = Body::Stream(Box::new(Pattern::span(start, end)));
    let mut resp = Response::new(status, "application/octet-stream", body)
        .with_header("Accept-Ranges", "bytes")
        .with_header("ETag", etag);
    if status == 206 {
        resp = resp.with_header("Content-Range", range::content_range(start, end - 1, len));
    }
    resp
}
