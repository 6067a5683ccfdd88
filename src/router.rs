//! Chooses who answers a request: the `/-/` built-ins, or the files under ROOT.

use crate::builtins::{self, Builtins};
use crate::files::Files;
use crate::handler::{Action, Context, Handler, Request, Response};
use crate::http::Method;

pub struct Router {
    /// `None` with `--no-builtins`.
    builtins: Option<Builtins>,
    files: Files,
}

impl Router {
    /// The router of worker 1 (see [`Router::for_worker`]).
    pub fn new(builtins: bool, files: Files) -> Self {
        Router {
            builtins: builtins.then(|| Builtins::new(1)),
            files,
        }
    }

    /// The same router, for worker `worker` (1-based): `/-/worker` says which answered.
    pub fn for_worker(mut self, worker: usize) -> Self {
        if let Some(b) = self.builtins.as_mut() {
            *b = Builtins::new(worker);
        }
        self
    }
}

impl Router {
    /// What `OPTIONS *` answers (RFC 9110 §9.3.7): every method something here serves. GET and
    /// HEAD (files, built-ins), OPTIONS (this), POST and PUT with the built-ins (`/-/echo`),
    /// PUT, DELETE and POST (upload forms) with `--allow-write`. (`/-/status/CODE` and `/-/anything` answer any
    /// method, but they are test fixtures, not resources that support them.)
    fn allow(&self) -> &'static str {
        match (self.builtins.is_some(), self.files.allow_write()) {
            (false, false) => "GET, HEAD, OPTIONS",
            (false, true) => "GET, HEAD, OPTIONS, POST, PUT, DELETE",
            (true, false) => "GET, HEAD, OPTIONS, POST, PUT",
            (true, true) => "GET, HEAD, OPTIONS, POST, PUT, DELETE",
        }
    }
}

impl Handler for Router {
    fn handle(&mut self, req: &Request<'_>, cx: &Context<'_>) -> Action {
        // The parser lets `*` through only with OPTIONS: a question about the server itself.
        if req.method == Method::Options && req.path == b"*" {
            return Action::Respond(Response::empty(200).with_header("Allow", self.allow()));
        }
        // For load balancers, so it answers even with the other built-ins off.
        if req.path == builtins::HEALTH {
            return Action::Respond(builtins::health(req, cx));
        }
        if let Some(b) = self.builtins.as_mut() {
            if let Some(rest) = req.path.strip_prefix(b"/-/") {
                return b.handle(rest, req, cx);
            }
        }
        self.files.handle(req)
    }

    fn body_limit(&self, req: &Request<'_>) -> Option<u64> {
        match req.path.starts_with(b"/-/") && self.builtins.is_some() {
            true => None,
            false => self.files.body_limit(req),
        }
    }

    fn methods(&self) -> &'static str {
        self.allow()
    }
}
