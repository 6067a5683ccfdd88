//! The command line on the binary (SPEC §2): a zero or negative duration or count is a usage
//! error (exit 2, clap's message) unless the option says what zero means; log lines go to
//! stderr, and stdout carries only the `listening` lines and `--access-log -`.

mod common;

use std::io::Read;
use std::process::Command;
use std::time::Duration;

use common::get;

fn assert_usage_error(args: &[&str], option: &str) {
    let root = common::empty_root();
    let mut all = vec!["--bind", "127.0.0.1:0"];
    all.extend_from_slice(args);
    all.push(root.to_str().unwrap());
    let (status, out, err) = common::run_binary(&all);
    assert_eq!(status.code(), Some(2), "{args:?}: {err}");
    assert!(
        err.starts_with("error: ") && err.contains(option) && err.contains("--help"),
        "{args:?}: {err}"
    );
    assert!(out.is_empty(), "{args:?} printed on stdout: {out}");
}

#[test]
fn zero_or_negative_durations_and_counts_are_usage_errors() {
    for option in [
        "--workers",
        "--max-connections",
        "--request-timeout",
        "--keep-alive-timeout",
        "--write-timeout",
        "--shutdown-grace",
        "--max-head",
        "--stats-interval",
    ] {
        for value in ["0", "-1"] {
            let arg = format!("{option}={value}");
            assert_usage_error(&[&arg], option);
        }
        assert_usage_error(&[option, "-5"], "-5");
    }
    for option in [
        "--request-timeout",
        "--keep-alive-timeout",
        "--write-timeout",
        "--shutdown-grace",
    ] {
        // Rounds to zero nanoseconds: as good as zero.
        for value in ["0.0", "1e-12", "-0.5"] {
            let arg = format!("{option}={value}");
            assert_usage_error(&[&arg], option);
        }
    }
    assert_usage_error(&["--max-body=-1"], "--max-body");
}

/// `--max-body 0` is documented: no request bodies; a request with one gets 413.
#[test]
fn max_body_0_means_no_bodies() {
    let mut srv = common::spawn_binary_piped(&[
        "--bind",
        "127.0.0.1:0",
        "-q",
        "--max-body",
        "0",
        "--allow-host", // the Host of common::post
        "test",
        common::empty_root().to_str().unwrap(),
    ]);
    let mut c = srv.connect();
    assert_eq!(c.request(get("/-/plaintext").as_bytes()).status, 200);
    let mut c = srv.connect();
    let r = c.request(&common::post("/-/echo", "text/plain", b""));
    assert_eq!(r.status, 200, "an empty body is no body");
    let mut c = srv.connect();
    let r = c.request(&common::post("/-/echo", "text/plain", b"x"));
    assert_eq!(r.status, 413);
    let (status, _) = srv.signal_and_wait(libc::SIGTERM, Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
    let help = Command::new(env!("CARGO_BIN_EXE_spindle"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("0: no bodies"), "{help}");
}

#[test]
fn log_lines_go_to_stderr_and_stdout_has_only_listening_and_access_lines() {
    let mut srv = common::spawn_binary_piped(&[
        "--bind",
        "127.0.0.1:0",
        "-v",
        "--access-log",
        "-",
        common::empty_root().to_str().unwrap(),
    ]);
    let mut c = srv.connect();
    assert_eq!(c.request(get("/-/plaintext").as_bytes()).status, 200);
    drop(c);
    let (status, _) = srv.signal_and_wait(libc::SIGTERM, Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
    let mut out = String::new();
    srv.stdout.read_to_string(&mut out).unwrap();
    let err = srv.read_stderr();
    assert!(srv.first_line.starts_with("listening on http://"));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "stdout after the listening line: {out:?}");
    assert!(
        lines[0].starts_with("127.0.0.1 - - [")
            && lines[0].ends_with("\"GET /-/plaintext HTTP/1.1\" 200 13 \"-\" \"-\""),
        "{out:?}"
    );
    // The logger's lines, info and debug alike, are on stderr.
    for needle in ["started", "accepted from", "shut down"] {
        assert!(err.contains(needle), "no {needle:?} on stderr: {err}");
    }
}

/// Under a wildcard listener, one `  reachable at http://IP:PORT/` line per interface address
/// of its family follows its `listening on` line (unchanged, for scripts), with the real port,
/// and each is served; a specific address gets none.
#[test]
fn a_wildcard_listener_says_where_it_is_reachable() {
    use std::io::BufRead;
    let root = common::empty_root();
    let mut srv = common::spawn_binary_piped(&[
        "--bind",
        "0.0.0.0:0",
        "--bind",
        "127.0.0.1:0",
        "-q",
        root.to_str().unwrap(),
    ]);
    let port = srv.addr.rsplit(':').next().unwrap().to_string();
    assert_eq!(
        srv.first_line.trim_end(),
        format!(
            "listening on http://0.0.0.0:{port}/ serving {}",
            root.display()
        )
    );
    // The reachable lines, up to the second listener's own line.
    let mut reachable = Vec::new();
    loop {
        let mut line = String::new();
        assert!(
            srv.stdout.read_line(&mut line).unwrap() > 0,
            "{reachable:?}"
        );
        if line.starts_with("listening on http://127.0.0.1:") {
            assert!(!line.contains(&format!(":{port}/")), "{line}");
            break;
        }
        reachable.push(line.trim_end_matches('\n').to_string());
    }
    let loopback = format!("  reachable at http://127.0.0.1:{port}/");
    assert!(reachable.contains(&loopback), "{reachable:?}");
    for line in &reachable {
        let url = line.strip_prefix("  reachable at http://").expect(line);
        let addr: std::net::SocketAddr = url.strip_suffix('/').unwrap().parse().expect(line);
        assert!(addr.is_ipv4() && addr.port().to_string() == port, "{line}");
        // Each address really answers.
        let mut c = common::Client::connect(addr);
        assert_eq!(
            c.request(get("/-/plaintext").as_bytes()).status,
            200,
            "{line}"
        );
    }
    let (status, _) = srv.signal_and_wait(libc::SIGTERM, Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
    let mut out = String::new();
    srv.stdout.read_to_string(&mut out).unwrap();
    assert_eq!(out, "", "nothing under the specific address's line");
}
