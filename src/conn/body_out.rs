//! A response body too big or too slow to copy in with its head: one generated piece by piece
//! (`/-/bytes`, `/-/stream`, listings), or a file sent with `sendfile(2)` (its first piece, or
//! every piece where the transport cannot, copied through the output buffer). Both are pumped
//! as the socket drains and say how it went — [`Pumped`] — so that what follows the body
//! (keep alive, or close) is decided in one place, by the connection.

use std::fs::File;
use std::io::{self, ErrorKind};
use std::os::unix::fs::FileExt;

use crate::trace::Tag;

use super::{guarded, Transport};
use crate::http::response::{frame_chunk, Framing, Stream};

/// Most bytes of a file sent in one round, so one download cannot hold the reactor.
pub const FILE_ROUND: usize = 256 * 1024;

/// How the next bytes of a file body leave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileSend {
    /// The first piece is copied in behind the head, so both leave in one write: measured
    /// faster for the client than a lone small head segment followed by `sendfile`.
    FirstPiece,
    /// `sendfile(2)` from then on.
    ZeroCopy,
    /// The transport cannot `sendfile`: copy every piece.
    Copy,
}

pub enum BodyOut {
    Stream {
        stream: Box<dyn Stream>,
        framing: Framing,
        /// Bytes still owed for a `Content-Length` body.
        remaining: u64,
    },
    File {
        file: File,
        offset: u64,
        remaining: u64,
        how: FileSend,
    },
}

/// What one pump did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pumped {
    /// More is to come; `progress` says whether anything moved this time.
    More { progress: bool },
    /// Nothing until then: the next piece of a paced body is not due.
    Wait(std::time::Duration),
    /// The whole body is queued or sent.
    Done,
    /// It cannot be finished — a stream shorter than promised or that panicked, a file that
    /// shrank or failed, a broken socket: only closing can tell the client.
    Broken,
}

/// What a `sendfile` pump did besides [`Pumped`].
pub struct Sent {
    pub pumped: Pumped,
    pub bytes: usize,
    /// The socket took less than offered: wait for its edge.
    pub blocked: bool,
}

impl BodyOut {
    /// Whether the next piece is copied into the output buffer (rather than sent by the kernel).
    pub fn copies(&self) -> bool {
        !matches!(
            self,
            BodyOut::File {
                how: FileSend::ZeroCopy,
                ..
            }
        )
    }

    /// Whether the output buffer is refilled at once after it drains (a stream keeps it).
    pub fn refills(&self) -> bool {
        matches!(self, BodyOut::Stream { .. })
    }

    /// Appends the next piece to `out`, at most `room` bytes (chunk framing aside).
    pub fn pump_copy(&mut self, out: &mut Vec<u8>, room: usize) -> Pumped {
        match self {
            BodyOut::Stream {
                stream,
                framing,
                remaining,
            } => pump_stream(stream, *framing, remaining, out, room),
            BodyOut::File {
                file,
                offset,
                remaining,
                how,
            } => {
                if *how == FileSend::FirstPiece {
                    *how = FileSend::ZeroCopy;
                }
                copy_file(file, offset, remaining, out, room)
            }
        }
    }

    /// Sends more of a file straight from the page cache, at most `FILE_ROUND` bytes, and at
    /// most `cap` per call (torture mode). `tag` is for the log.
    pub fn pump_sendfile<T: Transport>(
        &mut self,
        io: &mut T,
        cap: Option<usize>,
        tag: &Tag,
    ) -> Sent {
        let BodyOut::File {
            file,
            offset,
            remaining,
            how: how @ FileSend::ZeroCopy,
        } = self
        else {
            return Sent {
                pumped: Pumped::More { progress: false },
                bytes: 0,
                blocked: false,
            };
        };
        let (bytes, stop) = send_round(io, file, offset, remaining, cap);
        let blocked = matches!(stop, Some(Stop::Blocked));
        let pumped = match stop {
            Some(Stop::Ended) => {
                crate::conn_debug!(tag, "file ended {} B early", remaining);
                Pumped::Broken
            }
            Some(Stop::Failed(e)) => {
                crate::conn_debug!(tag, "sendfile: {}", e);
                Pumped::Broken
            }
            Some(Stop::Unsupported) => {
                *how = FileSend::Copy; // copied through the output buffer from now on
                Pumped::More { progress: true }
            }
            None | Some(Stop::Blocked) => {
                crate::narrate!(
                    tag,
                    "SendingBody",
                    "sendfile {} B, {} B to go{}",
                    bytes,
                    remaining,
                    if blocked { " -> WouldBlock" } else { "" }
                );
                if *remaining == 0 {
                    Pumped::Done
                } else {
                    Pumped::More {
                        progress: bytes > 0,
                    }
                }
            }
        };
        Sent {
            pumped,
            bytes,
            blocked,
        }
    }
}

/// Why a round of `sendfile` calls stopped before sending all it may.
enum Stop {
    /// The socket took less than offered, or nothing.
    Blocked,
    /// The file ended before the length promised in the head.
    Ended,
    /// The transport cannot `sendfile`.
    Unsupported,
    Failed(io::Error),
}

/// `sendfile` until the file is sent, `FILE_ROUND` bytes are, or something stops it; the bytes
/// sent (`offset` and `remaining` moved on by them), and what stopped it, if anything did.
fn send_round<T: Transport>(
    io: &mut T,
    file: &File,
    offset: &mut u64,
    remaining: &mut u64,
    cap: Option<usize>,
) -> (usize, Option<Stop>) {
    let mut bytes = 0;
    while *remaining > 0 && bytes < FILE_ROUND {
        let count = (*remaining)
            .min((FILE_ROUND - bytes) as u64)
            .min(cap.map_or(u64::MAX, |c| c as u64)) as usize;
        match io.send_file(file, *offset, count) {
            Ok(0) => return (bytes, Some(Stop::Ended)),
            Ok(n) => {
                *offset += n as u64;
                *remaining -= n as u64;
                bytes += n;
                if n < count {
                    return (bytes, Some(Stop::Blocked));
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return (bytes, Some(Stop::Blocked)),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::Unsupported => {
                return (bytes, Some(Stop::Unsupported))
            }
            Err(e) => return (bytes, Some(Stop::Failed(e))),
        }
    }
    (bytes, None)
}

/// The largest chunk of a chunked stream.
const CHUNK: usize = 16 * 1024;

/// The stream's next piece, framed: cut to what a `Content-Length` still allows, or made a
/// chunk (and the last chunk after it).
fn pump_stream(
    stream: &mut Box<dyn Stream>,
    framing: Framing,
    remaining: &mut u64,
    out: &mut Vec<u8>,
    room: usize,
) -> Pumped {
    match guarded(|| stream.due_in()) {
        None => return Pumped::Broken, // a panicking stream
        Some(Some(after)) if !after.is_zero() => return Pumped::Wait(after),
        Some(_) => {}
    }
    let start = out.len();
    let max = match framing {
        Framing::Length(_) => room.min(usize::try_from(*remaining).unwrap_or(usize::MAX)),
        // At most `CHUNK` bytes a chunk, asked for only once that much fits: the chunks (and
        // so the bytes on the wire) never depend on how far the client has read.
        Framing::Chunked if room < CHUNK => return Pumped::More { progress: false },
        Framing::Chunked => CHUNK,
        _ => room,
    };
    let Some(more) = guarded(|| stream.fill(out, max)) else {
        return Pumped::Broken; // a panicking stream
    };
    match framing {
        Framing::Length(_) => {
            out.truncate(start + max);
            *remaining -= (out.len() - start) as u64;
            match (*remaining, more) {
                (0, _) => Pumped::Done,
                (_, false) => Pumped::Broken, // shorter than promised
                _ => Pumped::More { progress: true },
            }
        }
        Framing::Chunked => {
            frame_chunk(out, start);
            if more {
                Pumped::More { progress: true }
            } else {
                out.extend_from_slice(b"0\r\n\r\n");
                Pumped::Done
            }
        }
        Framing::Close | Framing::None if more => Pumped::More { progress: true },
        Framing::Close | Framing::None => Pumped::Done,
    }
}

/// The file's next piece, read into `out` (at most `room` bytes).
fn copy_file(
    file: &File,
    offset: &mut u64,
    remaining: &mut u64,
    out: &mut Vec<u8>,
    room: usize,
) -> Pumped {
    let start = out.len();
    let want = room.min(usize::try_from(*remaining).unwrap_or(usize::MAX));
    out.resize(start + want, 0);
    let got = file.read_at(&mut out[start..], *offset);
    let n = *got.as_ref().unwrap_or(&0);
    out.truncate(start + n);
    *offset += n as u64;
    *remaining -= n as u64;
    match got {
        Err(e) if e.kind() == ErrorKind::Interrupted => Pumped::More { progress: true },
        // The file shrank or failed.
        Ok(0) | Err(_) => Pumped::Broken,
        Ok(_) if *remaining > 0 => Pumped::More { progress: true },
        Ok(_) => Pumped::Done,
    }
}
