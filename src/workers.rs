//! What a worker is made of, kept so that it can be made again: its listeners (the supervisor
//! keeps a duplicate of each, so a worker that dies leaves its sockets, and the clients queued
//! in their backlogs, open), a handler maker, the access log's writer, its counters' slot on the board
//! and the reactor settings.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use mio::net::TcpListener;

use crate::access_log::Writer;
use crate::conn::transport::Layer;
use crate::error::StartError;
use crate::handler::Handler;
use crate::reactor::{Reactor, ReactorConfig};
use crate::stats::{Board, Stats};

/// Makes worker `w`'s handler (`w` 1-based; each worker has its own, with its own caches).
pub type MakeHandler = Box<dyn FnMut(usize) -> Result<Box<dyn Handler>, StartError> + Send>;

pub struct Kit {
    /// `listeners[w]`: worker `w`'s listening sockets, one per address, kept open here.
    listeners: Vec<Vec<OwnedFd>>,
    /// `layers[a]`: what address `a`'s connections speak.
    layers: Vec<Layer>,
    make_handler: MakeHandler,
    /// The access log's one writer, which gives each worker (each new one too) its front.
    log: Option<Writer>,
    board: Arc<Board>,
    config: ReactorConfig,
}

impl Kit {
    /// `groups[a][w]` is worker `w`'s listener on address `a`, whose connections speak
    /// `layers[a]`.
    pub fn new(
        groups: Vec<Vec<TcpListener>>,
        layers: Vec<Layer>,
        make_handler: MakeHandler,
        log: Option<Writer>,
        config: ReactorConfig,
    ) -> Result<Kit, StartError> {
        let workers = groups.first().map_or(0, Vec::len);
        let mut listeners: Vec<Vec<OwnedFd>> = (0..workers).map(|_| Vec::new()).collect();
        for group in groups {
            for (w, l) in group.into_iter().enumerate() {
                listeners[w].push(OwnedFd::from(l));
            }
        }
        Ok(Kit {
            listeners,
            layers,
            make_handler,
            log,
            board: Arc::new(Board::new(workers)),
            config,
        })
    }

    /// How many workers there are.
    pub fn workers(&self) -> usize {
        self.listeners.len()
    }

    /// Where every worker publishes its counters.
    pub fn board(&self) -> Arc<Board> {
        self.board.clone()
    }

    /// Closes the listeners kept here: once the workers drop theirs (a shutdown), the sockets
    /// close and new clients are refused instead of queued.
    pub fn close_listeners(&mut self) {
        self.listeners.iter_mut().for_each(Vec::clear);
    }

    /// Worker `w`'s reactor, on duplicates of its listeners. Made again after a crash, it goes
    /// on counting from what the last one published, so that no counter goes down.
    pub fn reactor(&mut self, w: usize) -> Result<Reactor, StartError> {
        let listeners = self.listeners.get(w).map_or(&[][..], Vec::as_slice);
        let listeners = listeners
            .iter()
            .zip(&self.layers)
            .map(|(fd, layer)| {
                let l = TcpListener::from(fd.as_fd().try_clone_to_owned()?);
                Ok((l, layer.clone()))
            })
            .collect::<Result<Vec<_>, std::io::Error>>()
            .map_err(|e| StartError::Io("listener", e))?;
        let log = self.log.as_ref().map(Writer::front);
        let stats = Stats::resume(self.board.clone(), w);
        Reactor::new(
            w + 1,
            listeners,
            (self.make_handler)(w + 1)?,
            log,
            stats,
            self.config.clone(),
        )
        .map_err(|e| StartError::Io("poll", e))
    }
}
