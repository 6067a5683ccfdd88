//! `/-/etag/TAG`: a 200 with `ETag: "TAG"`, and the conditional requests against it:
//! `If-Match` first (no match: 412), then `If-None-Match` (a match: 304), as RFC 9110 §13.2.2
//! orders them. The comparisons are the file server's ([`crate::files::precondition`]).

use super::hello;
use crate::files::precondition::{self, Precondition};
use crate::handler::{Request, Response};

/// Longest TAG.
pub const MAX_TAG: usize = 64;

pub(super) fn etag(tag: &[u8], req: &Request<'_>) -> Response {
    // etagc without obs-text: %x21 / %x23-7E (so no `"`, no space, no control byte).
    let etagc = |b: &u8| *b == 0x21 || (0x23..=0x7e).contains(b);
    if tag.is_empty() || tag.len() > MAX_TAG || !tag.iter().all(etagc) {
        return Response::bad_request("TAG must be 1 to 64 of ! and #-~ (no quote, no space)\n");
    }
    let etag = format!("\"{}\"", String::from_utf8_lossy(tag));
    if let Some(if_match) = req.header("if-match") {
        if !precondition::match_hits(if_match, etag.as_bytes()) {
            return Response::error(412).with_header("ETag", etag);
        }
    }
    match precondition::check(req.header("if-none-match"), None, &etag, 0) {
        Precondition::NotModified => Response::empty(304).with_header("ETag", etag),
        Precondition::Proceed => hello().with_header("ETag", etag),
    }
}
