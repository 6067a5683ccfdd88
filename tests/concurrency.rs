//! One thread, many clients (SPEC §1, §5): reactor-timed delays never block other connections,
//! and hundreds of concurrent connections are all served.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::*;

fn raise_fd_limit() {
    // Both ends of every connection live in this process.
    let _ = spindle::listener::raise_nofile_limit();
}

#[test]
fn hundred_concurrent_delays_overlap() {
    raise_fd_limit();
    let srv = TestServer::start();
    let t = Instant::now();
    let mut clients: Vec<Client> = (0..100).map(|_| srv.connect()).collect();
    for c in &mut clients {
        c.send(get("/-/delay/1000").as_bytes());
    }
    for (i, c) in clients.iter_mut().enumerate() {
        let r = c.read_response();
        assert_eq!(r.status, 200, "#{i}");
        assert_eq!(r.body, b"Hello, World!", "#{i}");
    }
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(1000),
        "answered early: {took:?}"
    );
    assert!(
        took < Duration::from_secs(3),
        "100 delays of 1 s took {took:?}: they ran one after another"
    );
}

#[test]
fn hundred_concurrent_delays_from_threads() {
    raise_fd_limit();
    let srv = TestServer::start();
    let addr = srv.addr;
    let t = Instant::now();
    let threads: Vec<_> = (0..100)
        .map(|i| {
            thread::spawn(move || {
                let mut c = Client::connect(addr);
                let ms = 500 + (i % 5) * 100;
                let r = c.request(get(&format!("/-/delay/{ms}")).as_bytes());
                assert_eq!(r.status, 200);
                assert_eq!(r.body, b"Hello, World!");
            })
        })
        .collect();
    for th in threads {
        th.join().expect("client thread failed");
    }
    let took = t.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn delay_does_not_block_other_connections() {
    let srv = TestServer::start();
    let mut slow = srv.connect();
    slow.send(get("/-/delay/2000").as_bytes());
    thread::sleep(Duration::from_millis(50));
    let t = Instant::now();
    let r = srv.get("/-/plaintext");
    let took = t.elapsed();
    assert_eq!(r.status, 200);
    assert!(
        took < Duration::from_millis(500),
        "plaintext took {took:?} behind a delay"
    );
    // The delayed one still arrives, on time.
    let r = slow.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"Hello, World!");
}

#[test]
fn delays_answer_in_deadline_order() {
    let srv = TestServer::start();
    let mut long = srv.connect();
    let mut short = srv.connect();
    long.send(get("/-/delay/600").as_bytes());
    short.send(get("/-/delay/100").as_bytes());
    let t = Instant::now();
    assert_eq!(short.read_response().status, 200);
    let short_took = t.elapsed();
    assert_eq!(long.read_response().status, 200);
    let long_took = t.elapsed();
    assert!(short_took < Duration::from_millis(450), "{short_took:?}");
    assert!(long_took >= Duration::from_millis(500), "{long_took:?}");
}

#[test]
fn pipelined_delay_keeps_order() {
    // A delayed response must not be overtaken by a later pipelined one.
    let srv = TestServer::start();
    let mut c = srv.connect();
    let mut all = get("/-/delay/200").into_bytes();
    all.extend_from_slice(get("/-/bytes/3").as_bytes());
    c.send(&all);
    let r = c.read_response();
    assert_eq!(r.body, b"Hello, World!");
    assert_eq!(c.read_response().body, b"ABC");
}

#[test]
fn large_download_does_not_block_others() {
    let srv = TestServer::start();
    let mut big = srv.connect();
    // 200 MB the client reads only later: the server must not spin on it.
    big.send(get("/-/bytes/200000000").as_bytes());
    thread::sleep(Duration::from_millis(50));
    for _ in 0..5 {
        let t = Instant::now();
        assert_eq!(srv.get("/-/plaintext").status, 200);
        assert!(t.elapsed() < Duration::from_millis(500));
    }
}

#[test]
fn five_hundred_concurrent_keep_alive_connections() {
    raise_fd_limit();
    let srv = TestServer::start();
    let before = srv.stats();
    let mut clients: Vec<Client> = (0..500).map(|_| srv.connect()).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        c.send(get(&format!("/-/bytes/{}", i % 97)).as_bytes());
    }
    for (i, c) in clients.iter_mut().enumerate() {
        let r = c.read_response();
        assert_eq!(r.status, 200, "#{i}");
        assert_eq!(r.body, pattern(i % 97), "#{i}");
        assert!(!r.says_close());
    }
    // All of them are still open: a second round on every connection.
    for c in clients.iter_mut() {
        c.send(get("/-/plaintext").as_bytes());
    }
    for (i, c) in clients.iter_mut().enumerate() {
        let r = c.read_response();
        assert_eq!(r.status, 200, "#{i} second request");
    }
    let s = srv.stats();
    assert!(
        s.count("connections_open") >= 500,
        "connections_open {}",
        s.count("connections_open")
    );
    assert!(s.count("connections_total") >= before.count("connections_total") + 500);
    assert!(s.count("requests_total") >= before.count("requests_total") + 1000);
}

#[test]
fn five_hundred_clients_from_threads() {
    raise_fd_limit();
    let srv = TestServer::start();
    let addr = srv.addr;
    let threads: Vec<_> = (0..50)
        .map(|t| {
            thread::spawn(move || {
                let mut clients: Vec<Client> = (0..10).map(|_| Client::connect(addr)).collect();
                for (j, c) in clients.iter_mut().enumerate() {
                    let n = t * 10 + j;
                    let r = c.request(get(&format!("/-/bytes/{n}")).as_bytes());
                    assert_eq!(r.status, 200);
                    assert_eq!(r.body, pattern(n));
                }
            })
        })
        .collect();
    for th in threads {
        th.join().expect("client thread failed");
    }
    srv.assert_alive();
}

#[test]
fn busy_download_does_not_starve_others() {
    // A client reading a large body as fast as it can keeps the reactor busy; others must
    // still get their turn (fairness), not wait for the download to finish.
    let srv = TestServer::start();
    let addr = srv.addr;
    const N: u64 = 100_000_000;
    let download = thread::spawn(move || {
        use std::io::Read;
        let mut c = Client::connect(addr);
        c.send(get(&format!("/-/bytes/{N}")).as_bytes());
        let mut total = 0u64;
        let mut buf = vec![0u8; 1 << 16];
        let t = Instant::now();
        while let Ok(n) = c.stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > N {
                break; // head + body: done
            }
        }
        (total, t.elapsed())
    });
    thread::sleep(Duration::from_millis(100));
    let mut worst = Duration::ZERO;
    for _ in 0..10 {
        let t = Instant::now();
        assert_eq!(srv.get("/-/plaintext").status, 200);
        worst = worst.max(t.elapsed());
        thread::sleep(Duration::from_millis(20));
    }
    assert!(
        worst < Duration::from_millis(500),
        "plaintext took up to {worst:?} during a download"
    );
    let (total, took) = download.join().unwrap();
    assert!(
        total > N,
        "download ended early at {total} bytes after {took:?}"
    );
}
