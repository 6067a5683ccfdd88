//! HTTPS: rustls under the connection, behind its [`Transport`](crate::conn::Transport). The
//! state machine above does not know whether its bytes are sealed: `stream.rs` turns records
//! into plaintext and back, `certs.rs` makes the server's configuration (a certificate from
//! files, or one made at start-up for this machine), and `validity.rs` reads a certificate's
//! dates to warn about one that has expired.
//!
//! The `ring` provider keeps the build to a C compiler (aws-lc-rs needs cmake and more).

pub mod certs;
pub mod stream;
pub mod validity;

pub use certs::{Certified, TlsError};
pub use stream::TlsStream;
