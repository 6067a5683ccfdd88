//! PUT and DELETE under ROOT, only with `--allow-write`. A PUT streams into a temporary file
//! beside its target and is renamed into place only once the whole body is in. The temporary
//! file ([`TempFile`]) and the confinement of a directory to ROOT are shared with `upload.rs`.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::resolve::{normalise, percent_decode, ResolveError, Resolved, Root};
use crate::handler::{Action, BodySink, Response};

/// Where a write would land: an existing directory inside ROOT, and a name in it.
struct Place {
    dir: PathBuf,
    target: PathBuf,
}

/// Finds the directory a write goes to. Its parent must already exist inside ROOT (no
/// implicit directories: 409), and the name obeys the same rules as reading (`..`, dotfiles).
fn place(root: &Root, raw: &[u8], show_hidden: bool) -> Result<Place, Response> {
    let refuse = |e| match e {
        ResolveError::BadPath => Response::error(400),
        ResolveError::NotFound => Response::error(404),
    };
    let decoded = percent_decode(raw).map_err(refuse)?;
    let (relative, slash) = normalise(&decoded, show_hidden).map_err(refuse)?;
    if slash || relative.is_empty() {
        return Err(Response::method_not_allowed("GET, HEAD")); // a directory
    }
    let (parent, name) = match relative.iter().rposition(|&b| b == b'/') {
        Some(i) => (&relative[..i], &relative[i + 1..]),
        None => (&b""[..], &relative[..]),
    };
    let dir = match confined_dir(root.path(), &root.path().join(OsStr::from_bytes(parent))) {
        Ok(dir) => dir,
        Err(Outside::Missing) => return Err(Response::error(409)),
        Err(Outside::Escapes) => return Err(Response::error(404)),
    };
    let target = dir.join(OsStr::from_bytes(name));
    Ok(Place { dir, target })
}

/// Why a directory cannot be written into.
pub(super) enum Outside {
    /// Nothing there, or not a directory.
    Missing,
    /// A symlink (somewhere on the way) leads out of ROOT.
    Escapes,
}

/// `path`, canonical, if it is a directory inside `root` (itself canonical).
pub(super) fn confined_dir(root: &Path, path: &Path) -> Result<PathBuf, Outside> {
    let dir = fs::canonicalize(path).map_err(|_| Outside::Missing)?;
    if !dir.starts_with(root) {
        return Err(Outside::Escapes);
    }
    if !dir.is_dir() {
        return Err(Outside::Missing);
    }
    Ok(dir)
}

/// PUT: a sink that writes the body into a temporary file, renamed over the target at the end.
pub fn put(root: &Root, raw: &[u8], show_hidden: bool, writes: &Arc<AtomicU64>) -> Action {
    let place = match place(root, raw, show_hidden) {
        Ok(p) => p,
        Err(resp) => return Action::Respond(resp),
    };
    let (existed, mode) = match fs::symlink_metadata(&place.target) {
        Ok(m) if m.is_dir() => return Action::Respond(Response::method_not_allowed("GET, HEAD")),
        Ok(m) => (true, kept_mode(&m)),
        Err(_) => (false, None),
    };
    match TempFile::create(&place.dir, mode) {
        Ok(temp) => Action::ReadBody(Box::new(Upload {
            temp,
            target: place.target,
            existed,
            writes: writes.clone(),
        })),
        Err(e) => Action::Respond(write_error(&e)),
    }
}

/// The permission bits a replacement keeps: those of the regular file it replaces (a symlink
/// has none of its own: its replacement is a new file). Set-user-ID, set-group-ID and sticky
/// bits are dropped, as the kernel drops them when a file is written to.
pub(super) fn kept_mode(replaced: &fs::Metadata) -> Option<u32> {
    replaced
        .file_type()
        .is_file()
        .then(|| replaced.permissions().mode() & 0o777)
}

/// DELETE: removes what a GET would serve — a regular file, or a symlink to one inside ROOT
/// (the link itself, never its target). A directory is 405; a FIFO, socket or device, or a
/// link leading out of ROOT or nowhere, is 404 and left in place.
pub fn delete(root: &Root, raw: &[u8], show_hidden: bool, writes: &AtomicU64) -> Response {
    let place = match place(root, raw, show_hidden) {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    match root.resolve(raw, show_hidden) {
        Err(_) => Response::error(404),
        Ok(Resolved::Dir { .. }) => Response::method_not_allowed("GET, HEAD"),
        Ok(Resolved::File { .. }) => match fs::remove_file(&place.target) {
            Ok(()) => {
                writes.fetch_add(1, Ordering::Relaxed);
                Response::empty(204)
            }
            Err(e) => write_error(&e),
        },
    }
}

pub(super) fn write_error(e: &io::Error) -> Response {
    match e.raw_os_error() {
        Some(libc::EMFILE | libc::ENFILE) => Response::error(503),
        Some(libc::ENOSPC | libc::EDQUOT) => Response::error(507),
        Some(libc::EACCES | libc::EPERM | libc::EROFS) => Response::error(403),
        _ => Response::error(500),
    }
}

/// A PUT body on its way into a temporary file. Dropped before `finish` (the client went
/// away, timed out, or sent too much), its [`TempFile`] is removed: nothing is left behind.
struct Upload {
    temp: TempFile,
    target: PathBuf,
    existed: bool,
    /// Bumped after every completed write, so that readers' caches start over.
    writes: Arc<AtomicU64>,
}

impl BodySink for Upload {
    fn data(&mut self, chunk: &[u8]) {
        self.temp.write(chunk);
    }

    fn finish(self: Box<Self>) -> Response {
        let Upload {
            temp,
            target,
            existed,
            writes,
        } = *self;
        match temp.replace(&target) {
            Ok(()) => {
                writes.fetch_add(1, Ordering::Relaxed);
                Response::empty(if existed { 204 } else { 201 })
            }
            Err(e) => write_error(&e),
        }
    }
}

/// A hidden temporary file beside the file it will become (PUT, and each file of an upload
/// form). It is written, then renamed into place whole; dropped before that, it is removed.
pub(super) struct TempFile {
    /// Empty once renamed: nothing for Drop to remove.
    path: PathBuf,
    file: File,
    /// The first write error: the file is incomplete, and will not be put in place.
    failed: Option<io::Error>,
}

impl TempFile {
    /// A new hidden temporary file in `dir`, created exclusively, with the permission bits
    /// `mode` of the file it will replace, or else 0666 less the umask, as any new file.
    pub(super) fn create(dir: &Path, mode: Option<u32>) -> io::Result<TempFile> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!(".spindle-upload-{}-{}", std::process::id(), n));
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode.unwrap_or(0o666))
                .custom_flags(libc::O_CLOEXEC)
                .open(&path)
            {
                Ok(file) => {
                    let temp = TempFile {
                        path,
                        file,
                        failed: None,
                    };
                    return temp.keep_mode(mode);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The umask applied at creation; a replacement gets exactly the old mode back (fchmod
    /// ignores the umask). Until then the file is never more open than it will be. (On an
    /// error, Drop removes the file.)
    fn keep_mode(self, mode: Option<u32>) -> io::Result<TempFile> {
        if let Some(mode) = mode {
            self.file
                .set_permissions(fs::Permissions::from_mode(mode))?;
        }
        Ok(self)
    }

    /// Appends `chunk`; after an error, nothing more is written and the file is never placed.
    pub(super) fn write(&mut self, chunk: &[u8]) {
        if self.failed.is_none() {
            if let Err(e) = self.file.write_all(chunk) {
                self.failed = Some(e);
            }
        }
    }

    /// Renamed over `target` (whatever is there is replaced, atomically).
    pub(super) fn replace(mut self, target: &Path) -> io::Result<()> {
        self.written()?;
        fs::rename(&self.path, target)?;
        self.path = PathBuf::new();
        Ok(())
    }

    /// Put at `target` only if nothing is there: `link(2)` fails with `EEXIST` atomically, so
    /// a file that appeared meanwhile is never clobbered. Then the temporary name goes.
    pub(super) fn place_new(mut self, target: &Path) -> io::Result<()> {
        self.written()?;
        fs::hard_link(&self.path, target)?;
        let _ = fs::remove_file(&self.path);
        self.path = PathBuf::new();
        Ok(())
    }

    /// Whether every write succeeded. No `fsync`: it runs on the reactor's thread, and
    /// flushing a large file to the disk would stop every other connection for as long
    /// (nginx's WebDAV PUT does not sync either). The rename still makes the file appear
    /// whole or not at all; a power cut may lose the newest writes.
    fn written(&mut self) -> io::Result<()> {
        match self.failed.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}
