//! Static files under ROOT (SPEC §4): resolving a request path safely, content types,
//! conditional and range requests, directory listings. Nothing here touches mio.

pub mod cond;
pub mod listing;
pub mod mime;
pub mod resolve;

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::handler::{Body, Request, Response};
use crate::http::date::format_http_date;
use crate::http::Method;
use cond::{Precondition, Ranges};
use resolve::{ResolveError, Resolved, Root};

/// Answers GET and HEAD for the files and directories under ROOT.
pub struct Files {
    root: Root,
    listing: bool,
    show_hidden: bool,
}

impl Files {
    /// `root` is canonicalised once, here.
    pub fn new(root: &Path, listing: bool, show_hidden: bool) -> io::Result<Files> {
        Ok(Files {
            root: Root::new(root)?,
            listing,
            show_hidden,
        })
    }

    pub fn handle(&self, req: &Request<'_>) -> Response {
        let resolved = self.root.resolve(req.path, self.show_hidden);
        if resolved.is_ok() && !matches!(req.method, Method::Get | Method::Head) {
            // Something is there, but not for this method (what is absent stays 404).
            return Response::method_not_allowed("GET, HEAD");
        }
        match resolved {
            Err(ResolveError::BadPath) => Response::error(400),
            Err(ResolveError::NotFound) => Response::error(404),
            Ok(Resolved::Dir { slash: false, .. }) => redirect_to_slash(req),
            Ok(Resolved::Dir { path, slash: true }) => {
                let index = path.join("index.html");
                if fs::metadata(&index).is_ok_and(|m| m.is_file()) {
                    self.file(req, &index)
                } else if self.listing {
                    self.list(req, &path)
                } else {
                    Response::error(404)
                }
            }
            Ok(Resolved::File { path, .. }) => self.file(req, &path),
        }
    }

    /// A regular file (or its pre-compressed `.gz` sibling), with validators and ranges.
    fn file(&self, req: &Request<'_>, path: &Path) -> Response {
        let name = path.file_name().map_or(&b""[..], |n| n.as_bytes());
        let content_type = mime::content_type(name);
        let gz = self.gz_sibling(path);
        let use_gz = gz.is_some() && accepts_gzip(req);
        let open_path = match (&gz, use_gz) {
            (Some(gz), true) => gz.as_path(),
            _ => path,
        };
        let file = match open(open_path) {
            Ok(f) => f,
            Err(e) if is_out_of_descriptors(&e) => return Response::error(503),
            Err(_) => return Response::error(404),
        };
        let meta = match file.metadata() {
            Ok(m) if m.is_file() => m,
            _ => return Response::error(404),
        };
        let size = meta.len();
        let mtime = u64::try_from(meta.mtime()).unwrap_or(0);
        let nanos = u32::try_from(meta.mtime_nsec()).unwrap_or(0);
        let etag = cond::etag(size, mtime, nanos, meta.ino());
        let mut date = [0u8; 29];
        format_http_date(mtime, &mut date);
        let last_modified = String::from_utf8_lossy(&date).into_owned();

        let mut resp = match cond::check(
            req.header("if-none-match"),
            req.header("if-modified-since"),
            &etag,
            mtime,
        ) {
            Precondition::NotModified => Response::empty(304),
            Precondition::Proceed => match cond::ranges(
                req.header("range"),
                req.header("if-range"),
                &etag,
                mtime,
                size,
            ) {
                Ranges::Full => Response::new(
                    200,
                    content_type,
                    Body::File {
                        file,
                        offset: 0,
                        len: size,
                    },
                ),
                Ranges::Partial { start, end } => Response::new(
                    206,
                    content_type,
                    Body::File {
                        file,
                        offset: start,
                        len: end - start + 1,
                    },
                )
                .with_header("Content-Range", cond::content_range(start, end, size)),
                Ranges::Unsatisfiable => {
                    Response::error(416).with_header("Content-Range", format!("bytes */{size}"))
                }
            },
        };
        resp = resp
            .with_header("ETag", etag)
            .with_header("Last-Modified", last_modified)
            .with_header("Accept-Ranges", "bytes");
        if use_gz {
            resp = resp.with_header("Content-Encoding", "gzip");
        }
        if gz.is_some() {
            resp = resp.with_header("Vary", "Accept-Encoding");
        }
        resp
    }

    /// `x.gz` next to `x`, if it is a regular file inside ROOT.
    fn gz_sibling(&self, path: &Path) -> Option<PathBuf> {
        let mut gz = path.as_os_str().to_owned();
        gz.push(".gz");
        let real = fs::canonicalize(&gz).ok()?;
        let meta = fs::metadata(&real).ok()?;
        (meta.is_file() && real.starts_with(self.root.path())).then_some(real)
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
            if !inside {
                continue;
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
fn open(path: &Path) -> io::Result<File> {
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
