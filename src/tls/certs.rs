//! The server's TLS configuration: a certificate chain and key read from PEM files
//! (`--tls-cert`, `--tls-key`), or a certificate made at start-up for this machine
//! (`--tls-self-signed`). TLS 1.2 and 1.3, ALPN `http/1.1`, the `ring` provider.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use sha2::{Digest, Sha256};

use super::validity;

/// PEM files bigger than this are not certificates (a mistaken path, a device).
const MAX_PEM: u64 = 1 << 20;
/// How long a self-signed certificate is valid, from a day before start-up (a clock a little
/// behind ours still accepts it).
const SELF_SIGNED_DAYS: i64 = 365;

/// A configuration ready to serve, and what to tell the user about its certificate.
pub struct Certified {
    pub config: Arc<ServerConfig>,
    /// SHA-256 of the leaf certificate, `AB:CD:…`, to check what a browser shows.
    pub fingerprint: String,
    /// A warning about the leaf's dates (expired, not yet valid), if any.
    pub warning: Option<String>,
}

/// Why TLS cannot start: one line naming the file and the reason.
#[derive(Debug)]
pub struct TlsError(pub String);

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads `cert` (a PEM chain, leaf first) and `key` (PKCS#8, PKCS#1 RSA or SEC1 EC).
pub fn from_files(cert: &Path, key: &Path) -> Result<Certified, TlsError> {
    let fail = |what: &str, path: &Path, why: String| {
        TlsError(format!("{what} {}: {why}", path.display()))
    };
    let cert_pem = read_small(cert).map_err(|e| fail("--tls-cert", cert, e))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail("--tls-cert", cert, pem_reason(e)))?;
    if chain.is_empty() {
        return Err(fail("--tls-cert", cert, "no CERTIFICATE in it".into()));
    }
    let key_pem = read_small(key).map_err(|e| fail("--tls-key", key, e))?;
    let key_der = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| match e {
        pem::Error::NoItemsFound => fail("--tls-key", key, "no PRIVATE KEY in it".into()),
        e => fail("--tls-key", key, pem_reason(e)),
    })?;
    let warning = match validity::of(&chain[0]) {
        Some(v) => v.warning(now_secs()),
        None => return Err(fail("--tls-cert", cert, "not an X.509 certificate".into())),
    };
    let fingerprint = fingerprint(&chain[0]);
    let config = server_config(chain, key_der).map_err(|e| {
        TlsError(format!(
            "--tls-key {} does not fit --tls-cert {}: {e}",
            key.display(),
            cert.display()
        ))
    })?;
    Ok(Certified {
        config,
        fingerprint,
        warning: warning.map(|w| format!("--tls-cert {}: {w}", cert.display())),
    })
}

/// A certificate made now, for `names` (host names and IP addresses), with an ECDSA P-256
/// key: its signature is several times cheaper than RSA-2048's in every handshake. Its PEM is
/// also returned, for `--tls-self-signed-out`.
pub fn self_signed(names: &[String]) -> Result<(Certified, String), TlsError> {
    let fail = |e: rcgen::Error| TlsError(format!("--tls-self-signed: {e}"));
    let mut params = rcgen::CertificateParams::new(names.to_vec()).map_err(fail)?;
    let today = now_secs() as i64 / 86_400;
    let (y, m, d) = crate::http::date::civil_from_days(today - 1);
    params.not_before = rcgen::date_time_ymd(y as i32, m as u8, d as u8);
    let (y, m, d) = crate::http::date::civil_from_days(today + SELF_SIGNED_DAYS);
    params.not_after = rcgen::date_time_ymd(y as i32, m as u8, d as u8);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "spindle self-signed");
    let key = rcgen::KeyPair::generate().map_err(fail)?;
    let cert = params.self_signed(&key).map_err(fail)?;
    let der = cert.der().clone();
    let key_der = PrivateKeyDer::try_from(key.serialize_der())
        .map_err(|e| TlsError(format!("--tls-self-signed: {e}")))?;
    let fingerprint = fingerprint(&der);
    let config = server_config(vec![der], key_der)
        .map_err(|e| TlsError(format!("--tls-self-signed: {e}")))?;
    let certified = Certified {
        config,
        fingerprint,
        warning: None,
    };
    Ok((certified, cert.pem()))
}

/// The names a self-signed certificate is for: `localhost`, the loopback addresses, and each
/// bound address (under a wildcard, this machine's interface addresses), once each.
pub fn names_for(bound: &[std::net::SocketAddr]) -> Vec<String> {
    let mut names: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    for addr in bound {
        let ips = match addr.ip().is_unspecified() {
            true => crate::interfaces::reachable(*addr)
                .iter()
                .map(|a| a.ip())
                .collect(),
            false => vec![addr.ip()],
        };
        for ip in ips {
            let s = ip.to_string();
            if !names.contains(&s) {
                names.push(s);
            }
        }
    }
    names
}

fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, rustls::Error> {
    // rustls 0.23.48 deprecates ring's provider because it lacks the post-quantum key
    // exchange; aws-lc-rs has it but needs cmake and more to build. X25519 and the P-curves
    // stay (what Debian's OpenSSL 3.0, and so nginx here, offers too).
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // Resumption across connections (a browser's next connection skips the signature).
    config.ticketer = rustls::crypto::ring::Ticketer::new()?;
    Ok(Arc::new(config))
}

/// `AB:CD:…`: SHA-256 of the certificate's DER, as browsers and `openssl x509 -fingerprint`
/// show it.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    let mut s = String::with_capacity(digest.len() * 3);
    for (i, b) in digest.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push_str(&format!("{b:02X}"));
    }
    s
}

fn read_small(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| bare(&e))?;
    let mut bytes = Vec::new();
    file.take(MAX_PEM + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| bare(&e))?;
    if bytes.len() as u64 > MAX_PEM {
        return Err("too big for a PEM file".into());
    }
    Ok(bytes)
}

fn pem_reason(e: pem::Error) -> String {
    match e {
        pem::Error::NoItemsFound => "nothing PEM in it".into(),
        e => format!("not valid PEM ({e})"),
    }
}

/// `No such file or directory`, without std's ` (os error 2)` tail.
fn bare(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) if s.ends_with(')') => s[..i].to_owned(),
        _ => s,
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
