//! Which representation of a file a client gets when pre-compressed siblings (`x.br`,
//! `x.zst`, `x.gz`) lie beside it: its `Accept-Encoding` (RFC 9110 §12.5.3) read once, left to
//! right, without allocating. Pure: no I/O, nothing kept.
//!
//! The rules, in order:
//! - No `Accept-Encoding` at all: the plain file (every coding would be allowed, but a client
//!   that says nothing may not be able to decode one).
//! - Each element is `coding [; q=VALUE]`, codings case-insensitive, `x-gzip` = `gzip`. An
//!   element that breaks the grammar (a bad q-value such as `q=2` or `q=0.5x`, another
//!   parameter, junk) is skipped as if absent. The first mention of a coding counts.
//! - A coding not mentioned takes `*`'s weight, or 0 without `*`. `q=0` means "not
//!   acceptable". `identity` (the plain file) not mentioned takes `*`'s weight; without `*`
//!   it is still acceptable, but after every sibling with a weight above 0 (`br;q=0.5` asks
//!   for br, not for the plain file).
//! - Of the acceptable representations the one with the highest weight wins; ties go to
//!   [`PREFERENCE`] order: br, then zstd, then gzip, then the plain file (smaller first).
//! - If nothing is acceptable (`identity;q=0` and no sibling allowed), the plain file is sent
//!   anyway: RFC 9110 §12.1 lets a server disregard the field rather than answer 406.

use crate::http::token::{is_tchar, trim_ows};

/// A content coding spindle can serve from a sibling file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    Br,
    Zstd,
    Gzip,
}

/// Ties between equal weights go to the first here: the usually smaller file.
pub const PREFERENCE: [Coding; 3] = [Coding::Br, Coding::Zstd, Coding::Gzip];

impl Coding {
    /// Its token in `Content-Encoding`.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Br => "br",
            Coding::Zstd => "zstd",
            Coding::Gzip => "gzip",
        }
    }

    /// The sibling's file name suffix.
    pub fn suffix(self) -> &'static str {
        match self {
            Coding::Br => ".br",
            Coding::Zstd => ".zst",
            Coding::Gzip => ".gz",
        }
    }

    /// Its place in [`PREFERENCE`] (and in [`Weights`]).
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Weights in thousandths (q=0.5 is 500); `None`: not mentioned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Mentions {
    codings: [Option<u16>; 3],
    identity: Option<u16>,
    star: Option<u16>,
}

/// The representation to send: `Some(coding)` for a sibling, `None` for the plain file.
/// `fields` are the values of every `Accept-Encoding` line, in order (several lines make one
/// list, RFC 9110 §5.3); `available[c.index()]` says whether the sibling for `c` exists.
pub fn choose<'a>(
    fields: impl IntoIterator<Item = &'a [u8]>,
    available: [bool; 3],
) -> Option<Coding> {
    let mut fields = fields.into_iter().peekable();
    fields.peek()?; // no field at all
    let mut m = Mentions::default();
    for field in fields {
        m.read(field);
    }
    let default = m.star.unwrap_or(0);
    let identity = m.identity.or(m.star).unwrap_or(0);
    let mut best: Option<(Coding, u16)> = None;
    for c in PREFERENCE {
        let w = m.codings[c.index()].unwrap_or(default);
        if available[c.index()] && w > 0 && best.is_none_or(|(_, b)| w > b) {
            best = Some((c, w));
        }
    }
    match best {
        Some((c, w)) if w >= identity => Some(c),
        // The plain file is as good or better, or nothing was acceptable: send it.
        _ => None,
    }
}

impl Mentions {
    /// Reads every element of one field value.
    fn read(&mut self, field: &[u8]) {
        let m = self;
        for element in field.split(|&b| b == b',') {
            let Some((name, weight)) = element_of(element) else {
                continue;
            };
            let slot = if name.eq_ignore_ascii_case(b"br") {
                &mut m.codings[Coding::Br.index()]
            } else if name.eq_ignore_ascii_case(b"zstd") {
                &mut m.codings[Coding::Zstd.index()]
            } else if name.eq_ignore_ascii_case(b"gzip") || name.eq_ignore_ascii_case(b"x-gzip") {
                &mut m.codings[Coding::Gzip.index()]
            } else if name.eq_ignore_ascii_case(b"identity") {
                &mut m.identity
            } else if name == b"*" {
                &mut m.star
            } else {
                continue; // a coding we have no sibling for
            };
            if slot.is_none() {
                *slot = Some(weight);
            }
        }
    }
}

/// `coding [OWS ";" OWS "q=" qvalue]` with optional whitespace around; `None` if malformed
/// or empty (an empty element between commas is allowed by the list rule, and means nothing).
fn element_of(element: &[u8]) -> Option<(&[u8], u16)> {
    let mut parts = element.splitn(2, |&b| b == b';');
    let name = trim_ows(parts.next()?);
    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
        return None;
    }
    let weight = match parts.next() {
        None => 1000,
        Some(param) => {
            let param = trim_ows(param);
            if param.len() < 2 || !param[..2].eq_ignore_ascii_case(b"q=") {
                return None;
            }
            qvalue(&param[2..])?
        }
    };
    Some((name, weight))
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in thousandths.
fn qvalue(v: &[u8]) -> Option<u16> {
    let (&first, rest) = v.split_first()?;
    let frac = match rest {
        [] => &[][..],
        [b'.', frac @ ..] if frac.len() <= 3 => frac,
        _ => return None,
    };
    if !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut thousandths = 0u16;
    for i in 0..3 {
        thousandths = thousandths * 10 + frac.get(i).map_or(0, |d| u16::from(d - b'0'));
    }
    match first {
        b'0' => Some(thousandths),
        b'1' if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALL: [bool; 3] = [true, true, true];

    fn pick(header: &str, available: [bool; 3]) -> Option<Coding> {
        choose([header.as_bytes()], available)
    }

    #[test]
    fn q_values() {
        assert_eq!(qvalue(b"0"), Some(0));
        assert_eq!(qvalue(b"0."), Some(0));
        assert_eq!(qvalue(b"0.5"), Some(500));
        assert_eq!(qvalue(b"0.001"), Some(1));
        assert_eq!(qvalue(b"1.000"), Some(1000));
        assert_eq!(qvalue(b"1"), Some(1000));
        for bad in [
            "", "1.001", "2", "0.0001", ".5", "0,5", "0.5x", "-0", "1.0.0", " 1",
        ] {
            assert_eq!(qvalue(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn the_client_chooses_and_ties_go_to_the_preference() {
        use Coding::*;
        assert_eq!(choose([], ALL), None, "no field: the plain file");
        assert_eq!(
            choose([&b"br;q=0"[..], b"gzip"], ALL),
            Some(Gzip),
            "two lines, one list"
        );
        assert_eq!(
            choose([&b"br;q=0"[..], b"br"], ALL),
            None,
            "the first mention counts"
        );
        assert_eq!(pick("", ALL), None, "empty: identity only");
        assert_eq!(pick("gzip, deflate, br, zstd", ALL), Some(Br));
        assert_eq!(pick("gzip, zstd", ALL), Some(Zstd));
        assert_eq!(pick("gzip", ALL), Some(Gzip));
        assert_eq!(pick("GZIP", ALL), Some(Gzip), "case-insensitive");
        assert_eq!(pick("x-gzip", ALL), Some(Gzip));
        assert_eq!(pick("br;q=0.5, gzip", ALL), Some(Gzip));
        assert_eq!(pick("br;q=0, gzip;q=0.1", ALL), Some(Gzip));
        assert_eq!(pick("br;q=0", ALL), None);
        assert_eq!(pick("br ; Q=0.9 , zstd;q=0.8", ALL), Some(Br));
        assert_eq!(pick("br", [false, true, true]), None, "br is not there");
        assert_eq!(pick("*", ALL), Some(Br));
        assert_eq!(pick("*", [false, false, true]), Some(Gzip));
        assert_eq!(pick("*;q=0", ALL), None);
        assert_eq!(pick("*;q=0, gzip", ALL), Some(Gzip), "named beats *");
        assert_eq!(pick("gzip;q=0, *", ALL), Some(Br));
        assert_eq!(pick("gzip;q=0, *", [false, false, true]), None);
        // identity weighs against the siblings; ties go to the sibling.
        assert_eq!(pick("gzip;q=0.5, identity", ALL), None);
        assert_eq!(pick("gzip, identity", ALL), Some(Gzip));
        assert_eq!(
            pick("identity;q=0, br;q=0", ALL),
            None,
            "nothing left: plain"
        );
        assert_eq!(pick("identity;q=0.5, *;q=0.4", ALL), None);
        assert_eq!(pick("*;q=0.5, gzip;q=0.6", ALL), Some(Gzip));
        assert_eq!(pick("identity;q=0, zstd;q=0.1", ALL), Some(Zstd));
        // Junk is skipped, element by element.
        assert_eq!(pick("br;q=2, gzip", ALL), Some(Gzip));
        assert_eq!(pick("br;q=0.5x", ALL), None);
        assert_eq!(pick("br;level=5", ALL), None);
        assert_eq!(pick(",,, ,gzip,", ALL), Some(Gzip));
        assert_eq!(pick("g zip, \"br\"", ALL), None);
        // The first mention counts.
        assert_eq!(pick("br;q=0, br", ALL), None);
        assert_eq!(pick("br, br;q=0", ALL), Some(Br));
    }

    /// One well-formed element, and the weight it states.
    fn element() -> impl Strategy<Value = (String, u16)> {
        let name = prop::sample::select(vec![
            "br", "BR", "zstd", "gzip", "x-gzip", "identity", "*", "deflate", "compress",
        ]);
        let q = prop::option::of(0u16..=1000);
        (name, q).prop_map(|(n, q)| match q {
            None => (n.to_string(), 1000),
            Some(1000) => (format!("{n};q=1"), 1000),
            Some(q) => (format!("{n} ; q=0.{q:03}"), q),
        })
    }

    /// The weight a coding gets in `elements`, by the rules in the module comment.
    fn model(elements: &[(String, u16)], names: &[&str], fallback: Option<u16>) -> Option<u16> {
        let first = |wanted: &[&str]| {
            elements.iter().find_map(|(e, w)| {
                let n = e.split(';').next().unwrap_or("").trim();
                wanted
                    .iter()
                    .any(|x| n.eq_ignore_ascii_case(x))
                    .then_some(*w)
            })
        };
        first(names).or(first(&["*"])).or(fallback)
    }

    proptest! {
        #[test]
        fn never_panics_and_only_picks_what_is_there(
            header in prop::collection::vec(any::<u8>(), 0..200),
            available in any::<[bool; 3]>(),
        ) {
            if let Some(c) = choose([&header[..]], available) {
                prop_assert!(available[c.index()]);
            }
        }

        #[test]
        fn the_pick_weighs_most_and_q0_is_never_picked(
            elements in prop::collection::vec(element(), 0..8),
            available in any::<[bool; 3]>(),
        ) {
            let header = elements.iter().map(|(e, _)| e.as_str()).collect::<Vec<_>>().join(", ");
            let got = choose([header.as_bytes()], available);
            // The same list over two field lines is the same list.
            let cut = elements.len() / 2;
            let line = |es: &[(String, u16)]| es.iter().map(|(e, _)| e.as_str()).collect::<Vec<_>>().join(",");
            let (a, b) = (line(&elements[..cut]), line(&elements[cut..]));
            prop_assert_eq!(choose([a.as_bytes(), b.as_bytes()], available), got);
            let names: [&[&str]; 3] = [&["br"], &["zstd"], &["gzip", "x-gzip"]];
            let weight = |c: Coding| model(&elements, names[c.index()], Some(0)).unwrap_or(0);
            let identity = model(&elements, &["identity"], Some(0)).unwrap_or(0);
            let best = PREFERENCE
                .iter()
                .filter(|c| available[c.index()])
                .map(|&c| weight(c))
                .max()
                .unwrap_or(0);
            match got {
                Some(c) => {
                    prop_assert!(weight(c) > 0, "{header:?}: a q=0 coding was picked");
                    prop_assert!(weight(c) == best && weight(c) >= identity, "{header:?}");
                }
                None => prop_assert!(best == 0 || best < identity, "{header:?}"),
            }
        }
    }
}
