//! Step 0 of the staircase: HTTP/1.1 is bytes on a TCP stream, and the hard part is framing.
//!
//! This client speaks raw HTTP/1.1 over a `std::net::TcpStream` and prints every byte it sends
//! (`> `) and receives (`< `), CR and LF shown as `\r\n`, so you can see where one message ends.
//!
//! Run a server (`cargo run -- .` serves the current directory on 127.0.0.1:8080), then:
//!
//! ```text
//! cargo run --example raw_client -- [MODE] [ADDR]      # ADDR defaults to 127.0.0.1:8080
//! ```
//!
//! MODEs, the three ways to find the end of a response, then two ways to get it wrong:
//! - `close`   GET / with `Connection: close`; the end of the body is the end of the stream.
//! - `length`  two GETs on one kept-alive connection: the head's `Content-Length` says where
//!   the first body ends, so the stream can carry a second request.
//! - `chunked` GET /-/stream/3: no length up front; each chunk says its own size, `0` ends it.
//! - `once`    GET /-/bytes/1000000 and a single `read()`: you get what has arrived, a part.
//! - `hang`    a kept-alive GET, then read until close: the response is all there at once, but
//!   the read waits until the server's idle timeout (spindle: `--keep-alive-timeout`, 5 s).
//! - `trickle` GET / written one byte at a time: the server must cope with partial reads.
//!
//! Limits: no TLS, no redirects, no retries, and each mode knows only its own framing.
//! Next: `blocking_server.rs`, the other end of the wire.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "close".to_owned());
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let host = format!("Host: {addr}\r\n");
    let mut stream = TcpStream::connect(&addr)?;
    // Never hang forever, even in `hang` mode (the server should close well before this).
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    println!("* connected to {addr}, mode {mode}");
    match mode.as_str() {
        "close" => {
            send(
                &mut stream,
                &format!("GET / HTTP/1.1\r\n{host}Connection: close\r\n\r\n"),
            )?;
            let all = read_to_close(&mut stream)?;
            show(&all);
            println!("* server closed the connection after {} bytes", all.len());
        }
        "length" => {
            let mut buf = Vec::new();
            for n in 1..=2 {
                send(&mut stream, &format!("GET / HTTP/1.1\r\n{host}\r\n"))?;
                let response = read_length_framed(&mut stream, &mut buf)?;
                show(&response);
                println!(
                    "* response {n}: {} bytes, connection still open",
                    response.len()
                );
            }
        }
        "chunked" => {
            send(
                &mut stream,
                &format!("GET /-/stream/3 HTTP/1.1\r\n{host}\r\n"),
            )?;
            let mut buf = Vec::new();
            let head = read_head(&mut stream, &mut buf)?;
            show(&head);
            read_chunked(&mut stream, &mut buf)?;
            println!("* last chunk read: the body is complete, the connection still open");
        }
        "once" => {
            send(
                &mut stream,
                &format!("GET /-/bytes/1000000 HTTP/1.1\r\n{host}\r\n"),
            )?;
            let mut chunk = vec![0u8; 1 << 16];
            let n = stream.read(&mut chunk)?;
            match find(&chunk[..n], b"\r\n\r\n").map(|i| i + 4) {
                Some(head_end) => {
                    show(&chunk[..head_end]);
                    println!(
                        "* one read() returned {n} bytes: the head and {} of the 1000000 body \
                         bytes",
                        n - head_end
                    );
                }
                None => {
                    show(&chunk[..n]);
                    println!("* one read() returned {n} bytes: not even the whole head");
                }
            }
        }
        "hang" => {
            send(&mut stream, &format!("GET / HTTP/1.1\r\n{host}\r\n"))?;
            let start = Instant::now();
            let mut first = [0u8; 1];
            stream.read_exact(&mut first)?;
            let arrived = start.elapsed().as_secs_f64();
            let mut rest = read_to_close(&mut stream)?;
            rest.insert(0, first[0]);
            show(&rest);
            println!(
                "* response arrived after {arrived:.1}s; read() returned 0 (close) only after \
                 {:.1}s, when the server gave up on the idle connection",
                start.elapsed().as_secs_f64()
            );
        }
        "trickle" => {
            let req = format!("GET / HTTP/1.1\r\n{host}Connection: close\r\n\r\n");
            show_sent(req.as_bytes());
            let mut writes = 0;
            for b in req.as_bytes() {
                stream.write_all(&[*b])?;
                writes += 1;
                thread::sleep(Duration::from_millis(5));
            }
            println!("* sent {} bytes in {writes} writes", req.len());
            show(&read_to_close(&mut stream)?);
            println!("* server closed the connection");
        }
        other => {
            eprintln!("unknown mode {other:?}: close, length, chunked, once, hang or trickle");
            std::process::exit(2);
        }
    }
    Ok(())
}

/// Writes `text` in one write and prints it.
fn send(stream: &mut TcpStream, text: &str) -> io::Result<()> {
    show_sent(text.as_bytes());
    stream.write_all(text.as_bytes())
}

fn show_sent(bytes: &[u8]) {
    print_lines("> ", bytes);
}

fn show(bytes: &[u8]) {
    print_lines("< ", bytes);
}

/// One output line per line of `bytes` (split after each `\n`), control bytes escaped.
fn print_lines(prefix: &str, bytes: &[u8]) {
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        println!("{prefix}{}", line.escape_ascii());
    }
}

/// Everything until the server closes. A reset after the data counts as a close.
fn read_to_close(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut all = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(all),
            Ok(n) => all.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset && !all.is_empty() => {
                return Ok(all)
            }
            Err(e) => return Err(e),
        }
    }
}

/// Reads until the blank line that ends the head; returns the head, leaves the rest in `buf`.
fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<Vec<u8>> {
    let end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        fill(stream, buf)?;
    };
    Ok(buf.drain(..end).collect())
}

/// One response: its head, then exactly Content-Length bytes. Bytes read past it stay in
/// `buf` (they would be the start of the next response).
fn read_length_framed(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<Vec<u8>> {
    let mut response = read_head(stream, buf)?;
    let head = String::from_utf8_lossy(&response).to_string();
    let length = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .ok_or_else(|| io::Error::other("no Content-Length: cannot tell where the body ends"))?;
    while buf.len() < length {
        fill(stream, buf)?;
    }
    response.extend(buf.drain(..length));
    Ok(response)
}

/// A chunked body: `SIZE-IN-HEX\r\n`, SIZE bytes, `\r\n`, again, until a size of 0 (then
/// optional trailers and a blank line).
fn read_chunked(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<()> {
    loop {
        let line = read_line(stream, buf)?;
        let hex = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(hex, 16).map_err(io::Error::other)?;
        println!("* chunk size line {line:?}: {size} bytes follow");
        if size == 0 {
            while !read_line(stream, buf)?.is_empty() {} // trailers, up to the blank line
            return Ok(());
        }
        while buf.len() < size + 2 {
            fill(stream, buf)?;
        }
        show(&buf[..size]);
        buf.drain(..size + 2);
    }
}

/// One CRLF-ended line from `buf` (reading more as needed), without its CRLF.
fn read_line(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<String> {
    let end = loop {
        if let Some(i) = find(buf, b"\r\n") {
            break i;
        }
        fill(stream, buf)?;
    };
    let line = String::from_utf8_lossy(&buf[..end]).into_owned();
    buf.drain(..end + 2);
    Ok(line)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<()> {
    let mut chunk = [0u8; 4096];
    match stream.read(&mut chunk)? {
        0 => Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "closed mid-response",
        )),
        n => {
            buf.extend_from_slice(&chunk[..n]);
            Ok(())
        }
    }
}
