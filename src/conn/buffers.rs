//! A connection's two buffers, like hyper's `Buffered`: input read from the socket and not yet
//! used (`input[start..end]`), and output queued and not yet written (`output[sent..]`). Both
//! come from the reactor's pool only when needed and go back as soon as they are empty, so an
//! idle connection holds no memory. The connection decides what the bytes mean; this only
//! moves them.

use std::io::{self, ErrorKind};
use std::mem;

use crate::trace::Tag;

use super::Transport;
use crate::buf::{BufPool, IN_SIZE};

#[derive(Default)]
pub struct Buffers {
    pub(super) input: Vec<u8>,
    pub(super) start: usize,
    pub(super) end: usize,
    /// The connection appends answers here directly (heads, bodies, chunks).
    pub(super) output: Vec<u8>,
    pub(super) sent: usize,
}

/// What one read did.
pub enum Filled {
    /// `n` bytes arrived, into `room` bytes of space (fewer: the socket is drained).
    Bytes {
        n: usize,
        room: usize,
    },
    /// The peer closed its side.
    Eof,
    /// No room: the input is full of bytes not yet used.
    Full,
    WouldBlock,
    Interrupted,
    Failed(io::Error),
}

/// What writing the owed output did.
pub struct Flushed {
    pub written: usize,
    /// A short write or `WouldBlock`: the socket is full until its next edge.
    pub blocked: bool,
    /// The connection is broken (an error, or a write of 0).
    pub broken: bool,
}

impl Buffers {
    /// The input not yet used.
    pub fn unread(&self) -> &[u8] {
        &self.input[self.start..self.end]
    }

    pub fn has_input(&self) -> bool {
        self.end > self.start
    }

    /// The first `n` bytes of the input are used up.
    pub fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }

    /// Bytes of output not yet written.
    pub fn owed(&self) -> usize {
        self.output.len() - self.sent
    }

    /// Whether either buffer is held (an idle connection should hold none).
    pub fn holds_any(&self) -> bool {
        self.input.capacity() > 0 || self.output.capacity() > 0
    }

    /// The output buffer, taken from the pool if the connection holds none.
    pub fn output(&mut self, pool: &mut BufPool) -> &mut Vec<u8> {
        if self.output.capacity() == 0 {
            self.output = pool.take_output();
        }
        &mut self.output
    }

    pub fn queue(&mut self, pool: &mut BufPool, bytes: &[u8]) {
        self.output(pool).extend_from_slice(bytes);
    }

    /// One read into the input buffer, of at most `cap` bytes. `grow_to`: how far the buffer
    /// may grow when it is full (a request head may be bigger than it); `throw_away`: what was
    /// read before is not wanted (a lingering close).
    pub fn fill<T: Transport>(
        &mut self,
        io: &mut T,
        pool: &mut BufPool,
        grow_to: Option<usize>,
        throw_away: bool,
        cap: Option<usize>,
    ) -> Filled {
        if self.input.is_empty() {
            self.input = pool.take_input();
        }
        if self.start == self.end || throw_away {
            self.start = 0;
            self.end = 0;
        }
        if self.end == self.input.len() {
            if self.start > 0 {
                self.input.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else if let Some(max) = grow_to.filter(|&max| self.input.len() < max) {
                let grown = (self.input.len() * 2).min(max.max(IN_SIZE));
                self.input.resize(grown, 0);
            } else {
                return Filled::Full; // wait for the output to drain
            }
        }
        let room = (self.input.len() - self.end).min(cap.unwrap_or(usize::MAX));
        match io.read(&mut self.input[self.end..self.end + room]) {
            Ok(0) => Filled::Eof,
            Ok(n) => {
                self.end += n;
                Filled::Bytes { n, room }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => Filled::WouldBlock,
            Err(e) if e.kind() == ErrorKind::Interrupted => Filled::Interrupted,
            Err(e) => Filled::Failed(e),
        }
    }

    /// Writes owed output until done or `WouldBlock`, at most `cap` bytes per write (torture
    /// mode). `tag` and `state` are for the log.
    pub fn flush<T: Transport>(
        &mut self,
        io: &mut T,
        cap: Option<usize>,
        tag: &Tag,
        state: &'static str,
    ) -> Flushed {
        let mut done = Flushed {
            written: 0,
            blocked: false,
            broken: false,
        };
        while self.sent < self.output.len() {
            let want = (self.output.len() - self.sent).min(cap.unwrap_or(usize::MAX));
            match io.write(&self.output[self.sent..self.sent + want]) {
                Ok(0) => {
                    done.broken = true;
                    return done;
                }
                Ok(n) => {
                    self.sent += n;
                    done.written += n;
                    let short = n < want;
                    crate::narrate!(
                        tag,
                        state,
                        "write {} B of {}{}",
                        n,
                        want,
                        if short {
                            "; short write, socket full"
                        } else {
                            ""
                        }
                    );
                    if short {
                        // A short write means the socket buffer is full: wait for its edge.
                        done.blocked = true;
                        break;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    crate::narrate!(tag, state, "write -> WouldBlock ({} B owed)", self.owed());
                    done.blocked = true;
                    break;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    crate::conn_debug!(tag, "write error: {}", e);
                    done.broken = true;
                    return done;
                }
            }
        }
        if self.sent == self.output.len() {
            self.output.clear();
            self.sent = 0;
            if io.holds_output() {
                push_held(io, &mut done, tag, state);
            }
        }
        done
    }

    /// Gives empty buffers back to the pool; the output only if `keep_output` is false (a
    /// stream about to refill it keeps it).
    pub fn give_back_idle(&mut self, pool: &mut BufPool, keep_output: bool) {
        if self.owed() == 0 && self.output.capacity() > 0 && !keep_output {
            pool.give_output(mem::take(&mut self.output));
            self.sent = 0;
        }
        if self.start == self.end && !self.input.is_empty() {
            pool.give_input(mem::take(&mut self.input));
            self.start = 0;
            self.end = 0;
        }
    }

    /// Gives both buffers back (the connection is being removed).
    pub fn release(&mut self, pool: &mut BufPool) {
        if !self.input.is_empty() {
            pool.give_input(mem::take(&mut self.input));
        }
        if self.output.capacity() > 0 {
            pool.give_output(mem::take(&mut self.output));
        }
    }
}

/// What the transport holds below our output (a TLS layer's sealed records), on to the socket.
fn push_held<T: Transport>(io: &mut T, done: &mut Flushed, tag: &Tag, state: &'static str) {
    match io.flush_held() {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::WouldBlock => done.blocked = true,
        Err(e) if e.kind() == ErrorKind::Interrupted => {}
        Err(e) => {
            crate::conn_debug!(tag, "write error: {}", e);
            done.broken = true;
        }
    }
    let _ = state;
}
