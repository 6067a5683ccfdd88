//! Who may write: a state-changing request is refused when it comes from another site's page
//! (an `Origin` that is not this server) or names a host that is not this machine (DNS
//! rebinding: a page at `evil.example` whose name now resolves to 127.0.0.1 sends
//! `Host: evil.example`). Pure functions of the header bytes.

use std::net::{Ipv4Addr, Ipv6Addr};

/// The names a `Host` may carry besides IP literals: `localhost`, this machine's hostname and
/// every `--allow-host`, lower-cased; and the other origins allowed to write
/// (`--allow-origin`).
#[derive(Clone, Debug, Default)]
pub struct Hosts {
    names: Vec<String>,
    origins: Vec<String>,
}

/// Why a write was refused (403, the reason in the body).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrossSite {
    /// A name that is not this machine's (DNS rebinding).
    Host,
    /// `Origin: null` (a sandboxed page, a `file:` page, a redirect across sites).
    NullOrigin,
    /// An `Origin` of another site.
    Origin,
}

impl CrossSite {
    pub fn reason(self) -> &'static str {
        match self {
            CrossSite::Host => {
                "write refused: Host is not an IP address, localhost or this machine's name (see --allow-host)\n"
            }
            CrossSite::NullOrigin => "cross-site write refused: Origin is null\n",
            CrossSite::Origin => "cross-site write refused: Origin does not match Host\n",
        }
    }
}

impl Hosts {
    /// `localhost`, `hostname` (this machine's, if known) and `extra` (`--allow-host`).
    pub fn new(hostname: Option<&str>, extra: &[String]) -> Hosts {
        Hosts::with_origins(hostname, extra, &[])
    }

    /// [`Hosts::new`], and `origins` (`--allow-origin`) may write as if they were this
    /// server's own.
    pub fn with_origins(hostname: Option<&str>, extra: &[String], origins: &[String]) -> Hosts {
        let mut names: Vec<String> = ["localhost"]
            .into_iter()
            .chain(hostname)
            .chain(extra.iter().map(String::as_str))
            .map(str::to_ascii_lowercase)
            .collect();
        names.sort();
        names.dedup();
        Hosts {
            names,
            origins: origins.to_vec(),
        }
    }

    /// Whether a write naming `host` (a `Host` value or absolute-form authority, already found
    /// valid by the parser) and carrying `origin` may go on. No `Host` (HTTP/1.0) is no
    /// browser's (browsers always send one): it passes, unless an `Origin` says otherwise.
    pub fn check(
        &self,
        host: Option<&[u8]>,
        origin: Option<&[u8]>,
        scheme: super::Scheme,
    ) -> Result<(), CrossSite> {
        let Some(host) = host else {
            return match origin {
                None => Ok(()),
                Some(_) => Err(CrossSite::Origin),
            };
        };
        let (name, port) = split_port(host).ok_or(CrossSite::Host)?;
        if !self.allowed(name) {
            return Err(CrossSite::Host);
        }
        match origin {
            None => Ok(()),
            Some(b"null") => Err(CrossSite::NullOrigin),
            Some(o)
                if self
                    .origins
                    .iter()
                    .any(|a| a.as_bytes().eq_ignore_ascii_case(o)) =>
            {
                Ok(())
            }
            Some(o) => match o
                .get(..scheme.prefix().len())
                .filter(|s| s.eq_ignore_ascii_case(scheme.prefix()))
                .and_then(|_| split_port(&o[scheme.prefix().len()..]))
            {
                Some((o_name, o_port)) if o_name.eq_ignore_ascii_case(name) && o_port == port => {
                    Ok(())
                }
                _ => Err(CrossSite::Origin),
            },
        }
    }

    /// An IP literal, or one of the names.
    fn allowed(&self, name: &[u8]) -> bool {
        let Ok(name) = std::str::from_utf8(name) else {
            return false;
        };
        if let Some(v6) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
            return v6.parse::<Ipv6Addr>().is_ok();
        }
        name.parse::<Ipv4Addr>().is_ok() || self.names.iter().any(|n| n.eq_ignore_ascii_case(name))
    }
}

/// Checks one `--allow-origin` (clap's value parser): `http://` or `https://`, a host, a port
/// if any, nothing after (an origin has no path), as browsers send it in `Origin`.
pub fn parse_origin(s: &str) -> Result<String, String> {
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))
        .ok_or_else(|| format!("'{s}' is not an origin: it must start with http:// or https://"))?;
    let ok = split_port(rest.as_bytes()).is_some_and(|(name, _)| {
        name.iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"-.[]:".contains(&b))
    });
    match ok {
        true => Ok(s.to_ascii_lowercase()),
        false => Err(format!(
            "'{s}' is not an origin (scheme://host[:port], no path)"
        )),
    }
}

/// `name[:port]` → the name and the port (80 when none is given, or an empty one).
/// `None` if the port is not a number up to 65535.
pub(super) fn split_port(v: &[u8]) -> Option<(&[u8], u16)> {
    // An IPv6 literal's colons are inside its brackets.
    let after = v.iter().rposition(|&b| b == b']').map_or(0, |i| i + 1);
    let (name, port) = match v[after..].iter().position(|&b| b == b':') {
        Some(i) => (&v[..after + i], &v[after + i + 1..]),
        None => (v, &b""[..]),
    };
    let port = match port {
        b"" => 80,
        p if p.len() <= 5 => u16::try_from(crate::http::token::parse_decimal(p)?).ok()?,
        _ => return None,
    };
    (!name.is_empty()).then_some((name, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Scheme::Http;
    use proptest::prelude::*;

    fn hosts() -> Hosts {
        Hosts::new(Some("Box"), &["files.lan".into()])
    }

    fn check(host: &str, origin: Option<&str>) -> Result<(), CrossSite> {
        hosts().check(Some(host.as_bytes()), origin.map(str::as_bytes), Http)
    }

    #[test]
    fn this_machine_may_write() {
        for host in [
            "127.0.0.1:8080",
            "10.0.0.7",
            "[::1]:8080",
            "[fe80::1]",
            "localhost:80",
            "LOCALHOST",
            "box:8080",
            "files.lan",
        ] {
            assert_eq!(check(host, None), Ok(()), "{host}");
        }
        assert_eq!(
            check("127.0.0.1:8080", Some("http://127.0.0.1:8080")),
            Ok(())
        );
        assert_eq!(check("localhost", Some("HTTP://LocalHost:80")), Ok(()));
        assert_eq!(check("localhost:", Some("http://localhost")), Ok(()));
        assert_eq!(check("[::1]:81", Some("http://[::1]:81")), Ok(()));
    }

    #[test]
    fn other_sites_may_not() {
        use CrossSite::*;
        for (host, origin, why) in [
            ("evil.example:8080", None, Host), // DNS rebinding
            ("evil.example", Some("http://evil.example"), Host),
            ("127.0.0.1.evil.example", None, Host),
            ("localhost.evil.example", None, Host),
            ("127.1", None, Host),
            ("[v1.x]", None, Host),
            ("localhost:99999", None, Host),
            ("127.0.0.1:8080", Some("http://evil.example"), Origin), // a cross-site form
            ("127.0.0.1:8080", Some("http://127.0.0.1:8081"), Origin),
            ("127.0.0.1:8080", Some("https://127.0.0.1:8080"), Origin),
            ("127.0.0.1:8080", Some("http://127.0.0.1:8080/"), Origin),
            ("127.0.0.1:8080", Some("http://127.0.0.1"), Origin),
            ("127.0.0.1:8080", Some("127.0.0.1:8080"), Origin),
            ("localhost:8080", Some("http://127.0.0.1:8080"), Origin),
            ("127.0.0.1:8080", Some("null"), NullOrigin),
        ] {
            assert_eq!(check(host, origin), Err(why), "{host} {origin:?}");
        }
        assert_eq!(
            hosts().check(None, None, Http),
            Ok(()),
            "HTTP/1.0, no Host: not a browser"
        );
        let origin = Some(&b"http://127.0.0.1"[..]);
        assert_eq!(hosts().check(None, origin, Http), Err(Origin));
    }

    #[test]
    fn allowed_origins_may_write_from_elsewhere() {
        let hosts = Hosts::with_origins(None, &[], &["http://localhost:3000".into()]);
        let check =
            |origin: &str| hosts.check(Some(b"127.0.0.1:8080"), Some(origin.as_bytes()), Http);
        assert_eq!(check("http://localhost:3000"), Ok(()));
        assert_eq!(check("HTTP://LOCALHOST:3000"), Ok(()));
        assert_eq!(check("http://localhost:3001"), Err(CrossSite::Origin));
        // The Host must still be this machine's.
        let rebound = hosts.check(Some(b"evil.example"), Some(b"http://localhost:3000"), Http);
        assert_eq!(rebound, Err(CrossSite::Host));
        assert_eq!(
            parse_origin("https://App.example:8443"),
            Ok("https://app.example:8443".into())
        );
        assert_eq!(
            parse_origin("http://[::1]:3000"),
            Ok("http://[::1]:3000".into())
        );
        for bad in [
            "app.example",
            "http://",
            "http://a/b",
            "http://a:x",
            "ftp://a",
            "http://a b",
            "null",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        /// Any bytes: no panic; an accepted Origin always names the Host's own port.
        #[test]
        fn no_input_panics(host in "[a-z0-9.:\\[\\]]{0,20}", origin in "(http://)?[a-z0-9.:\\[\\]/]{0,20}") {
            let r = hosts().check(Some(host.as_bytes()), Some(origin.as_bytes()), Http);
            if r.is_ok() {
                prop_assert!(origin.len() >= 7);
                prop_assert_eq!(split_port(host.as_bytes()).map(|p| p.1), split_port(&origin.as_bytes()[7..]).map(|p| p.1));
            }
        }
    }
}
