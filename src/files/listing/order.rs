//! The order a listing is shown in: `?sort=name|size|date&order=asc|desc` read from the query,
//! and the orders themselves, worked out once per snapshot (on the helper thread that read the
//! directory) so that a listing sorted by size costs the reactor what one by name does.
//!
//! Directories always come first, in every order. Within each group the key decides, ties
//! by name; `desc` is the exact reverse of `asc` within each group (so ties are by name
//! descending there). Directories have no size worth showing: sorted by size, they keep their
//! name order.

use super::Entry;
use crate::builtins::query;

/// What a listing is sorted by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Key {
    #[default]
    Name,
    Size,
    Date,
}

impl Key {
    /// The query value that asks for this key.
    pub fn as_str(self) -> &'static str {
        match self {
            Key::Name => "name",
            Key::Size => "size",
            Key::Date => "date",
        }
    }
}

/// A key and a direction; the default is by name, ascending (the order without a query).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Order {
    pub key: Key,
    pub desc: bool,
}

pub const BAD_SORT: &str = "sort must be name, size or date\n";
pub const BAD_ORDER: &str = "order must be asc or desc\n";

impl Order {
    /// The order a listing's query asks for. Other parameters are ignored (SPEC §4); a `sort`
    /// or `order` with any other value is refused, with the reason, rather than guessed at.
    /// The first of a repeated parameter counts.
    pub fn from_query(q: Option<&[u8]>) -> Result<Order, &'static str> {
        let (mut a, mut b) = ([0u8; 8], [0u8; 8]);
        let key = match value(q, "sort", &mut a) {
            None => Key::Name,
            Some(b"name") => Key::Name,
            Some(b"size") => Key::Size,
            Some(b"date") => Key::Date,
            Some(_) => return Err(BAD_SORT),
        };
        let desc = match value(q, "order", &mut b) {
            None | Some(b"asc") => false,
            Some(b"desc") => true,
            Some(_) => return Err(BAD_ORDER),
        };
        Ok(Order { key, desc })
    }
}

/// The decoded value of parameter `name`, if the query has one; a value that does not decode
/// into `buf` (bad escape, too long for any allowed value) is `Some(b"")`, which nothing allows.
fn value<'b>(q: Option<&[u8]>, name: &str, buf: &'b mut [u8; 8]) -> Option<&'b [u8]> {
    let raw = query::raw_value(q, name)?;
    Some(query::decode(raw, buf).unwrap_or_default())
}

/// The size and date orders of a snapshot's entries (which are in name order): positions
/// into the entries, 4 bytes an entry each.
#[derive(Debug, Default)]
pub struct Orders {
    by_size: Box<[u32]>,
    by_date: Box<[u32]>,
    /// How many entries are directories (they come first).
    dirs: usize,
}

impl Orders {
    /// Works the orders out for `entries`, sorted directories first, then by name, as a
    /// snapshot keeps them. Blocking work for big directories: done where the snapshot is read.
    pub fn of(entries: &[Entry]) -> Orders {
        let dirs = entries.iter().take_while(|e| e.is_dir).count();
        let positions = || (0..entries.len() as u32).collect::<Vec<u32>>();
        let key = |i: &u32| &entries[*i as usize];
        let mut by_size = positions();
        // Files by size; directories (all before the files) keep their name order.
        by_size[dirs..].sort_by_key(|i| (key(i).size, *i));
        let mut by_date = positions();
        by_date[..dirs].sort_by_key(|i| (key(i).mtime_secs, *i));
        by_date[dirs..].sort_by_key(|i| (key(i).mtime_secs, *i));
        Orders {
            by_size: by_size.into(),
            by_date: by_date.into(),
            dirs,
        }
    }

    /// Bytes held, for the snapshot cache's bound.
    pub fn bytes(&self) -> usize {
        (self.by_size.len() + self.by_date.len()) * std::mem::size_of::<u32>()
    }

    /// Which entry (a position into the `len` entries) is shown `k`-th in `order`.
    pub fn nth(&self, order: Order, k: usize, len: usize) -> Option<usize> {
        if k >= len {
            return None;
        }
        let dirs = self.dirs.min(len);
        let pos = match (order.desc, k < dirs) {
            (false, _) => k,
            (true, true) => dirs - 1 - k,
            (true, false) => len - 1 - (k - dirs),
        };
        let perm = match order.key {
            Key::Name => return Some(pos),
            Key::Size => &self.by_size,
            Key::Date => &self.by_date,
        };
        perm.get(pos).map(|&i| i as usize)
    }
}
