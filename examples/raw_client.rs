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
//! MODEs:
//! - `close`   GET / with `Connection: close`; the end of the body is the end of the stream.
//! - `length`  two GETs on one kept-alive connection: the head's `Content-Length` says where
//!   the first body ends, so the stream can carry a second request.
//! - `chunked` POST /-/echo with a chunked body: each chunk says its own size, `0` ends it.
//! - `once`    GET / written one byte at a time: the server must cope with partial reads.
//! - `hang`    half a request head, then silence: how long until the server gives up, and how?
//!   (spindle answers 408 and closes after `--request-timeout`, 10 s by default.)
//!
//! Limits: `length` understands only `Content-Length` responses (not chunked ones), and there
//! is no TLS, no redirects, no retries. Next: `blocking_server.rs`, the other end of the wire.

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
            let head = format!(
                "POST /-/echo HTTP/1.1\r\n{host}Content-Type: text/plain\r\n\
                 Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            );
            send(&mut stream, &head)?;
            for piece in ["7\r\nHello, \r\n", "7\r\nWorld!\n\r\n", "0\r\n\r\n"] {
                send(&mut stream, piece)?;
            }
            show(&read_to_close(&mut stream)?);
            println!("* server closed the connection");
        }
        "once" => {
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
        "hang" => {
            send(&mut stream, &format!("GET / HTTP/1.1\r\n{host}"))?;
            println!("* head unfinished; waiting for the server...");
            let start = Instant::now();
            let got = read_to_close(&mut stream);
            let secs = start.elapsed().as_secs_f64();
            match got {
                Ok(bytes) if bytes.is_empty() => {
                    println!("* server closed after {secs:.1}s without a response")
                }
                Ok(bytes) => {
                    show(&bytes);
                    println!("* server answered and closed after {secs:.1}s");
                }
                Err(e) => println!("* after {secs:.1}s: {e}"),
            }
        }
        other => {
            eprintln!("unknown mode {other:?}: close, length, chunked, once or hang");
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

/// One response: read until the blank line ends the head, then exactly Content-Length bytes.
/// Bytes read past it stay in `buf` (they would be the start of the next response).
fn read_length_framed(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<Vec<u8>> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        fill(stream, buf)?;
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .ok_or_else(|| io::Error::other("no Content-Length: cannot tell where the body ends"))?;
    while buf.len() < head_end + length {
        fill(stream, buf)?;
    }
    Ok(buf.drain(..head_end + length).collect())
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
