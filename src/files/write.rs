//! PUT and DELETE under ROOT, only with `--allow-write`. A PUT streams into a temporary file
//! beside its target and is renamed into place only once the whole body is in.

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
    let dir = fs::canonicalize(root.path().join(std::ffi::OsStr::from_bytes(parent)))
        .map_err(|_| Response::error(409))?;
    if !dir.starts_with(root.path()) {
        return Err(Response::error(404)); // a symlinked directory leading out of ROOT
    }
    if !dir.is_dir() {
        return Err(Response::error(409));
    }
    let target = dir.join(std::ffi::OsStr::from_bytes(name));
    Ok(Place { dir, target })
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
    match Upload::create(&place.dir, mode) {
        Ok((temp, file)) => Action::ReadBody(Box::new(Upload {
            temp,
            file: Some(file),
            target: place.target,
            existed,
            failed: None,
            writes: writes.clone(),
        })),
        Err(e) => Action::Respond(write_error(&e)),
    }
}

/// The permission bits a replacement keeps: those of the regular file it replaces (a symlink
/// has none of its own: its replacement is a new file). Set-user-ID, set-group-ID and sticky
/// bits are dropped, as the kernel drops them when a file is written to.
fn kept_mode(replaced: &fs::Metadata) -> Option<u32> {
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

fn write_error(e: &io::Error) -> Response {
    match e.raw_os_error() {
        Some(libc::EMFILE | libc::ENFILE) => Response::error(503),
        Some(libc::ENOSPC | libc::EDQUOT) => Response::error(507),
        Some(libc::EACCES | libc::EPERM | libc::EROFS) => Response::error(403),
        _ => Response::error(500),
    }
}

/// A body on its way into a temporary file. Dropped before `finish` (the client went away,
/// timed out, or sent too much), it removes the temporary file: nothing is left behind.
struct Upload {
    temp: PathBuf,
    file: Option<File>,
    target: PathBuf,
    existed: bool,
    failed: Option<io::Error>,
    /// Bumped after every completed write, so that readers' caches start over.
    writes: Arc<AtomicU64>,
}

impl Upload {
    /// A new hidden temporary file in `dir`, created exclusively, with the permission bits
    /// `mode` of the file it will replace, or else 0666 less the umask, as any new file.
    fn create(dir: &Path, mode: Option<u32>) -> io::Result<(PathBuf, File)> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let temp = dir.join(format!(".spindle-upload-{}-{}", std::process::id(), n));
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode.unwrap_or(0o666))
                .custom_flags(libc::O_CLOEXEC)
                .open(&temp)
            {
                Ok(f) => return Upload::keep_mode(temp, f, mode),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The umask applied at creation; a replacement gets exactly the old mode back (fchmod
    /// ignores the umask). Until then the file is never more open than it will be.
    fn keep_mode(temp: PathBuf, file: File, mode: Option<u32>) -> io::Result<(PathBuf, File)> {
        if let Some(mode) = mode {
            if let Err(e) = file.set_permissions(fs::Permissions::from_mode(mode)) {
                let _ = fs::remove_file(&temp);
                return Err(e);
            }
        }
        Ok((temp, file))
    }
}

impl BodySink for Upload {
    fn data(&mut self, chunk: &[u8]) {
        if self.failed.is_none() {
            if let Some(f) = self.file.as_mut() {
                if let Err(e) = f.write_all(chunk) {
                    self.failed = Some(e);
                }
            }
        }
    }

    fn finish(mut self: Box<Self>) -> Response {
        let done = match (self.failed.take(), self.file.take()) {
            (Some(e), _) => Err(e),
            (None, Some(f)) => f
                .sync_data()
                .and_then(|()| fs::rename(&self.temp, &self.target)),
            (None, None) => Err(io::ErrorKind::Other.into()),
        };
        match done {
            Ok(()) => {
                self.writes.fetch_add(1, Ordering::Relaxed);
                self.temp = PathBuf::new(); // renamed: nothing for Drop to remove
                Response::empty(if self.existed { 204 } else { 201 })
            }
            Err(e) => write_error(&e),
        }
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if !self.temp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}
