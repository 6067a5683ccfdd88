//! The one small interface between a connection and whatever answers requests. Handlers see a
//! parsed request and return an [`Action`]; they never touch sockets, mio or timers.

use std::time::Duration;

pub use crate::http::parse::Head as Request;
pub use crate::http::response::{Body, Response, Stream};
use crate::stats::Stats;

/// What a handler may look at besides the request.
pub struct Context<'a> {
    pub stats: &'a Stats,
    /// `--max-body`: a [`BodySink`] never receives more than this.
    pub max_body: u64,
    /// The server is shutting down (`/-/health` answers 503).
    pub draining: bool,
}

/// What to do with a request.
pub enum Action {
    /// Answer now.
    Respond(Response),
    /// Answer after a delay; the reactor owns the timer, nothing sleeps.
    Delay(Duration, Response),
    /// Read the request body into this sink, then answer with what it returns.
    /// (`Expect: 100-continue` is answered only for requests that get here.)
    ReadBody(Box<dyn BodySink>),
    /// Work that may block for long (reading a huge directory, a slow disk): it runs on a
    /// helper thread, never on the reactor's, and its answer is sent when it comes back.
    Offload(Job),
}

/// Blocking work handed to a helper thread; it returns the response to send.
pub type Job = Box<dyn FnOnce() -> Response + Send>;

/// Receives a request body piece by piece, as it is decoded.
pub trait BodySink: Send {
    fn data(&mut self, chunk: &[u8]);
    /// The whole body has arrived.
    fn finish(self: Box<Self>) -> Response;
    /// The most body this sink takes, if not `--max-body` (an upload form's `--max-upload`):
    /// more is 413, whether a `Content-Length` declares it or the decoded body reaches it.
    fn limit(&self) -> Option<u64> {
        None
    }
}

pub trait Handler: Send {
    fn handle(&mut self, req: &Request<'_>, cx: &Context<'_>) -> Action;
    /// Asked only for a request whose `Content-Length` is over `--max-body`, before
    /// [`Handler::handle`]: the larger limit this request's sink will have (see
    /// [`BodySink::limit`]), if any. `None`, the default: 413 at once, the handler never asked.
    fn body_limit(&self, _req: &Request<'_>) -> Option<u64> {
        None
    }

    /// The methods this handler serves, as `Allow` lists them: what a CORS preflight is
    /// told (`--cors`).
    fn methods(&self) -> &'static str {
        "GET, HEAD, OPTIONS"
    }
}
