//! A request body a handler reads: decoded as it arrives and handed to the handler's sink.

use super::request::ReqMeta;
use super::{guarded, Conn, Shared, State, Transport};
use crate::handler::BodySink;
use crate::http::body::BodyDecoder;
use crate::http::response::Response;
use crate::http::Version;

/// A body sink's answer; 500 and no keep-alive if it panics.
pub(super) fn finish(sink: Box<dyn BodySink>, meta: &mut ReqMeta) -> Response {
    guarded(|| sink.finish()).unwrap_or_else(|| {
        meta.keep_alive = false;
        Response::error(500)
    })
}

/// A handler's body sink, waiting for the rest of the body.
pub(super) struct Pending {
    pub(super) sink: Box<dyn BodySink>,
    pub(super) meta: ReqMeta,
    /// The most body the sink takes: its own limit, or `--max-body`.
    pub(super) limit: u64,
}

impl<T: Transport> Conn<T> {
    /// Hands the body to the handler's sink as it arrives (after `100 Continue` if asked).
    pub(super) fn read_body(
        &mut self,
        sink: Box<dyn BodySink>,
        decoder: Option<BodyDecoder>,
        expect: bool,
        mut meta: ReqMeta,
        sh: &mut Shared,
    ) {
        let Some(decoder) = decoder else {
            let resp = finish(sink, &mut meta);
            return self.respond(resp, meta, sh);
        };
        if expect && meta.version == Version::Http11 {
            self.buf
                .queue(&mut sh.pool, b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        let limit = sink.limit().unwrap_or(sh.limits.max_body);
        self.set_state(State::ReadingBody {
            decoder,
            sink: Pending { sink, meta, limit },
            received: 0,
        });
    }

    /// Hands what the input holds of the body to the sink; answers once the body is whole.
    pub(super) fn serve_body(&mut self, sh: &mut Shared) -> bool {
        let (end, progress) = self.feed_sink();
        match end {
            BodyEnd::More => return progress,
            BodyEnd::Done => {
                if let State::ReadingBody { sink: p, .. } = self.replace_state(State::ReadingHead) {
                    let mut meta = p.meta;
                    let resp = finish(p.sink, &mut meta);
                    self.respond(resp, meta, sh);
                }
            }
            BodyEnd::Panicked => self.fail(500, false, sh),
            BodyEnd::Bad => self.fail(400, false, sh),
            BodyEnd::TooLarge => self.fail(413, false, sh),
            // The peer has gone before the body's end: nobody to answer.
            BodyEnd::Truncated => self.set_state(State::Closing),
        }
        true
    }

    /// Decodes buffered body bytes into the sink until the input or the body ends. Returns
    /// where that left the body, and whether any bytes were used.
    fn feed_sink(&mut self) -> (BodyEnd, bool) {
        let State::ReadingBody {
            decoder,
            sink,
            received,
        } = &mut self.state
        else {
            return (BodyEnd::More, false);
        };
        let mut progress = false;
        loop {
            let data = self.buf.unread();
            if data.is_empty() {
                let end = if self.sock.read_closed {
                    BodyEnd::Truncated
                } else {
                    BodyEnd::More
                };
                return (end, progress);
            }
            let Ok(d) = decoder.decode(data) else {
                return (BodyEnd::Bad, progress);
            };
            *received += d.data.len() as u64;
            if *received > sink.limit {
                return (BodyEnd::TooLarge, progress);
            }
            if guarded(|| sink.sink.data(&data[d.data.clone()])).is_none() {
                return (BodyEnd::Panicked, progress);
            }
            self.buf.consume(d.consumed);
            progress = true;
            if d.done {
                return (BodyEnd::Done, progress);
            }
        }
    }
}

/// Where feeding a body to its sink stopped.
enum BodyEnd {
    /// The input is used up; more body to come.
    More,
    Done,
    /// Broken framing (a bad chunk).
    Bad,
    TooLarge,
    /// The peer closed before the body's end.
    Truncated,
    /// The handler's sink panicked.
    Panicked,
}
