//! `multipart/form-data` (RFC 7578 over RFC 2046 §5.1), decoded as it streams: fed the body
//! in pieces of any size, [`Parser`] calls back with [`Event`]s — a part begins (its `name`
//! and `filename`), a slice of its data, it ends, the body ends. No I/O, nothing held whole:
//! at most one part's header block (8 KiB) is buffered, and a data slice borrows the input.
//!
//! Strict: no preamble, a `Content-Disposition: form-data` with a `name` in every part, a
//! bounded count of parts and header lines; anything else is an [`Error`], never a panic.
//! (No crate fit: the streaming multipart crates are built on async streams, not on a sink that
//! is handed bytes by a non-blocking reactor.)

use memchr::memmem::Finder;

/// The longest header block of one part.
pub const MAX_PART_HEAD: usize = 8 * 1024;
/// The most header lines in one part.
pub const MAX_PART_FIELDS: usize = 8;
/// The most parts in one body.
pub const MAX_PARTS: usize = 4096;
/// The most spaces and tabs after a boundary (RFC 2046's transport padding).
const MAX_PADDING: usize = 64;

/// What went wrong, as a one-line reason for the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error(pub &'static str);

/// What the parser found, in body order.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A part begins. `filename` is the parameter's value as sent (quotes and escapes removed).
    Part {
        name: &'a [u8],
        filename: Option<&'a [u8]>,
    },
    /// Some of the current part's data (never empty).
    Data(&'a [u8]),
    /// The current part's data is complete (its closing boundary line has arrived whole).
    PartEnd,
    /// The closing boundary: the body is complete. Anything after it is ignored.
    End,
}

/// The boundary of a `Content-Type: multipart/form-data; boundary=…` value: 1 to 70 of RFC
/// 2046's `bchars`, not ending in a space, quoted or not. `None` for any other media type.
pub fn boundary(content_type: &[u8]) -> Option<Result<Vec<u8>, Error>> {
    let mut params = content_type.split(|&b| b == b';');
    let media = params.next()?.trim_ascii();
    if !media.eq_ignore_ascii_case(b"multipart/form-data") {
        return None;
    }
    let mut found = None;
    for p in params {
        let p = p.trim_ascii();
        let Some(eq) = p.iter().position(|&b| b == b'=') else {
            return Some(Err(Error("a Content-Type parameter without a value")));
        };
        if p[..eq].trim_ascii().eq_ignore_ascii_case(b"boundary") {
            if found.is_some() {
                return Some(Err(Error("two boundary parameters")));
            }
            found = Some(p[eq + 1..].trim_ascii());
        }
    }
    let Some(raw) = found else {
        return Some(Err(Error("multipart/form-data without a boundary")));
    };
    let value = match raw.strip_prefix(b"\"") {
        Some(rest) => match rest.strip_suffix(b"\"") {
            Some(inner) => inner,
            None => return Some(Err(Error("an unterminated quoted boundary"))),
        },
        None => raw,
    };
    Some(check_boundary(value).map(|()| value.to_vec()))
}

fn check_boundary(b: &[u8]) -> Result<(), Error> {
    let bchar = |c: u8| c.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&c);
    if b.is_empty() || b.len() > 70 || b.ends_with(b" ") || !b.iter().all(|&c| bchar(c)) {
        return Err(Error(
            "the boundary must be 1 to 70 letters, digits or '()+_,-./:=? (RFC 2046)",
        ));
    }
    Ok(())
}

/// Where the parser is in the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Before the first boundary (which must come at once: no preamble).
    Start,
    /// In a part's data, looking for `CRLF--boundary`.
    Data,
    /// Just after a boundary: `--` (the end), or padding and CRLF (a part follows).
    AfterBoundary { padding: usize },
    /// Saw one `-` after a boundary.
    Dash,
    /// Saw the CR after a boundary.
    Cr,
    /// In a part's header block.
    Head,
    /// After the closing boundary: the epilogue, ignored.
    Epilogue,
    /// An error was returned: nothing more is read.
    Failed,
}

/// A streaming `multipart/form-data` decoder for one body.
pub struct Parser {
    /// `CRLF--boundary`: the body is parsed as if it began with a CRLF, so the first boundary
    /// is found like every other one.
    delimiter: Vec<u8>,
    finder: Finder<'static>,
    state: State,
    /// How much of `delimiter` the end of the last piece matched (held back, not yet data).
    matched: usize,
    /// The header block being gathered.
    head: Vec<u8>,
    parts: usize,
    in_part: bool,
}

impl Parser {
    /// A parser for the boundary `boundary` (as [`boundary`] returns it).
    pub fn new(boundary: &[u8]) -> Parser {
        let mut delimiter = b"\r\n--".to_vec();
        delimiter.extend_from_slice(boundary);
        Parser {
            finder: Finder::new(&delimiter).into_owned(),
            delimiter,
            state: State::Start,
            matched: 2, // the CRLF the body is taken to begin with
            head: Vec::new(),
            parts: 0,
            in_part: false,
        }
    }

    /// Parses the next piece of the body, calling `on` for each event. After an error (the
    /// parser's or `on`'s) the parser reads nothing more.
    pub fn feed<E: From<Error>>(
        &mut self,
        mut input: &[u8],
        on: &mut impl FnMut(Event<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        if self.state == State::Failed {
            return Err(Error("the body was already refused").into());
        }
        while !input.is_empty() {
            match self.step(input, on) {
                Ok(used) => input = &input[used..],
                Err(e) => {
                    self.state = State::Failed;
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// The body has ended: fine only after the closing boundary.
    pub fn finish(&self) -> Result<(), Error> {
        match self.state {
            State::Epilogue => Ok(()),
            _ => Err(Error("the body ended before the closing boundary")),
        }
    }

    /// One step on `input` (not empty): how many bytes it used.
    fn step<E: From<Error>>(
        &mut self,
        input: &[u8],
        on: &mut impl FnMut(Event<'_>) -> Result<(), E>,
    ) -> Result<usize, E> {
        match self.state {
            State::Start | State::Data => self.data(input, on),
            State::Head => self.head(input, on),
            State::Epilogue => Ok(input.len()),
            State::Failed => Err(Error("the body was already refused").into()),
            _ => self.after_boundary(input[0], on).map(|()| 1),
        }
    }

    /// Data up to the next delimiter. A piece that ends in what may be the start of one holds
    /// it back (`matched`) until the next piece says. The delimiter holds one CR, its first
    /// byte (a boundary has no CR), so a failed partial match hides no other start.
    fn data<E: From<Error>>(
        &mut self,
        input: &[u8],
        on: &mut impl FnMut(Event<'_>) -> Result<(), E>,
    ) -> Result<usize, E> {
        if self.matched > 0 {
            let want = &self.delimiter[self.matched..];
            let n = want.len().min(input.len());
            if input[..n] == want[..n] {
                if n == want.len() {
                    self.matched = 0;
                    self.state = State::AfterBoundary { padding: 0 };
                } else {
                    self.matched += n;
                }
                return Ok(n);
            }
            // Not a delimiter after all: what was held back is data.
            let held = self.matched;
            self.matched = 0;
            self.emit_data(&self.delimiter[..held], on)?;
        }
        if let Some(at) = self.finder.find(input) {
            self.emit_data(&input[..at], on)?;
            self.state = State::AfterBoundary { padding: 0 };
            return Ok(at + self.delimiter.len());
        }
        // Only the last delimiter-length bytes can hold the start of one.
        let tail = input.len().saturating_sub(self.delimiter.len() - 1);
        let keep = match memchr::memrchr(b'\r', &input[tail..]) {
            Some(i) if self.delimiter.starts_with(&input[tail + i..]) => tail + i,
            _ => input.len(),
        };
        self.emit_data(&input[..keep], on)?;
        self.matched = input.len() - keep;
        Ok(input.len())
    }

    fn emit_data<E: From<Error>>(
        &self,
        data: &[u8],
        on: &mut impl FnMut(Event<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        if data.is_empty() {
            return Ok(());
        }
        if !self.in_part {
            return Err(Error("text before the first boundary").into());
        }
        on(Event::Data(data))
    }

    /// The rest of a boundary line, a byte at a time (it is a few bytes long).
    fn after_boundary<E: From<Error>>(
        &mut self,
        b: u8,
        on: &mut impl FnMut(Event<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let bad = Error("a boundary followed by something other than CRLF or --");
        self.state = match (self.state, b) {
            (State::AfterBoundary { .. }, b'-') => State::Dash,
            (State::AfterBoundary { padding }, b' ' | b'\t') if padding < MAX_PADDING => {
                State::AfterBoundary {
                    padding: padding + 1,
                }
            }
            (State::AfterBoundary { .. }, b'\r') => State::Cr,
            (State::Dash, b'-') => {
                self.end_part(on)?;
                on(Event::End)?;
                State::Epilogue
            }
            (State::Cr, b'\n') => {
                self.end_part(on)?;
                self.parts += 1;
                if self.parts > MAX_PARTS {
                    return Err(Error("too many parts").into());
                }
                self.head.clear();
                State::Head
            }
            _ => return Err(bad.into()),
        };
        Ok(())
    }

    fn end_part<E: From<Error>>(
        &mut self,
        on: &mut impl FnMut(Event<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        if std::mem::take(&mut self.in_part) {
            on(Event::PartEnd)?;
        }
        Ok(())
    }

    /// A part's header block, gathered up to its empty line, then parsed whole. (At most one
    /// piece of input beyond [`MAX_PART_HEAD`] is held before the block is refused.)
    fn head<E: From<Error>>(
        &mut self,
        input: &[u8],
        on: &mut impl FnMut(Event<'_>) -> Result<(), E>,
    ) -> Result<usize, E> {
        let old = self.head.len();
        self.head.extend_from_slice(input);
        if self.head.starts_with(b"\r\n") {
            return Err(Error("a part without a Content-Disposition header").into());
        }
        let from = old.saturating_sub(3);
        let end = memchr::memmem::find(&self.head[from..], b"\r\n\r\n").map(|i| from + i);
        if end.unwrap_or(self.head.len()) > MAX_PART_HEAD {
            return Err(Error("a part's headers are over 8 KiB").into());
        }
        let Some(end) = end else {
            return Ok(input.len());
        };
        self.head.truncate(end + 2); // each line with its CRLF
        let (name, filename) = part_head(&self.head)?;
        self.in_part = true;
        self.state = State::Data;
        self.matched = 0;
        on(Event::Part {
            name: &name.0,
            filename: filename.as_ref().map(|f| &f.0[..]),
        })?;
        Ok(end + 4 - old)
    }
}

/// An unquoted parameter value.
struct Value(Vec<u8>);

/// A part's header lines (each ending in CRLF): its `name` and `filename`.
fn part_head(block: &[u8]) -> Result<(Value, Option<Value>), Error> {
    let mut disposition = None;
    let lines = block[..block.len() - 2].split(|&b| b == b'\n');
    for (i, line) in lines.enumerate() {
        if i >= MAX_PART_FIELDS {
            return Err(Error("too many header lines in a part"));
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let colon = line.iter().position(|&b| b == b':');
        let Some(colon) = colon.filter(|&c| c > 0 && line[..c].iter().all(|&b| is_tchar(b))) else {
            return Err(Error("a malformed header line in a part"));
        };
        let value = line[colon + 1..].trim_ascii();
        if value.iter().any(|&b| b.is_ascii_control() && b != b'\t') {
            return Err(Error("a control character in a part's header"));
        }
        if line[..colon].eq_ignore_ascii_case(b"content-disposition") {
            if disposition.is_some() {
                return Err(Error("two Content-Disposition headers in a part"));
            }
            disposition = Some(content_disposition(value)?);
        }
    }
    disposition.ok_or(Error("a part without a Content-Disposition header"))
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `form-data; name="…"; filename="…"`: values as tokens or quoted strings; other
/// parameters ignored, `filename*` refused (RFC 7578 §4.2: not for form-data).
fn content_disposition(v: &[u8]) -> Result<(Value, Option<Value>), Error> {
    let mut rest = v;
    let kind = take_token(&mut rest);
    if !kind.eq_ignore_ascii_case(b"form-data") {
        return Err(Error("a part whose Content-Disposition is not form-data"));
    }
    let (mut name, mut filename) = (None, None);
    loop {
        rest = rest.trim_ascii_start();
        if rest.is_empty() {
            break;
        }
        rest = rest
            .strip_prefix(b";")
            .ok_or(Error("a malformed Content-Disposition in a part"))?
            .trim_ascii_start();
        let key = take_token(&mut rest);
        rest = rest
            .trim_ascii_start()
            .strip_prefix(b"=")
            .ok_or(Error("a Content-Disposition parameter without a value"))?
            .trim_ascii_start();
        let value = take_value(&mut rest)?;
        let slot = if key.eq_ignore_ascii_case(b"name") {
            &mut name
        } else if key.eq_ignore_ascii_case(b"filename") {
            &mut filename
        } else if key.eq_ignore_ascii_case(b"filename*") {
            return Err(Error("filename* is not used in form-data (RFC 7578 4.2)"));
        } else {
            continue;
        };
        if slot.replace(value).is_some() {
            return Err(Error("a Content-Disposition parameter given twice"));
        }
    }
    let name = name.ok_or(Error("a part without a name"))?;
    Ok((name, filename))
}

fn take_token<'a>(rest: &mut &'a [u8]) -> &'a [u8] {
    let n = rest.iter().take_while(|&&b| is_tchar(b)).count();
    let (token, after) = rest.split_at(n);
    *rest = after;
    token
}

/// A token, or a quoted string with its `\` escapes undone.
fn take_value(rest: &mut &[u8]) -> Result<Value, Error> {
    let Some(quoted) = rest.strip_prefix(b"\"") else {
        let token = take_token(rest);
        if token.is_empty() {
            return Err(Error("a Content-Disposition parameter without a value"));
        }
        return Ok(Value(token.to_vec()));
    };
    let mut out = Vec::new();
    let mut bytes = quoted.iter().enumerate();
    while let Some((i, &b)) = bytes.next() {
        match b {
            b'"' => {
                *rest = &quoted[i + 1..];
                return Ok(Value(out));
            }
            b'\\' => match bytes.next() {
                Some((_, &c)) => out.push(c),
                None => break,
            },
            _ => out.push(b),
        }
    }
    Err(Error("an unterminated quoted string in a part's header"))
}

#[cfg(test)]
mod tests;
