//! Huge directory listings never stall the reactor (issue 8 §4, SPEC §6): while clients fetch
//! the listing of a 50 000-entry directory over and over (GET read whole, in four orders, and
//! pipelined HEADs),
//! another connection's `/-/plaintext` is answered within 20 ms (all but one probe; see the end). Alone in its own
//! test binary, so that no other test competes for the two cores while it measures.

mod common;

use std::fs;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{Client, ScratchDir, TestServer};

const ENTRIES: usize = 50_000;

#[test]
fn plaintext_is_answered_within_20_ms_while_huge_listings_run() {
    // 50 000 files take 25 s to make on this machine's disk, one on a tmpfs.
    let base = Some(std::path::PathBuf::from("/dev/shm"))
        .filter(|p| p.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    let root = ScratchDir::under(&base, "listing-load");
    let big = root.mkdir("big");
    let made = Instant::now();
    for i in 0..ENTRIES {
        fs::File::create(big.join(format!("file-{i:06}-with-a-longish-name.txt"))).unwrap();
    }
    eprintln!("{ENTRIES} files made in {:?}", made.elapsed());
    let dir = root.path().to_owned();
    let srv = TestServer::with(|c| c.root = dir);
    let stop = Arc::new(AtomicBool::new(false));
    let (listings, heads) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut clients = Vec::new();
    for i in 0..6 {
        let (stop, listings, heads, addr) =
            (stop.clone(), listings.clone(), heads.clone(), srv.addr);
        clients.push(thread::spawn(move || {
            lower_priority();
            let mut c = Client::connect(addr);
            c.set_read_timeout(Duration::from_secs(60));
            while !stop.load(Ordering::Relaxed) {
                if i < 4 {
                    // Each in its own order: sorting 50 000 entries must not stall either.
                    let target = [
                        "/big/",
                        "/big/?sort=size&order=desc",
                        "/big/?sort=date",
                        "/big/?order=desc",
                    ][i];
                    let r =
                        c.request(format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
                    assert_eq!(r.status, 200);
                    assert!(r.body.len() > ENTRIES * 100, "{} B", r.body.len());
                    listings.fetch_add(1, Ordering::Relaxed);
                } else {
                    c.send(&b"HEAD /big/ HTTP/1.1\r\nHost: x\r\n\r\n".repeat(4));
                    for _ in 0..4 {
                        assert_eq!(c.read_head_response().status, 200);
                    }
                    heads.fetch_add(4, Ordering::Relaxed);
                }
            }
        }));
    }
    // Until the first listing is whole, the directory is being read (on a helper thread).
    let mut probe = srv.connect();
    let mut took = Vec::new();
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until || listings.load(Ordering::Relaxed) < 4 {
        let t = Instant::now();
        let r = probe.request(b"GET /-/plaintext HTTP/1.1\r\nHost: x\r\n\r\n");
        took.push(t.elapsed());
        assert_eq!(r.body, b"Hello, World!");
        thread::sleep(Duration::from_millis(5));
        assert!(t.elapsed() < Duration::from_secs(60), "no listing finished");
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    took.sort();
    let (worst, next) = (took[took.len() - 1], took[took.len() - 2]);
    eprintln!(
        "{} probes, worst {worst:?}, next {next:?}; {} listings, {} HEADs meanwhile",
        took.len(),
        listings.load(Ordering::Relaxed),
        heads.load(Ordering::Relaxed)
    );
    // In torture mode every write moves 61 bytes: a stress of partial I/O, not of latency.
    let bound = Duration::from_millis(if common::torture() { 100 } else { 20 });
    // Every probe but one within the bound, and that one within five times it: a shared
    // two-core machine now and then deschedules the reactor for a few tens of milliseconds
    // (seen once in CI: 36 ms, the next worst under 10). A directory read or a listing
    // rendered on the reactor stalls it for 100 ms and more on every listing, and fails both.
    assert!(next < bound, "second worst {next:?} (worst {worst:?})");
    assert!(worst < bound * 5, "worst {worst:?}");
}

/// The load generators yield the CPU to the server and the probe: on two cores, the latency
/// measured should be the server's, not that of a probe thread starved by its own clients.
fn lower_priority() {
    // SAFETY: plain system calls on this thread's own id.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 15);
    }
}
