//! `/-/unstable?failure_rate=F&code=C`: fails a share F of requests, deterministically.
//!
//! Each worker counts the `/-/unstable` requests it answers (with valid parameters): request
//! `i` (from 0) fails when `floor((j+1)·k/100) > floor(j·k/100)`, where `j = i mod 100` and
//! `k = round(100·F)`. So of every 100 in a row exactly k fail, spread evenly (k = 50: every
//! other one; k = 25: every fourth), with no random numbers and no shared state.

use super::query::{decode, raw_value};
use super::{hello, param};
use crate::handler::Response;

/// A worker's count of the `/-/unstable` requests it answered.
#[derive(Default)]
pub(super) struct Unstable {
    answered: u64,
}

impl Unstable {
    pub(super) fn answer(&mut self, query: Option<&[u8]>) -> Response {
        let Some(k) = failure_rate(query) else {
            return Response::bad_request("failure_rate must be a number from 0 to 1\n");
        };
        let code = match param(query, "code", 599) {
            Ok(None) => 500,
            Ok(Some(c @ 400..=599)) => c as u16,
            _ => return Response::bad_request("code must be a number from 400 to 599\n"),
        };
        let j = self.answered % 100;
        self.answered += 1;
        if fails(j, k) {
            Response::error(code)
        } else {
            hello()
        }
    }
}

/// `round(100·F)`: absent is 0.5 (go-httpbin's default); F must be a number from 0 to 1.
fn failure_rate(query: Option<&[u8]>) -> Option<u64> {
    let Some(raw) = raw_value(query, "failure_rate") else {
        return Some(50);
    };
    let mut buf = [0u8; 16];
    let f: f64 = std::str::from_utf8(decode(raw, &mut buf).ok()?)
        .ok()?
        .parse()
        .ok()?;
    (0.0..=1.0).contains(&f).then(|| (f * 100.0).round() as u64)
}

/// Whether request `j` (0..100) of a hundred fails at `k` failures a hundred.
fn fails(j: u64, k: u64) -> bool {
    (j + 1) * k / 100 > j * k / 100
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_k_of_every_hundred_spread_evenly() {
        for k in 0..=100 {
            let failed: Vec<u64> = (0..100).filter(|&j| fails(j, k)).collect();
            assert_eq!(failed.len() as u64, k, "k={k}");
            // Evenly: in any run of 100/k requests at most one more than the share fails.
            for w in failed.windows(2) {
                assert!(k == 0 || w[1] - w[0] <= 100 / k + 1, "k={k}: {failed:?}");
            }
        }
        assert_eq!(
            (0..8).map(|j| fails(j, 50)).collect::<Vec<_>>(),
            [false, true, false, true, false, true, false, true]
        );
        assert_eq!((0..4).filter(|&j| fails(j, 25)).collect::<Vec<_>>(), [3]);
    }

    #[test]
    fn rates() {
        let f = |q: &str| failure_rate(Some(q.as_bytes()));
        assert_eq!(f(""), Some(50));
        assert_eq!(f("failure_rate=0"), Some(0));
        assert_eq!(f("failure_rate=1"), Some(100));
        assert_eq!(f("failure_rate=0.333"), Some(33));
        assert_eq!(f("failure_rate=0.006"), Some(1));
        for bad in [
            "1.01",
            "-0.1",
            "x",
            "",
            "NaN",
            "inf",
            "%zz",
            "0.00000000000000001",
        ] {
            assert_eq!(f(&format!("failure_rate={bad}")), None, "{bad}");
        }
    }
}
