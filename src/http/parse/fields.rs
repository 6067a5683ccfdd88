//! What the header fields of a request say about how to read it: the body's framing (RFC 9112
//! §6), whether the connection persists (§9.3), `Host` (§3.2) and `Expect` (RFC 9110 §10.1.1).
//! These are the rules that keep request smuggling out; httparse only splits the fields.

use super::host::KnownHost;
use super::{BodyFraming, ParseError};
use crate::http::token::{parse_decimal, trim_ows};
use crate::http::Version;

/// What the fields said, once every rule has passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Said {
    pub framing: BodyFraming,
    /// Whether the connection may stay open after this request (RFC 9112 §9.3).
    pub keep_alive: bool,
    pub expect_continue: bool,
}

/// Applies the framing, persistence, `Host` and `Expect` rules to a request's fields.
pub fn read_fields(
    headers: &[httparse::Header<'_>],
    version: Version,
    known: &mut KnownHost,
) -> Result<Said, ParseError> {
    let mut fields = Fields::default();
    for h in headers {
        fields.add(h, known)?;
    }
    let framing = fields.framing(version)?;
    if fields.hosts > 1 || (fields.hosts == 0 && version == Version::Http11) {
        return Err(ParseError::BadHost);
    }
    let keep_alive = match version {
        Version::Http11 => !fields.close,
        Version::Http10 => fields.keep_alive && !fields.close,
    };
    Ok(Said {
        framing,
        keep_alive,
        expect_continue: fields.expect_continue,
    })
}

/// What the fields seen so far say.
#[derive(Default)]
struct Fields {
    hosts: u32,
    length: Option<u64>,
    /// Transfer codings seen, in order: only a single `chunked` is acceptable.
    codings: u32,
    chunked_last: bool,
    close: bool,
    keep_alive: bool,
    expect_continue: bool,
}

impl Fields {
    fn add(&mut self, h: &httparse::Header<'_>, known: &mut KnownHost) -> Result<(), ParseError> {
        let name = h.name;
        // Most fields are none of ours: their length alone says so.
        if !matches!(name.len(), 4 | 6 | 10 | 14 | 17) {
            return Ok(());
        }
        if name.eq_ignore_ascii_case("host") {
            self.hosts += 1;
            let v = trim_ows(h.value);
            // An empty Host is what a client sends for a target without an authority.
            if !v.is_empty() && !known.valid(v) {
                return Err(ParseError::BadHost);
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            self.content_length(h.value)?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            self.transfer_encoding(h.value)?;
        } else if name.eq_ignore_ascii_case("connection") {
            for item in h.value.split(|&b| b == b',') {
                let token = trim_ows(item);
                if token.eq_ignore_ascii_case(b"close") {
                    self.close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    self.keep_alive = true;
                }
            }
        } else if name.eq_ignore_ascii_case("expect") {
            if trim_ows(h.value).eq_ignore_ascii_case(b"100-continue") {
                self.expect_continue = true;
            } else {
                return Err(ParseError::Expectation);
            }
        }
        Ok(())
    }

    /// A list of identical values ("5, 5") or repeated identical fields is one length.
    fn content_length(&mut self, value: &[u8]) -> Result<(), ParseError> {
        for item in value.split(|&b| b == b',') {
            let n = parse_length(trim_ows(item)).ok_or(ParseError::BadFraming)?;
            if self.length.is_some_and(|l| l != n) {
                return Err(ParseError::BadFraming);
            }
            self.length = Some(n);
        }
        Ok(())
    }

    fn transfer_encoding(&mut self, value: &[u8]) -> Result<(), ParseError> {
        for item in value.split(|&b| b == b',') {
            let coding = trim_ows(item);
            if coding.is_empty() || self.chunked_last {
                // An empty element, or anything after `chunked`: framing is ambiguous.
                return Err(ParseError::BadFraming);
            }
            if !coding.eq_ignore_ascii_case(b"chunked") {
                return Err(ParseError::UnknownCoding);
            }
            self.codings += 1;
            self.chunked_last = true;
        }
        if self.codings == 0 {
            return Err(ParseError::BadFraming);
        }
        Ok(())
    }

    fn framing(&self, version: Version) -> Result<BodyFraming, ParseError> {
        match (self.codings, self.length) {
            (0, None) => Ok(BodyFraming::None),
            (0, Some(n)) => Ok(BodyFraming::Length(n)),
            // TE with CL, or TE on HTTP/1.0 (RFC 9112 §6.1): the framing is faulty.
            (_, Some(_)) => Err(ParseError::BadFraming),
            (_, None) if version == Version::Http10 => Err(ParseError::BadFraming),
            (_, None) => Ok(BodyFraming::Chunked),
        }
    }
}

/// `1*DIGIT`, no sign, at most 19 digits (leading zeros count): a longer value is refused even
/// when it is worth less than `u64::MAX`, as it always has been.
fn parse_length(v: &[u8]) -> Option<u64> {
    if v.len() > 19 {
        return None;
    }
    parse_decimal(v)
}
