//! Directory listings (SPEC §4): an HTML page with escaped names and percent-encoded relative
//! links that resolve for any file name, and the same listing as a JSON array for machines.
//! Here: the entries and their order, and [`Render`], which streams either page one entry at a
//! time; `html_page.rs` and `json_array.rs` write the pieces.

mod html_page;
mod json_array;
pub mod order;
#[cfg(test)]
mod tests;

use std::sync::Arc;

pub use order::Order;

use super::dircache::Snapshot;
use crate::http::date::civil_from_days;
use crate::http::response::Stream;

/// One directory entry, as read from the file system by the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The raw file-name bytes (no `/`); may be non-UTF-8.
    pub name: Vec<u8>,
    pub is_dir: bool,
    /// Bytes, for files; shown as `-` for directories in HTML.
    pub size: u64,
    /// Last modification, in seconds since the Unix epoch.
    pub mtime_secs: u64,
}

/// Sorts `entries` (directories first, then by name, bytewise) and renders the HTML page for the
/// directory whose (decoded) request path is `dir_path` (e.g. "/docs/"). A ".." entry linking to
/// "../" comes first unless dir_path is "/".
///
/// Entries named `.` or `..` are skipped (no link to them could point at anything else).
///
/// The whole page at once, for tests and small callers: what [`Render`] gives piece by piece.
pub fn html(dir_path: &[u8], entries: &mut [Entry]) -> Vec<u8> {
    sort(entries);
    let snap = Arc::new(Snapshot::from_entries(entries.to_vec(), false));
    let view = View {
        dir_path: dir_path.to_vec(),
        ..View::default()
    };
    Render::new(snap, Format::Html, view).into_page()
}

/// The same listing as a JSON array: [{"name": "...", "type": "dir"|"file", "size": N, "mtime":
/// "2026-11-22T01:02:03Z"}, ...] (same order; no ".." entry).
///
/// Non-UTF-8 names are given with U+FFFD in place of invalid bytes. The whole page at once,
/// as [`html`] is.
pub fn json(entries: &mut [Entry]) -> Vec<u8> {
    sort(entries);
    let snap = Arc::new(Snapshot::from_entries(entries.to_vec(), false));
    Render::new(snap, Format::Json, View::default()).into_page()
}

/// Which page a [`Render`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Html,
    Json,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Html => "text/html; charset=utf-8",
            Format::Json => "application/json",
        }
    }
}

/// What a page shows besides its entries: where it is, their order, and the upload form.
#[derive(Clone, Debug, Default)]
pub struct View {
    /// The decoded request path in its normal form (`/docs/`), for the title and breadcrumb.
    pub dir_path: Vec<u8>,
    /// The order of the entries (HTML and JSON alike), from the query.
    pub order: Order,
    /// `--max-upload` when `--allow-write` is on: the HTML page has the upload form.
    pub upload: Option<u64>,
}

/// A listing page rendered as the client drains it: one entry at a time from a shared
/// snapshot, so a connection holds an `Arc`, an index and one rendered row — never the page.
pub struct Render {
    snap: Arc<Snapshot>,
    format: Format,
    view: View,
    next: Part,
    /// The part being given out, and how much of it has been.
    pending: Vec<u8>,
    sent: usize,
}

/// What a [`Render`] writes next.
#[derive(Clone, Copy)]
enum Part {
    /// Everything before the first entry.
    Top,
    /// Entry `i`; past the last one, the end of the page.
    Entry(usize),
    Done,
}

impl Render {
    pub fn new(snap: Arc<Snapshot>, format: Format, view: View) -> Render {
        Render {
            snap,
            format,
            view,
            next: Part::Top,
            pending: Vec::new(),
            sent: 0,
        }
    }

    /// The whole page (for tests and small callers).
    pub fn into_page(mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while self.fill(&mut out, usize::MAX) {}
        out
    }

    /// Renders the next part into `pending`; false once the page is complete.
    fn produce(&mut self) -> bool {
        self.pending.clear();
        self.sent = 0;
        let out = &mut self.pending;
        self.next = match (self.next, self.format) {
            (Part::Done, _) => return false,
            (Part::Top, Format::Html) => {
                html_page::top(out, &self.view);
                Part::Entry(0)
            }
            (Part::Top, Format::Json) => {
                json_array::top(out);
                Part::Entry(0)
            }
            // Entry `i` of the page is the snapshot's `i`-th in the order asked for.
            (Part::Entry(i), format) => match self.snap.nth(self.view.order, i) {
                Some(e) => {
                    match format {
                        Format::Html => html_page::row(out, e),
                        Format::Json => json_array::row(out, e, i == 0),
                    }
                    Part::Entry(i + 1)
                }
                None => {
                    match format {
                        Format::Html => html_page::end(out, &self.snap),
                        Format::Json => json_array::end(out, &self.snap),
                    }
                    Part::Done
                }
            },
        };
        true
    }
}

impl Drop for Render {
    /// The last holder of a big snapshot frees it off the reactor thread.
    fn drop(&mut self) {
        let snap = std::mem::take(&mut self.snap);
        super::dircache::retire(snap);
    }
}

impl Stream for Render {
    /// Unknown: chunked on HTTP/1.1, close-delimited on 1.0 (and nothing to count for HEAD).
    fn length(&self) -> Option<u64> {
        None
    }

    fn fill(&mut self, out: &mut Vec<u8>, max: usize) -> bool {
        let mut room = max;
        while room > 0 {
            if self.sent == self.pending.len() && !self.produce() {
                return false;
            }
            let n = room.min(self.pending.len() - self.sent);
            out.extend_from_slice(&self.pending[self.sent..self.sent + n]);
            self.sent += n;
            room -= n;
        }
        self.sent < self.pending.len() || !matches!(self.next, Part::Done)
    }
}

/// Directories first, then bytewise by name.
pub(crate) fn sort(entries: &mut [Entry]) {
    entries.sort_unstable_by(|a, b| b.is_dir.cmp(&a.is_dir).then_with(|| a.name.cmp(&b.name)));
}

/// `.` and `..` never name a listable entry: `./.` and `./..` would be dot-segments.
pub(crate) fn listable(e: &Entry) -> bool {
    e.name != b"." && e.name != b".."
}

/// `YYYY-MM-DD<sep>HH:MM:SS<suffix>` in UTC. Times past the end of year 9999 are shown as its
/// last second, so that the year always has four digits (RFC 3339).
fn push_datetime(out: &mut Vec<u8>, secs: u64, sep: u8, suffix: &[u8]) {
    const MAX_SECS: u64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    let secs = secs.min(MAX_SECS);
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    let two = |n: u64| [b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8];
    let year = year as u64;
    out.extend_from_slice(&two(year / 100));
    out.extend_from_slice(&two(year % 100));
    out.push(b'-');
    out.extend_from_slice(&two(month));
    out.push(b'-');
    out.extend_from_slice(&two(day));
    out.push(sep);
    out.extend_from_slice(&two(rem / 3600));
    out.push(b':');
    out.extend_from_slice(&two(rem / 60 % 60));
    out.push(b':');
    out.extend_from_slice(&two(rem % 60));
    out.extend_from_slice(suffix);
}
