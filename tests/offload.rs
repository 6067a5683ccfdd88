//! Work a handler offloads (`Action::Offload`) runs on a helper thread: the reactor goes on
//! serving everyone else meanwhile, the answer comes back through the poll's waker to the
//! connection that asked (never to a new one that reused its key), in order with pipelined
//! requests, 500 if the job panics, 503 at once when every helper is busy and the queue is full.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{empty_root, Client};
use spindle::{Action, Body, Context, Handler, Request, Response};

/// `/slow/MS` sleeps MS ms on a helper thread; `/panic` panics there; anything else answers
/// its own path at once, on the reactor.
struct Slow {
    started: Arc<AtomicUsize>,
}

impl Handler for Slow {
    fn handle(&mut self, req: &Request<'_>, _cx: &Context<'_>) -> Action {
        let path = String::from_utf8_lossy(req.path).into_owned();
        if let Some(ms) = path.strip_prefix("/slow/") {
            let ms: u64 = ms.parse().unwrap_or(0);
            let started = self.started.clone();
            return Action::Offload(Box::new(move || {
                started.fetch_add(1, Ordering::SeqCst);
                thread::sleep(Duration::from_millis(ms));
                Response::new(200, "text/plain", Body::Owned(path.into_bytes()))
            }));
        }
        if path == "/panic" {
            return Action::Offload(Box::new(|| panic!("a job that panics")));
        }
        Action::Respond(Response::new(
            200,
            "text/plain",
            Body::Owned(path.into_bytes()),
        ))
    }
}

struct Running {
    addr: std::net::SocketAddr,
    started: Arc<AtomicUsize>,
    handle: spindle::ShutdownHandle,
    join: Option<thread::JoinHandle<std::io::Result<()>>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.handle.shutdown();
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}

fn start() -> Running {
    start_with(|_| {})
}

fn start_with(tweak: impl FnOnce(&mut spindle::Config)) -> Running {
    let mut config = spindle::Config {
        binds: vec!["127.0.0.1:0".parse().unwrap()],
        root: empty_root(),
        shutdown_grace: Duration::from_millis(500),
        ..spindle::Config::default()
    };
    tweak(&mut config);
    let started = Arc::new(AtomicUsize::new(0));
    let handler = Box::new(Slow {
        started: started.clone(),
    });
    let server = spindle::Server::with_handler(&config, handler).unwrap();
    let addr = server.local_addrs()[0];
    let handle = server.shutdown_handle();
    let join = Some(thread::spawn(move || server.run()));
    Running {
        addr,
        started,
        handle,
        join,
    }
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes()
}

#[test]
fn the_reactor_serves_others_while_a_job_runs() {
    let srv = start();
    let mut slow = Client::connect(srv.addr);
    slow.send(&get("/slow/400"));
    while srv.started.load(Ordering::SeqCst) == 0 {
        thread::sleep(Duration::from_millis(1));
    }
    let t = Instant::now();
    let mut other = Client::connect(srv.addr);
    for _ in 0..10 {
        assert_eq!(other.request(&get("/fast")).body, b"/fast");
    }
    // Generous: the point is that it did not wait for the 400 ms job.
    assert!(
        t.elapsed() < Duration::from_millis(200),
        "{:?}",
        t.elapsed()
    );
    let r = slow.read_response();
    assert_eq!((r.status, r.body.as_slice()), (200, &b"/slow/400"[..]));
    // The connection is kept alive after an offloaded answer.
    assert_eq!(slow.request(&get("/after")).body, b"/after");
}

#[test]
fn pipelined_requests_are_answered_in_order_around_a_job() {
    let srv = start();
    let mut c = Client::connect(srv.addr);
    let mut all = get("/a");
    all.extend(get("/slow/100"));
    all.extend(get("/b"));
    c.send(&all);
    for want in ["/a", "/slow/100", "/b"] {
        assert_eq!(c.read_response().body, want.as_bytes());
    }
}

#[test]
fn a_panicking_job_costs_one_500_and_that_connection() {
    let srv = start();
    let mut c = Client::connect(srv.addr);
    c.send(&get("/panic"));
    let r = c.read_response();
    assert_eq!(r.status, 500);
    assert!(r.says_close());
    c.assert_closed();
    assert_eq!(
        Client::connect(srv.addr).request(&get("/x")).body,
        b"/x",
        "the helper threads and the reactor go on"
    );
    let mut c = Client::connect(srv.addr);
    assert_eq!(c.request(&get("/slow/1")).body, b"/slow/1");
}

#[test]
fn an_answer_never_reaches_a_new_connection_on_the_same_key() {
    let srv = start();
    for _ in 0..3 {
        // A client asks for a job and resets: the server closes it at once, its slab key is
        // free, and the next client gets it while the first job still runs.
        let mut gone = Client::connect(srv.addr);
        gone.send(&get("/slow/200"));
        while srv.started.load(Ordering::SeqCst) == 0 {
            thread::sleep(Duration::from_millis(1));
        }
        gone.reset();
        thread::sleep(Duration::from_millis(50));
        let mut fresh = Client::connect(srv.addr);
        fresh.send(&get("/slow/400"));
        let r = fresh.read_response();
        assert_eq!(r.body, b"/slow/400", "another connection's answer");
        srv.started.store(0, Ordering::SeqCst);
    }
}

#[test]
fn a_full_queue_is_answered_503_at_once() {
    let srv = start();
    let (threads, queue) = (spindle::offload::THREADS, spindle::offload::QUEUE);
    let n = threads + queue + 10;
    let mut clients: Vec<Client> = (0..n).map(|_| Client::connect(srv.addr)).collect();
    for c in &mut clients {
        c.send(&get("/slow/3000"));
    }
    // Long before the first job ends, those beyond the helpers and their queue have their
    // answer: 503 (a few more if a helper had not yet taken its first job off the queue).
    thread::sleep(Duration::from_millis(300));
    let mut refused = 0;
    for c in &mut clients {
        c.set_read_timeout(Duration::from_millis(20));
        if let Ok(r) = c.try_read_response(false) {
            assert_eq!(r.status, 503);
            refused += 1;
        }
    }
    assert!((10..=10 + threads).contains(&refused), "{refused} refused");
}

#[test]
fn a_client_that_resets_during_a_delay_is_closed_at_once() {
    // While a connection waits for a timer (or a helper thread) it still reads a peer that
    // has gone, so a reset frees it now rather than when the wait ends.
    let srv = common::TestServer::start();
    let before = srv.stats().count("connections_open");
    let mut c = srv.connect();
    c.send(b"GET /-/delay/5000 HTTP/1.1\r\nHost: x\r\n\r\n");
    thread::sleep(Duration::from_millis(100));
    c.reset();
    common::eventually(
        Duration::from_millis(1000),
        "the reset connection to close",
        || srv.stats().count("connections_open") == before,
    );
}
