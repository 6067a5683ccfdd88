//! The canned endpoints under `/-/` (SPEC §5): fixed answers for load generators, streamed
//! bodies, reactor-timed delays, any status, an echo, and the server's counters.

use std::time::Duration;

use crate::handler::{Action, Body, Context, Request, Response};
use crate::http::token::parse_decimal;
use crate::http::Method;

mod anything;
mod cache;
mod dashboard;
mod echo;
mod etag;
mod generated;
mod index;
pub(crate) mod json;
mod metrics;
mod paced;
pub mod query;
mod range;
mod redirect;
mod response_headers;
mod unstable;
mod worker;

use echo::echo;
use generated::{bytes, stream};

pub use cache::MAX_AGE;
pub use etag::MAX_TAG;
pub use redirect::{MAX_REDIRECTS, MAX_URL};
pub use response_headers::{MAX_BYTES as MAX_HEADER_BYTES, MAX_FIELDS};

/// Largest `/-/bytes/N` (and `/-/range/N`).
pub const MAX_BYTES: u64 = 1 << 30;
/// Largest `/-/bytes/N?chunk=K`.
pub const MAX_CHUNK: u64 = 1 << 20;
/// Largest `/-/stream/N`.
pub const MAX_CHUNKS: u64 = 100_000;
/// Longest `/-/delay/MS`.
pub const MAX_DELAY_MS: u64 = 60_000;
/// `/-/bytes/N` sends byte `i` as `PATTERN[i % 64]`, so any download can be checked exactly.
pub const PATTERN: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

const HELLO: &[u8] = b"Hello, World!";
/// The path of [`health`].
pub const HEALTH: &[u8] = b"/-/health";
const JSON: &[u8] = br#"{"message":"Hello, World!"}"#;

/// The built-ins of one worker: which worker it is (for `/-/worker`) and what state the
/// endpoints keep (`/-/unstable`'s count). Each worker's handler has its own, so nothing here
/// is shared or locked.
pub struct Builtins {
    worker: usize,
    unstable: unstable::Unstable,
}

impl Builtins {
    /// The built-ins of worker `worker` (1-based, as `/-/stats` numbers them).
    pub fn new(worker: usize) -> Builtins {
        Builtins {
            worker,
            unstable: Default::default(),
        }
    }

    /// Answers a request whose path starts with `/-/`; `rest` is what follows that prefix.
    pub fn handle(&mut self, rest: &[u8], req: &Request<'_>, cx: &Context<'_>) -> Action {
        let get = matches!(req.method, Method::Get | Method::Head);
        let (name, arg) = match rest.iter().position(|&b| b == b'/') {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let respond = Action::Respond;
        match (name, arg) {
            // The load generators' favourites first.
            (b"plaintext", None) if get => respond(hello()),
            (b"json", None) if get => {
                respond(Response::new(200, "application/json", Body::Static(JSON)))
            }
            (b"status", Some(code)) => respond(status(code)),
            (b"echo", None) => echo(req),
            (b"anything", _) => anything::anything(req),
            (b"dashboard", None) => respond(dashboard::dashboard(req)),
            (b"metrics", None) => respond(metrics::metrics(req, cx)),
            (b"drip", None) if get => paced::drip(req.query),
            (b"sse", None) if get => paced::sse(req.query),
            (
                b"" | b"plaintext" | b"json" | b"stats" | b"redirect-to" | b"response-headers"
                | b"unstable" | b"worker" | b"drip" | b"sse",
                None,
            )
            | (
                b"bytes" | b"stream" | b"delay" | b"redirect" | b"cache" | b"etag" | b"range",
                Some(_),
            ) if !get => respond(Response::method_not_allowed("GET, HEAD")),
            (b"", None) => respond(index::index(req)),
            (b"stats", None) => respond(Response::new(
                200,
                "application/json",
                Body::Owned(cx.stats.to_json().into_bytes()),
            )),
            (b"bytes", Some(n)) => respond(bytes_of(n, req.query)),
            (b"stream", Some(n)) => respond(generated(n, MAX_CHUNKS, WHY_CHUNKS, stream)),
            (b"delay", Some(ms)) => match at_most(ms, MAX_DELAY_MS) {
                Some(ms) => Action::Delay(Duration::from_millis(ms), hello()),
                None => respond(Response::bad_request(WHY_DELAY)),
            },
            (b"redirect", Some(n)) => respond(redirect::redirect(n)),
            (b"redirect-to", None) => respond(redirect::redirect_to(req.query)),
            (b"response-headers", None) => respond(response_headers::response_headers(req.query)),
            (b"cache", Some(s)) => respond(cache::cache(s)),
            (b"etag", Some(tag)) => respond(etag::etag(tag, req)),
            (b"range", Some(n)) => respond(range::range(n, req)),
            (b"unstable", None) => respond(self.unstable.answer(req.query)),
            (b"worker", None) => respond(worker::worker(self.worker, cx)),
            _ => respond(Response::error(404)),
        }
    }
}

/// `/-/bytes/N`, or with `?chunk=K` chunked in K-byte chunks.
fn bytes_of(n: &[u8], query: Option<&[u8]>) -> Response {
    let chunk = match param(query, "chunk", MAX_CHUNK) {
        Ok(None) => None,
        Ok(Some(k @ 1..)) => Some(k as usize),
        _ => return Response::bad_request("chunk must be a number from 1 to 1048576\n"),
    };
    match at_most(n, MAX_BYTES) {
        Some(n) => bytes(n, chunk),
        None => Response::bad_request(WHY_BYTES),
    }
}

/// The query parameter `name` as a [`number`] of at most `max`: `Ok(None)` when absent,
/// `Err(())` when it is not such a number (or not decodable).
fn param(query: Option<&[u8]>, name: &str, max: u64) -> Result<Option<u64>, ()> {
    let Some(raw) = query::raw_value(query, name) else {
        return Ok(None);
    };
    let mut buf = [0u8; 16];
    let v = query::decode(raw, &mut buf).map_err(|_| ())?;
    number(v).filter(|&n| n <= max).map(Some).ok_or(())
}

/// `/-/health`: 200 while serving, 503 from the moment a shutdown begins, so that a load
/// balancer stops sending before connections are cut.
pub fn health(req: &Request<'_>, cx: &Context<'_>) -> Response {
    if !matches!(req.method, Method::Get | Method::Head) {
        return Response::method_not_allowed("GET, HEAD");
    }
    match cx.draining {
        false => Response::new(200, "text/plain", Body::Static(b"ok\n")),
        true => Response::new(503, "text/plain", Body::Static(b"draining\n")),
    }
}

/// `/-/plaintext`, and what a `/-/delay` answers once its time is up.
pub(super) fn hello() -> Response {
    Response::new(200, "text/plain", Body::Static(HELLO))
}

/// `/-/status/CODE`: an empty answer with that status, for any method; 400 outside 200-599.
fn status(code: &[u8]) -> Response {
    match number(code) {
        Some(c @ 200..=599) => Response::empty(c as u16),
        _ => Response::bad_request("CODE must be a status from 200 to 599\n"),
    }
}

/// A generated body of `arg` units, by `make`; 400 saying `why` for a bad number or one over
/// `max`.
fn generated(arg: &[u8], max: u64, why: &'static str, make: fn(u64) -> Response) -> Response {
    at_most(arg, max).map_or_else(|| Response::bad_request(why), make)
}

// What a bad number in the path gets told (a test checks that each names its cap).
const WHY_BYTES: &str = "N must be a whole number from 0 to 1073741824\n";
const WHY_CHUNKS: &str = "N must be a whole number from 0 to 100000\n";
const WHY_DELAY: &str = "MS must be a whole number from 0 to 60000\n";

/// [`number`], if it is at most `max`.
fn at_most(arg: &[u8], max: u64) -> Option<u64> {
    number(arg).filter(|&n| n <= max)
}

/// A decimal number of at most 10 digits (no sign, no spaces; `/-/bytes/00000000001` is 400).
pub(super) fn number(s: &[u8]) -> Option<u64> {
    if s.len() > 10 {
        return None;
    }
    parse_decimal(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_name_their_caps() {
        for (why, cap) in [
            (WHY_BYTES, MAX_BYTES),
            (WHY_CHUNKS, MAX_CHUNKS),
            (WHY_DELAY, MAX_DELAY_MS),
        ] {
            assert!(why.ends_with(&format!(" to {cap}\n")), "{why}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(number(b"0"), Some(0));
        assert_eq!(number(b"1073741824"), Some(1 << 30));
        assert_eq!(number(b""), None);
        assert_eq!(number(b"+1"), None);
        assert_eq!(number(b"99999999999"), None);
        assert_eq!(
            number(b"00000000001"),
            None,
            "at most 10 digits, zeros included"
        );
        assert_eq!(number(b"0000000001"), Some(1));
    }
}
