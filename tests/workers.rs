//! `--workers N`: N reactors on N threads, each with its own listener in one `SO_REUSEPORT`
//! group, so that the kernel spreads new connections over them. Every worker answers, the
//! spread is even enough, `/-/stats` sums them and shows each one, a port held by another
//! server is never shared by accident, and SIGTERM drains every worker.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{
    get, run_binary, signal, spawn_binary_piped, spawn_binary_piped_with_env, wait_exit, Client,
    ScratchDir, Stats, TestServer,
};

/// `n` connections, each answered once and kept open (so that every one is a new accept).
fn answered_connections(srv: &TestServer, n: usize, path: &str) -> Vec<Client> {
    let mut clients: Vec<Client> = (0..n)
        .map(|_| {
            let mut c = srv.connect();
            c.send(get(path).as_bytes());
            c
        })
        .collect();
    for c in &mut clients {
        assert_eq!(c.read_response().status, 200);
    }
    clients
}

/// `/-/stats` once every worker has published at least `total` connections in all.
fn stats_once_published(srv: &TestServer, workers: usize, total: u64) -> Stats {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let s = srv.stats();
        let seen: u64 = s.per_worker(workers, "connections_total").iter().sum();
        if seen >= total {
            return s;
        }
        assert!(
            Instant::now() < until,
            "never counted {total} connections: {s:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn two_workers_share_200_connections_none_above_70_percent() {
    let srv = TestServer::with(|c| c.workers = 2);
    let _open = answered_connections(&srv, 200, "/-/plaintext");
    let s = stats_once_published(&srv, 2, 200);
    let conns = s.per_worker(2, "connections_total");
    let all: u64 = conns.iter().sum();
    assert!(
        conns.iter().all(|&c| c * 10 <= all * 7),
        "the kernel's spread: {conns:?}"
    );
    // The top-level numbers are the workers' sums.
    assert_eq!(s.count("connections_total"), all, "{s:?}");
    let requests = s.per_worker(2, "requests_total");
    assert_eq!(s.count("requests_total"), requests.iter().sum::<u64>());
}

#[test]
fn four_workers_all_answer_pipelined_requests() {
    let srv = TestServer::with(|c| c.workers = 4);
    let mut clients: Vec<Client> = (0..200).map(|_| srv.connect()).collect();
    let batch = get("/-/plaintext").repeat(4);
    for c in &mut clients {
        c.send(batch.as_bytes());
    }
    for c in &mut clients {
        for _ in 0..4 {
            let r = c.read_response();
            assert_eq!((r.status, r.body.as_slice()), (200, &b"Hello, World!"[..]));
        }
    }
    let s = stats_once_published(&srv, 4, 200);
    let requests = s.per_worker(4, "requests_total");
    assert!(
        requests.iter().all(|&r| r >= 4),
        "requests per worker: {requests:?}"
    );
    assert!(s.count("status.200") >= 800, "{s:?}");
}

#[test]
fn delays_run_on_every_worker_at_once() {
    let srv = TestServer::with(|c| c.workers = 2);
    let t = Instant::now();
    let mut clients: Vec<Client> = (0..40).map(|_| srv.connect()).collect();
    for c in &mut clients {
        c.send(get("/-/delay/300").as_bytes());
    }
    for c in &mut clients {
        assert_eq!(c.read_response().status, 200);
    }
    // Forty delays of 300 ms, none waiting for another (generous: a loaded CI machine).
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    let s = stats_once_published(&srv, 2, 40);
    let conns = s.per_worker(2, "connections_total");
    assert!(conns.iter().all(|&c| c > 0), "{conns:?}");
}

#[test]
fn a_port_held_by_another_server_is_refused_whatever_the_workers() {
    for (first, second) in [("1", "1"), ("1", "2"), ("2", "1"), ("2", "2")] {
        // The first server picks its port: a port found free by binding and dropping a
        // listener may still be held for a moment by a child another test forks.
        let mut running =
            spawn_binary_piped(&["--bind", "127.0.0.1:0", "--workers", first, "-q", "."]);
        let addr = running.addr.clone();
        let (status, _, err) = run_binary(&["--bind", &addr, "--workers", second, "-q", "."]);
        assert_eq!(
            status.code(),
            Some(1),
            "--workers {second} after --workers {first}: {err}"
        );
        assert!(err.contains("already in use"), "{err}");
        // The first one serves on, alone.
        let r = running.connect().request(get("/-/plaintext").as_bytes());
        assert_eq!(r.status, 200);
        signal(&running.child, libc::SIGTERM);
        assert_eq!(
            wait_exit(&mut running.child, Duration::from_secs(5)).code(),
            Some(0)
        );
    }
}

#[test]
fn port_0_with_two_workers_and_two_addresses_prints_each_address_once() {
    use std::io::BufRead;
    let mut s = spawn_binary_piped(&[
        "--bind",
        "127.0.0.1:0",
        "--bind",
        "127.0.0.2:0",
        "--workers",
        "2",
        "-q",
        ".",
    ]);
    let mut second = String::new();
    s.stdout.read_line(&mut second).unwrap();
    let addrs = [s.addr.clone(), common::listening_addr(&second)];
    assert!(addrs[0].starts_with("127.0.0.1:") && addrs[1].starts_with("127.0.0.2:"));
    for addr in &addrs {
        let addr: SocketAddr = addr.parse().unwrap();
        assert_ne!(addr.port(), 0);
        for _ in 0..20 {
            let r = Client::connect(addr).request(get("/-/plaintext").as_bytes());
            assert_eq!(r.status, 200);
        }
    }
    signal(&s.child, libc::SIGTERM);
    assert_eq!(
        wait_exit(&mut s.child, Duration::from_secs(5)).code(),
        Some(0)
    );
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut s.stdout, &mut rest).unwrap();
    assert!(!rest.contains("listening"), "printed again: {rest}");
}

#[test]
fn sigterm_drains_downloads_on_every_worker_and_log_lines_name_their_worker() {
    let mut s = spawn_binary_piped(&["--bind", "127.0.0.1:0", "--workers", "2", "-v", "."]);
    let addr: SocketAddr = s.addr.parse().unwrap();
    // Slow 4 MiB downloads on enough connections that both workers have some.
    let mut downloads: Vec<Client> = (0..8)
        .map(|_| {
            let mut c = Client::connect_with_recv_buffer(addr, 16 * 1024);
            c.set_read_timeout(Duration::from_secs(10));
            c.send(b"GET /-/bytes/4194304 HTTP/1.1\r\nHost: x\r\n\r\n");
            c.wait_read().0.expect("the first bytes of a download");
            c
        })
        .collect();
    signal(&s.child, libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(200));
    assert!(s.child.try_wait().unwrap().is_none(), "exited mid-download");
    for c in &mut downloads {
        let got = c.read_to_close();
        let body_at = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        assert_eq!(got.len() - body_at, 4 << 20, "a whole body");
    }
    assert_eq!(
        wait_exit(&mut s.child, Duration::from_secs(5)).code(),
        Some(0)
    );
    let err = s.read_stderr();
    let accepted = |w: &str| {
        err.lines()
            .filter(|l| l.contains(&format!("@{w}]")) && l.contains("accepted"))
            .count()
    };
    assert_eq!(accepted("w1") + accepted("w2"), 8, "{err}");
    assert!(accepted("w1") > 0 && accepted("w2") > 0, "{err}");
}

#[test]
fn a_put_through_one_worker_is_seen_by_the_next_get_on_every_worker() {
    let dir = ScratchDir::new("workers-put");
    std::fs::write(dir.join("f.txt"), "old").unwrap();
    let root = dir.path().to_path_buf();
    let srv = TestServer::with(move |c| {
        c.workers = 2;
        c.root = root;
        c.allow_write = true;
    });
    // Twenty keep-alive connections, over both workers: each caches the old contents.
    let mut clients: Vec<Client> = (0..20).map(|_| srv.connect()).collect();
    for c in &mut clients {
        assert_eq!(c.request(get("/f.txt").as_bytes()).body, b"old");
    }
    let s = stats_once_published(&srv, 2, 20);
    assert!(
        s.per_worker(2, "connections_total").iter().all(|&n| n > 0),
        "{s:?}"
    );
    let put = b"PUT /f.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nnew";
    assert_eq!(clients[0].request(put).status, 204);
    // Within the cache's freshness second: only a shared count of writes makes them look again.
    for c in &mut clients {
        assert_eq!(c.request(get("/f.txt").as_bytes()).body, b"new");
    }
}

#[test]
fn a_worker_that_dies_is_made_again_and_answers_the_client_queued_meanwhile() {
    for workers in ["1", "2"] {
        let dir = ScratchDir::new("workers-crash");
        let trigger = dir.join("crash-now");
        let mut s = spawn_binary_piped_with_env(
            &["--bind", "127.0.0.1:0", "--workers", workers, "."],
            &[("SPINDLE_TEST_CRASH", trigger.as_os_str())],
        );
        let addr: SocketAddr = s.addr.parse().unwrap();
        let stats = |addr| {
            let r = Client::connect(addr).request(get("/-/stats").as_bytes());
            Stats::parse(&r.body_str())
        };
        let mut c = Client::connect(addr);
        for _ in 0..3 {
            assert_eq!(c.request(get("/-/plaintext").as_bytes()).status, 200);
        }
        // Another worker's counts are as of the end of its last turn: wait for that.
        let until = Instant::now() + Duration::from_secs(5);
        let mut before = stats(addr).count("requests_total");
        while before < 3 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
            before = stats(addr).count("requests_total");
        }
        assert!(before >= 3, "{before}");
        std::fs::write(&trigger, "").unwrap();
        // The worker that takes this one dies; while it stalls, the next client queues.
        let _doomed = Client::connect(addr);
        std::thread::sleep(Duration::from_millis(100));
        let mut queued = Client::connect(addr);
        queued.set_read_timeout(Duration::from_secs(5));
        queued.send(get("/-/plaintext").as_bytes());
        let r = queued.read_response();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"Hello, World!"[..]));
        assert!(!trigger.exists(), "the fault was triggered");
        // No counter went down with the worker.
        let after = stats(addr).count("requests_total");
        assert!(after > before, "requests_total {before} -> {after}");
        // With two workers the queued client may have gone to the other one: give the dying
        // worker its stall (300 ms) and its restart (at most 1 s) before the shutdown.
        std::thread::sleep(Duration::from_millis(1500));
        // The worker made again runs as its first did.
        let want = if workers == "1" { 0 } else { 3 };
        assert_policies(s.child.id(), workers, want);
        signal(&s.child, libc::SIGTERM);
        assert_eq!(
            wait_exit(&mut s.child, Duration::from_secs(5)).code(),
            Some(0)
        );
        let err = s.read_stderr();
        assert!(err.contains("panicked: SPINDLE_TEST_CRASH"), "{err}");
        assert!(err.contains("starting it again"), "{err}");
    }
}

#[test]
fn workers_auto_is_one_per_cpu_we_may_use() {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut s = spawn_binary_piped(&["--bind", "127.0.0.1:0", "--workers", "auto", "-q", "."]);
    let r = s.connect().request(get("/-/stats").as_bytes());
    let stats = Stats::parse(&r.body_str());
    assert!(
        stats.get(&format!("workers.{}.worker", cpus - 1)).is_some(),
        "{stats:?}"
    );
    assert!(
        stats.get(&format!("workers.{cpus}.worker")).is_none(),
        "{stats:?}"
    );
    let (status, _, err) = run_binary(&["--workers", "none", "."]);
    assert_eq!(status.code(), Some(2), "{err}");
    signal(&s.child, libc::SIGTERM);
    assert_eq!(
        wait_exit(&mut s.child, Duration::from_secs(5)).code(),
        Some(0)
    );
}

/// The scheduling policy of each of `pid`'s threads named `w1`, `w2`, … (field 41 of
/// `/proc/PID/task/TID/stat`: 0 is SCHED_OTHER, 3 SCHED_BATCH).
fn worker_policies(pid: u32) -> Vec<(String, u32)> {
    let mut found = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let task = task.unwrap().path();
        let name = std::fs::read_to_string(task.join("comm")).unwrap();
        let name = name.trim_end();
        if !name.starts_with('w') || !name[1..].chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let stat = std::fs::read_to_string(task.join("stat")).unwrap();
        let after_name = &stat[stat.rfind(") ").unwrap() + 2..];
        let policy = after_name.split(' ').nth(41 - 3).unwrap().parse().unwrap();
        found.push((name.to_string(), policy));
    }
    found.sort();
    found
}

/// Each of `pid`'s `workers` worker threads runs scheduling policy `want`.
fn assert_policies(pid: u32, workers: &str, want: u32) {
    let n: usize = workers.parse().unwrap();
    let expected: Vec<(String, u32)> = (1..=n).map(|w| (format!("w{w}"), want)).collect();
    assert_eq!(worker_policies(pid), expected);
}

/// Workers that may share a core run SCHED_BATCH, so that a wake-up does not take the core from
/// a sibling mid-batch (benches/README: `--workers` on one core); one worker is left as it is.
#[test]
fn sibling_workers_run_sched_batch_and_a_single_worker_does_not() {
    for (workers, want) in [("1", 0), ("2", 3), ("4", 3)] {
        let mut s = spawn_binary_piped(&["--bind", "127.0.0.1:0", "--workers", workers, "-q", "."]);
        assert_eq!(
            s.connect().request(get("/-/plaintext").as_bytes()).status,
            200
        );
        assert_policies(s.child.id(), workers, want);
        signal(&s.child, libc::SIGTERM);
        assert_eq!(
            wait_exit(&mut s.child, Duration::from_secs(5)).code(),
            Some(0)
        );
    }
}
