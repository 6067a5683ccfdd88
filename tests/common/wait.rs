//! Waiting for what the server does on its own time.

use std::thread;
use std::time::{Duration, Instant};

/// Polls `condition` until it holds; fails with `what` once `limit` has passed without it.
pub fn eventually(limit: Duration, what: impl Describe, condition: impl FnMut() -> bool) {
    if within(limit, condition).is_none() {
        panic!("not within {limit:?}: {}", what.describe());
    }
}

/// Polls `condition` every 10 ms until it holds: how long that took, or `None` once `limit`
/// has passed without it. For a test that times the wait, or whose message needs what the
/// condition borrows mutably; the others say [`eventually`].
pub fn within(limit: Duration, mut condition: impl FnMut() -> bool) -> Option<Duration> {
    let t = Instant::now();
    while t.elapsed() < limit {
        if condition() {
            return Some(t.elapsed());
        }
        thread::sleep(Duration::from_millis(10));
    }
    None
}

/// What [`eventually`] says when the time is up: a fixed text, or a closure that describes the
/// state at that moment.
pub trait Describe {
    fn describe(&self) -> String;
}

impl Describe for &str {
    fn describe(&self) -> String {
        self.to_string()
    }
}

impl<F: Fn() -> String> Describe for F {
    fn describe(&self) -> String {
        self()
    }
}
