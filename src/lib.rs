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
pub mod listener;
pub mod offload;
pub mod reactor;
pub mod router;
pub mod stats;
pub mod timer;

use std::io;
use std::net::SocketAddr;

pub use config::Config;
pub use error::StartError;
pub use handler::{Action, Body, BodySink, Context, Handler, Job, Request, Response, Stream};
pub use reactor::{CutShort, ShutdownHandle};

use conn::Limits;
use reactor::{Reactor, ReactorConfig};

/// A bound server, ready to run: listeners open, nothing served yet.
pub struct Server {
    reactor: Reactor,
}

impl Server {
    /// Checks ROOT and opens the listeners of `config`, with the standard handler.
    pub fn bind(config: &Config) -> Result<Server, StartError> {
        check_root(config)?;
        let files = files::Files::new(
            &config.root,
            config.listing,
            config.show_hidden,
            config.allow_write,
        )
        .map_err(|e| StartError::Root(config.root.clone(), e))?;
        let handler = Box::new(router::Router::new(config.builtins, files));
        Server::with_handler(config, handler)
    }

    /// Like [`Server::bind`] with a handler of your own.
    pub fn with_handler(config: &Config, handler: Box<dyn Handler>) -> Result<Server, StartError> {
        check_root(config)?;
        let listeners = config
            .binds
            .iter()
            .map(|&addr| listener::bind(addr, false))
            .collect::<Result<Vec<_>, _>>()?;
        let rc = ReactorConfig {
            max_connections: config.max_connections,
            request_timeout: config.request_timeout,
            keep_alive_timeout: config.keep_alive_timeout,
            write_timeout: config.write_timeout,
            shutdown_grace: config.shutdown_grace,
            limits: Limits {
                max_head: config.max_head,
                max_body: config.max_body,
            },
        };
        let log = match &config.access_log {
            Some(dest) => Some(
                access_log::AccessLog::open(dest)
                    .map_err(|e| StartError::AccessLog(dest.clone(), e))?,
            ),
            None => None,
        };
        let reactor =
            Reactor::new(listeners, handler, log, rc).map_err(|e| StartError::Io("poll", e))?;
        Ok(Server { reactor })
    }

    /// The addresses actually bound (port 0 resolved).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.reactor.local_addrs()
    }

    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.reactor.shutdown_handle()
    }

    /// SIGINT/SIGTERM start a graceful shutdown; a second one stops at once.
    pub fn handle_signals(&mut self) -> io::Result<()> {
        self.reactor.handle_signals()
    }

    /// Serves until shut down.
    pub fn run(mut self) -> io::Result<()> {
        self.reactor.run()
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
