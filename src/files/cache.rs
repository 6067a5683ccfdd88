//! What serving a file needs besides sending it — where a request path leads, the file's
//! validators, its pre-compressed siblings (`.br`, `.zst`, `.gz`) — and the bytes of small files, kept for at most a second
//! before they are checked again (nginx's `open_file_cache`, in miniature).

use std::collections::HashMap;
use std::fs::{self, Metadata};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::encoding::{Coding, PREFERENCE};
use super::resolve::{ResolveError, Resolved, Root};
use super::{mime, precondition};
use crate::http::date::format_http_date;
use std::os::unix::ffi::OsStrExt;

/// How long an entry is believed without looking at the file system again.
const FRESH: Duration = Duration::from_secs(1);
/// Most entries; when full, the cache starts over (simple, and bounded).
const MAX_ENTRIES: usize = 1024;
/// Files up to this size are kept in memory and sent with the head in one write.
pub const SMALL_FILE: u64 = 16 * 1024;
/// Most bytes of small files kept in memory in all.
const MAX_BYTES: usize = 8 * 1024 * 1024;

/// A regular file as the last look saw it.
#[derive(Clone, Debug)]
pub struct FileInfo {
    pub path: PathBuf,
    pub size: u64,
    pub mtime: u64,
    pub etag: String,
    /// The contents, for small files.
    pub bytes: Option<Arc<[u8]>>,
    /// Encoded header lines for a 200 or 206: type, validators, `Accept-Ranges`, and
    /// `Content-Encoding` / `Vary` where they apply.
    pub fields: Arc<[u8]>,
    /// The same for a 304: validators (and `Vary`) only.
    pub fields_304: Arc<[u8]>,
}

/// How a file's answers are labelled.
pub struct Labels {
    pub content_type: &'static str,
    /// `Content-Encoding: …` (this is a pre-compressed sibling).
    pub coding: Option<Coding>,
    /// `Vary: Accept-Encoding` (a sibling exists).
    pub vary: bool,
}

impl FileInfo {
    fn new(path: PathBuf, meta: &Metadata, keep_bytes: bool, labels: &Labels) -> FileInfo {
        let mtime = u64::try_from(meta.mtime()).unwrap_or(0);
        let nanos = u32::try_from(meta.mtime_nsec()).unwrap_or(0);
        let mut date = [0u8; 29];
        format_http_date(mtime, &mut date);
        let bytes = (keep_bytes && meta.len() <= SMALL_FILE)
            .then(|| read_small(&path, meta.len()))
            .flatten();
        let mut etag = precondition::etag(meta.len(), mtime, nanos, meta.ino());
        if let Some(c) = labels.coding {
            // Each representation its own tag, even for siblings hard-linked to one inode.
            etag.insert_str(etag.len() - 1, &format!("-{}", c.token()));
        }
        let mut validators = Vec::with_capacity(128);
        validators.extend_from_slice(b"ETag: ");
        validators.extend_from_slice(etag.as_bytes());
        validators.extend_from_slice(b"\r\nLast-Modified: ");
        validators.extend_from_slice(&date);
        validators.extend_from_slice(b"\r\n");
        if labels.vary {
            validators.extend_from_slice(b"Vary: Accept-Encoding\r\n");
        }
        let mut fields = Vec::with_capacity(256);
        fields.extend_from_slice(b"Content-Type: ");
        fields.extend_from_slice(labels.content_type.as_bytes());
        fields.extend_from_slice(b"\r\n");
        fields.extend_from_slice(&validators);
        fields.extend_from_slice(b"Accept-Ranges: bytes\r\n");
        if let Some(c) = labels.coding {
            fields.extend_from_slice(b"Content-Encoding: ");
            fields.extend_from_slice(c.token().as_bytes());
            fields.extend_from_slice(b"\r\n");
        }
        FileInfo {
            size: meta.len(),
            mtime,
            etag,
            bytes,
            fields: fields.into(),
            fields_304: validators.into(),
            path,
        }
    }
}

/// Reads a small file whole; `None` if it is not exactly `len` bytes any more.
fn read_small(path: &Path, len: u64) -> Option<Arc<[u8]>> {
    let mut f = super::open(path).ok()?;
    let mut buf = Vec::with_capacity(usize::try_from(len).ok()?);
    f.by_ref().take(len + 1).read_to_end(&mut buf).ok()?;
    (buf.len() as u64 == len).then(|| buf.into())
}

/// Where a request path leads.
#[derive(Clone, Debug)]
pub enum Target {
    File {
        file: FileInfo,
        /// The pre-compressed siblings inside ROOT, by [`Coding::index`]; `None` (the common
        /// case, and the cheap one: no `Accept-Encoding` is read) when there are none.
        encoded: Option<Box<Siblings>>,
    },
    Dir {
        path: PathBuf,
        slash: bool,
    },
}

/// `x.br`, `x.zst`, `x.gz`, each if it is there.
pub type Siblings = [Option<FileInfo>; 3];

struct Entry {
    target: Result<Target, ResolveError>,
    checked: Instant,
}

#[derive(Default)]
pub struct Cache {
    entries: HashMap<Vec<u8>, Entry>,
    bytes: usize,
}

impl Cache {
    /// Forgets everything (after a write through this server).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }

    /// What `raw_path` (still percent-encoded) leads to, from the cache if that is fresh.
    pub fn lookup(
        &mut self,
        root: &Root,
        raw_path: &[u8],
        show_hidden: bool,
        now: Instant,
    ) -> Result<&Target, ResolveError> {
        let fresh = self
            .entries
            .get(raw_path)
            .is_some_and(|e| now.duration_since(e.checked) < FRESH);
        if !fresh {
            self.refill(root, raw_path, show_hidden, now);
        }
        match self.entries.get(raw_path) {
            Some(Entry { target: Ok(t), .. }) => Ok(t),
            Some(Entry { target: Err(e), .. }) => Err(*e),
            None => Err(ResolveError::NotFound),
        }
    }

    /// Looks at the file system again for `raw_path`.
    fn refill(&mut self, root: &Root, raw_path: &[u8], show_hidden: bool, now: Instant) {
        let target = look(root, raw_path, show_hidden, self.bytes < MAX_BYTES);
        let held = |t: &Result<Target, ResolveError>| match t {
            Ok(Target::File { file, encoded }) => {
                let kept = |f: &FileInfo| f.bytes.as_ref().map_or(0, |b| b.len());
                kept(file)
                    + encoded
                        .iter()
                        .flat_map(|s| s.iter().flatten())
                        .map(kept)
                        .sum::<usize>()
            }
            _ => 0,
        };
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.clear();
            self.bytes = 0;
        }
        self.bytes += held(&target);
        // (held is computed before the entry moves in)
        let old = self.entries.insert(
            raw_path.to_vec(),
            Entry {
                target,
                checked: now,
            },
        );
        if let Some(old) = old {
            self.bytes -= held(&old.target).min(self.bytes);
        }
    }
}

/// The file system's answer, without the cache.
fn look(
    root: &Root,
    raw_path: &[u8],
    show_hidden: bool,
    keep_bytes: bool,
) -> Result<Target, ResolveError> {
    match root.resolve(raw_path, show_hidden)? {
        Resolved::Dir { path, slash } => Ok(Target::Dir { path, slash }),
        Resolved::File { path, meta } => {
            let name = path.file_name().map_or(&b""[..], |n| n.as_bytes());
            let content_type = mime::content_type(name);
            let siblings: Siblings = PREFERENCE.map(|c| {
                let (p, m) = sibling(root, &path, c)?;
                let labels = Labels {
                    content_type,
                    coding: Some(c),
                    vary: true,
                };
                Some(FileInfo::new(p, &m, keep_bytes, &labels))
            });
            let any = siblings.iter().any(Option::is_some);
            let plain = Labels {
                content_type,
                coding: None,
                vary: any,
            };
            Ok(Target::File {
                file: FileInfo::new(path, &meta, keep_bytes, &plain),
                encoded: any.then(|| Box::new(siblings)),
            })
        }
    }
}

/// `x.br` (or `.zst`, `.gz`) next to `x`, if it is a regular file inside ROOT.
fn sibling(root: &Root, path: &Path, coding: Coding) -> Option<(PathBuf, Metadata)> {
    let mut name = path.as_os_str().to_owned();
    name.push(coding.suffix());
    let real = fs::canonicalize(&name).ok()?;
    let meta = fs::metadata(&real).ok()?;
    (meta.is_file() && real.starts_with(root.path())).then_some((real, meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_fresh_for_a_second_then_looked_at_again() {
        let dir = std::env::temp_dir().join(format!("spindle-cache-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("a.txt"), b"one").unwrap();
        let root = Root::new(&dir).unwrap();
        let mut cache = Cache::default();
        let t0 = Instant::now();
        let bytes = |t: Result<&Target, ResolveError>| match t {
            Ok(Target::File { file, .. }) => file.bytes.as_ref().map(|b| b.to_vec()),
            _ => None,
        };
        assert_eq!(
            bytes(cache.lookup(&root, b"/a.txt", false, t0)),
            Some(b"one".to_vec())
        );
        fs::write(dir.join("a.txt"), b"two!").unwrap();
        // Within the second: the cached answer.
        assert_eq!(
            bytes(cache.lookup(&root, b"/a.txt", false, t0 + FRESH / 2)),
            Some(b"one".to_vec())
        );
        // After it: looked at again.
        assert_eq!(
            bytes(cache.lookup(&root, b"/a.txt", false, t0 + FRESH)),
            Some(b"two!".to_vec())
        );
        fs::remove_file(dir.join("a.txt")).unwrap();
        assert!(cache
            .lookup(&root, b"/a.txt", false, t0 + FRESH * 3)
            .is_err());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bounded() {
        let dir = std::env::temp_dir().join(format!("spindle-cache-b-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let root = Root::new(&dir).unwrap();
        let mut cache = Cache::default();
        let now = Instant::now();
        for i in 0..(MAX_ENTRIES * 2) {
            let _ = cache.lookup(&root, format!("/missing-{i}").as_bytes(), false, now);
            assert!(cache.entries.len() <= MAX_ENTRIES);
        }
        fs::remove_dir_all(dir).unwrap();
    }
}
