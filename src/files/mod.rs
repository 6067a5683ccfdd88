//! Static files under ROOT (SPEC §4): resolving a request path safely, content types,
//! conditional and range requests, directory listings. Nothing here touches mio.

pub mod archive;
pub mod cache;
pub mod dircache;
pub mod encoding;
pub mod listing;
pub mod mime;
pub mod precondition;
pub mod range;
pub mod resolve;
pub mod tar;
pub mod upload;
pub mod write;

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::builtins::query;
use crate::handler::{Action, Body, Request, Response};
use crate::http::Method;
use archive::Archive;
use cache::{Cache, FileInfo, Siblings, Target};
use dircache::{DirCache, Snapshot};
use listing::{Format, Order, Render, View};
use precondition::Precondition;
use range::Ranges;
use resolve::{ResolveError, Root};

/// Answers GET and HEAD for the files and directories under ROOT.
pub struct Files {
    root: Root,
    listing: bool,
    show_hidden: bool,
    allow_write: bool,
    cache: Cache,
    /// Listings' snapshots, shared with the helper threads that read them.
    dirs: DirCache,
    /// Completed PUTs and DELETEs so far, and how many the cache has seen: a write empties it.
    writes: Arc<AtomicU64>,
    writes_seen: u64,
    /// `--max-upload`: the largest multipart upload to a directory (with `--allow-write`).
    max_upload: u64,
    /// `--spa`: a missing extensionless path gets ROOT's `index.html`.
    spa: bool,
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
            dirs: DirCache::default(),
            writes: Arc::new(AtomicU64::new(0)),
            writes_seen: 0,
            max_upload: 4 << 30,
            spa: false,
        })
    }

    /// Shares the count of completed writes with `writes` (every worker's `Files` holds the
    /// same one): a PUT or DELETE through any worker empties every worker's caches before its
    /// next read.
    pub fn sharing_writes(mut self, writes: Arc<AtomicU64>) -> Files {
        self.writes_seen = writes.load(Ordering::Relaxed);
        self.writes = writes;
        self
    }

    /// Sets `--max-upload`.
    pub fn with_max_upload(mut self, max_upload: u64) -> Files {
        self.max_upload = max_upload;
        self
    }

    /// Sets `--spa`.
    pub fn with_spa(mut self, spa: bool) -> Files {
        self.spa = spa;
        self
    }

    /// `--max-upload`.
    pub fn max_upload(&self) -> u64 {
        self.max_upload
    }

    pub fn handle(&mut self, req: &Request<'_>) -> Action {
        match req.method {
            Method::Put | Method::Delete if !self.allow_write => {
                Action::Respond(Response::method_not_allowed(self.allow()))
            }
            Method::Put => write::put(&self.root, req.path, self.show_hidden, &self.writes),
            // A POST to a directory's URL is an upload form (without the flag: 405 below).
            Method::Post if self.allow_write && req.path.ends_with(b"/") => upload::start(
                &self.root,
                req,
                self.show_hidden,
                &self.writes,
                self.max_upload,
            ),
            Method::Delete => Action::Respond(write::delete(
                &self.root,
                req.path,
                self.show_hidden,
                &self.writes,
            )),
            _ => self.read(req),
        }
    }

    /// `--max-upload` for an upload form's POST (see [`crate::handler::Handler::body_limit`]).
    pub fn body_limit(&self, req: &Request<'_>) -> Option<u64> {
        (self.allow_write && req.method == Method::Post && upload::is_upload(req))
            .then_some(self.max_upload)
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
    fn read(&mut self, req: &Request<'_>) -> Action {
        let writes = self.writes.load(Ordering::Relaxed);
        if writes != self.writes_seen {
            self.cache.clear();
            self.dirs.clear();
            self.writes_seen = writes;
        }
        let now = Instant::now();
        let allow = self.allow();
        let target = self
            .cache
            .lookup(&self.root, req.path, self.show_hidden, now);
        if target.is_ok() && !matches!(req.method, Method::Get | Method::Head) {
            // Something is there, but not for this method (what is absent stays 404).
            return Action::Respond(Response::method_not_allowed(allow));
        }
        let dir = match target {
            Err(ResolveError::BadPath) => return Action::Respond(Response::error(400)),
            Err(ResolveError::NotFound) if self.spa && spa_route(req) => {
                return Action::Respond(self.spa_index(req, now))
            }
            Err(ResolveError::NotFound) => return Action::Respond(Response::error(404)),
            Ok(Target::File { file, encoded }) => {
                return Action::Respond(file_response(req, file, encoded.as_deref()))
            }
            Ok(Target::Dir { path, .. }) => path.clone(),
        };
        // A directory is answered only under its one normal spelling (`/docs/`); every other
        // one (`/docs`, `/docs/.`, `//x/../docs`) is sent there. Its index and its listing's
        // links are derived from that spelling, never from the raw path.
        let Ok(form) = resolve::dir_form(req.path, self.show_hidden) else {
            return Action::Respond(Response::error(400));
        };
        if !is_dir_form(req.path, &form) {
            return Action::Respond(redirect(&form, req.query));
        }
        if self.listing && query::raw_value(req.query, "download").is_some() {
            return Action::Respond(self.download(req.query, dir, &form));
        }
        let mut index = resolve::percent_encode_path(&form).into_bytes();
        index.extend_from_slice(b"index.html");
        if let Ok(Target::File { file, encoded }) =
            self.cache.lookup(&self.root, &index, self.show_hidden, now)
        {
            return Action::Respond(file_response(req, file, encoded.as_deref()));
        }
        if self.listing {
            self.list(req, dir, form, now)
        } else {
            Action::Respond(Response::error(404))
        }
    }

    /// `--spa`: ROOT's `index.html` (with its siblings, validators and ranges), or 404.
    fn spa_index(&mut self, req: &Request<'_>, now: Instant) -> Response {
        match self
            .cache
            .lookup(&self.root, b"/index.html", self.show_hidden, now)
        {
            Ok(Target::File { file, encoded }) => file_response(req, file, encoded.as_deref()),
            _ => Response::error(404),
        }
    }

    /// `?download=tar`: the directory as a tar stream, made as the client reads it (a HEAD
    /// opens nothing). Any other `download` value is a 400.
    fn download(&self, query: Option<&[u8]>, dir: PathBuf, form: &[u8]) -> Response {
        let mut buf = [0u8; 8];
        let value = query::raw_value(query, "download").map(|v| query::decode(v, &mut buf));
        if !matches!(value, Some(Ok(b"tar"))) {
            return Response::bad_request("download must be tar\n");
        }
        let top = archive_name(form, self.root.path());
        let archive = Archive::new(self.root.path().to_path_buf(), dir, &top, self.show_hidden);
        Response::new(200, "application/x-tar", Body::Stream(Box::new(archive)))
            .with_header("Content-Disposition", content_disposition(&top))
    }

    /// The listing of a directory, HTML or (for `Accept: application/json`) JSON, rendered as
    /// the client reads it, in the order its query asks (`?sort=size&order=desc`; another value
    /// is a 400 saying what is allowed). HEAD reads nothing; a fresh snapshot is rendered at
    /// once; else the directory is read on a helper thread (it may hold 100 000 names), and
    /// kept for a second.
    fn list(&self, req: &Request<'_>, dir: PathBuf, shown: Vec<u8>, now: Instant) -> Action {
        let order = match Order::from_query(req.query) {
            Ok(order) => order,
            Err(reason) => return Action::Respond(Response::bad_request(reason)),
        };
        let view = View {
            dir_path: shown,
            order,
            upload: self.allow_write.then_some(self.max_upload),
        };
        let wants_json = req
            .header("accept")
            .is_some_and(|a| contains_ignore_case(a, b"application/json"));
        let format = if wants_json {
            Format::Json
        } else {
            Format::Html
        };
        if req.method == Method::Head {
            // The same head as a GET, and no body: nothing to read.
            let nothing = Arc::new(Snapshot::default());
            return Action::Respond(listing_response(nothing, format, view));
        }
        if let Some(snap) = self.dirs.fresh(&dir, now) {
            return Action::Respond(listing_response(snap, format, view));
        }
        let dirs = self.dirs.clone();
        let generation = dirs.generation();
        let root = self.root.path().to_path_buf();
        let show_hidden = self.show_hidden;
        Action::Offload(Box::new(move || {
            let read_at = Instant::now();
            match Snapshot::read(&dir, &root, show_hidden) {
                Ok(snap) => {
                    let snap = Arc::new(snap);
                    dirs.store(dir, snap.clone(), generation, read_at);
                    listing_response(snap, format, view)
                }
                Err(_) => Response::error(404),
            }
        }))
    }
}

/// A 200 whose body renders `snap` piece by piece (chunked, or close-delimited on HTTP/1.0).
fn listing_response(snap: Arc<Snapshot>, format: Format, view: View) -> Response {
    let render = Render::new(snap, format, view);
    Response::new(200, format.content_type(), Body::Stream(Box::new(render)))
}

/// Whether a missing path is a client-side route for `--spa`: a GET or HEAD, not under
/// `/-/`, whose last segment has no dot (`/users/42`, not `/app.js` or `/logo.png`, which
/// stay 404 so that a missing asset is not answered with a page).
fn spa_route(req: &Request<'_>) -> bool {
    let Ok(path) = resolve::percent_decode(req.path) else {
        return false;
    };
    let last = path.rsplit(|&b| b == b'/').next().unwrap_or_default();
    matches!(req.method, Method::Get | Method::Head)
        && !path.starts_with(b"/-/")
        && !last.contains(&b'.')
}

/// The name of a directory's archive and of its top folder: the last segment of its normal
/// form, or ROOT's own name for `/`.
fn archive_name(form: &[u8], root: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    let last = form.rsplit(|&b| b == b'/').find(|s| !s.is_empty());
    let root_name = root.file_name().map(|n| n.as_bytes());
    last.or(root_name).unwrap_or(b"root").to_vec()
}

/// `attachment; filename="NAME.tar"; filename*=UTF-8''NAME.tar` (RFC 6266): the quoted form
/// holds only printable ASCII, with `_` for anything else and for `"` and `\`; the extended
/// form keeps the real name, percent-encoded.
fn content_disposition(name: &[u8]) -> String {
    let mut v = String::from("attachment; filename=\"");
    for &b in name {
        let plain = b.is_ascii_graphic() || b == b' ';
        v.push(if plain && b != b'"' && b != b'\\' {
            b as char
        } else {
            '_'
        });
    }
    v.push_str(".tar\"; filename*=UTF-8''");
    for &b in name {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            v.push(b as char);
        } else {
            v.push_str(&format!("%{b:02X}"));
        }
    }
    v.push_str(".tar");
    v
}

/// Whether the request path, as sent, is already the normal form `form` of its directory:
/// the same once decoded, and ending in a real `/` (not `%2f`).
fn is_dir_form(raw: &[u8], form: &[u8]) -> bool {
    raw.ends_with(b"/") && resolve::percent_decode(raw).is_ok_and(|d| d == form)
}

/// A regular file (or the pre-compressed sibling the client's `Accept-Encoding` picks), with
/// validators and ranges, both of the file sent. Its header lines come encoded from the
/// cache: nothing is formatted or allocated for a 200.
fn file_response(req: &Request<'_>, plain: &FileInfo, encoded: Option<&Siblings>) -> Response {
    let info = encoded.map_or(plain, |s| pick(req, plain, s));
    let with_fields = |mut resp: Response, fields: &Arc<[u8]>| {
        resp.fields = Some(fields.clone());
        resp
    };
    let size = info.size;
    let check = precondition::check(
        req.header("if-none-match"),
        req.header("if-modified-since"),
        &info.etag,
        info.mtime,
    );
    if check == Precondition::NotModified {
        return with_fields(Response::empty(304), &info.fields_304);
    }
    let ranges = range::ranges(
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
                .with_header("Content-Range", range::content_range_unsatisfied(size))
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
        resp = resp.with_header("Content-Range", range::content_range(start, end, size));
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

/// 301 to a directory's normal form, query kept. The `Location` is built from the normalised
/// path, percent-encoded: it starts with exactly one `/`, so it can never read as `//host/…`
/// (a browser would leave the site), and holds only visible ASCII.
fn redirect(form: &[u8], query: Option<&[u8]>) -> Response {
    let mut location = resolve::percent_encode_path(form);
    if let Some(q) = query {
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

/// The representation `Accept-Encoding` asks for among `plain` and its siblings.
fn pick<'a>(req: &Request<'_>, plain: &'a FileInfo, siblings: &'a Siblings) -> &'a FileInfo {
    let available = siblings.each_ref().map(Option::is_some);
    let fields = req
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("accept-encoding"))
        .map(|h| h.value);
    encoding::choose(fields, available)
        .and_then(|c| siblings[c.index()].as_ref())
        .unwrap_or(plain)
}

pub(crate) fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::parse::{parse_head, Known, Slots};

    /// What `files` does with the request `req` (a whole head).
    fn ask(files: &mut Files, req: &str) -> Action {
        let mut slots = Slots::default();
        match parse_head(req.as_bytes(), 32 * 1024, &mut slots, &mut Known::default()) {
            Ok(Some(head)) => files.handle(&head),
            other => panic!("{other:?}"),
        }
    }

    /// The body a listing answer renders, whole.
    fn rendered(action: Action) -> Vec<u8> {
        let Action::Respond(resp) = action else {
            panic!("not answered at once");
        };
        let Body::Stream(mut stream) = resp.body else {
            panic!("a listing is a stream");
        };
        let mut out = Vec::new();
        while stream.fill(&mut out, 1000) {}
        out
    }

    #[test]
    fn head_reads_nothing_and_get_reads_once_a_second_or_after_a_write() {
        let dir = std::env::temp_dir().join(format!("spindle-files-list-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("d")).unwrap();
        std::fs::write(dir.join("d/entry.txt"), b"x").unwrap();
        let mut files = Files::new(&dir, true, false, false).unwrap();
        const GET: &str = "GET /d/ HTTP/1.1\r\nHost: x\r\n\r\n";
        const HEAD: &str = "HEAD /d/ HTTP/1.1\r\nHost: x\r\n\r\n";
        // HEAD: answered at once, from no entries at all (nothing was read).
        let page = rendered(ask(&mut files, HEAD));
        assert!(!page.windows(5).any(|w| w == b"entry"));
        // GET: the directory is read off the reactor thread...
        let Action::Offload(job) = ask(&mut files, GET) else {
            panic!("the first GET must be offloaded");
        };
        let page = rendered(Action::Respond(job()));
        assert!(page.windows(5).any(|w| w == b"entry"));
        // ...then rendered from the cached snapshot, at once.
        assert!(rendered(ask(&mut files, GET))
            .windows(5)
            .any(|w| w == b"entry"));
        // A write through the server empties the cache.
        files.writes.fetch_add(1, Ordering::Relaxed);
        assert!(matches!(ask(&mut files, GET), Action::Offload(_)));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
