//! From a request path to a file under ROOT, safely: percent-decode once, normalise `.` and
//! `..` without ever climbing above ROOT, hide dotfiles, and confine symlinks to ROOT.

use crate::http::token::hex_value;
use std::ffi::OsStr;
use std::fs::{self, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// What a request path names.
#[derive(Debug)]
pub enum Resolved {
    /// A regular file: its real path (symlinks resolved) and metadata.
    File { path: PathBuf, meta: Metadata },
    /// A directory: its real path, and whether the request path ended with `/`.
    Dir { path: PathBuf, slash: bool },
}

/// Why a path names nothing we will serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResolveError {
    /// Not a path at all: a bad `%` escape, a NUL byte, or `..` above ROOT (400).
    BadPath,
    /// Absent, hidden, outside ROOT, or not a regular file or directory (404). Deliberately one
    /// answer, so that a client cannot probe what exists outside or behind.
    NotFound,
}

/// The directory being served, canonicalised once at start-up.
#[derive(Clone, Debug)]
pub struct Root {
    real: PathBuf,
}

impl Root {
    pub fn new(path: &Path) -> io::Result<Root> {
        Ok(Root {
            real: fs::canonicalize(path)?,
        })
    }

    pub fn path(&self) -> &Path {
        &self.real
    }

    /// Resolves the (still percent-encoded) path of a request target.
    pub fn resolve(&self, raw: &[u8], show_hidden: bool) -> Result<Resolved, ResolveError> {
        let decoded = percent_decode(raw)?;
        let (relative, slash) = normalise(&decoded, show_hidden)?;
        let joined = self.real.join(OsStr::from_bytes(&relative));
        // The real path, with every symlink resolved: it must still be inside ROOT.
        let real = fs::canonicalize(&joined).map_err(|_| ResolveError::NotFound)?;
        if !real.starts_with(&self.real) {
            return Err(ResolveError::NotFound);
        }
        let meta = fs::metadata(&real).map_err(|_| ResolveError::NotFound)?;
        if meta.is_dir() {
            Ok(Resolved::Dir { path: real, slash })
        } else if meta.is_file() && !slash {
            Ok(Resolved::File { path: real, meta })
        } else {
            // A FIFO, socket or device; or a file addressed as if it were a directory.
            Err(ResolveError::NotFound)
        }
    }
}

/// Decodes `%XX` escapes, once: `%252e` becomes `%2e`, never `.`. A NUL byte (raw or `%00`)
/// or a malformed escape is refused. Other bytes, backslash and non-UTF-8 included, are kept
/// as they are: file names on Unix are bytes.
pub fn percent_decode(raw: &[u8]) -> Result<Vec<u8>, ResolveError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        let byte = if b == b'%' {
            let hi = raw.get(i + 1).and_then(|&h| hex_value(h));
            let lo = raw.get(i + 2).and_then(|&l| hex_value(l));
            match (hi, lo) {
                (Some(hi), Some(lo)) => {
                    i += 2;
                    hi << 4 | lo
                }
                _ => return Err(ResolveError::BadPath),
            }
        } else {
            b
        };
        if byte == 0 {
            return Err(ResolveError::BadPath);
        }
        out.push(byte);
        i += 1;
    }
    Ok(out)
}

/// Splits a decoded absolute path into segments, drops empty ones and `.`, applies `..` (an
/// attempt to climb above ROOT is refused), and refuses dotfiles unless `show_hidden`. Returns
/// the relative path (segments joined by `/`) and whether the path ended with `/`.
pub fn normalise(path: &[u8], show_hidden: bool) -> Result<(Vec<u8>, bool), ResolveError> {
    if path.first() != Some(&b'/') {
        return Err(ResolveError::BadPath);
    }
    let mut segments: Vec<&[u8]> = Vec::new();
    for seg in path.split(|&b| b == b'/') {
        match seg {
            b"" | b"." => {}
            b".." => {
                segments.pop().ok_or(ResolveError::BadPath)?;
            }
            _ if seg[0] == b'.' && !show_hidden => return Err(ResolveError::NotFound),
            _ => segments.push(seg),
        }
    }
    // `/a/.` and `/a/..` name directories just as `/a/` does (RFC 3986 dot-segment removal).
    let last = path.rsplit(|&b| b == b'/').next().unwrap_or_default();
    let slash = matches!(last, b"" | b"." | b"..");
    Ok((segments.join(&b'/'), slash))
}

/// The one spelling under which a directory is served: decoded, dot-segments removed, no empty
/// segment, and a final `/` (`/docs/.`, `/docs//`, `//x/../docs` all give `/docs/`). Listings
/// and index files are answered only there, so that their relative links resolve and no
/// spelling can reach what another one hides.
pub fn dir_form(raw: &[u8], show_hidden: bool) -> Result<Vec<u8>, ResolveError> {
    let (relative, _) = normalise(&percent_decode(raw)?, show_hidden)?;
    let mut form = Vec::with_capacity(relative.len() + 2);
    form.push(b'/');
    if !relative.is_empty() {
        form.extend_from_slice(&relative);
        form.push(b'/');
    }
    Ok(form)
}

/// `path` with every byte outside RFC 3986's unreserved set and `/` as `%XX`: visible ASCII
/// only, so it can go into a header, and it decodes back to exactly `path`.
pub fn percent_encode_path(path: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(path.len() + 8);
    for &b in path {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn decodes_once() {
        assert_eq!(percent_decode(b"/a%20b").unwrap(), b"/a b");
        assert_eq!(percent_decode(b"/%2e%2E").unwrap(), b"/..");
        assert_eq!(percent_decode(b"/%252e").unwrap(), b"/%2e");
        assert_eq!(percent_decode(b"/a\\b").unwrap(), b"/a\\b");
        assert_eq!(percent_decode(b"/%c0%ae").unwrap(), b"/\xc0\xae");
        assert_eq!(percent_decode(b"/%00"), Err(ResolveError::BadPath));
        assert_eq!(percent_decode(b"/a\0"), Err(ResolveError::BadPath));
        assert_eq!(percent_decode(b"/%zz"), Err(ResolveError::BadPath));
        assert_eq!(percent_decode(b"/%2"), Err(ResolveError::BadPath));
    }

    #[test]
    fn normalises_without_climbing() {
        let n = |p: &[u8]| normalise(p, false);
        assert_eq!(n(b"/"), Ok((b"".to_vec(), true)));
        assert_eq!(n(b"/a/./b//c/"), Ok((b"a/b/c".to_vec(), true)));
        assert_eq!(n(b"/a/../b"), Ok((b"b".to_vec(), false)));
        assert_eq!(n(b"/a/."), Ok((b"a".to_vec(), true)));
        assert_eq!(n(b"/a/b/.."), Ok((b"a".to_vec(), true)));
        assert_eq!(n(b"/.."), Err(ResolveError::BadPath));
        assert_eq!(n(b"/a/../../etc/passwd"), Err(ResolveError::BadPath));
        assert_eq!(n(b"a"), Err(ResolveError::BadPath));
        assert_eq!(n(b"/.git/config"), Err(ResolveError::NotFound));
        assert_eq!(n(b"/a/.env"), Err(ResolveError::NotFound));
        assert_eq!(normalise(b"/a/.env", true), Ok((b"a/.env".to_vec(), false)));
        // `..%2f` decodes to `../`: the same rules apply after decoding.
        let d = percent_decode(b"/a/..%2f..%2fetc").unwrap();
        assert_eq!(n(&d), Err(ResolveError::BadPath));
    }

    #[test]
    fn directories_have_one_form() {
        let f = |p: &[u8]| dir_form(p, false).map(|v| String::from_utf8(v).unwrap());
        assert_eq!(f(b"/").unwrap(), "/");
        assert_eq!(f(b"/.").unwrap(), "/");
        assert_eq!(f(b"/docs").unwrap(), "/docs/");
        assert_eq!(f(b"/docs/.").unwrap(), "/docs/");
        assert_eq!(f(b"/docs/%2e").unwrap(), "/docs/");
        assert_eq!(f(b"/docs/sub/..").unwrap(), "/docs/");
        assert_eq!(f(b"//evil.example/../docs").unwrap(), "/docs/");
        assert_eq!(f(b"/\\evil.example/../docs").unwrap(), "/docs/");
        assert_eq!(f(b"/a%20b//c").unwrap(), "/a b/c/");
        assert_eq!(f(b"/.."), Err(ResolveError::BadPath));
        assert_eq!(
            percent_encode_path(b"/a b/\\x/\xc3\xa9/"),
            "/a%20b/%5Cx/%C3%A9/"
        );
        assert_eq!(percent_encode_path(b"/-._~09AZaz/"), "/-._~09AZaz/");
    }

    /// A scratch ROOT with a file, a directory, a hidden file, and symlinks in and out.
    fn scratch() -> (PathBuf, PathBuf, Root) {
        let base = std::env::temp_dir().join(format!(
            "spindle-resolve-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&base);
        let root = base.join("root");
        let outside = base.join("outside");
        fs::create_dir_all(root.join("dir/sub")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(root.join("file.txt"), b"hello").unwrap();
        fs::write(root.join("dir/sub/deep.txt"), b"deep").unwrap();
        fs::write(root.join(".hidden"), b"secret").unwrap();
        fs::write(root.join("back\\slash"), b"bs").unwrap();
        fs::write(outside.join("secret.txt"), b"outside").unwrap();
        symlink(root.join("file.txt"), root.join("inside-link")).unwrap();
        symlink(outside.join("secret.txt"), root.join("out-file")).unwrap();
        symlink(&outside, root.join("out-dir")).unwrap();
        symlink(&outside, root.join("dir/sub/deep-out")).unwrap();
        let r = Root::new(&root).unwrap();
        (base, root, r)
    }

    #[test]
    fn resolves_inside_root_only() {
        let (base, _root, r) = scratch();
        let file = |p: &[u8]| matches!(r.resolve(p, false), Ok(Resolved::File { .. }));
        assert!(file(b"/file.txt"));
        assert!(file(b"/dir/sub/deep.txt"));
        assert!(file(b"/dir/../file.txt"));
        assert!(file(b"/inside-link"));
        assert!(file(b"/back%5Cslash"));
        assert!(matches!(
            r.resolve(b"/dir", false),
            Ok(Resolved::Dir { slash: false, .. })
        ));
        assert!(matches!(
            r.resolve(b"/dir/", false),
            Ok(Resolved::Dir { slash: true, .. })
        ));
        assert!(matches!(
            r.resolve(b"/", false),
            Ok(Resolved::Dir { slash: true, .. })
        ));
        for nope in [
            &b"/missing"[..],
            b"/.hidden",
            b"/%2ehidden",
            b"/out-file",
            b"/out-dir/secret.txt",
            b"/out-dir/",
            b"/dir/sub/deep-out/secret.txt",
            b"/file.txt/",
            b"/%c0%ae%c0%ae/outside/secret.txt",
            b"/..%5c..%5coutside%5csecret.txt",
        ] {
            assert_eq!(
                r.resolve(nope, false).err(),
                Some(ResolveError::NotFound),
                "{}",
                String::from_utf8_lossy(nope)
            );
        }
        for bad in [
            &b"/../outside/secret.txt"[..],
            b"/%2e%2e/outside/secret.txt",
            b"/..%2foutside",
            b"/%00",
        ] {
            assert_eq!(
                r.resolve(bad, false).err(),
                Some(ResolveError::BadPath),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(matches!(
            r.resolve(b"/.hidden", true),
            Ok(Resolved::File { .. })
        ));
        fs::remove_dir_all(base).unwrap();
    }

    #[test]
    fn only_regular_files() {
        let (base, root, r) = scratch();
        let fifo = root.join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
        // SAFETY: mkfifo reads a NUL-terminated path we own.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        assert_eq!(
            r.resolve(b"/fifo", false).err(),
            Some(ResolveError::NotFound)
        );
        assert_eq!(
            r.resolve(b"/dev-null", false).err(),
            Some(ResolveError::NotFound)
        );
        symlink("/dev/null", root.join("dev-null")).unwrap();
        assert_eq!(
            r.resolve(b"/dev-null", false).err(),
            Some(ResolveError::NotFound)
        );
        fs::remove_dir_all(base).unwrap();
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn piece() -> impl Strategy<Value = Vec<u8>> {
            prop_oneof![
                Just(b"..".to_vec()),
                Just(b".".to_vec()),
                Just(b"%2e%2e".to_vec()),
                Just(b"%2E.".to_vec()),
                Just(b"%2f".to_vec()),
                Just(b"%5c".to_vec()),
                Just(b"\\".to_vec()),
                Just(b"%c0%ae".to_vec()),
                Just(b"%00".to_vec()),
                Just(b"%252e".to_vec()),
                Just(b"out".to_vec()),
                Just(b"dir".to_vec()),
                Just(b"sub".to_vec()),
                Just(b"file.txt".to_vec()),
                Just(b".hidden".to_vec()),
                proptest::collection::vec(any::<u8>(), 0..4),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            /// Whatever the path, what resolves is inside ROOT.
            #[test]
            fn nothing_resolves_outside_root(pieces in proptest::collection::vec(piece(), 0..8)) {
                let (base, root_dir, r) = scratch();
                let mut raw = Vec::new();
                for p in &pieces {
                    raw.push(b'/');
                    raw.extend_from_slice(p);
                }
                let root_real = fs::canonicalize(&root_dir).unwrap();
                match r.resolve(&raw, false) {
                    Ok(Resolved::File { path, .. }) | Ok(Resolved::Dir { path, .. }) => {
                        prop_assert!(path.starts_with(&root_real), "{:?} escaped to {:?}", String::from_utf8_lossy(&raw), path);
                    }
                    Err(_) => {}
                }
                fs::remove_dir_all(base).unwrap();
            }
        }
    }
}
