//! What the last heads taught the parser. A load generator sends one head again and again
//! (wrk: every request of every connection is the same bytes), and a head's parse depends on
//! its bytes alone, so the same bytes need not be parsed twice: comparing them stands in for
//! the parse, and the answer is the parse's exactly (only a head that parsed whole is ever
//! remembered). A head that differs anywhere is parsed as usual, and takes the known one's
//! place once it comes twice running: only heads of a handful of fields, as load generators
//! send them, since remembering costs a little on every head that does not come again.

use super::host::KnownHost;
use super::{Head, ParseError, Slots, Summary, HANDFUL};
use crate::http::Method;

/// Longest head remembered.
const KNOWN_HEAD: usize = 512;

/// What the parser knows from the heads before this one, kept by whoever parses heads one
/// after another (each worker, for all of its connections).
#[derive(Default)]
pub struct Known {
    /// The last valid `Host`, for a head that differs from the last one elsewhere.
    pub(super) host: KnownHost,
    pub(super) head: KnownHead,
}

/// Where a part of the head lies in it.
type Span = (usize, usize);

/// The last head parsed whole, as its bytes and where its parts lie in them.
pub(super) struct KnownHead {
    /// `bytes[..summary.len]` is the head; `summary.len` 0: none is known.
    bytes: [u8; KNOWN_HEAD],
    line: Span,
    method: Method,
    target: Span,
    path: Span,
    query: Option<Span>,
    /// Each field's name and value: a head is remembered only with a handful of fields, as
    /// load generators send it (a browser's ten or more would cost more to remember, on every
    /// head that differs from the last, than recalling them saves).
    fields: [(Name, Span); HANDFUL],
    field_count: usize,
    summary: Summary,
    /// The last head parsed, glimpsed.
    glimpse: Glimpse,
}

/// A glimpse of a head: its length and first bytes, which are enough to tell most heads that
/// differ apart (their targets differ). Two heads glimpsed alike may still differ: a glimpse
/// only decides what is remembered, never what is recalled.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Glimpse {
    len: usize,
    first: [u8; 16],
}

impl Glimpse {
    fn of(head: &[u8]) -> Glimpse {
        let mut first = [0; 16];
        let n = head.len().min(first.len());
        first[..n].copy_from_slice(&head[..n]);
        Glimpse {
            len: head.len(),
            first,
        }
    }
}

impl Default for KnownHead {
    fn default() -> Self {
        KnownHead {
            bytes: [0; KNOWN_HEAD],
            line: (0, 0),
            method: Method::Get,
            target: (0, 0),
            path: (0, 0),
            query: None,
            fields: [(Name::At((0, 0)), (0, 0)); HANDFUL],
            field_count: 0,
            summary: Summary {
                len: 0,
                version: crate::http::Version::Http11,
                keep_alive: false,
                head_method: false,
                framing: super::BodyFraming::None,
                expect_continue: false,
            },
            glimpse: Glimpse::default(),
        }
    }
}

impl KnownHead {
    /// Whether `buf` starts with the known head, whole, and the head is within `max_head`.
    pub(super) fn starts(&self, buf: &[u8], max_head: usize) -> bool {
        let len = self.summary.len;
        let known = self.bytes.get(..len);
        len > 0 && len <= max_head && known.is_some_and(|known| buf.get(..len) == Some(known))
    }

    /// The known head, as the parse of `buf` (which [`KnownHead::starts`] with it) gives it,
    /// its fields in `slots`.
    pub(super) fn recall<'a>(
        &self,
        buf: &'a [u8],
        slots: &'a mut Slots<'a>,
    ) -> Result<Head<'a>, ParseError> {
        let head = &buf[..self.summary.len];
        let part = |(start, end): Span| &head[start..end];
        let fields = &self.fields[..self.field_count];
        let room = slots.room(fields.len());
        for (slot, &(name, value)) in room.iter_mut().zip(fields) {
            slot.name = match name {
                Name::Common(name) => name,
                // The very bytes httparse took for a name before: never an error.
                Name::At(at) => std::str::from_utf8(part(at)).map_err(|_| ParseError::Malformed)?,
            };
            slot.value = part(value);
        }
        Ok(Head {
            line: part(self.line),
            method: self.method,
            target: part(self.target),
            path: part(self.path),
            query: self.query.map(part),
            headers: room,
            summary: self.summary,
        })
    }

    /// Remembers `parsed`, the head at the start of `buf`, in place of the known one, if it
    /// looks like the head parsed before it (heads that change every time, as a browser's
    /// paths do, would pay for remembering what does not come again), is short enough, and
    /// every part of it lies in its bytes (an absolute-form target with no path has the path
    /// `/`, which does not).
    pub(super) fn remember(&mut self, buf: &[u8], parsed: &Head<'_>) {
        let len = parsed.summary.len;
        let Some(head) = buf.get(..len) else {
            return;
        };
        let glimpse = Glimpse::of(head);
        if std::mem::replace(&mut self.glimpse, glimpse) != glimpse {
            return;
        }
        self.summary.len = 0;
        let Some(bytes) = self.bytes.get_mut(..len) else {
            return;
        };
        if parsed.headers.len() > HANDFUL {
            return;
        }
        let span = |part: &[u8]| span_in(head, part);
        let (Some(line), Some(target), Some(path)) =
            (span(parsed.line), span(parsed.target), span(parsed.path))
        else {
            return;
        };
        let query = match parsed.query {
            None => None,
            Some(q) => match span(q) {
                None => return,
                found => found,
            },
        };
        for (slot, field) in self.fields.iter_mut().zip(parsed.headers) {
            let name = match common(field.name) {
                Some(name) => Some(Name::Common(name)),
                None => span(field.name.as_bytes()).map(Name::At),
            };
            match (name, span(field.value)) {
                (Some(name), Some(value)) => *slot = (name, value),
                _ => return,
            }
        }
        bytes.copy_from_slice(head);
        (self.line, self.target, self.path, self.query) = (line, target, path, query);
        (self.method, self.field_count) = (parsed.method, parsed.headers.len());
        self.summary = parsed.summary;
    }
}

/// A field's name: one that load generators send, spelt as they spell it, is kept as text (a
/// name lent as `&str` must be checked to be UTF-8 again otherwise, which costs as much as the
/// rest of a recall); any other is found where it lies in the head.
#[derive(Clone, Copy)]
enum Name {
    Common(&'static str),
    At(Span),
}

/// `name` as the text of a [`Name::Common`], if it is one.
fn common(name: &str) -> Option<&'static str> {
    // Names load generators (wrk, ab, hey, oha) send, as most clients spell them and in
    // lower case (as hyper's clients do).
    const COMMON: [&str; 8] = [
        "Host",
        "User-Agent",
        "Accept",
        "Accept-Encoding",
        "host",
        "user-agent",
        "accept",
        "accept-encoding",
    ];
    COMMON.into_iter().find(|&c| c == name)
}

/// Where `part` lies in `head`, if it does.
fn span_in(head: &[u8], part: &[u8]) -> Option<Span> {
    let start = (part.as_ptr() as usize).wrapping_sub(head.as_ptr() as usize);
    let fits = start <= head.len() && part.len() <= head.len() - start;
    fits.then_some((start, start + part.len()))
}
