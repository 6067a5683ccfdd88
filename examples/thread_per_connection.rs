//! Step 2 of the staircase: a thread per connection, so one silent client blocks only itself.
//!
//! The protocol handling is `blocking_server.rs`'s, line for line: keep-alive (HTTP/1.1's
//! default; `Connection: close` and HTTP/1.0 close), pipelining (requests parsed out of a
//! buffer, leftover bytes kept), an 8 KiB head bound (431), 404 and 501, one access-log line
//! per request on stderr. The only change is in `main`: each accepted connection gets its own
//! `std::thread::spawn`, and the kernel's scheduler does the waiting for us.
//!
//! ```text
//! cargo run --example thread_per_connection -- [ADDR]   # default 127.0.0.1:8000; port 0 works
//! ```
//!
//! What it costs: a thread (a kernel task plus a stack, 2 MiB of address space by default) for
//! every open connection, even an idle kept-alive one doing nothing. 10k clients mean 10k
//! threads: memory, scheduler and context-switch overhead grow with idle connections, not with
//! work, and a flood of connections can exhaust the thread limit (`spawn` then fails and we
//! drop the connection). Nothing bounds an idle client either. Next: one thread, many
//! connections, readiness events (mio) - which is what spindle itself is.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;

/// The largest request line + headers we accept (431 beyond).
const MAX_HEAD: usize = 8 * 1024;

fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8000".to_owned());
    let listener = TcpListener::bind(&addr)?;
    println!("listening on http://{}/", listener.local_addr()?);
    io::stdout().flush()?;
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                eprintln!("accept: {e}");
                continue;
            }
        };
        let peer = match stream.peer_addr() {
            Ok(p) => p,
            Err(_) => continue, // Already gone.
        };
        // This connection gets a thread of its own; the accept loop goes straight back.
        let spawned = thread::Builder::new().spawn(move || {
            if let Err(e) = serve(stream, peer) {
                eprintln!("{peer}: {e}");
            }
        });
        if let Err(e) = spawned {
            eprintln!("{peer}: no thread for it ({e}), dropped");
        }
    }
    Ok(())
}

/// What one request asked for, copied out of the buffer so the buffer can move on.
struct Request {
    method: String,
    path: String,
    minor: u8,
    close: bool,
    has_body: bool,
}

/// Serves requests on one connection until either side closes it.
fn serve(mut stream: TcpStream, peer: SocketAddr) -> io::Result<()> {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        // Parse a head out of what we have; read more only when it is incomplete.
        let (req, used) = loop {
            match parse(&buf) {
                Ok(Some((req, used))) if used <= MAX_HEAD => break (req, used),
                Ok(Some(_)) => return refuse(&mut stream, peer, 431),
                Ok(None) if buf.len() > MAX_HEAD => return refuse(&mut stream, peer, 431),
                Ok(None) => {}
                Err(()) => return refuse(&mut stream, peer, 400),
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk)? {
                0 => return Ok(()), // The client closed (perhaps mid-head: nothing to answer).
                n => buf.extend_from_slice(&chunk[..n]),
            }
        };
        // The next pipelined request, if any, starts right after this head.
        buf.drain(..used);

        let head_only = req.method == "HEAD";
        let (status, body): (u16, &[u8]) = match (req.method.as_str(), req.path.as_str()) {
            ("GET" | "HEAD", "/") => (200, b"Hello, World!\n"),
            ("GET" | "HEAD", _) => (404, b"Not Found\n"),
            _ => (501, b"Not Implemented\n"),
        };
        // We never read request bodies, so after one we cannot find the next request: close.
        let close = req.close || req.minor == 0 || status == 501 || req.has_body;
        // Logged before the answer leaves: a client that has its answer finds its line.
        log(peer, &req, status, if head_only { 0 } else { body.len() });
        respond(&mut stream, status, body, head_only, close)?;
        if close {
            return Ok(());
        }
    }
}

/// `Ok(None)`: the head is not complete yet. `Err`: it never will be (malformed).
fn parse(buf: &[u8]) -> Result<Option<(Request, usize)>, ()> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    let used = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(()),
    };
    let mut close = false;
    let mut has_body = false;
    for h in req.headers.iter() {
        let value = String::from_utf8_lossy(h.value);
        if h.name.eq_ignore_ascii_case("connection") {
            close |= value
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("close"));
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            has_body = true;
        } else if h.name.eq_ignore_ascii_case("content-length") {
            has_body |= value.trim() != "0";
        }
    }
    Ok(Some((
        Request {
            method: req.method.unwrap_or("").to_owned(),
            path: req.path.unwrap_or("").to_owned(),
            minor: req.version.unwrap_or(1),
            close,
            has_body,
        },
        used,
    )))
}

/// An error we answer and then close on: the rest of the stream can't be trusted.
fn refuse(stream: &mut TcpStream, peer: SocketAddr, status: u16) -> io::Result<()> {
    let body = format!("{status} {}\n", reason(status));
    eprintln!("{peer} \"-\" {status} {}", body.len());
    respond(stream, status, body.as_bytes(), false, true)
}

fn respond(
    stream: &mut TcpStream,
    status: u16,
    body: &[u8],
    head_only: bool,
    close: bool,
) -> io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{}\r\n",
        reason(status),
        body.len(),
        if close { "Connection: close\r\n" } else { "" }
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(body);
    }
    stream.write_all(&out)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        _ => "Unknown",
    }
}

/// One line per request: `PEER "METHOD PATH HTTP/1.x" STATUS BYTES`.
fn log(peer: SocketAddr, req: &Request, status: u16, bytes: usize) {
    eprintln!(
        "{peer} \"{} {} HTTP/1.{}\" {status} {bytes}",
        req.method, req.path, req.minor
    );
}
