//! HTTPS over real sockets (issue 14): a test CA made here signs a leaf for `localhost`, the
//! server serves it in this process, and a rustls client talks to it. Every kind of response
//! goes through TLS (cached and large files, ranges, listings, generated streams, delays,
//! errors); the handshake is split at every byte, pipelined, reset, stalled, timed out and
//! replaced by garbage; plain HTTP meets the TLS port and TLS the plain one; a thousand
//! handshakes arrive while a keep-alive client is served; and the binary prints its
//! self-signed certificate's fingerprint and refuses certificate files it cannot use.

#![cfg(feature = "tls")]

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use common::tls::{tls_server, TestCa, TlsClient};
use common::*;
use rustls::ClientConnection;

const MIB: usize = 1 << 20;

/// Bytes that are not periodic, so that a byte from the wrong offset shows.
fn file_bytes(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).rotate_left(7) as u8)
        .collect()
}

/// `/-/stats` asked over TLS.
fn tls_stats(ca: &TestCa, srv: &TestServer) -> Stats {
    let r = TlsClient::connect(ca, srv.addr).request(get("/-/stats").as_bytes());
    assert_eq!(r.status, 200);
    Stats::parse(&r.body_str())
}

/// The server still completes a handshake and answers over it.
fn assert_alive_tls(ca: &TestCa, srv: &TestServer) {
    let r = TlsClient::connect(ca, srv.addr).request(get("/-/plaintext").as_bytes());
    assert_eq!((r.status, &r.body[..]), (200, &b"Hello, World!"[..]));
}

/// The client's first flight (its ClientHello), as bytes.
fn client_hello(ca: &TestCa) -> Vec<u8> {
    let mut session = ca.session();
    let mut out = Vec::new();
    while session.wants_write() {
        session.write_tls(&mut out).unwrap();
    }
    out
}

/// A raw socket to `addr` with the usual timeouts.
fn raw(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// Reads until the server closes (`Ok(0)` or a reset): what came before. Fails if the
/// connection is still open after `READ_TIMEOUT`.
fn read_until_closed(s: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut tmp = [0u8; 4096];
    loop {
        match s.read(&mut tmp) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&tmp[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return got,
            Err(e) => panic!("the server did not close the connection: {e}"),
        }
    }
}

/// SO_LINGER 0, then close: an RST.
fn reset(s: TcpStream) {
    socket2::SockRef::from(&s)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
}

#[test]
fn get_head_range_and_put_through_a_rustls_client() {
    let ca = TestCa::new();
    let root = ScratchDir::new("tls-basic");
    let bytes = file_bytes(5000);
    root.write("f.bin", &bytes);
    let srv = tls_server(&ca, |c| {
        c.root = root.path().to_owned();
        c.allow_write = true;
    });
    let mut c = TlsClient::connect(&ca, srv.addr);
    assert_eq!(c.alpn().as_deref(), Some(&b"http/1.1"[..]), "ALPN");

    let r = c.request(get("/f.bin").as_bytes());
    assert_eq!(r.status, 200);
    assert!(r.body == bytes, "GET body differs");

    c.send(head("/f.bin").as_bytes());
    let r = c.read_head_response();
    assert_eq!((r.status, r.content_length()), (200, Some(5000)));

    let r = c.request(&request("GET", "/f.bin", &[("Range", "bytes=1000-1099")]));
    assert_eq!(r.status, 206);
    assert_eq!(r.header("content-range"), Some("bytes 1000-1099/5000"));
    assert!(r.body == bytes[1000..1100], "range body differs");

    // A body of several records in one write: the server must read past the first record.
    // (Scaled down in torture mode, whose one-page socket buffers move ~3 KB per 200 ms.)
    let up = file_bytes(scaled(300_000));
    let len = up.len().to_string();
    let mut put = request("PUT", "/up.bin", &[("Content-Length", &len)]);
    put.extend_from_slice(&up);
    let r = c.request(&put);
    assert!(r.status == 201 || r.status == 204, "PUT: {}", r.status);
    let r = c.request(get("/up.bin").as_bytes());
    assert_eq!(r.status, 200);
    assert!(r.body == up, "the uploaded file reads back different");
    assert!(std::fs::read(root.join("up.bin")).unwrap() == up);
}

#[test]
fn every_kind_of_response_over_tls() {
    let ca = TestCa::new();
    let root = ScratchDir::new("tls-kinds");
    let small = b"small and cached\n".to_vec();
    root.write("small.txt", &small);
    // Over the file cache's limit, and no sendfile under TLS: the copy path.
    let big = file_bytes(scaled(10 * MIB));
    root.write("big.bin", &big);
    root.write("dir/alpha.txt", b"a");
    root.write("dir/beta.txt", b"b");
    let srv = tls_server(&ca, |c| c.root = root.path().to_owned());
    let mut c = TlsClient::connect(&ca, srv.addr);

    for _ in 0..2 {
        let r = c.request(get("/small.txt").as_bytes());
        assert_eq!((r.status, &r.body), (200, &small));
    }
    let r = c.request(get("/big.bin").as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), big.len());
    assert!(r.body == big, "the large file arrived altered");

    let from = big.len() / 2;
    let range = format!("bytes={from}-{}", from + 9999);
    let r = c.request(&request("GET", "/big.bin", &[("Range", &range)]));
    assert_eq!(r.status, 206);
    assert!(
        r.body == big[from..from + 10_000],
        "range of the large file"
    );

    let r = c.request(get("/dir/").as_bytes());
    assert_eq!(r.status, 200);
    let page = r.body_str();
    assert!(
        page.contains("alpha.txt") && page.contains("beta.txt"),
        "{page}"
    );

    let r = c.request(get("/-/bytes/100000").as_bytes());
    assert_eq!(r.status, 200);
    assert!(r.body == pattern(100_000), "/-/bytes");

    let r = c.request(get("/-/stream/5").as_bytes());
    assert_eq!(r.status, 200);
    assert!(r.is_chunked());
    let want: String = (0..5).map(|i| format!("{{\"chunk\":{i}}}\n")).collect();
    assert_eq!(r.body_str(), want);

    let t = Instant::now();
    let r = c.request(get("/-/delay/100").as_bytes());
    assert_eq!((r.status, &r.body[..]), (200, &b"Hello, World!"[..]));
    assert!(
        t.elapsed() >= Duration::from_millis(100),
        "{:?}",
        t.elapsed()
    );

    let r = c.request(get("/no-such-file").as_bytes());
    assert_eq!(r.status, 404);
    // Still in step after all of that.
    let r = c.request(get("/-/plaintext").as_bytes());
    assert_eq!(r.body, b"Hello, World!");

    // A broken head: 400, then the close (cleanly, with close_notify).
    let mut c = TlsClient::connect(&ca, srv.addr);
    c.send(b"GET / HTTP/1.1\r\nHost test\r\n\r\n");
    let r = c.read_response();
    assert_eq!(r.status, 400);
    assert!(c.read_to_close().unwrap().is_empty());
}

#[test]
fn alpn_and_both_protocol_versions() {
    let ca = TestCa::new();
    let srv = tls_server(&ca, |_| {});
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let name = "localhost".try_into().unwrap();
        let session = ClientConnection::new(ca.client_config(&[version]), name).unwrap();
        let mut c = TlsClient::try_connect(session, srv.addr).unwrap();
        assert_eq!(c.tls.conn.protocol_version(), Some(version.version));
        assert_eq!(c.alpn().as_deref(), Some(&b"http/1.1"[..]));
        let r = c.request(get("/-/plaintext").as_bytes());
        assert_eq!(r.body, b"Hello, World!", "{:?}", version.version);
    }
}

/// The client's handshake and request written to the socket one byte at a time, the server's
/// answers read as they come.
fn handshake_bytewise(
    ca: &TestCa,
    addr: SocketAddr,
    version: &'static rustls::SupportedProtocolVersion,
) {
    let name = "localhost".try_into().unwrap();
    let mut tls = ClientConnection::new(ca.client_config(&[version]), name).unwrap();
    let mut sock = raw(addr);
    let mut sent = 0;
    let send_bytewise = |tls: &mut ClientConnection, sock: &mut TcpStream, sent: &mut usize| {
        let mut out = Vec::new();
        while tls.wants_write() {
            tls.write_tls(&mut out).unwrap();
        }
        for b in &out {
            sock.write_all(std::slice::from_ref(b)).unwrap();
            thread::sleep(Duration::from_micros(300));
        }
        *sent += out.len();
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while tls.is_handshaking() {
        assert!(Instant::now() < deadline, "the handshake did not finish");
        send_bytewise(&mut tls, &mut sock, &mut sent);
        if tls.is_handshaking() {
            assert!(tls.read_tls(&mut sock).unwrap() > 0, "closed mid-handshake");
            tls.process_new_packets().unwrap();
        }
    }
    tls.writer()
        .write_all(get("/-/plaintext").as_bytes())
        .unwrap();
    send_bytewise(&mut tls, &mut sock, &mut sent);
    let mut plain = Vec::new();
    while !plain.ends_with(b"Hello, World!") {
        assert!(Instant::now() < deadline, "no response: {plain:?}");
        assert!(
            tls.read_tls(&mut sock).unwrap() > 0,
            "closed before the response"
        );
        tls.process_new_packets().unwrap();
        let _ = tls.reader().read_to_end(&mut plain);
    }
    let text = String::from_utf8_lossy(&plain);
    assert!(text.starts_with("HTTP/1.1 200 "), "{text}");
    assert!(sent > 200, "only {sent} bytes were split");
}

#[test]
fn the_handshake_split_at_every_byte() {
    let ca = TestCa::new();
    let srv = tls_server(&ca, |_| {});
    handshake_bytewise(&ca, srv.addr, &rustls::version::TLS13);
    handshake_bytewise(&ca, srv.addr, &rustls::version::TLS12);
    assert!(tls_stats(&ca, &srv).count("tls_handshakes") >= 2);
}

/// A client with a small receive buffer, so that the server's socket is full whenever it writes.
fn narrow_client(ca: &TestCa, addr: SocketAddr) -> TlsClient {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    sock.connect(&addr.into()).unwrap();
    TlsClient::over(ca.session(), sock.into()).unwrap()
}

#[test]
fn a_slow_reader_gets_every_byte_and_then_close_notify() {
    // The socket is full when a body's last bytes are sealed: the TLS layer holds the last
    // records after the output buffer is empty, and they must still go out, before the next
    // response on a kept-alive connection and before a close.
    let ca = TestCa::new();
    let srv = tls_server(&ca, |_| {});
    let mut c = narrow_client(&ca, srv.addr);
    c.throttle(4096, Duration::from_millis(1));
    let n = scaled(200_000);
    for _ in 0..3 {
        let r = c.request(get(&format!("/-/bytes/{n}")).as_bytes());
        assert!(r.body == pattern(n), "a body arrived altered");
    }
    let req = request("GET", &format!("/-/bytes/{n}"), &[("Connection", "close")]);
    let r = c.request(&req);
    assert!(r.body == pattern(n), "the last body arrived altered");
    match c.fill() {
        Ok(0) => {}
        other => panic!("expected close_notify then the end, got {other:?}"),
    }
}

#[test]
fn fifty_pipelined_requests_answered_in_order() {
    let ca = TestCa::new();
    let srv = tls_server(&ca, |_| {});
    let mut c = TlsClient::connect(&ca, srv.addr);
    let path = |i: usize| format!("/-/bytes/{}", 100 + i * 37);
    // In one record.
    let batch: String = (0..50).map(|i| get(&path(i))).collect();
    c.send(batch.as_bytes());
    for i in 0..50 {
        let r = c.read_response();
        assert!(r.body == pattern(100 + i * 37), "response {i} out of order");
    }
    // Each in a record of its own, all in one write to the socket: more records than one
    // read of rustls takes (4 KiB), each less than the server's buffer. The server must
    // read on past the first records' plaintext, since no new edge comes for the rest.
    let pad = "p".repeat(200);
    for i in 0..50 {
        let req = request("GET", &path(i), &[("X-Pad", &pad)]);
        c.tls.conn.writer().write_all(&req).unwrap();
    }
    let mut wire = Vec::new();
    while c.tls.conn.wants_write() {
        c.tls.conn.write_tls(&mut wire).unwrap();
    }
    assert!(wire.len() > 10_000, "{} B of records", wire.len());
    c.tls.sock.write_all(&wire).unwrap();
    for i in 0..50 {
        let r = c.read_response();
        assert!(r.body == pattern(100 + i * 37), "response {i} out of order");
    }
}

#[test]
fn a_client_that_stops_reading_a_large_file_is_reset_at_the_write_timeout() {
    let ca = TestCa::new();
    let root = ScratchDir::new("tls-stall");
    root.write("big.bin", file_bytes(10 * MIB));
    let srv = tls_server(&ca, |c| {
        c.root = root.path().to_owned();
        c.write_timeout = Duration::from_millis(500);
    });
    let mut stalled = narrow_client(&ca, srv.addr);
    stalled.send(get("/big.bin").as_bytes());
    // Read nothing more: the server's writes stop, and its write timeout fires.
    eventually(Duration::from_secs(5), "a write timeout", || {
        tls_stats(&ca, &srv).count("timeouts") >= 1
    });
    // What it had not read is thrown away: the server resets, no close_notify.
    let mut got = 0;
    let end = loop {
        match stalled.fill() {
            Ok(0) => break None,
            Ok(n) => got += n,
            Err(e) => break Some(e),
        }
    };
    eprintln!("the stalled client read {got} B, then: {end:?}");
    assert!(got < 10 * MIB, "the whole file arrived");
    assert_eq!(end.map(|e| e.kind()), Some(ErrorKind::ConnectionReset));
    assert_alive_tls(&ca, &srv);
}

#[test]
fn resets_mid_handshake_and_mid_body_leave_the_server_serving() {
    let ca = TestCa::new();
    let root = ScratchDir::new("tls-resets");
    root.write("big.bin", file_bytes(scaled(10 * MIB)));
    let srv = tls_server(&ca, |c| c.root = root.path().to_owned());
    let before = tls_stats(&ca, &srv).count("tls_handshake_errors");

    // Half a ClientHello, then a reset.
    let hello = client_hello(&ca);
    let mut s = raw(srv.addr);
    s.write_all(&hello[..hello.len() / 2]).unwrap();
    thread::sleep(Duration::from_millis(50));
    reset(s);
    // A whole ClientHello, the server's flight taken, then a reset instead of Finished.
    let mut s = raw(srv.addr);
    s.write_all(&hello).unwrap();
    let mut first = [0u8; 64];
    assert!(s.read(&mut first).unwrap() > 0, "no ServerHello");
    reset(s);
    eventually(
        Duration::from_secs(5),
        "2 more tls_handshake_errors",
        || tls_stats(&ca, &srv).count("tls_handshake_errors") >= before + 2,
    );

    // In the middle of a body.
    for _ in 0..3 {
        let mut c = TlsClient::connect(&ca, srv.addr);
        c.send(get("/big.bin").as_bytes());
        assert!(c.fill().unwrap() > 0);
        let TlsClient { tls, .. } = c;
        reset(tls.sock);
    }
    assert_alive_tls(&ca, &srv);
    assert_eq!(
        tls_stats(&ca, &srv).count("tls_handshake_errors"),
        before + 2,
        "a reset after the handshake is not a handshake error"
    );
}

#[test]
fn garbage_instead_of_a_client_hello_is_closed_and_counted() {
    let ca = TestCa::new();
    let srv = tls_server(&ca, |_| {});
    let before = tls_stats(&ca, &srv).count("tls_handshake_errors");
    let garbage: [&[u8]; 3] = [
        // A handshake record whose ClientHello is empty.
        &[0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00],
        // 0x16, then nonsense for a version and a length.
        &[0x16, 0xff, 0xff, 0xff, 0xff, 0x00, 0x01, 0x02, 0x03],
        // Not even a record type.
        &[0x00; 64],
    ];
    for (i, bytes) in garbage.iter().enumerate() {
        let mut s = raw(srv.addr);
        s.write_all(bytes).unwrap();
        let answer = read_until_closed(&mut s);
        // Nothing but (perhaps) an alert record: no HTTP.
        assert!(answer.is_empty() || answer[0] == 0x15, "{i}: {answer:?}");
    }
    let after = tls_stats(&ca, &srv).count("tls_handshake_errors");
    assert_eq!(after, before + garbage.len() as u64);
    assert_alive_tls(&ca, &srv);
}

#[test]
fn plain_http_on_the_tls_port_gets_a_plain_400_then_the_close() {
    let ca = TestCa::new();
    let srv = tls_server(&ca, |_| {});
    let mut c = srv.connect();
    c.send(get("/-/plaintext").as_bytes());
    let r = c.read_response();
    assert_eq!(r.status, 400);
    assert!(r.body_str().contains("HTTPS"), "{}", r.body_str());
    c.assert_closed();
    assert_alive_tls(&ca, &srv);
}

#[test]
fn a_client_hello_on_the_plain_port_is_refused_at_once() {
    let ca = TestCa::new();
    let srv = tls_server(&ca, |c| {
        c.plain_binds = vec!["127.0.0.1:0".parse().unwrap()]
    });
    let plain = srv.addrs[1];
    let mut c = Client::connect(plain);
    c.send(&client_hello(&ca));
    let r = c.read_response();
    assert_eq!(r.status, 400);
    c.assert_closed();
    // The plain port serves plain HTTP, the TLS port TLS.
    let r = Client::connect(plain).request(get("/-/plaintext").as_bytes());
    assert_eq!(r.body, b"Hello, World!");
    assert_alive_tls(&ca, &srv);
}

#[test]
fn redirect_https_sends_plain_clients_to_the_tls_port() {
    let ca = TestCa::new();
    let srv = tls_server(&ca, |c| {
        c.plain_binds = vec!["127.0.0.1:0".parse().unwrap()];
        c.redirect_https = true;
    });
    let (tls_port, plain) = (srv.addrs[0].port(), srv.addrs[1]);
    for (host, name) in [
        (format!("localhost:{}", plain.port()), "localhost"),
        ("x".into(), "x"),
    ] {
        let req = format!("GET /a/b.txt?x=1&y=2 HTTP/1.1\r\nHost: {host}\r\n\r\n");
        let r = Client::connect(plain).request(req.as_bytes());
        assert_eq!(r.status, 308);
        let want = format!("https://{name}:{tls_port}/a/b.txt?x=1&y=2");
        assert_eq!(r.header("location"), Some(&want[..]));
    }
    // And the TLS port itself serves.
    assert_alive_tls(&ca, &srv);
}

#[test]
fn connection_close_ends_with_close_notify() {
    let ca = TestCa::new();
    let srv = tls_server(&ca, |_| {});
    let mut c = TlsClient::connect(&ca, srv.addr);
    let r = c.request(&request("GET", "/-/plaintext", &[("Connection", "close")]));
    assert_eq!(r.body, b"Hello, World!");
    // rustls says Ok(0) only after close_notify; a bare FIN is UnexpectedEof.
    match c.fill() {
        Ok(0) => {}
        other => panic!("expected close_notify then the end, got {other:?}"),
    }
}

#[test]
fn a_handshake_that_does_not_finish_within_the_request_timeout_is_closed() {
    let ca = TestCa::new();
    let timeout = Duration::from_millis(600);
    let srv = tls_server(&ca, |c| c.request_timeout = timeout);
    let hello = client_hello(&ca);
    // Half a ClientHello, then nothing; and one trickled a byte every 50 ms.
    let mut half = raw(srv.addr);
    half.write_all(&hello[..hello.len() / 2]).unwrap();
    let t = Instant::now();
    read_until_closed(&mut half);
    let waited = t.elapsed();
    assert!(
        waited >= timeout / 2 && waited < timeout * 4,
        "closed after {waited:?}"
    );

    let mut slow = raw(srv.addr);
    slow.set_nonblocking(true).unwrap();
    let t = Instant::now();
    let mut closed = false;
    for b in &hello {
        if slow.write_all(std::slice::from_ref(b)).is_err() {
            closed = true;
            break;
        }
        let mut tmp = [0u8; 1024];
        match slow.read(&mut tmp) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Ok(n) if n > 0 => {}
            _ => {
                closed = true; // the end of the stream, or a reset
                break;
            }
        }
        thread::sleep(Duration::from_millis(50));
        assert!(
            t.elapsed() < timeout * 6,
            "a trickled handshake outlived the timeout"
        );
    }
    assert!(closed, "the whole trickled ClientHello went through");
    assert!(t.elapsed() < timeout * 4, "closed after {:?}", t.elapsed());
    assert_alive_tls(&ca, &srv);
}

#[test]
fn tls_handshakes_are_counted() {
    let ca = TestCa::new();
    let srv = tls_server(&ca, |_| {});
    let before = tls_stats(&ca, &srv).count("tls_handshakes");
    for _ in 0..5 {
        assert_alive_tls(&ca, &srv);
    }
    // The five, and the connection that asks.
    assert_eq!(tls_stats(&ca, &srv).count("tls_handshakes"), before + 6);
}

/// Connects `n` sockets, waits at `start`, then sends each a ClientHello made beforehand and
/// waits for the server's first flight on each: how long after `start` the last one came.
fn handshake_burst(ca: &TestCa, addr: SocketAddr, n: usize, start: &Barrier) -> Duration {
    let hellos: Vec<Vec<u8>> = (0..n).map(|_| client_hello(ca)).collect();
    let mut socks: Vec<TcpStream> = (0..n).map(|_| raw(addr)).collect();
    start.wait();
    let t = Instant::now();
    for (s, hello) in socks.iter_mut().zip(&hellos) {
        s.write_all(hello).unwrap();
    }
    let mut tmp = [0u8; 4096];
    for s in &mut socks {
        assert!(s.read(&mut tmp).unwrap() > 0, "no ServerHello");
    }
    t.elapsed()
}

#[test]
fn a_keep_alive_client_is_served_promptly_while_a_thousand_handshakes_arrive() {
    let ca = Arc::new(TestCa::new());
    let srv = tls_server(&ca, |_| {});
    let (threads, per_thread) = match torture() {
        true => (4, 50),
        false => (4, 250),
    };
    let mut keep = TlsClient::connect(&ca, srv.addr);
    let start = Arc::new(Barrier::new(threads + 1));
    let burst: Vec<_> = (0..threads)
        .map(|_| {
            let (ca, start, addr) = (ca.clone(), start.clone(), srv.addr);
            thread::spawn(move || handshake_burst(&ca, addr, per_thread, &start))
        })
        .collect();
    start.wait();
    let t = Instant::now();
    let (mut worst, mut asked) = (Duration::ZERO, 0);
    while !burst.iter().all(|b| b.is_finished()) || asked < 10 {
        let at = Instant::now();
        let r = keep.request(get("/-/plaintext").as_bytes());
        assert_eq!(r.body, b"Hello, World!");
        worst = worst.max(at.elapsed());
        asked += 1;
        thread::sleep(Duration::from_millis(3));
    }
    let all = t.elapsed();
    let slowest = burst.into_iter().map(|b| b.join().unwrap()).max().unwrap();
    eprintln!(
        "{} handshakes: the last first flight after {slowest:?} (all done {all:?}); \
         keep-alive client: {asked} requests, worst {worst:?}",
        threads * per_thread
    );
    assert!(
        worst < Duration::from_millis(100),
        "the keep-alive client waited {worst:?} while the handshakes took {slowest:?}"
    );
}

/// The binary with `args`, stdout and stderr piped, and its first two stdout lines (waited
/// for at most `READ_TIMEOUT`).
fn spawn_https(args: &[&str]) -> (std::process::Child, Vec<String>) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let mut lines = std::io::BufReader::new(out).lines();
        let two: Vec<String> = lines.by_ref().take(2).map_while(Result::ok).collect();
        let _ = tx.send(two);
        for _ in lines {} // keep the pipe drained
    });
    match rx.recv_timeout(READ_TIMEOUT) {
        Ok(lines) => (child, lines),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no start-up lines within {READ_TIMEOUT:?}");
        }
    }
}

/// Stops the child; its stderr.
fn stop(mut child: std::process::Child) -> String {
    let _ = child.kill();
    let _ = child.wait();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    err
}

#[test]
fn the_binary_prints_the_self_signed_fingerprint_and_writes_the_certificate() {
    use rustls::pki_types::pem::PemObject;
    use sha2::{Digest, Sha256};
    let dir = ScratchDir::new("tls-self-signed");
    let out = dir.join("cert.pem");
    let root = empty_root();
    let args = [
        "--bind",
        "127.0.0.1:0",
        "--tls-self-signed",
        "--tls-self-signed-out",
    ];
    let mut args: Vec<&str> = args.to_vec();
    args.extend([out.to_str().unwrap(), root.to_str().unwrap()]);
    let (child, lines) = spawn_https(&args);
    assert_eq!(lines.len(), 2, "{lines:?}");
    let addr: SocketAddr = lines[0]
        .strip_prefix("listening on https://")
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("start-up line {:?}", lines[0]))
        .parse()
        .unwrap();
    let fingerprint = lines[1]
        .strip_prefix("  certificate SHA-256 ")
        .unwrap_or_else(|| panic!("second line {:?}", lines[1]));
    let der = rustls::pki_types::CertificateDer::from_pem_file(&out).unwrap();
    let want: Vec<String> = Sha256::digest(&der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert_eq!(fingerprint, want.join(":"));

    // The written certificate is what the server serves: a client that trusts it gets in.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der).unwrap();
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let session = ClientConnection::new(Arc::new(config), "127.0.0.1".try_into().unwrap());
    let mut c = TlsClient::try_connect(session.unwrap(), addr).unwrap();
    assert_eq!(c.request(get("/-/plaintext").as_bytes()).status, 200);
    stop(child);
}

#[test]
fn a_certificate_file_that_cannot_be_used_is_exit_1_naming_it() {
    let ca = TestCa::new();
    let garbage = ca.dir.write("garbage.pem", "not a certificate\n");
    let missing = ca.dir.join("missing.pem");
    let key = ca.key.to_str().unwrap();
    let root = empty_root();
    for cert in [&missing, &garbage] {
        let cert = cert.to_str().unwrap();
        let args = [
            "--bind",
            "127.0.0.1:0",
            "--tls-cert",
            cert,
            "--tls-key",
            key,
        ];
        let mut args = args.to_vec();
        args.push(root.to_str().unwrap());
        let (status, out, err) = run_binary(&args);
        assert_eq!(status.code(), Some(1), "{cert}: {out} {err}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "{err}");
        assert!(lines[0].contains(cert), "{err}");
    }
}

#[test]
fn an_expired_certificate_starts_with_a_warning() {
    let ca = TestCa::with_leaf_dates((2001, 1, 1), (2002, 1, 1));
    let root = empty_root();
    let (cert, key) = (ca.cert.to_str().unwrap(), ca.key.to_str().unwrap());
    let args = [
        "--bind",
        "127.0.0.1:0",
        "--tls-cert",
        cert,
        "--tls-key",
        key,
    ];
    let mut args = args.to_vec();
    args.push(root.to_str().unwrap());
    let (child, lines) = spawn_https(&args);
    assert!(lines[0].starts_with("listening on https://"), "{lines:?}");
    let err = stop(child);
    assert!(
        err.contains("expired on 2002-01-01") && err.contains(cert),
        "{err}"
    );
}

/// `--workers 2` with a TLS and a plain listener: both workers answer on both ports.
#[test]
fn every_worker_serves_every_listener() {
    let ca = TestCa::new();
    let srv = tls_server(&ca, |c| {
        c.workers = 2;
        c.plain_binds = vec!["127.0.0.1:0".parse().unwrap()];
    });
    let worker_of = |body: String| -> usize {
        let digits = &body["{\"worker\":".len()..body.find(',').unwrap()];
        digits.parse().unwrap()
    };
    let (mut over_tls, mut over_plain) = ([false; 2], [false; 2]);
    for _ in 0..40 {
        let r = TlsClient::connect(&ca, srv.addr).request(get("/-/worker").as_bytes());
        over_tls[worker_of(r.body_str()) - 1] = true;
        let r = Client::connect(srv.addrs[1]).request(get("/-/worker").as_bytes());
        over_plain[worker_of(r.body_str()) - 1] = true;
    }
    assert_eq!(over_tls, [true, true], "TLS: 40 connections on one worker");
    assert_eq!(
        over_plain,
        [true, true],
        "plain: 40 connections on one worker"
    );
}
