//! The `Date` header, formatted once a second rather than once per response (RFC 9110 §5.6.7
//! IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`, always 29 bytes).

use std::time::{SystemTime, UNIX_EPOCH};

pub struct DateCache {
    secs: u64,
    text: [u8; 29],
}

impl Default for DateCache {
    fn default() -> Self {
        let mut d = DateCache {
            secs: u64::MAX,
            text: [0; 29],
        };
        d.refresh(SystemTime::now());
        d
    }
}

impl DateCache {
    /// Re-formats only when the second has changed.
    pub fn refresh(&mut self, now: SystemTime) {
        let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if secs != self.secs {
            self.secs = secs;
            format_http_date(secs, &mut self.text);
        }
    }

    pub fn get(&self) -> &[u8; 29] {
        &self.text
    }
}

/// A moment, broken down into the text pieces dates are written with (UTC).
pub struct Civil {
    pub weekday: &'static [u8; 3],
    pub day: [u8; 2],
    pub month: &'static [u8; 3],
    pub year: [u8; 4],
    /// `HH:MM:SS`.
    pub time: [u8; 8],
}

impl Civil {
    /// Seconds since the Unix epoch, broken down (years clamped to 0000–9999).
    pub fn from_secs(secs: u64) -> Civil {
        const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
        const MONTHS: [&[u8; 3]; 12] = [
            b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
            b"Dec",
        ];
        let days = secs / 86400;
        let rem = secs % 86400;
        let (year, month, day) = civil_from_days(days as i64);
        let two = |n: u64| [b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8];
        let y = year.clamp(0, 9999) as u64;
        let (hh, mm, ss) = (two(rem / 3600), two(rem / 60 % 60), two(rem % 60));
        Civil {
            weekday: DAYS[(days % 7) as usize],
            day: two(day),
            month: MONTHS[(month - 1) as usize],
            year: [
                two(y / 100)[0],
                two(y / 100)[1],
                two(y % 100)[0],
                two(y % 100)[1],
            ],
            time: [hh[0], hh[1], b':', mm[0], mm[1], b':', ss[0], ss[1]],
        }
    }
}

/// Writes `pieces` one after another into `out`, which they fill exactly.
pub fn concat_into(out: &mut [u8], pieces: &[&[u8]]) {
    let mut at = 0;
    for p in pieces {
        out[at..at + p.len()].copy_from_slice(p);
        at += p.len();
    }
}

/// Formats seconds since the Unix epoch as an IMF-fixdate.
pub fn format_http_date(secs: u64, out: &mut [u8; 29]) {
    let c = Civil::from_secs(secs);
    concat_into(
        out,
        &[
            c.weekday, b", ", &c.day, b" ", c.month, b" ", &c.year, b" ", &c.time, b" GMT",
        ],
    );
}

/// Howard Hinnant's days-to-civil: (year, month 1..=12, day 1..=31).
pub fn civil_from_days(z: i64) -> (i64, u64, u64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u64;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u64;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(secs: u64) -> String {
        let mut out = [0; 29];
        format_http_date(secs, &mut out);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn known_dates() {
        assert_eq!(fmt(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(fmt(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(fmt(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(fmt(1_795_305_599), "Sat, 21 Nov 2026 23:59:59 GMT");
    }
}
