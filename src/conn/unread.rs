//! The declared body of a request that no handler reads. SPEC §6: every request's body is
//! consumed, or the connection closed, before the next head is parsed — whatever the answer was
//! (cached file, sendfile, range, listing, stream, delay, error). So the rule lives here, on the
//! read side, apart from the response states: the connection records what is owed when it acts
//! on a head, throws it away as it arrives (also while the answer is still going out), and
//! parses no further head while any of it is left.

use crate::http::body::BodyDecoder;

/// What the input owes before its next request head.
#[derive(Debug)]
pub enum Unread {
    /// Nothing: the next byte starts a request head.
    Nothing,
    /// A body nobody wants, being thrown away as it arrives.
    Body { decoder: BodyDecoder, seen: u64 },
    /// The body cannot be delimited (broken chunk framing) or is over `--max-body`: where the
    /// next request would begin is unknowable, so none is read and the connection closes.
    Unframed,
}

impl Unread {
    pub fn body(decoder: BodyDecoder) -> Unread {
        Unread::Body { decoder, seen: 0 }
    }

    /// Some body is still to be thrown away.
    pub fn is_body(&self) -> bool {
        matches!(self, Unread::Body { .. })
    }

    /// Throws away what `input` holds of the body. Returns how many bytes it used up, and
    /// becomes `Nothing` at the body's end or `Unframed` if the body is broken or too long.
    pub fn consume(&mut self, input: &[u8], max_body: u64) -> usize {
        let Unread::Body { decoder, seen } = self else {
            return 0;
        };
        let mut used = 0;
        while used < input.len() {
            let Ok(step) = decoder.decode(&input[used..]) else {
                *self = Unread::Unframed;
                return used;
            };
            used += step.consumed;
            *seen += step.data.len() as u64;
            if *seen > max_body {
                *self = Unread::Unframed;
                return used;
            }
            if step.done {
                *self = Unread::Nothing;
                return used;
            }
            if step.consumed == 0 {
                break;
            }
        }
        used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_length_body_ends_where_it_says() {
        let mut u = Unread::body(BodyDecoder::length(5));
        assert_eq!(u.consume(b"abc", 100), 3);
        assert!(u.is_body());
        assert_eq!(u.consume(b"deGET /", 100), 2);
        assert!(matches!(u, Unread::Nothing));
        assert_eq!(u.consume(b"GET /", 100), 0);
    }

    #[test]
    fn a_chunked_body_byte_by_byte() {
        let body = b"3\r\nabc\r\n0\r\n\r\n";
        let mut u = Unread::body(BodyDecoder::chunked());
        for (i, b) in body.iter().enumerate() {
            assert!(u.is_body(), "ended early at {i}");
            assert_eq!(u.consume(std::slice::from_ref(b), 100), 1);
        }
        assert!(matches!(u, Unread::Nothing));
    }

    #[test]
    fn broken_or_too_long_bodies_cannot_be_delimited() {
        let mut u = Unread::body(BodyDecoder::chunked());
        u.consume(b"zz\r\n", 100);
        assert!(matches!(u, Unread::Unframed));
        let mut u = Unread::body(BodyDecoder::length(200));
        u.consume(&[b'x'; 150], 100);
        assert!(matches!(u, Unread::Unframed));
    }
}
