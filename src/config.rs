//! Everything the command line can set, with SPEC §2's defaults.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::trace::TraceFilter;

#[derive(Clone, Debug)]
pub struct Config {
    pub root: PathBuf,
    pub binds: Vec<SocketAddr>,
    pub workers: usize,
    /// `--reuse-port`: join a port another spindle holds (for a restart), even with one worker.
    pub reuse_port: bool,
    pub max_connections: usize,
    pub request_timeout: Duration,
    pub keep_alive_timeout: Duration,
    pub write_timeout: Duration,
    pub shutdown_grace: Duration,
    pub max_head: usize,
    pub max_body: u64,
    /// `--max-upload`: the largest multipart upload from the listing page's form.
    pub max_upload: u64,
    pub allow_write: bool,
    pub listing: bool,
    pub show_hidden: bool,
    /// `--spa`: a missing path without an extension gets ROOT's `index.html`.
    pub spa: bool,
    pub builtins: bool,
    pub access_log: Option<String>,
    /// `--trace-conn`: narrate only the connections this picks.
    pub trace_conn: Option<TraceFilter>,
    /// `--stats-interval`: a one-line summary on stderr this often (off: `None`).
    pub stats_interval: Option<Duration>,
    /// `--allow-host`: names a write's `Host` may carry besides IP literals, `localhost` and
    /// this machine's hostname.
    pub allow_hosts: Vec<String>,
    /// `--allow-origin`: other origins whose pages may write (`http://localhost:3000`).
    pub allow_origins: Vec<String>,
    /// `--auth`: the credentials Basic authentication accepts (none: no authentication).
    pub auth: Vec<crate::policy::auth::Credential>,
    /// `--auth-writes-only`: credentials only for state-changing requests.
    pub auth_writes_only: bool,
    /// `--header`: fields added to every response, checked (`policy::headers::parse`).
    pub headers: Vec<(String, String)>,
    /// `--cors`: preflights answered, `Access-Control-Allow-Origin: *` on every response.
    pub cors: bool,
    /// `--tls-cert`/`--tls-key` or `--tls-self-signed`: the `--bind` listeners speak TLS.
    pub tls: Option<TlsSource>,
    /// `--bind-plain`: plain-HTTP listeners beside the TLS ones.
    pub plain_binds: Vec<SocketAddr>,
    /// `--redirect-https`: the plain listeners answer 308 to the HTTPS URL.
    pub redirect_https: bool,
}

/// Where the TLS certificate comes from.
#[derive(Clone, Debug)]
pub enum TlsSource {
    /// PEM files: the chain (leaf first) and its private key.
    Files { cert: PathBuf, key: PathBuf },
    /// Made at start-up for this machine; its PEM written to `out`, if given.
    SelfSigned { out: Option<PathBuf> },
}

impl Default for Config {
    fn default() -> Self {
        Config {
            root: PathBuf::from("."),
            binds: vec![SocketAddr::from(([127, 0, 0, 1], 8080))],
            workers: 1,
            reuse_port: false,
            max_connections: 10_000,
            request_timeout: Duration::from_secs(10),
            keep_alive_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
            max_head: 32 * 1024,
            max_body: 1024 * 1024,
            max_upload: 4 << 30,
            allow_write: false,
            listing: true,
            show_hidden: false,
            spa: false,
            builtins: true,
            access_log: None,
            trace_conn: None,
            stats_interval: None,
            allow_hosts: Vec::new(),
            allow_origins: Vec::new(),
            auth: Vec::new(),
            auth_writes_only: false,
            headers: Vec::new(),
            cors: false,
            tls: None,
            plain_binds: Vec::new(),
            redirect_https: false,
        }
    }
}

/// Descriptors kept free for files, logs and the poll itself when clamping connections.
pub const RESERVED_FDS: u64 = 64;

impl Config {
    /// Clamps `max_connections` (per worker) so that the connections of all workers together
    /// cannot use up every descriptor. Returns the old value if it changed.
    pub fn clamp_connections(&mut self, nofile: u64) -> Option<usize> {
        let workers = self.workers.max(1) as u64;
        let cap = (nofile.saturating_sub(RESERVED_FDS) / workers).max(1) as usize;
        if self.max_connections > cap {
            let old = self.max_connections;
            self.max_connections = cap;
            Some(old)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_descriptor_clamp_shares_the_limit_among_the_workers() {
        let mut c = Config {
            max_connections: 10_000,
            ..Config::default()
        };
        assert_eq!(c.clamp_connections(100_000), None, "room for 10 000");
        c.workers = 4;
        assert_eq!(c.clamp_connections(20_064), Some(10_000));
        assert_eq!(c.max_connections, 5_000, "(20 064 - 64) / 4 each");
        c.workers = 1000;
        c.max_connections = 10;
        assert_eq!(c.clamp_connections(100), Some(10));
        assert_eq!(c.max_connections, 1, "never 0");
    }
}
