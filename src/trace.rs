//! Who a trace line is about. Every connection gets a [`Tag`], `w1 c37`: its worker and a
//! serial number unique across workers and never reused (a slab key is reused at once, so a
//! reader following `c37` under load would otherwise follow several clients). `--trace-conn`
//! narrows the narration to the connections a [`TraceFilter`] picks; the check is made once,
//! at accept, so each line costs one branch on a field when tracing is off.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A connection's name in the log.
#[derive(Clone, Copy, Debug)]
pub struct Tag {
    /// 1-based, as the worker threads are named.
    pub worker: usize,
    pub serial: u64,
    /// Its steps are narrated at trace level (false only for those `--trace-conn` leaves out).
    pub traced: bool,
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "w{} c{}", self.worker, self.serial)
    }
}

/// The server-wide source of serials, shared by every worker (and by a worker made again).
#[derive(Clone, Debug, Default)]
pub struct Serials(Arc<AtomicU64>);

impl Serials {
    /// The next serial: 1, 2, 3… Relaxed is enough: only uniqueness matters, not order.
    pub fn next(&self) -> u64 {
        self.0.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// `--trace-conn`: a serial (`37` or `c37`), a peer address (`127.0.0.1:50312`) or a peer IP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceFilter {
    Serial(u64),
    Peer(SocketAddr),
    Ip(IpAddr),
}

impl TraceFilter {
    pub fn picks(&self, serial: u64, peer: SocketAddr) -> bool {
        match *self {
            TraceFilter::Serial(s) => s == serial,
            TraceFilter::Peer(p) => p == peer,
            TraceFilter::Ip(ip) => ip == peer.ip(),
        }
    }
}

impl FromStr for TraceFilter {
    type Err = String;

    fn from_str(s: &str) -> Result<TraceFilter, String> {
        let digits = s.strip_prefix('c').unwrap_or(s);
        if let Ok(n) = digits.parse::<u64>() {
            return Ok(TraceFilter::Serial(n));
        }
        if let Ok(p) = s.parse::<SocketAddr>() {
            return Ok(TraceFilter::Peer(p));
        }
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(TraceFilter::Ip(ip));
        }
        Err(format!(
            "'{s}' is not a connection serial (37, c37), a peer address (127.0.0.1:50312) or an IP"
        ))
    }
}

/// Narrates one step of a connection at trace level, as `w1 c37 ReadingHead <what>`: its tag,
/// the state it is in, and the step. Nothing is formatted unless the line will be printed.
#[macro_export]
macro_rules! narrate {
    ($tag:expr, $state:expr, $($arg:tt)+) => {
        if $tag.traced {
            log::trace!("{} {} {}", $tag, $state, format_args!($($arg)+));
        }
    };
}

/// A connection's line at debug level (`-v`: accepted, closed, I/O errors), as `w1 c37 <what>`;
/// left out, like its narration, for connections `--trace-conn` does not pick.
#[macro_export]
macro_rules! conn_debug {
    ($tag:expr, $($arg:tt)+) => {
        if $tag.traced {
            log::debug!("{} {}", $tag, format_args!($($arg)+));
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_pick() {
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let other: SocketAddr = "127.0.0.2:5000".parse().unwrap();
        for (arg, picks_peer) in [("37", false), ("c37", false)] {
            let f: TraceFilter = arg.parse().unwrap();
            assert_eq!(f, TraceFilter::Serial(37));
            assert!(f.picks(37, other));
            assert_eq!(f.picks(36, peer), picks_peer);
        }
        let f: TraceFilter = "127.0.0.1:5000".parse().unwrap();
        assert!(f.picks(1, peer) && !f.picks(1, other));
        assert!(!f.picks(1, "127.0.0.1:5001".parse().unwrap()));
        let f: TraceFilter = "127.0.0.1".parse().unwrap();
        assert!(f.picks(1, "127.0.0.1:9".parse().unwrap()) && !f.picks(1, other));
        assert!("c".parse::<TraceFilter>().is_err());
        assert!("host:80".parse::<TraceFilter>().is_err());
    }

    #[test]
    fn serials_are_shared_and_never_repeat() {
        let a = Serials::default();
        let b = a.clone();
        assert_eq!((a.next(), b.next(), a.next()), (1, 2, 3));
        let tag = Tag {
            worker: 2,
            serial: 37,
            traced: true,
        };
        assert_eq!(tag.to_string(), "w2 c37");
    }
}
