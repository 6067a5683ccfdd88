//! The `Host` grammar (RFC 9112 §3.2, RFC 3986 §3.2.2), for the `Host` field and the authority
//! of an absolute-form target. It runs on every request, so it is one pass over the bytes.

use crate::http::token::table;

/// RFC 3986 reg-name characters: unreserved, sub-delims, and `%` (of a pct-encoded triplet).
static REG_NAME: [bool; 256] = table(b"-._~!$&'()*+,;=%");
/// [`REG_NAME`] but `%`, which starts a triplet.
static PLAIN: [bool; 256] = table(b"-._~!$&'()*+,;=");

/// Longest `Host` value [`KnownHost`] remembers.
const KNOWN_HOST: usize = 64;

/// The last `Host` value found valid. A client sends the same `Host` on every request, so the
/// next one usually costs a comparison of a few bytes instead of the grammar (a tenth of the
/// user-space work of a pipelined request). It answers exactly as [`valid_host`] does: only a
/// valid value is ever remembered.
pub struct KnownHost {
    /// `bytes[..len]` is a valid host, or `len` is more than `bytes` holds (nothing known).
    len: usize,
    bytes: [u8; KNOWN_HOST],
}

impl Default for KnownHost {
    fn default() -> Self {
        KnownHost {
            len: KNOWN_HOST + 1,
            bytes: [0; KNOWN_HOST],
        }
    }
}

impl KnownHost {
    /// [`valid_host`], remembering the value when it is valid and short enough.
    pub fn valid(&mut self, v: &[u8]) -> bool {
        if v.len() == self.len && self.bytes.get(..v.len()) == Some(v) {
            return true;
        }
        if !valid_host(v) {
            return false;
        }
        if let Some(slot) = self.bytes.get_mut(..v.len()) {
            slot.copy_from_slice(v);
            self.len = v.len();
        }
        true
    }
}

/// A `Host` value or an absolute-form authority (RFC 9112 §3.2, RFC 3986 §3.2.2):
/// `uri-host [ ":" port ]`, uri-host an IP-literal (`[` IPv6address or IPvFuture `]`), an
/// IPv4address or a reg-name (an IPv4 address is a reg-name too, syntactically), port digits
/// worth at most 65535. The empty port RFC 3986 allows (`host:`) is accepted; an empty host
/// is not (RFC 9110 §4.2.1). No userinfo. An empty *value* is the caller's to allow.
pub fn valid_host(v: &[u8]) -> bool {
    let (host_ok, port) = if let Some(rest) = v.strip_prefix(b"[") {
        let Some(close) = rest.iter().position(|&b| b == b']') else {
            return false;
        };
        let port = match &rest[close + 1..] {
            [] => None,
            [b':', port @ ..] => Some(port),
            _ => return false,
        };
        (ip_literal(&rest[..close]), port)
    } else {
        return reg_name_and_port(v);
    };
    host_ok && port.is_none_or(valid_port)
}

/// `reg-name [ ":" port ]`. This runs on every request: plain name characters are found in one
/// tight pass, and only a name with a `%` in it takes the slower walk.
fn reg_name_and_port(v: &[u8]) -> bool {
    let plain = v
        .iter()
        .position(|&b| !PLAIN[usize::from(b)])
        .unwrap_or(v.len());
    match v.get(plain) {
        None => plain > 0,
        Some(b':') => plain > 0 && valid_port(&v[plain + 1..]),
        Some(b'%') => pct_reg_name_and_port(v),
        Some(_) => false,
    }
}

/// [`reg_name_and_port`] for a name with pct-encoded triplets in it.
fn pct_reg_name_and_port(v: &[u8]) -> bool {
    let mut i = 0;
    loop {
        while i < v.len() && PLAIN[usize::from(v[i])] {
            i += 1;
        }
        match v.get(i) {
            None => return i > 0,
            Some(b':') => return i > 0 && valid_port(&v[i + 1..]),
            Some(b'%') => match v.get(i + 1..i + 3) {
                Some([a, b]) if a.is_ascii_hexdigit() && b.is_ascii_hexdigit() => i += 3,
                _ => return false,
            },
            Some(_) => return false,
        }
    }
}

/// What is between the brackets: an IPv6address or `v` 1*HEXDIG `.` 1*( unreserved /
/// sub-delims / `:` ). (No zone identifier: RFC 9110 does not allow one in a URI.)
fn ip_literal(a: &[u8]) -> bool {
    if let [b'v' | b'V', rest @ ..] = a {
        let Some(dot) = rest.iter().position(|&b| b == b'.') else {
            return false;
        };
        let (ver, tail) = (&rest[..dot], &rest[dot + 1..]);
        return !ver.is_empty()
            && ver.iter().all(u8::is_ascii_hexdigit)
            && !tail.is_empty()
            && tail
                .iter()
                .all(|&b| b != b'%' && (REG_NAME[usize::from(b)] || b == b':'));
    }
    // Only hex digits, colons and dots get as far as the standard library's parser, which
    // takes exactly RFC 4291's text forms (with a dotted-quad tail): those of RFC 3986.
    a.iter()
        .all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        && std::str::from_utf8(a).is_ok_and(|s| s.parse::<std::net::Ipv6Addr>().is_ok())
}

/// `*DIGIT`, worth at most 65535 (empty is allowed: RFC 3986 §3.2.3; so are leading zeros).
fn valid_port(p: &[u8]) -> bool {
    let zeros = p.iter().take_while(|&&b| b == b'0').count();
    let digits = &p[zeros..];
    // Five digits or fewer, all of them digits; a fifth digit only up to 65535 (equal lengths of
    // digits compare as their values do).
    digits.len() <= 5
        && digits.iter().all(u8::is_ascii_digit)
        && (digits.len() < 5 || digits <= b"65535".as_slice())
}
