//! A TLS session over a non-blocking socket, as a [`Transport`]: what reaches the connection
//! is plaintext, what it writes leaves sealed. The edge-triggered rules hold on both sides:
//!
//! - A read takes records from the socket until the caller's buffer is full or the socket says
//!   `WouldBlock`, processing them after each read and handing on their plaintext before
//!   reading more (rustls refuses to read while its plaintext buffer is full). So a short read
//!   still means the socket is drained, as the connection assumes.
//! - A write seals what it is given (at most [`BUFFER_LIMIT`] at a time) and pushes the records
//!   until the socket says `WouldBlock`; records the socket did not take are held
//!   ([`Transport::holds_output`]), and pushed at the next writable event.
//!
//! The first bytes decide what the peer speaks: a TLS record starts with 0x16; a request line
//! with a capital letter, which gets a plain-text 400 ([`PlainOnTls`]) and the socket as it is.

use std::io::{self, ErrorKind, Read, Write};
use std::sync::Arc;

use mio::net::TcpStream;
use rustls::{ServerConfig, ServerConnection};

use crate::conn::transport::{PlainOnTls, Transport};
use crate::narrate;
use crate::trace::Tag;

/// The most plaintext waiting to be sealed, and sealed records waiting for the socket, per
/// connection (rustls's `set_buffer_limit`): two full records.
pub const BUFFER_LIMIT: usize = 32 * 1024;
/// The first read, before the first byte says what the peer speaks.
const FIRST_READ: usize = 512;

/// What the peer speaks, as far as we know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Speaks {
    /// Nothing read yet.
    Unknown,
    Tls,
    /// Plain HTTP on a TLS port: the socket is used as it is, for the 400 and the close.
    Plain,
}

pub struct TlsStream<S: Transport = TcpStream> {
    sock: S,
    tls: ServerConnection,
    speaks: Speaks,
    /// The socket said end of stream.
    eof: bool,
    /// A handshake finished (`true`) or failed (`false`) since [`Transport::handshake_news`].
    news: Option<bool>,
    /// `news` has been set: one word per connection.
    told: bool,
    /// The close will be a reset: no `close_notify`.
    aborted: bool,
    close_notify_sent: bool,
    tag: Tag,
}

/// The socket as rustls wants it: `io::Read` and `io::Write` through the [`Transport`].
struct Raw<'a, S>(&'a mut S);

impl<S: Transport> Read for Raw<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<S: Transport> Write for Raw<'_, S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<S: Transport> TlsStream<S> {
    pub fn new(sock: S, config: Arc<ServerConfig>, tag: Tag) -> io::Result<Self> {
        let mut tls = ServerConnection::new(config).map_err(io::Error::other)?;
        tls.set_buffer_limit(Some(BUFFER_LIMIT));
        Ok(TlsStream {
            sock,
            tls,
            speaks: Speaks::Unknown,
            eof: false,
            news: None,
            told: false,
            aborted: false,
            close_notify_sent: false,
            tag,
        })
    }

    /// The handshake's outcome, told once.
    fn tell(&mut self, done: bool) {
        if !self.told {
            self.told = true;
            self.news = Some(done);
        }
    }

    /// The socket underneath (to register it with the poll).
    pub fn socket(&mut self) -> &mut S {
        &mut self.sock
    }

    /// The first read: its first byte says whether the peer speaks TLS.
    fn sniff(&mut self) -> io::Result<()> {
        let mut first = [0u8; FIRST_READ];
        let n = self.sock.read(&mut first)?;
        if n == 0 {
            self.eof = true;
            self.speaks = Speaks::Tls;
            return Ok(());
        }
        if first[0].is_ascii_uppercase() {
            narrate!(
                self.tag,
                "TLS",
                "read {} B of plain HTTP, not a ClientHello",
                n
            );
            self.speaks = Speaks::Plain;
            return Err(io::Error::new(ErrorKind::InvalidData, PlainOnTls));
        }
        narrate!(
            self.tag,
            "TLS",
            "read {} B of records: the handshake begins",
            n
        );
        self.speaks = Speaks::Tls;
        let mut rest = &first[..n];
        while !rest.is_empty() {
            self.tls.read_tls(&mut rest)?;
            self.process()?;
        }
        Ok(())
    }

    /// Plaintext into `buf`: what rustls holds, then records from the socket, until `buf` is
    /// full, the socket blocks, or the stream ends.
    fn read_plaintext(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut got = 0;
        while got < buf.len() {
            match self.tls.reader().read(&mut buf[got..]) {
                Ok(0) => break, // close_notify: the end of the stream
                Ok(n) => {
                    got += n;
                    continue;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                // The peer closed without close_notify: an end like any other for HTTP/1.1,
                // whose messages carry their own framing.
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(e),
            }
            if self.eof {
                break;
            }
            match self.tls.read_tls(&mut Raw(&mut self.sock)) {
                Ok(0) => {
                    narrate!(self.tag, "TLS", "socket read 0 B (the peer closed)");
                    self.eof = true;
                    if self.tls.is_handshaking() {
                        self.tell(false); // gone mid-handshake
                    }
                }
                Ok(n) => narrate!(self.tag, "TLS", "read {} B of records", n),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    narrate!(self.tag, "TLS", "socket read -> WouldBlock");
                    return if got > 0 { Ok(got) } else { Err(e) };
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if got > 0 => {
                    narrate!(self.tag, "TLS", "socket read: {}", e);
                    break;
                }
                Err(e) => {
                    if self.tls.is_handshaking() {
                        self.tell(false); // reset mid-handshake
                    }
                    return Err(e);
                }
            }
            self.process()?;
        }
        Ok(got)
    }

    /// Processes the records read; a handshake message may call for an answer, pushed now.
    fn process(&mut self) -> io::Result<()> {
        let was_handshaking = self.tls.is_handshaking();
        match self.tls.process_new_packets() {
            Ok(_) => {
                if was_handshaking && !self.tls.is_handshaking() {
                    self.tell(true);
                    narrate!(
                        self.tag,
                        "TLS",
                        "handshake done: {:?} {:?}, ALPN {}",
                        self.tls.protocol_version(),
                        self.tls.negotiated_cipher_suite().map(|s| s.suite()),
                        self.tls
                            .alpn_protocol()
                            .map_or("none".into(), String::from_utf8_lossy)
                    );
                }
                match self.push() {
                    Err(e) if e.kind() != ErrorKind::WouldBlock => Err(e),
                    _ => Ok(()),
                }
            }
            Err(err) => {
                narrate!(self.tag, "TLS", "refused: {}", err);
                if was_handshaking {
                    self.tell(false);
                }
                let _ = self.push(); // the alert that says why
                Err(io::Error::new(ErrorKind::InvalidData, err))
            }
        }
    }

    /// Sealed records to the socket, until none are left or it says `WouldBlock`.
    fn push(&mut self) -> io::Result<()> {
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut Raw(&mut self.sock)) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => narrate!(self.tag, "TLS", "wrote {} B of records", n),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    if e.kind() == ErrorKind::WouldBlock {
                        narrate!(self.tag, "TLS", "socket write -> WouldBlock (records held)");
                    } else if self.tls.is_handshaking() {
                        // The peer gone while our flight goes out (a reset between reading
                        // its ClientHello and answering it) is a failed handshake too.
                        self.tell(false);
                    }
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// `close_notify`, once, pushed as far as the socket takes it.
    fn say_goodbye(&mut self) {
        if self.speaks != Speaks::Tls || self.aborted || self.close_notify_sent {
            return;
        }
        self.close_notify_sent = true;
        self.tls.send_close_notify();
        narrate!(self.tag, "TLS", "close_notify");
        let _ = self.push();
    }
}

impl<S: Transport> Transport for TlsStream<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.speaks {
            Speaks::Unknown => self.sniff()?,
            Speaks::Plain => return self.sock.read(buf),
            Speaks::Tls => {}
        }
        self.read_plaintext(buf)
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.speaks == Speaks::Plain {
            return self.sock.write(buf);
        }
        let mut taken = 0;
        while taken < buf.len() {
            match self.push() {
                Ok(()) => {}
                // A short write: the socket is full (the edge-triggered contract).
                Err(e) if e.kind() == ErrorKind::WouldBlock && taken > 0 => return Ok(taken),
                Err(e) => return Err(e),
            }
            let n = self.tls.writer().write(&buf[taken..])?;
            if n == 0 {
                // Nothing sealed (only before the handshake ends): wait, never spin.
                return if taken > 0 {
                    Ok(taken)
                } else {
                    Err(ErrorKind::WouldBlock.into())
                };
            }
            taken += n;
        }
        match self.push() {
            Err(e) if e.kind() != ErrorKind::WouldBlock => Err(e),
            _ => Ok(taken),
        }
    }

    fn shutdown_write(&mut self) -> io::Result<()> {
        self.say_goodbye();
        self.sock.shutdown_write()
    }

    fn abort(&mut self) {
        self.aborted = true;
        self.sock.abort();
    }

    fn holds_output(&self) -> bool {
        self.speaks == Speaks::Tls && self.tls.wants_write()
    }

    fn flush_held(&mut self) -> io::Result<()> {
        self.push()
    }

    fn handshaking(&self) -> bool {
        self.speaks != Speaks::Plain && self.tls.is_handshaking()
    }

    fn handshake_news(&mut self) -> Option<bool> {
        self.news.take()
    }

    fn secure(&self) -> bool {
        true
    }
}

impl<S: Transport> Drop for TlsStream<S> {
    /// A close without a graceful shutdown still says goodbye, as far as the socket takes it.
    fn drop(&mut self) {
        if !self.tls.is_handshaking() {
            self.say_goodbye();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A socket that has sent `input` and resets every write.
    struct Resetting {
        input: Vec<u8>,
    }

    impl Transport for Resetting {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.input.is_empty() {
                return Err(ErrorKind::WouldBlock.into());
            }
            let n = buf.len().min(self.input.len());
            buf[..n].copy_from_slice(&self.input[..n]);
            self.input.drain(..n);
            Ok(n)
        }
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(ErrorKind::ConnectionReset.into())
        }
        fn shutdown_write(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn client_hello() -> Vec<u8> {
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        let name = "localhost".try_into().unwrap();
        let mut client = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
        let mut hello = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut hello).unwrap();
        }
        hello
    }

    #[test]
    fn a_reset_while_the_servers_flight_goes_out_is_a_failed_handshake() {
        let (certified, _) = crate::tls::certs::self_signed(&["localhost".into()]).unwrap();
        let sock = Resetting {
            input: client_hello(),
        };
        let tag = Tag {
            worker: 1,
            serial: 1,
            traced: false,
        };
        let mut tls = TlsStream::new(sock, certified.config, tag).unwrap();
        let err = tls.read(&mut [0u8; 64]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionReset);
        assert_eq!(tls.handshake_news(), Some(false));
    }
}
