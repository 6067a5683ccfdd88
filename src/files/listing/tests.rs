#![cfg(test)]
// (Declared in listing.rs as `#[cfg(test)] mod tests;`: test code only.)
//! Listings: order, page shape, escaping of names as text and as links, the JSON form, and
//! [`Render`] giving the same bytes as the whole-page reference however it is drained.

use super::html_page::{push_href, push_human_size};
use super::json_array::push_json_string;
use super::order::Key;
use super::*;
use proptest::prelude::*;

/// 2026-11-22T01:02:03Z.
const T: u64 = 1_795_309_323;

/// The JSON array as it was rendered whole before [`Render`] (issue 8): the renderer must
/// give exactly this, byte for byte, whatever sizes it is asked for. (The HTML page is
/// compared with itself rendered whole: it changed with issue 13.)
mod reference {
    use super::super::*;
    use super::push_json_string;

    /// The same listing as a JSON array: [{"name": "...", "type": "dir"|"file", "size": N, "mtime":
    /// "2026-11-22T01:02:03Z"}, ...] (same order; no ".." entry).
    ///
    /// Non-UTF-8 names are given with U+FFFD in place of invalid bytes.
    pub fn json(entries: &mut [Entry]) -> Vec<u8> {
        sort(entries);
        let mut out = Vec::with_capacity(2 + entries.len() * 96);
        out.push(b'[');
        for (i, e) in entries.iter().filter(|e| listable(e)).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"\n{\"name\": ");
            push_json_string(&mut out, &String::from_utf8_lossy(&e.name));
            out.extend_from_slice(if e.is_dir {
                b", \"type\": \"dir\", \"size\": "
            } else {
                b", \"type\": \"file\", \"size\": "
            });
            out.extend_from_slice(itoa::Buffer::new().format(e.size).as_bytes());
            out.extend_from_slice(b", \"mtime\": \"");
            push_datetime(&mut out, e.mtime_secs, b'T', b"Z");
            out.extend_from_slice(b"\"}");
        }
        out.extend_from_slice(if entries.iter().any(listable) {
            b"\n]\n"
        } else {
            b"]\n"
        });
        out
    }
}

fn file(name: &[u8], size: u64) -> Entry {
    Entry {
        name: name.to_vec(),
        is_dir: false,
        size,
        mtime_secs: T,
    }
}

fn dir(name: &[u8]) -> Entry {
    Entry {
        name: name.to_vec(),
        is_dir: true,
        size: 4096,
        mtime_secs: T,
    }
}

fn page(dir_path: &str, entries: &mut [Entry]) -> String {
    String::from_utf8(html(dir_path.as_bytes(), entries)).expect("listing is UTF-8")
}

/// An HTML render of `snap` for the directory `dir_path`, in name order, without a form.
fn html_render(snap: Arc<Snapshot>, dir_path: Vec<u8>) -> Render {
    let view = View {
        dir_path,
        ..View::default()
    };
    Render::new(snap, Format::Html, view)
}

/// The `href` values of a page's table body (its entries), in order.
fn hrefs(page: &str) -> Vec<&str> {
    let body = page.split_once("<tbody>").map_or("", |(_, b)| b);
    body.split("href=\"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect()
}

fn href_of(e: Entry) -> String {
    let mut out = Vec::new();
    push_href(&mut out, &e);
    String::from_utf8(out).unwrap()
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn sorted_directories_first_then_bytewise() {
    let mut entries = vec![
        file(b"b.txt", 1),
        dir(b"zeta"),
        file(b"B.txt", 2),
        file(b"\xc3\xa9.txt", 3), // é: above every ASCII byte
        dir(b"Alpha"),
        file(b"a.txt", 4),
        dir(b"alpha"),
    ];
    let p = page("/x/", &mut entries);
    let names: Vec<&[u8]> = entries.iter().map(|e| &e.name[..]).collect();
    let want: Vec<&[u8]> = vec![
        b"Alpha",
        b"alpha",
        b"zeta",
        b"B.txt",
        b"a.txt",
        b"b.txt",
        b"\xc3\xa9.txt",
    ];
    assert_eq!(names, want);
    assert_eq!(
        hrefs(&p),
        [
            "../",
            "./Alpha/",
            "./alpha/",
            "./zeta/",
            "./B.txt",
            "./a.txt",
            "./b.txt",
            "./%C3%A9.txt"
        ]
    );
    // JSON sorts the same way.
    let mut shuffled = vec![file(b"b", 0), dir(b"z"), file(b"a", 0), dir(b"c")];
    let j = String::from_utf8(json(&mut shuffled)).unwrap();
    let order: Vec<usize> = ["\"c\"", "\"z\"", "\"a\"", "\"b\""]
        .iter()
        .map(|n| j.find(n).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{j}");
}

#[test]
fn page_skeleton_and_columns() {
    let mut entries = vec![file(b"a.txt", 1234), dir(b"sub")];
    let p = page("/docs/", &mut entries);
    assert!(p.starts_with("<!doctype html>\n"));
    assert!(p.contains("<meta charset=\"utf-8\">"));
    assert!(p.contains("<title>Index of /docs/</title>"));
    assert!(
        p.contains("<h1>Index of <a href=\"../\">/</a>docs/</h1>"),
        "{p}"
    );
    assert!(p.contains("<p><a href=\"./?download=tar\">download as .tar</a></p>"));
    assert!(p.contains(
        "<thead><tr><th aria-sort=\"ascending\"><a href=\"./?sort=name&amp;order=desc\">\
         Name \u{25b2}</a></th><th class=\"size\"><a href=\"./?sort=size&amp;order=asc\">Size</a>\
         </th><th class=\"date\"><a href=\"./?sort=date&amp;order=asc\">Modified</a></th></tr></thead>"
    ), "{p}");
    assert!(
        p.contains(
            "<tr><td><a href=\"./a.txt\">a.txt</a></td><td class=\"size\" title=\"1234 bytes\">\
         1.2 KiB</td><td class=\"date\">2026-11-22 01:02:03</td></tr>"
        ),
        "{p}"
    );
    assert!(p.contains(
        "<tr><td><a href=\"./sub/\">sub/</a></td><td class=\"size\">-</td>\
         <td class=\"date\">2026-11-22 01:02:03</td></tr>"
    ));
    // No upload form unless the view asks for one (`--allow-write`).
    assert!(!p.contains("<form"));
    assert!(p.ends_with("</html>\n"));
}

#[test]
fn dotdot_entry_first_except_at_root() {
    let mut entries = vec![file(b"a", 1)];
    let p = page("/docs/", &mut entries);
    assert_eq!(hrefs(&p), ["../", "./a"]);
    assert!(p.contains("<a href=\"../\">../</a>"));
    let p = page("/docs/deeper/", &mut entries);
    assert_eq!(hrefs(&p)[0], "../");
    let p = page("/", &mut entries);
    assert_eq!(hrefs(&p), ["./a"]);
    assert!(!p.contains("../"));
    // An empty directory still links up.
    assert_eq!(hrefs(&page("/empty/", &mut [])), ["../"]);
    // The JSON form never has it.
    let j = String::from_utf8(json(&mut entries)).unwrap();
    assert!(!j.contains(".."));
}

#[test]
fn dot_entries_from_the_caller_are_skipped() {
    let mut entries = vec![dir(b"."), dir(b".."), file(b"x", 1)];
    assert_eq!(hrefs(&page("/d/", &mut entries)), ["../", "./x"]);
    let j = String::from_utf8(json(&mut entries)).unwrap();
    assert_eq!(j.matches("\"name\"").count(), 1, "{j}");
}

#[test]
fn names_are_html_escaped_in_text() {
    let mut entries = vec![file(b"<script>alert('x')&\"y\"</script>", 1)];
    let p = page("/", &mut entries);
    assert!(p.contains(">&lt;script&gt;alert(&#39;x&#39;)&amp;&quot;y&quot;&lt;/script&gt;</a>"));
    assert!(!p.contains("<script"));
    assert!(!p.contains("'x'"));
}

#[test]
fn dir_path_is_escaped_in_title_and_heading() {
    let p = page("/<b>&\"'/", &mut []);
    assert!(p.contains("<title>Index of /&lt;b&gt;&amp;&quot;&#39;/</title>"));
    assert!(
        p.contains("<h1>Index of <a href=\"../\">/</a>&lt;b&gt;&amp;&quot;&#39;/</h1>"),
        "{p}"
    );
    assert!(!p.contains("<b>"));
    // A non-UTF-8 directory path is shown with U+FFFD.
    let p = String::from_utf8(html(b"/a\xff/", &mut [])).unwrap();
    assert!(p.contains("<title>Index of /a\u{fffd}/</title>"));
}

#[test]
fn hrefs_of_tricky_names() {
    let cases: &[(&[u8], &str)] = &[
        (b"plain-name_1.0~x.txt", "./plain-name_1.0~x.txt"),
        (b"with space", "./with%20space"),
        (
            "caf\u{e9} \u{65e5}\u{672c}".as_bytes(),
            "./caf%C3%A9%20%E6%97%A5%E6%9C%AC",
        ),
        (b"#", "./%23"),
        (b"#b", "./%23b"),
        (b"%", "./%25"),
        (b"100%25", "./100%2525"),
        (b"?", "./%3F"),
        (b"?a", "./%3Fa"),
        (b"<", "./%3C"),
        (b"&", "./%26"),
        (b":", "./%3A"),
        (b"javascript:x", "./javascript%3Ax"),
        (b"javascript:alert(1)", "./javascript%3Aalert%281%29"),
        (b"//evil", "./%2F%2Fevil"),
        (b"\\evil", "./%5Cevil"),
        (b"a\"b'c>", "./a%22b%27c%3E"),
        (b"+;=,@!$*", "./%2B%3B%3D%2C%40%21%24%2A"),
        (b"\t\n\r\x00\x7f", "./%09%0A%0D%00%7F"),
        (b".hidden", "./.hidden"),
        (b"...", "./..."),
    ];
    for &(name, want) in cases {
        assert_eq!(
            href_of(file(name, 0)),
            want,
            "{:?}",
            String::from_utf8_lossy(name)
        );
        assert_eq!(href_of(dir(name)), format!("{want}/"));
    }
}

#[test]
fn hrefs_in_the_page_are_the_encoded_names() {
    let mut entries = vec![file(b"javascript:x", 1), dir(b"?a"), file(b"//evil", 2)];
    let p = page("/", &mut entries);
    assert_eq!(hrefs(&p), ["./%3Fa/", "./%2F%2Fevil", "./javascript%3Ax"]);
    assert!(p.contains("<a href=\"./javascript%3Ax\">javascript:x</a>"));
    assert!(p.contains("<a href=\"./%2F%2Fevil\">//evil</a>"));
    assert!(p.contains("<a href=\"./%3Fa/\">?a/</a>"));
}

#[test]
fn non_utf8_names() {
    let mut entries = vec![file(b"bad\xff\xfe.txt", 7), dir(b"\xc3(dir")];
    let p = page("/", &mut entries);
    assert!(
        p.contains("<a href=\"./%C3%28dir/\">\u{fffd}(dir/</a>"),
        "{p}"
    );
    assert!(
        p.contains("<a href=\"./bad%FF%FE.txt\">bad\u{fffd}\u{fffd}.txt</a>"),
        "{p}"
    );
    let j = String::from_utf8(json(&mut entries)).unwrap();
    assert!(
        j.contains("{\"name\": \"\u{fffd}(dir\", \"type\": \"dir\""),
        "{j}"
    );
    assert!(j.contains("{\"name\": \"bad\u{fffd}\u{fffd}.txt\", \"type\": \"file\", \"size\": 7"));
}

#[test]
fn json_shape() {
    let mut entries = vec![file(b"a.txt", 12), dir(b"sub")];
    let j = String::from_utf8(json(&mut entries)).unwrap();
    assert_eq!(
        j,
        "[\n\
         {\"name\": \"sub\", \"type\": \"dir\", \"size\": 4096, \"mtime\": \"2026-11-22T01:02:03Z\"},\n\
         {\"name\": \"a.txt\", \"type\": \"file\", \"size\": 12, \"mtime\": \"2026-11-22T01:02:03Z\"}\n\
         ]\n"
    );
    assert_eq!(json(&mut []), b"[]\n");
}

#[test]
fn json_string_escaping() {
    let mut entries = vec![file(b"q\"b\\s/n\nt\tc\x01\x1f\x7fe<&>'", 0)];
    let j = String::from_utf8(json(&mut entries)).unwrap();
    assert!(
        j.contains(r#""name": "q\"b\\s/n\u000at\u0009c\u0001\u001f\u007fe<&>'""#),
        "{j}"
    );
    let mut entries = vec![file("\u{2028}\u{2029}\u{e9}".as_bytes(), 0)];
    let j = String::from_utf8(json(&mut entries)).unwrap();
    assert!(j.contains(r#""name": "\u2028\u2029é""#), "{j}");
    // No raw control character survives anywhere in the document.
    let mut all: Vec<Entry> = (0u8..0x20).map(|b| file(&[b'x', b], 0)).collect();
    let j = json(&mut all);
    assert!(!j.iter().any(|&b| b < 0x20 && b != b'\n'));
}

#[test]
fn timestamps() {
    let at = |secs| {
        let mut e = vec![file(b"f", 0)];
        e[0].mtime_secs = secs;
        let j = String::from_utf8(json(&mut e)).unwrap();
        let i = j.find("\"mtime\": \"").unwrap() + 10;
        let rfc3339 = j[i..i + 20].to_string();
        let p = page("/", &mut e);
        // The Modified cell: `<td class="date">YYYY-MM-DD HH:MM:SS</td>`.
        let cell = "0 B</td><td class=\"date\">";
        let i = p.find(cell).unwrap() + cell.len();
        (rfc3339, p[i..i + 19].to_string())
    };
    assert_eq!(
        at(0),
        ("1970-01-01T00:00:00Z".into(), "1970-01-01 00:00:00".into())
    );
    assert_eq!(
        at(T),
        ("2026-11-22T01:02:03Z".into(), "2026-11-22 01:02:03".into())
    );
    // 2000-02-29 (a leap day in a century leap year) 23:59:59.
    assert_eq!(at(951_868_799).0, "2000-02-29T23:59:59Z");
    // 2038 and beyond: no 32-bit overflow.
    assert_eq!(at(2_147_483_648).0, "2038-01-19T03:14:08Z");
    // Far future clamps to a four-digit year.
    assert_eq!(at(u64::MAX).0, "9999-12-31T23:59:59Z");
}

#[test]
fn control_bytes_are_shown_not_sent() {
    let mut entries = vec![
        file(b"ctl\x1b[31mred", 1),
        file(b"t\tn\nd\x7fc1\xc2\x9b", 2),
    ];
    let p = page("/a\x1b]0;x\x07/", &mut entries);
    assert!(p.contains(">ctl\u{241b}[31mred</a>"), "{p}");
    assert!(
        p.contains(">t\u{2409}n\u{240a}d\u{2421}c1\u{fffd}</a>"),
        "{p}"
    );
    assert!(
        p.contains("<title>Index of /a\u{241b}]0;x\u{2407}/</title>"),
        "{p}"
    );
    // The links still name the file exactly.
    assert!(p.contains("href=\"./ctl%1B%5B31mred\""), "{p}");
    assert!(p.contains("href=\"./t%09n%0Ad%7Fc1%C2%9B\""), "{p}");
    assert!(
        !p.bytes().any(|b| (b < 0x20 && b != b'\n') || b == 0x7f),
        "{p:?}"
    );
}

/// Entries for the property tests: names of any bytes, files and directories.
fn any_entries() -> impl Strategy<Value = Vec<Entry>> {
    let entry = (
        proptest::collection::vec(any::<u8>(), 1..12),
        any::<bool>(),
        any::<u64>(),
        0u64..4_000_000_000,
    )
        .prop_map(|(name, is_dir, size, mtime_secs)| Entry {
            name,
            is_dir,
            size,
            mtime_secs,
        });
    proptest::collection::vec(entry, 0..12)
}

/// What a connection would send: `fill` called with the given sizes (cycled) until done.
fn drained(mut r: Render, sizes: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    for &max in sizes.iter().cycle() {
        let before = out.len();
        let more = r.fill(&mut out, max);
        assert!(out.len() - before <= max, "fill wrote more than {max}");
        if !more {
            return out;
        }
    }
    unreachable!("sizes is not empty")
}

#[test]
fn rendered_one_byte_at_a_time() {
    let mut entries = vec![file(b"a.txt", 12), dir(b"sub"), file(b"<b>", 3)];
    let want = html(b"/docs/", &mut entries);
    let snap = Arc::new(Snapshot::from_entries(entries.clone(), false));
    assert_eq!(
        drained(html_render(snap.clone(), b"/docs/".to_vec()), &[1]),
        want
    );
    let want = reference::json(&mut entries);
    assert_eq!(
        drained(Render::new(snap, Format::Json, View::default()), &[1]),
        want
    );
    // An empty directory, and the top.
    let empty = Arc::new(Snapshot::default());
    assert_eq!(
        drained(
            Render::new(empty.clone(), Format::Json, View::default()),
            &[1]
        ),
        b"[]\n"
    );
    assert_eq!(
        drained(html_render(empty, b"/".to_vec()), &[1]),
        html(b"/", &mut [])
    );
}

#[test]
fn a_truncated_listing_says_so() {
    let snap = Arc::new(Snapshot::from_entries(vec![file(b"a", 1)], true));
    let p = String::from_utf8(html_render(snap.clone(), b"/d/".to_vec()).into_page()).unwrap();
    assert!(p.ends_with(
        "</table>\n<p>This directory has more than 1 entries; only that many are listed.</p>\n\
         </body>\n</html>\n"
    ));
    // The JSON array just stops.
    let j = Render::new(snap, Format::Json, View::default()).into_page();
    assert_eq!(j, reference::json(&mut [file(b"a", 1)]));
}

proptest! {
    /// Whatever the sizes asked for, the pieces make up today's page exactly.
    #[test]
    fn pieces_make_up_the_whole_page(
        mut entries in any_entries(),
        sizes in proptest::collection::vec(1usize..300, 1..8),
        dir_path in proptest::collection::vec(any::<u8>(), 0..10),
    ) {
        let mut dir_path = dir_path;
        dir_path.insert(0, b'/');
        let snap = Arc::new(Snapshot::from_entries(entries.clone(), false));
        let drained_html = drained(html_render(snap.clone(), dir_path.clone()), &sizes);
        prop_assert_eq!(drained_html, html(&dir_path, &mut entries));
        let json = drained(Render::new(snap.clone(), Format::Json, View::default()), &sizes);
        prop_assert_eq!(json, reference::json(&mut entries));
        // In every order, with the form: the same page however it is drained.
        for (key, desc) in [(Key::Size, false), (Key::Date, true), (Key::Name, true)] {
            let view = View { dir_path: dir_path.clone(), order: Order { key, desc }, upload: Some(1 << 30) };
            let whole = Render::new(snap.clone(), Format::Html, view.clone()).into_page();
            prop_assert_eq!(drained(Render::new(snap.clone(), Format::Html, view), &sizes), whole);
        }
    }

    /// No name or directory path puts a control byte in the page (`\n` is the page's own).
    #[test]
    fn no_control_bytes_from_names(mut entries in any_entries(), dir_path in proptest::collection::vec(any::<u8>(), 0..10)) {
        let mut path = b"/".to_vec();
        path.extend_from_slice(&dir_path);
        let text = |b: &u8| (*b < 0x20 && *b != b'\n') || *b == 0x7f;
        prop_assert!(!html(&path, &mut entries).iter().any(text));
        prop_assert!(!json(&mut entries).iter().any(text));
    }

    /// Whatever the name, the href is `./` + one path segment of unreserved characters and
    /// `%XX` escapes (+ `/` for a directory) that decodes back to exactly the name's bytes.
    #[test]
    fn every_href_is_a_relative_segment_that_decodes_to_the_name(
        name in proptest::collection::vec(any::<u8>(), 1..24),
        is_dir in any::<bool>(),
    ) {
        let e = Entry { name: name.clone(), is_dir, size: 0, mtime_secs: 0 };
        let href = href_of(e);
        let seg = href.strip_prefix("./").unwrap();
        let seg = if is_dir { seg.strip_suffix('/').unwrap() } else { seg };
        prop_assert!(seg.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
        prop_assert!(seg.split('%').skip(1).all(|h| h.len() >= 2
            && h.bytes().take(2).all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))));
        prop_assert_eq!(percent_decode(seg), name);
    }

    /// The page is valid UTF-8 and no name can open a tag or an attribute.
    #[test]
    fn names_never_inject_markup(name in proptest::collection::vec(any::<u8>(), 1..24)) {
        // `.` and `..` are skipped by design (no file is named so): no row to check.
        prop_assume!(name != b"." && name != b"..");
        let body = |name: Vec<u8>| {
            let mut entries = vec![Entry { name, is_dir: false, size: 0, mtime_secs: 0 }];
            let p = String::from_utf8(html(b"/", &mut entries)).unwrap();
            p[p.find("<tbody>").unwrap()..].to_string()
        };
        let (row, plain) = (body(name), body(b"x".to_vec()));
        prop_assert_eq!(row.matches('<').count(), plain.matches('<').count());
        prop_assert_eq!(row.matches('"').count(), plain.matches('"').count());
        prop_assert!(!row.contains('\''));
    }

    /// No directory name in the path opens a tag or an attribute in the title or breadcrumb:
    /// the head of the page has the markup it has for plain names, and its links only climb.
    #[test]
    fn dir_names_never_inject_markup(
        segments in proptest::collection::vec(proptest::collection::vec(any::<u8>().prop_filter("no /", |b| *b != b'/'), 1..12), 0..4),
    ) {
        let head = |segments: &[Vec<u8>]| {
            let mut path = b"/".to_vec();
            for s in segments {
                path.extend_from_slice(s);
                path.push(b'/');
            }
            let p = String::from_utf8(html(&path, &mut [])).unwrap();
            p[..p.find("<tbody>").unwrap()].to_string()
        };
        let plain: Vec<Vec<u8>> = segments.iter().map(|_| b"x".to_vec()).collect();
        let (got, want) = (head(&segments), head(&plain));
        prop_assert_eq!(got.matches('<').count(), want.matches('<').count());
        prop_assert_eq!(got.matches('"').count(), want.matches('"').count());
        prop_assert!(!got.contains('\''));
        let h1 = &got[got.find("<h1>").unwrap()..got.find("</h1>").unwrap()];
        for href in h1.split("href=\"").skip(1) {
            let href = &href[..href.find('"').unwrap()];
            prop_assert!(!href.is_empty() && href.len() % 3 == 0 && href.replace("../", "").is_empty(), "{}", href);
        }
    }
}

/// The names of a snapshot of `entries`, in `order`.
fn names_in(entries: &[Entry], key: Key, desc: bool) -> Vec<String> {
    let snap = Snapshot::from_entries(entries.to_vec(), false);
    (0..)
        .map_while(|k| snap.nth(Order { key, desc }, k))
        .map(|e| String::from_utf8_lossy(&e.name).into_owned())
        .collect()
}

#[test]
fn sort_orders_keep_directories_first_and_break_ties_by_name() {
    let at = |mut e: Entry, mtime| {
        e.mtime_secs = mtime;
        e
    };
    let entries = vec![
        at(file(b"b", 10), 3),
        at(file(b"a", 10), 2),
        at(file(b"c", 5), 1),
        at(file(b"d", 99), 2),
        at(dir(b"zdir"), 1),
        at(dir(b"adir"), 5),
    ];
    let n = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    use Key::*;
    assert_eq!(
        names_in(&entries, Name, false),
        n(&["adir", "zdir", "a", "b", "c", "d"])
    );
    assert_eq!(
        names_in(&entries, Name, true),
        n(&["zdir", "adir", "d", "c", "b", "a"])
    );
    // By size: directories by name; a and b tie at 10 bytes, by name.
    assert_eq!(
        names_in(&entries, Size, false),
        n(&["adir", "zdir", "c", "a", "b", "d"])
    );
    assert_eq!(
        names_in(&entries, Size, true),
        n(&["zdir", "adir", "d", "b", "a", "c"])
    );
    // By date: directories by date too; a and d tie at 2, by name.
    assert_eq!(
        names_in(&entries, Date, false),
        n(&["zdir", "adir", "c", "a", "d", "b"])
    );
    assert_eq!(
        names_in(&entries, Date, true),
        n(&["adir", "zdir", "b", "d", "a", "c"])
    );
    // Nothing to show, in any order.
    assert!(names_in(&[], Size, true).is_empty());
    assert!(Snapshot::default()
        .nth(
            Order {
                key: Date,
                desc: true
            },
            0
        )
        .is_none());
}

#[test]
fn the_json_array_follows_the_order_too() {
    let snap = Arc::new(Snapshot::from_entries(
        vec![file(b"big", 9), file(b"small", 1)],
        false,
    ));
    let view = View {
        order: Order {
            key: Key::Size,
            desc: false,
        },
        ..View::default()
    };
    let j = String::from_utf8(Render::new(snap, Format::Json, view).into_page()).unwrap();
    assert!(j.find("small").unwrap() < j.find("big").unwrap(), "{j}");
}

#[test]
fn sort_parameters_from_the_query() {
    let q = |s: &str| Order::from_query(Some(s.as_bytes()));
    let o = |key, desc| Ok(Order { key, desc });
    assert_eq!(Order::from_query(None), o(Key::Name, false));
    assert_eq!(q(""), o(Key::Name, false));
    assert_eq!(q("sort=size"), o(Key::Size, false));
    assert_eq!(q("sort=date&order=desc"), o(Key::Date, true));
    assert_eq!(q("order=desc"), o(Key::Name, true));
    assert_eq!(q("sort=%73ize&order=asc&x=1"), o(Key::Size, false));
    assert_eq!(q("download=tar&sort=name"), o(Key::Name, false));
    assert_eq!(
        q("sort=size&sort=bogus"),
        o(Key::Size, false),
        "the first counts"
    );
    for bad in [
        "sort=",
        "sort=SIZE",
        "sort=sizes",
        "sort=%zz",
        "sort=size%00",
        "sort",
    ] {
        assert_eq!(q(bad), Err(order::BAD_SORT), "{bad}");
    }
    for bad in [
        "order=",
        "order=up",
        "order=descending",
        "sort=date&order=%",
    ] {
        assert_eq!(q(bad), Err(order::BAD_ORDER), "{bad}");
    }
}

#[test]
fn the_current_column_is_marked_and_its_link_reverses_it() {
    let view = |key, desc| View {
        dir_path: b"/".to_vec(),
        order: Order { key, desc },
        upload: None,
    };
    let p = |v| {
        String::from_utf8(Render::new(Arc::new(Snapshot::default()), Format::Html, v).into_page())
            .unwrap()
    };
    let size_asc = p(view(Key::Size, false));
    assert!(size_asc.contains("<th class=\"size\" aria-sort=\"ascending\"><a href=\"./?sort=size&amp;order=desc\">Size \u{25b2}</a></th>"), "{size_asc}");
    assert!(size_asc.contains("<th><a href=\"./?sort=name&amp;order=asc\">Name</a></th>"));
    assert_eq!(size_asc.matches("aria-sort").count(), 1);
    let date_desc = p(view(Key::Date, true));
    assert!(date_desc.contains("<th class=\"date\" aria-sort=\"descending\"><a href=\"./?sort=date&amp;order=asc\">Modified \u{25bc}</a></th>"), "{date_desc}");
}

#[test]
fn breadcrumb_links_each_ancestor() {
    let p = page("/a/b c/d&e/", &mut []);
    assert!(
        p.contains(
            "<h1>Index of <a href=\"../../../\">/</a><a href=\"../../\">a</a>/\
             <a href=\"../\">b c</a>/d&amp;e/</h1>"
        ),
        "{p}"
    );
    assert!(page("/", &mut []).contains("<h1>Index of /</h1>"));
    assert!(page("/x/", &mut []).contains("<h1>Index of <a href=\"../\">/</a>x/</h1>"));
}

#[test]
fn the_upload_form_has_its_fields_in_order() {
    let view = View {
        dir_path: b"/up/".to_vec(),
        order: Order::default(),
        upload: Some(4 << 30),
    };
    let p = String::from_utf8(
        Render::new(Arc::new(Snapshot::default()), Format::Html, view).into_page(),
    )
    .unwrap();
    let form = &p[p.find("<form").unwrap()..p.find("</form>").unwrap()];
    assert!(form.starts_with(
        "<form class=\"upload\" method=\"post\" enctype=\"multipart/form-data\" action=\"./\">"
    ));
    let at = |needle: &str| {
        form.find(needle)
            .unwrap_or_else(|| panic!("{needle} not in {form}"))
    };
    let order = [
        at("<input type=\"checkbox\" name=\"overwrite\" value=\"1\"> replace existing files"),
        at("new folder <input type=\"text\" name=\"mkdir\">"),
        at("<input type=\"file\" name=\"file\" multiple>"),
        at("folder <input type=\"file\" name=\"file\" webkitdirectory>"),
        at("<button type=\"submit\">"),
        at("up to 4 GiB per upload"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{form}");
    // The form comes before the table: a long listing does not push it out of reach.
    assert!(p.find("</form>").unwrap() < p.find("<table>").unwrap());
}

#[test]
fn human_sizes() {
    let h = |n: u64| {
        let mut out = Vec::new();
        push_human_size(&mut out, n);
        String::from_utf8(out).unwrap()
    };
    assert_eq!(h(0), "0 B");
    assert_eq!(h(1023), "1023 B");
    assert_eq!(h(1024), "1 KiB");
    assert_eq!(h(1025), "1.0 KiB");
    assert_eq!(h(1234), "1.2 KiB");
    assert_eq!(h(1536), "1.5 KiB");
    assert_eq!(h(10 * 1024 + 1023), "11.0 KiB");
    assert_eq!(h((1 << 20) - 1), "1.0 MiB", "rounds up into the next unit");
    assert_eq!(h(4 << 30), "4 GiB");
    assert_eq!(h(5 << 40), "5 TiB");
    assert_eq!(h(1 << 60), "1 EiB");
    assert_eq!(h(u64::MAX), "16.0 EiB");
}

proptest! {
    /// Any size: a number of at most 4 digits and one decimal, a unit, and the value it shows
    /// within half a tenth of the unit of the exact size.
    #[test]
    fn human_sizes_are_close_and_short(n in any::<u64>()) {
        let mut out = Vec::new();
        push_human_size(&mut out, n);
        let s = String::from_utf8(out).unwrap();
        let (num, unit) = s.split_once(' ').unwrap();
        let shift = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"].iter().position(|u| *u == unit).unwrap();
        prop_assert!(num.len() <= 6, "{}", s);
        let shown: f64 = num.parse().unwrap();
        let exact = n as f64 / (1u128 << (10 * shift)) as f64;
        prop_assert!((shown - exact).abs() <= 0.0501, "{} for {}", s, n);
        prop_assert!(shown < 1024.0 || shift == 6, "{}", s);
        prop_assert_eq!(!num.contains('.'), n % (1u64 << (10 * shift)) == 0, "{}", s);
    }
}

proptest! {
    /// Any bytes as a query: an answer, never a panic.
    #[test]
    fn any_query_is_answered(q in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = Order::from_query(Some(&q));
    }

    /// Queries made of sort, order and other parameters, in any mix: the first `sort` and the
    /// first `order` decide, each allowed value is taken, anything else is its 400's reason.
    #[test]
    fn the_first_sort_and_order_decide(
        pairs in proptest::collection::vec((0usize..4, 0usize..8), 0..6),
    ) {
        const NAMES: [&str; 4] = ["sort", "order", "download", "x"];
        const VALUES: [&str; 8] = ["name", "size", "date", "asc", "desc", "%73ize", "", "bogus"];
        let q: Vec<String> = pairs.iter().map(|&(n, v)| format!("{}={}", NAMES[n], VALUES[v])).collect();
        let q = q.join("&");
        let first = |name: &str| pairs.iter().find(|&&(n, _)| NAMES[n] == name).map(|&(_, v)| VALUES[v]);
        let key = match first("sort") {
            None | Some("name") => Ok(Key::Name),
            Some("size" | "%73ize") => Ok(Key::Size),
            Some("date") => Ok(Key::Date),
            Some(_) => Err(order::BAD_SORT),
        };
        let desc = match first("order") {
            None | Some("asc") => Ok(false),
            Some("desc") => Ok(true),
            Some(_) => Err(order::BAD_ORDER),
        };
        let want = key.and_then(|key| desc.map(|desc| Order { key, desc }));
        prop_assert_eq!(Order::from_query(Some(q.as_bytes())), want, "{}", q);
    }
}
