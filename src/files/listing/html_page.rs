//! The HTML listing page, in the pieces [`Render`](super::Render) gives out: the top (title,
//! breadcrumb, the tar link, the upload form, the table head with its sort links, the `../`
//! row), one table row per entry, the end. Names are escaped as text and percent-encoded as
//! links, so no file name can inject markup or point elsewhere; every link is relative.

use super::order::{Key, Order};
use super::{push_datetime, Entry, View};
use crate::files::dircache::Snapshot;

/// The HTML page up to its first entry, with the `../` row unless at the top.
pub(super) fn top(out: &mut Vec<u8>, view: &View) {
    let title = String::from_utf8_lossy(&view.dir_path);
    out.extend_from_slice(b"<!doctype html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n");
    out.extend_from_slice(
        b"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Index of ",
    );
    push_html_escaped(out, &title);
    out.extend_from_slice(b"</title>\n");
    out.extend_from_slice(STYLE);
    out.extend_from_slice(b"</head>\n<body>\n<h1>Index of ");
    push_breadcrumb(out, &view.dir_path);
    out.extend_from_slice(b"</h1>\n");
    out.extend_from_slice(b"<p><a href=\"./?download=tar\">download as .tar</a></p>\n");
    if let Some(limit) = view.upload {
        push_upload_form(out, limit);
    }
    out.extend_from_slice(b"<table>\n<thead><tr>");
    push_sort_header(out, view.order, Key::Name, b"Name", b"");
    push_sort_header(out, view.order, Key::Size, b"Size", b" class=\"size\"");
    push_sort_header(out, view.order, Key::Date, b"Modified", b" class=\"date\"");
    out.extend_from_slice(b"</tr></thead>\n<tbody>\n");
    if !is_root(&view.dir_path) {
        out.extend_from_slice(
            b"<tr><td><a href=\"../\">../</a></td><td class=\"size\">-</td><td class=\"date\"></td></tr>\n",
        );
    }
}

/// The path as links to each directory above (`../../`, `../`, …) and the last as text: the
/// text is the same as the title's, and the links are only dot-segments, so no name can make
/// one point anywhere else.
fn push_breadcrumb(out: &mut Vec<u8>, dir_path: &[u8]) {
    let segments: Vec<&[u8]> = dir_path
        .split(|&b| b == b'/')
        .filter(|s| !s.is_empty())
        .collect();
    let up = |out: &mut Vec<u8>, levels: usize| {
        out.extend_from_slice(b"<a href=\"");
        for _ in 0..levels {
            out.extend_from_slice(b"../");
        }
        out.extend_from_slice(b"\">");
    };
    if segments.is_empty() {
        out.push(b'/');
        return;
    }
    up(out, segments.len());
    out.extend_from_slice(b"/</a>");
    for (i, seg) in segments.iter().enumerate() {
        let levels = segments.len() - 1 - i;
        if levels > 0 {
            up(out, levels);
        }
        push_html_escaped(out, &String::from_utf8_lossy(seg));
        if levels > 0 {
            out.extend_from_slice(b"</a>");
        }
        out.push(b'/');
    }
}

/// A column's head: a link that sorts by it (ascending, or descending if it is the order
/// now), and the column now sorted marked for eyes (an arrow) and for screen readers.
fn push_sort_header(out: &mut Vec<u8>, now: Order, key: Key, label: &[u8], class: &[u8]) {
    let current = now.key == key;
    out.extend_from_slice(b"<th");
    out.extend_from_slice(class);
    if current {
        out.extend_from_slice(if now.desc {
            b" aria-sort=\"descending\""
        } else {
            b" aria-sort=\"ascending\""
        });
    }
    out.extend_from_slice(b"><a href=\"./?sort=");
    out.extend_from_slice(key.as_str().as_bytes());
    let desc_next = current && !now.desc;
    out.extend_from_slice(if desc_next {
        b"&amp;order=desc"
    } else {
        b"&amp;order=asc"
    });
    out.extend_from_slice(b"\">");
    out.extend_from_slice(label);
    if current {
        out.extend_from_slice(if now.desc { " \u{25bc}" } else { " \u{25b2}" }.as_bytes());
    }
    out.extend_from_slice(b"</a></th>");
}

/// The form a browser uploads with (`--allow-write`). The field names and their order are a
/// contract with the POST handler: `overwrite`, `mkdir`, `file` (files), `file` (a folder).
fn push_upload_form(out: &mut Vec<u8>, limit: u64) {
    out.extend_from_slice(
        b"<form class=\"upload\" method=\"post\" enctype=\"multipart/form-data\" action=\"./\">\n\
<label><input type=\"checkbox\" name=\"overwrite\" value=\"1\"> replace existing files</label>\n\
<label>new folder <input type=\"text\" name=\"mkdir\"></label>\n\
<label>files <input type=\"file\" name=\"file\" multiple></label>\n\
<label>a whole folder <input type=\"file\" name=\"file\" webkitdirectory></label>\n\
<button type=\"submit\">Upload</button>\n<small>up to ",
    );
    push_human_size(out, limit);
    out.extend_from_slice(b" per upload</small>\n</form>\n");
}

/// One table row: link, size (human units, the exact bytes in its title), modification time.
pub(super) fn row(out: &mut Vec<u8>, e: &Entry) {
    out.extend_from_slice(b"<tr><td><a href=\"");
    push_href(out, e);
    out.extend_from_slice(b"\">");
    push_html_escaped(out, &String::from_utf8_lossy(&e.name));
    if e.is_dir {
        out.push(b'/');
    }
    if e.is_dir {
        out.extend_from_slice(b"</a></td><td class=\"size\">-");
    } else {
        out.extend_from_slice(b"</a></td><td class=\"size\" title=\"");
        out.extend_from_slice(itoa::Buffer::new().format(e.size).as_bytes());
        out.extend_from_slice(b" bytes\">");
        push_human_size(out, e.size);
    }
    out.extend_from_slice(b"</td><td class=\"date\">");
    push_datetime(out, e.mtime_secs, b' ', b"");
    out.extend_from_slice(b"</td></tr>\n");
}

/// `n` bytes in binary units: `512 B`, `1 KiB` (exactly), `1.2 KiB` (one decimal, rounded
/// half up, whenever the unit does not divide `n`), up to EiB. Integers only, so every `u64`
/// has one exact answer.
pub(super) fn push_human_size(out: &mut Vec<u8>, n: u64) {
    const UNITS: [&[u8]; 7] = [b" B", b" KiB", b" MiB", b" GiB", b" TiB", b" PiB", b" EiB"];
    // The largest unit not above `n`, then the next if the rounding makes 1024.0 of this one.
    let mut unit = (0..UNITS.len())
        .rev()
        .find(|&u| n >> (10 * u) > 0)
        .unwrap_or(0);
    let tenths = |unit: usize| (u128::from(n) * 10 + (1u128 << (10 * unit)) / 2) >> (10 * unit);
    if unit > 0 && unit + 1 < UNITS.len() && tenths(unit) >= 10_240 {
        unit += 1;
    }
    let mut buf = itoa::Buffer::new();
    if n.is_multiple_of(1u64 << (10 * unit)) {
        out.extend_from_slice(buf.format(n >> (10 * unit)).as_bytes());
    } else {
        let t = tenths(unit);
        out.extend_from_slice(buf.format(t / 10).as_bytes());
        out.push(b'.');
        out.push(b'0' + (t % 10) as u8);
    }
    out.extend_from_slice(UNITS[unit]);
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

/// The page's one style sheet: long names wrap, sizes line up on the right; on a narrow
/// screen the table fills the width, names and dates wrap, so nothing overflows.
const STYLE: &[u8] = b"<style>\n\
body{font-family:system-ui,sans-serif;margin:2em}\n\
h1{font-size:1.4em;overflow-wrap:anywhere}\n\
h1 a{padding:0 .1em}\n\
table{border-collapse:collapse}\n\
th,td{padding:.2em 1em .2em 0;text-align:left;white-space:nowrap}\n\
td:first-child{white-space:pre-wrap;overflow-wrap:anywhere}\n\
th a{color:inherit}\n\
.size{text-align:right;font-variant-numeric:tabular-nums}\n\
form.upload{display:flex;flex-wrap:wrap;gap:.5em 1em;align-items:center;margin:1em 0}\n\
form.upload input{max-width:100%}\n\
@media (max-width:600px){body{margin:.5em}table{width:100%}\
th,td{padding:.3em .4em .3em 0}td.date{white-space:normal;font-size:.85em}}\n\
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
