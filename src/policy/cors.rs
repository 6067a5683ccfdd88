//! `--cors`: the answer to a preflight (Fetch §4.8: an `OPTIONS` with `Origin` and
//! `Access-Control-Request-Method`), which a browser sends before a cross-origin request that
//! is not "simple", without credentials. `Access-Control-Allow-Origin: *` itself is on every
//! response (see `headers.rs`), so this adds only what a preflight needs.

use crate::handler::{Request, Response};
use crate::http::token::{is_tchar, trim_ows};
use crate::http::Method;

/// Longest method name, and longest list of header names, a preflight may ask about.
const MAX_METHOD: usize = 32;
const MAX_HEADER_LIST: usize = 1024;
/// How long a browser may keep the answer (Chromium keeps at most two hours).
const MAX_AGE: &str = "3600";

pub fn is_preflight(req: &Request<'_>) -> bool {
    req.method == Method::Options
        && req.header("origin").is_some()
        && req.header("access-control-request-method").is_some()
}

/// 204 with the methods served and the headers asked for, or 400 for a question that is not
/// one: a method that is not a token, header names that are not a list of tokens. A method
/// that is a token but not served (`put`, `BREW`) is no error: the answer lists what is, and
/// the browser refuses the request itself.
pub fn preflight(req: &Request<'_>, methods: &'static str) -> Response {
    let method = req
        .header("access-control-request-method")
        .unwrap_or_default();
    if method.is_empty() || method.len() > MAX_METHOD || !method.iter().all(|&b| is_tchar(b)) {
        return Response::bad_request("Access-Control-Request-Method is not a method\n");
    }
    let mut resp = Response::empty(204)
        .with_header("Access-Control-Allow-Methods", methods)
        .with_header("Access-Control-Max-Age", MAX_AGE);
    if let Some(list) = req.header("access-control-request-headers") {
        let list = trim_ows(list);
        if !is_token_list(list) {
            return Response::bad_request(
                "Access-Control-Request-Headers is not a list of header names\n",
            );
        }
        if !list.is_empty() {
            // Only tokens, commas and spaces: safe to send back as they came.
            let echo = String::from_utf8_lossy(list).into_owned();
            resp = resp.with_header("Access-Control-Allow-Headers", echo);
        }
    }
    resp
}

/// `#token` (RFC 9110 §5.6.1: commas, optional whitespace, empty elements allowed), bounded.
fn is_token_list(v: &[u8]) -> bool {
    v.len() <= MAX_HEADER_LIST
        && v.split(|&b| b == b',')
            .all(|item| trim_ows(item).iter().all(|&b| is_tchar(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lists() {
        assert!(is_token_list(b""));
        assert!(is_token_list(b"content-type"));
        assert!(is_token_list(b"content-type, x-a,,x-b ,\tx-c"));
        assert!(!is_token_list(b"x a"));
        assert!(!is_token_list(b"x;a"));
        assert!(!is_token_list(b"x\"a\""));
        assert!(!is_token_list("x,".repeat(600).as_bytes()));
    }
}
