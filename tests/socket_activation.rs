//! systemd socket activation: with `LISTEN_PID`/`LISTEN_FDS` set, spindle serves the sockets
//! it inherits instead of binding `--bind`. Run under Debian's `systemd-socket-activate`, which
//! listens, waits for the first client, then execs spindle with the socket as descriptor 3.

mod common;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{get, signal, wait_exit, Client, Stats};

#[test]
fn inherited_listener_is_served_by_every_worker_and_bind_is_ignored() {
    let tool = "/usr/bin/systemd-socket-activate";
    assert!(
        std::path::Path::new(tool).exists(),
        "{tool} is missing: .ci/run installs Debian's systemd package"
    );
    let (mut child, addr) = activate(tool);
    let mut answered_by = Vec::new();
    for _ in 0..40 {
        let mut c = Client::connect(addr);
        c.set_read_timeout(Duration::from_secs(5));
        let r = c.request(get("/-/plaintext").as_bytes());
        assert_eq!((r.status, r.body.as_slice()), (200, &b"Hello, World!"[..]));
        answered_by.push(c);
    }
    let r = Client::connect(addr).request(get("/-/stats").as_bytes());
    let s = Stats::parse(&r.body_str());
    assert!(s.count("requests_total") >= 40, "{s:?}");
    assert!(s.get("workers.1.worker").is_some(), "two workers: {s:?}");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(common::listening_addr(&line), addr.to_string(), "{line}");
    signal(&child, libc::SIGTERM);
    assert_eq!(
        wait_exit(&mut child, Duration::from_secs(5)).code(),
        Some(0)
    );
}

/// Starts `tool` listening on a free port for spindle (two workers, and a `--bind` naming an
/// address this machine does not have: binding it would fail). Clients come only once the
/// tool says it listens: connecting as soon as it was spawned was reset about one run in
/// fifteen while the other test here spawned its child, with the tool still listening and
/// never having seen a client (most likely the port's probe listener, released before the
/// spawn, was still open in the other test's child between its fork and exec). Should the
/// tool fail to bind, the next port is tried.
fn activate(tool: &str) -> (std::process::Child, SocketAddr) {
    for _ in 0..5 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut child = Command::new(tool)
            .args(["-l", &addr.to_string(), env!("CARGO_BIN_EXE_spindle")])
            .args(["--workers", "2", "--bind", "192.0.2.1:80", "-q", "."])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn systemd-socket-activate");
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        err.read_line(&mut line).unwrap();
        if line.starts_with(&format!("Listening on {addr} ")) {
            // Keep reading what the tool and spindle say, so that neither blocks on it.
            std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
            return (child, addr);
        }
        let _ = child.kill();
        let _ = child.wait();
        eprintln!("{tool} on {addr}: {line}");
    }
    panic!("{tool} never listened");
}

#[test]
fn socket_activation_without_sockets_is_a_start_up_error() {
    // `exec` keeps the shell's pid, so LISTEN_PID=$$ names spindle.
    let mut child = Command::new("sh")
        .args([
            "-c",
            "LISTEN_PID=$$ LISTEN_FDS=0 exec \"$0\" --bind 127.0.0.1:0 -q .",
        ])
        .arg(env!("CARGO_BIN_EXE_spindle"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sh");
    // A server that started on no socket at all would never exit: wait_exit fails then.
    let status = wait_exit(&mut child, Duration::from_secs(5));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("systemd passed no sockets"), "{err}");
}
