//! A request head in: found, parsed, the handler asked, its decision carried out.

use crate::trace::Tag;

use super::unread::Unread;
use super::{guarded, Ask, Conn, Shared, State, Transport};
use crate::access_log::{AccessLog, Entry};
use crate::handler::{Action, Context, Handler, Request};
use crate::http::body::BodyDecoder;
use crate::http::parse::{self, BodyFraming, Slots, Summary};
use crate::http::response::Response;
use crate::http::Version;
use crate::policy::{Policy, Scheme, Verdict};
use crate::stats::Stats;

/// A parsed head, answered: the policy asked (cross-site writes, `--auth`, CORS preflights),
/// the access-log line begun, the handler asked (unless the policy answered, or the declared
/// body is over `--max-body` and the handler's own [`body_limit`] for it: 413), what the
/// response must remember.
///
/// [`body_limit`]: crate::handler::Handler::body_limit
pub(super) fn decide(
    head: &Request<'_>,
    scheme: Scheme,
    sh: &mut Shared,
    entry: &mut Entry,
    tag: &Tag,
) -> Handled {
    let summary = head.summary;
    crate::narrate!(
        tag,
        "ReadingHead",
        "parsed {} {} {:?}, {}, body {:?}",
        head.method.as_str(),
        String::from_utf8_lossy(head.target),
        summary.version,
        if summary.keep_alive {
            "keep-alive"
        } else {
            "close"
        },
        summary.framing
    );
    let mut meta = ReqMeta::of(&summary);
    let policy = sh.policy.as_deref();
    let action = match ask_policy(policy, &*sh.handler, head, &mut sh.stats, &mut meta, scheme) {
        Ok(user) => {
            log_start(sh.log.as_mut(), entry, head, user);
            ask_handler(head, sh, &mut meta)
        }
        // A refusal is not worth a body: it is thrown away (or the connection closes).
        Err(answer) => {
            log_start(sh.log.as_mut(), entry, head, None);
            Some(Action::Respond(answer))
        }
    };
    Handled {
        summary,
        action,
        meta,
    }
}

/// The access-log line begun (with the user `--auth` accepted).
fn log_start(
    log: Option<&mut AccessLog>,
    entry: &mut Entry,
    head: &Request<'_>,
    user: Option<&str>,
) {
    if let Some(log) = log {
        let (referer, agent) = (head.header("referer"), head.header("user-agent"));
        log.start(entry, user, head.line, referer, agent);
    }
}

/// The handler's action, or `None` (413) when the declared body is over every limit.
fn ask_handler(head: &Request<'_>, sh: &mut Shared, meta: &mut ReqMeta) -> Option<Action> {
    match head.summary.framing {
        BodyFraming::Length(n) if n > sh.limits.max_body && !larger_allowed(head, n, sh) => None,
        _ => {
            let cx = Context {
                stats: &sh.stats,
                max_body: sh.limits.max_body,
                draining: sh.draining,
            };
            let handler = &mut sh.handler;
            Some(guarded(|| handler.handle(head, &cx)).unwrap_or_else(|| {
                meta.keep_alive = false;
                Action::Respond(Response::error(500))
            }))
        }
    }
}

/// Whether the handler takes this request's declared length `n`, over `--max-body` (an upload).
fn larger_allowed(head: &Request<'_>, n: u64, sh: &Shared) -> bool {
    sh.handler.body_limit(head).is_some_and(|limit| n <= limit)
}

/// What the policy says of `head`: the user `--auth` accepted, or the answer it gives itself
/// (a preflight, a refusal: counted). The answer is the error side, so a request that passes
/// moves no `Response` around.
fn ask_policy<'p>(
    policy: Option<&'p Policy>,
    handler: &dyn Handler,
    head: &Request<'_>,
    stats: &mut Stats,
    meta: &mut ReqMeta,
    scheme: Scheme,
) -> Result<Option<&'p str>, Response> {
    let Some(policy) = policy else {
        return Ok(None);
    };
    // The load generator's GET, without --auth: nothing to check, and a pipelined batch
    // of them should not pay for the calls below.
    if policy.lets_pass(head.method, scheme) {
        return Ok(None);
    }
    // Guarded like a handler: a bug in a check answers 500 and closes this connection only.
    match guarded(|| policy.check(head, handler.methods(), scheme)) {
        Some(Verdict::Pass { user }) => Ok(user),
        Some(Verdict::Preflight(resp) | Verdict::ToHttps(resp)) => Err(resp),
        Some(Verdict::CrossSite(resp)) => {
            stats.cross_site_refused += 1;
            Err(resp)
        }
        Some(Verdict::Unauthorized(resp)) => {
            stats.auth_failures += 1;
            Err(resp)
        }
        None => {
            meta.keep_alive = false;
            Err(Response::error(500))
        }
    }
}

/// What a response must remember about its request.
#[derive(Clone, Copy, Debug)]
pub(super) struct ReqMeta {
    pub(super) version: Version,
    /// Whether the answer may keep the connection open: the request's word, until something
    /// (a panicking handler, an unread body after `Expect`) takes it back.
    pub(super) keep_alive: bool,
    /// The request was a `HEAD`: the answer's head only.
    pub(super) head_method: bool,
}

impl ReqMeta {
    pub(super) fn of(summary: &Summary) -> ReqMeta {
        ReqMeta {
            version: summary.version,
            keep_alive: summary.keep_alive,
            head_method: summary.head_method,
        }
    }
}

/// What became of a parsed request head, kept once the head's bytes are released.
pub(super) struct Handled {
    summary: Summary,
    /// The handler's decision; `None` when the declared body is over `--max-body` (413).
    action: Option<Action>,
    meta: ReqMeta,
}

impl<T: Transport> Conn<T> {
    pub(super) fn serve_head(&mut self, sh: &mut Shared) -> bool {
        if let Some(progress) = self.before_head() {
            return progress;
        }
        let max_head = sh.limits.max_head;
        // Error answers to HEAD carry no body either, even when the head did not parse.
        let is_head = self.buf.unread().starts_with(b"HEAD ");
        let news = self.scanner.has_news(self.buf.unread());
        let head_len = match self.head_end(max_head) {
            Ok(len) => len,
            Err(Some(e)) => return self.refuse(e, is_head, sh),
            Err(None) => return self.partial_head(news),
        };
        let buf = self.buf.unread();
        let buf = &buf[..head_len.unwrap_or(buf.len())];
        let mut slots = Slots::default();
        let handled = match parse::parse_head(buf, max_head, &mut slots, &mut sh.known) {
            Ok(Some(head)) => decide(&head, self.scheme(), sh, &mut self.log, &self.tag),
            Ok(None) => {
                // Remember what has been looked at, so the next read does not start over.
                if let Err(e) = self.scanner.scan(self.buf.unread(), max_head) {
                    return self.refuse(e, is_head, sh);
                }
                return self.partial_head(news);
            }
            Err(e) => return self.refuse(e, is_head, sh),
        };
        self.latency.head(sh.now_ns);
        self.buf.consume(handled.summary.len);
        self.scanner.reset();
        self.timer.new_request = true;
        self.act(handled, is_head, sh);
        true
    }

    /// How this connection reached us, for the policy.
    fn scheme(&self) -> Scheme {
        match self.io.secure() {
            true => Scheme::Https,
            false => Scheme::Http,
        }
    }

    /// A head that breaks the rules: its error answer, and the close.
    pub(super) fn refuse(&mut self, e: parse::ParseError, is_head: bool, sh: &mut Shared) -> bool {
        say!(self, "refused: {:?}", e);
        self.latency.head(sh.now_ns); // a broken head is complete when it is seen to be broken
        self.fail(e.status(), is_head, sh);
        true
    }

    /// What stands before a head can be read: the rest of an unread body, nothing buffered, or
    /// the empty lines a client may send first. `Some(progress)` if `serve_head` stops here.
    pub(super) fn before_head(&mut self) -> Option<bool> {
        match self.unread {
            Unread::Nothing => {}
            // The rest of the last request's body must come (and go) before the next head.
            Unread::Body { .. } if !self.sock.read_closed => return Some(false),
            Unread::Body { .. } => {
                self.set_state(State::Closing);
                return Some(true);
            }
            Unread::Unframed => {
                self.linger = true;
                self.set_state(State::Closing);
                return Some(true);
            }
        }
        if !self.buf.has_input() {
            if self.sock.read_closed {
                self.set_state(State::Closing);
                return Some(true);
            }
            return Some(false);
        }
        if self.scanner.before_request_line() {
            let skip = parse::leading_empty_lines(self.buf.unread());
            if skip > 0 {
                self.buf.consume(skip);
                self.scanner.reset();
                return Some(true);
            }
        }
        None
    }

    /// Where the head ends, if the scanner knows: `Ok(None)` to parse what is buffered straight
    /// away (usually the whole head is there). Once a head is found partial, the scanner takes
    /// over until it ends, remembering how far it has looked, so that a head trickling in byte
    /// by byte is not re-parsed from its start on every read. `Err(None)`: not all here yet.
    pub(super) fn head_end(
        &mut self,
        max_head: usize,
    ) -> Result<Option<usize>, Option<parse::ParseError>> {
        if self.scanner.is_fresh() {
            return Ok(None);
        }
        match self.scanner.scan(self.buf.unread(), max_head) {
            Ok(Some(len)) => Ok(Some(len)),
            Ok(None) => Err(None),
            Err(e) => Err(Some(e)),
        }
    }

    /// Carries out what the handler decided for a request whose head has been consumed.
    pub(super) fn act(&mut self, handled: Handled, is_head: bool, sh: &mut Shared) {
        let Handled {
            summary,
            action,
            mut meta,
        } = handled;
        let expect = summary.expect_continue;
        let decoder = match summary.framing {
            BodyFraming::None => None,
            BodyFraming::Length(0) => None,
            BodyFraming::Length(n) => Some(BodyDecoder::length(n)),
            BodyFraming::Chunked => Some(BodyDecoder::chunked()),
        };
        let Some(action) = action else {
            return self.fail(413, is_head, sh);
        };
        match action {
            Action::ReadBody(sink) => {
                // The sink's own limit (if any) replaces `--max-body`, up front as later.
                let limit = sink.limit().unwrap_or(sh.limits.max_body);
                if matches!(summary.framing, BodyFraming::Length(n) if n > limit) {
                    return self.fail(413, is_head, sh);
                }
                self.read_body(sink, decoder, expect, meta, sh)
            }
            Action::Respond(resp) => {
                self.leave_unread(decoder, expect, &mut meta);
                self.respond(resp, meta, sh);
            }
            Action::Delay(after, response) => {
                self.leave_unread(decoder, expect, &mut meta);
                self.ask = Some(Ask::Delay(after));
                self.set_state(State::Delayed { response, meta });
            }
            Action::Offload(job) => {
                self.leave_unread(decoder, expect, &mut meta);
                self.ask = Some(Ask::Offload(job));
                self.set_state(State::Offloaded { meta });
            }
        }
    }

    /// No handler reads this request's body: it is thrown away before the next head, whatever
    /// the answer (see [`Unread`]). A client waiting for a `100 Continue` it will never get
    /// may not send the body at all, so that connection closes after the answer.
    pub(super) fn leave_unread(
        &mut self,
        decoder: Option<BodyDecoder>,
        expect: bool,
        meta: &mut ReqMeta,
    ) {
        if let Some(decoder) = decoder {
            self.unread = Unread::body(decoder);
            if expect {
                meta.keep_alive = false;
                self.linger = true;
            }
        }
    }

    /// The head is not all here: wait, unless the peer has finished sending. `news`: bytes
    /// arrived since the last look (only then is the wait worth a trace line).
    pub(super) fn partial_head(&mut self, news: bool) -> bool {
        if self.sock.read_closed {
            // This request can never complete.
            self.set_state(State::Closing);
            return true;
        }
        if news {
            say!(
                self,
                "waiting for the rest of the head ({} B so far)",
                self.buf.unread().len()
            );
        }
        false
    }
}
