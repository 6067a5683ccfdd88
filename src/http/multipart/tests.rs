use super::*;
use proptest::prelude::*;

/// An event, owned, with consecutive data merged (how the data was sliced depends on the
/// pieces; what it adds up to must not).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Ev {
    Part(Vec<u8>, Option<Vec<u8>>),
    Data(Vec<u8>),
    PartEnd,
    End,
}

/// The events of `body` fed in `pieces`, then whether it finished well.
fn run(boundary: &[u8], pieces: &[&[u8]]) -> (Vec<Ev>, Result<(), Error>) {
    let mut p = Parser::new(boundary);
    let mut evs: Vec<Ev> = Vec::new();
    let mut on = |e: Event<'_>| -> Result<(), Error> {
        match e {
            Event::Part { name, filename } => {
                evs.push(Ev::Part(name.to_vec(), filename.map(<[u8]>::to_vec)))
            }
            Event::Data(d) => {
                assert!(!d.is_empty(), "empty data event");
                match evs.last_mut() {
                    Some(Ev::Data(prev)) => prev.extend_from_slice(d),
                    _ => evs.push(Ev::Data(d.to_vec())),
                }
            }
            Event::PartEnd => evs.push(Ev::PartEnd),
            Event::End => evs.push(Ev::End),
        }
        Ok(())
    };
    for piece in pieces {
        if let Err(e) = p.feed(piece, &mut on) {
            return (evs, Err(e));
        }
    }
    (evs, p.finish())
}

const B: &[u8] = b"----x7MA4YWxkTrZu0gW";

/// A body as a browser sends it: each (name, filename, data) a part.
fn body(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, filename, data) in parts {
        out.extend_from_slice(b"--");
        out.extend_from_slice(B);
        out.extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"");
        out.extend_from_slice(name.as_bytes());
        out.push(b'"');
        if let Some(f) = filename {
            out.extend_from_slice(b"; filename=\"");
            out.extend_from_slice(f.as_bytes());
            out.extend_from_slice(b"\"\r\nContent-Type: application/octet-stream");
        }
        out.extend_from_slice(b"\r\n\r\n");
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"--");
    out.extend_from_slice(B);
    out.extend_from_slice(b"--\r\n");
    out
}

fn sample() -> Vec<u8> {
    // Data that looks like boundaries but is not one.
    body(&[
        ("overwrite", None, b"1"),
        ("mkdir", None, b""),
        ("file", Some("a.txt"), b"line\r\n--not-it\r\n-\r\r\n--"),
        (
            "file",
            Some("photos/2024/b.jpg"),
            b"\r\n------x7MA4YWxkTrZu0g",
        ),
    ])
}

#[test]
fn a_browser_body_gives_its_parts_in_order() {
    let (evs, end) = run(B, &[&sample()]);
    assert_eq!(end, Ok(()));
    let part = |n: &str, f: Option<&str>| {
        Ev::Part(n.as_bytes().to_vec(), f.map(|f| f.as_bytes().to_vec()))
    };
    assert_eq!(
        evs,
        [
            part("overwrite", None),
            Ev::Data(b"1".to_vec()),
            Ev::PartEnd,
            part("mkdir", None),
            Ev::PartEnd,
            part("file", Some("a.txt")),
            Ev::Data(b"line\r\n--not-it\r\n-\r\r\n--".to_vec()),
            Ev::PartEnd,
            part("file", Some("photos/2024/b.jpg")),
            Ev::Data(b"\r\n------x7MA4YWxkTrZu0g".to_vec()),
            Ev::PartEnd,
            Ev::End,
        ]
    );
}

#[test]
fn every_split_point_gives_the_same_events() {
    let whole = sample();
    let expected = run(B, &[&whole]);
    for i in 0..=whole.len() {
        assert_eq!(
            run(B, &[&whole[..i], &whole[i..]]),
            expected,
            "split at {i}"
        );
    }
    let bytes: Vec<&[u8]> = whole.chunks(1).collect();
    assert_eq!(run(B, &bytes), expected, "byte by byte");
}

#[test]
fn the_boundary_comes_from_the_content_type() {
    let ok = |v: &str| boundary(v.as_bytes());
    assert_eq!(
        ok("multipart/form-data; boundary=abc"),
        Some(Ok(b"abc".to_vec()))
    );
    assert_eq!(
        ok("Multipart/Form-Data;boundary=\"a b:c\""),
        Some(Ok(b"a b:c".to_vec()))
    );
    assert_eq!(ok("text/plain"), None);
    assert_eq!(ok("application/x-www-form-urlencoded"), None);
    for bad in [
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\"abc",
        "multipart/form-data; boundary=\"abc \"",
        "multipart/form-data; boundary=a\rb",
        "multipart/form-data; boundary=a;boundary=b",
    ] {
        assert!(matches!(ok(bad), Some(Err(_))), "{bad}");
    }
    let long = format!("multipart/form-data; boundary={}", "x".repeat(71));
    assert!(matches!(ok(&long), Some(Err(_))));
    let max = format!("multipart/form-data; boundary={}", "x".repeat(70));
    assert!(matches!(ok(&max), Some(Ok(_))));
}

/// The error `body` ends with, fed whole.
fn refusal(body: &[u8]) -> &'static str {
    match run(B, &[body]).1 {
        Err(Error(why)) => why,
        Ok(()) => panic!("accepted: {}", String::from_utf8_lossy(body)),
    }
}

fn with_head(head: &str) -> Vec<u8> {
    let mut out = b"--".to_vec();
    out.extend_from_slice(B);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(b"\r\n\r\ndata\r\n--");
    out.extend_from_slice(B);
    out.extend_from_slice(b"--\r\n");
    out
}

#[test]
fn malformed_parts_are_refused_with_a_reason() {
    assert_eq!(
        refusal(&with_head("Content-Disposition: form-data; filename=\"a\"")),
        "a part without a name"
    );
    assert_eq!(
        refusal(&with_head("Content-Type: text/plain")),
        "a part without a Content-Disposition header"
    );
    assert_eq!(
        refusal(&with_head("Content-Disposition: attachment; name=a")),
        "a part whose Content-Disposition is not form-data"
    );
    assert_eq!(
        refusal(&with_head("Content-Disposition: form-data; name=a; name=b")),
        "a Content-Disposition parameter given twice"
    );
    assert_eq!(
        refusal(&with_head("Content-Disposition: form-data; name=\"a")),
        "an unterminated quoted string in a part's header"
    );
    assert_eq!(
        refusal(&with_head(
            "Content-Disposition: form-data; name=a; filename*=UTF-8''x"
        )),
        "filename* is not used in form-data (RFC 7578 4.2)"
    );
    assert_eq!(
        refusal(&with_head(
            " folded: x\r\nContent-Disposition: form-data; name=a"
        )),
        "a malformed header line in a part"
    );
    let many = "X-A: 1\r\n".repeat(MAX_PART_FIELDS) + "Content-Disposition: form-data; name=a";
    assert_eq!(
        refusal(&with_head(&many)),
        "too many header lines in a part"
    );
    let big = format!("X-A: {}", "a".repeat(MAX_PART_HEAD));
    assert_eq!(refusal(&with_head(&big)), "a part's headers are over 8 KiB");
    assert_eq!(refusal(b"preamble\r\n"), "text before the first boundary");
    let mut trunc = sample();
    trunc.truncate(trunc.len() - 4);
    assert_eq!(
        refusal(&trunc),
        "the body ended before the closing boundary"
    );
    let mut junk = b"--".to_vec();
    junk.extend_from_slice(B);
    junk.extend_from_slice(b"x\r\n");
    assert_eq!(
        refusal(&junk),
        "a boundary followed by something other than CRLF or --"
    );
}

#[test]
fn quoted_values_lose_their_escapes_and_padding_is_allowed() {
    let mut b = b"--".to_vec();
    b.extend_from_slice(B);
    b.extend_from_slice(
        b" \t\r\ncontent-disposition:form-data;name=f ; filename=\"a\\\"b\"\r\n\r\n",
    );
    b.extend_from_slice(b"\r\n--");
    b.extend_from_slice(B);
    b.extend_from_slice(b"--");
    let (evs, end) = run(B, &[&b]);
    assert_eq!(end, Ok(()));
    assert_eq!(
        evs,
        [
            Ev::Part(b"f".to_vec(), Some(b"a\"b".to_vec())),
            Ev::PartEnd,
            Ev::End
        ]
    );
}

#[test]
fn too_many_parts_are_refused() {
    let parts: Vec<(&str, Option<&str>, &[u8])> = vec![("a", None, b""); MAX_PARTS + 1];
    assert_eq!(refusal(&body(&parts)), "too many parts");
    let parts: Vec<(&str, Option<&str>, &[u8])> = vec![("a", None, b""); MAX_PARTS];
    assert_eq!(run(B, &[&body(&parts)]).1, Ok(()));
}

/// Splits `data` at the cut points `cuts` (taken modulo its length, sorted).
fn pieces<'a>(data: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    at.sort_unstable();
    let mut out = Vec::new();
    let mut from = 0;
    for a in at {
        out.push(&data[from..a]);
        from = a;
    }
    out.push(&data[from..]);
    out
}

proptest! {
    /// Whatever the bytes and however they are cut: the same events and the same verdict, and
    /// never a panic.
    #[test]
    fn any_bytes_any_split_same_result(
        data in proptest::collection::vec(
            prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'-'), Just(b'x'), any::<u8>()], 0..300),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let b: &[u8] = b"x";
        prop_assert_eq!(run(b, &pieces(&data, &cuts)), run(b, &[&data]));
    }

    /// A well-formed body with random data, cut anywhere: its data comes back exactly.
    #[test]
    fn random_data_comes_back_whole(
        data in proptest::collection::vec(
            prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'-'), any::<u8>()], 0..400),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let whole = body(&[("file", Some("f"), &data)]);
        let (evs, end) = run(B, &pieces(&whole, &cuts));
        prop_assert_eq!(end, Ok(()));
        let mut got = Vec::new();
        for e in &evs {
            if let Ev::Data(d) = e {
                got.extend_from_slice(d);
            }
        }
        prop_assert_eq!(got, data);
    }
}
