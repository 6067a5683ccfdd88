//! Waiting for what the server does on its own time.

use std::thread;
use std::time::{Duration, Instant};

/// Polls `condition` until it holds; fails with `what` once `limit` has passed without it.
pub fn eventually(limit: Duration, what: impl Describe, mut condition: impl FnMut() -> bool) {
    let until = Instant::now() + limit;
    while !condition() {
        assert!(
            Instant::now() < until,
            "not within {limit:?}: {}",
            what.describe()
        );
        thread::sleep(Duration::from_millis(10));
    }
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
