//! A server in this process on an ephemeral port, and the `spindle` binary as a child.

use std::io::{self, Read};
use std::net::SocketAddr;
use std::process::ExitStatus;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use spindle::{Config, Server, ShutdownHandle, StartError};

use super::{empty_root, get, Client, Response, READ_TIMEOUT};

/// The made-up `Host` names the tests send, allowed to write (`--allow-host`).
pub const TEST_HOSTS: [&str; 2] = ["x", "test"];

/// A server running on its own thread; shut down gracefully and joined on drop.
pub struct TestServer {
    pub addr: SocketAddr,
    pub addrs: Vec<SocketAddr>,
    handle: ShutdownHandle,
    join: Option<JoinHandle<io::Result<()>>>,
}

impl TestServer {
    /// A server with the default configuration (on 127.0.0.1:0).
    pub fn start() -> TestServer {
        TestServer::with(|_| {})
    }

    /// A server whose configuration `tweak` may change before it binds.
    pub fn with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        TestServer::try_with(tweak).expect("server failed to start")
    }

    pub fn try_with(tweak: impl FnOnce(&mut Config)) -> Result<TestServer, StartError> {
        let mut config = Config {
            binds: vec!["127.0.0.1:0".parse().unwrap()],
            root: empty_root(),
            // Keep a test's teardown short even if it leaves a response in flight.
            shutdown_grace: Duration::from_millis(500),
            // The names the tests' writes carry in `Host` (tests/cross_site.rs checks the
            // refusal of names not allowed).
            allow_hosts: TEST_HOSTS.iter().map(|h| h.to_string()).collect(),
            ..Config::default()
        };
        tweak(&mut config);
        let server = Server::bind(&config)?;
        let addrs = server.local_addrs();
        let handle = server.shutdown_handle();
        let join = thread::spawn(move || server.run());
        Ok(TestServer {
            addr: addrs[0],
            addrs,
            handle,
            join: Some(join),
        })
    }

    pub fn connect(&self) -> Client {
        Client::connect(self.addr)
    }

    /// Asks the server to shut down gracefully (without waiting for it).
    pub fn begin_shutdown(&self) {
        self.handle.shutdown();
    }

    /// Shuts down and waits for `run` to return; returns its result.
    pub fn shutdown_and_join(&mut self) -> io::Result<()> {
        self.handle.shutdown();
        let join = self.join.take().expect("already joined");
        join.join().expect("server thread panicked")
    }

    /// Whether the server thread has returned.
    pub fn is_finished(&self) -> bool {
        self.join.as_ref().is_none_or(|j| j.is_finished())
    }

    /// One GET on a fresh connection.
    pub fn get(&self, path: &str) -> Response {
        let mut c = self.connect();
        c.send(get(path).as_bytes());
        c.read_response()
    }

    /// `/-/stats`, parsed into a flat map of counters (`status.200` for the status object).
    pub fn stats(&self) -> Stats {
        let r = self.get("/-/stats");
        assert_eq!(r.status, 200);
        Stats::parse(&r.body_str())
    }

    /// Asserts that the server still answers a fresh connection.
    pub fn assert_alive(&self) {
        let r = self.get("/-/plaintext");
        assert_eq!(r.status, 200, "server stopped serving new connections");
        assert_eq!(r.body, b"Hello, World!");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.handle.shutdown();
        if let Some(join) = self.join.take() {
            let result = join.join();
            if !thread::panicking() {
                match result {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => panic!("server returned an error: {e}"),
                    Err(_) => panic!("server thread panicked"),
                }
            }
        }
    }
}

/// `/-/stats` as a flat map: top-level numbers by name, status counts as `status.CODE`.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub values: Vec<(String, u64)>,
    /// Every number as it was written, fractions included (`latency_ms.p50`).
    pub reals: Vec<(String, f64)>,
}

impl Stats {
    /// A tiny parser for the JSON `/-/stats` returns: numbers, objects and arrays of objects.
    /// A nested value's key is its path: `status.404`, `workers.0.requests_total`.
    pub fn parse(json: &str) -> Stats {
        let s = json.trim();
        assert!(s.starts_with('{') && s.ends_with('}'), "not an object: {s}");
        let mut values = Vec::new();
        let end = parse_object(s, 0, "", &mut values);
        assert_eq!(end, s.len(), "trailing bytes in {s}");
        let reals = values
            .iter()
            .map(|(k, v): &(String, String)| (k.clone(), v.parse().unwrap()))
            .collect();
        let values = values
            .into_iter()
            .filter_map(|(k, v)| Some((k, v.parse().ok()?)))
            .collect();
        Stats { values, reals }
    }

    /// A number that may have a fraction (`latency_ms.p99`).
    pub fn real(&self, key: &str) -> Option<f64> {
        self.reals.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    pub fn get(&self, key: &str) -> Option<u64> {
        self.values.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    /// The value of `key`, 0 if absent (a status code never seen is absent).
    pub fn count(&self, key: &str) -> u64 {
        self.get(key).unwrap_or(0)
    }

    /// Each of `workers` workers' `key` (`connections_total`, `requests_total`…).
    pub fn per_worker(&self, workers: usize, key: &str) -> Vec<u64> {
        (0..workers)
            .map(|w| {
                self.get(&format!("workers.{w}.{key}"))
                    .unwrap_or_else(|| panic!("no workers.{w}.{key}"))
            })
            .collect()
    }
}

/// Starts the `spindle` binary on 127.0.0.1:0 serving `root`, with `extra` arguments, and
/// returns it with the address from its start-up line.
pub fn spawn_binary(extra: &[&str], root: &std::path::Path) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args([
            "--bind",
            "127.0.0.1:0",
            "-q",
            "--allow-host",
            "x",
            "--allow-host",
            "test",
        ])
        .args(extra)
        .arg(root)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn spindle");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, listening_addr(&line))
}

/// The address of a `listening on http://ADDR/` start-up line.
pub fn listening_addr(line: &str) -> String {
    line.strip_prefix("listening on http://")
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("unexpected start-up line {line:?}"))
        .to_owned()
}

/// The binary with exactly `args` (no `-q`, no ROOT added), stdout and stderr piped, and the
/// address of its first `listening` line, waited for at most `READ_TIMEOUT` (the child is
/// killed and the test fails if it never comes). The rest of stdout stays unread in the
/// returned reader: a test that never reads it plays a reader that stalls.
pub struct Spawned {
    pub child: std::process::Child,
    pub addr: String,
    /// The `listening` line as printed.
    pub first_line: String,
    pub stdout: std::io::BufReader<std::process::ChildStdout>,
}

pub fn spawn_binary_piped(args: &[&str]) -> Spawned {
    spawn_binary_piped_with_env(args, &[])
}

/// [`spawn_binary_piped`] with these environment variables set too.
pub fn spawn_binary_piped_with_env(args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Spawned {
    spawned(spawn_piped(args, env))
}

/// `examples/NAME.rs` with `args`, as [`spawn_binary_piped`] starts spindle: every example
/// server prints the same `listening on http://ADDR/` first line.
pub fn spawn_example(name: &str, args: &[&str]) -> Spawned {
    let child = std::process::Command::new(example_path(name))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn example");
    spawned(child)
}

/// The binary of `examples/NAME.rs`, which `cargo test` builds beside the test binaries
/// (`target/debug/examples/`); `cargo test --test X` alone does not, hence the message.
pub fn example_path(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|profile| profile.join("examples").join(name))
        .expect("target directory");
    assert!(
        path.exists(),
        "{} is not built: `cargo test` builds the examples, or run `cargo build --examples`",
        path.display()
    );
    path
}

/// Waits for the child's first stdout line, the `listening` one.
fn spawned(mut child: std::process::Child) -> Spawned {
    use std::io::BufRead;
    use std::sync::mpsc;
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = mpsc::channel();
    let reader = thread::spawn(move || {
        let mut line = String::new();
        let r = out.read_line(&mut line);
        let _ = tx.send(());
        (r, line, out)
    });
    if rx.recv_timeout(READ_TIMEOUT).is_err() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("no listening line within {READ_TIMEOUT:?}");
    }
    let (r, line, stdout) = reader.join().unwrap();
    r.unwrap();
    Spawned {
        child,
        addr: listening_addr(&line),
        first_line: line,
        stdout,
    }
}

/// A test that fails midway leaves no server behind.
impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Spawned {
    /// A client on a fresh connection to the child.
    pub fn connect(&self) -> Client {
        Client::connect(self.addr.parse().expect("listening address"))
    }

    /// Sends `sig` and waits for the exit, at most `limit`: the status, and how long the exit
    /// took from the signal.
    pub fn signal_and_wait(&mut self, sig: i32, limit: Duration) -> (ExitStatus, Duration) {
        let t = Instant::now();
        signal(&self.child, sig);
        let status = wait_exit(&mut self.child, limit);
        (status, t.elapsed())
    }

    /// All of stderr, to its end (once the child has exited).
    pub fn read_stderr(&mut self) -> String {
        let mut err = String::new();
        self.child
            .stderr
            .take()
            .expect("stderr already taken")
            .read_to_string(&mut err)
            .unwrap();
        err
    }
}

/// The binary with exactly `args` and `env`, stdout and stderr piped.
fn spawn_piped(args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(args)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn spindle")
}

/// Sends `sig` to the child.
pub fn signal(child: &std::process::Child, sig: i32) {
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

/// Waits for the child to exit, at most `limit` (then kills it and fails).
pub fn wait_exit(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let until = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("spindle did not exit within {limit:?}");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Runs the binary with `args` to its end, at most `READ_TIMEOUT` (a server that starts
/// instead of failing is killed and the test fails): its status, stdout and stderr.
pub fn run_binary(args: &[&str]) -> (std::process::ExitStatus, String, String) {
    finish(spawn_piped(args, &[]), READ_TIMEOUT)
}

/// Waits for `child` to exit, at most `limit` (else it is killed and the test fails): its
/// status, and what it wrote to whichever of stdout and stderr were piped.
pub fn finish(
    mut child: std::process::Child,
    limit: Duration,
) -> (std::process::ExitStatus, String, String) {
    let status = wait_exit(&mut child, limit);
    let (mut out, mut err) = (String::new(), String::new());
    if let Some(mut pipe) = child.stdout.take() {
        pipe.read_to_string(&mut out).unwrap();
    }
    if let Some(mut pipe) = child.stderr.take() {
        pipe.read_to_string(&mut err).unwrap();
    }
    (status, out, err)
}

/// Parses the object starting at `s[i]` (a `{`), its numbers into `values` under `prefix`;
/// returns the index after its `}`.
fn parse_object(s: &str, mut i: usize, prefix: &str, values: &mut Vec<(String, String)>) -> usize {
    let b = s.as_bytes();
    assert_eq!(b[i], b'{', "expected an object at {i} in {s}");
    i += 1;
    loop {
        match b[i] {
            b'}' => return i + 1,
            b',' => i += 1,
            b'"' => {
                let end = i + 1 + s[i + 1..].find('"').expect("unterminated key");
                let key = format!("{prefix}{}", &s[i + 1..end]);
                i = end + 1;
                assert_eq!(b[i], b':', "expected ':' after key {key} in {s}");
                i = parse_value(s, i + 1, &key, values);
            }
            c => panic!("unexpected {:?} at {i} in {s}", c as char),
        }
    }
}

/// Parses a number, an object or an array of objects at `s[i]`; returns the index after it.
fn parse_value(s: &str, mut i: usize, key: &str, values: &mut Vec<(String, String)>) -> usize {
    let b = s.as_bytes();
    match b[i] {
        b'{' => parse_object(s, i, &format!("{key}."), values),
        b'[' => {
            i += 1;
            let mut n = 0;
            loop {
                match b[i] {
                    b']' => return i + 1,
                    b',' => i += 1,
                    _ => {
                        i = parse_value(s, i, &format!("{key}.{n}"), values);
                        n += 1;
                    }
                }
            }
        }
        _ => {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            let n = &s[start..i];
            n.parse::<f64>()
                .unwrap_or_else(|_| panic!("value of {key} is not a number in {s}"));
            values.push((key.to_owned(), n.to_owned()));
            i
        }
    }
}
