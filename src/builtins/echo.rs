//! `/-/echo`: a request body sent back as it came.

use crate::handler::{Action, Body, BodySink, Request, Response};
use crate::http::Method;

/// `/-/echo`: a POST or PUT body sent back with its own `Content-Type`.
pub(super) fn echo(req: &Request<'_>) -> Action {
    match req.method {
        Method::Post | Method::Put => {
            let content_type = req
                .header("content-type")
                .and_then(|v| std::str::from_utf8(v).ok())
                .unwrap_or("application/octet-stream")
                .to_owned();
            Action::ReadBody(Box::new(Echo {
                content_type,
                body: Vec::new(),
            }))
        }
        _ => Action::Respond(Response::method_not_allowed("POST, PUT")),
    }
}

/// `/-/echo`: collects the body (bounded by `--max-body`, which the connection enforces).
struct Echo {
    content_type: String,
    body: Vec<u8>,
}

impl BodySink for Echo {
    fn data(&mut self, chunk: &[u8]) {
        self.body.extend_from_slice(chunk);
    }

    fn finish(self: Box<Self>) -> Response {
        let Echo { content_type, body } = *self;
        let mut r = Response::new(200, "", Body::Owned(body));
        r.content_type = Some(content_type.into());
        r
    }
}
