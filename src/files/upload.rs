//! Uploads from the listing page's form (with `--allow-write`): a `multipart/form-data` POST to
//! a directory's URL. Parts are handled in order as they stream (`http/multipart.rs` finds
//! them): `overwrite` (value `1`) applies to the file parts after it, `mkdir` makes a folder
//! here, and each `file` part goes into a [`TempFile`] beside its target, put in place when the
//! part is complete — under PUT's rules (`write.rs`): confined to ROOT, no dotfiles unless
//! `--show-hidden`, and no directories but those a folder upload's relative `filename` names.
//! An existing name is refused unless `overwrite` came first. The answer is a 303 back to the
//! listing, or JSON for `Accept: application/json`.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::resolve::{self, Root};
use super::write::{confined_dir, kept_mode, write_error, Outside, TempFile};
use crate::builtins::json;
use crate::handler::{Action, Body, BodySink, Request, Response};
use crate::http::multipart::{self, Event, Parser};

/// The longest `filename` (a folder upload's relative path) and `mkdir` value taken.
const MAX_NAME: usize = 1024;
/// The most segments in a name (folders deep), and the most folders one form makes.
const MAX_DEPTH: usize = 32;
const MAX_FOLDERS: usize = 1024;
/// The longest value of the `overwrite` field.
const MAX_FLAG: usize = 16;

/// Whether this request is an upload form's POST (so it may be larger than `--max-body`).
pub fn is_upload(req: &Request<'_>) -> bool {
    req.path.ends_with(b"/")
        && req
            .header("content-type")
            .is_some_and(|ct| matches!(multipart::boundary(ct), Some(Ok(_))))
}

/// What to do with a POST to `req.path` (a directory's URL): read its form into the directory.
pub fn start(
    root: &Root,
    req: &Request<'_>,
    show_hidden: bool,
    writes: &Arc<AtomicU64>,
    limit: u64,
) -> Action {
    let ct = req.header("content-type").unwrap_or_default();
    let boundary = match multipart::boundary(ct) {
        Some(Ok(b)) => b,
        Some(Err(multipart::Error(why))) => return Action::Respond(refusal(400, why.into())),
        None => {
            let why = "a POST to a folder takes multipart/form-data (an upload form)";
            return Action::Respond(refusal(415, why.into()));
        }
    };
    let dir = match directory(root, req.path, show_hidden) {
        Ok(d) => d,
        Err(resp) => return Action::Respond(resp),
    };
    let json = req
        .header("accept")
        .is_some_and(|a| super::contains_ignore_case(a, b"application/json"));
    Action::ReadBody(Box::new(FormUpload {
        parser: Parser::new(&boundary),
        form: Form {
            root: root.path().to_path_buf(),
            show_hidden,
            dir,
            overwrite: false,
            part: Part::Between,
            uploaded: Vec::new(),
            created: Vec::new(),
            seen: HashSet::new(),
            failure: None,
            writes: writes.clone(),
        },
        json,
        limit,
    }))
}

/// The directory a form is posted to (`url`, its decoded normal form, and the path on disk).
struct Dir {
    url: Vec<u8>,
    path: PathBuf,
}

/// The directory at `raw`: it must be spelled in its normal form, and exist inside ROOT (a
/// missing one is 409, as a missing parent is for PUT).
fn directory(root: &Root, raw: &[u8], show_hidden: bool) -> Result<Dir, Response> {
    let bad = |_| Response::error(404);
    let form = resolve::dir_form(raw, show_hidden).map_err(bad)?;
    if !super::is_dir_form(raw, &form) {
        let why = format!("post to the folder's own URL, {}", shown(&form));
        return Err(refusal(404, why));
    }
    let path = root.path().join(OsStr::from_bytes(&form[1..]));
    match confined_dir(root.path(), &path) {
        Ok(path) => Ok(Dir { url: form, path }),
        Err(Outside::Missing) => Err(refusal(409, format!("no folder {}", shown(&form)))),
        Err(Outside::Escapes) => Err(Response::error(404)),
    }
}

/// An upload form's body on its way into its directory.
struct FormUpload {
    parser: Parser,
    form: Form,
    json: bool,
    /// `--max-upload`.
    limit: u64,
}

/// What the parts have done so far.
struct Form {
    root: PathBuf,
    show_hidden: bool,
    dir: Dir,
    /// `overwrite` came (with `1`): later file parts may replace what exists.
    overwrite: bool,
    part: Part,
    /// The names (relative to the directory) put in place, and the folders made, in order.
    uploaded: Vec<Vec<u8>>,
    created: Vec<Vec<u8>>,
    /// Every file name of this form so far: a second part with the same name is refused.
    seen: HashSet<Vec<u8>>,
    /// The first refusal: the rest of the body is read and ignored, then this is the answer.
    failure: Option<Failure>,
    writes: Arc<AtomicU64>,
}

/// The part being read.
enum Part {
    Between,
    /// A text field, its value gathered (a few bytes).
    Field {
        mkdir: bool,
        value: Vec<u8>,
    },
    /// A file, into its temporary file; `name` is relative to the directory.
    File {
        name: Vec<u8>,
        temp: TempFile,
        target: PathBuf,
    },
    /// An empty file input (`filename=""`): skipped, but it must carry no data.
    Empty,
}

/// An answer other than success: a status and a one-line reason naming what it concerns.
struct Failure {
    status: u16,
    reason: String,
}

impl From<multipart::Error> for Failure {
    fn from(e: multipart::Error) -> Failure {
        Failure {
            status: 400,
            reason: e.0.to_string(),
        }
    }
}

fn fail<T>(status: u16, reason: String) -> Result<T, Failure> {
    Err(Failure { status, reason })
}

impl BodySink for FormUpload {
    fn data(&mut self, chunk: &[u8]) {
        let FormUpload { parser, form, .. } = self;
        if form.failure.is_some() {
            return; // refused already: the rest is read (to keep the framing) and ignored
        }
        if let Err(f) = parser.feed(chunk, &mut |event| form.on(event)) {
            form.part = Part::Between; // drops (removes) a temporary file in progress
            form.failure = Some(f);
        }
    }

    fn finish(mut self: Box<Self>) -> Response {
        if let Some(f) = self.form.failure.take() {
            return refusal(f.status, f.reason);
        }
        if let Err(e) = self.parser.finish() {
            return refusal(400, e.0.into());
        }
        if self.json {
            return self.form.json_answer();
        }
        let location = resolve::percent_encode_path(&self.form.dir.url);
        let body = format!("See Other: {location}\n").into_bytes();
        Response::new(303, "text/plain; charset=utf-8", Body::Owned(body))
            .with_header("Location", location)
    }

    fn limit(&self) -> Option<u64> {
        Some(self.limit)
    }
}

impl Form {
    fn on(&mut self, event: Event<'_>) -> Result<(), Failure> {
        match event {
            Event::Part { name, filename } => self.part = self.begin(name, filename)?,
            Event::Data(d) => self.data(d)?,
            Event::PartEnd => self.end()?,
            Event::End => {}
        }
        Ok(())
    }

    /// A part begins: which field it is, and for a file, where it goes.
    fn begin(&mut self, name: &[u8], filename: Option<&[u8]>) -> Result<Part, Failure> {
        let field = |mkdir| Part::Field {
            mkdir,
            value: Vec::new(),
        };
        match (name, filename) {
            (b"overwrite", None) => Ok(field(false)),
            (b"mkdir", None) => Ok(field(true)),
            (b"file", Some(b"")) => Ok(Part::Empty),
            (b"file", Some(f)) => self.open_file(f),
            (b"file", None) => fail(400, "a file part without a filename".into()),
            _ => fail(400, format!("unknown form field {}", quoted(name))),
        }
    }

    fn data(&mut self, d: &[u8]) -> Result<(), Failure> {
        match &mut self.part {
            Part::Field { mkdir, value } => {
                let max = if *mkdir { MAX_NAME } else { MAX_FLAG };
                if value.len() + d.len() > max {
                    return fail(400, format!("a form field over {max} bytes"));
                }
                value.extend_from_slice(d);
            }
            Part::File { temp, .. } => temp.write(d),
            Part::Empty => return fail(400, "a file with data but no filename".into()),
            Part::Between => {}
        }
        Ok(())
    }

    /// A part is complete: a field takes effect, a file is put in place.
    fn end(&mut self) -> Result<(), Failure> {
        match std::mem::replace(&mut self.part, Part::Between) {
            Part::Field {
                mkdir: false,
                value,
            } => match &value[..] {
                b"1" => self.overwrite = true,
                _ => return fail(400, "overwrite must be 1 (a ticked checkbox)".into()),
            },
            Part::Field { mkdir: true, value } if value.is_empty() => {}
            Part::Field { mkdir: true, value } => self.mkdir(&value)?,
            Part::File { name, temp, target } => self.place(name, temp, &target)?,
            Part::Empty | Part::Between => {}
        }
        Ok(())
    }

    /// A file part's target, checked before any byte of it is written: a good name, not
    /// sent before in this form, not there already (unless `overwrite`), its folders made.
    fn open_file(&mut self, filename: &[u8]) -> Result<Part, Failure> {
        let segs = segments(filename, self.show_hidden)?;
        let name = segs.join(&b'/');
        if !self.seen.insert(name.clone()) {
            return fail(
                409,
                format!("{} was sent twice in this form", quoted(&name)),
            );
        }
        let Some((last, parents)) = segs.split_last() else {
            return fail(400, "an empty filename".into()); // `segments` never gives none
        };
        let parent = self.folders(parents)?;
        let target = parent.join(OsStr::from_bytes(last));
        let mode = match fs::symlink_metadata(&target) {
            Ok(m) if m.is_dir() => return fail(409, format!("{} is a folder", quoted(&name))),
            Ok(_) if !self.overwrite => return fail(409, exists(&name)),
            Ok(m) => kept_mode(&m),
            Err(_) => None,
        };
        match TempFile::create(&parent, mode) {
            Ok(temp) => Ok(Part::File { name, temp, target }),
            Err(e) => fail(write_error(&e).status, io_reason(&name, &e)),
        }
    }

    /// A complete file, put at `target`: over what is there only with `overwrite` (else a
    /// name that appeared meanwhile is still never clobbered).
    fn place(&mut self, name: Vec<u8>, temp: TempFile, target: &Path) -> Result<(), Failure> {
        let done = match self.overwrite {
            true => temp.replace(target),
            false => temp.place_new(target),
        };
        match done {
            Ok(()) => {
                self.writes.fetch_add(1, Ordering::Relaxed);
                self.uploaded.push(name);
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => fail(409, exists(&name)),
            Err(e) => fail(write_error(&e).status, io_reason(&name, &e)),
        }
    }

    /// `mkdir`: a new folder here (and any folders on its way).
    fn mkdir(&mut self, value: &[u8]) -> Result<(), Failure> {
        let segs = segments(value, self.show_hidden)?;
        let name = segs.join(&b'/');
        let path = self.dir.path.join(OsStr::from_bytes(&name));
        if fs::symlink_metadata(&path).is_ok() {
            return fail(409, exists(&name));
        }
        self.folders(&segs).map(drop)
    }

    /// The folders `segs` under the directory, made where missing (at most [`MAX_FOLDERS`] a
    /// form). A folder just made, or a real one found, is inside ROOT already (its parent is);
    /// one reached through a symlink is checked, so it cannot lead out. Returns the last one.
    fn folders(&mut self, segs: &[&[u8]]) -> Result<PathBuf, Failure> {
        let mut dir = self.dir.path.clone();
        for (i, seg) in segs.iter().enumerate() {
            let next = dir.join(OsStr::from_bytes(seg));
            let rel = || segs[..=i].join(&b'/');
            if self.created.len() == MAX_FOLDERS && fs::symlink_metadata(&next).is_err() {
                return fail(
                    400,
                    format!("more than {MAX_FOLDERS} new folders in one form"),
                );
            }
            match fs::create_dir(&next) {
                Ok(()) => {
                    self.writes.fetch_add(1, Ordering::Relaxed);
                    self.created.push(rel());
                    dir = next;
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return fail(write_error(&e).status, io_reason(&rel(), &e)),
            }
            dir = match fs::symlink_metadata(&next) {
                Ok(m) if m.is_dir() => next,
                Ok(m) if m.file_type().is_symlink() => match confined_dir(&self.root, &next) {
                    Ok(d) => d,
                    Err(Outside::Missing) => return fail(409, not_a_folder(&rel())),
                    Err(Outside::Escapes) => {
                        return fail(403, format!("{} leads out of the root", quoted(&rel())))
                    }
                },
                _ => return fail(409, not_a_folder(&rel())),
            };
        }
        Ok(dir)
    }

    /// `{"uploaded":[…],"created":[…]}`: 201 if anything was made, else 200.
    fn json_answer(&self) -> Response {
        let mut out = b"{\"uploaded\":".to_vec();
        json_list(&mut out, &self.uploaded);
        out.extend_from_slice(b",\"created\":");
        json_list(&mut out, &self.created);
        out.extend_from_slice(b"}\n");
        let made = !self.uploaded.is_empty() || !self.created.is_empty();
        let status = if made { 201 } else { 200 };
        Response::new(status, "application/json", Body::Owned(out))
    }
}

fn json_list(out: &mut Vec<u8>, names: &[Vec<u8>]) {
    out.push(b'[');
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json::string(out, name);
    }
    out.push(b']');
}

/// The segments of a name a browser sent (a file's name, or a folder upload's relative path
/// such as `photos/2024/a.jpg`): relative, no empty, `.` or `..` segment, no control byte or
/// backslash, no dotfile unless `show_hidden`, at most [`MAX_NAME`] bytes and [`MAX_DEPTH`]
/// segments.
fn segments(name: &[u8], show_hidden: bool) -> Result<Vec<&[u8]>, Failure> {
    let bad = |why: &str| fail(400, format!("refused name {}: {why}", quoted(name)));
    if name.len() > MAX_NAME {
        return bad("too long");
    }
    if name.starts_with(b"/") {
        return bad("absolute");
    }
    if name.iter().any(|&b| b.is_ascii_control() || b == b'\\') {
        return bad("a control character or backslash");
    }
    let segs: Vec<&[u8]> = name.split(|&b| b == b'/').collect();
    if segs.len() > MAX_DEPTH {
        return bad("more than 32 segments deep");
    }
    for seg in &segs {
        match *seg {
            b"" => return bad("an empty segment"),
            b"." | b".." => return bad("a . or .. segment"),
            _ if seg.len() > 255 => return bad("a segment over 255 bytes"),
            _ if seg[0] == b'.' && !show_hidden => return bad("hidden (needs --show-hidden)"),
            _ => {}
        }
    }
    Ok(segs)
}

fn not_a_folder(name: &[u8]) -> String {
    format!("{} is not a folder", quoted(name))
}

fn exists(name: &[u8]) -> String {
    format!(
        "{} already exists (tick overwrite to replace it)",
        quoted(name)
    )
}

fn io_reason(name: &[u8], e: &io::Error) -> String {
    format!("{}: {e}", quoted(name))
}

/// A name for a one-line message: quoted, control bytes escaped, cut at 200 bytes.
fn quoted(name: &[u8]) -> String {
    let cut = &name[..name.len().min(200)];
    format!("{:?}", String::from_utf8_lossy(cut))
}

/// The decoded URL path of a directory, for a message.
fn shown(form: &[u8]) -> String {
    String::from_utf8_lossy(form).into_owned()
}

/// A status with its reason as a one-line plain-text body.
fn refusal(status: u16, mut reason: String) -> Response {
    reason.push('\n');
    Response::new(
        status,
        "text/plain; charset=utf-8",
        Body::Owned(reason.into_bytes()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ops::Add;

    fn ok(name: &str, hidden: bool) -> bool {
        segments(name.as_bytes(), hidden).is_ok()
    }

    #[test]
    fn names_are_relative_and_plain() {
        assert!(ok("a.txt", false));
        assert!(ok("photos/2024/a.jpg", false));
        assert!(ok("é ü.txt", false));
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a//b",
            "a/",
            "./a",
            ".env",
            "d/.git/x",
            "a\\b",
            "a\nb",
            "a\0b",
        ] {
            assert!(!ok(bad, false), "{bad:?}");
        }
        assert!(ok(".env", true));
        assert!(ok("d/.git/x", true));
        assert!(!ok("..", true));
        assert!(!ok(&"a".repeat(256), false));
        assert!(!ok(&"a/".repeat(600), false));
        assert!(ok(&"a/".repeat(31).add("f"), false));
        assert!(!ok(&"a/".repeat(32).add("f"), false));
    }

    #[test]
    fn messages_quote_names_on_one_line() {
        assert_eq!(quoted(b"a\nb\"c"), "\"a\\nb\\\"c\"");
        assert_eq!(quoted(&[b'x'; 300]).len(), 202);
    }
}
