//! A build without the `tls` cargo feature (`cargo test --no-default-features`, as CI runs it
//! once): asking it for HTTPS is a start-up error, one line and exit 1, never a plain-HTTP
//! server where the user asked for a secure one.
#![cfg(not(feature = "tls"))]

mod common;

use common::{empty_root, run_binary};

/// `args` on 127.0.0.1:0 serving an empty ROOT: exit 1, and stderr's one line says why.
fn refused(args: &[&str]) {
    let root = empty_root();
    let root = root.to_str().unwrap();
    let mut all = vec!["-q", "-b", "127.0.0.1:0"];
    all.extend(args);
    all.push(root);
    let (status, stdout, stderr) = run_binary(&all);
    assert_eq!(status.code(), Some(1), "{args:?}: {stdout}{stderr}");
    assert_eq!(
        stderr, "spindle: this spindle was built without TLS (cargo feature \"tls\")\n",
        "{args:?}"
    );
    assert!(!stdout.contains("listening"), "{args:?}: {stdout}");
}

#[test]
fn tls_cert_is_refused_at_start_up() {
    // The files need not exist: the build cannot use them either way.
    refused(&["--tls-cert", "cert.pem", "--tls-key", "key.pem"]);
}

#[test]
fn tls_self_signed_is_refused_at_start_up() {
    refused(&["--tls-self-signed"]);
}
