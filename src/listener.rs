//! Listening sockets, built with socket2 because `mio::net::TcpListener::bind` fixes the backlog
//! at 128 and leaves `IPV6_V6ONLY` to the system; and the process's descriptor limit.

use std::io;
use std::net::SocketAddr;

use mio::net::TcpListener;
use socket2::{Domain, Protocol, Socket, Type};

use crate::error::StartError;

const BACKLOG: i32 = 4096;

/// A non-blocking listener on `addr`. `reuse_port` only for several reactors sharing a port.
pub fn bind(addr: SocketAddr, reuse_port: bool) -> Result<TcpListener, StartError> {
    let fail = |e: io::Error| {
        if e.kind() == io::ErrorKind::AddrInUse {
            StartError::AddrInUse(addr)
        } else {
            StartError::Bind(addr, e)
        }
    };
    let socket =
        Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)).map_err(fail)?;
    if addr.is_ipv6() {
        // So that [::]:8080 and 0.0.0.0:8080 can be bound side by side.
        socket.set_only_v6(true).map_err(fail)?;
    }
    socket.set_reuse_address(true).map_err(fail)?;
    if reuse_port {
        socket.set_reuse_port(true).map_err(fail)?;
    }
    socket.set_nonblocking(true).map_err(fail)?;
    socket.bind(&addr.into()).map_err(fail)?;
    socket.listen(BACKLOG).map_err(fail)?;
    Ok(TcpListener::from_std(socket.into()))
}

/// `n` listeners on `addr`, one per worker, in one `SO_REUSEPORT` group so that the kernel
/// spreads new connections over them; one plain listener when `n` is 1 and `reuse_port` (the
/// `--reuse-port` option) is off. Port 0: the first listener picks the port, the others join it.
///
/// Before a group is formed the address is probed with a plain bind: a port held by another
/// server (even one with `SO_REUSEPORT` set) fails "already in use" instead of being shared by
/// accident. `--reuse-port` skips the probe on purpose, to take over from a running spindle.
pub fn bind_group(
    addr: SocketAddr,
    n: usize,
    reuse_port: bool,
) -> Result<Vec<TcpListener>, StartError> {
    if n <= 1 && !reuse_port {
        return Ok(vec![bind(addr, false)?]);
    }
    if !reuse_port && addr.port() != 0 {
        drop(bind(addr, false)?);
    }
    let first = bind(addr, true)?;
    let addr = first.local_addr().map_err(|e| StartError::Bind(addr, e))?;
    let mut group = vec![first];
    for _ in 1..n {
        group.push(bind(addr, true)?);
    }
    Ok(group)
}

/// The first descriptor systemd passes (`SD_LISTEN_FDS_START`).
const LISTEN_FDS_START: i32 = 3;

/// Listeners inherited through systemd socket activation (`LISTEN_PID` is this process and
/// `LISTEN_FDS` counts the descriptors from 3), if there are any: `None` when the variables are
/// not for us. Each must be a listening TCP socket; it is made non-blocking.
pub fn inherited() -> Option<Result<Vec<TcpListener>, StartError>> {
    let pid: u32 = std::env::var("LISTEN_PID").ok()?.parse().ok()?;
    if pid != std::process::id() {
        return None;
    }
    let n: i32 = std::env::var("LISTEN_FDS").ok()?.parse().ok()?;
    // Taken once, as sd_listen_fds(1) does: the descriptors are ours now.
    std::env::remove_var("LISTEN_PID");
    std::env::remove_var("LISTEN_FDS");
    if n < 1 {
        return Some(Err(StartError::Io(
            "LISTEN_FDS",
            io::Error::other("systemd passed no sockets"),
        )));
    }
    Some(
        (LISTEN_FDS_START..LISTEN_FDS_START.saturating_add(n))
            .map(adopt)
            .collect(),
    )
}

/// Descriptor `fd`, passed to us by systemd, as a listener.
fn adopt(fd: i32) -> Result<TcpListener, StartError> {
    let fail = |e: io::Error| StartError::Io("LISTEN_FDS", e);
    // SAFETY: systemd passes these descriptors for this process to own (LISTEN_PID is ours),
    // and nothing else here uses descriptors 3.. before this.
    let socket = unsafe { <Socket as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    if socket.r#type().map_err(fail)? != Type::STREAM || socket.local_addr().is_err() {
        return Err(fail(io::Error::other(format!(
            "descriptor {fd} is not a TCP socket"
        ))));
    }
    socket.set_nonblocking(true).map_err(fail)?;
    Ok(TcpListener::from_std(socket.into()))
}

/// Raises the soft descriptor limit to the hard limit (as Go's runtime does) and returns the
/// soft limit now in force.
pub fn raise_nofile_limit() -> io::Result<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return Err(io::Error::last_os_error());
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
    }
    #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
    Ok(lim.rlim_cur as u64)
}
