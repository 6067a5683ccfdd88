//! The integration tests' toolkit, one module per concern:
//!
//! - [`server`]: a [`TestServer`] in this process on an ephemeral port, its `/-/stats`, and the
//!   `spindle` binary or an `examples/` server as a child process (spawn, signal, wait for its
//!   exit);
//! - [`client`]: a raw, strict HTTP/1.1 [`Client`] that reads exactly one [`Response`] at a
//!   time from a persistent buffer (so pipelined responses can be read one after another),
//!   and the request builders;
//! - [`wait`]: [`eventually`], for what the server does on its own time;
//! - [`fs`]: scratch directories removed on drop, FIFOs, the empty ROOT;
//! - [`alog`]: access-log lines parsed strictly, a slow reader of a FIFO, and a load that gives
//!   every request a line of its own;
//! - [`tls`]: a test CA, a server that speaks TLS with its leaf, and a blocking rustls client.

#![allow(dead_code)]

pub mod alog;
pub mod client;
pub mod fs;
pub mod server;
#[cfg(feature = "tls")]
pub mod tls;
pub mod wait;

// Every test file takes what it needs from here; none takes all of it.
#[allow(unused_imports)]
pub use {alog::*, client::*, fs::*, server::*, wait::*};

use std::time::Duration;

/// How long any single read may block before the test fails instead of hanging.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The `/-/bytes/N` pattern: byte `i` is `PATTERN[i % 64]`.
pub const PATTERN: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The expected body of `/-/bytes/n`.
pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| PATTERN[i % 64]).collect()
}

/// The suite runs under `SPINDLE_TORTURE=1` too (tiny socket buffers, tiny reads and writes,
/// see `.ci/run`): large payloads are scaled down there so that it stays quick.
pub fn torture() -> bool {
    std::env::var_os("SPINDLE_TORTURE").is_some_and(|v| !v.is_empty() && v != "0")
}

/// `n`, or a sixteenth of it in torture mode.
pub fn scaled(n: usize) -> usize {
    if torture() {
        (n / 16).max(1)
    } else {
        n
    }
}
