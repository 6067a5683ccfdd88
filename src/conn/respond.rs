//! A response out: its head encoded, its body copied in or handed to `BodyOut`, and what
//! follows it (the next request, or the close) decided once.

use std::mem;
use std::time::Instant;

use super::body_out::{BodyOut, FileSend, Pumped};
use super::request::ReqMeta;
use super::{Ask, Conn, Shared, State, Transport, TORTURE_IO};
use crate::buf::OUT_HIGH;
use crate::http::plan::plan;
use crate::http::response::{Body, Framing, Response};
use crate::http::Version;

impl<T: Transport> Conn<T> {
    /// Encodes a response; decides keep-alive; moves to the next state.
    pub(super) fn respond(&mut self, resp: Response, meta: ReqMeta, sh: &mut Shared) {
        let keep_alive = meta.keep_alive && !self.draining;
        let plan = plan(
            resp.status,
            resp.body.len(),
            meta.version,
            keep_alive,
            meta.head_method,
        );
        let before = self.buf.output(&mut sh.pool).len();
        sh.heads.encode(
            &mut self.buf.output,
            &resp,
            &sh.date,
            plan.framing,
            plan.connection,
        );
        sh.stats.count_response(resp.status);
        self.timer.answered = true;
        if let Some(log) = sh.log.as_mut() {
            let bytes = match plan.framing {
                Framing::Length(n) if plan.send_body => n,
                _ => 0,
            };
            log.finish(&mut self.log, resp.status, bytes, Instant::now());
        }
        let status = resp.status;
        let later = if plan.send_body {
            self.copy_body(resp.body, plan.framing)
        } else {
            None
        };
        let whole = later.is_none();
        let owed = self.owed();
        self.latency
            .queued(status, owed, whole, &mut sh.stats, sh.now_ns);
        let head_len = self.buf.output.len() - before;
        self.after_response(status, head_len, later, plan.keep_alive);
    }

    /// What follows a queued response: the rest of its body, or at once the next request or the
    /// close.
    fn after_response(
        &mut self,
        status: u16,
        head_len: usize,
        later: Option<BodyOut>,
        keep_alive: bool,
    ) {
        // Looked up only when the trace is on.
        let reason = || crate::http::response::reason(status);
        match later {
            Some(body) => {
                say!(
                    self,
                    "queued {status} {} head ({head_len} B), the body to follow",
                    reason()
                );
                self.set_state(State::SendingBody { body, keep_alive });
            }
            None => {
                say!(
                    self,
                    "queued {status} {} ({head_len} B, {} owed)",
                    reason(),
                    self.owed()
                );
                if !keep_alive {
                    self.set_state(State::Closing);
                } else if !matches!(self.state, State::ReadingHead) {
                    self.set_state(State::ReadingHead);
                }
            }
        }
    }

    /// Copies a body that is all in memory in behind its head; a generated or file body is
    /// handed back, to be sent as the socket drains.
    pub(super) fn copy_body(&mut self, body: Body, framing: Framing) -> Option<BodyOut> {
        let out = &mut self.buf.output;
        match body {
            Body::Empty => {}
            Body::Static(b) => out.extend_from_slice(b),
            Body::Shared(b, range) => out.extend_from_slice(b.get(range).unwrap_or_default()),
            Body::Owned(b) => out.extend_from_slice(&b),
            Body::File { len: 0, .. } => {}
            Body::File { file, offset, len } => {
                return Some(BodyOut::File {
                    file,
                    offset,
                    remaining: len,
                    how: FileSend::FirstPiece,
                })
            }
            Body::Stream(stream) => {
                let remaining = match framing {
                    Framing::Length(n) => n,
                    _ => 0,
                };
                return Some(BodyOut::Stream {
                    stream,
                    framing,
                    remaining,
                });
            }
        }
        None
    }

    /// An error answer that ends the connection (gracefully: the client gets to read it).
    pub(super) fn fail(&mut self, status: u16, head_method: bool, sh: &mut Shared) {
        self.linger = true;
        let meta = ReqMeta {
            version: Version::Http11,
            keep_alive: false,
            head_method,
        };
        self.respond(Response::error(status), meta, sh);
    }

    /// Plain HTTP on a TLS port: a 400 in plain text that says so (the transport has stepped
    /// aside), and the close.
    pub(super) fn refuse_plain(&mut self, sh: &mut Shared) {
        say!(self, "plain HTTP on a TLS port: 400");
        self.linger = true;
        self.latency.head(sh.now_ns);
        let meta = ReqMeta {
            version: Version::Http11,
            keep_alive: false,
            head_method: false,
        };
        let body = Body::Static(b"This port speaks HTTPS: use https:// in the URL.\n");
        let resp = Response::new(400, "text/plain; charset=utf-8", body);
        self.respond(resp, meta, sh);
    }

    /// Copies the next piece of a generated body, or of a file that `sendfile` cannot send,
    /// into the output buffer. Returns whether anything happened.
    pub(super) fn pump_body(&mut self, sh: &mut Shared) -> bool {
        let room = OUT_HIGH.saturating_sub(self.owed());
        let State::SendingBody { body, .. } = &mut self.state else {
            return false;
        };
        if room == 0 || !body.copies() {
            return false;
        }
        let pumped = body.pump_copy(self.buf.output(&mut sh.pool), room);
        self.after_pump(pumped)
    }

    /// Sends file bytes straight from the page cache once the head is out, a bounded amount
    /// per round. Returns whether anything happened.
    pub(super) fn sendfile_body(&mut self, sh: &mut Shared) -> bool {
        let State::SendingBody { body, .. } = &mut self.state else {
            return false;
        };
        let sent = body.pump_sendfile(&mut self.io, sh.torture.then_some(TORTURE_IO), &self.tag);
        if sent.blocked {
            self.sock.writable = false; // socket buffer full: wait for its edge
        }
        if sent.bytes > 0 {
            sh.stats.bytes_out += sent.bytes as u64;
            self.timer.write_progress = true;
        }
        self.after_pump(sent.pumped)
    }

    /// Between sending a paced body and waiting for its next piece: the same body, kept.
    pub(super) fn toggle_pacing(&mut self) {
        let was = self.state.name();
        let next = match mem::replace(&mut self.state, State::Closed) {
            State::SendingBody { body, keep_alive } => State::Pacing { body, keep_alive },
            State::Pacing { body, keep_alive } => State::SendingBody { body, keep_alive },
            other => other,
        };
        crate::narrate!(self.tag, was, "-> {}", next.name());
        self.state = next;
    }

    /// What follows a body, decided here once: the next request if the connection is kept
    /// alive and the body was whole, else the close (without lingering, if the body was cut
    /// short: the client must see the connection end). Returns whether anything happened.
    pub(super) fn after_pump(&mut self, pumped: Pumped) -> bool {
        let State::SendingBody { keep_alive, .. } = self.state else {
            return false;
        };
        if let Pumped::Done = pumped {
            self.latency.body_done(self.owed());
        }
        match pumped {
            Pumped::More { progress } => progress,
            Pumped::Wait(after) => {
                say!(self, "next piece due in {after:?}");
                self.ask = Some(Ask::Delay(after));
                self.toggle_pacing();
                true
            }
            Pumped::Done if keep_alive && !self.draining => {
                self.set_state(State::ReadingHead);
                true
            }
            Pumped::Done => {
                self.set_state(State::Closing);
                true
            }
            Pumped::Broken => {
                self.linger = false;
                self.set_state(State::Closing);
                true
            }
        }
    }
}
