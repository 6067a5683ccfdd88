//! Test tooling, not part of the server (nothing in it is reached while serving): [`Script`],
//! an in-memory [`Transport`] that splits reads and writes wherever a test says; [`split_at`],
//! to cut a byte string into such pieces; and [`Fixed`], a handler that needs no files. The
//! connection's unit tests (`conn/tests.rs`) and the fuzz crate (`fuzz/props.rs`) both use it,
//! which is why it is public.
#![doc(hidden)]

use std::cell::{RefCell, RefMut};
use std::collections::VecDeque;
use std::io::{self, ErrorKind};
use std::rc::Rc;

use super::Transport;
use crate::handler::{Action, Body, Context, Handler, Request, Response};

/// What the next `read` returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// These bytes (over several reads if the buffer is smaller).
    Data(Vec<u8>),
    WouldBlock,
}

/// The far end of a [`Script`]: what it sends, what it has received, how it takes writes.
#[derive(Debug)]
pub struct Peer {
    /// What the next reads return, in order. Once all are read: `WouldBlock`, or with `eof`
    /// the end of the stream (0), for good.
    pub steps: VecDeque<Step>,
    pub eof: bool,
    /// Largest write taken at once (0: no limit). With a limit, a write that succeeded is
    /// followed by `WouldBlock` until the next [`Peer::ready`].
    pub write_max: usize,
    /// Writes beyond this many bytes in all say `WouldBlock` (a peer that stopped reading).
    pub cap: usize,
    /// Everything the connection wrote.
    pub written: Vec<u8>,
    /// `shutdown_write` was called.
    pub shut: bool,
    /// What `secure` says: a stand-in for a TLS transport, whose close must say goodbye.
    pub secure: bool,
    /// Calls of `read` and of `write` so far.
    pub reads: usize,
    pub writes: usize,
    /// Something moved since the last [`Peer::ready`]: a step read, the end of the stream
    /// first read, or bytes written.
    pub moved: bool,
    blocked: bool,
    eof_read: bool,
}

impl Peer {
    /// A peer that sends `pieces`, each in a read of its own, with a `WouldBlock` after each if
    /// `gaps`, then closes its side if `eof`. Empty pieces are left out: an empty read would
    /// mean the end of the stream. Writes are unlimited until the caller sets `write_max`
    /// or `cap`.
    pub fn sending(pieces: &[&[u8]], gaps: bool, eof: bool) -> Peer {
        let mut steps = VecDeque::new();
        for piece in pieces.iter().filter(|p| !p.is_empty()) {
            steps.push_back(Step::Data(piece.to_vec()));
            if gaps {
                steps.push_back(Step::WouldBlock);
            }
        }
        Peer {
            steps,
            eof,
            write_max: 0,
            cap: usize::MAX,
            written: Vec::new(),
            shut: false,
            secure: false,
            reads: 0,
            writes: 0,
            moved: false,
            blocked: false,
            eof_read: false,
        }
    }

    /// A readiness event: the peer has taken in what was written, so writes go through again,
    /// and nothing has moved yet. Call it where the reactor would call `Conn::on_event`.
    pub fn ready(&mut self) {
        self.blocked = false;
        self.moved = false;
    }

    /// The FIN is queued behind whatever data is left (what EPOLLRDHUP reports).
    pub fn fin_queued(&self) -> bool {
        self.eof && !self.steps.contains(&Step::WouldBlock)
    }

    /// Every step has been read, and the end of the stream too if there is one.
    pub fn drained(&self) -> bool {
        self.steps.is_empty() && (!self.eof || self.eof_read)
    }
}

/// An in-memory [`Transport`] playing a [`Peer`]. Clones share the peer, so a test keeps one
/// to look at it while the connection owns the other.
#[derive(Clone)]
pub struct Script(Rc<RefCell<Peer>>);

impl Script {
    pub fn new(peer: Peer) -> Script {
        Script(Rc::new(RefCell::new(peer)))
    }

    /// The peer, to inspect or change between calls of the connection (not held across them).
    pub fn peer(&self) -> RefMut<'_, Peer> {
        self.0.borrow_mut()
    }
}

impl Transport for Script {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut peer = self.peer();
        peer.reads += 1;
        match peer.steps.pop_front() {
            Some(Step::Data(mut data)) => {
                peer.moved = true;
                let n = data.len().min(buf.len());
                buf[..n].copy_from_slice(&data[..n]);
                if n < data.len() {
                    peer.steps.push_front(Step::Data(data.split_off(n)));
                }
                Ok(n)
            }
            Some(Step::WouldBlock) => {
                peer.moved = true;
                Err(ErrorKind::WouldBlock.into())
            }
            None if peer.eof => {
                peer.moved |= !peer.eof_read;
                peer.eof_read = true;
                Ok(0)
            }
            None => Err(ErrorKind::WouldBlock.into()),
        }
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut peer = self.peer();
        peer.writes += 1;
        // A connection bug that these tests exist to catch, so it fails the test at once.
        assert!(!peer.shut, "write after shutdown_write");
        let room = peer.cap.saturating_sub(peer.written.len());
        if peer.blocked || room == 0 {
            return Err(ErrorKind::WouldBlock.into());
        }
        let mut n = buf.len().min(room);
        if peer.write_max > 0 {
            n = n.min(peer.write_max);
            peer.blocked = true;
        }
        peer.written.extend_from_slice(&buf[..n]);
        peer.moved |= n > 0;
        Ok(n)
    }

    fn shutdown_write(&mut self) -> io::Result<()> {
        self.peer().shut = true;
        Ok(())
    }

    fn secure(&self) -> bool {
        self.0.borrow().secure
    }
}

/// `raw` cut at the offsets in `cuts` (in any order; one past the end counts as the end) into
/// the pieces between them. Empty pieces are left out, so the pieces are reads a peer can make.
pub fn split_at<'a>(raw: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut ends: Vec<usize> = cuts.iter().map(|&at| at.min(raw.len())).collect();
    ends.sort_unstable();
    ends.push(raw.len());
    let mut pieces = Vec::new();
    let mut start = 0;
    for end in ends {
        if end > start {
            pieces.push(&raw[start..end]);
            start = end;
        }
    }
    pieces
}

/// A handler with one answer: `200` with `body` (as `text/plain`) for `path`, `404` for any
/// other path. For connection tests that need some answer but no files and no `Router`.
pub struct Fixed {
    pub path: &'static [u8],
    pub body: &'static [u8],
}

impl Handler for Fixed {
    fn handle(&mut self, req: &Request<'_>, _cx: &Context<'_>) -> Action {
        Action::Respond(if req.path == self.path {
            Response::new(200, "text/plain", Body::Static(self.body))
        } else {
            Response::error(404)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_at_cuts_anywhere_and_leaves_out_empty_pieces() {
        let raw = b"GET / HTTP/1.1";
        assert_eq!(split_at(raw, &[]), [&raw[..]]);
        let pieces = split_at(raw, &[5, 0, 3, 3, 99]);
        assert_eq!(pieces, [&b"GET"[..], b" /", b" HTTP/1.1"]);
    }

    fn write(io: &mut Script, bytes: &[u8]) -> Result<usize, ErrorKind> {
        io.write(bytes).map_err(|e| e.kind())
    }

    /// The connection tests compare the output of split and unsplit input: they only mean
    /// something while the script really splits.
    #[test]
    fn reads_and_writes_come_in_the_scripted_pieces() {
        let mut io = Script::new(Peer::sending(&split_at(b"abcdef", &[2, 3]), true, true));
        let mut buf = [0; 2];
        let mut seen = Vec::new();
        for _ in 0..9 {
            seen.push(match io.read(&mut buf) {
                Ok(n) => format!("{:?}", String::from_utf8_lossy(&buf[..n])),
                Err(e) => format!("{:?}", e.kind()),
            });
        }
        // Each piece, then its gap ("def" in two reads of 2 bytes), then the end, for good.
        let want = r#""ab" WouldBlock "c" WouldBlock "de" "f" WouldBlock "" """#;
        assert_eq!(seen.join(" "), want);

        io.peer().write_max = 2;
        io.peer().cap = 3;
        assert_eq!(write(&mut io, b"xyz"), Ok(2));
        assert_eq!(
            write(&mut io, b"z"),
            Err(ErrorKind::WouldBlock),
            "till an event"
        );
        io.peer().ready();
        assert_eq!(write(&mut io, b"z!"), Ok(1), "the byte left below the cap");
        io.peer().ready();
        assert_eq!(write(&mut io, b"!"), Err(ErrorKind::WouldBlock), "the cap");
        assert_eq!(io.peer().written, b"xyz");
    }
}
