//! The HTML listing page, in the pieces [`Render`](super::Render) gives out: the top (title,
//! heading, table head, the `../` row), one table row per entry, the end. Names are escaped as
//! text and percent-encoded as links, so no file name can inject markup or point elsewhere.

use super::{push_datetime, Entry};
use crate::files::dircache::Snapshot;

/// The HTML page up to its first entry, with the `../` row unless at the top.
pub(super) fn top(out: &mut Vec<u8>, dir_path: &[u8]) {
    let title = String::from_utf8_lossy(dir_path);
    out.extend_from_slice(b"<!doctype html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n");
    out.extend_from_slice(
        b"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Index of ",
    );
    push_html_escaped(out, &title);
    out.extend_from_slice(b"</title>\n");
    out.extend_from_slice(STYLE);
    out.extend_from_slice(b"</head>\n<body>\n<h1>Index of ");
    push_html_escaped(out, &title);
    out.extend_from_slice(b"</h1>\n<table>\n");
    out.extend_from_slice(
        b"<thead><tr><th>Name</th><th class=\"size\">Size</th><th>Modified</th></tr></thead>\n",
    );
    out.extend_from_slice(b"<tbody>\n");
    if !is_root(dir_path) {
        out.extend_from_slice(
            b"<tr><td><a href=\"../\">../</a></td><td class=\"size\">-</td><td></td></tr>\n",
        );
    }
}

/// One table row: link, size, modification time.
pub(super) fn row(out: &mut Vec<u8>, e: &Entry) {
    out.extend_from_slice(b"<tr><td><a href=\"");
    push_href(out, e);
    out.extend_from_slice(b"\">");
    push_html_escaped(out, &String::from_utf8_lossy(&e.name));
    if e.is_dir {
        out.push(b'/');
    }
    out.extend_from_slice(b"</a></td><td class=\"size\">");
    if e.is_dir {
        out.push(b'-');
    } else {
        out.extend_from_slice(itoa::Buffer::new().format(e.size).as_bytes());
    }
    out.extend_from_slice(b"</td><td>");
    push_datetime(out, e.mtime_secs, b' ', b"");
    out.extend_from_slice(b"</td></tr>\n");
}

/// The end of the HTML page, with a note if entries were left out.
pub(super) fn end(out: &mut Vec<u8>, snap: &Snapshot) {
    out.extend_from_slice(b"</tbody>\n</table>\n");
    if snap.truncated() {
        let shown = snap.entries().len();
        out.extend_from_slice(b"<p>This directory has more than ");
        out.extend_from_slice(itoa::Buffer::new().format(shown).as_bytes());
        out.extend_from_slice(b" entries; only that many are listed.</p>\n");
    }
    out.extend_from_slice(b"</body>\n</html>\n");
}

/// The page's one style sheet: long names wrap, sizes line up on the right.
pub(super) const STYLE: &[u8] = b"<style>\n\
body{font-family:system-ui,sans-serif;margin:2em}\n\
table{border-collapse:collapse}\n\
th,td{padding:.2em 1em .2em 0;text-align:left;white-space:nowrap}\n\
td:first-child{white-space:pre-wrap;word-break:break-all}\n\
.size{text-align:right;font-variant-numeric:tabular-nums}\n\
</style>\n";

/// The top of ROOT has no `../` row.
pub(super) fn is_root(dir_path: &[u8]) -> bool {
    dir_path.is_empty() || dir_path == b"/"
}

/// `./` + every byte of the name outside RFC 3986's unreserved set as `%XX` (+ `/` for a
/// directory): a relative path of one segment whatever the name, never a scheme, authority,
/// query or fragment.
pub(super) fn push_href(out: &mut Vec<u8>, e: &Entry) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.extend_from_slice(b"./");
    for &b in &e.name {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
    if e.is_dir {
        out.push(b'/');
    }
}

/// Text for the page: markup characters as entities, and control characters made visible — a
/// C0 control or DEL as its Unicode "control picture" (ESC is `␛`), a C1 control as U+FFFD —
/// so that no name can send a raw terminal escape to someone reading the page with curl.
pub(super) fn push_html_escaped(out: &mut Vec<u8>, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.extend_from_slice(b"&amp;"),
            '<' => out.extend_from_slice(b"&lt;"),
            '>' => out.extend_from_slice(b"&gt;"),
            '"' => out.extend_from_slice(b"&quot;"),
            '\'' => out.extend_from_slice(b"&#39;"),
            '\u{0}'..='\u{1f}' => push_char(out, char::from_u32(0x2400 + c as u32)),
            '\u{7f}' => push_char(out, Some('\u{2421}')),
            '\u{80}'..='\u{9f}' => push_char(out, Some('\u{fffd}')),
            _ => push_char(out, Some(c)),
        }
    }
}

fn push_char(out: &mut Vec<u8>, c: Option<char>) {
    let c = c.unwrap_or('\u{fffd}');
    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
}
