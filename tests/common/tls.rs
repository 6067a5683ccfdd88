//! HTTPS for the tests: a test CA made here with rcgen (a CA certificate, and a leaf for
//! `localhost` and 127.0.0.1 signed by it, as PEM files in a scratch directory), a
//! [`TestServer`] whose `--bind` listener speaks TLS with that leaf, and a blocking rustls
//! client over `std::net::TcpStream` that trusts the CA and reads one [`Response`] at a time.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use spindle::config::TlsSource;
use spindle::Config;

use super::{Response, ScratchDir, TestServer, READ_TIMEOUT};

/// A CA and a leaf it signed, on disk; and a client configuration that trusts the CA.
pub struct TestCa {
    pub dir: ScratchDir,
    /// The leaf's PEM (`--tls-cert`) and its key's (`--tls-key`).
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The leaf's DER, for fingerprints.
    pub leaf_der: CertificateDer<'static>,
    ca_der: CertificateDer<'static>,
}

impl TestCa {
    /// A CA, and a leaf for `localhost` and 127.0.0.1 valid from 2000 to 2099.
    pub fn new() -> TestCa {
        TestCa::with_leaf_dates((2000, 1, 1), (2099, 1, 1))
    }

    /// The same, with the leaf valid between these days, `(year, month, day)` (an expired
    /// one, for a warning).
    pub fn with_leaf_dates(not_before: (i32, u8, u8), not_after: (i32, u8, u8)) -> TestCa {
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "spindle test CA");
        let ca =
            rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap())
                .unwrap();

        let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let mut leaf_params = rcgen::CertificateParams::new(names).unwrap();
        leaf_params.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
        leaf_params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();

        let dir = ScratchDir::new("tls-ca");
        let cert = dir.write("leaf.pem", leaf.pem());
        let key = dir.write("leaf.key", leaf_key.serialize_pem());
        dir.write("ca.pem", ca.pem());
        TestCa {
            dir,
            cert,
            key,
            leaf_der: leaf.der().clone(),
            ca_der: ca.der().clone(),
        }
    }

    /// `Config.tls` for this leaf.
    pub fn source(&self) -> TlsSource {
        TlsSource::Files {
            cert: self.cert.clone(),
            key: self.key.clone(),
        }
    }

    /// A client configuration that trusts this CA, offers ALPN `http/1.1`, and speaks
    /// `versions` (TLS 1.3 and 1.2 if empty).
    pub fn client_config(
        &self,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca_der.clone()).unwrap();
        // rustls deprecates ring's provider (no post-quantum key exchange); the server uses it.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let versions = match versions.is_empty() {
            true => rustls::ALL_VERSIONS,
            false => versions,
        };
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }

    /// A fresh client session for `localhost`.
    pub fn session(&self) -> ClientConnection {
        let name = ServerName::try_from("localhost").unwrap();
        ClientConnection::new(self.client_config(&[]), name).unwrap()
    }
}

/// A server whose `--bind` listener speaks TLS with `ca`'s leaf, tweaked by `tweak` after.
pub fn tls_server(ca: &TestCa, tweak: impl FnOnce(&mut Config)) -> TestServer {
    let source = ca.source();
    TestServer::with(move |c| {
        c.tls = Some(source);
        tweak(c);
    })
}

/// A blocking rustls client with a persistent buffer of plaintext.
pub struct TlsClient {
    pub tls: StreamOwned<ClientConnection, TcpStream>,
    buf: Vec<u8>,
    eof: bool,
    /// Read at most this many bytes per read, sleeping before each (a slow reader).
    throttle: Option<(usize, std::time::Duration)>,
}

impl TlsClient {
    /// Connects to `addr` and completes the handshake (panics if it fails).
    pub fn connect(ca: &TestCa, addr: SocketAddr) -> TlsClient {
        TlsClient::try_connect(ca.session(), addr).expect("TLS handshake")
    }

    /// Connects with `session` and runs its handshake to the end.
    pub fn try_connect(session: ClientConnection, addr: SocketAddr) -> io::Result<TlsClient> {
        TlsClient::over(session, TcpStream::connect(addr)?)
    }

    /// The handshake of `session` over the connected `sock`, run to the end.
    pub fn over(mut session: ClientConnection, mut sock: TcpStream) -> io::Result<TlsClient> {
        sock.set_read_timeout(Some(READ_TIMEOUT))?;
        sock.set_write_timeout(Some(READ_TIMEOUT))?;
        sock.set_nodelay(true)?;
        while session.is_handshaking() {
            session.complete_io(&mut sock)?;
        }
        Ok(TlsClient {
            tls: StreamOwned::new(session, sock),
            buf: Vec::new(),
            eof: false,
            throttle: None,
        })
    }

    pub fn sock(&self) -> &TcpStream {
        &self.tls.sock
    }

    /// The protocol ALPN agreed on.
    pub fn alpn(&self) -> Option<Vec<u8>> {
        self.tls.conn.alpn_protocol().map(<[u8]>::to_vec)
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.tls.write_all(bytes).expect("TLS send");
        self.tls.flush().expect("TLS flush");
    }

    /// Makes every later read take at most `piece` bytes, after a `pause`.
    pub fn throttle(&mut self, piece: usize, pause: std::time::Duration) {
        self.throttle = Some((piece, pause));
    }

    /// One plaintext read into the buffer: `Ok(0)` at a clean end (`close_notify`), an
    /// `UnexpectedEof` error if the server closed without it.
    pub fn fill(&mut self) -> io::Result<usize> {
        if self.eof {
            return Ok(0);
        }
        let mut tmp = [0u8; 16 * 1024];
        let max = match self.throttle {
            Some((piece, pause)) => {
                std::thread::sleep(pause);
                piece.min(tmp.len())
            }
            None => tmp.len(),
        };
        loop {
            match self.tls.read(&mut tmp[..max]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(0);
                }
                Ok(n) => {
                    self.buf.extend_from_slice(&tmp[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn need(&mut self, n: usize, what: &str) -> Result<(), String> {
        while self.buf.len() < n {
            match self.fill() {
                Ok(0) => return Err(format!("closed while reading {what}")),
                Ok(_) => {}
                Err(e) => return Err(format!("{e} while reading {what}")),
            }
        }
        Ok(())
    }

    /// A CRLF-terminated line, without its CRLF.
    fn line(&mut self, what: &str) -> Result<String, String> {
        let mut from = 0;
        loop {
            if let Some(i) = self.buf[from..].windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..from + i]).into_owned();
                self.buf.drain(..from + i + 2);
                return Ok(line);
            }
            from = self.buf.len().saturating_sub(1);
            let have = self.buf.len();
            self.need(have + 1, what)?;
        }
    }

    pub fn read_response(&mut self) -> Response {
        self.try_read_response(false)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn read_head_response(&mut self) -> Response {
        self.try_read_response(true)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// One response (`head_request`: to a HEAD, so no body), framed by `Content-Length`, by
    /// chunks, or by the close.
    pub fn try_read_response(&mut self, head_request: bool) -> Result<Response, String> {
        let status_line = self.line("status line")?;
        let mut raw_head = format!("{status_line}\r\n").into_bytes();
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or("").to_owned();
        let status = parts.next().and_then(|c| c.parse().ok());
        let Some(status) = status.filter(|_| version.starts_with("HTTP/1.")) else {
            return Err(format!("bad status line {status_line:?}"));
        };
        let reason = parts.next().unwrap_or("").to_owned();
        let mut headers = Vec::new();
        loop {
            let line = self.line("head")?;
            raw_head.extend_from_slice(format!("{line}\r\n").as_bytes());
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').ok_or(format!("bad field {line:?}"))?;
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
        let mut resp = Response {
            version,
            status,
            reason,
            headers,
            body: Vec::new(),
            raw_head,
            raw_chunked: None,
            chunks: Vec::new(),
            trailers: Vec::new(),
        };
        if head_request || status < 200 || status == 204 || status == 304 {
            return Ok(resp);
        }
        if resp.is_chunked() {
            self.read_chunks(&mut resp)?;
        } else if let Some(n) = resp.content_length() {
            self.need(n as usize, "body")?;
            resp.body = self.buf.drain(..n as usize).collect();
        } else {
            resp.body = self.read_to_close().map_err(|e| e.to_string())?;
        }
        Ok(resp)
    }

    fn read_chunks(&mut self, resp: &mut Response) -> Result<(), String> {
        loop {
            let line = self.line("chunk size")?;
            let size = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size, 16).map_err(|_| format!("chunk {line:?}"))?;
            if size == 0 {
                while !self.line("trailer")?.is_empty() {}
                return Ok(());
            }
            self.need(size + 2, "chunk")?;
            resp.chunks.push(self.buf[..size].to_vec());
            resp.body.extend_from_slice(&self.buf[..size]);
            self.buf.drain(..size + 2);
        }
    }

    /// Everything until the end of the stream: `Ok` only at a clean end (`close_notify`).
    pub fn read_to_close(&mut self) -> io::Result<Vec<u8>> {
        while self.fill()? > 0 {}
        Ok(std::mem::take(&mut self.buf))
    }

    /// One request, its response.
    pub fn request(&mut self, req: &[u8]) -> Response {
        self.send(req);
        self.read_response()
    }
}
