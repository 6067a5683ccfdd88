//! A restart on one host: a new spindle joins the old one's port with `--reuse-port`, the old
//! one is sent SIGTERM, and a client looping over fresh connections the whole time sees no
//! failure. This needs `net.ipv4.tcp_migrate_req=1` (which the test sets: CI runs as root), so
//! that clients queued in the old listeners' backlog move to the new ones instead of being
//! reset when the old ones close.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{get, signal, spawn_binary_piped, wait_exit, Client};

const MIGRATE: &str = "/proc/sys/net/ipv4/tcp_migrate_req";

/// Puts the sysctl back as it was, whatever the test's outcome.
struct Sysctl(String);

impl Drop for Sysctl {
    fn drop(&mut self) {
        let _ = std::fs::write(MIGRATE, &self.0);
    }
}

#[test]
fn a_new_spindle_with_reuse_port_takes_over_without_a_failed_request() {
    let old = std::fs::read_to_string(MIGRATE).expect("read tcp_migrate_req");
    std::fs::write(MIGRATE, "1").expect("set net.ipv4.tcp_migrate_req=1 (needs root)");
    let _restore = Sysctl(old);
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let bind = format!("127.0.0.1:{port}");
    let addr: SocketAddr = bind.parse().unwrap();
    let args = ["--bind", &bind, "--reuse-port", "--workers", "2", "-q", "."];
    let mut old_one = spawn_binary_piped(&args);
    let stop = Arc::new(AtomicBool::new(false));
    // Eight clients at once, so that some are always queued when the old listeners close.
    let loops: Vec<_> = (0..8)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let (mut ok, mut failed) = (0, Vec::new());
                while !stop.load(Ordering::SeqCst) {
                    let mut c = Client::connect(addr);
                    c.set_read_timeout(Duration::from_secs(5));
                    c.send(get("/-/plaintext").as_bytes());
                    match c.try_read_response(false) {
                        Ok(r) if r.status == 200 => ok += 1,
                        other => failed.push(format!("{other:?}")),
                    }
                }
                (ok, failed)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut new_one = spawn_binary_piped(&args);
    std::thread::sleep(Duration::from_millis(300));
    signal(&old_one.child, libc::SIGTERM);
    assert_eq!(
        wait_exit(&mut old_one.child, Duration::from_secs(5)).code(),
        Some(0)
    );
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    let (mut ok, mut failed) = (0, Vec::new());
    for l in loops {
        let (o, f) = l.join().unwrap();
        ok += o;
        failed.extend(f);
    }
    assert!(
        failed.is_empty(),
        "{} of {} failed: {:?}",
        failed.len(),
        ok + failed.len(),
        &failed[..failed.len().min(5)]
    );
    assert!(ok > 30, "only {ok} requests in 900 ms");
    // The new one answers on its own now.
    let r = new_one.connect().request(get("/-/plaintext").as_bytes());
    assert_eq!(r.status, 200);
    signal(&new_one.child, libc::SIGTERM);
    assert_eq!(
        wait_exit(&mut new_one.child, Duration::from_secs(5)).code(),
        Some(0)
    );
}
