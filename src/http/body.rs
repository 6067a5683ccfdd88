//! Request body decoding: a `Content-Length` countdown or a strict chunked decoder. Both are
//! state machines that give the same result however the input is split across reads.

use std::ops::Range;

/// Longest run of chunk extensions on one chunk line.
const MAX_CHUNK_EXT: u32 = 1024;
/// Most trailer bytes after the last chunk.
const MAX_TRAILERS: u32 = 8192;
/// Most hex digits in a chunk size (2^60 bytes is plenty and cannot overflow).
const MAX_SIZE_DIGITS: u32 = 15;

/// The chunked framing was broken: 400 and close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadChunk;

/// One step of decoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// Input bytes used up (framing and data).
    pub consumed: usize,
    /// Body bytes, as a range of the input given to [`BodyDecoder::decode`] (may be empty).
    pub data: Range<usize>,
    /// The body is complete.
    pub done: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyDecoder {
    /// Bytes still to come of a `Content-Length` body.
    Length(u64),
    Chunked(Chunked),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunked {
    state: Chunk,
    /// Size of the chunk being read, then what is left of its data.
    size: u64,
    digits: u32,
    ext: u32,
    trailers: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chunk {
    /// Reading hex digits of the chunk size.
    Size,
    /// After the size: extensions (or whitespace before them) up to CR.
    Ext,
    /// CR of the chunk line seen; LF must follow.
    SizeLf,
    /// Chunk data.
    Data,
    /// CR then LF after chunk data.
    DataCr,
    DataLf,
    /// At the start of a trailer line (or of the final empty line).
    TrailerStart,
    TrailerLine,
    TrailerLf,
    /// CR of the final empty line seen.
    EndLf,
    Done,
}

impl BodyDecoder {
    pub fn length(n: u64) -> Self {
        BodyDecoder::Length(n)
    }

    pub fn chunked() -> Self {
        BodyDecoder::Chunked(Chunked {
            state: Chunk::Size,
            size: 0,
            digits: 0,
            ext: 0,
            trailers: 0,
        })
    }

    pub fn is_done(&self) -> bool {
        match self {
            BodyDecoder::Length(n) => *n == 0,
            BodyDecoder::Chunked(c) => c.state == Chunk::Done,
        }
    }

    /// Decodes from `input` until it yields some body data, runs out of input, or the body ends.
    /// Consumes nothing only when `input` is empty or the body is already done.
    pub fn decode(&mut self, input: &[u8]) -> Result<Decoded, BadChunk> {
        match self {
            BodyDecoder::Length(remaining) => {
                let n = (*remaining).min(input.len() as u64) as usize;
                *remaining -= n as u64;
                Ok(Decoded {
                    consumed: n,
                    data: 0..n,
                    done: *remaining == 0,
                })
            }
            BodyDecoder::Chunked(c) => c.decode(input),
        }
    }
}

impl Chunked {
    fn decode(&mut self, input: &[u8]) -> Result<Decoded, BadChunk> {
        let mut i = 0;
        while i < input.len() && self.state != Chunk::Done {
            if self.state == Chunk::Data {
                let n = self.size.min((input.len() - i) as u64) as usize;
                self.size -= n as u64;
                if self.size == 0 {
                    self.state = Chunk::DataCr;
                }
                return Ok(Decoded {
                    consumed: i + n,
                    data: i..i + n,
                    done: false,
                });
            }
            self.step(input[i])?;
            i += 1;
        }
        Ok(Decoded {
            consumed: i,
            data: i..i,
            done: self.state == Chunk::Done,
        })
    }

    /// One framing byte. Bare LF and bare CR are refused: lenient line endings in chunk framing
    /// are a classic smuggling vector.
    fn step(&mut self, b: u8) -> Result<(), BadChunk> {
        self.state = match (self.state, b) {
            (Chunk::Size, _) if b.is_ascii_hexdigit() => {
                self.digits += 1;
                if self.digits > MAX_SIZE_DIGITS {
                    return Err(BadChunk);
                }
                self.size = self.size * 16 + u64::from(hex(b));
                Chunk::Size
            }
            (Chunk::Size, b';' | b' ' | b'\t') if self.digits > 0 => Chunk::Ext,
            (Chunk::Size, b'\r') if self.digits > 0 => Chunk::SizeLf,
            (Chunk::Ext, b'\r') => Chunk::SizeLf,
            (Chunk::Ext, _) if b == b'\t' || (b' '..0x7f).contains(&b) || b >= 0x80 => {
                self.ext += 1;
                if self.ext > MAX_CHUNK_EXT {
                    return Err(BadChunk);
                }
                Chunk::Ext
            }
            (Chunk::SizeLf, b'\n') if self.size == 0 => Chunk::TrailerStart,
            (Chunk::SizeLf, b'\n') => Chunk::Data,
            (Chunk::DataCr, b'\r') => Chunk::DataLf,
            (Chunk::DataLf, b'\n') => {
                self.digits = 0;
                self.ext = 0;
                Chunk::Size
            }
            (Chunk::TrailerStart, b'\r') => Chunk::EndLf,
            (Chunk::TrailerStart | Chunk::TrailerLine, _) if b != b'\n' && b != b'\r' => {
                self.trailers += 1;
                if self.trailers > MAX_TRAILERS {
                    return Err(BadChunk);
                }
                Chunk::TrailerLine
            }
            (Chunk::TrailerLine, b'\r') => Chunk::TrailerLf,
            (Chunk::TrailerLf, b'\n') => Chunk::TrailerStart,
            (Chunk::EndLf, b'\n') => Chunk::Done,
            _ => return Err(BadChunk),
        };
        Ok(())
    }
}

fn hex(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Decodes all of `input` fed in the given pieces; returns (body, consumed, done).
    fn run(mut dec: BodyDecoder, pieces: &[&[u8]]) -> Result<(Vec<u8>, usize, bool), BadChunk> {
        let mut body = Vec::new();
        let mut pending: Vec<u8> = Vec::new();
        let mut consumed = 0;
        for p in pieces {
            pending.extend_from_slice(p);
            loop {
                let d = dec.decode(&pending)?;
                body.extend_from_slice(&pending[d.data.clone()]);
                pending.drain(..d.consumed);
                consumed += d.consumed;
                if d.done {
                    return Ok((body, consumed, true));
                }
                if d.consumed == 0 {
                    break;
                }
            }
        }
        Ok((body, consumed, dec.is_done()))
    }

    #[test]
    fn length() {
        let (b, c, d) = run(BodyDecoder::length(5), &[b"hel", b"loEXTRA"]).unwrap();
        assert_eq!((&b[..], c, d), (&b"hello"[..], 5, true));
        assert!(BodyDecoder::length(0).is_done());
    }

    #[test]
    fn chunked_with_extensions_and_trailers() {
        let raw = b"5;a=b\r\nhello\r\n6 ; x\r\n world\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\nNEXT";
        let (b, c, d) = run(BodyDecoder::chunked(), &[raw]).unwrap();
        assert_eq!(&b[..], b"hello world");
        assert_eq!(c, raw.len() - 4);
        assert!(d);
    }

    #[test]
    fn chunked_rejects_smuggling_shapes() {
        for bad in [
            &b"\r\n"[..],             // empty size
            b";x\r\n",                // extension without size
            b"5\nhello\r\n",          // bare LF
            b"5\r\nhello\n0\r\n",     // bare LF after data
            b"5\r\nhelloX\r\n",       // data longer than size
            b"g\r\n",                 // not hex
            b"-5\r\n",                // sign
            b"0x5\r\n",               // prefix
            b"1234567890abcdef0\r\n", // too long
            b"0\r\nX: y\n\r\n",       // bare LF in trailer
            b"0\r\n\n",               // bare LF at the end
            b"5\r\r\n",               // CR in the line
        ] {
            assert_eq!(
                run(BodyDecoder::chunked(), &[bad]),
                Err(BadChunk),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let long_ext = [&b"1;"[..], &[b'a'; 2000], b"\r\n"].concat();
        assert_eq!(run(BodyDecoder::chunked(), &[&long_ext]), Err(BadChunk));
    }

    fn chunked_stream() -> impl Strategy<Value = Vec<u8>> {
        (
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..40), 0..6),
            proptest::option::of("[a-z]{1,5}"),
            proptest::bool::ANY,
        )
            .prop_map(|(chunks, ext, trailer)| {
                let mut out = Vec::new();
                for c in chunks {
                    out.extend_from_slice(format!("{:x}", c.len()).as_bytes());
                    if let Some(e) = &ext {
                        out.extend_from_slice(format!(";{e}={e}").as_bytes());
                    }
                    out.extend_from_slice(b"\r\n");
                    out.extend_from_slice(&c);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n");
                if trailer {
                    out.extend_from_slice(b"Trailer-A: x\r\n");
                }
                out.extend_from_slice(b"\r\n");
                out
            })
    }

    proptest! {
        /// Any split of a chunked stream decodes to the same body and the same end.
        #[test]
        fn every_split_decodes_the_same(raw in chunked_stream(), cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8)) {
            let whole = run(BodyDecoder::chunked(), &[&raw]).unwrap();
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(raw.len() + 1)).collect();
            points.sort_unstable();
            let mut pieces = Vec::new();
            let mut last = 0;
            for p in points {
                pieces.push(&raw[last..p]);
                last = p;
            }
            pieces.push(&raw[last..]);
            prop_assert_eq!(run(BodyDecoder::chunked(), &pieces).unwrap(), whole.clone());
            let bytes: Vec<&[u8]> = raw.chunks(1).collect();
            prop_assert_eq!(run(BodyDecoder::chunked(), &bytes).unwrap(), whole);
        }

        /// Arbitrary bytes never panic the decoder.
        #[test]
        fn arbitrary_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = run(BodyDecoder::chunked(), &[&raw]);
        }
    }
}
