//! A TCP echo server on bare mio: the event loop spindle is built on, with nothing else.
//!
//! What it shows: one `Poll`; a `Slab` of connections whose key *is* the `Token` (the
//! listener has a reserved token no slab key can take); each socket registered for
//! READABLE|WRITABLE once, at accept, and never re-registered; accepting, reading and
//! writing each until `WouldBlock`, as edge-triggered readiness demands; a per-connection
//! pending-output buffer that resumes on the next writable event; and half-close: when the
//! client shuts its write side, what is still owed is flushed, then the connection closes.
//!
//! Run: `cargo run --example mio_echo -- [ADDR]` (default 127.0.0.1:8000; port 0 picks one),
//! then e.g. `nc 127.0.0.1 8000`. The first stdout line is `listening on http://ADDR/`.
//!
//! Left out: timeouts (an idle client stays forever), a limit on connections, accept errors
//! such as EMFILE (they end this program), graceful shutdown. (Pending output stays bounded
//! because nothing more is read while any is owed: a client that never reads is simply no
//! longer read from, and TCP flow control pushes back on it.)
//!
//! In spindle: `Reactor::run`, `Reactor::dispatch_events`, `Reactor::accept` and
//! `Reactor::add_conn` in src/reactor.rs (the `WAKER` and `LISTENER_BASE` tokens are reserved
//! like `LISTENER` here); `Conn::read_in`, `Conn::write_out` and `Conn::drive` in src/conn.rs;
//! `Buffers::fill` and `Buffers::flush` in src/conn/buffers.rs.

use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use slab::Slab;

/// The listener's token: far from 0, where the slab hands out its keys.
const LISTENER: Token = Token(usize::MAX);

struct Conn {
    sock: TcpStream,
    /// Bytes read but not yet written back.
    pending: Vec<u8>,
    /// The client has shut its write side (read returned 0).
    peer_done: bool,
}

fn main() -> io::Result<()> {
    let addr = std::env::args().nth(1);
    let addr: SocketAddr = (addr.as_deref().unwrap_or("127.0.0.1:8000").parse())
        .map_err(|e| io::Error::new(ErrorKind::InvalidInput, e))?;
    let mut listener = TcpListener::bind(addr)?;
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    // The first line of stdout, flushed: scripts and tests wait for it.
    println!("listening on http://{}/", listener.local_addr()?);
    io::stdout().flush()?;

    let mut conns: Slab<Conn> = Slab::new();
    let mut events = Events::with_capacity(1024);
    loop {
        match poll.poll(&mut events, None) {
            Err(e) if e.kind() != ErrorKind::Interrupted => return Err(e),
            _ => {}
        }
        for event in events.iter() {
            if event.token() == LISTENER {
                accept_all(&listener, &poll, &mut conns)?;
                continue;
            }
            let key = event.token().0;
            // An event may name a connection closed earlier in this same batch.
            let Some(conn) = conns.get_mut(key) else {
                continue;
            };
            // Edge-triggered: an event says "something changed", not "exactly one read
            // is possible". We don't need to look at which readiness it reports: `drive`
            // tries both directions until the kernel says WouldBlock, which is the only
            // way to be sure another event will come when the socket is ready again.
            if !drive(conn) {
                let mut conn = conns.remove(key);
                // Deregistering before the drop is tidy; dropping the socket closes it.
                let _ = poll.registry().deregister(&mut conn.sock);
            }
        }
    }
}

/// Accepts until WouldBlock: one readable event on the listener may stand for many waiting
/// connections, and no further event comes for those already queued.
fn accept_all(listener: &TcpListener, poll: &Poll, conns: &mut Slab<Conn>) -> io::Result<()> {
    loop {
        match listener.accept() {
            Ok((mut sock, _peer)) => {
                let entry = conns.vacant_entry();
                // Register both interests once: with edge triggering, the writable edge
                // simply comes when the send buffer frees up, so there is no need to
                // re-register for WRITABLE only while output is pending.
                poll.registry().register(
                    &mut sock,
                    Token(entry.key()),
                    Interest::READABLE | Interest::WRITABLE,
                )?;
                entry.insert(Conn {
                    sock,
                    pending: Vec::new(),
                    peer_done: false,
                });
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // ECONNABORTED and the like: that one connection is gone; keep accepting.
            Err(e) if e.kind() == ErrorKind::ConnectionAborted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Reads and writes until both would block. Returns false when the connection is done.
fn drive(conn: &mut Conn) -> bool {
    let mut buf = [0u8; 16 * 1024];
    loop {
        // Write first: what is owed goes out before more is read.
        if !flush(conn) {
            return false;
        }
        if conn.peer_done {
            // Half-closed by the client: once everything is written back, close.
            return !conn.pending.is_empty();
        }
        if !conn.pending.is_empty() {
            // The socket would not take all of it: stop reading (otherwise a client that
            // sends without reading makes `pending` grow without bound while this loop
            // spins). The next writable event resumes here.
            return true;
        }
        match conn.sock.read(&mut buf) {
            Ok(0) => conn.peer_done = true,
            Ok(n) => conn.pending.extend_from_slice(&buf[..n]),
            // Drained: the next readable edge brings us back.
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// Writes `pending` until it is empty or the socket would block. False on a write error.
fn flush(conn: &mut Conn) -> bool {
    while !conn.pending.is_empty() {
        match conn.sock.write(&conn.pending) {
            Ok(0) => return false,
            Ok(n) => {
                conn.pending.drain(..n);
            }
            // Full send buffer: keep the rest; a writable event comes when there is room.
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    true
}
