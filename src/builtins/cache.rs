//! `/-/cache/SECONDS`: a 200 that caches may keep for that long.

use super::{hello, number};
use crate::handler::Response;

/// Longest `max-age`: a year.
pub const MAX_AGE: u64 = 365 * 24 * 3600;

pub(super) fn cache(seconds: &[u8]) -> Response {
    match number(seconds).filter(|&s| s <= MAX_AGE) {
        Some(s) => hello().with_header("Cache-Control", format!("public, max-age={s}")),
        None => Response::bad_request("SECONDS must be a number from 0 to 31536000\n"),
    }
}
