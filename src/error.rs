//! Errors that stop the server from starting, each with the one-line reason users see.
//! (Errors of a single request are statuses: see `http::parse::ParseError::status`.)

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug)]
pub enum StartError {
    AddrInUse(SocketAddr),
    Bind(SocketAddr, io::Error),
    NotADirectory(PathBuf),
    Root(PathBuf, io::Error),
    /// `--access-log PATH` cannot be opened.
    AccessLog(String, io::Error),
    Io(&'static str, io::Error),
    /// A combination of settings spindle cannot serve (yet).
    Unsupported(&'static str),
    /// The TLS certificate or key cannot be used (the line names the file and why).
    Tls(String),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::AddrInUse(a) => write!(f, "address {a} is already in use"),
            StartError::Bind(a, e) => write!(f, "cannot listen on {a}: {e}"),
            StartError::NotADirectory(p) => write!(f, "ROOT {} is not a directory", p.display()),
            StartError::Root(p, e) => write!(f, "ROOT {}: {e}", p.display()),
            StartError::AccessLog(p, e) => write!(f, "access log {p}: {}", bare(e)),
            StartError::Io(what, e) => write!(f, "{what}: {e}"),
            StartError::Unsupported(what) => f.write_str(what),
            StartError::Tls(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for StartError {}

/// `No such file or directory`, without std's ` (os error 2)` tail.
fn bare(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) if s.ends_with(')') => s[..i].to_owned(),
        _ => s,
    }
}
