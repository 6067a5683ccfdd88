//! Chooses who answers a request: the `/-/` built-ins, or the files under ROOT.

use crate::builtins;
use crate::files::Files;
use crate::handler::{Action, Context, Handler, Request};

pub struct Router {
    builtins: bool,
    files: Files,
}

impl Router {
    pub fn new(builtins: bool, files: Files) -> Self {
        Router { builtins, files }
    }
}

impl Handler for Router {
    fn handle(&mut self, req: &Request<'_>, cx: &Context<'_>) -> Action {
        if self.builtins {
            if let Some(rest) = req.path.strip_prefix(b"/-/") {
                return builtins::handle(rest, req, cx);
            }
        }
        self.files.handle(req)
    }
}
