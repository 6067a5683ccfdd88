//! Buffers come from a pool the reactor owns and go back when a connection falls idle, so an
//! idle connection holds none and a busy one allocates nothing in the steady state.

/// Input buffers start at this size and may grow to `--max-head` for a large head.
pub const IN_SIZE: usize = 16 * 1024;
/// Output buffers start here; stop parsing more requests once this much is owed (high water).
pub const OUT_HIGH: usize = 64 * 1024;
/// Pooled buffers larger than this are dropped rather than kept (shrink after a large request).
const KEEP_MAX: usize = 128 * 1024;

pub struct BufPool {
    inputs: Vec<Vec<u8>>,
    outputs: Vec<Vec<u8>>,
    /// Most free buffers of each kind kept around.
    max_free: usize,
}

impl BufPool {
    pub fn new(max_free: usize) -> Self {
        BufPool {
            inputs: Vec::new(),
            outputs: Vec::new(),
            max_free,
        }
    }

    /// A zero-filled input buffer of `IN_SIZE` bytes (its `len` is its usable size).
    pub fn take_input(&mut self) -> Vec<u8> {
        self.inputs.pop().unwrap_or_else(|| vec![0; IN_SIZE])
    }

    pub fn give_input(&mut self, buf: Vec<u8>) {
        if buf.len() == IN_SIZE && self.inputs.len() < self.max_free {
            self.inputs.push(buf);
        }
    }

    /// An empty output buffer.
    pub fn take_output(&mut self) -> Vec<u8> {
        self.outputs
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(OUT_HIGH))
    }

    pub fn give_output(&mut self, mut buf: Vec<u8>) {
        if buf.capacity() <= KEEP_MAX && self.outputs.len() < self.max_free {
            buf.clear();
            self.outputs.push(buf);
        }
    }

    /// Bytes held by the free buffers: bounded by `max_free` × (`IN_SIZE` + `KEEP_MAX`).
    pub fn free_bytes(&self) -> usize {
        let inputs: usize = self.inputs.iter().map(Vec::capacity).sum();
        inputs + self.outputs.iter().map(Vec::capacity).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_and_sheds() {
        let mut p = BufPool::new(2);
        let a = p.take_input();
        let ptr = a.as_ptr();
        p.give_input(a);
        let again = p.take_input();
        assert_eq!(again.as_ptr(), ptr);
        let mut big = p.take_output();
        big.reserve(KEEP_MAX * 2);
        p.give_output(big);
        assert!(p.outputs.is_empty(), "an oversized buffer is not kept");
    }
}
