//! Pre-compressed siblings over real sockets (issue 13): `x.br`, `x.zst` and `x.gz` beside
//! `x`, chosen by `Accept-Encoding` with q-values (RFC 9110 §12.5.3), each with its own
//! `Content-Encoding` and ETag, `Vary: Accept-Encoding`, and conditions and ranges that apply
//! to the bytes sent. A file with no sibling is answered as before: no `Vary`.

mod common;

use common::*;

const PLAIN: &[u8] = b"plain text, many times over; plain text, many times over\n";
const BR: &[u8] = b"pretend-brotli-bytes";
const ZST: &[u8] = b"\x28\xb5\x2f\xfdpretend-zstd";
const GZ: &[u8] = b"\x1f\x8b\x08\x00pretend-gzip";

/// A ROOT with `x.txt` and its three siblings, `two.txt` with only `.gz` and `.zst`, and
/// `alone.txt` with none.
fn root() -> ScratchDir {
    let d = ScratchDir::new("encodings");
    d.write("x.txt", PLAIN);
    d.write("x.txt.br", BR);
    d.write("x.txt.zst", ZST);
    d.write("x.txt.gz", GZ);
    d.write("two.txt", PLAIN);
    d.write("two.txt.gz", GZ);
    d.write("two.txt.zst", ZST);
    d.write("alone.txt", b"no sibling");
    d
}

fn serve(d: &ScratchDir) -> TestServer {
    let root = d.path().to_owned();
    TestServer::with(move |c| c.root = root)
}

fn with_ae(srv: &TestServer, target: &str, ae: &str) -> Response {
    fetch(srv, "GET", target, &[("Accept-Encoding", ae)])
}

/// What each `Accept-Encoding` gets for `x.txt`: the coding (`None`: the plain file).
#[test]
fn q_values_choose_the_representation() {
    let d = root();
    let srv = serve(&d);
    let cases: &[(&str, Option<&str>)] = &[
        ("gzip, deflate, br, zstd", Some("br")),
        ("gzip, deflate, br", Some("br")),
        ("gzip, zstd", Some("zstd")),
        ("gzip", Some("gzip")),
        ("x-gzip", Some("gzip")),
        ("BR", Some("br")),
        ("br;q=0, zstd;q=0.5, gzip;q=0.9", Some("gzip")),
        ("br;q=0", None),
        ("br;q=0, *", Some("zstd")),
        ("*", Some("br")),
        ("*;q=0", None),
        ("*;q=0, gzip", Some("gzip")),
        ("identity;q=0", None),
        ("identity;q=0, zstd;q=0.1", Some("zstd")),
        ("identity, gzip;q=0.5", None),
        ("identity", None),
        ("", None),
        ("deflate", None),
        ("br;q=2, gzip", Some("gzip")),
        ("br;q=0.5x, zstd;q=oops, gzip;q=1.0001", None),
        ("br;level=11", None),
        (",,;;,=,\"br\"", None),
    ];
    for &(ae, want) in cases {
        let r = with_ae(&srv, "/x.txt", ae);
        assert_eq!(r.status, 200, "{ae:?}");
        assert_eq!(r.header("content-encoding"), want, "{ae:?}");
        assert_eq!(r.header("vary"), Some("Accept-Encoding"), "{ae:?}");
        assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
        let body = match want {
            Some("br") => BR,
            Some("zstd") => ZST,
            Some("gzip") => GZ,
            _ => PLAIN,
        };
        assert_eq!(r.body, body, "{ae:?}");
        let h = fetch(&srv, "HEAD", "/x.txt", &[("Accept-Encoding", ae)]);
        assert_eq!(h.header("content-encoding"), want, "HEAD {ae:?}");
        assert_eq!(h.content_length(), Some(body.len() as u64));
    }
    // No field at all: the plain file, still with Vary.
    let r = fetch(&srv, "GET", "/x.txt", &[]);
    assert_eq!((r.header("content-encoding"), &r.body[..]), (None, PLAIN));
    assert_eq!(r.header("vary"), Some("Accept-Encoding"));
    // Two field lines are one list.
    let r = fetch(
        &srv,
        "GET",
        "/x.txt",
        &[
            ("Accept-Encoding", "br;q=0"),
            ("Accept-Encoding", "zstd;q=0.5, gzip"),
        ],
    );
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    // Only the siblings that are there are chosen from.
    assert_eq!(
        with_ae(&srv, "/two.txt", "br, gzip").header("content-encoding"),
        Some("gzip")
    );
    assert_eq!(
        with_ae(&srv, "/two.txt", "br, zstd, gzip").header("content-encoding"),
        Some("zstd")
    );
    assert_eq!(
        with_ae(&srv, "/two.txt", "br").header("content-encoding"),
        None
    );
    // A file with no sibling: no Vary, no Content-Encoding, whatever is asked.
    let r = with_ae(&srv, "/alone.txt", "br, zstd, gzip");
    assert!(!r.has_header("vary") && !r.has_header("content-encoding"));
    // A sibling asked for by its own name is just a file.
    let r = with_ae(&srv, "/x.txt.br", "br");
    assert_eq!((r.header("content-encoding"), &r.body[..]), (None, BR));
}

/// Every representation has its own ETag; a 304 and a 206 answer about the bytes sent.
#[test]
fn validators_and_ranges_belong_to_the_representation() {
    let d = root();
    let srv = serve(&d);
    let mut tags = Vec::new();
    for ae in ["identity", "br", "zstd", "gzip"] {
        let r = with_ae(&srv, "/x.txt", ae);
        let tag = r.header("etag").expect("an ETag").to_string();
        assert!(!tags.contains(&tag), "{ae}: {tag} is not distinct");
        tags.push(tag.clone());
        // 304 for its own tag, with Vary and the tag, no body.
        let r = fetch(
            &srv,
            "GET",
            "/x.txt",
            &[("Accept-Encoding", ae), ("If-None-Match", &tag)],
        );
        assert_eq!(r.status, 304, "{ae}");
        assert_eq!(r.header("etag"), Some(tag.as_str()));
        assert_eq!(r.header("vary"), Some("Accept-Encoding"));
        assert!(r.body.is_empty());
    }
    // Even a sibling hard-linked to the plain file (one inode, one size, one mtime) has a
    // tag of its own: a cache must never take one for the other.
    std::fs::hard_link(d.join("alone.txt"), d.join("alone.txt.gz")).unwrap();
    let plain = fetch(&srv, "GET", "/alone.txt", &[]);
    let gz = with_ae(&srv, "/alone.txt", "gzip");
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_ne!(plain.header("etag"), gz.header("etag"));
    // The br tag does not match the zstd representation: 200 with zstd's bytes.
    let r = fetch(
        &srv,
        "GET",
        "/x.txt",
        &[("Accept-Encoding", "zstd"), ("If-None-Match", &tags[1])],
    );
    assert_eq!((r.status, &r.body[..]), (200, ZST));
    // A range of the encoded bytes.
    let r = fetch(
        &srv,
        "GET",
        "/x.txt",
        &[("Accept-Encoding", "br"), ("Range", "bytes=2-5")],
    );
    assert_eq!(r.status, 206);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes 2-5/{}", BR.len()).as_str())
    );
    assert_eq!(r.body, &BR[2..=5]);
    assert_eq!(r.header("content-encoding"), Some("br"));
    // If-Range with another representation's tag: the whole encoded file.
    let r = fetch(
        &srv,
        "GET",
        "/x.txt",
        &[
            ("Accept-Encoding", "zstd"),
            ("Range", "bytes=0-1"),
            ("If-Range", &tags[1]),
        ],
    );
    assert_eq!((r.status, &r.body[..]), (200, ZST));
    // Past the end of the encoded file (not of the plain one): 416.
    let past = format!("bytes={}-", ZST.len() + 1);
    let r = fetch(
        &srv,
        "GET",
        "/x.txt",
        &[("Accept-Encoding", "zstd"), ("Range", &past)],
    );
    assert_eq!(r.status, 416);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes */{}", ZST.len()).as_str())
    );
}

/// Siblings of a directory's `index.html` are chosen the same way.
#[test]
fn an_index_has_its_siblings_too() {
    let d = ScratchDir::new("encodings-index");
    d.write("site/index.html", b"<p>hi</p>");
    d.write("site/index.html.br", BR);
    let srv = serve(&d);
    let r = with_ae(&srv, "/site/", "gzip, br");
    assert_eq!(
        (r.header("content-encoding"), &r.body[..]),
        (Some("br"), BR)
    );
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
}
