//! Start-up errors, graceful shutdown and the connection limit (SPEC §2, §6).

mod common;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use spindle::StartError;

#[test]
fn address_in_use_is_a_start_error() {
    let srv = TestServer::start();
    let addr = srv.addr;
    match TestServer::try_with(|c| c.binds = vec![addr]) {
        Err(e @ StartError::AddrInUse(_)) => {
            assert_eq!(e.to_string(), format!("address {addr} is already in use"));
        }
        Err(e) => panic!("expected AddrInUse, got {e}"),
        Ok(_) => panic!("a second server bound the same port"),
    }
    srv.assert_alive();
}

#[test]
fn root_must_be_a_directory() {
    let scratch = ScratchDir::new("root-file");
    let file = scratch.write("root", b"not a directory");
    let result = TestServer::try_with(|c| c.root = file);
    match result {
        Err(e @ StartError::NotADirectory(_)) => {
            assert!(e.to_string().contains("is not a directory"), "{e}");
        }
        Err(e) => panic!("expected NotADirectory, got {e}"),
        Ok(_) => panic!("started with a file as ROOT"),
    }
    let missing = std::env::temp_dir().join("spindle-test-no-such-dir/x/y");
    assert!(TestServer::try_with(|c| c.root = missing).is_err());
}

#[test]
fn shutdown_finishes_responses_in_flight() {
    let mut srv = TestServer::with(|c| c.shutdown_grace = Duration::from_secs(3));
    let mut c = srv.connect();
    c.send(get("/-/delay/300").as_bytes());
    std::thread::sleep(Duration::from_millis(50));
    let t = Instant::now();
    srv.begin_shutdown();
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"Hello, World!");
    assert!(
        r.says_close(),
        "a response during shutdown should say close"
    );
    c.assert_closed();
    srv.shutdown_and_join().expect("run returned an error");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

#[test]
fn shutdown_closes_idle_connections_at_once() {
    let mut srv = TestServer::with(|c| c.shutdown_grace = Duration::from_secs(5));
    let mut idle = srv.connect();
    assert_eq!(idle.request(get("/-/plaintext").as_bytes()).status, 200);
    let silent = srv.connect();
    let t = Instant::now();
    srv.shutdown_and_join().expect("run returned an error");
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "idle connections held the shutdown for {:?}",
        t.elapsed()
    );
    idle.assert_closed();
    drop(silent);
}

#[test]
fn shutdown_grace_cuts_long_responses() {
    let mut srv = TestServer::with(|c| c.shutdown_grace = Duration::from_millis(300));
    let mut c = srv.connect();
    c.send(get("/-/delay/10000").as_bytes());
    std::thread::sleep(Duration::from_millis(50));
    let t = Instant::now();
    srv.shutdown_and_join().expect("run returned an error");
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(250), "{took:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
    // The cut connection is closed, without a response.
    let rest = c.try_read_to_close().unwrap_or_default();
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
}

#[test]
fn no_new_connections_after_shutdown() {
    let mut srv = TestServer::start();
    let addr = srv.addr;
    srv.shutdown_and_join().unwrap();
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
        "the listener is still open after shutdown"
    );
}

#[test]
fn max_connections_pauses_accepting_until_one_closes() {
    let srv = TestServer::with(|c| c.max_connections = 2);
    let mut a = srv.connect();
    let mut b = srv.connect();
    assert_eq!(a.request(get("/-/bytes/1").as_bytes()).body, b"A");
    assert_eq!(b.request(get("/-/bytes/2").as_bytes()).body, b"AB");
    // A third client gets through the kernel's backlog but is not served while two are open.
    let mut third = srv.connect();
    third.send(get("/-/bytes/3").as_bytes());
    third.assert_silent_for(Duration::from_millis(300));
    // The open ones keep being served.
    assert_eq!(a.request(get("/-/plaintext").as_bytes()).status, 200);
    // Closing one lets the waiting client in, without it having to send anything new.
    drop(b);
    let t = Instant::now();
    let r = third.read_response();
    assert_eq!(r.body, b"ABC");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    drop(a);
    drop(third);
    srv.assert_alive();
}

/// Panics for `/boom`, answers "ok" otherwise.
struct Boom;

impl spindle::Handler for Boom {
    fn handle(
        &mut self,
        req: &spindle::Request<'_>,
        _cx: &spindle::Context<'_>,
    ) -> spindle::Action {
        if req.path == b"/boom" {
            panic!("a handler bug");
        }
        spindle::Action::Respond(spindle::Response::new(
            200,
            "text/plain",
            spindle::Body::Static(b"ok"),
        ))
    }
}

#[test]
fn a_panicking_handler_costs_one_500_and_that_connection_only() {
    let config = spindle::Config {
        binds: vec!["127.0.0.1:0".parse().unwrap()],
        root: empty_root(),
        shutdown_grace: Duration::from_millis(500),
        ..spindle::Config::default()
    };
    let server = spindle::Server::with_handler(&config, Box::new(Boom)).unwrap();
    let addr = server.local_addrs()[0];
    let handle = server.shutdown_handle();
    let join = std::thread::spawn(move || server.run());

    let ok = b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut bystander = Client::connect(addr);
    assert_eq!(bystander.request(ok).body, b"ok");
    for _ in 0..3 {
        let mut victim = Client::connect(addr);
        // The request after the panicking one is never served: the connection closes.
        victim.send(b"GET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n");
        let r = victim.read_response();
        assert_eq!(r.status, 500);
        assert!(r.says_close());
        victim.assert_closed();
        // The kept-alive bystander and new clients carry on.
        assert_eq!(bystander.request(ok).body, b"ok");
        assert_eq!(Client::connect(addr).request(ok).body, b"ok");
    }
    handle.shutdown();
    join.join().unwrap().unwrap();
}

#[test]
fn shutdown_gives_a_client_not_yet_heard_from_a_moment_for_its_first_request() {
    let mut srv = TestServer::with(|c| c.shutdown_grace = Duration::from_secs(5));
    let mut fresh = srv.connect();
    std::thread::sleep(Duration::from_millis(100)); // accepted by now
    srv.begin_shutdown();
    std::thread::sleep(Duration::from_millis(50));
    // Its request was on its way when the drain began (as in a restart): it is answered.
    fresh.send(get("/-/plaintext").as_bytes());
    let r = fresh.read_response();
    assert_eq!((r.status, r.body.as_slice()), (200, &b"Hello, World!"[..]));
    assert!(r.says_close(), "the last answer of a draining server");
    let t = Instant::now();
    srv.shutdown_and_join().expect("run returned an error");
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
}
