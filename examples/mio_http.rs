//! A minimal HTTP/1.1 server on bare mio: the shape of spindle's connections, in one file.
//!
//! Shows: a per-connection `State` (Reading, Writing, Closing, Lingering); partial reads, the
//! search for the blank line that ends a head resuming where the last one stopped; httparse
//! once a head is complete; a head over 8 KiB is 431, a malformed one 400 (both then close);
//! `GET /` and `HEAD /` are 200 "Hello, World!\n", all else 404; pipelining (every complete
//! request in the buffer is answered into one output buffer, then written at once); a 64 KiB
//! high-water mark on that buffer (no more parsing or reading until it drains); partial
//! writes resumed on writable; keep-alive (HTTP/1.1 unless `Connection: close`; HTTP/1.0 only
//! with `Connection: keep-alive`).
//!
//! Run: `cargo run --example mio_http -- [ADDR]` (default 127.0.0.1:8000; port 0 picks one),
//! then `curl -v http://127.0.0.1:8000/`. The first stdout line is `listening on http://ADDR/`.
//!
//! Leaves out: request bodies (`Content-Length` other than 0, or any `Transfer-Encoding`, is
//! 501 and close: the body is never read), timeouts (idle, slow and lingering clients stay),
//! `Date`/`Server` headers, bare-LF line ends, connection limits, graceful shutdown.
//! examples/mio_echo.rs explains the event loop (tokens, edge triggering).
//!
//! In spindle: `State`, `Conn::drive`, `Conn::read_in`, `Conn::write_out` and `Conn::serve` in
//! src/conn.rs; `head_end` and `serve_head` in src/conn/request.rs (the incremental `scan` in
//! src/http/parse/scan.rs); `parse_head` and `Summary::keep_alive` in src/http/parse.rs;
//! `Limits::max_head` in src/conn.rs (`--max-head`, 32 KiB there); `OUT_HIGH` in src/buf.rs;
//! `Reactor::accept` in src/reactor.rs.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use slab::Slab;

const LISTENER: Token = Token(usize::MAX);
/// The largest head accepted, blank line included.
const MAX_HEAD: usize = 8 * 1024;
/// Stop parsing requests while this much output is owed.
const OUT_HIGH: usize = 64 * 1024;

#[derive(PartialEq)]
enum State {
    /// Taking requests: reading, parsing every complete head, answering.
    Reading,
    /// Over the high-water mark: only writing, until the output drains.
    Writing,
    /// The last response is queued: write it, then shut our write side.
    Closing,
    /// Write side shut; read and discard until the client closes, so that a client still
    /// sending does not get a reset (which can destroy the response before it reads it).
    Lingering,
}

struct Conn {
    sock: TcpStream,
    state: State,
    input: Vec<u8>,
    /// How far into `input` the search for "\r\n\r\n" has already looked.
    scanned: usize,
    output: Vec<u8>,
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
                loop {
                    match listener.accept() {
                        Ok((mut sock, _)) => {
                            let entry = conns.vacant_entry();
                            let interest = Interest::READABLE | Interest::WRITABLE;
                            poll.registry()
                                .register(&mut sock, Token(entry.key()), interest)?;
                            entry.insert(Conn {
                                sock,
                                state: State::Reading,
                                input: Vec::new(),
                                scanned: 0,
                                output: Vec::new(),
                            });
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == ErrorKind::ConnectionAborted => {}
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
            } else if let Some(conn) = conns.get_mut(event.token().0) {
                // Edge-triggered: drive both ways until WouldBlock, whatever the event says.
                if !drive(conn) {
                    let mut conn = conns.remove(event.token().0);
                    let _ = poll.registry().deregister(&mut conn.sock);
                }
            }
        }
    }
}

/// Writes, answers and reads until the socket would block. False: close the connection.
fn drive(conn: &mut Conn) -> bool {
    let mut buf = [0u8; 16 * 1024];
    loop {
        while !conn.output.is_empty() {
            match conn.sock.write(&conn.output) {
                Ok(0) => return false,
                Ok(n) => drop(conn.output.drain(..n)),
                // A partial write: the rest waits for the next writable event.
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        let drained = conn.output.is_empty();
        if conn.state == State::Writing && drained {
            conn.state = State::Reading; // drained below the high-water mark: parse again
        }
        match conn.state {
            State::Writing | State::Closing if !drained => return true, // wait for writable
            State::Closing => match conn.sock.shutdown(Shutdown::Write) {
                Ok(()) => conn.state = State::Lingering,
                Err(_) => return false,
            },
            // Answered something: write it (all the answers in one go) before reading more.
            State::Reading => {
                if answer_all(conn) {
                    continue;
                }
            }
            State::Writing | State::Lingering => {}
        }
        match conn.sock.read(&mut buf) {
            Ok(0) => match conn.state {
                State::Lingering => return false,
                _ => conn.state = State::Closing,
            },
            Ok(_) if conn.state == State::Lingering => {} // discarded
            Ok(n) => conn.input.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// Answers every complete head in `input`, until one closes the connection, the output
/// reaches its high-water mark, or only a partial head (or nothing) is left. Returns whether
/// anything changed (a response queued, or a new state).
fn answer_all(conn: &mut Conn) -> bool {
    let mut start = 0; // the heads before `start` are answered; dropped from `input` at the end
    while conn.state == State::Reading {
        if conn.output.len() >= OUT_HIGH {
            conn.state = State::Writing; // resumes (where it stopped) once the output drains
            break;
        }
        let rest = &conn.input[start..];
        // The blank line may straddle the previous search's end: back up 3 bytes.
        let from = conn.scanned.saturating_sub(3);
        match rest[from..].windows(4).position(|w| w == b"\r\n\r\n") {
            Some(i) if from + i + 4 <= MAX_HEAD => {
                let keep_alive = respond(&rest[..from + i + 4], &mut conn.output);
                start += from + i + 4;
                conn.scanned = 0;
                if !keep_alive {
                    conn.state = State::Closing;
                }
            }
            None if rest.len() <= MAX_HEAD => {
                conn.scanned = rest.len();
                break;
            }
            _ => {
                error(&mut conn.output, "431 Request Header Fields Too Large");
                conn.state = State::Closing;
            }
        }
    }
    conn.input.drain(..start);
    start > 0 || conn.state != State::Reading
}

/// Appends the response to one complete head; returns whether the connection stays open.
fn respond(head: &[u8], out: &mut Vec<u8>) -> bool {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) | Err(_) => return error(out, "400 Bad Request"),
    }
    let (mut close, mut keep, mut has_body) = (false, false, false);
    for h in req.headers.iter() {
        if h.name.eq_ignore_ascii_case("connection") {
            for token in h.value.split(|&b| b == b',') {
                close |= token.trim_ascii().eq_ignore_ascii_case(b"close");
                keep |= token.trim_ascii().eq_ignore_ascii_case(b"keep-alive");
            }
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            has_body = true;
        } else if h.name.eq_ignore_ascii_case("content-length") {
            has_body |= h.value != b"0"; // a length (or garbage) other than 0: a body
        }
    }
    if has_body {
        // Its body is never read, so what follows in `input` could not be parsed as heads.
        return error(out, "501 Not Implemented");
    }
    let http10 = req.version == Some(0);
    let keep_alive = !close && (!http10 || keep);
    let method = req.method.unwrap_or("");
    let (status, body): (&str, &[u8]) = match (method, req.path) {
        ("GET" | "HEAD", Some("/")) => ("200 OK", b"Hello, World!\n"),
        _ => ("404 Not Found", b"Not Found\n"),
    };
    let connection = match (keep_alive, http10) {
        (false, _) => "Connection: close\r\n",
        (true, true) => "Connection: keep-alive\r\n",
        (true, false) => "",
    };
    put(out, status, body, connection, method == "HEAD");
    keep_alive
}

/// Appends an error response that closes the connection; returns false (not kept alive).
fn error(out: &mut Vec<u8>, status: &str) -> bool {
    let body = format!("{}\n", &status[4..]);
    put(out, status, body.as_bytes(), "Connection: close\r\n", false);
    false
}

/// Appends a response: status line, headers, then the body unless it answers a HEAD.
fn put(out: &mut Vec<u8>, status: &str, body: &[u8], connection: &str, head_only: bool) {
    let len = body.len();
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {len}\r\n{connection}\r\n"
    );
    out.extend_from_slice(head.as_bytes());
    if !head_only {
        out.extend_from_slice(body);
    }
}
