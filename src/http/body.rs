//! Request body decoding: a `Content-Length` countdown or a strict chunked decoder. Both are
//! state machines that give the same result however the input is split across reads.

use std::ops::Range;

use super::token::{hex_value, is_tchar};

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
    /// Whitespace after the size or after an extension value: only `;` may follow (BWS).
    ExtBws,
    /// After `;`: optional whitespace, then the extension's name.
    ExtNameStart,
    /// In an extension name (a token).
    ExtName,
    /// Whitespace after a name: `=` or `;` must follow.
    ExtNameBws,
    /// After `=`: optional whitespace, then a token or a quoted string.
    ExtValStart,
    /// In a token value.
    ExtToken,
    /// In a quoted-string value, and just after a backslash in one.
    ExtQuoted,
    ExtQuotedPair,
    /// Just after the closing quote.
    ExtQuotedEnd,
    /// CR of the chunk line seen; LF must follow.
    SizeLf,
    /// Chunk data.
    Data,
    /// CR then LF after chunk data.
    DataCr,
    DataLf,
    /// At the start of a trailer line (or of the final empty line).
    TrailerStart,
    /// In a trailer field's name, then in its value.
    TrailerName,
    TrailerValue,
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
        let next = if self.state.in_size_line() {
            self.size_line(b)?
        } else {
            self.line_ends_and_trailers(b)?
        };
        self.count(next)?;
        self.state = next;
        Ok(())
    }

    /// A byte of the chunk-size line before its CR. Extensions follow RFC 9112 §7.1.1 to the
    /// letter, `*( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )`, so `3 4` is
    /// not a size of 3.
    fn size_line(&mut self, b: u8) -> Result<Chunk, BadChunk> {
        use Chunk::*;
        let ws = b == b' ' || b == b'\t';
        let token = || is_tchar(b);
        Ok(match (self.state, b) {
            (Size, _) if let Some(digit) = hex_value(b) => {
                self.digits += 1;
                if self.digits > MAX_SIZE_DIGITS {
                    return Err(BadChunk);
                }
                self.size = self.size * 16 + u64::from(digit);
                Size
            }
            (Size, b'\r') if self.digits > 0 => SizeLf,
            (Size, b';') if self.digits > 0 => ExtNameStart,
            (Size, _) if ws && self.digits > 0 => ExtBws,
            (ExtBws, _) if ws => ExtBws,
            (ExtBws | ExtToken | ExtQuotedEnd | ExtName | ExtNameBws, b';') => ExtNameStart,
            (ExtNameStart, _) if ws => ExtNameStart,
            (ExtNameStart | ExtName, _) if token() => ExtName,
            (ExtName | ExtNameBws, _) if ws => ExtNameBws,
            (ExtName | ExtNameBws, b'=') => ExtValStart,
            (ExtValStart, _) if ws => ExtValStart,
            (ExtValStart, b'"') => ExtQuoted,
            (ExtValStart | ExtToken, _) if token() => ExtToken,
            (ExtToken | ExtQuotedEnd, _) if ws => ExtBws,
            (ExtName | ExtToken | ExtQuotedEnd, b'\r') => SizeLf,
            (ExtQuoted, b'"') => ExtQuotedEnd,
            (ExtQuoted, b'\\') => ExtQuotedPair,
            // qdtext, or the character a backslash quotes.
            (ExtQuoted | ExtQuotedPair, _) if field_byte(b) => ExtQuoted,
            _ => return Err(BadChunk),
        })
    }

    /// A byte of the line ends around chunk data, or of the trailer section. Trailer fields
    /// follow the rules of header fields (a token name, a colon, a value of visible bytes,
    /// spaces and tabs; no obs-fold, no whitespace before the colon).
    fn line_ends_and_trailers(&mut self, b: u8) -> Result<Chunk, BadChunk> {
        use Chunk::*;
        Ok(match (self.state, b) {
            (SizeLf, b'\n') if self.size == 0 => TrailerStart,
            (SizeLf, b'\n') => Data,
            (DataCr, b'\r') => DataLf,
            (DataLf, b'\n') => {
                self.digits = 0;
                self.ext = 0;
                Size
            }
            (TrailerStart, b'\r') => EndLf,
            (TrailerStart | TrailerName, _) if is_tchar(b) => TrailerName,
            (TrailerName, b':') => TrailerValue,
            (TrailerValue, b'\r') => TrailerLf,
            (TrailerValue, _) if field_byte(b) => TrailerValue,
            (TrailerLf, b'\n') => TrailerStart,
            (EndLf, b'\n') => Done,
            _ => return Err(BadChunk),
        })
    }

    /// Counts a byte of extensions (per chunk line) or of trailers (in all) against its bound:
    /// neither is body data, so without one a client could make us scan forever.
    fn count(&mut self, next: Chunk) -> Result<(), BadChunk> {
        if next.is_extension() {
            self.ext += 1;
            if self.ext > MAX_CHUNK_EXT {
                return Err(BadChunk);
            }
        } else if matches!(next, Chunk::TrailerName | Chunk::TrailerValue) {
            self.trailers += 1;
            if self.trailers > MAX_TRAILERS {
                return Err(BadChunk);
            }
        }
        Ok(())
    }
}

impl Chunk {
    /// The chunk-size line up to its CR: the size's digits, then any extensions.
    fn in_size_line(self) -> bool {
        self == Chunk::Size || self.is_extension()
    }

    fn is_extension(self) -> bool {
        use Chunk::*;
        matches!(
            self,
            ExtBws
                | ExtNameStart
                | ExtName
                | ExtNameBws
                | ExtValStart
                | ExtToken
                | ExtQuoted
                | ExtQuotedPair
                | ExtQuotedEnd
        )
    }
}

/// A byte a field value (or a quoted string) may hold: visible, space, tab or obs-text.
fn field_byte(b: u8) -> bool {
    b == b'\t' || (b' '..0x7f).contains(&b) || b >= 0x80
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

    /// `raw` is a chunk line; the body is `abc` and then the last chunk.
    fn with_size_line(line: &[u8]) -> Vec<u8> {
        [line, b"\r\nabc\r\n0\r\n\r\n"].concat()
    }

    #[test]
    fn chunk_extensions_that_follow_the_grammar_are_accepted() {
        for good in [
            &b"3"[..],
            b"3;a",
            b"3;a=b",
            b"3 ;a",
            b"3\t; a",
            b"3 ; a = b",
            b"3;a=b;c",
            b"3;a=b ;c=d",
            b"3;a;b;c",
            b"3;a=\"\"",
            b"3;a=\"b c;d=e\"",
            b"3;a=\"q\\\"t\\\\\"",
            b"3;a=\"\xe9\"",
            b"3;a=\"x\";b=y",
            b"3;a=\"x\" ;b",
            b"3;!#$%&'*+-.^_`|~=!#$%&'*+-.^_`|~",
        ] {
            let name = String::from_utf8_lossy(good);
            let (b, _, done) = run(BodyDecoder::chunked(), &[&with_size_line(good)])
                .unwrap_or_else(|_| panic!("{name:?}"));
            assert_eq!((&b[..], done), (&b"abc"[..], true), "{name:?}");
        }
    }

    #[test]
    fn chunk_extensions_off_the_grammar_are_refused() {
        for bad in [
            &b"3 4"[..], // a second number is not an extension (issue 8 §6)
            b"3 x",
            b"3 ",
            b"3\t",
            b"3;",
            b"3; ",
            b"3;;a",
            b"3;=b",
            b"3;a=",
            b"3;a= ",
            b"3;a=b ",
            b"3;a=b c",
            b"3;a b",
            b"3;a =",
            b"3;a@b",
            b"3;a=b@c",
            b"3;a=\"b",
            b"3;a=\"b\"c",
            b"3;a=\"b\" c",
            b"3;a=\"\x00\"",
            b"3;a=\"\\\x01\"",
            b"3;a=\"\x7f\"",
            b"3;a\x00",
            b"3;\xe9",
            b"3,a",
        ] {
            assert_eq!(
                run(BodyDecoder::chunked(), &[&with_size_line(bad)]),
                Err(BadChunk),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    /// The bound counts every byte after the size, whitespace included.
    #[test]
    fn chunk_extensions_are_bounded() {
        let at_limit = [&b"1;"[..], &[b'a'; 1023], b"\r\nx\r\n0\r\n\r\n"].concat();
        assert!(run(BodyDecoder::chunked(), &[&at_limit]).is_ok());
        let spaces = [&b"1"[..], &[b' '; 1100], b";a\r\nx\r\n0\r\n\r\n"].concat();
        assert_eq!(run(BodyDecoder::chunked(), &[&spaces]), Err(BadChunk));
    }

    #[test]
    fn trailer_fields_follow_the_header_rules() {
        let last = |trailers: &[u8]| [&b"0\r\n"[..], trailers, b"\r\n"].concat();
        for good in [
            &b""[..],
            b"A: b\r\n",
            b"A:b\r\n",
            b"A:\r\n",
            b"A: b \r\n",
            b"A:\tb\tc\r\n",
            b"X-T: \"q\" \xe9 !~\r\n",
            b"A: 1\r\nB: 2\r\n",
            b"!#$%&'*+-.^_`|~: x\r\n",
        ] {
            let name = String::from_utf8_lossy(good);
            let raw = last(good);
            let (b, c, done) =
                run(BodyDecoder::chunked(), &[&raw]).unwrap_or_else(|_| panic!("{name:?}"));
            assert_eq!((b.len(), c, done), (0, raw.len(), true), "{name:?}");
        }
        for bad in [
            &b"X\x00Y\r\n"[..], // issue 8 §6
            b"X\r\n",
            b"X Y: z\r\n",
            b"X : y\r\n",
            b"X\t: y\r\n",
            b": y\r\n",
            b" A: b\r\n",
            b"A: b\r\n c\r\n", // obs-fold
            b"\tA: b\r\n",
            b"A: b\x00c\r\n",
            b"A: b\x7f\r\n",
            b"A: b\rc\r\n",
            b"A: b\n",
            b"A@: b\r\n",
            b"\xe9: b\r\n",
        ] {
            assert_eq!(
                run(BodyDecoder::chunked(), &[&last(bad)]),
                Err(BadChunk),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // 8 KiB of trailer bytes (line ends aside) and no more.
        let field = |n: usize| [&b"A:"[..], &vec![b'x'; n - 2], b"\r\n"].concat();
        assert!(run(BodyDecoder::chunked(), &[&last(&field(8192))]).is_ok());
        assert_eq!(
            run(BodyDecoder::chunked(), &[&last(&field(8193))]),
            Err(BadChunk)
        );
    }

    /// One valid chunk extension: BWS, `;`, BWS, a name, and perhaps BWS `=` BWS and a token
    /// or a quoted string (with quoted pairs).
    fn extension() -> impl Strategy<Value = String> {
        (
            "[ \t]{0,2}",
            "[ \t]{0,2}",
            "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,6}",
            proptest::option::of((
                "[ \t]{0,2}",
                "[ \t]{0,2}",
                prop_oneof![
                    "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,6}",
                    "\"([ !#-\\[\\]-~\t]|\\\\[ -~])*\"",
                ],
            )),
        )
            .prop_map(|(ws1, ws2, name, value)| match value {
                None => format!("{ws1};{ws2}{name}"),
                Some((ws3, ws4, v)) => format!("{ws1};{ws2}{name}{ws3}={ws4}{v}"),
            })
    }

    /// A valid chunked body: chunks with extensions, the last chunk, trailer fields.
    fn chunked_stream() -> impl Strategy<Value = Vec<u8>> {
        (
            proptest::collection::vec(
                (
                    proptest::collection::vec(any::<u8>(), 1..40),
                    proptest::collection::vec(extension(), 0..3),
                ),
                0..6,
            ),
            proptest::collection::vec(extension(), 0..2),
            proptest::collection::vec(
                ("[A-Za-z0-9!#$%&'*+.^_`|~-]{1,10}", "[ \t]?[ -~]{0,20}"),
                0..4,
            ),
        )
            .prop_map(|(chunks, last_ext, trailers)| {
                let mut out = Vec::new();
                for (c, ext) in chunks {
                    out.extend_from_slice(format!("{:x}", c.len()).as_bytes());
                    out.extend_from_slice(ext.concat().as_bytes());
                    out.extend_from_slice(b"\r\n");
                    out.extend_from_slice(&c);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(format!("0{}\r\n", last_ext.concat()).as_bytes());
                for (name, value) in trailers {
                    out.extend_from_slice(format!("{name}:{value}\r\n").as_bytes());
                }
                out.extend_from_slice(b"\r\n");
                out
            })
    }

    /// Splits `raw` at the given points.
    fn pieces<'a>(raw: &'a [u8], cuts: &[prop::sample::Index]) -> Vec<&'a [u8]> {
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(raw.len() + 1)).collect();
        points.sort_unstable();
        let mut pieces = Vec::new();
        let mut last = 0;
        for p in points {
            pieces.push(&raw[last..p]);
            last = p;
        }
        pieces.push(&raw[last..]);
        pieces
    }

    proptest! {
        /// Any split of a chunked stream decodes to the same body and the same end.
        #[test]
        fn every_split_decodes_the_same(raw in chunked_stream(), cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8)) {
            let whole = run(BodyDecoder::chunked(), &[&raw]).unwrap();
            prop_assert!(whole.2, "{:?}", String::from_utf8_lossy(&raw));
            prop_assert_eq!(whole.1, raw.len());
            prop_assert_eq!(run(BodyDecoder::chunked(), &pieces(&raw, &cuts)).unwrap(), whole.clone());
            let bytes: Vec<&[u8]> = raw.chunks(1).collect();
            prop_assert_eq!(run(BodyDecoder::chunked(), &bytes).unwrap(), whole);
        }

        /// A valid stream with one byte changed (often into a framing fault): whatever the
        /// decoder decides — the body, where it ends, or a refusal — it decides for every split.
        #[test]
        fn every_split_decides_the_same(
            raw in chunked_stream(),
            at in any::<prop::sample::Index>(),
            byte in prop_oneof![
                Just(b' '), Just(b'\t'), Just(b';'), Just(b'='), Just(b'"'), Just(b'\\'),
                Just(b':'), Just(b'\r'), Just(b'\n'), Just(0u8), Just(0x7f), Just(b'4'),
                any::<u8>(),
            ],
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let mut raw = raw;
            let i = at.index(raw.len());
            raw[i] = byte;
            let whole = run(BodyDecoder::chunked(), &[&raw]);
            prop_assert_eq!(run(BodyDecoder::chunked(), &pieces(&raw, &cuts)), whole.clone());
            let bytes: Vec<&[u8]> = raw.chunks(1).collect();
            prop_assert_eq!(run(BodyDecoder::chunked(), &bytes), whole);
        }

        /// Arbitrary bytes never panic the decoder.
        #[test]
        fn arbitrary_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = run(BodyDecoder::chunked(), &[&raw]);
        }
    }
}
