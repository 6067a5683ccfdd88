//! Chooses who answers a request: the `/-/` built-ins, or (soon) the files under ROOT.
//! Everything that is not a built-in is 404 until the static-file handler lands.

use crate::builtins;
use crate::handler::{Action, Context, Handler, Request, Response};

pub struct Router {
    builtins: bool,
}

impl Router {
    pub fn new(builtins: bool) -> Self {
        Router { builtins }
    }
}

impl Handler for Router {
    fn handle(&mut self, req: &Request<'_>, cx: &Context<'_>) -> Action {
        if self.builtins {
            if let Some(rest) = req.path.strip_prefix(b"/-/") {
                return builtins::handle(rest, req, cx);
            }
        }
        Action::Respond(Response::error(404))
    }
}
