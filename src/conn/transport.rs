//! The byte pipe under a connection: the one place that touches the socket. The server's is a
//! `mio::net::TcpStream` (with Linux `sendfile(2)` and a reset for a client that stopped
//! reading); tests and the fuzz targets script their own, to split reads and writes anywhere.

use std::fs::File;
use std::io::{self, ErrorKind};

/// The byte pipe under a connection: a `mio::net::TcpStream` in the server, a script in tests.
pub trait Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    fn write(&mut self, buf: &[u8]) -> io::Result<usize>;
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
}

impl Transport for mio::net::TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        io::Read::read(self, buf)
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        io::Write::write(self, buf)
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
