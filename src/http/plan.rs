//! How a response is framed and what follows it — RFC 9112 §6.3 and §9.3 in one pure function,
//! so the connection asks instead of deciding: `Content-Length`, chunked (HTTP/1.1 only) or
//! close-delimited, no body at all (1xx, 204, 304, and HEAD), and the `Connection` header.

use super::response::{status_has_no_body, ConnectionHeader, Framing};
use super::Version;

/// What a response's head must say, and what the connection does after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    pub framing: Framing,
    pub connection: ConnectionHeader,
    /// The connection reads the next request after this response.
    pub keep_alive: bool,
    /// Body bytes follow the head (not for HEAD, nor for a status that has none).
    pub send_body: bool,
}

/// The plan for a response of `status` whose body has `body_len` bytes (`None`: unknown until
/// it is generated), to a request of `version` that asked to be kept alive or not, and that
/// was a `HEAD` or not. (A server that is shutting down asks with `keep_alive` false.)
pub fn plan(
    status: u16,
    body_len: Option<u64>,
    version: Version,
    keep_alive: bool,
    head: bool,
) -> Plan {
    let no_body = status_has_no_body(status);
    let mut keep_alive = keep_alive;
    let framing = match body_len {
        _ if no_body => Framing::None,
        Some(n) => Framing::Length(n),
        None if version == Version::Http11 => Framing::Chunked,
        None => {
            keep_alive = false; // HTTP/1.0 never gets chunked: the close ends the body
            Framing::Close
        }
    };
    let connection = match (keep_alive, version) {
        (false, _) => ConnectionHeader::Close,
        (true, Version::Http10) => ConnectionHeader::KeepAlive,
        (true, Version::Http11) => ConnectionHeader::Omit,
    };
    Plan {
        framing,
        connection,
        keep_alive,
        send_body: !head && !no_body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Version::{Http10, Http11};

    #[test]
    fn lengths_chunks_and_closes() {
        let p = plan(200, Some(13), Http11, true, false);
        assert_eq!(p.framing, Framing::Length(13));
        assert_eq!(
            (p.connection, p.keep_alive, p.send_body),
            (ConnectionHeader::Omit, true, true)
        );
        let p = plan(200, None, Http11, true, false);
        assert_eq!((p.framing, p.keep_alive), (Framing::Chunked, true));
        // HTTP/1.0 never gets chunked: a body of unknown length ends with the connection.
        let p = plan(200, None, Http10, true, false);
        assert_eq!(
            (p.framing, p.connection, p.keep_alive),
            (Framing::Close, ConnectionHeader::Close, false)
        );
        let p = plan(200, Some(0), Http10, true, false);
        assert_eq!(p.connection, ConnectionHeader::KeepAlive);
    }

    #[test]
    fn no_body_for_head_204_304_and_1xx() {
        let p = plan(200, Some(13), Http11, true, true);
        assert_eq!(
            (p.framing, p.send_body),
            (Framing::Length(13), false),
            "HEAD: the GET headers"
        );
        for status in [100, 204, 304] {
            let p = plan(status, Some(13), Http11, true, false);
            assert_eq!((p.framing, p.send_body), (Framing::None, false), "{status}");
        }
    }

    #[test]
    fn close_when_not_kept_alive() {
        let p = plan(404, Some(9), Http11, false, false);
        assert_eq!(
            (p.connection, p.keep_alive),
            (ConnectionHeader::Close, false)
        );
    }
}
