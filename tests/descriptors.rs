//! Descriptor exhaustion and `--max-connections`, on the binary in a child process whose
//! `RLIMIT_NOFILE` is set before exec: accepting pauses without spinning or stalling, a file
//! that cannot be opened is 503, and one warning is logged per episode.

mod common;

use std::io::{self, BufRead, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{eventually, within};

/// The binary, listening on a free port, under `RLIMIT_NOFILE = nofile` (soft and hard), its
/// log lines collected from stderr as they come.
struct Limited {
    child: Child,
    addr: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Limited {
    fn spawn(nofile: u64, extra: &[&str], root: &Path) -> Limited {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_spindle"));
        cmd.args(["--bind", "127.0.0.1:0"])
            .args(extra)
            .arg(root)
            // Without this the server clamps --max-connections below the limit and never
            // meets EMFILE on accept.
            .env("SPINDLE_NO_CLAMP", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: setrlimit is async-signal-safe and touches nothing but the child's limits.
        unsafe {
            cmd.pre_exec(move || {
                let lim = libc::rlimit {
                    rlim_cur: nofile as libc::rlim_t,
                    rlim_max: nofile as libc::rlim_t,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().expect("spawn spindle");
        let mut out = io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let addr = common::listening_addr(&line);
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        let err = io::BufReader::new(child.stderr.take().unwrap());
        thread::spawn(move || {
            for l in err.lines() {
                let Ok(l) = l else { break };
                sink.lock().unwrap().push(l);
            }
        });
        Limited { child, addr, log }
    }

    /// Log lines containing `what`.
    fn logged(&self, what: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(what))
            .count()
    }

    /// User + system CPU time of the server so far, in clock ticks.
    fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        // The fields after the command name, which is in parentheses and may hold spaces.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = rest.split(' ').collect();
        // utime and stime are fields 14 and 15 of the whole line, 12 and 13 here.
        f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
    }

    /// Open descriptors numbered below `limit`. (A descriptor the test harness leaked into
    /// the child without close-on-exec may sit above it; it takes no slot of ours.)
    fn fds_below(&self, limit: usize) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<usize>().ok())
            .filter(|&fd| fd < limit)
            .count()
    }

    /// Fraction of one core the server used over `window`.
    fn cpu_share_over(&self, window: Duration) -> f64 {
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        let before = self.cpu_ticks();
        thread::sleep(window);
        (self.cpu_ticks() - before) as f64 / hz / window.as_secs_f64()
    }
}

impl Drop for Limited {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A keep-alive client that has sent a request and may or may not have been answered yet.
struct Waiting {
    stream: TcpStream,
    got: Vec<u8>,
}

impl Waiting {
    fn send(addr: &str, path: &str) -> Waiting {
        let mut stream = TcpStream::connect(addr).expect("connect (the kernel's backlog)");
        stream
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .unwrap();
        stream.set_nonblocking(true).unwrap();
        Waiting {
            stream,
            got: Vec::new(),
        }
    }

    /// Reads what has arrived; true once a whole head is in (our answers are small).
    fn answered(&mut self) -> bool {
        let mut buf = [0u8; 4096];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => self.got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("read: {e}"),
            }
        }
        self.got.windows(4).any(|w| w == b"\r\n\r\n")
    }

    fn status(&self) -> &[u8] {
        self.got.get(9..12).unwrap_or(b"")
    }
}

/// One whole response (head + Content-Length body), however many reads it takes.
fn read_answer(s: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if got.len() >= end + 4 + len {
                return got;
            }
        }
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
}

fn answered_count(clients: &mut [Waiting]) -> usize {
    clients
        .iter_mut()
        .map(|c| c.answered())
        .filter(|&a| a)
        .count()
}

fn root_with_big_file(name: &str) -> common::ScratchDir {
    let root = common::ScratchDir::new(name);
    // Larger than the open-file cache keeps in memory, so every GET opens it.
    root.write("big.bin", vec![b'x'; 64 * 1024]);
    root
}

#[test]
fn out_of_descriptors_accepting_pauses_without_spinning_or_stalling() {
    let root = root_with_big_file("emfile");
    let srv = Limited::spawn(64, &["--max-connections", "1000"], root.path());
    let base_fds = srv.fds_below(64);

    // 100 clients, each with a request sent: the kernel queues them all, the server can take
    // only as many as its 64 descriptors allow.
    let mut clients: Vec<Waiting> = (0..100)
        .map(|_| Waiting::send(&srv.addr, "/-/plaintext"))
        .collect();
    let full = 64 - base_fds;
    within(Duration::from_secs(5), || {
        answered_count(&mut clients) >= full
    })
    .unwrap_or_else(|| {
        panic!(
            "expected {full} answers, got {}",
            answered_count(&mut clients)
        )
    });
    thread::sleep(Duration::from_millis(300));
    let served = answered_count(&mut clients);
    assert_eq!(
        srv.fds_below(64),
        64,
        "the server should have used every descriptor"
    );
    assert_eq!(
        served, full,
        "answers while out of descriptors (limit 64, {base_fds} in use before)"
    );

    // No busy loop while the queue waits: a spin shows as ~100 % of a core.
    let share = srv.cpu_share_over(Duration::from_secs(2));
    assert!(share < 0.25, "server used {:.0} % of a core", share * 100.0);

    // Clients already in keep on being served meanwhile.
    let first = clients.iter().position(|c| !c.got.is_empty()).unwrap();
    let mut again = clients[first].stream.try_clone().unwrap();
    again.set_nonblocking(false).unwrap();
    again
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    again
        .write_all(b"GET /-/bytes/3 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let got = read_answer(&mut again);
    assert!(got.starts_with(b"HTTP/1.1 200 OK"));
    assert!(got.ends_with(b"\r\n\r\nABC"));

    // And a file that cannot be opened for want of a descriptor is 503, not a hang or a 404.
    again
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let got = read_answer(&mut again);
    assert!(
        got.starts_with(b"HTTP/1.1 503 "),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
    drop(again);

    // One warning for the whole episode, however many accepts failed (the retry timer alone
    // tried some 20 times by now). It says so: the retry timer runs too.
    assert_eq!(srv.logged("accepting paused"), 1, "{:#?}", srv.log);
    assert_eq!(
        srv.logged("accepting paused until a connection closes (retrying every 100 ms)"),
        1,
        "{:#?}",
        srv.log
    );

    // Descriptors free up: the queued clients are taken in without any new one arriving.
    let t = Instant::now();
    for c in clients.iter_mut().filter(|c| !c.got.is_empty()) {
        c.stream.shutdown(std::net::Shutdown::Both).unwrap();
    }
    let waited = within(Duration::from_secs(5), || {
        clients
            .iter_mut()
            .filter(|c| c.got.is_empty())
            .all(|c| c.answered())
    });
    assert!(
        waited.is_some(),
        "queued clients still not served after 5 s: {} of 100 answered",
        answered_count(&mut clients)
    );
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(clients.iter().all(|c| c.status() == b"200"));
    eventually(
        Duration::from_secs(2),
        || format!("no 'accepting again': {:#?}", srv.log),
        || srv.logged("accepting again") == 1,
    );

    // Everything freed, the server is whole: a file opens again.
    drop(clients);
    eventually(
        Duration::from_secs(5),
        || format!("{} descriptors, {base_fds} at start", srv.fds_below(64)),
        || srv.fds_below(64) == base_fds,
    );
    let mut c = Waiting::send(&srv.addr, "/big.bin");
    eventually(Duration::from_secs(5), "GET /big.bin answered", || {
        c.answered()
    });
    assert_eq!(c.status(), b"200");
}

#[test]
fn max_connections_caps_open_connections_and_resumes_on_close() {
    let root = root_with_big_file("maxconn");
    let srv = Limited::spawn(1024, &["--max-connections", "10"], root.path());
    let base_fds = srv.fds_below(1024);

    // Ten get in; twenty more arrive while they are open and wait in the kernel's queue.
    let mut clients: Vec<Waiting> = (0..10)
        .map(|_| Waiting::send(&srv.addr, "/-/plaintext"))
        .collect();
    eventually(Duration::from_secs(5), "10 answered", || {
        answered_count(&mut clients) == 10
    });
    clients.extend((0..20).map(|_| Waiting::send(&srv.addr, "/-/plaintext")));
    thread::sleep(Duration::from_millis(300));
    assert_eq!(answered_count(&mut clients), 10, "only 10 may be open");
    assert_eq!(srv.fds_below(1024), base_fds + 10);

    let share = srv.cpu_share_over(Duration::from_secs(2));
    assert!(share < 0.25, "server used {:.0} % of a core", share * 100.0);
    assert_eq!(srv.logged("accepting paused"), 1, "{:#?}", srv.log);
    // At the limit nothing is retried on a timer, and the warning does not claim it is.
    assert_eq!(srv.logged("retrying"), 0, "{:#?}", srv.log);

    // Five close: exactly five of the queued are taken in, without a new client arriving.
    let open: Vec<usize> = (0..clients.len())
        .filter(|&i| !clients[i].got.is_empty())
        .take(5)
        .collect();
    for &i in &open {
        clients[i]
            .stream
            .shutdown(std::net::Shutdown::Both)
            .unwrap();
    }
    within(Duration::from_secs(5), || {
        answered_count(&mut clients) >= 15
    })
    .unwrap_or_else(|| panic!("{} answered", answered_count(&mut clients)));
    thread::sleep(Duration::from_millis(300));
    assert_eq!(answered_count(&mut clients), 15);

    // The rest get in as the others leave.
    within(Duration::from_secs(5), || {
        for c in clients.iter_mut().filter(|c| !c.got.is_empty()) {
            // (Those already shut down say ENOTCONN.)
            let _ = c.stream.shutdown(std::net::Shutdown::Both);
        }
        answered_count(&mut clients) == 30
    })
    .unwrap_or_else(|| panic!("{} answered", answered_count(&mut clients)));
    assert!(clients.iter().all(|c| c.status() == b"200"));
}
