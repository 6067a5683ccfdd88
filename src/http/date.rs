//! HTTP dates, both directions: the `Date` header, formatted once a second rather than once per
//! response (RFC 9110 §5.6.7 IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`, always 29 bytes), and
//! the parser for the three formats a recipient must accept (`If-Modified-Since`, `If-Range`).

use std::time::{SystemTime, UNIX_EPOCH};

use super::token::{parse_decimal, trim_ows};

/// Day names in the order of the days since the epoch (1970-01-01 was a Thursday).
const DAY_NAMES: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
/// RFC 850's long day names, in the same order.
const LONG_DAY_NAMES: [&[u8]; 7] = [
    b"Thursday",
    b"Friday",
    b"Saturday",
    b"Sunday",
    b"Monday",
    b"Tuesday",
    b"Wednesday",
];
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

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

    /// The second the text says (seconds since the epoch): it changes when the text does.
    pub fn secs(&self) -> u64 {
        self.secs
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
        let days = secs / 86400;
        let rem = secs % 86400;
        let (year, month, day) = civil_from_days(days as i64);
        let two = |n: u64| [b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8];
        let y = year.clamp(0, 9999) as u64;
        let (hh, mm, ss) = (two(rem / 3600), two(rem / 60 % 60), two(rem % 60));
        Civil {
            weekday: DAY_NAMES[(days % 7) as usize],
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

/// Parses an HTTP-date in any of the three formats RFC 9110 §5.6.7 requires recipients to
/// accept into seconds since the Unix epoch:
///
/// - IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`
/// - obsolete RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT`
/// - asctime: `Sun Nov  6 08:49:37 1994` (day as ` 6` or `06`)
///
/// Names are case-sensitive, as the grammar says; the day name must be a real one but is not
/// checked against the date. Seconds may be `60` (a leap second counts as the next second).
/// A two-digit RFC 850 year is taken in the current century unless that puts it more than
/// 50 years in the future, in which case it is the century before (§5.6.7). Whitespace around
/// the value is ignored. `None` for anything else: a bad name, an impossible date or time
/// (`31 Apr`, `29 Feb` of a common year, `25:00:00`), trailing bytes, or a date before 1970.
pub fn parse_http_date(v: &[u8]) -> Option<u64> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    parse_http_date_in(v, civil_from_days((now / 86_400) as i64).0)
}

/// [`parse_http_date`] with the current year given, so that tests do not depend on the clock.
fn parse_http_date_in(v: &[u8], this_year: i64) -> Option<u64> {
    let v = trim_ows(v);
    match v.iter().position(|&b| b == b',') {
        Some(3) => imf_fixdate(v),
        Some(_) => rfc850_date(v, this_year),
        None => asctime_date(v),
    }
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`, exactly 29 bytes.
fn imf_fixdate(v: &[u8]) -> Option<u64> {
    if v.len() != 29
        || name_at(&DAY_NAMES, &v[0..3]).is_none()
        || &v[3..5] != b", "
        || v[7] != b' '
        || v[11] != b' '
        || v[16] != b' '
        || &v[25..] != b" GMT"
    {
        return None;
    }
    let day = num(&v[5..7])?;
    let month = month(&v[8..11])?;
    let year = i64::from(num(&v[12..16])?);
    to_epoch(year, month, day, time_of_day(&v[17..25])?)
}

/// `Sunday, 06-Nov-94 08:49:37 GMT`: a long day name, then always 24 bytes.
fn rfc850_date(v: &[u8], this_year: i64) -> Option<u64> {
    let comma = v.iter().position(|&b| b == b',')?;
    let rest = &v[comma..];
    if !LONG_DAY_NAMES.contains(&&v[..comma])
        || rest.len() != 24
        || &rest[..2] != b", "
        || rest[4] != b'-'
        || rest[8] != b'-'
        || rest[11] != b' '
        || &rest[20..] != b" GMT"
    {
        return None;
    }
    let day = num(&rest[2..4])?;
    let month = month(&rest[5..8])?;
    let yy = i64::from(num(&rest[9..11])?);
    let mut year = this_year - this_year.rem_euclid(100) + yy;
    if year > this_year + 50 {
        year -= 100;
    }
    to_epoch(year, month, day, time_of_day(&rest[12..20])?)
}

/// `Sun Nov  6 08:49:37 1994`, exactly 24 bytes.
fn asctime_date(v: &[u8]) -> Option<u64> {
    if v.len() != 24
        || name_at(&DAY_NAMES, &v[0..3]).is_none()
        || v[3] != b' '
        || v[7] != b' '
        || v[10] != b' '
        || v[19] != b' '
    {
        return None;
    }
    let month = month(&v[4..7])?;
    let day = if v[8] == b' ' {
        num(&v[9..10])?
    } else {
        num(&v[8..10])?
    };
    let year = i64::from(num(&v[20..24])?);
    to_epoch(year, month, day, time_of_day(&v[11..19])?)
}

/// A number of at most four digits, as a date's fields are written.
fn num(v: &[u8]) -> Option<u32> {
    parse_decimal(v).map(|n| n as u32)
}

/// Where `v` is in `names` (three-letter names, case-sensitive).
fn name_at(names: &[&[u8; 3]], v: &[u8]) -> Option<usize> {
    names.iter().position(|n| n[..] == *v)
}

/// 1..=12.
fn month(v: &[u8]) -> Option<u32> {
    name_at(&MONTHS, v).map(|i| i as u32 + 1)
}

/// `HH:MM:SS` → seconds into the day; hour 00–23, minute 00–59, second 00–60.
fn time_of_day(v: &[u8]) -> Option<u64> {
    if v.len() != 8 || v[2] != b':' || v[5] != b':' {
        return None;
    }
    let (h, m, s) = (num(&v[0..2])?, num(&v[3..5])?, num(&v[6..8])?);
    (h <= 23 && m <= 59 && s <= 60).then(|| u64::from(h * 3600 + m * 60 + s))
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Seconds since the epoch of a checked calendar date; `None` before 1970 or for a day the
/// month does not have.
fn to_epoch(year: i64, month: u32, day: u32, secs_of_day: u64) -> Option<u64> {
    let days_in_month = match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if year < 1970 || day == 0 || day > days_in_month {
        return None;
    }
    // Howard Hinnant's days-from-civil, the inverse of `civil_from_days`.
    let (m, d) = (i64::from(month), i64::from(day));
    let y = if m <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days as u64 * 86_400 + secs_of_day)
}

/// RFC 9110's example moment in its three formats, for the tests of every module that reads
/// dates.
#[cfg(test)]
pub(crate) mod examples {
    pub const RFC_SECS: u64 = 784_111_777;
    pub const IMF: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
    pub const RFC850: &str = "Sunday, 06-Nov-94 08:49:37 GMT";
    pub const ASCTIME: &str = "Sun Nov  6 08:49:37 1994";

    /// [`format_http_date`](super::format_http_date) as a `String`.
    pub fn fmt(secs: u64) -> String {
        let mut out = [0; 29];
        super::format_http_date(secs, &mut out);
        String::from_utf8(out.to_vec()).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::examples::*;
    use super::*;
    use proptest::prelude::*;

    fn date(v: &str) -> Option<u64> {
        parse_http_date(v.as_bytes())
    }

    #[test]
    fn known_dates() {
        assert_eq!(fmt(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(fmt(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(fmt(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(fmt(1_795_305_599), "Sat, 21 Nov 2026 23:59:59 GMT");
    }

    #[test]
    fn rfc_examples() {
        assert_eq!(date(IMF), Some(RFC_SECS));
        // By the clock: 2094 stays more than 50 years ahead until 2044.
        assert_eq!(date(RFC850), Some(RFC_SECS));
        assert_eq!(parse_http_date_in(RFC850.as_bytes(), 2026), Some(RFC_SECS));
        assert_eq!(date(ASCTIME), Some(RFC_SECS));
        assert_eq!(fmt(RFC_SECS), IMF);
    }

    #[test]
    fn imf_fixdate_values() {
        assert_eq!(date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(date("Tue, 29 Feb 2000 00:00:00 GMT"), Some(951_782_400));
        assert_eq!(date("Sat, 21 Nov 2026 23:59:59 GMT"), Some(1_795_305_599));
        assert_eq!(date("Fri, 31 Dec 9999 23:59:59 GMT"), Some(253_402_300_799));
        assert_eq!(date("Sun, 07 Feb 2106 06:28:16 GMT"), Some(1 << 32));
        // A leap second counts as the next second.
        assert_eq!(
            date("Sat, 31 Dec 2016 23:59:60 GMT"),
            date("Sun, 01 Jan 2017 00:00:00 GMT")
        );
        // The day name is not checked against the date.
        assert_eq!(date("Mon, 06 Nov 1994 08:49:37 GMT"), Some(RFC_SECS));
        // OWS around the value.
        assert_eq!(date(" \tSun, 06 Nov 1994 08:49:37 GMT \t"), Some(RFC_SECS));
    }

    #[test]
    fn asctime_values() {
        assert_eq!(date("Sun Nov 06 08:49:37 1994"), Some(RFC_SECS));
        assert_eq!(
            date("Wed Nov 16 08:49:37 1994"),
            Some(RFC_SECS + 10 * 86_400)
        );
        assert_eq!(date("Thu Jan  1 00:00:00 1970"), Some(0));
        assert_eq!(date("Tue Feb 29 12:00:00 2000"), Some(951_825_600));
    }

    #[test]
    fn rfc850_two_digit_years() {
        let at = |v: &str, year| parse_http_date_in(v.as_bytes(), year);
        // This century unless that is more than 50 years ahead (§5.6.7).
        assert_eq!(at(RFC850, 2026), Some(RFC_SECS));
        assert_eq!(at(RFC850, 1994), Some(RFC_SECS));
        assert_eq!(
            at(RFC850, 2044),
            date("Sat, 06 Nov 2094 08:49:37 GMT"),
            "2094 is 50 years ahead: not more"
        );
        assert_eq!(
            at(RFC850, 2043),
            Some(RFC_SECS) // 2094 is 51 years ahead → 1994
        );
        assert_eq!(
            at(RFC850, 2045),
            date("Sat, 06 Nov 2094 08:49:37 GMT"),
            "2094 is 49 years ahead"
        );
        assert_eq!(
            at("Friday, 01-Jan-76 00:00:00 GMT", 2026),
            date("Wed, 01 Jan 2076 00:00:00 GMT")
        );
        assert_eq!(
            at("Saturday, 01-Jan-77 00:00:00 GMT", 2026),
            date("Sat, 01 Jan 1977 00:00:00 GMT")
        );
        assert_eq!(
            at("Saturday, 01-Jan-00 00:00:00 GMT", 2026),
            date("Sat, 01 Jan 2000 00:00:00 GMT")
        );
        assert_eq!(
            at("Thursday, 01-Jan-70 00:00:00 GMT", 2019),
            Some(0),
            "2070 is 51 years ahead of 2019"
        );
        // Every long day name is accepted.
        for name in LONG_DAY_NAMES {
            let v = format!(
                "{}, 06-Nov-94 08:49:37 GMT",
                std::str::from_utf8(name).unwrap()
            );
            assert_eq!(at(&v, 2026), Some(RFC_SECS), "{v}");
        }
    }

    /// Not a date at all, and IMF-fixdates off by a byte.
    #[test]
    fn invalid_imf_fixdates() {
        for bad in [
            "",
            " ",
            "0",
            "784111777",
            "Sun, 06 Nox 1994 08:49:37 GMT",   // bad month
            "Sun, 06 nov 1994 08:49:37 GMT",   // names are case-sensitive
            "sun, 06 Nov 1994 08:49:37 GMT",   // ...
            "Sun, 06 Nov 1994 08:49:37 gmt",   // ...
            "Sux, 06 Nov 1994 08:49:37 GMT",   // bad day name
            "Sun, 06 Nov 1994 25:00:00 GMT",   // bad hour
            "Sun, 06 Nov 1994 24:00:00 GMT",   // ...
            "Sun, 06 Nov 1994 08:60:37 GMT",   // bad minute
            "Sun, 06 Nov 1994 08:49:61 GMT",   // bad second
            "Sun, 06 Nov 1994 08:49:37 GMT x", // trailing junk
            "Sun, 06 Nov 1994 08:49:37 GMTx",  // ...
            "Sun, 06 Nov 1994 08:49:37 UTC",   // not GMT
            "Sun, 06 Nov 1994 08:49:37 +0000",
            "Sun, 06 Nov 1994 08:49:37",      // no zone
            "Sun, 6 Nov 1994 08:49:37 GMT",   // one-digit day
            "Sun, 06 Nov 94 08:49:37 GMT",    // two-digit year in IMF
            "Sun,  06 Nov 1994 08:49:37 GMT", // extra space
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun, 06 Nov 1994 08-49-37 GMT",
            "Sun, 00 Nov 1994 08:49:37 GMT", // day 0
            "Sun, 31 Nov 1994 08:49:37 GMT", // Nov has 30
            "Sun, 31 Apr 1994 08:49:37 GMT",
            "Sun, 29 Feb 1900 08:49:37 GMT", // 1900 is not a leap year
            "Sun, 29 Feb 2001 08:49:37 GMT",
            "Sun, 30 Feb 2000 08:49:37 GMT",
            "Sun, 32 Jan 1994 08:49:37 GMT",
            "Wed, 31 Dec 1969 23:59:59 GMT", // before the epoch
            "Sun, 06 Nov 0000 08:49:37 GMT",
            "Sun, 0a Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 19a4 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT", // two members
            "Sunday, 06 Nov 1994 08:49:37 GMT",                             // long name, IMF body
            "Sun, 06 Nov 1994 08:49:3\u{e9} GMT",
        ] {
            assert_eq!(date(bad), None, "{bad:?}");
        }
        assert_eq!(parse_http_date(&[0xff; 29]), None);
        assert_eq!(parse_http_date(b"Sun, 06 Nov 1994 08:49:37 GMT\0"), None);
    }

    /// RFC 850 dates: a long day name, a two-digit year, dashes.
    #[test]
    fn invalid_rfc850_dates() {
        for bad in [
            "Sun, 06-Nov-94 08:49:37 GMT", // short name, RFC 850
            "Sundae, 06-Nov-94 08:49:37 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sunday, 06-Nox-94 08:49:37 GMT",
            "Sunday, 06-Nov-94 25:49:37 GMT",
            "Sunday, 31-Nov-94 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT junk",
            "Sunday, 06 Nov 94 08:49:37 GMT",
        ] {
            assert_eq!(date(bad), None, "{bad:?}");
        }
    }

    /// asctime dates: the day in two columns, the year last, no zone.
    #[test]
    fn invalid_asctime_dates() {
        for bad in [
            "Sun Nov 6 08:49:37 1994",    // asctime needs two columns for the day
            "Sun Nov  0 08:49:37 1994",   // day 0
            "Sun Nov 31 08:49:37 1994",   // Nov has 30
            "Sun Nox  6 08:49:37 1994",   // bad month
            "Sun Nov  6 25:49:37 1994",   // bad hour
            "Sun Nov  6 08:49:37 1994 x", // trailing junk
            "Sun Nov  6 08:49:37 94",
            "Sun Nov  6 08:49:37 1969",
            "Sun Nov  6 08:49:37 GMT 1994",
            "Sun Nov x6 08:49:37 1994",
            "Sun Nov  6 08:49:37 199\u{e9}", // non-ASCII
        ] {
            assert_eq!(date(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn imf_fixdate_round_trips(secs in 0u64..=253_402_300_799) {
            prop_assert_eq!(date(&fmt(secs)), Some(secs));
        }

        #[test]
        fn obsolete_formats_round_trip(secs in 220_924_800u64..3_376_684_800) {
            // 1977-01-01 .. 2077-01-01: the window a 2026 reader gives two-digit years.
            let imf = fmt(secs);
            let (name, day, mon, year, time) =
                (&imf[0..3], &imf[5..7], &imf[8..11], &imf[12..16], &imf[17..25]);
            let long = LONG_DAY_NAMES
                .iter()
                .map(|n| std::str::from_utf8(n).unwrap())
                .find(|n| n.starts_with(name))
                .unwrap();
            let rfc850 = format!("{long}, {day}-{mon}-{} {time} GMT", &year[2..]);
            prop_assert_eq!(parse_http_date_in(rfc850.as_bytes(), 2026), Some(secs));
            let asc_day = day.strip_prefix('0').map_or(day.to_string(), |d| format!(" {d}"));
            let asctime = format!("{name} {mon} {asc_day} {time} {year}");
            prop_assert_eq!(date(&asctime), Some(secs));
        }

        #[test]
        fn parse_http_date_never_panics(v in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = parse_http_date(&v);
        }

        #[test]
        fn parse_http_date_never_panics_on_near_misses(
            v in "[A-Za-z]{3,9}, ?[0-9 ]{1,3}[ -][A-Za-z]{3}[ -][0-9]{2,4} [0-9:]{8} GMT",
        ) {
            if let Some(secs) = date(&v) {
                prop_assert!(secs <= 253_402_300_799);
            }
        }
    }
}
