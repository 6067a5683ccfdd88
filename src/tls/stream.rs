//! A TLS session over a non-blocking socket, as a [`Transport`]: what reaches the connection
//! is plaintext, what it writes leaves sealed. The edge-triggered rules hold on both sides:
//!
//! - A read takes records from the socket until the caller's buffer is full or the socket says
//!   `WouldBlock`, processing them after each read and handing on their plaintext before
//!   reading more (rustls refuses to read while its plaintext buffer is full). So a short read
//!   still means the socket is drained, as the connection assumes.
//! - A write seals what it is given (at most [`BUFFER_LIMIT`] at a time) behind what is held
//!   and pushes the records in one `writev` until the socket says `WouldBlock`; records the
//!   socket did not take are held ([`Transport::holds_output`]) and pushed at the next writable
//!   event. What a handshake answers is held too, and goes out with the connection's next write
//!   in the same round (the session tickets share a `writev` with the first response).
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
const FIRST_READ: usize = 4096;

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
    /// `shutdown_write` was asked while records (the close_notify) were still held: the FIN
    /// goes once they are out, since the peer would read a FIN before them as a truncation.
    fin_pending: bool,
    tag: Tag,
}

/// The socket as rustls wants it: `io::Read` and `io::Write` through the [`Transport`].
struct Raw<'a, S> {
    sock: &'a mut S,
    /// The last read came up short: the socket is drained until its next edge.
    drained: bool,
}

impl<'a, S> Raw<'a, S> {
    fn new(sock: &'a mut S) -> Self {
        Raw {
            sock,
            drained: false,
        }
    }
}

impl<S: Transport> Read for Raw<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.sock.read(buf)?;
        self.drained = n > 0 && n < buf.len();
        Ok(n)
    }
}

impl<S: Transport> Write for Raw<'_, S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sock.write(buf)
    }
    /// rustls hands every record it holds at once: one `writev`, not a write per record.
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.sock.write_vectored(bufs)
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
            fin_pending: false,
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

    /// The first read: its first byte says whether the peer speaks TLS. Returns whether the
    /// read came up short (the socket is drained).
    fn sniff(&mut self) -> io::Result<bool> {
        let mut first = [0u8; FIRST_READ];
        let n = self.sock.read(&mut first)?;
        if n == 0 {
            self.eof = true;
            self.speaks = Speaks::Tls;
            return Ok(false);
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
        Ok(n < FIRST_READ)
    }

    /// Plaintext into `buf`: what rustls holds, then records from the socket, until `buf` is
    /// full, the socket blocks, or the stream ends.
    /// `drained`: the socket is known to be empty (the sniff's read came up short).
    fn read_plaintext(&mut self, buf: &mut [u8], mut drained: bool) -> io::Result<usize> {
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
            if drained {
                // A short read emptied the socket: asking again would only say WouldBlock.
                return if got > 0 {
                    Ok(got)
                } else {
                    Err(ErrorKind::WouldBlock.into())
                };
            }
            let mut raw = Raw::new(&mut self.sock);
            let read = self.tls.read_tls(&mut raw);
            drained = raw.drained;
            match read {
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
                // What the handshake answers (or the session tickets after it) waits for the
                // connection's write in this same round: one `writev` with the response.
                Ok(())
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

    /// Sealed records to the socket, until none are left or it says `WouldBlock`; then the
    /// FIN, if one waits for them.
    fn push(&mut self) -> io::Result<()> {
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut Raw::new(&mut self.sock)) {
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
        if self.fin_pending {
            self.fin_pending = false;
            narrate!(self.tag, "TLS", "records out: the FIN follows");
            self.sock.shutdown_write()?;
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
        let drained = match self.speaks {
            Speaks::Unknown => self.sniff()?,
            Speaks::Plain => return self.sock.read(buf),
            // Our close_notify is sent: the session is over, and what the peer still sends
            // (read while lingering, to be thrown away) is not processed. rustls would answer
            // a bad record with a fatal alert after the close_notify, which its debug builds
            // assert never happens (a panic a client could cause).
            Speaks::Tls if self.close_notify_sent => return self.sock.read(buf),
            Speaks::Tls => false,
        };
        self.read_plaintext(buf, drained)
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.speaks == Speaks::Plain {
            return self.sock.write(buf);
        }
        let mut taken = 0;
        loop {
            // Seal what the buffer limit allows, behind the records already held, then send
            // them all in one `writev`.
            let sealed = self.tls.writer().write(&buf[taken..])?;
            taken += sealed;
            let held = self.tls.wants_write();
            match self.push() {
                Ok(()) => {}
                // Taken in full, the records wait for the next writable edge (`holds_output`);
                // taken short, the socket is full (the edge-triggered contract).
                Err(e) if e.kind() == ErrorKind::WouldBlock && taken > 0 => return Ok(taken),
                Err(e) => return Err(e),
            }
            if taken == buf.len() {
                return Ok(taken);
            }
            if sealed == 0 && !held {
                // Nothing sealed with nothing held (only before the handshake ends): wait,
                // never spin. (Nothing sealed because the records held filled the buffer
                // limit is another story: the push made room, so seal again.)
                return match taken {
                    0 => Err(ErrorKind::WouldBlock.into()),
                    _ => Ok(taken),
                };
            }
        }
    }

    fn shutdown_write(&mut self) -> io::Result<()> {
        self.say_goodbye();
        if self.holds_output() {
            // The socket is full: the rest of the close_notify first (the connection keeps
            // flushing while `holds_output`), then the FIN, from `push`.
            narrate!(self.tag, "TLS", "FIN waits for the records held");
            self.fin_pending = true;
            return Ok(());
        }
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
    use crate::conn::script::{Peer, Script, Step};
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    use rustls::ClientConnection;

    const TAG: Tag = Tag {
        worker: 1,
        serial: 1,
        traced: false,
    };

    /// A server session over a script, and an in-memory client trusting its certificate,
    /// their handshake done.
    fn connected() -> (TlsStream<Script>, Script, ClientConnection) {
        let (certified, pem) = crate::tls::certs::self_signed(&["localhost".into()]).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(pem.as_bytes()).unwrap())
            .unwrap();
        #[allow(deprecated)] // ring's provider: see certs.rs
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = ServerName::try_from("localhost").unwrap();
        let mut client = ClientConnection::new(Arc::new(config), name).unwrap();
        let script = Script::new(Peer::sending(&[], false, false));
        let mut server = TlsStream::new(script.clone(), certified.config, TAG).unwrap();
        for _ in 0..8 {
            to_server(&mut client, &script);
            let _ = server.read(&mut [0; 256]); // WouldBlock: no plaintext yet
            let _ = server.flush_held(); // the answer, as the connection's write round sends it
            to_client(&script, &mut client);
        }
        assert!(!server.tls.is_handshaking() && !client.is_handshaking());
        (server, script, client)
    }

    fn to_server(client: &mut ClientConnection, script: &Script) {
        let mut records = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut records).unwrap();
        }
        if !records.is_empty() {
            script.peer().steps.push_back(Step::Data(records));
        }
    }

    /// The server's records into the client: whether they held its close_notify.
    fn to_client(script: &Script, client: &mut ClientConnection) -> bool {
        let written = std::mem::take(&mut script.peer().written);
        client.read_tls(&mut &written[..]).unwrap();
        let state = client.process_new_packets().unwrap();
        state.peer_has_closed()
    }

    /// A close while the socket is full (found by fuzzing `tls`): the close_notify must reach
    /// the peer whole, and the FIN only after it (a FIN first reads as a truncation attack).
    #[test]
    fn the_fin_waits_for_a_close_notify_the_socket_did_not_take() {
        let (mut server, script, mut client) = connected();
        script.peer().write_max = 5; // then WouldBlock until the next readiness event
        script.peer().ready();
        server.shutdown_write().unwrap();
        assert!(
            server.holds_output(),
            "a 5-byte write cannot take a whole alert"
        );
        assert!(!script.peer().shut, "FIN sent before the close_notify");
        let mut events = 0;
        while server.holds_output() {
            script.peer().ready();
            match server.flush_held() {
                Ok(()) => {}
                Err(e) => assert_eq!(e.kind(), ErrorKind::WouldBlock),
            }
            events += 1;
            assert!(events < 100, "never flushed");
        }
        assert!(script.peer().shut, "no FIN once the records were out");
        assert!(to_client(&script, &mut client), "no close_notify");
    }

    /// After our close_notify, what the peer sends is read but not processed: a bad record
    /// read while lingering gets no alert (and rustls's debug assertion no panic).
    #[test]
    fn records_after_our_close_notify_are_not_processed() {
        let (mut server, script, _client) = connected();
        server.shutdown_write().unwrap();
        assert!(script.peer().shut);
        // Application data that fails to authenticate: rustls wants to send an alert.
        let bad = vec![
            23, 3, 3, 0, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
        ];
        script.peer().steps.push_back(Step::Data(bad));
        assert_eq!(
            server.read(&mut [0; 256]).unwrap(),
            25,
            "thrown away as they are"
        );
        assert!(
            !server.holds_output(),
            "an answer to records after our close_notify"
        );
        drop(server); // Script panics on a write after shutdown_write
    }

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
        let mut client = ClientConnection::new(Arc::new(config), name).unwrap();
        let mut hello = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut hello).unwrap();
        }
        hello
    }

    /// The client resets between its ClientHello and our answer: the write of our flight
    /// fails, and that is a failed handshake too.
    #[test]
    fn a_reset_while_the_servers_flight_goes_out_is_a_failed_handshake() {
        let (certified, _) = crate::tls::certs::self_signed(&["localhost".into()]).unwrap();
        let sock = Resetting {
            input: client_hello(),
        };
        let mut tls = TlsStream::new(sock, certified.config, TAG).unwrap();
        let err = tls.read(&mut [0u8; 64]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WouldBlock, "the answer is held");
        assert!(tls.holds_output());
        let err = tls.flush_held().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionReset);
        assert_eq!(tls.handshake_news(), Some(false));
    }

    /// Records held up to the buffer limit, then a write when the socket has room again: the
    /// push makes room and the write seals on. (A write that said `WouldBlock` here, with
    /// nothing held, would wait for an edge that never comes: the torture tests' stall.)
    #[test]
    fn a_write_seals_again_once_its_push_made_room() {
        let (mut server, script, mut client) = connected();
        let body: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        script.peer().cap = 0; // the socket takes nothing
        let first = server.write(&body).unwrap();
        assert!(first > 0 && first <= BUFFER_LIMIT, "{first}");
        assert!(server.holds_output());
        script.peer().cap = usize::MAX;
        script.peer().ready();
        let mut sent = first;
        while sent < body.len() {
            let n = server
                .write(&body[sent..])
                .expect("a write with room to seal");
            assert!(n > 0);
            sent += n;
            script.peer().ready();
        }
        while server.holds_output() {
            server.flush_held().unwrap();
        }
        let written = std::mem::take(&mut script.peer().written);
        let (mut rest, mut got) = (&written[..], Vec::new());
        while !rest.is_empty() {
            client.read_tls(&mut rest).unwrap();
            client.process_new_packets().unwrap();
            let _ = client.reader().read_to_end(&mut got);
        }
        assert!(got == body, "{} B of {}", got.len(), body.len());
    }
}
