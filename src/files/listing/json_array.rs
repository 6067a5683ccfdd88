//! The JSON listing, in the pieces [`Render`](super::Render) gives out: `[`, one object per
//! entry, `]`. Names are JSON strings that are also safe inside a `<script>`.

use super::{push_datetime, Entry};
use crate::files::dircache::Snapshot;

/// The array's opening bracket: everything before the first entry.
pub(super) fn top(out: &mut Vec<u8>) {
    out.push(b'[');
}

/// One JSON object, after a comma unless it is the first.
pub(super) fn row(out: &mut Vec<u8>, e: &Entry, first: bool) {
    if !first {
        out.push(b',');
    }
    out.extend_from_slice(b"\n{\"name\": ");
    push_json_string(out, &String::from_utf8_lossy(&e.name));
    out.extend_from_slice(if e.is_dir {
        b", \"type\": \"dir\", \"size\": "
    } else {
        b", \"type\": \"file\", \"size\": "
    });
    out.extend_from_slice(itoa::Buffer::new().format(e.size).as_bytes());
    out.extend_from_slice(b", \"mtime\": \"");
    push_datetime(out, e.mtime_secs, b'T', b"Z");
    out.extend_from_slice(b"\"}");
}

/// The closing bracket, on a line of its own after any entry.
pub(super) fn end(out: &mut Vec<u8>, snap: &Snapshot) {
    out.extend_from_slice(if snap.entries().is_empty() {
        b"]\n"
    } else {
        b"\n]\n"
    });
}

/// A JSON string literal: `"` and `\` escaped, control characters as `\u00XX`, and U+2028/U+2029
/// escaped too so that the output is also safe to embed in JavaScript.
pub(super) fn push_json_string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{0}'..='\u{1f}' | '\u{7f}' => {
                let b = c as u8;
                out.extend_from_slice(b"\\u00");
                out.extend_from_slice(&[HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
            }
            '\u{2028}' => out.extend_from_slice(b"\\u2028"),
            '\u{2029}' => out.extend_from_slice(b"\\u2029"),
            _ => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    out.push(b'"');
}
