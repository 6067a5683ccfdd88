//! spindle: a single-threaded, event-driven, non-blocking HTTP/1.1 server built on mio.
//!
//! `main → reactor → conn → http`; `conn → handler (router → builtins)`. The reactor owns the
//! poll, the sockets and the timers; a connection owns its buffers and state machine; the HTTP
//! codec knows no sockets; handlers know no mio. `docs/ARCHITECTURE.md` walks one request through.

pub mod access_log;
pub mod buf;
pub mod builtins;
pub mod config;
pub mod conn;
pub mod error;
pub mod files;
pub mod handler;
pub mod http;
pub mod interfaces;
pub mod listener;
pub mod offload;
pub mod policy;
pub mod reactor;
pub mod router;
pub mod stats;
pub mod supervisor;
pub mod timer;
#[cfg(feature = "tls")]
pub mod tls;
pub mod trace;
pub mod workers;

use std::io;
use std::net::SocketAddr;

pub use config::Config;
pub use error::StartError;
pub use handler::{Action, Body, BodySink, Context, Handler, Job, Request, Response, Stream};
pub use reactor::{CutShort, ShutdownHandle};

use conn::transport::Layer;
use conn::Limits;
use reactor::{Reactor, ReactorConfig};
use trace::Serials;

/// A bound server, ready to run: every worker's listeners open, nothing served yet.
pub struct Server {
    kit: workers::Kit,
    workers: Vec<Reactor>,
    supervisor: supervisor::Supervisor,
    /// Each address bound (port 0 resolved) and what it speaks.
    listening: Vec<(SocketAddr, Layer)>,
    /// What to tell the user about the certificate, with TLS on.
    tls: Option<TlsNotes>,
}

/// What start-up says about the TLS certificate.
#[derive(Clone, Debug)]
pub struct TlsNotes {
    /// SHA-256 of the certificate, `AB:CD:…`.
    pub fingerprint: String,
    /// Something wrong with its dates (expired, not yet valid).
    pub warning: Option<String>,
}

impl Server {
    /// Checks ROOT and opens the listeners of `config`, with the standard handler (one per
    /// worker, each with its own file cache; a write through any of them empties them all).
    pub fn bind(config: &Config) -> Result<Server, StartError> {
        check_root(config)?;
        let c = config.clone();
        let writes: std::sync::Arc<std::sync::atomic::AtomicU64> = Default::default();
        Server::with_worker_handlers(config, move |worker| {
            let files = files::Files::new(&c.root, c.listing, c.show_hidden, c.allow_write)
                .map_err(|e| StartError::Root(c.root.clone(), e))?
                .sharing_writes(writes.clone())
                .with_max_upload(c.max_upload)
                .with_spa(c.spa);
            Ok(Box::new(
                router::Router::new(c.builtins, files).for_worker(worker),
            ))
        })
    }

    /// Like [`Server::bind`] with a handler of your own, for one worker (which, having one
    /// handler only, cannot be made again if it dies: the server then stops).
    pub fn with_handler(config: &Config, handler: Box<dyn Handler>) -> Result<Server, StartError> {
        if config.workers > 1 {
            return Err(StartError::Unsupported(
                "one handler can serve one worker: use Server::with_handlers",
            ));
        }
        let mut handler = Some(handler);
        Server::with_handlers(config, move || {
            handler
                .take()
                .ok_or(StartError::Unsupported("its one handler is gone"))
        })
    }

    /// `config.workers` reactors, each answering with a handler of its own from `make`.
    pub fn with_handlers(
        config: &Config,
        mut make: impl FnMut() -> Result<Box<dyn Handler>, StartError> + Send + 'static,
    ) -> Result<Server, StartError> {
        Server::with_worker_handlers(config, move |_| make())
    }

    /// Like [`Server::with_handlers`], `make` told which worker (1-based) the handler is for;
    /// a worker made again after a crash gets a handler for the same number.
    pub fn with_worker_handlers(
        config: &Config,
        make: impl FnMut(usize) -> Result<Box<dyn Handler>, StartError> + Send + 'static,
    ) -> Result<Server, StartError> {
        check_root(config)?;
        let n = config.workers.max(1);
        let (groups, tls_count) = listen(config, n)?;
        let addrs: Vec<SocketAddr> = groups
            .iter()
            .filter_map(|g| g.first()?.local_addr().ok())
            .collect();
        let (tls_layer, tls) = tls_layer(config, &addrs[..tls_count])?;
        let layers: Vec<Layer> = (0..groups.len())
            .map(|a| match a < tls_count {
                true => tls_layer.clone(),
                false => Layer::Plain,
            })
            .collect();
        let https_port = match config.redirect_https {
            true => addrs[..tls_count].first().map(SocketAddr::port),
            false => None,
        };
        // One writer for every worker (each gets a front): their lines never interleave.
        let log = match &config.access_log {
            Some(dest) => Some(
                access_log::Writer::open(dest)
                    .map_err(|e| StartError::AccessLog(dest.clone(), e))?,
            ),
            None => None,
        };
        let listening = addrs.into_iter().zip(layers.iter().cloned()).collect();
        let reactor_config = reactor_config(config, https_port);
        let mut kit = workers::Kit::new(groups, layers, Box::new(make), log, reactor_config)?;
        let workers = (0..n).map(|w| kit.reactor(w)).collect::<Result<_, _>>()?;
        let mut supervisor =
            supervisor::Supervisor::new().map_err(|e| StartError::Io("poll", e))?;
        supervisor.set_stats_interval(config.stats_interval);
        Ok(Server {
            kit,
            workers,
            supervisor,
            listening,
            tls,
        })
    }

    /// Each address bound (port 0 resolved), with its scheme: `http` or `https`.
    pub fn listening(&self) -> Vec<(SocketAddr, &'static str)> {
        self.listening
            .iter()
            .map(|(addr, layer)| (*addr, layer.scheme()))
            .collect()
    }

    /// With TLS on, what to tell the user about the certificate.
    pub fn tls_notes(&self) -> Option<&TlsNotes> {
        self.tls.as_ref()
    }

    /// The addresses actually bound (port 0 resolved), once each.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.workers
            .first()
            .map(Reactor::local_addrs)
            .unwrap_or_default()
    }

    /// Stops every worker (those made again after a crash too).
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.supervisor.shutdown_handle()
    }

    /// SIGINT/SIGTERM start a graceful shutdown of every worker; a second one stops at once.
    /// For the binary: a library user keeps its own signals.
    pub fn handle_signals(&mut self) -> io::Result<()> {
        self.supervisor.handle_signals()
    }

    /// Serves until shut down: each worker on a thread of its own, this one supervising.
    pub fn run(self) -> io::Result<()> {
        self.supervisor.run(self.kit, self.workers)
    }
}

/// `groups[a][w]`: worker `w`'s listener on address `a`, the `--bind` addresses first (as many
/// as the returned count: with a certificate, they speak TLS), then the `--bind-plain` ones.
/// Listeners inherited from systemd (socket activation) stand in for `--bind`; there is one
/// per address, so every worker accepts from a duplicate of the same socket (and the kernel's
/// wake-up order, not `SO_REUSEPORT`, spreads the connections).
fn listen(config: &Config, n: usize) -> Result<(Groups, usize), StartError> {
    let bind = |addrs: &[SocketAddr]| -> Result<Groups, StartError> {
        addrs
            .iter()
            .map(|&addr| listener::bind_group(addr, n, config.reuse_port))
            .collect()
    };
    let mut groups = match listener::inherited() {
        None => bind(&config.binds)?,
        Some(inherited) => {
            log::info!("socket activation: serving the listeners systemd passed, not --bind");
            inherited_groups(inherited?, n)?
        }
    };
    let tls_count = match config.tls {
        Some(_) => groups.len(),
        None => 0,
    };
    groups.extend(bind(&config.plain_binds)?);
    Ok((groups, tls_count))
}

type Groups = Vec<Vec<mio::net::TcpListener>>;

/// Each inherited listener, duplicated for every worker.
fn inherited_groups(inherited: Vec<mio::net::TcpListener>, n: usize) -> Result<Groups, StartError> {
    inherited
        .into_iter()
        .map(|l| {
            let mut group = Vec::with_capacity(n);
            for _ in 1..n {
                let fd = std::os::fd::AsFd::as_fd(&l).try_clone_to_owned();
                group.push(mio::net::TcpListener::from(
                    fd.map_err(|e| StartError::Io("LISTEN_FDS", e))?,
                ));
            }
            group.insert(0, l);
            Ok(group)
        })
        .collect()
}

/// What the TLS listeners' connections speak, made from `config.tls` (`bound`: their
/// addresses, for a self-signed certificate's names), and what to tell the user about it.
#[cfg(feature = "tls")]
fn tls_layer(
    config: &Config,
    bound: &[SocketAddr],
) -> Result<(Layer, Option<TlsNotes>), StartError> {
    use config::TlsSource;
    let certified = match &config.tls {
        None => return Ok((Layer::Plain, None)),
        Some(TlsSource::Files { cert, key }) => tls::certs::from_files(cert, key),
        Some(TlsSource::SelfSigned { out }) => {
            let names = tls::certs::names_for(bound);
            tls::certs::self_signed(&names).and_then(|(certified, pem)| {
                if let Some(out) = out {
                    std::fs::write(out, pem).map_err(|e| {
                        tls::TlsError(format!("--tls-self-signed-out {}: {e}", out.display()))
                    })?;
                }
                Ok(certified)
            })
        }
    }
    .map_err(|e| StartError::Tls(e.0))?;
    let notes = TlsNotes {
        fingerprint: certified.fingerprint,
        warning: certified.warning,
    };
    Ok((Layer::Tls(certified.config), Some(notes)))
}

/// Built without the `tls` feature: a certificate is a start-up error.
#[cfg(not(feature = "tls"))]
fn tls_layer(
    config: &Config,
    _bound: &[SocketAddr],
) -> Result<(Layer, Option<TlsNotes>), StartError> {
    match config.tls {
        None => Ok((Layer::Plain, None)),
        Some(_) => Err(StartError::Unsupported(
            "this spindle was built without TLS (cargo feature \"tls\")",
        )),
    }
}

fn reactor_config(config: &Config, https_port: Option<u16>) -> ReactorConfig {
    ReactorConfig {
        max_connections: config.max_connections,
        request_timeout: config.request_timeout,
        keep_alive_timeout: config.keep_alive_timeout,
        write_timeout: config.write_timeout,
        shutdown_grace: config.shutdown_grace,
        limits: Limits {
            max_head: config.max_head,
            max_body: config.max_body,
        },
        serials: Serials::default(),
        trace_conn: config.trace_conn,
        policy: Some(std::sync::Arc::new(
            policy::Policy::new(config).redirecting_to(https_port),
        )),
    }
}

/// ROOT must be a directory.
fn check_root(config: &Config) -> Result<(), StartError> {
    match std::fs::metadata(&config.root) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(StartError::NotADirectory(config.root.clone())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            Err(StartError::NotADirectory(config.root.clone()))
        }
        Err(e) => Err(StartError::Root(config.root.clone(), e)),
    }
}
