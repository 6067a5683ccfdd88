//! What a directory listing shows, read once and shared: a [`Snapshot`] of a directory's
//! entries (read where blocking is allowed — a helper thread, never the reactor), and a small
//! [`DirCache`] that lets every listing of the same directory within a second render from the
//! same snapshot, whoever asked and however slowly they read.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::mem;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use super::listing::order::{Order, Orders};
use super::listing::{self, Entry};

/// Most entries one listing shows. Beyond it the directory is not read further, and the HTML
/// page ends with a note saying so (the JSON array just stops): the memory and the time a
/// listing costs stay bounded whatever the directory holds.
pub const MAX_LISTED: usize = 100_000;

/// The entries of one directory as a listing shows them: sorted (directories first, then
/// bytewise), without hidden names (unless asked), without `.` and `..`, and with only what a
/// click would serve — files and directories inside ROOT (symlinks followed).
#[derive(Debug, Default)]
pub struct Snapshot {
    entries: Vec<Entry>,
    /// The entries by size and by date, worked out here (off the reactor) for `?sort=`.
    orders: Orders,
    truncated: bool,
    /// Roughly the memory the entries hold, for the cache's bound (counted once, here, so that
    /// the cache's lock is never held over 100 000 entries).
    bytes: usize,
}

impl Snapshot {
    /// Reads `dir` (its real path, inside `root`). This blocks — readdir, then a canonicalize
    /// and a stat per entry — so it runs on a helper thread, never on the reactor's.
    pub fn read(dir: &Path, root: &Path, show_hidden: bool) -> io::Result<Snapshot> {
        Snapshot::read_at_most(dir, root, show_hidden, MAX_LISTED)
    }

    /// [`Snapshot::read`] keeping at most `max` entries.
    pub fn read_at_most(
        dir: &Path,
        root: &Path,
        show_hidden: bool,
        max: usize,
    ) -> io::Result<Snapshot> {
        let mut entries = Vec::new();
        let mut truncated = false;
        for entry in fs::read_dir(dir)?.flatten() {
            let Some(e) = listed(&entry, root, show_hidden) else {
                continue;
            };
            if entries.len() == max {
                truncated = true; // one more than we keep: say so, and stop reading
                break;
            }
            entries.push(e);
        }
        Ok(Snapshot::from_entries(entries, truncated))
    }

    /// A snapshot of entries read by the caller (sorted and filtered here).
    pub fn from_entries(mut entries: Vec<Entry>, truncated: bool) -> Snapshot {
        entries.retain(listing::listable);
        listing::sort(&mut entries);
        let orders = Orders::of(&entries);
        let per_entry = std::mem::size_of::<Entry>();
        let names: usize = entries.iter().map(|e| per_entry + e.name.len()).sum();
        let bytes = names + orders.bytes();
        Snapshot {
            entries,
            orders,
            truncated,
            bytes,
        }
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry shown `k`-th when the listing is in `order` (`None` past the last).
    pub fn nth(&self, order: Order, k: usize) -> Option<&Entry> {
        let i = self.orders.nth(order, k, self.entries.len())?;
        self.entries.get(i)
    }

    /// Whether entries were left out because there were more than [`MAX_LISTED`].
    pub fn truncated(&self) -> bool {
        self.truncated
    }
}

/// One directory entry as a listing shows it, or `None` if a listing leaves it out.
fn listed(entry: &fs::DirEntry, root: &Path, show_hidden: bool) -> Option<Entry> {
    let name = entry.file_name().as_bytes().to_vec();
    if name.first() == Some(&b'.') && !show_hidden {
        return None;
    }
    // Follow symlinks for the type and size; one that leads nowhere, or out of ROOT, is left
    // out: the listing shows only what a click would serve. Anything else in a directory
    // under ROOT is under ROOT too, so only links pay for `canonicalize` (several system calls
    // per name; for 50 000 entries, most of the time a listing took).
    let path = entry.path();
    let link = entry.file_type().map_or(true, |t| t.is_symlink());
    let inside = !link || fs::canonicalize(&path).is_ok_and(|p| p.starts_with(root));
    let meta = fs::metadata(&path).ok()?;
    if !inside || !(meta.is_file() || meta.is_dir()) {
        return None; // out of ROOT, or a FIFO, socket or device: nothing a click serves
    }
    Some(Entry {
        name,
        is_dir: meta.is_dir(),
        size: meta.len(),
        mtime_secs: u64::try_from(meta.mtime()).unwrap_or(0),
    })
}

/// Snapshots with at least this many entries are freed on a thread of their own.
const RETIRE_FROM: usize = 1024;

/// Lets go of `snap`; if it is the last reference to a big snapshot, the freeing — 50 000
/// names take milliseconds — happens on a thread of its own, not on the reactor's.
pub fn retire(snap: Arc<Snapshot>) {
    if Arc::strong_count(&snap) > 1 || snap.entries.len() < RETIRE_FROM {
        return; // only a count goes down, or there is little to free
    }
    static GRAVE: OnceLock<Option<Mutex<Sender<Arc<Snapshot>>>>> = OnceLock::new();
    let grave = GRAVE.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Arc<Snapshot>>();
        thread::Builder::new()
            .name("retire".into())
            .spawn(move || rx.into_iter().for_each(drop))
            .ok()
            .map(|_| Mutex::new(tx))
    });
    if let Some(tx) = grave {
        if let Ok(tx) = tx.lock() {
            let _ = tx.send(snap);
        }
    }
}

/// How long a snapshot is believed. A directory's mtime does not change when a file in it
/// grows, so there is nothing cheap to check: like the file cache, a second, then read again.
const FRESH: Duration = Duration::from_secs(1);
/// Most directories kept; when full, the cache starts over (simple, and bounded).
const MAX_DIRS: usize = 64;
/// Most bytes of snapshots kept in all (a bigger snapshot is used, not kept).
const MAX_BYTES: usize = 32 * 1024 * 1024;

/// Snapshots by directory (real path), shared by the handler on the reactor thread, which
/// only looks up, and the helper threads, which read directories and store what they read.
#[derive(Clone, Default)]
pub struct DirCache {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    snapshots: HashMap<PathBuf, (Arc<Snapshot>, Instant)>,
    bytes: usize,
    /// Bumped by every `clear`: a snapshot read before a write is not stored after it.
    generation: u64,
}

impl DirCache {
    /// The snapshot of `dir`, if one was read less than a second before `now`.
    pub fn fresh(&self, dir: &Path, now: Instant) -> Option<Arc<Snapshot>> {
        let inner = self.lock();
        let (snap, read_at) = inner.snapshots.get(dir)?;
        (now.saturating_duration_since(*read_at) < FRESH).then(|| snap.clone())
    }

    /// Which generation a reader starts in: pass it back to [`DirCache::store`].
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Keeps `snap` (read at `read_at`) for `dir`, unless the cache was cleared since
    /// `generation` (a PUT or DELETE may have changed the directory meanwhile) or it is too big.
    pub fn store(&self, dir: PathBuf, snap: Arc<Snapshot>, generation: u64, read_at: Instant) {
        let size = snap.bytes;
        let mut inner = self.lock();
        if inner.generation != generation || size > MAX_BYTES {
            return;
        }
        // What is replaced is freed after the lock is let go (see `clear`).
        let mut gone = None;
        if inner.snapshots.len() >= MAX_DIRS || inner.bytes + size > MAX_BYTES {
            gone = Some(mem::take(&mut inner.snapshots));
            inner.bytes = 0;
        }
        let old = inner.snapshots.insert(dir, (snap, read_at));
        if let Some((old, _)) = &old {
            inner.bytes -= old.bytes.min(inner.bytes);
        }
        inner.bytes += size;
        drop(inner);
        drop((old, gone));
    }

    /// Forgets everything (after a write through this server).
    pub fn clear(&self) {
        let mut inner = self.lock();
        let gone = mem::take(&mut inner.snapshots);
        inner.bytes = 0;
        inner.generation += 1;
        // Freeing 50 000 entries takes a while: never while the reactor may wait for the lock.
        drop(inner);
        drop(gone);
    }

    /// The lock, even if a thread panicked while holding it: every update above leaves the
    /// map consistent, so a panic elsewhere is no reason to stop serving listings.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("spindle-dircache-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("sub")).unwrap();
        dir
    }

    fn names(s: &Snapshot) -> Vec<String> {
        s.entries()
            .iter()
            .map(|e| String::from_utf8_lossy(&e.name).into_owned())
            .collect()
    }

    #[test]
    fn reads_sorted_and_filtered() {
        let dir = scratch("read");
        for n in ["b", "a", ".hidden"] {
            fs::write(dir.join(n), n).unwrap();
        }
        std::os::unix::fs::symlink("/etc/passwd", dir.join("out")).unwrap();
        std::os::unix::fs::symlink(dir.join("missing"), dir.join("dangling")).unwrap();
        let root = fs::canonicalize(&dir).unwrap();
        let s = Snapshot::read(&root, &root, false).unwrap();
        assert_eq!(names(&s), ["sub", "a", "b"]);
        assert!(!s.truncated());
        let s = Snapshot::read(&root, &root, true).unwrap();
        assert_eq!(names(&s), ["sub", ".hidden", "a", "b"]);
        assert!(Snapshot::read(&root.join("nope"), &root, false).is_err());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bounded_and_says_so() {
        let dir = scratch("bound");
        for i in 0..10 {
            fs::write(dir.join(format!("f{i}")), b"").unwrap();
        }
        let root = fs::canonicalize(&dir).unwrap();
        // 11 listable entries (10 files and sub/).
        let s = Snapshot::read_at_most(&root, &root, false, 4).unwrap();
        assert_eq!(s.entries().len(), 4);
        assert!(s.truncated());
        let s = Snapshot::read_at_most(&root, &root, false, 11).unwrap();
        assert_eq!(s.entries().len(), 11);
        assert!(!s.truncated(), "exactly the bound is not truncated");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn fresh_for_a_second_and_cleared_by_writes() {
        let cache = DirCache::default();
        let t0 = Instant::now();
        let d = PathBuf::from("/d");
        let snap = Arc::new(Snapshot::from_entries(Vec::new(), false));
        cache.store(d.clone(), snap.clone(), cache.generation(), t0);
        assert!(cache.fresh(&d, t0 + FRESH / 2).is_some());
        assert!(cache.fresh(&d, t0 + FRESH).is_none());
        assert!(cache.fresh(Path::new("/e"), t0).is_none());
        // A snapshot read before a clear is not stored after it.
        let generation = cache.generation();
        cache.clear();
        assert!(cache.fresh(&d, t0).is_none());
        cache.store(d.clone(), snap.clone(), generation, t0);
        assert!(cache.fresh(&d, t0).is_none());
        cache.store(d.clone(), snap, cache.generation(), t0);
        assert!(cache.fresh(&d, t0).is_some());
    }

    #[test]
    fn bounded_in_directories() {
        let cache = DirCache::default();
        let now = Instant::now();
        for i in 0..MAX_DIRS * 3 {
            let snap = Arc::new(Snapshot::default());
            cache.store(PathBuf::from(format!("/d{i}")), snap, 0, now);
            assert!(cache.lock().snapshots.len() <= MAX_DIRS);
        }
    }
}
