//! The byte pipe under a connection: the one place that touches the socket. The server's is a
//! [`Pipe`]: a `mio::net::TcpStream` (with Linux `sendfile(2)` and a reset for a client that
//! stopped reading), or TLS over one (`tls/stream.rs`). Tests and the fuzz targets script their
//! own, to split reads and writes anywhere.

use std::fs::File;
use std::io::{self, ErrorKind};

use mio::net::TcpStream;

use crate::trace::Tag;

/// The byte pipe under a connection: a [`Pipe`] in the server, a script in tests.
///
/// The connection relies on the edge-triggered contract: a `read` that returns fewer bytes than
/// asked for, or a `write` that takes fewer than offered, means the socket is drained or full
/// until its next readiness event.
pub trait Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    fn write(&mut self, buf: &[u8]) -> io::Result<usize>;
    /// Writes from several buffers in one call (`writev`), as a TLS layer sends its records.
    /// The default writes the first non-empty one.
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match bufs.iter().find(|b| !b.is_empty()) {
            Some(b) => self.write(b),
            None => Ok(0),
        }
    }
    /// Half-close: send FIN, keep reading.
    fn shutdown_write(&mut self) -> io::Result<()>;
    /// Sends up to `count` bytes of `file` from `offset` straight to the peer. The default says
    /// `Unsupported`, and the connection then copies the file through its output buffer.
    fn send_file(&mut self, file: &File, offset: u64, count: usize) -> io::Result<usize> {
        let _ = (file, offset, count);
        Err(ErrorKind::Unsupported.into())
    }
    /// Makes the coming close a reset that discards whatever is still queued for the peer.
    fn abort(&mut self) {}
    /// Whether the pipe holds bytes for the peer that the socket has not taken yet (a TLS
    /// layer's sealed records): the connection keeps writing, and holds its close, until not.
    fn holds_output(&self) -> bool {
        false
    }
    /// Pushes what [`Transport::holds_output`] holds on to the socket: `WouldBlock` if the
    /// socket fills first.
    fn flush_held(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// A handshake is under way (its reads cost the reactor real CPU: the connection asks for
    /// a share of the turn's handshake budget before each).
    fn handshaking(&self) -> bool {
        false
    }
    /// `Some(true)` once a handshake has finished, `Some(false)` once one has failed (each
    /// told once), for the counters.
    fn handshake_news(&mut self) -> Option<bool> {
        None
    }
    /// The peer reached us over TLS (`https`).
    fn secure(&self) -> bool {
        false
    }
}

/// An error of [`Transport::read`] saying that the peer spoke plain HTTP to a TLS listener:
/// the connection answers 400 in plain text (the transport has stepped aside) and closes.
#[derive(Debug)]
pub struct PlainOnTls;

impl std::fmt::Display for PlainOnTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("plain HTTP on a TLS port")
    }
}

impl std::error::Error for PlainOnTls {}

/// Whether `e` is [`PlainOnTls`].
pub fn is_plain_on_tls(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<PlainOnTls>())
}

/// What a listener's connections speak.
#[derive(Clone)]
pub enum Layer {
    Plain,
    /// TLS with this configuration (certificate, protocols, ALPN).
    #[cfg(feature = "tls")]
    Tls(std::sync::Arc<rustls::ServerConfig>),
}

impl Layer {
    /// The pipe for a socket this listener accepted.
    pub fn wrap(&self, sock: TcpStream, tag: Tag) -> io::Result<Pipe> {
        let _ = tag;
        match self {
            Layer::Plain => Ok(Pipe::Plain(sock)),
            #[cfg(feature = "tls")]
            Layer::Tls(config) => Ok(Pipe::Tls(Box::new(crate::tls::TlsStream::new(
                sock,
                config.clone(),
                tag,
            )?))),
        }
    }

    pub fn scheme(&self) -> &'static str {
        match self {
            Layer::Plain => "http",
            #[cfg(feature = "tls")]
            Layer::Tls(_) => "https",
        }
    }
}

impl std::fmt::Debug for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.scheme())
    }
}

/// The server's pipe: the socket itself, or TLS over it (boxed: a TLS session is large, and a
/// plain connection should not pay for its room).
pub enum Pipe {
    Plain(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<crate::tls::TlsStream>),
}

impl mio::event::Source for Pipe {
    fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        self.socket().register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        self.socket().reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        self.socket().deregister(registry)
    }
}

impl Pipe {
    fn socket(&mut self) -> &mut TcpStream {
        match self {
            Pipe::Plain(s) => s,
            #[cfg(feature = "tls")]
            Pipe::Tls(t) => t.socket(),
        }
    }
}

/// Calls `$call` on whichever pipe this is.
macro_rules! either {
    ($pipe:expr, $s:ident => $call:expr) => {
        match $pipe {
            Pipe::Plain($s) => $call,
            #[cfg(feature = "tls")]
            Pipe::Tls($s) => $call,
        }
    };
}

impl Transport for Pipe {
    #[inline]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        either!(self, s => s.read(buf))
    }
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        either!(self, s => s.write(buf))
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        either!(self, s => s.write_vectored(bufs))
    }
    fn shutdown_write(&mut self) -> io::Result<()> {
        either!(self, s => s.shutdown_write())
    }
    fn send_file(&mut self, file: &File, offset: u64, count: usize) -> io::Result<usize> {
        either!(self, s => s.send_file(file, offset, count))
    }
    fn abort(&mut self) {
        either!(self, s => s.abort())
    }
    #[inline]
    fn holds_output(&self) -> bool {
        either!(self, s => s.holds_output())
    }
    fn flush_held(&mut self) -> io::Result<()> {
        either!(self, s => s.flush_held())
    }
    #[inline]
    fn handshaking(&self) -> bool {
        either!(self, s => s.handshaking())
    }
    #[inline]
    fn handshake_news(&mut self) -> Option<bool> {
        either!(self, s => s.handshake_news())
    }
    fn secure(&self) -> bool {
        either!(self, s => s.secure())
    }
}

impl Transport for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        io::Read::read(self, buf)
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        io::Write::write(self, buf)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        io::Write::write_vectored(self, bufs)
    }

    fn shutdown_write(&mut self) -> io::Result<()> {
        self.shutdown(std::net::Shutdown::Write)
    }

    fn abort(&mut self) {
        // SO_LINGER {on, 0}: close() sends RST and frees the send queue at once.
        let _ = socket2::SockRef::from(&*self).set_linger(Some(std::time::Duration::ZERO));
    }

    /// Linux `sendfile(2)`: the kernel copies from the page cache to the socket.
    #[cfg(target_os = "linux")]
    fn send_file(&mut self, file: &File, offset: u64, count: usize) -> io::Result<usize> {
        use std::os::fd::AsRawFd;
        let mut off = libc::off_t::try_from(offset).map_err(|_| ErrorKind::InvalidInput)?;
        // SAFETY: both descriptors are open for the duration of the call, and `off` is ours.
        let n = unsafe { libc::sendfile(self.as_raw_fd(), file.as_raw_fd(), &mut off, count) };
        usize::try_from(n).map_err(|_| io::Error::last_os_error())
    }
}
