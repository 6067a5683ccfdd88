//! Issue 12, watching the server: `/-/metrics` read by a real Prometheus parser (Python's
//! `prometheus_client`), the latency quantiles of `/-/stats`, and `--stats-interval`'s line.

mod common;

use std::io::{BufRead, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

/// Checks `/-/metrics` text (stdin) with `prometheus_client`'s parser against what the test
/// made (argv[1], JSON): the families and their types, every class's buckets cumulative and
/// ending in `+Inf` = `_count`, the counts by class, and the requests in all.
const CHECK: &str = r#"
import json, sys
try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    sys.exit("prometheus_client is missing: pip install prometheus_client")
want = json.loads(sys.argv[1])
fams = {f.name: f for f in text_string_to_metric_families(sys.stdin.read())}
for name, kind in [
    ("spindle_uptime_seconds", "gauge"),
    ("spindle_connections_open", "gauge"),
    ("spindle_connections", "counter"),
    ("spindle_requests", "counter"),
    ("spindle_bytes_in", "counter"),
    ("spindle_bytes_out", "counter"),
    ("spindle_responses", "counter"),
    ("spindle_timeouts", "counter"),
    ("spindle_refused", "counter"),
    ("spindle_access_log_dropped", "counter"),
    ("spindle_request_duration_seconds", "histogram"),
]:
    assert name in fams, (name, sorted(fams))
    assert fams[name].type == kind, (name, fams[name].type)
    assert fams[name].documentation, name
h = fams["spindle_request_duration_seconds"].samples
counts = {}
for cls in ["1xx", "2xx", "3xx", "4xx", "5xx"]:
    buckets = sorted((float(s.labels["le"]), s.value) for s in h
                     if s.name.endswith("_bucket") and s.labels["class"] == cls)
    assert len(buckets) == 17 and buckets[-1][0] == float("inf"), (cls, buckets)
    values = [v for _, v in buckets]
    assert values == sorted(values), ("not cumulative", cls, values)
    count = [s.value for s in h if s.name.endswith("_count") and s.labels["class"] == cls]
    total = [s.value for s in h if s.name.endswith("_sum") and s.labels["class"] == cls]
    assert count == [values[-1]] and len(total) == 1 and total[0] >= 0, (cls, count, total)
    counts[cls] = int(values[-1])
    if cls == "2xx":
        le = dict(buckets)
        assert le[0.025] < values[-1], ("the 30 ms delay is above 25 ms", buckets)
assert counts == want["classes"], (counts, want)
requests = [s for s in fams["spindle_requests"].samples if s.name == "spindle_requests_total"]
assert [s.labels for s in requests] == [{"worker": "1"}], requests
assert requests[0].value == want["requests"] == sum(counts.values()), (requests, want)
codes = {s.labels["code"]: s.value for s in fams["spindle_responses"].samples}
assert codes == want["codes"], (codes, want)
print("ok")
"#;

/// Python 3, if this machine has it.
fn python() -> Option<&'static str> {
    let ok = Command::new("python3")
        .args(["-c", "pass"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIPPED: python3 is not installed, so /-/metrics cannot be checked with prometheus_client");
    }
    ok.then_some("python3")
}

#[test]
fn metrics_parse_with_prometheus_client_and_count_every_request() {
    let Some(python) = python() else {
        return;
    };
    let root = ScratchDir::new("metrics");
    root.write("big.bin", vec![b'x'; 1 << 20]); // sent with sendfile
    let srv = TestServer::with(|c| c.root = root.path().to_owned());
    let mut c = srv.connect();
    for _ in 0..10 {
        assert_eq!(c.request(get("/-/plaintext").as_bytes()).status, 200);
    }
    c.send(get("/-/plaintext").repeat(16).as_bytes());
    for _ in 0..16 {
        assert_eq!(c.read_response().status, 200);
    }
    for (path, status) in [
        ("/-/delay/30", 200),
        ("/-/bytes/300000", 200),
        ("/-/stream/5", 200),
        ("/big.bin", 200),
        ("/-/status/503", 503),
        ("/nothing-here", 404),
    ] {
        let r = c.request(get(path).as_bytes());
        assert_eq!(r.status, status, "{path}");
    }
    drop(c);
    // 100 Continue is not a response of its own; the 200 after the body is.
    let mut e = srv.connect();
    e.send(b"POST /-/echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nExpect: 100-continue\r\nConnection: close\r\n\r\nabc");
    let all = String::from_utf8_lossy(&e.read_to_close()).into_owned();
    assert!(
        all.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"),
        "{all}"
    );
    // A broken head: 400, and the close.
    let mut b = srv.connect();
    b.send(b"GET / HTTP/1.1\r\nBad Header\r\n\r\n");
    assert!(String::from_utf8_lossy(&b.read_to_close()).starts_with("HTTP/1.1 400 "));

    let r = srv.get("/-/metrics");
    r.assert_framed();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain; version=0.0.4"));
    let want = r#"{"requests": 34, "classes": {"1xx": 0, "2xx": 31, "3xx": 0, "4xx": 2, "5xx": 1},
        "codes": {"200": 31, "400": 1, "404": 1, "503": 1}}"#;
    let mut child = Command::new(python)
        .args(["-c", CHECK, want])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&r.body).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout == b"ok\n",
        "prometheus_client says:\n{}{}\non:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        r.body_str()
    );
    assert_eq!(srv.get("/-/metrics/x").status, 404);
    let mut p = srv.connect();
    assert_eq!(
        p.request(&post("/-/metrics", "text/plain", b"")).status,
        405
    );
}

#[test]
fn stats_show_latency_quantiles_overall_and_per_worker() {
    let srv = TestServer::start();
    let s = srv.stats();
    for key in [
        "latency_ms.p50",
        "latency_ms.p99",
        "workers.0.latency_ms.p90",
    ] {
        assert_eq!(
            s.real(key),
            Some(0.0),
            "nothing observed yet: {key} in {s:?}"
        );
    }
    // Five 70 ms delays: every one in the (50 ms, 100 ms] bucket (30 ms to spare for a stall).
    let mut c = srv.connect();
    for _ in 0..5 {
        assert_eq!(c.request(get("/-/delay/70").as_bytes()).status, 200);
    }
    let s = srv.stats();
    for prefix in ["", "workers.0."] {
        let q = |p: &str| s.real(&format!("{prefix}latency_ms.{p}")).unwrap();
        let (p50, p90, p99) = (q("p50"), q("p90"), q("p99"));
        // The first /-/stats, answered in the turn its head came: 0, in the first bucket.
        // Then interpolated within (50, 100] as histogram_quantile does: rank 6q, the first
        // of the bucket's five at rank 1, so 50 + 50 × (6q - 1) / 5.
        assert_eq!((p50, p90, p99), (70.0, 94.0, 99.4), "{prefix}: {s:?}");
    }
    assert_eq!(s.count("requests_total"), 6, "one /-/stats and five delays");
}

#[test]
fn metrics_label_each_worker() {
    let srv = TestServer::with(|c| c.workers = 2);
    for _ in 0..20 {
        assert_eq!(srv.get("/-/plaintext").status, 200);
    }
    let text = srv.get("/-/metrics").body_str();
    for w in ["1", "2"] {
        for name in ["connections_open", "connections_total", "requests_total"] {
            let series = format!("spindle_{name}{{worker=\"{w}\"}} ");
            assert!(text.contains(&series), "no {series} in\n{text}");
        }
    }
}

#[test]
fn stats_interval_prints_a_line_each_interval_from_the_board() {
    let root = empty_root();
    let mut s = spawn_binary_piped(&[
        "--bind",
        "127.0.0.1:0",
        "-q",
        "--stats-interval",
        "0.5",
        root.to_str().unwrap(),
    ]);
    let err = s.child.stderr.take().unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(err).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let next = || {
        lines
            .recv_timeout(Duration::from_secs(3))
            .expect("a line every 0.5 s")
    };
    // One interval with nothing to count.
    let first = next();
    let idle = parse_line(&first);
    assert_eq!((idle.0, idle.2), (0.0, None), "{first}");
    let mut c = s.connect();
    for _ in 0..100 {
        assert_eq!(c.request(get("/-/plaintext").as_bytes()).status, 200);
    }
    // The next lines count the 100 between them (req/s × the interval), with the one
    // connection open and a p99 while there were requests.
    let (mut counted, mut seen) = (0.0, Vec::new());
    while counted < 99.5 && seen.len() < 6 {
        let line = next();
        let (rate, open, p99, secs) = parse_line(&line);
        counted += rate * secs;
        if rate > 0.0 {
            assert!(p99.is_some(), "{line}");
        }
        assert_eq!(open, 1, "{line}");
        seen.push(line);
    }
    assert!(
        (counted - 100.0).abs() < 1.0,
        "{counted} requests in {seen:?}"
    );
}

/// `stats: 1523.4 req/s, 12 open, p99 0.25 ms (last 0.5 s)`: (req/s, open, p99 ms, seconds).
fn parse_line(line: &str) -> (f64, u64, Option<f64>, f64) {
    let bad = || -> ! { panic!("not a stats line: {line:?}") };
    let rest = line.strip_prefix("stats: ").unwrap_or_else(|| bad());
    let (rate, rest) = rest.split_once(" req/s, ").unwrap_or_else(|| bad());
    let (open, rest) = rest.split_once(" open, p99 ").unwrap_or_else(|| bad());
    let (p99, rest) = rest.split_once(" (last ").unwrap_or_else(|| bad());
    let secs = rest.strip_suffix(" s)").unwrap_or_else(|| bad());
    let p99 = match p99 {
        "-" => None,
        ms => Some(
            ms.strip_suffix(" ms")
                .unwrap_or_else(|| bad())
                .parse()
                .unwrap(),
        ),
    };
    (
        rate.parse().unwrap(),
        open.parse().unwrap(),
        p99,
        secs.parse().unwrap(),
    )
}
