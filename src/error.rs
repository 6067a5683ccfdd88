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
    Io(&'static str, io::Error),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::AddrInUse(a) => write!(f, "address {a} is already in use"),
            StartError::Bind(a, e) => write!(f, "cannot listen on {a}: {e}"),
            StartError::NotADirectory(p) => write!(f, "ROOT {} is not a directory", p.display()),
            StartError::Root(p, e) => write!(f, "ROOT {}: {e}", p.display()),
            StartError::Io(what, e) => write!(f, "{what}: {e}"),
        }
    }
}

impl std::error::Error for StartError {}
