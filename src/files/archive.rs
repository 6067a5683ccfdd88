//! A folder download (`GET /dir/?download=tar`): the directory and everything under it as a
//! tar stream, made as the client reads it. Never built in memory or on disk: each `fill` does
//! a bounded step — a few directory entries, one read of at most the room the connection has —
//! so the reactor is never held long, and a slow client holds a few descriptors and the output
//! buffer, nothing more.
//!
//! What goes in: regular files and directories, in the order the file system lists them.
//! Symbolic links are skipped (so nothing outside ROOT can be reached through one), and so
//! are FIFOs, sockets and devices; dotfiles only with `--show-hidden`. A file that cannot be
//! opened is skipped with a warning. A file whose size changes while it is sent is cut or
//! zero-padded to the size its header already announced, with a warning: the archive stays
//! well-formed whatever happens on disk.

use std::fs::{self, File, ReadDir};
use std::io::{self, ErrorKind};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::PathBuf;

use log::warn;

use super::tar::{self, Entry, Kind};
use crate::http::response::Stream;

/// Most directories open at once (the depth walked); deeper ones are skipped with a warning.
pub const MAX_DEPTH: usize = 32;
/// Most directory entries looked at (and files read from, once each) in one `fill`.
const ENTRIES_PER_FILL: usize = 16;

/// The stream: a stack of open directories, the file being sent, bytes made but not yet given.
pub struct Archive {
    /// ROOT as canonicalised: every directory entered must lie under it.
    root: PathBuf,
    show_hidden: bool,
    /// The directory to archive, opened at the first `fill` (a HEAD opens nothing).
    start: Option<(PathBuf, Vec<u8>)>,
    stack: Vec<Level>,
    file: Option<Sending>,
    /// Header and padding bytes not yet handed out, from `pending_at` on.
    pending: Vec<u8>,
    pending_at: usize,
    finished: bool,
}

/// One open directory.
struct Level {
    entries: ReadDir,
    /// Its real path, and its name in the archive (ending in `/`).
    path: PathBuf,
    name: Vec<u8>,
}

/// The file whose data is going out.
struct Sending {
    file: File,
    name: Vec<u8>,
    /// The size its header announced, and how much of it is sent.
    size: u64,
    sent: u64,
    /// Set once the file gave less than announced: the rest is zeros.
    short: bool,
}

impl Archive {
    /// The archive of the directory `dir` (already resolved inside `root`), its entries named
    /// under `top/`.
    pub fn new(root: PathBuf, dir: PathBuf, top: &[u8], show_hidden: bool) -> Archive {
        let mut name = top.to_vec();
        name.push(b'/');
        Archive {
            root,
            show_hidden,
            start: Some((dir, name)),
            stack: Vec::new(),
            file: None,
            pending: Vec::new(),
            pending_at: 0,
            finished: false,
        }
    }

    /// Gives out pending bytes, up to `max` in `out`. Returns whether all are out.
    fn drain_pending(&mut self, out: &mut Vec<u8>, max: usize) -> bool {
        let n = (self.pending.len() - self.pending_at).min(max);
        out.extend_from_slice(&self.pending[self.pending_at..self.pending_at + n]);
        self.pending_at += n;
        if self.pending_at == self.pending.len() {
            self.pending.clear();
            self.pending_at = 0;
            true
        } else {
            false
        }
    }

    /// The next piece of the file being sent, at most `max` bytes.
    fn send_file(&mut self, out: &mut Vec<u8>, max: usize) {
        let Some(f) = self.file.as_mut() else {
            return;
        };
        let want = usize::try_from(f.size - f.sent)
            .unwrap_or(usize::MAX)
            .min(max);
        let start = out.len();
        out.resize(start + want, 0);
        if !f.short {
            match f.file.read_at(&mut out[start..], f.sent) {
                Ok(n) if n > 0 => out.truncate(start + n),
                Err(e) if e.kind() == ErrorKind::Interrupted => out.truncate(start),
                got => {
                    // Shrunk (or failed): zeros keep the promised size.
                    warn!(
                        "download: {} ended at {} of {} bytes ({}); padded with zeros",
                        String::from_utf8_lossy(&f.name),
                        f.sent,
                        f.size,
                        got.err().map_or("shrank".into(), |e| e.to_string())
                    );
                    f.short = true;
                }
            }
        }
        f.sent += (out.len() - start) as u64;
        if f.sent == f.size {
            if !f.short && f.file.metadata().is_ok_and(|m| m.len() > f.size) {
                warn!(
                    "download: {} grew while sent; cut at {} bytes",
                    String::from_utf8_lossy(&f.name),
                    f.size
                );
            }
            tar::pad(f.size, &mut self.pending);
            self.file = None;
        }
    }

    /// Looks at the next directory entry (or leaves a finished directory, or ends the
    /// archive). Whatever it yields is queued in `pending` (a header) or `file`.
    fn step(&mut self) {
        if let Some((dir, name)) = self.start.take() {
            self.enter(dir, name);
            return;
        }
        let Some(level) = self.stack.last_mut() else {
            tar::end(&mut self.pending);
            self.finished = true;
            return;
        };
        let entry = match level.entries.next() {
            None => {
                self.stack.pop();
                return;
            }
            Some(Err(e)) => {
                warn!("download: reading {}: {e}", level.path.display());
                self.stack.pop();
                return;
            }
            Some(Ok(entry)) => entry,
        };
        let file_name = entry.file_name();
        let base = file_name.as_bytes();
        if base.starts_with(b".") && !self.show_hidden {
            return;
        }
        let mut name = level.name.clone();
        name.extend_from_slice(base);
        let path = level.path.join(&file_name);
        // The entry's own type, not its target's: a symlink is never followed.
        match entry.file_type() {
            Ok(t) if t.is_dir() => {
                name.push(b'/');
                self.enter(path, name);
            }
            Ok(t) if t.is_file() => self.open_file(path, name),
            _ => {} // symlinks, FIFOs, sockets, devices
        }
    }

    /// Opens a directory (if it is really inside ROOT, no link on the way) and queues its
    /// header.
    fn enter(&mut self, path: PathBuf, name: Vec<u8>) {
        if self.stack.len() >= MAX_DEPTH {
            warn!("download: {} is too deep; skipped", path.display());
            return;
        }
        let opened = fs::canonicalize(&path).and_then(|real| {
            if real != path || !real.starts_with(&self.root) {
                return Err(io::Error::other("not inside ROOT"));
            }
            Ok((fs::read_dir(&real)?, fs::symlink_metadata(&real)?))
        });
        match opened {
            Ok((entries, meta)) => {
                self.header(&name, Kind::Dir, 0, &meta);
                self.stack.push(Level {
                    entries,
                    path,
                    name,
                });
            }
            Err(e) => warn!("download: {}: {e}; skipped", path.display()),
        }
    }

    /// Opens a regular file (not through a link, not blocking) and queues its header; its
    /// size is taken now, from the open file, and is what its data will be.
    fn open_file(&mut self, path: PathBuf, name: Vec<u8>) {
        let opened = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(&path)
            .and_then(|file| Ok((file.metadata()?, file)));
        match opened {
            Ok((meta, file)) if meta.is_file() => {
                self.header(&name, Kind::File, meta.len(), &meta);
                if meta.len() == 0 {
                    return;
                }
                self.file = Some(Sending {
                    file,
                    name,
                    size: meta.len(),
                    sent: 0,
                    short: false,
                });
            }
            Ok(_) => {} // swapped for something else meanwhile
            Err(e) => warn!("download: {}: {e}; skipped", path.display()),
        }
    }

    fn header(&mut self, name: &[u8], kind: Kind, size: u64, meta: &fs::Metadata) {
        let e = Entry {
            name,
            kind,
            size,
            mode: meta.mode() & 0o7777,
            mtime: u64::try_from(meta.mtime()).unwrap_or(0),
        };
        tar::header(&e, &mut self.pending);
    }
}

impl Stream for Archive {
    fn length(&self) -> Option<u64> {
        None // chunked: the total is not known until the walk ends
    }

    fn fill(&mut self, out: &mut Vec<u8>, max: usize) -> bool {
        let start = out.len();
        let mut steps = 0;
        let room = |out: &Vec<u8>| max - (out.len() - start);
        loop {
            if !self.drain_pending(out, room(out)) || room(out) == 0 {
                return true;
            }
            if self.file.is_some() {
                // At most one read per entry: a slow disk holds the reactor for a few reads.
                self.send_file(out, room(out));
                if self.file.is_some() {
                    return true;
                }
                continue;
            }
            if self.finished {
                return false;
            }
            if steps == ENTRIES_PER_FILL {
                return true;
            }
            steps += 1;
            self.step();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A scratch directory with `files` empty files and a chain of `depth` directories.
    fn scratch(tag: &str, files: usize, depth: usize) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("spindle-archive-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("top")).unwrap();
        for i in 0..files {
            fs::write(dir.join(format!("top/f{i}")), vec![b'x'; i * 37]).unwrap();
        }
        let mut deep = dir.join("top");
        for i in 0..depth {
            deep = deep.join(format!("d{i}"));
        }
        fs::create_dir_all(&deep).unwrap();
        fs::canonicalize(dir).unwrap()
    }

    fn archive(root: &Path) -> Archive {
        Archive::new(root.to_path_buf(), root.join("top"), b"top", false)
    }

    /// The whole archive, each `fill` given `max(i)` bytes of room; checks each stays in it.
    fn whole(mut a: Archive, max: impl Fn(usize) -> usize) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0.. {
            let before = out.len();
            let more = a.fill(&mut out, max(i));
            assert!(out.len() - before <= max(i), "a piece over its room");
            if !more {
                break;
            }
        }
        out
    }

    use std::path::Path;

    #[test]
    fn each_fill_looks_at_a_bounded_number_of_entries() {
        let root = scratch("bounded", 200, 0);
        let mut a = archive(&root);
        let mut out = Vec::new();
        // However much room there is: ENTRIES_PER_FILL steps (opening the top is one), each
        // a header and a file's one read.
        assert!(a.fill(&mut out, 1 << 24));
        let headers = out
            .chunks(tar::BLOCK)
            .filter(|b| b.len() == tar::BLOCK && &b[257..263] == b"ustar\0")
            .count();
        assert_eq!(
            headers, ENTRIES_PER_FILL,
            "the top and the entries after it"
        );
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn the_walk_keeps_at_most_max_depth_directories_open() {
        let root = scratch("depth", 0, MAX_DEPTH + 8);
        let mut a = archive(&root);
        let mut out = Vec::new();
        let mut deepest = 0;
        while a.fill(&mut out, 4096) {
            deepest = deepest.max(a.stack.len());
        }
        assert_eq!(deepest, MAX_DEPTH);
        // top and d0..d30: MAX_DEPTH directories in all.
        let dirs = out.chunks(tar::BLOCK).filter(|b| b[156] == b'5').count();
        assert_eq!(dirs, MAX_DEPTH);
        fs::remove_dir_all(root).unwrap();
    }

    /// The walk skips what `readdir` says is a link; should a file or directory be swapped for
    /// one after that, opening it refuses it all the same.
    #[test]
    fn a_link_swapped_in_after_the_listing_is_refused() {
        let root = scratch("swap", 0, 0);
        let outside = scratch("swap-outside", 1, 1);
        let top = root.join("top");
        std::os::unix::fs::symlink(outside.join("top/f0"), top.join("file")).unwrap();
        std::os::unix::fs::symlink(outside.join("top"), top.join("dir")).unwrap();
        fs::create_dir(top.join("inner")).unwrap();
        std::os::unix::fs::symlink(top.join("inner"), top.join("inner-link")).unwrap();
        let mut a = archive(&root);
        a.open_file(top.join("file"), b"top/file".to_vec());
        assert!(a.file.is_none() && a.pending.is_empty(), "a link to a file");
        a.enter(top.join("dir"), b"top/dir/".to_vec());
        assert!(
            a.stack.is_empty() && a.pending.is_empty(),
            "a link out of ROOT"
        );
        a.enter(top.join("inner-link"), b"top/inner-link/".to_vec());
        assert!(
            a.stack.is_empty() && a.pending.is_empty(),
            "a link inside ROOT"
        );
        a.enter(top.join("inner"), b"top/inner/".to_vec());
        assert_eq!(a.stack.len(), 1, "the real directory");
        fs::remove_dir_all(root).unwrap();
        fs::remove_dir_all(outside).unwrap();
    }

    /// Names and sizes of a ustar archive's members, checking its framing to the end.
    fn members(tar: &[u8]) -> Vec<(String, u64)> {
        let mut out = Vec::new();
        let mut at = 0;
        while tar[at..at + tar::BLOCK].iter().any(|&b| b != 0) {
            let h = &tar[at..at + tar::BLOCK];
            assert_eq!(&h[257..263], b"ustar\0", "a header at {at}");
            let name: Vec<u8> = h[..100].iter().copied().take_while(|&b| b != 0).collect();
            let size = u64::from_str_radix(std::str::from_utf8(&h[124..135]).unwrap(), 8).unwrap();
            out.push((String::from_utf8(name).unwrap(), size));
            at += tar::BLOCK + size as usize + tar::padding(size);
        }
        assert_eq!(tar.len() - at, 2 * tar::BLOCK, "the end");
        out
    }

    /// Files that vanish between the listing and their turn (or cannot be opened for any
    /// reason) are left out; the archive stays whole.
    #[test]
    fn a_file_that_cannot_be_opened_is_left_out() {
        let root = scratch("vanish", 40, 0);
        let mut a = archive(&root);
        let mut out = Vec::new();
        assert!(a.fill(&mut out, 2048), "the top opened, a few entries read");
        for i in 0..40 {
            let _ = fs::remove_file(root.join(format!("top/f{i}")));
        }
        while a.fill(&mut out, 4096) {}
        let got = members(&out);
        assert_eq!(got[0], ("top/".to_string(), 0));
        assert!(
            got.len() < 41,
            "{} members: the vanished are not in",
            got.len()
        );
        fs::remove_dir_all(root).unwrap();
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        /// However the room is cut, the bytes are the same.
        #[test]
        fn the_archive_does_not_depend_on_the_room(rooms in prop::collection::vec(1usize..3000, 1..20)) {
            let root = scratch("rooms", 12, 3);
            let reference = whole(archive(&root), |_| 1 << 20);
            let cut = whole(archive(&root), |i| rooms[i % rooms.len()]);
            fs::remove_dir_all(&root).unwrap();
            prop_assert_eq!(reference.len() % tar::BLOCK, 0);
            prop_assert!(reference == cut);
        }
    }
}
