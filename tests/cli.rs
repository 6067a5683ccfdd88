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
