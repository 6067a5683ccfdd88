use super::host::valid_host;
use super::*;

/// Parses `raw` into fresh slots and hands the outcome to `f` (which may not keep the head).
/// Every head is parsed three times: knowing nothing, then knowing what the first parse learnt
/// (its `Host`, and that it has been seen), then recalled if the second parse remembered it.
/// The three answers must be the same.
fn with_parsed_head<R>(
    raw: &[u8],
    max_head: usize,
    f: impl FnOnce(Result<Option<Head<'_>>, ParseError>) -> R,
) -> R {
    let mut known = Known::default();
    let mut slots = Slots::default();
    let cold = format!("{:?}", parse_head(raw, max_head, &mut slots, &mut known));
    let mut slots = Slots::default();
    let warm = format!("{:?}", parse_head(raw, max_head, &mut slots, &mut known));
    assert_eq!(warm, cold, "what the first parse taught changed the answer");
    let mut slots = Slots::default();
    let recalled = parse_head(raw, max_head, &mut slots, &mut known);
    assert_eq!(
        format!("{recalled:?}"),
        cold,
        "the recalled head is not the parsed one"
    );
    f(recalled)
}

fn parse(raw: &[u8]) -> Result<(Method, Vec<u8>, Version, BodyFraming, bool), ParseError> {
    // The scanner and the parser must agree on where the head ends.
    let mut scanner = HeadScanner::default();
    let scanned = scanner.scan(raw, 32768);
    with_parsed_head(raw, 32768, |r| match r? {
        Some(h) => {
            let len = h.summary.len;
            if let Ok(s) = scanned {
                assert_eq!(s, Some(len), "scanner and parser disagree");
            }
            Ok((
                h.method,
                h.path.to_vec(),
                h.summary.version,
                h.summary.framing,
                h.summary.keep_alive,
            ))
        }
        None => panic!("partial"),
    })
}

fn err(raw: &[u8]) -> ParseError {
    parse(raw).expect_err("should be refused")
}

#[test]
fn simple_get() {
    let (m, p, v, f, ka) = parse(b"GET /a?b HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(
        (m, &p[..], v, f, ka),
        (
            Method::Get,
            &b"/a"[..],
            Version::Http11,
            BodyFraming::None,
            true
        )
    );
}

#[test]
fn bare_lf_lines_are_accepted() {
    assert!(parse(b"GET / HTTP/1.1\nHost: x\n\n").is_ok());
}

#[test]
fn persistence_rules() {
    assert!(
        !parse(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap()
            .4
    );
    assert!(!parse(b"GET / HTTP/1.0\r\n\r\n").unwrap().4);
    assert!(
        parse(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
            .unwrap()
            .4
    );
    assert!(
        !parse(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, close\r\n\r\n")
            .unwrap()
            .4
    );
}

#[test]
fn versions() {
    assert_eq!(
        parse(b"GET / HTTP/1.2\r\nHost: x\r\n\r\n").unwrap().2,
        Version::Http11
    );
    assert_eq!(
        err(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n"),
        ParseError::Version
    );
    assert_eq!(err(b"GET / HTTP/0.9\r\n\r\n"), ParseError::Version);
    assert_eq!(
        err(b"GET / HTTP/1.10\r\nHost: x\r\n\r\n"),
        ParseError::Malformed
    );
    assert_eq!(
        err(b"GET / http/1.1\r\nHost: x\r\n\r\n"),
        ParseError::Malformed
    );
    assert_eq!(
        err(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
        ParseError::Version
    );
}

#[test]
fn request_line_shapes() {
    assert_eq!(
        err(b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n"),
        ParseError::Malformed
    );
    assert_eq!(
        err(b"GET / HTTP/1.1 \r\nHost: x\r\n\r\n"),
        ParseError::Malformed
    );
    assert_eq!(
        err(b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n"),
        ParseError::Malformed
    );
    assert_eq!(
        err(b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n"),
        ParseError::UnknownMethod
    );
    assert_eq!(
        err(b"GET x HTTP/1.1\r\nHost: x\r\n\r\n"),
        ParseError::Malformed
    );
    assert_eq!(
        err(b"GET * HTTP/1.1\r\nHost: x\r\n\r\n"),
        ParseError::Malformed
    );
    assert!(parse(b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n").is_ok());
    assert_eq!(
        err(b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n"),
        ParseError::Malformed
    );
    assert_eq!(
        err(b"GET /\r HTTP/1.1\r\nHost: x\r\n\r\n"),
        ParseError::Malformed
    );
    // DEL is a control byte too, anywhere in the target, also after its `?`.
    for target in [&b"/\x7f"[..], b"/a\x7fb", b"/a?\x7f", b"/a??b\x7f"] {
        let mut raw = b"GET ".to_vec();
        raw.extend_from_slice(target);
        raw.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(err(&raw), ParseError::Malformed, "{target:?}");
    }
    assert_eq!(
        parse(b"GET /a??b HTTP/1.1\r\nHost: x\r\n\r\n").unwrap().1,
        b"/a"
    );
}

#[test]
fn absolute_form() {
    let r = parse(b"GET http://example.com:80/a/b?c HTTP/1.1\r\nHost: example.com\r\n\r\n");
    assert_eq!(r.unwrap().1, b"/a/b");
    assert_eq!(
        parse(b"GET HTTP://h HTTP/1.1\r\nHost: h\r\n\r\n")
            .unwrap()
            .1,
        b"/"
    );
    assert_eq!(
        err(b"GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n"),
        ParseError::Malformed
    );
}

#[test]
fn host_rules() {
    assert_eq!(err(b"GET / HTTP/1.1\r\n\r\n"), ParseError::BadHost);
    assert_eq!(
        err(b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"),
        ParseError::BadHost
    );
    assert_eq!(
        err(b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n"),
        ParseError::BadHost
    );
    assert_eq!(
        err(b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"),
        ParseError::BadHost
    );
    assert!(parse(b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n").is_ok());
    assert!(parse(b"GET / HTTP/1.1\r\nHost:\r\n\r\n").is_ok());
    assert!(parse(b"GET / HTTP/1.0\r\n\r\n").is_ok());
}

/// `Host` values the grammar accepts.
const GOOD_HOSTS: &[&[u8]] = &[
    b"a",
    b"example.com",
    b"example.com:8080",
    b"a:0",
    b"a:65535",
    b"a:00080",
    b"a:",
    b"127.0.0.1",
    b"999.1.1.1",
    b"a%20b",
    b"a%C3%A9",
    b"-._~!$&'()*+,;=",
    b"[::1]",
    b"[::1]:",
    b"[::1]:443",
    b"[::]",
    b"[1:2:3:4:5:6:7:8]",
    b"[1::8]",
    b"[::ffff:192.0.2.1]",
    b"[2001:DB8::1]",
    b"[v1.a]",
    b"[V1F.a:b!$]",
];

/// `Host` values the grammar refuses.
const BAD_HOSTS: &[&[u8]] = &[
    b"",
    b"host:port:x",
    b"]]%%[[",
    b"a:99999",
    b"a:65536",
    b"a:4294967296",
    b"a:b",
    b"a:8o",
    b"a: 80",
    b"a:-1",
    b"a:+1",
    b":80",
    b":",
    b"[::1",
    b"[::1]x",
    b"[::1]]",
    b"[::1]:x",
    b"[::1]:65536",
    b"::1",
    b"[]",
    b"[1:2:3:4:5:6:7:8:9]",
    b"[1::2::3]",
    b"[12345::]",
    b"[::g]",
    b"[::1%25eth0]",
    b"[1.2.3.4]",
    b"[::01.2.3.4]",
    b"[v]",
    b"[v1]",
    b"[v1.]",
    b"[vg.a]",
    b"[v1.a%20]",
    b"[v1.a/]",
    b"a%",
    b"a%2",
    b"a%2g",
    b"a[b",
    b"a]",
    b"a@b",
    b"a/b",
    b"a\\b",
    b"a b",
    b"\xc3\xa9",
];

#[test]
fn host_grammar() {
    for &good in GOOD_HOSTS {
        assert!(valid_host(good), "{:?}", String::from_utf8_lossy(good));
        let mut raw = b"GET / HTTP/1.1\r\nHost: ".to_vec();
        raw.extend_from_slice(good);
        raw.extend_from_slice(b"\r\n\r\n");
        assert!(parse(&raw).is_ok(), "{:?}", String::from_utf8_lossy(good));
    }
    for &bad in BAD_HOSTS {
        assert!(!valid_host(bad), "{:?}", String::from_utf8_lossy(bad));
        if bad.is_empty() {
            continue; // an empty Host *value* is allowed
        }
        let mut raw = b"GET / HTTP/1.1\r\nHost: ".to_vec();
        raw.extend_from_slice(bad);
        raw.extend_from_slice(b"\r\n\r\n");
        assert_eq!(
            parse(&raw).map(|_| ()),
            Err(ParseError::BadHost),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    // The absolute-form authority follows the same grammar (and may not be empty).
    for (target, ok) in [
        (&b"http://a:8080/x"[..], true),
        (b"http://[::1]:8080/x", true),
        (b"http://a:/x", true),
        (b"http://a:99999/x", false),
        (b"http://a:b/x", false),
        (b"http://h:p:x/", false),
        (b"http://[::1/x", false),
        (b"http://u@h/x", false),
        (b"http://:80/x", false),
    ] {
        let mut raw = b"GET ".to_vec();
        raw.extend_from_slice(target);
        raw.extend_from_slice(b" HTTP/1.1\r\nHost: h\r\n\r\n");
        let r = parse(&raw).map(|_| ());
        let want = if ok {
            Ok(())
        } else {
            Err(ParseError::Malformed)
        };
        assert_eq!(r, want, "{:?}", String::from_utf8_lossy(target));
    }
}

/// A known `Host` stands in for the grammar only for the very same bytes: a value that
/// merely starts like it, or is as long, is checked, and a refused one is never remembered.
#[test]
fn a_known_host_answers_as_the_grammar_does() {
    let mut known = KnownHost::default();
    let sequence: &[&[u8]] = &[
        b"localhost:8080",
        b"localhost:8080",
        b"localhost:8080x",
        b"localhost:808",
        b"localhost:80800",
        b"localhost:8080",
        b"localhost/8080",
        b"localhost/8080",
        b"a b",
        b"a b",
        b"",
        b"",
    ];
    for &v in sequence
        .iter()
        .chain(GOOD_HOSTS)
        .chain(BAD_HOSTS)
        .chain(GOOD_HOSTS)
    {
        for _ in 0..2 {
            let said = known.valid(v);
            assert_eq!(said, valid_host(v), "{:?}", String::from_utf8_lossy(v));
        }
    }
    let long = [b'a'; 200];
    assert!(known.valid(&long) && known.valid(&long[..64]) && known.valid(&long[..65]));
}

#[test]
fn bytes_that_cannot_start_a_request_are_refused_on_arrival() {
    let partial = |raw: &[u8]| with_parsed_head(raw, 32768, |r| r.map(|_| ()));
    let hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
    for bad in [
        &hello[..1],
        &hello[..],
        b"GE\x16",
        b"GET\t",
        b"GET\r",
        b"\rX",
        b"\r\r",
        b" GET",
        b"(",
        b"G(T",
        b"\x00",
        b"\xff",
    ] {
        let name = String::from_utf8_lossy(bad);
        assert_eq!(partial(bad), Err(ParseError::Malformed), "{name:?}");
        assert_eq!(
            HeadScanner::default().scan(bad, 32768),
            Err(ParseError::Malformed),
            "{name:?}"
        );
        // Byte by byte, the scanner refuses at the first byte that cannot belong.
        let mut s = HeadScanner::default();
        let first = (1..=bad.len()).find(|&end| s.scan(&bad[..end], 32768).is_err());
        let at = bad.iter().position(|&b| !is_tchar(b)).map(|k| {
            if bad[k] == b'\r' && k == 0 {
                k + 2
            } else {
                k + 1
            }
        });
        assert_eq!(first, at, "{name:?}");
    }
    // Token bytes, the method's space, a lone CR (perhaps an empty line): wait for more.
    for fine in [
        &b"G"[..],
        b"GET",
        b"get",
        b"M-SEARCH",
        b"M-SEARCH *",
        b"!#$%&'*+-.^_`|~",
        b"GET ",
        b"GET /\x16",
        b"\r",
    ] {
        let name = String::from_utf8_lossy(fine);
        assert_eq!(partial(fine), Ok(()), "{name:?}");
        let mut s = HeadScanner::default();
        for end in 1..=fine.len() {
            assert_eq!(s.scan(&fine[..end], 32768), Ok(None), "{name:?} at {end}");
        }
    }
    // A bad method byte is a 400 even on a request line too long to read (a 414 otherwise),
    // so the answer does not depend on whether the line's end was in the same read.
    let mut long = b"\x16".to_vec();
    long.resize(MAX_REQUEST_LINE + 10, b'a');
    long.extend_from_slice(b"\r\nHost: x\r\n\r\n");
    assert_eq!(err(&long), ParseError::Malformed);
    assert_eq!(
        HeadScanner::default().scan(&long, 32768),
        Err(ParseError::Malformed)
    );
    long[0] = b'G';
    assert_eq!(err(&long), ParseError::UriTooLong);
}

#[test]
fn framing_rules() {
    let f = |raw: &[u8]| parse(raw).map(|r| r.3);
    assert_eq!(
        f(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"),
        Ok(BodyFraming::Length(5))
    );
    assert_eq!(
        f(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"),
        Ok(BodyFraming::Length(5))
    );
    assert_eq!(
        f(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n"),
        Ok(BodyFraming::Length(5))
    );
    assert_eq!(
        f(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0000000000000000005\r\n\r\n"),
        Ok(BodyFraming::Length(5))
    );
    assert_eq!(
        f(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"),
        Ok(BodyFraming::Chunked)
    );
    assert_eq!(
        f(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: CHUNKED\r\n\r\n"),
        Ok(BodyFraming::Chunked)
    );
    for bad in [
        &b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"[..],
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
        // At most 19 digits, even when a longer value would fit in a u64.
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551615\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 00000000000000000005\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ,chunked\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n\r\n",
        b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
    ] {
        assert_eq!(f(bad), Err(ParseError::BadFraming), "{}", String::from_utf8_lossy(bad));
    }
    assert_eq!(
        f(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
        Err(ParseError::UnknownCoding)
    );
    assert_eq!(
        f(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n"),
        Err(ParseError::UnknownCoding)
    );
}

#[test]
fn header_syntax() {
    assert_eq!(
        err(b"GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n"),
        ParseError::Malformed
    );
    assert_eq!(
        err(b"GET / HTTP/1.1\r\nHost : x\r\n\r\n"),
        ParseError::Malformed
    );
    assert_eq!(
        err(b"GET / HTTP/1.1\r\nHost: x\r\nA\0: b\r\n\r\n"),
        ParseError::Malformed
    );
    assert_eq!(
        err(b"GET / HTTP/1.1\r\nHost: x\r\nExpect: tea\r\n\r\n"),
        ParseError::Expectation
    );
    let mut many = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    for _ in 0..MAX_HEADERS {
        many.extend_from_slice(b"A: b\r\n");
    }
    many.extend_from_slice(b"\r\n");
    assert_eq!(err(&many), ParseError::TooManyHeaders);
}

#[test]
fn partial_heads_and_limits() {
    let p = |raw: &[u8], max| with_parsed_head(raw, max, |r| r.map(|p| p.is_none()));
    assert_eq!(p(b"GET / HTTP/1.1\r\nHost: x\r\n", 32768), Ok(true));
    assert_eq!(p(b"GET / HTT", 32768), Ok(true));
    assert_eq!(p(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 32768), Ok(false));
    assert_eq!(
        p(&[b'a'; MAX_REQUEST_LINE + 2], 32768),
        Err(ParseError::UriTooLong)
    );
    assert_eq!(
        p(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 20),
        Err(ParseError::HeadTooLarge)
    );
    assert_eq!(
        p(b"GET / HTTP/1.1\r\nHost: xxxxxxxx", 20),
        Err(ParseError::HeadTooLarge)
    );
    // An error in a complete line is reported before the head is complete.
    assert_eq!(
        p(b"GET / HTTP/1.1\r\nHost : x\r\n", 32768),
        Err(ParseError::Malformed)
    );
}

#[test]
fn scanner_limits() {
    let mut s = HeadScanner::default();
    let long = [b'a'; MAX_REQUEST_LINE + 3];
    assert_eq!(s.scan(&long, 32768), Err(ParseError::UriTooLong));
    let mut s = HeadScanner::default();
    let mut big = b"GET / HTTP/1.1\r\n".to_vec();
    big.resize(1000, b'a');
    assert_eq!(s.scan(&big, 1000), Err(ParseError::HeadTooLarge));
    let mut s = HeadScanner::default();
    assert_eq!(
        s.scan(b"GET / HTTP/1.1\r\n\r\n", 10),
        Err(ParseError::HeadTooLarge)
    );
}

#[test]
fn scanner_is_incremental() {
    let raw = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET";
    let mut s = HeadScanner::default();
    for end in 0..raw.len() {
        match s.scan(&raw[..end], 32768).unwrap() {
            Some(len) => {
                assert_eq!(len, 27);
                assert!(end >= 27);
                return;
            }
            None => assert!(end < 27),
        }
    }
    panic!("never found the end");
}

#[test]
fn scanner_refuses_a_bad_line_as_soon_as_it_is_complete() {
    // Whatever the split, the scanner refuses at the same byte as the parser does given
    // the prefix in one piece (found by the `conn` fuzz target).
    let many = format!("GET / HTTP/1.1\r\n{}", "A: b\r\n".repeat(MAX_HEADERS + 1));
    for (raw, err) in [
        (
            &b"GET / HTTP/1.1\r\nbad\r\nHost: x\r\n\r\n"[..],
            ParseError::Malformed,
        ),
        (b"GET / HTTP/1.1\r\nA : b\r\n", ParseError::Malformed),
        (b"GET / HTTP/1.1\r\n folded\r\n", ParseError::Malformed),
        (b"FOO / HTTP/1.1\r\nHost: x", ParseError::UnknownMethod),
        (b"\x16\x03\x01\x02\x00", ParseError::Malformed),
        (b"GET\x01 / HTTP/1.1\r\n", ParseError::Malformed),
        (b"GET / HTTP/2.0\r\n", ParseError::Version),
        (many.as_bytes(), ParseError::TooManyHeaders),
    ] {
        let whole_at = (1..=raw.len())
            .find(|&end| with_parsed_head(&raw[..end], 32768, |r| r.map(|_| ())).is_err())
            .unwrap();
        assert_eq!(
            with_parsed_head(&raw[..whole_at], 32768, |r| r.map(|_| ()).unwrap_err()),
            err
        );
        let mut s = HeadScanner::default();
        for end in 1..=raw.len() {
            match s.scan(&raw[..end], 32768) {
                Ok(None) => assert!(end < whole_at, "{end}"),
                Ok(Some(_)) => panic!("ended"),
                Err(e) => {
                    assert_eq!((end, e), (whole_at, err));
                    break;
                }
            }
        }
    }
}

#[test]
fn leading_blank_lines() {
    assert_eq!(leading_empty_lines(b"\r\n\nGET"), 3);
    assert_eq!(leading_empty_lines(b"\r"), 0);
    assert_eq!(leading_empty_lines(b"GET"), 0);
}

/// The scanner's first decision on `raw` fed one byte at a time.
fn scan_bytewise(raw: &[u8]) -> Result<Option<usize>, ParseError> {
    let mut s = HeadScanner::default();
    for end in 1..=raw.len() {
        match s.scan(&raw[..end], 32768) {
            Ok(None) => {}
            decided => return decided,
        }
    }
    Ok(None)
}

/// httparse checks long names and values a word or a vector at a time (its SWAR, SSE4.2 and
/// AVX2 paths, the last from 32 bytes on): a byte gets the same rule at every offset of a long
/// line as in a short one, in one piece and byte by byte.
#[test]
fn field_byte_rules_hold_at_every_offset_of_a_long_line() {
    // (byte, allowed inside a value); none of these is allowed in a name.
    let bytes = [
        (0u8, false),
        (b'\r', false),
        (0x01, false),
        (0x0b, false),
        (0x1f, false),
        (0x7f, false),
        (b'\t', true),
        (b' ', true),
        (0x80, true),
        (0xff, true),
    ];
    for len in [15, 16, 31, 32, 33, 63, 64, 65, 100] {
        for at in 0..len {
            for (b, in_value) in bytes {
                let mut v = vec![b'v'; len];
                v[at] = b;
                let value = [
                    &b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: "[..],
                    &v,
                    b"\r\n\r\n",
                ]
                .concat();
                let name = [&b"GET / HTTP/1.1\r\nHost: x\r\n"[..], &v, b": y\r\n\r\n"].concat();
                let what = format!("byte {b:#04x} at {at} of {len}");
                if in_value {
                    let got = with_parsed_head(&value, 32768, |r| {
                        r.unwrap().unwrap().header("x-long").unwrap().to_vec()
                    });
                    // Leading and trailing whitespace is not part of the value.
                    let trimmed = crate::http::token::trim_ows(&v);
                    assert_eq!(got, trimmed, "{what}");
                    assert_eq!(scan_bytewise(&value), Ok(Some(value.len())), "{what}");
                } else {
                    assert_eq!(err(&value), ParseError::Malformed, "value: {what}");
                    assert_eq!(scan_bytewise(&value), Err(ParseError::Malformed), "{what}");
                }
                assert_eq!(err(&name), ParseError::Malformed, "name: {what}");
                assert_eq!(scan_bytewise(&name), Err(ParseError::Malformed), "{what}");
            }
        }
    }
}

/// CR and whitespace where RFC 9112 §2.2 and §5 forbid them: a bare CR (also `\r\r\n` as a
/// line end), whitespace before the first field, an empty name. Refused in one piece and byte
/// by byte alike; a lone CR at the end of what has arrived waits for its LF.
#[test]
fn cr_and_whitespace_shapes_around_field_lines() {
    for raw in [
        &b"GET / HTTP/1.1\r\r\nHost: x\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost: x\r\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\n\rX: y\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX\r: b\r\n\r\n",
        b"GET / HTTP/1.1\r\n Host: x\r\n\r\n",
        b"GET / HTTP/1.1\r\n\tHost: x\r\n\r\n",
        b"GET / HTTP/1.1\n Host: x\n\n",
        b"GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\n:\r\n\r\n",
    ] {
        let what = String::from_utf8_lossy(raw);
        assert_eq!(err(raw), ParseError::Malformed, "{what:?}");
        assert_eq!(scan_bytewise(raw), Err(ParseError::Malformed), "{what:?}");
    }
    // Each waits, and with the LF (and what else it lacks) it is a head.
    for (raw, rest) in [
        (&b"GET / HTTP/1.1\r"[..], &b"\nHost: x\r\n\r\n"[..]),
        (b"GET / HTTP/1.1\nHost: x\r", b"\n\r\n"),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r", b"\n"),
        (b"GET / HTTP/1.1\nHost: x\n\r", b"\n"),
    ] {
        let what = String::from_utf8_lossy(raw);
        assert!(
            with_parsed_head(raw, 32768, |r| matches!(r, Ok(None))),
            "{what:?}"
        );
        assert_eq!(scan_bytewise(raw), Ok(None), "{what:?}");
        let whole = [raw, rest].concat();
        assert!(parse(&whole).is_ok(), "{what:?}");
        assert_eq!(scan_bytewise(&whole), Ok(Some(whole.len())), "{what:?}");
    }
    // Before a request line, a lone CR may begin an empty line.
    assert!(with_parsed_head(b"\r", 32768, |r| matches!(r, Ok(None))));
    assert_eq!(scan_bytewise(b"\r"), Ok(None));
}

/// 100 fields are served and 101 are 431, whatever the line ends, in one piece and byte by
/// byte; 16 and 17 (where the parser moves from its few slots to all of them) parse alike.
#[test]
fn field_counts_at_the_limits() {
    for eol in [&b"\r\n"[..], b"\n"] {
        for n in [16, 17, MAX_HEADERS, MAX_HEADERS + 1] {
            let mut raw = b"GET / HTTP/1.1".to_vec();
            raw.extend_from_slice(eol);
            for i in 0..n {
                raw.extend_from_slice(if i == 0 { b"Host: x" } else { b"A: b" });
                raw.extend_from_slice(eol);
            }
            raw.extend_from_slice(eol);
            if n <= MAX_HEADERS {
                let fields = with_parsed_head(&raw, 32768, |r| r.unwrap().unwrap().headers.len());
                assert_eq!(fields, n);
                assert_eq!(scan_bytewise(&raw), Ok(Some(raw.len())), "{n}");
            } else {
                assert_eq!(err(&raw), ParseError::TooManyHeaders);
                assert_eq!(scan_bytewise(&raw), Err(ParseError::TooManyHeaders));
            }
        }
    }
}

/// What `parse_head` answers for `raw` after the heads before it taught `known` what they
/// could, beside what it answers knowing nothing. The two must be the same.
fn after_and_fresh(raw: &[u8], max_head: usize, known: &mut Known) -> (String, String) {
    let after = format!(
        "{:?}",
        parse_head(raw, max_head, &mut Slots::default(), known)
    );
    let mut nothing = Known::default();
    let fresh = format!(
        "{:?}",
        parse_head(raw, max_head, &mut Slots::default(), &mut nothing)
    );
    (after, fresh)
}

/// A known head stands in for the parse only for the very same head, whole and within
/// `--max-head`: a head with any one byte changed, cut short anywhere, followed by the next
/// request or too long for the limit answers as a fresh parse does, right after the known one.
#[test]
fn a_known_head_answers_as_the_parse_does() {
    let known_one: &[u8] =
        b"GET /a/b?c=1 HTTP/1.1\r\nHost: localhost:8080\r\nX-Thing: v\r\nAccept: */*\r\n\r\n";
    let mut heads = vec![[known_one, b"GET / HTTP/1.1\r\n"].concat()];
    for at in 0..known_one.len() {
        for byte in [b' ', b'x', b'X', 0, b'\n', 0xff] {
            let mut changed = known_one.to_vec();
            changed[at] = byte;
            heads.push(changed);
        }
        heads.push(known_one[..at].to_vec());
    }
    let mut known = Known::default();
    for max_head in [32768, known_one.len(), known_one.len() - 1] {
        for raw in &heads {
            // Each head right after the known one (known once seen twice), then again, recalled
            // if it was remembered.
            for raw in [known_one, known_one, raw, raw, raw] {
                let (after, fresh) = after_and_fresh(raw, max_head, &mut known);
                assert_eq!(after, fresh, "{:?}", String::from_utf8_lossy(raw));
            }
        }
    }
}

/// Heads at the edges of what is remembered (more fields than a handful, longer than the
/// memo, a path not in the head, `*`, a query), each sent three times running as a load
/// generator would, answer every time as a fresh parse does.
#[test]
fn heads_at_the_edges_of_the_memo_answer_as_parsed() {
    let fields = |n: usize| -> String { (0..n).map(|i| format!("X-{i}: {i}\r\n")).collect() };
    let heads = [
        format!("GET / HTTP/1.1\r\nHost: a\r\n{}\r\n", fields(3)),
        format!("GET / HTTP/1.1\r\nHost: a\r\n{}\r\n", fields(4)),
        format!("GET / HTTP/1.1\r\nHost: a\r\n{}\r\n", fields(20)),
        format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "p".repeat(2000)),
        "GET http://a HTTP/1.1\r\nHost: a\r\n\r\n".to_owned(),
        "GET http://a?q HTTP/1.1\r\nHost: a\r\n\r\n".to_owned(),
        "GET /p?q=1&r HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n".to_owned(),
        "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n".to_owned(),
    ];
    let mut known = Known::default();
    for raw in &heads {
        for _ in 0..3 {
            let (after, fresh) = after_and_fresh(raw.as_bytes(), 32768, &mut known);
            assert_eq!(after, fresh, "{raw:?}");
        }
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn request() -> impl Strategy<Value = Vec<u8>> {
        (
            prop_oneof![Just("GET"), Just("HEAD"), Just("POST"), Just("DELETE")],
            "/[a-z0-9/._~%-]{0,20}(\\?[a-z=&]{0,10})?",
            proptest::collection::vec(("[A-Za-z-]{1,12}", "[ -~]{0,20}"), 0..20),
            prop_oneof![Just("\r\n"), Just("\n")],
        )
            .prop_map(|(m, target, fields, eol)| {
                let mut r = format!("{m} {target} HTTP/1.1{eol}Host: example{eol}");
                for (name, value) in fields {
                    if !matches!(
                        name.to_ascii_lowercase().as_str(),
                        "host" | "content-length" | "transfer-encoding" | "expect" | "connection"
                    ) {
                        r.push_str(&format!("{name}: {value}{eol}"));
                    }
                }
                r.push_str(eol);
                r.into_bytes()
            })
    }

    proptest! {
        /// A valid head parses, the scanner finds the same end however it arrives, and every
        /// proper prefix is merely partial.
        #[test]
        fn valid_heads_parse_whole_and_in_pieces(raw in request(), cut in any::<prop::sample::Index>()) {
            let len = with_parsed_head(&raw, 32768, |r| match r {
                Ok(Some(h)) => h.summary.len,
                other => panic!("{other:?} for {:?}", String::from_utf8_lossy(&raw)),
            });
            prop_assert_eq!(len, raw.len());
            let at = cut.index(raw.len());
            let partial = with_parsed_head(&raw[..at], 32768, |r| matches!(r, Ok(None)));
            prop_assert!(partial, "prefix of {} bytes", at);
            let mut scanner = HeadScanner::default();
            prop_assert_eq!(scanner.scan(&raw[..at], 32768), Ok(None));
            prop_assert_eq!(scanner.scan(&raw, 32768), Ok(Some(raw.len())));
        }

        /// Valid heads one after another (often the same one again, as a load generator
        /// sends them) answer as fresh parses do, whatever the head before them was.
        #[test]
        fn a_known_head_never_changes_the_answer(
            heads in proptest::collection::vec(request(), 1..4),
            order in proptest::collection::vec(any::<prop::sample::Index>(), 1..12),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut known = Known::default();
            for i in &order {
                let raw = &heads[i.index(heads.len())];
                let (after, fresh) = after_and_fresh(raw, 32768, &mut known);
                prop_assert_eq!(after, fresh);
                let part = &raw[..cut.index(raw.len())];
                let (after, fresh) = after_and_fresh(part, 32768, &mut known);
                prop_assert_eq!(after, fresh);
            }
        }

        /// Whatever a known `Host` is, it answers every value as the grammar does.
        #[test]
        fn a_known_host_never_changes_the_answer(
            values in proptest::collection::vec(
                prop_oneof![
                    proptest::sample::select(GOOD_HOSTS),
                    proptest::sample::select(BAD_HOSTS),
                ].prop_map(<[u8]>::to_vec)
                .boxed()
                .prop_union(proptest::collection::vec(any::<u8>(), 0..20).boxed())
                .or("[a-z0-9.:%\\[\\]-]{0,12}".prop_map(String::into_bytes).boxed()),
                1..12,
            )
        ) {
            let mut known = KnownHost::default();
            for v in &values {
                prop_assert_eq!(known.valid(v), valid_host(v), "{:?}", String::from_utf8_lossy(v));
            }
        }

        /// The usual request line, read straight from the head, is what the long way finds.
        #[test]
        fn the_usual_request_line_is_the_line_the_long_way_reads(
            method in "[A-Z]{1,8}|GET|HEAD|POST",
            target in "[ -~\u{80}-\u{ff}]{0,16}",
            version in "HTTP/1\\.[01]|HTTP/1\\.1 |HTTP/2\\.0",
            eol in "\r\n|\n|\r|\r\r\n|",
            tail in proptest::collection::vec(any::<u8>(), 0..8),
        ) {
            let mut raw = format!("{method} {target} {version}{eol}").into_bytes();
            raw.extend_from_slice(&tail);
            let long = request_line(&raw);
            if let Some(usual) = usual_request_line(&raw) {
                prop_assert_eq!(format!("{:?}", Ok::<_, ParseError>(Some(usual))), format!("{long:?}"));
            }
        }

        /// Arbitrary bytes never panic the parser or the scanner.
        #[test]
        fn arbitrary_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = with_parsed_head(&raw, 256, |r| r.is_ok());
            let _ = HeadScanner::default().scan(&raw, 256);
            let _ = parse_request_line(&raw);
        }
    }
}
