//! Static files under ROOT (SPEC §4): resolving a request path safely, content types,
//! conditional and range requests, directory listings. Nothing here touches mio.

pub mod cache;
pub mod cond;
pub mod listing;
pub mod mime;
pub mod resolve;
pub mod write;

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::handler::{Action, Body, Request, Response};
use crate::http::Method;
use cache::{Cache, FileInfo, Target};
use cond::{Precondition, Ranges};
use resolve::{ResolveError, Root};

/// Answers GET and HEAD for the files and directories under ROOT.
pub struct Files {
    root: Root,
    listing: bool,
    show_hidden: bool,
    allow_write: bool,
    cache: Cache,
    /// Completed PUTs and DELETEs so far, and how many the cache has seen: a write empties it.
    writes: Arc<AtomicU64>,
    writes_seen: u64,
}

impl Files {
    /// `root` is canonicalised once, here.
    pub fn new(
        root: &Path,
        listing: bool,
        show_hidden: bool,
        allow_write: bool,
    ) -> io::Result<Files> {
        Ok(Files {
            root: Root::new(root)?,
            listing,
            show_hidden,
            allow_write,
            cache: Cache::default(),
            writes: Arc::new(AtomicU64::new(0)),
            writes_seen: 0,
        })
    }

    pub fn handle(&mut self, req: &Request<'_>) -> Action {
        match req.method {
            Method::Put | Method::Delete if !self.allow_write => {
                Action::Respond(Response::method_not_allowed(self.allow()))
            }
            Method::Put => write::put(&self.root, req.path, self.show_hidden, &self.writes),
            Method::Delete => Action::Respond(write::delete(
                &self.root,
                req.path,
                self.show_hidden,
                &self.writes,
            )),
            _ => Action::Respond(self.read(req)),
        }
    }

    /// Whether `--allow-write` is on: PUT and DELETE are served.
    pub fn allow_write(&self) -> bool {
        self.allow_write
    }

    /// The methods files support.
    fn allow(&self) -> &'static str {
        if self.allow_write {
            "GET, HEAD, PUT, DELETE"
        } else {
            "GET, HEAD"
        }
    }

    /// GET and HEAD (anything else that gets here is 405 or 404).
    fn read(&mut self, req: &Request<'_>) -> Response {
        let writes = self.writes.load(Ordering::Relaxed);
        if writes != self.writes_seen {
            self.cache.clear();
            self.writes_seen = writes;
        }
        let now = Instant::now();
        let allow = self.allow();
        let target = self
            .cache
            .lookup(&self.root, req.path, self.show_hidden, now);
        if target.is_ok() && !matches!(req.method, Method::Get | Method::Head) {
            // Something is there, but not for this method (what is absent stays 404).
            return Response::method_not_allowed(allow);
        }
        let dir = match target {
            Err(ResolveError::BadPath) => return Response::error(400),
            Err(ResolveError::NotFound) => return Response::error(404),
            Ok(Target::Dir { slash: false, .. }) => return redirect_to_slash(req),
            Ok(Target::File { file, gz }) => return file_response(req, file, gz.as_ref()),
            Ok(Target::Dir { path, slash: true }) => path.clone(),
        };
        let mut index = req.path.to_vec();
        index.extend_from_slice(b"index.html");
        if let Ok(Target::File { file, gz }) =
            self.cache.lookup(&self.root, &index, self.show_hidden, now)
        {
            return file_response(req, file, gz.as_ref());
        }
        if self.listing {
            self.list(req, &dir)
        } else {
            Response::error(404)
        }
    }

    /// The listing of a directory, HTML or (for `Accept: application/json`) JSON.
    fn list(&self, req: &Request<'_>, dir: &Path) -> Response {
        let Ok(read) = fs::read_dir(dir) else {
            return Response::error(404);
        };
        let mut entries = Vec::new();
        for entry in read.flatten() {
            let name = entry.file_name().as_bytes().to_vec();
            if name.first() == Some(&b'.') && !self.show_hidden {
                continue;
            }
            // Follow symlinks for the type and size; one that leads nowhere, or out of ROOT,
            // is left out: the listing shows only what a click would serve.
            let path = entry.path();
            let inside = fs::canonicalize(&path).is_ok_and(|p| p.starts_with(self.root.path()));
            let Ok(meta) = fs::metadata(&path) else {
                continue;
            };
            if !inside || !(meta.is_file() || meta.is_dir()) {
                continue; // out of ROOT, or a FIFO, socket or device: nothing a click serves
            }
            entries.push(listing::Entry {
                name,
                is_dir: meta.is_dir(),
                size: meta.len(),
                mtime_secs: u64::try_from(meta.mtime()).unwrap_or(0),
            });
        }
        let wants_json = req
            .header("accept")
            .is_some_and(|a| contains_ignore_case(a, b"application/json"));
        if wants_json {
            let body = listing::json(&mut entries);
            Response::new(200, "application/json", Body::Owned(body))
        } else {
            let shown = resolve::percent_decode(req.path).unwrap_or_default();
            let body = listing::html(&shown, &mut entries);
            Response::new(200, "text/html; charset=utf-8", Body::Owned(body))
        }
    }
}

/// A regular file (or its pre-compressed `.gz` sibling), with validators and ranges. Its
/// header lines come encoded from the cache: nothing is formatted or allocated for a 200.
fn file_response(req: &Request<'_>, plain: &FileInfo, gz: Option<&FileInfo>) -> Response {
    let info = match gz {
        Some(gz) if accepts_gzip(req) => gz,
        _ => plain,
    };
    let with_fields = |mut resp: Response, fields: &Arc<[u8]>| {
        resp.fields = Some(fields.clone());
        resp
    };
    let size = info.size;
    let check = cond::check(
        req.header("if-none-match"),
        req.header("if-modified-since"),
        &info.etag,
        info.mtime,
    );
    if check == Precondition::NotModified {
        return with_fields(Response::empty(304), &info.fields_304);
    }
    let ranges = cond::ranges(
        req.header("range"),
        req.header("if-range"),
        &info.etag,
        info.mtime,
        size,
    );
    let (status, offset, len) = match ranges {
        Ranges::Full => (200, 0, size),
        Ranges::Partial { start, end } => (206, start, end - start + 1),
        Ranges::Unsatisfiable => {
            let resp = Response::error(416)
                .with_header("Content-Range", cond::content_range_unsatisfied(size))
                .with_header("Accept-Ranges", "bytes");
            return with_fields(resp, &info.fields_304);
        }
    };
    let body = match body(info, offset, len) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let mut resp = with_fields(Response::empty(status), &info.fields);
    resp.body = body;
    if let Ranges::Partial { start, end } = ranges {
        resp = resp.with_header("Content-Range", cond::content_range(start, end, size));
    }
    resp
}

/// `len` bytes of the file from `offset`: from memory for a small file, else an open file
/// for `sendfile`. (Within a second of a change the cached length may be stale: a file that
/// shrank ends the connection early, one that grew is sent at its old length.)
fn body(info: &FileInfo, offset: u64, len: u64) -> Result<Body, Response> {
    if let Some(bytes) = &info.bytes {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let end = usize::try_from(offset + len)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        return Ok(Body::Shared(bytes.clone(), start..end));
    }
    match open(&info.path) {
        Ok(file) => Ok(Body::File { file, offset, len }),
        Err(e) if is_out_of_descriptors(&e) => Err(Response::error(503)),
        Err(_) => Err(Response::error(404)),
    }
}

/// 301 to the same path with a slash, query kept.
fn redirect_to_slash(req: &Request<'_>) -> Response {
    let mut location = String::from_utf8_lossy(req.path).into_owned();
    location.push('/');
    if let Some(q) = req.query {
        location.push('?');
        location.push_str(&String::from_utf8_lossy(q));
    }
    Response::error(301).with_header("Location", location)
}

/// Regular files are opened non-blocking, so that a FIFO swapped in after the check cannot
/// block the reactor, and close-on-exec.
pub(crate) fn open(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
}

fn is_out_of_descriptors(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

/// `Accept-Encoding` lists gzip with a non-zero weight.
fn accepts_gzip(req: &Request<'_>) -> bool {
    let Some(v) = req.header("accept-encoding") else {
        return false;
    };
    v.split(|&b| b == b',').any(|item| {
        let mut parts = item.split(|&b| b == b';');
        let coding = parts.next().map(<[u8]>::trim_ascii).unwrap_or_default();
        // `q=0`, `q=0.0`…: explicitly not acceptable.
        let refused = parts.any(|p| {
            let p = p.trim_ascii();
            p.len() >= 3
                && p[..2].eq_ignore_ascii_case(b"q=")
                && p[2..].iter().all(|&b| b == b'0' || b == b'.')
        });
        (coding.eq_ignore_ascii_case(b"gzip") || coding == b"*") && !refused
    })
}

fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}
