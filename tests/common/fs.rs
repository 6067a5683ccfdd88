//! Scratch directories and FIFOs.

/// An empty scratch directory: with it as ROOT, every path outside `/-/` is 404.
pub fn empty_root() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("spindle-test-empty-root-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Makes a FIFO at `path` (removing whatever was there).
pub fn mkfifo(path: &std::path::Path) {
    use std::os::unix::ffi::OsStrExt;
    let _ = std::fs::remove_file(path);
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}
