//! This machine's interface addresses (`getifaddrs(3)`), for the `reachable at` lines printed
//! under a wildcard listener at start-up: the URLs a user can type on a phone.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The addresses a client could reach a listener on `bound` (`0.0.0.0:P` or `[::]:P`) at, with
/// its port: one per local interface address of the same family, loopback included, in the
/// order the system gives them, without duplicates. IPv6 link-local addresses (`fe80::/10`)
/// are left out: they need a zone (`%eth0`) that browsers do not accept in a URL. Empty for a
/// specific address, or if the system will not say.
pub fn reachable(bound: SocketAddr) -> Vec<SocketAddr> {
    if !bound.ip().is_unspecified() {
        return Vec::new();
    }
    let mut out: Vec<SocketAddr> = Vec::new();
    for ip in local_addresses() {
        let same_family = ip.is_ipv4() == bound.is_ipv4();
        let link_local = matches!(ip, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80);
        let at = SocketAddr::new(ip, bound.port());
        if same_family && !link_local && !out.contains(&at) {
            out.push(at);
        }
    }
    out
}

/// Every IPv4 and IPv6 address on this machine's interfaces (empty if `getifaddrs` fails).
fn local_addresses() -> Vec<IpAddr> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: `getifaddrs` fills `head` with a list it allocated, freed below exactly once.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list, valid until `freeifaddrs`.
        let ifa = unsafe { &*cur };
        // SAFETY: a non-null `ifa_addr` points at a sockaddr of the family it names.
        if let Some(ip) = unsafe { ip_of(ifa.ifa_addr) } {
            out.push(ip);
        }
        cur = ifa.ifa_next;
    }
    // SAFETY: `head` came from `getifaddrs` and is not used after this.
    unsafe { libc::freeifaddrs(head) };
    out
}

/// The IP address in `sa`, if it is an IPv4 or IPv6 one.
///
/// # Safety
/// `sa` is null or points at a sockaddr as large as its `sa_family` says.
unsafe fn ip_of(sa: *const libc::sockaddr) -> Option<IpAddr> {
    if sa.is_null() {
        return None;
    }
    match i32::from(unsafe { (*sa).sa_family }) {
        libc::AF_INET => {
            let v4 = unsafe { &*(sa as *const libc::sockaddr_in) };
            Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(v4.sin_addr.s_addr))))
        }
        libc::AF_INET6 => {
            let v6 = unsafe { &*(sa as *const libc::sockaddr_in6) };
            Some(IpAddr::V6(Ipv6Addr::from(v6.sin6_addr.s6_addr)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_under_a_wildcard_and_nothing_under_a_specific_address() {
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let got = reachable(any);
        assert!(got.contains(&"127.0.0.1:8080".parse().unwrap()), "{got:?}");
        assert!(got.iter().all(|a| a.is_ipv4() && a.port() == 8080));
        assert!(reachable("127.0.0.1:8080".parse().unwrap()).is_empty());
        assert!(reachable("[::1]:8080".parse().unwrap()).is_empty());
        let v6 = reachable("[::]:9".parse().unwrap());
        assert!(v6.iter().all(|a| a.is_ipv6() && a.port() == 9), "{v6:?}");
        let link_local = |a: &SocketAddr| a.to_string().to_lowercase().starts_with("[fe8");
        assert!(!v6.iter().any(link_local), "{v6:?}");
    }
}
