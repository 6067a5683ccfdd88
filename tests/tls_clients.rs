//! HTTPS with real clients: the `spindle` binary with a certificate it makes itself
//! (`--tls-self-signed --tls-self-signed-out`) or one from files made by `openssl`, talked to
//! by curl, python's `ssl` + `http.client` and `openssl s_client`, each verifying the
//! certificate against the PEM the server wrote (never `-k`). These are the clients users
//! have: what they negotiate (ALPN, TLS 1.2 and 1.3, key types) is what they would see.
//!
//! A test whose tool is missing says so and passes; `.ci/run` installs curl and openssl.
#![cfg(feature = "tls")]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::{pattern, ScratchDir};

/// The longest any client command may take before the test kills it and fails.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(20);
/// The big file: enough for many full TLS records, copied through the output buffer (TLS
/// cannot `sendfile`).
const BIG: usize = 300 * 1024;

/// Whether `tool` runs here; if not, says which test is skipped and why.
fn have(tool: &str, version_arg: &str, test: &str) -> bool {
    let ok = Command::new(tool)
        .arg(version_arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipping {test}: `{tool}` is not installed (.ci/run installs it)");
    }
    ok
}

/// A server child, killed on drop, and the scratch directory it serves from.
struct Https {
    child: Child,
    port: u16,
    dir: ScratchDir,
}

impl Drop for Https {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Https {
    /// ROOT holding `a.txt` and `big.bin`, served with `tls_args` on 127.0.0.1:0.
    fn start(dir: ScratchDir, tls_args: &[&str]) -> Https {
        let root = dir.mkdir("root");
        std::fs::write(root.join("a.txt"), "hello over tls\n").unwrap();
        std::fs::write(root.join("big.bin"), pattern(BIG)).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_spindle"))
            .args(tls_args)
            .args(["-q", "-b", "127.0.0.1:0"])
            .arg(&root)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn spindle");
        let line = first_line(&mut child);
        let port = https_port(&line).unwrap_or_else(|| {
            let _ = child.kill();
            panic!("unexpected start-up line {line:?}")
        });
        Https { child, port, dir }
    }

    /// With a certificate it makes itself, written to `cert.pem` for the clients.
    fn self_signed(tag: &str) -> Https {
        let dir = ScratchDir::new(tag);
        let out = dir.join("cert.pem");
        let out = out.to_str().unwrap();
        Https::start(dir, &["--tls-self-signed", "--tls-self-signed-out", out])
    }

    /// The certificate the clients trust.
    fn ca(&self) -> PathBuf {
        self.dir.join("cert.pem")
    }

    fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }
}

/// The child's first stdout line, waited for at most `CLIENT_TIMEOUT`.
fn first_line(child: &mut Child) -> String {
    let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut line = String::new();
        let _ = out.read_line(&mut line);
        let _ = tx.send(line);
        // Keep reading, so the server never blocks on a full stdout pipe.
        let _ = std::io::copy(&mut out, &mut std::io::sink());
    });
    rx.recv_timeout(CLIENT_TIMEOUT).unwrap_or_else(|_| {
        let _ = child.kill();
        panic!("no listening line within {CLIENT_TIMEOUT:?}")
    })
}

/// The port of a `listening on https://127.0.0.1:PORT/ serving …` line.
fn https_port(line: &str) -> Option<u16> {
    let rest = line.strip_prefix("listening on https://127.0.0.1:")?;
    rest.split('/').next()?.parse().ok()
}

/// Runs `cmd` to its end with `stdin` fed to it, at most `CLIENT_TIMEOUT` (then it is killed
/// and the test fails).
fn run(cmd: &mut Command, stdin: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the client");
    let pid = child.id();
    let mut input = child.stdin.take().expect("piped stdin");
    let stdin = stdin.to_vec();
    // Written from a thread and left open until written: s_client quits at its end.
    thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(CLIENT_TIMEOUT) {
        Ok(out) => out.expect("wait for the client"),
        Err(_) => {
            // SAFETY: kill(2) on our own child's pid, which has not been reaped yet.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("{cmd:?} did not finish within {CLIENT_TIMEOUT:?}")
        }
    }
}

/// Output as text, for messages and matching.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `curl -sS --cacert CA --max-time 10 ARGS`, which must succeed: its stdout.
fn curl(ca: &Path, args: &[&str]) -> Vec<u8> {
    let out = run(
        Command::new("curl")
            .args(["-sS", "--max-time", "10", "--cacert"])
            .arg(ca)
            .args(args),
        b"",
    );
    assert!(
        out.status.success(),
        "curl {args:?}: {}\n{}",
        out.status,
        text(&out.stderr)
    );
    out.stdout
}

/// The head of a `curl -i` / `-I` answer, lower-cased, and what follows it.
fn split_head(raw: &[u8]) -> (String, &[u8]) {
    let at = memchr::memmem::find(raw, b"\r\n\r\n").expect("a complete head");
    (text(&raw[..at]).to_ascii_lowercase(), &raw[at + 4..])
}

#[test]
fn curl_gets_heads_and_ranges_over_the_self_signed_certificate() {
    if !have("curl", "--version", "curl_gets_heads_and_ranges…") {
        return;
    }
    let server = Https::self_signed("tls-curl");
    let ca = server.ca();

    let got = curl(&ca, &["-i", &server.url("/a.txt")]);
    let (head, body) = split_head(&got);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-length: 15"), "{head}");
    assert_eq!(body, b"hello over tls\n");

    // HEAD: the same head, no body (curl would complain of one that came anyway).
    let got = curl(&ca, &["-I", &server.url("/a.txt")]);
    let (head, body) = split_head(&got);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-length: 15"), "{head}");
    assert!(body.is_empty(), "{:?}", text(body));

    // A range of the big file, HTTP/1.1 asked for outright, and which version and
    // verification curl reports.
    let got = curl(
        &ca,
        &[
            "--http1.1",
            "-r",
            "1000-70999",
            "-i",
            "-w",
            "\n%{http_version} %{ssl_verify_result}",
            &server.url("/big.bin"),
        ],
    );
    let (head, rest) = split_head(&got);
    assert!(head.starts_with("http/1.1 206"), "{head}");
    assert!(head.contains("content-range: bytes 1000-70999/"), "{head}");
    let (body, tail) = rest.split_at(70_000);
    assert_eq!(body, &pattern(71_000)[1000..]);
    assert_eq!(text(tail), "\n1.1 0");

    // The whole big file, then two files on one connection (keep-alive over TLS).
    assert_eq!(curl(&ca, &[&server.url("/big.bin")]), pattern(BIG));
    let two = curl(&ca, &[&server.url("/a.txt"), &server.url("/a.txt")]);
    assert_eq!(two, b"hello over tls\nhello over tls\n");
}

#[test]
fn curl_without_the_certificate_refuses_it() {
    if !have(
        "curl",
        "--version",
        "curl_without_the_certificate_refuses_it",
    ) {
        return;
    }
    let server = Https::self_signed("tls-curl-untrusted");
    // The default trust store does not know a self-signed certificate: the --cacert above
    // is what makes the other tests pass, not a client that verifies nothing.
    let out = run(
        Command::new("curl")
            .args(["-sS", "--max-time", "10"])
            .arg(server.url("/a.txt")),
        b"",
    );
    // 60: the peer's certificate was not verified (77 where the machine has no CA bundle).
    let code = out.status.code();
    assert!(
        matches!(code, Some(60 | 77)),
        "{code:?}: {}",
        text(&out.stderr)
    );
}

#[test]
fn python_ssl_and_http_client_verify_and_keep_alive() {
    if !have("python3", "--version", "python_ssl_and_http_client…") {
        return;
    }
    let server = Https::self_signed("tls-python");
    let script = r#"
import http.client, ssl, sys
ca, port = sys.argv[1], int(sys.argv[2])
ctx = ssl.create_default_context(cafile=ca)
ctx.set_alpn_protocols(["http/1.1"])
conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=10)
for path in ["/a.txt", "/big.bin", "/a.txt"]:
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    print(r.status, len(body), body[:14].decode("latin-1"))
sock = conn.sock
print(sock.version(), sock.selected_alpn_protocol(), ctx.check_hostname)
conn.close()
"#;
    let out = run(
        Command::new("python3")
            .args(["-c", script])
            .arg(server.ca())
            .arg(server.port.to_string()),
        b"",
    );
    assert!(out.status.success(), "python: {}", text(&out.stderr));
    let want = format!(
        "200 15 hello over tls\n200 {BIG} {}\n200 15 hello over tls\nTLSv1.3 http/1.1 True\n",
        text(&pattern(14))
    );
    assert_eq!(text(&out.stdout), want);
}

/// `openssl s_client` with `version` (`-tls1_2`, `-tls1_3`) sending one request: its output.
fn s_client(server: &Https, version: &str) -> String {
    let request = b"GET /a.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let out = run(
        Command::new("openssl")
            .args(["s_client", "-connect"])
            .arg(format!("127.0.0.1:{}", server.port))
            .args(["-servername", "localhost", "-alpn", "http/1.1", "-CAfile"])
            .arg(server.ca())
            // Keep the session open at the end of stdin, till the server closes it.
            .args([version, "-ign_eof"]),
        request,
    );
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(out.status.success(), "s_client {version}: {all}");
    all
}

#[test]
fn openssl_s_client_verifies_and_negotiates_alpn_on_tls_1_2_and_1_3() {
    if !have("openssl", "version", "openssl_s_client…") {
        return;
    }
    let server = Https::self_signed("tls-openssl");
    for (flag, name) in [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")] {
        let out = s_client(&server, flag);
        assert!(out.contains("Verify return code: 0 (ok)"), "{flag}: {out}");
        assert!(out.contains("ALPN protocol: http/1.1"), "{flag}: {out}");
        assert!(
            out.contains(&format!("New, {name}, Cipher is")),
            "{flag}: {out}"
        );
        let at = out
            .find("HTTP/1.1 200 OK\r\n")
            .unwrap_or_else(|| panic!("{out}"));
        assert!(
            out[at..].contains("\r\n\r\nhello over tls\n"),
            "{flag}: {out}"
        );
    }
}

/// Runs `openssl ARGS` in `dir`, which must succeed.
fn openssl(dir: &Path, args: &[&str]) {
    let out = run(Command::new("openssl").current_dir(dir).args(args), b"");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        text(&out.stderr)
    );
}

/// Serves the certificate `cert.pem` with `key` (both in `dir`) and fetches a file with curl.
fn serve_and_fetch(dir: ScratchDir, key: &str, key_header: &str) {
    let key_pem = std::fs::read_to_string(dir.join(key)).unwrap();
    assert!(key_pem.starts_with(key_header), "{key}: {key_pem}");
    let cert = dir.join("cert.pem");
    let key = dir.join(key);
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let server = Https::start(dir, &["--tls-cert", cert, "--tls-key", key]);
    let body = curl(&server.ca(), &[&server.url("/a.txt")]);
    assert_eq!(body, b"hello over tls\n", "{key_header}");
}

/// `openssl req -x509` for localhost with `key_args` (a new key, or `-key FILE`).
fn self_signed_by_openssl(dir: &Path, key_args: &[&str]) {
    let mut args = vec!["req", "-x509", "-days", "2", "-subj", "/CN=localhost"];
    args.extend(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]);
    args.extend(["-out", "cert.pem"]);
    args.extend(key_args);
    openssl(dir, &args);
}

#[test]
fn own_certificate_with_an_rsa_key_in_pkcs8_and_pkcs1() {
    if !have("openssl", "version", "own_certificate_with_an_rsa_key…")
        || !have("curl", "--version", "own_certificate_with_an_rsa_key…")
    {
        return;
    }
    let dir = ScratchDir::new("tls-rsa");
    let new_key = ["-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem"];
    self_signed_by_openssl(dir.path(), &new_key);
    // The same key as PKCS#1 (`BEGIN RSA PRIVATE KEY`), as older tools write it.
    openssl(
        dir.path(),
        &["rsa", "-in", "key.pem", "-traditional", "-out", "rsa.pem"],
    );
    let pkcs1 = ScratchDir::new("tls-rsa-pkcs1");
    for f in ["cert.pem", "rsa.pem"] {
        std::fs::copy(dir.join(f), pkcs1.join(f)).unwrap();
    }
    serve_and_fetch(dir, "key.pem", "-----BEGIN PRIVATE KEY-----");
    serve_and_fetch(pkcs1, "rsa.pem", "-----BEGIN RSA PRIVATE KEY-----");
}

#[test]
fn own_certificate_with_an_ec_key_in_sec1() {
    if !have(
        "openssl",
        "version",
        "own_certificate_with_an_ec_key_in_sec1",
    ) || !have(
        "curl",
        "--version",
        "own_certificate_with_an_ec_key_in_sec1",
    ) {
        return;
    }
    let dir = ScratchDir::new("tls-ec");
    let genkey = ["ecparam", "-genkey", "-name", "prime256v1", "-noout"];
    openssl(dir.path(), &[&genkey[..], &["-out", "key.pem"]].concat());
    self_signed_by_openssl(dir.path(), &["-key", "key.pem"]);
    serve_and_fetch(dir, "key.pem", "-----BEGIN EC PRIVATE KEY-----");
}
