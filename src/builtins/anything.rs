//! `/-/anything` and `/-/anything/…`: the request described back as JSON, any method.
//!
//! `{"method":"GET","target":"/-/anything?x=1","headers":[["Host","a"],…],"body_length":0}`:
//! headers in the order received, as `[name, value]` pairs (so repeats and order survive);
//! every string escaped by [`json::string`] (control bytes as `\u00XX`, bytes that are not
//! UTF-8 as `\ufffd`). The body is read and counted, never kept (`--max-body` applies).

use super::json;
use crate::handler::{Action, Body, BodySink, Request, Response};

pub(super) fn anything(req: &Request<'_>) -> Action {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"{\"method\":");
    json::string(&mut out, req.method.as_str().as_bytes());
    out.extend_from_slice(b",\"target\":");
    json::string(&mut out, req.target);
    out.extend_from_slice(b",\"headers\":[");
    for (i, h) in req.headers.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'[');
        json::string(&mut out, h.name.as_bytes());
        out.push(b',');
        json::string(&mut out, h.value);
        out.push(b']');
    }
    out.extend_from_slice(b"],\"body_length\":");
    Action::ReadBody(Box::new(Counted { out, length: 0 }))
}

/// Counts the body's bytes; holds the document begun from the head.
struct Counted {
    out: Vec<u8>,
    length: u64,
}

impl BodySink for Counted {
    fn data(&mut self, chunk: &[u8]) {
        self.length += chunk.len() as u64;
    }

    fn finish(self: Box<Self>) -> Response {
        let Counted { mut out, length } = *self;
        out.extend_from_slice(itoa::Buffer::new().format(length).as_bytes());
        out.extend_from_slice(b"}\n");
        Response::new(200, "application/json", Body::Owned(out))
    }
}
