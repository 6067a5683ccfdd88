//! The `tls` target's property (see [`tls`]): the whole connection over a `TlsStream` over a
//! [`Script`], fed either arbitrary bytes as the client's records or a real rustls client's
//! records carrying arbitrary plaintext. Included by `props.rs` when the `tls` feature is on.

use std::io::{ErrorKind, Read, Write};
use std::sync::{Arc, OnceLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig};
use spindle::conn::script::{Peer, Script, Step};
use spindle::conn::{Conn, Drive, Event, Limits};
use spindle::tls::TlsStream;

use super::{cut, empty_root, fresh_shared, mask_stats, run_conn, ConnCase, Io, Rig, Rng, TAG};

/// Longest stream, raw or plaintext: a handshake plus a few requests is plenty, and each run
/// costs a handshake's CPU.
const MAX_TLS_STREAM: usize = 16 * 1024;
/// What a server says before a client can finish its handshake: its first flight (hello,
/// certificate, signature; twice with a HelloRetryRequest) and an alert, far below this.
const MAX_FLIGHT: usize = 8 * 1024;
/// The ciphertext after which the in-memory client stops reading (the plain run's cap too).
const CAP: usize = 256 * 1024;

/// The server's configuration (a certificate made once per process, as `--tls-self-signed`
/// makes it) and two clients trusting it: TLS 1.2 only, TLS 1.3 only.
struct Configs {
    server: Arc<ServerConfig>,
    tls12: Arc<ClientConfig>,
    tls13: Arc<ClientConfig>,
}

fn configs() -> &'static Configs {
    static CONFIGS: OnceLock<Configs> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        let (certified, pem) =
            spindle::tls::certs::self_signed(&["localhost".into()]).expect("a certificate");
        let mut roots = RootCertStore::empty();
        let der = CertificateDer::from_pem_slice(pem.as_bytes()).expect("its PEM");
        roots.add(der).expect("a root");
        let client = |version: &'static rustls::SupportedProtocolVersion| {
            #[allow(deprecated)] // ring's provider: see src/tls/certs.rs
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut c = ClientConfig::builder_with_provider(provider)
                .with_protocol_versions(&[version])
                .expect("the version")
                .with_root_certificates(roots.clone())
                .with_no_client_auth();
            c.alpn_protocols = vec![b"http/1.1".to_vec()];
            Arc::new(c)
        };
        Configs {
            server: certified.config,
            tls12: client(&rustls::version::TLS12),
            tls13: client(&rustls::version::TLS13),
        }
    })
}

/// How the first bytes configure a run.
struct TlsCase {
    /// The rest: the client's records (raw), or its plaintext (client).
    stream: Vec<u8>,
    /// A real client speaks (else `stream` is what reaches the socket).
    client: bool,
    tls12: bool,
    /// The client ends its stream (close_notify, then FIN).
    eof: bool,
    gaps: bool,
    torture: bool,
    /// One byte of the client's records flipped, at this offset (modulo their length).
    flip: Option<usize>,
    /// Largest write the server's socket takes at once (0: no limit).
    write_max: usize,
    piece_max: usize,
    seed: u32,
}

impl TlsCase {
    /// 0: flags: 1 a real client, 2 TLS 1.2 (else 1.3), 4 EOF, 8 gaps, 16 torture,
    ///    32 flip a byte of the client's records;
    /// 1: low nibble: largest read piece is `2^n` bytes; high nibble: generator seed;
    /// 2: the server's socket takes writes of at most `64 * b` bytes (0: no limit);
    /// 3: generator seed, and the offset of the flipped byte.
    fn new(data: &[u8]) -> TlsCase {
        let at = |i: usize| data.get(i).copied().unwrap_or(0);
        let (b0, b1, b2, b3) = (at(0), at(1), at(2), at(3));
        let mut stream = data.get(4..).unwrap_or_default().to_vec();
        stream.truncate(MAX_TLS_STREAM);
        mask_stats(&mut stream);
        TlsCase {
            stream,
            client: b0 & 1 != 0,
            tls12: b0 & 2 != 0,
            eof: b0 & 4 != 0,
            gaps: b0 & 8 != 0,
            torture: b0 & 16 != 0,
            flip: (b0 & 32 != 0).then_some(usize::from(b3) * 7),
            write_max: usize::from(b2) * 64,
            piece_max: 1 << (b1 & 15).min(14),
            seed: u32::from(b1 >> 4) << 8 | u32::from(b3),
        }
    }

    fn limits() -> Limits {
        Limits {
            max_head: 32 * 1024,
            max_body: 1 << 20,
        }
    }
}

/// One run's connection, its socket's far end and the reactor's state.
struct Server {
    script: Script,
    conn: Option<Conn<TlsStream<Script>>>,
    sh: spindle::conn::Shared,
    rig: Rig,
}

impl Server {
    fn new(case: &TlsCase, peer: Peer) -> Server {
        let script = Script::new(peer);
        let tls = TlsStream::new(script.clone(), configs().server.clone(), TAG).expect("session");
        Server {
            conn: Some(Conn::new(tls, TAG, None)),
            sh: fresh_shared(empty_root(), &TlsCase::limits(), case.torture),
            rig: Rig {
                again_budget: (64 + 4 * case.stream.len() + 2 * CAP) / 16,
                agains: 0,
                armed: None,
                delayed: false,
            },
            script,
        }
    }

    /// An event (readable and writable) and the turns it asks for; `false` once it is closed.
    /// A `/-/delay` whose wait is all that is left ends at once, as its timer would.
    fn event(&mut self) -> bool {
        let Some(conn) = self.conn.as_mut() else {
            return false;
        };
        self.script.peer().ready();
        conn.on_event(Event {
            readable: true,
            writable: true,
            read_closed: false,
            error: false,
        });
        let mut d = self.rig.turn(conn, &mut self.sh);
        if d != Drive::Closed && !self.script.peer().moved && self.rig.delayed {
            self.rig.delayed = false;
            conn.delay_elapsed(&mut self.sh);
            d = self.rig.turn(conn, &mut self.sh);
        }
        if d == Drive::Closed {
            self.close();
        }
        d != Drive::Closed
    }

    /// Releases and drops the connection: a TLS session says goodbye (close_notify) as it goes.
    fn close(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            conn.release(&mut self.sh.pool);
        }
    }

    /// The server's records written since the last call.
    fn take_written(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.script.peer().written)
    }
}

/// Queues `records` for the server's reads, cut into pieces (with `WouldBlock` between them
/// if `gaps`).
fn send(script: &Script, records: &[u8], case: &TlsCase, rng: &mut Rng) {
    let mut peer = script.peer();
    for piece in cut(records, case.piece_max, rng) {
        peer.steps.push_back(Step::Data(piece.to_vec()));
        if case.gaps {
            peer.steps.push_back(Step::WouldBlock);
        }
    }
}

/// Arbitrary bytes as what the client sends: the server answers a plain request with its
/// plain 400 and anything else with records only (never plaintext), says at most a flight
/// and an alert (no client can finish a handshake without keys), never spins, and ends the
/// same way (closed or not, handshakes counted) whether the bytes come at once or in pieces.
fn raw(case: &TlsCase) {
    let run = |pieces: bool| {
        let mut peer = Peer::sending(&[], false, case.eof);
        peer.write_max = if pieces { case.write_max } else { 0 };
        let mut rng = Rng::new(case.seed);
        let mut server = Server::new(case, peer);
        if pieces {
            send(&server.script, &case.stream, case, &mut rng);
        } else if !case.stream.is_empty() {
            let mut peer = server.script.peer();
            peer.steps.push_back(Step::Data(case.stream.clone()));
            peer.steps.push_back(Step::WouldBlock);
        }
        let max_events = 64 + 2 * case.stream.len() + MAX_FLIGHT;
        let mut events = 0;
        while server.event() && server.script.peer().moved {
            events += 1;
            assert!(events < max_events, "{events} events and still moving");
        }
        let closed = server.conn.is_none();
        let stats = &server.sh.stats;
        let counts = (closed, stats.tls_handshakes, stats.tls_handshake_errors);
        server.close();
        (counts, server.take_written())
    };
    let (whole, written) = run(false);
    let (split, written_split) = run(true);
    assert_eq!(
        whole, split,
        "(closed, handshakes, errors): the split changed the end"
    );
    for out in [&written, &written_split] {
        assert!(
            out.len() <= MAX_FLIGHT,
            "{} B before any handshake",
            out.len()
        );
        if case.stream.first().is_some_and(u8::is_ascii_uppercase) {
            assert!(
                out.starts_with(b"HTTP/1.1 400 "),
                "{:?}",
                String::from_utf8_lossy(out)
            );
        } else if let Some(&first) = out.first() {
            // Alert (21) or handshake (22): a TLS port never answers in plaintext.
            assert!(matches!(first, 21 | 22), "first byte {first} of {out:?}");
        }
    }
}

/// A real client: its handshake, then `stream` as plaintext, its records cut anywhere (and
/// one byte flipped, if asked). What the client decrypts is what the connection writes over
/// a plain socket for the same stream, byte for byte — TLS changes nothing the state machine
/// sees — or with a flipped byte a prefix of it (the server refuses what fails to
/// authenticate, and says nothing more). The records cost at most a flight plus a
/// record's overhead per piece of plaintext, and the run never spins.
fn client(case: &TlsCase) {
    let config = if case.tls12 {
        &configs().tls12
    } else {
        &configs().tls13
    };
    let name = ServerName::try_from("localhost").expect("a name");
    let mut tls = ClientConnection::new(config.clone(), name).expect("a client");
    let mut server = Server::new(case, Peer::sending(&[], false, false));
    server.script.peer().write_max = case.write_max;
    server.script.peer().cap = CAP;
    let mut rng = Rng::new(case.seed);
    let (mut sent, mut records_out, mut closing) = (0, 0, false);
    let (mut plain, mut cipher_in, mut client_failed) = (Vec::new(), 0, false);
    for event in 0.. {
        // Each event after the first few moves a piece of the client's records (at worst a
        // byte, and a gap) or a record of the server's (22 B of overhead alone; a paced answer
        // writes one small chunk per event).
        let max_events = 256 + 2 * records_out + cipher_in / 16;
        assert!(
            event < max_events,
            "{event} events and still moving ({records_out} B of records out, {cipher_in} B in)"
        );
        // The client's side: plaintext into its session, records out to the server.
        let mut client_sent = false;
        if !client_failed {
            if sent < case.stream.len() {
                sent += tls.writer().write(&case.stream[sent..]).unwrap_or(0);
            }
            if case.eof && !closing && sent == case.stream.len() && !tls.is_handshaking() {
                closing = true;
                tls.send_close_notify();
            }
            let mut records = Vec::new();
            while tls.wants_write() {
                tls.write_tls(&mut records).expect("into a Vec");
            }
            if let Some(at) = case.flip.filter(|_| !records.is_empty()) {
                let i = at.wrapping_sub(records_out);
                if i < records.len() {
                    records[i] ^= 0x40;
                }
            }
            records_out += records.len();
            client_sent = !records.is_empty();
            send(&server.script, &records, case, &mut rng);
            if closing && client_sent {
                server.script.peer().eof = true;
            }
        }
        let open = server.event();
        let moved = server.script.peer().moved;
        // The server's side: records to the client, plaintext out of it.
        let written = server.take_written();
        cipher_in += written.len();
        if !client_failed && cipher_in <= CAP && !written.is_empty() {
            client_failed = !take_in(&mut tls, &written, &mut plain, case.flip.is_some());
        }
        server.script.peer().cap = CAP.saturating_sub(cipher_in);
        // Nothing moved either way, and the client has nothing more to say (a handshake
        // that cannot go on, after a flipped byte, waits here for good).
        let client_idle = client_failed || !tls.wants_write();
        if !open || (!moved && written.is_empty() && !client_sent && client_idle) {
            break;
        }
    }
    server.close();
    let last = server.take_written();
    if !client_failed && cipher_in + last.len() <= CAP && !last.is_empty() {
        take_in(&mut tls, &last, &mut plain, case.flip.is_some());
    }
    let capped = cipher_in + last.len() >= CAP;
    check_against_plain(case, &plain, capped);
    let per_piece = 64 * (1 + plain.len() / 32);
    assert!(
        capped || cipher_in <= MAX_FLIGHT + plain.len() + per_piece,
        "{cipher_in} B of records for {} B of plaintext",
        plain.len()
    );
}

/// Feeds the server's records to the client and appends what it decrypts; `false` if the
/// client refused them (only allowed after a flipped byte: the server's alert).
fn take_in(
    tls: &mut ClientConnection,
    mut records: &[u8],
    plain: &mut Vec<u8>,
    flip: bool,
) -> bool {
    while !records.is_empty() {
        if tls.read_tls(&mut records).is_err() {
            assert!(flip, "the client cannot take the server's records");
            return false;
        }
        if let Err(e) = tls.process_new_packets() {
            assert!(flip, "the client refuses the server's records: {e}");
            return false;
        }
        let mut buf = [0u8; 4096];
        loop {
            match tls.reader().read(&mut buf) {
                Ok(0) => break, // close_notify
                Ok(n) => plain.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("client read: {e}"),
            }
        }
    }
    true
}

/// `plain` against the plain connection's answer to the same stream in one read.
fn check_against_plain(case: &TlsCase, plain: &[u8], capped: bool) {
    let conn_case = ConnCase {
        stream: case.stream.clone(),
        write_max: 0,
        piece_max: usize::MAX,
        seed: 0,
        eof: case.eof,
        rdhup: false,
        fire_timer: false,
        torture: false,
        no_gaps: false,
        limits: TlsCase::limits(),
        cap: CAP,
        root: empty_root(),
    };
    let io = Io {
        pieces: vec![&case.stream[..]],
        gaps: true,
        write_max: 0,
        torture: false,
    };
    let want = run_conn(&conn_case, io);
    let prefix = &want[..plain.len().min(want.len())];
    let same = if capped || case.flip.is_some() {
        plain == prefix
    } else {
        plain == &want[..]
    };
    if !same {
        let at = want.iter().zip(plain).take_while(|(a, b)| a == b).count();
        let from = at.saturating_sub(200);
        panic!(
            "over TLS the answer differs at byte {at} (plain {} B, over TLS {} B)\n\
             plain: {:?}\nover TLS: {:?}",
            want.len(),
            plain.len(),
            String::from_utf8_lossy(&want[from..want.len().min(at + 200)]),
            String::from_utf8_lossy(&plain[from..plain.len().min(at + 200)]),
        );
    }
}

/// The connection under TLS (see [`TlsCase::new`] for how the first bytes choose): arbitrary
/// records ([`raw`]), or a real client's records carrying arbitrary requests ([`client`]).
pub fn tls(data: &[u8]) {
    let case = TlsCase::new(data);
    match case.client {
        true => client(&case),
        false => raw(&case),
    }
}
