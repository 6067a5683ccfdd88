//! Scratch directories and FIFOs.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh, empty directory of one test's own under the temp directory (its name: the test's
/// `tag`, the process id and a counter, so no two ever share one); removed with everything in
/// it on drop.
pub struct ScratchDir {
    dir: PathBuf,
}

impl ScratchDir {
    pub fn new(tag: &str) -> ScratchDir {
        ScratchDir::under(&std::env::temp_dir(), tag)
    }

    /// The same under `base` (e.g. a tmpfs).
    pub fn under(base: &Path, tag: &str) -> ScratchDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("spindle-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        ScratchDir { dir }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// `rel` under the directory (nothing is made).
    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.dir.join(rel)
    }

    /// Writes the file `rel`, making its parents first.
    pub fn write(&self, rel: impl AsRef<Path>, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, bytes).unwrap();
        p
    }

    /// Makes the directory `rel` and its parents.
    pub fn mkdir(&self, rel: impl AsRef<Path>) -> PathBuf {
        let p = self.join(rel);
        fs::create_dir_all(&p).unwrap();
        p
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A scratch directory holding `root/` (to serve, with an empty `root/dir/`) and a sibling
/// `outside/`: for the tests of writes, which must never land outside ROOT.
pub struct RootAndOutside {
    _base: ScratchDir,
    pub root: PathBuf,
    pub outside: PathBuf,
}

impl RootAndOutside {
    pub fn new(tag: &str) -> RootAndOutside {
        let base = ScratchDir::new(tag);
        base.mkdir("root/dir");
        RootAndOutside {
            root: base.join("root"),
            outside: base.mkdir("outside"),
            _base: base,
        }
    }
}

/// Every name in `dir`, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// An empty directory shared by the whole process (never removed: servers in other tests may
/// be serving it): with it as ROOT, every path outside `/-/` is 404.
pub fn empty_root() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spindle-test-empty-root-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Makes a FIFO at `path` (removing whatever was there).
pub fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let _ = fs::remove_file(path);
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}
