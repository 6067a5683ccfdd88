//! Who may write, who may read, and the headers on every response: the checks a request
//! passes before any handler sees it (`conn/request.rs` asks [`Policy::check`] first).
//!
//! - A state-changing request (any method but GET, HEAD and OPTIONS) must name this machine in
//!   its `Host` and, if it says where it comes from (`Origin`), come from this server's own
//!   origin: a page on another site can POST a form to 127.0.0.1 without asking, and DNS
//!   rebinding lets it reach this server under its own name (`origin.rs`). 403 otherwise.
//! - `--auth`: Basic credentials on every request but CORS preflights (browsers send none
//!   there) and `/-/health`, or with `--auth-writes-only` on state-changing ones (`auth.rs`).
//! - `--cors`: preflights answered here (`cors.rs`); `--header` and CORS's own lines are
//!   encoded once (`headers.rs`) and written into every head by the connection's `HeadMemo`.

pub mod auth;
pub mod base64;
pub mod cors;
pub mod headers;
pub mod origin;

use crate::builtins::HEALTH;
use crate::config::Config;
use crate::handler::{Body, Request, Response};
use crate::http::Method;
use auth::{AuthFailure, Credential};
use origin::Hosts;

/// How a request reached us.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Http,
    /// Over TLS.
    Https,
}

impl Scheme {
    /// `http://` or `https://`, as an origin starts.
    pub fn prefix(self) -> &'static [u8] {
        match self {
            Scheme::Http => b"http://",
            Scheme::Https => b"https://",
        }
    }
}

/// The rules of one server, made once from its settings and shared by its workers.
#[derive(Debug)]
pub struct Policy {
    hosts: Hosts,
    /// `--redirect-https`: plain requests get a 308 to this HTTPS port.
    redirect_https: Option<u16>,
    auth: Vec<Credential>,
    auth_writes_only: bool,
    cors: bool,
    /// The `\r\nName: value` lines every response carries (`--header`, `--cors`).
    head_extra: std::sync::Arc<[u8]>,
}

/// What the policy says of a request.
pub enum Verdict<'p> {
    /// The handler answers; `user` is the name `--auth` accepted, for the access log.
    Pass { user: Option<&'p str> },
    /// A preflight, answered here.
    Preflight(Response),
    /// A write from another site or under another name: 403.
    CrossSite(Response),
    /// No valid credentials: 401.
    Unauthorized(Response),
    /// `--redirect-https`, for a plain request: 308 to the same target over HTTPS.
    ToHttps(Response),
}

impl Policy {
    pub fn new(config: &Config) -> Policy {
        Policy {
            hosts: Hosts::with_origins(
                hostname().as_deref(),
                &config.allow_hosts,
                &config.allow_origins,
            ),
            redirect_https: None,
            auth: config.auth.clone(),
            auth_writes_only: config.auth_writes_only,
            cors: config.cors,
            head_extra: headers::encode(&config.headers, config.cors).into(),
        }
    }

    /// With plain requests sent on to HTTPS on `port` (`--redirect-https`).
    pub fn redirecting_to(mut self, port: Option<u16>) -> Policy {
        self.redirect_https = port;
        self
    }

    /// A GET or HEAD that no `--auth` or redirect asks about: passes without a look (a cheap
    /// test, on every request, before [`Policy::check`]).
    #[inline]
    pub fn lets_pass(&self, method: Method, scheme: Scheme) -> bool {
        matches!(method, Method::Get | Method::Head)
            && (self.auth.is_empty() || self.auth_writes_only)
            && (self.redirect_https.is_none() || scheme == Scheme::Https)
    }

    pub fn head_extra(&self) -> std::sync::Arc<[u8]> {
        self.head_extra.clone()
    }

    /// Decides about `req` before a handler sees it. `methods`: what the handler serves, for
    /// a preflight's answer.
    pub fn check(&self, req: &Request<'_>, methods: &'static str, scheme: Scheme) -> Verdict<'_> {
        if let (Some(port), Scheme::Http) = (self.redirect_https, scheme) {
            return Verdict::ToHttps(to_https(req, port));
        }
        if cors::is_preflight(req) {
            return match self.cors {
                true => Verdict::Preflight(cors::preflight(req, methods)),
                false => Verdict::Pass { user: None },
            };
        }
        let writes = !matches!(req.method, Method::Get | Method::Head | Method::Options);
        if writes {
            if let Err(why) = self.hosts.check(host(req), req.header("origin"), scheme) {
                return Verdict::CrossSite(text(403, why.reason()));
            }
        }
        if self.auth.is_empty() || (self.auth_writes_only && !writes) || req.path == HEALTH {
            return Verdict::Pass { user: None };
        }
        let values = req
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case("authorization"))
            .map(|h| h.value);
        match auth::check(&self.auth, values) {
            Ok(user) => Verdict::Pass { user: Some(user) },
            Err(why) => Verdict::Unauthorized(unauthorized(why)),
        }
    }
}

/// The host a request names: an absolute-form target's authority (which wins over `Host`,
/// RFC 9112 §3.2.2), else its `Host`.
fn host<'a>(req: &Request<'a>) -> Option<&'a [u8]> {
    let t = req.target;
    let scheme = t
        .iter()
        .position(|&b| b == b':')
        .filter(|_| !t.starts_with(b"/"));
    match scheme.and_then(|i| t.get(i + 3..)) {
        Some(rest) => {
            let end = rest.iter().position(|&b| b == b'/' || b == b'?');
            Some(&rest[..end.unwrap_or(rest.len())])
        }
        None => req.header("host").filter(|h| !h.is_empty()),
    }
}

/// 308 to `req`'s target on this host over HTTPS, on `port`.
fn to_https(req: &Request<'_>, port: u16) -> Response {
    let name = host(req)
        .and_then(origin::split_port)
        .map_or(&b"localhost"[..], |(name, _)| name);
    let mut url = String::from("https://");
    url.push_str(&String::from_utf8_lossy(name));
    if port != 443 {
        url.push_str(&format!(":{port}"));
    }
    // An absolute-form target's path; `*` (OPTIONS) is the site itself.
    let t = req.target;
    let path = match t.first() {
        Some(b'/') => t,
        _ => t
            .windows(3)
            .position(|w| w == b"://")
            .and_then(|i| {
                t[i + 3..]
                    .iter()
                    .position(|&b| b == b'/')
                    .map(|j| &t[i + 3 + j..])
            })
            .unwrap_or(b"/"),
    };
    url.push_str(&String::from_utf8_lossy(path));
    text(308, "This server speaks HTTPS.\n").with_header("Location", url)
}

fn text(status: u16, reason: &'static str) -> Response {
    Response::new(
        status,
        "text/plain; charset=utf-8",
        Body::Static(reason.as_bytes()),
    )
}

fn unauthorized(why: AuthFailure) -> Response {
    text(401, why.reason()).with_header(
        "WWW-Authenticate",
        "Basic realm=\"spindle\", charset=\"UTF-8\"",
    )
}

/// This machine's name, read once at start-up (`gethostname(2)`).
fn hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; the name is NUL-terminated within it, or
    // cut at its length (then the last byte is set to NUL below, so it is read as cut).
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
    if r != 0 {
        return None;
    }
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len() - 1);
    let name = std::str::from_utf8(&buf[..len]).ok()?;
    (!name.is_empty()).then(|| name.to_owned())
}
