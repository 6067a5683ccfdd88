//! The command line (SPEC §2): parse options into a `Config`, set up logging, raise the
//! descriptor limit, bind, print where we listen, run. Exit 0 after a clean shutdown, 1 when
//! start-up fails (one-line reason), 2 for a usage error (clap's own).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use log::{info, warn, LevelFilter};

use spindle::config::TlsSource;
use spindle::policy::{self, auth::Credential};
use spindle::trace::TraceFilter;
use spindle::{Config, Server};

#[derive(Parser, Debug)]
#[command(
    name = "spindle",
    version,
    about = "A single-threaded, event-driven HTTP/1.1 server on mio"
)]
struct Cli {
    /// Directory to serve
    #[arg(default_value = ".")]
    root: PathBuf,
    /// Listen address, IPv4 or IPv6 (repeatable)
    #[arg(
        short,
        long = "bind",
        value_name = "ADDR",
        default_value = "127.0.0.1:8080"
    )]
    bind: Vec<SocketAddr>,
    /// Reactors, one per thread: a number, or auto for one per CPU this process may use
    #[arg(short, long, value_name = "N|auto", default_value = "1", value_parser = workers)]
    workers: usize,
    /// Share the port with another spindle (SO_REUSEPORT), to take over from it
    #[arg(long)]
    reuse_port: bool,
    /// Open connections per reactor
    #[arg(long, value_name = "N", default_value = "10000", value_parser = count)]
    max_connections: usize,
    /// Seconds to receive a whole request head
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = secs)]
    request_timeout: Duration,
    /// Idle seconds between requests on a kept-alive connection
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = secs)]
    keep_alive_timeout: Duration,
    /// Seconds a response may make no progress
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = secs)]
    write_timeout: Duration,
    /// Seconds to finish responses after SIGTERM
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = secs)]
    shutdown_grace: Duration,
    /// Largest request line + headers
    #[arg(long, value_name = "BYTES", default_value_t = 32768, value_parser = clap::value_parser!(u64).range(1024..=1 << 24))]
    max_head: u64,
    /// Largest request body (0: no bodies, any request with one gets 413)
    #[arg(long, value_name = "BYTES", default_value_t = 1048576)]
    max_body: u64,
    /// Largest upload from the listing page (multipart POST, with --allow-write)
    #[arg(long, value_name = "BYTES", default_value_t = 4 << 30)]
    max_upload: u64,
    /// Accept PUT, DELETE and upload forms (POST to a folder) under ROOT
    #[arg(long)]
    allow_write: bool,
    /// No listings for directories without index.html
    #[arg(long)]
    no_listing: bool,
    /// Serve and list dotfiles
    #[arg(long)]
    show_hidden: bool,
    /// A missing path without an extension gets ROOT's index.html (client-side routing)
    #[arg(long)]
    spa: bool,
    /// Turn the /-/ endpoints off
    #[arg(long)]
    no_builtins: bool,
    /// One Combined Log Format line per request (PATH or - for stdout)
    #[arg(long, value_name = "PATH|-")]
    access_log: Option<String>,
    /// Only errors
    #[arg(short, long, conflicts_with_all = ["verbose", "trace"])]
    quiet: bool,
    /// More logging (-v debug, -vv trace)
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Narrate every readiness event, read, write and state change
    #[arg(long)]
    trace: bool,
    /// Narrate one connection only (implies --trace): its serial (37 or c37), peer IP:PORT or IP
    #[arg(long, value_name = "SERIAL|ADDR")]
    trace_conn: Option<TraceFilter>,
    /// Every SECS, one line on stderr: req/s and p99 latency over the interval, connections open
    #[arg(long, value_name = "SECS", value_parser = secs, allow_negative_numbers = true)]
    stats_interval: Option<Duration>,
    /// A name writes may use in Host besides IP addresses, localhost and this machine's (repeatable)
    #[arg(long = "allow-host", value_name = "NAME", value_parser = allow_host)]
    allow_host: Vec<String>,
    /// Another origin whose pages may write here, e.g. http://localhost:3000 (repeatable)
    #[arg(long = "allow-origin", value_name = "ORIGIN", value_parser = policy::origin::parse_origin)]
    allow_origin: Vec<String>,
    /// Basic auth: user:password or user:sha256:HEX (repeatable)
    #[arg(long, value_name = "USER:PASS", value_parser = Credential::parse)]
    auth: Vec<Credential>,
    /// Ask --auth credentials only of state-changing requests (not GET, HEAD, OPTIONS)
    #[arg(long, requires = "auth")]
    auth_writes_only: bool,
    /// A header field on every response, 'Name: value' (repeatable)
    #[arg(long = "header", value_name = "'NAME: VALUE'", value_parser = policy::headers::parse)]
    header: Vec<(String, String)>,
    /// Answer CORS preflights; Access-Control-Allow-Origin: * on every response
    #[arg(long)]
    cors: bool,
    /// Serve HTTPS on every --bind address with this certificate chain (PEM, leaf first)
    #[arg(long, value_name = "PEM", requires = "tls_key", group = "tls")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, RSA or EC)
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve HTTPS with a certificate made at start-up for localhost, 127.0.0.1, ::1 and the bound addresses (ECDSA P-256, valid a year)
    #[arg(long, group = "tls")]
    tls_self_signed: bool,
    /// Write the self-signed certificate here (PEM), for curl --cacert
    #[arg(long, value_name = "FILE", requires = "tls_self_signed")]
    tls_self_signed_out: Option<PathBuf>,
    /// With TLS on, also serve plain HTTP on this address (repeatable)
    #[arg(long = "bind-plain", value_name = "ADDR", requires = "tls")]
    bind_plain: Vec<SocketAddr>,
    /// The --bind-plain listeners answer every request with 308 to the HTTPS URL
    #[arg(long, requires = "bind_plain")]
    redirect_https: bool,
}

/// An `--allow-host` name: a DNS name's bytes (letters, digits, `-`, `.`), 1 to 253 of them.
fn allow_host(s: &str) -> Result<String, String> {
    let ok = (1..=253).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    match ok {
        true => Ok(s.to_ascii_lowercase()),
        false => Err(format!("'{s}' is not a host name")),
    }
}

/// Seconds, more than zero (SPEC §2: a zero or negative duration is a usage error), at most 1e9.
fn secs(s: &str) -> Result<Duration, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a number of seconds"))?;
    if !v.is_finite() || v > 1e9 {
        return Err(format!("'{s}' is not a number of seconds"));
    }
    let d = Duration::from_secs_f64(v.max(0.0));
    if d.is_zero() {
        return Err("must be more than 0 seconds".into());
    }
    Ok(d)
}

/// `auto` (the CPUs this process may run on) or a count of at least 1.
fn workers(s: &str) -> Result<usize, String> {
    if s == "auto" {
        return Ok(std::thread::available_parallelism().map_or(1, |n| n.get()));
    }
    count(s)
}

/// A count of at least 1 (SPEC §2: zero or negative is a usage error).
fn count(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) if s.parse::<i128>().is_ok() => Err("must be at least 1".into()),
        Err(_) => Err(format!("'{s}' is not a whole number")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    check_headers(&cli);
    start_logging(&cli);
    let mut config = config(cli);
    fit_descriptor_limit(&mut config);
    match serve(&config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(reason) => {
            eprintln!("spindle: {reason}");
            ExitCode::from(1)
        }
    }
}

/// `-q`, `-v`, `-vv` and `--trace` set the level of our own narration; other crates log only
/// when they have something to warn about.
fn start_logging(cli: &Cli) {
    let level = if cli.quiet {
        LevelFilter::Error
    } else if cli.trace || cli.trace_conn.is_some() || cli.verbose >= 2 {
        LevelFilter::Trace
    } else if cli.verbose == 1 {
        LevelFilter::Debug
    } else {
        LevelFilter::Info
    };
    // With several workers, each line says which one it comes from (its thread, `w1`…).
    let _ = simple_logger::SimpleLogger::new()
        .with_threads(cli.workers > 1)
        .with_level(LevelFilter::Warn.min(level))
        .with_module_level("spindle", level)
        .init();
}

/// What `--header`'s value parser cannot see alone (exit 2): how many there are, and whether
/// one would repeat a line `--cors` writes.
fn check_headers(cli: &Cli) {
    use clap::{error::ErrorKind, CommandFactory};
    let max = policy::headers::MAX_HEADERS;
    let why = if cli.header.len() > max {
        format!("at most {max} --header options")
    } else if let Some((name, _)) = cli
        .header
        .iter()
        .find(|(n, _)| cli.cors && policy::headers::is_cors_field(n))
    {
        format!("--header {name}: --cors writes the Access-Control-* fields itself")
    } else {
        return;
    };
    Cli::command()
        .error(ErrorKind::ArgumentConflict, why)
        .exit();
}

/// The settings the command line asks for.
fn config(cli: Cli) -> Config {
    Config {
        root: cli.root,
        binds: cli.bind,
        workers: cli.workers,
        reuse_port: cli.reuse_port,
        max_connections: cli.max_connections,
        request_timeout: cli.request_timeout,
        keep_alive_timeout: cli.keep_alive_timeout,
        write_timeout: cli.write_timeout,
        shutdown_grace: cli.shutdown_grace,
        max_head: cli.max_head as usize,
        max_body: cli.max_body,
        max_upload: cli.max_upload,
        allow_write: cli.allow_write,
        listing: !cli.no_listing,
        show_hidden: cli.show_hidden,
        spa: cli.spa,
        builtins: !cli.no_builtins,
        access_log: cli.access_log,
        trace_conn: cli.trace_conn,
        stats_interval: cli.stats_interval,
        allow_hosts: cli.allow_host,
        allow_origins: cli.allow_origin,
        auth: cli.auth,
        auth_writes_only: cli.auth_writes_only,
        headers: cli.header,
        cors: cli.cors,
        tls: match (cli.tls_cert, cli.tls_key) {
            (Some(cert), Some(key)) => Some(TlsSource::Files { cert, key }),
            _ if cli.tls_self_signed => Some(TlsSource::SelfSigned {
                out: cli.tls_self_signed_out,
            }),
            _ => None,
        },
        plain_binds: cli.bind_plain,
        redirect_https: cli.redirect_https,
    }
}

/// Raises the descriptor limit as far as allowed and keeps `--max-connections` below it, so
/// that accepting stops at the connection limit before the process runs out of descriptors.
fn fit_descriptor_limit(config: &mut Config) {
    match spindle::listener::raise_nofile_limit() {
        // The descriptor tests (tests/descriptors.rs) turn the clamp off with
        // SPINDLE_NO_CLAMP=1, so that accepting really runs into EMFILE.
        Ok(_) if std::env::var_os("SPINDLE_NO_CLAMP").is_some_and(|v| v == "1") => {}
        Ok(nofile) => {
            if let Some(old) = config.clamp_connections(nofile) {
                warn!(
                    "--max-connections {} per worker is above what the descriptor limit {} allows {} worker(s): using {}",
                    old, nofile, config.workers, config.max_connections
                );
            }
        }
        Err(e) => warn!("cannot read the descriptor limit: {e}"),
    }
}

/// Binds, says where it listens, and runs until a clean shutdown. A failure, at start-up or
/// later, comes back as its one-line reason (SPEC §2: exit 1).
fn serve(config: &Config) -> Result<(), String> {
    let mut server = Server::bind(config).map_err(|e| e.to_string())?;
    server
        .handle_signals()
        .map_err(|e| format!("cannot handle signals: {e}"))?;
    if let Some(warning) = server.tls_notes().and_then(|t| t.warning.as_ref()) {
        warn!("{warning}");
    }
    for (addr, scheme) in server.listening() {
        println!(
            "listening on {scheme}://{}/ serving {}",
            addr,
            config.root.display()
        );
        if let (Some(tls), "https") = (server.tls_notes(), scheme) {
            println!("  certificate SHA-256 {}", tls.fingerprint);
        }
        // Under a wildcard, the URLs to type elsewhere (a phone): one per interface address.
        for at in spindle::interfaces::reachable(addr) {
            println!("  reachable at {scheme}://{at}/");
        }
    }
    info!(
        "spindle {} started: {} worker(s), {} listener(s) each, up to {} connections per worker, built-ins {}",
        env!("CARGO_PKG_VERSION"),
        config.workers,
        config.binds.len(),
        config.max_connections,
        if config.builtins { "on" } else { "off" }
    );
    server.run().map_err(|e| e.to_string())
}
