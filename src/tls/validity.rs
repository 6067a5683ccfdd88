//! A certificate's validity dates, read straight from its DER (RFC 5280 §4.1): enough to warn
//! at start-up about a certificate that has expired or is not valid yet, without an X.509
//! library. Bounded and total: any bytes give dates or `None`, never a panic.

/// `notBefore` and `notAfter`, in seconds since 1970 (a date before 1970 is 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    pub not_before: u64,
    pub not_after: u64,
}

impl Validity {
    /// What is wrong with these dates at `now`, if anything.
    pub fn warning(&self, now: u64) -> Option<String> {
        if now > self.not_after {
            Some(format!(
                "the certificate expired on {} (clients will refuse it)",
                ymd(self.not_after)
            ))
        } else if now < self.not_before {
            Some(format!(
                "the certificate is not valid until {} (clients will refuse it)",
                ymd(self.not_before)
            ))
        } else {
            None
        }
    }
}

/// `2026-12-04`.
fn ymd(secs: u64) -> String {
    let (y, m, d) = crate::http::date::civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The validity of the DER certificate `der`, or `None` if it is not one.
pub fn of(der: &[u8]) -> Option<Validity> {
    let (cert, _) = element(der, 0x30)?;
    let (mut tbs, _) = element(cert, 0x30)?;
    if tbs.first() == Some(&0xa0) {
        tbs = element(tbs, 0xa0)?.1; // [0] version
    }
    let rest = element(tbs, 0x02)?.1; // serialNumber
    let rest = element(rest, 0x30)?.1; // signature
    let rest = element(rest, 0x30)?.1; // issuer
    let (validity, _) = element(rest, 0x30)?;
    let (not_before, rest) = time(validity)?;
    let (not_after, _) = time(rest)?;
    Some(Validity {
        not_before,
        not_after,
    })
}

/// The contents of the element with `tag` at the start of `der`, and what follows it.
fn element(der: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&t, rest) = der.split_first()?;
    if t != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        0..=0x7f => (usize::from(first), rest),
        0x81..=0x84 => {
            let n = usize::from(first & 0x7f);
            let bytes = rest.get(..n)?;
            let len = bytes.iter().fold(0usize, |l, &b| (l << 8) | usize::from(b));
            (len, &rest[n..])
        }
        _ => return None,
    };
    Some((rest.get(..len)?, &rest[len..]))
}

/// A `Time`: UTCTime (`YYMMDDHHMMSSZ`, years 1950–2049) or GeneralizedTime
/// (`YYYYMMDDHHMMSSZ`).
fn time(der: &[u8]) -> Option<(u64, &[u8])> {
    let (digits, year_digits, rest) = match der.first()? {
        0x17 => {
            let (v, rest) = element(der, 0x17)?;
            (v, 2, rest)
        }
        0x18 => {
            let (v, rest) = element(der, 0x18)?;
            (v, 4, rest)
        }
        _ => return None,
    };
    if digits.len() != year_digits + 11 || digits.last() != Some(&b'Z') {
        return None;
    }
    let num = |at: usize, n: usize| -> Option<i64> {
        digits[at..at + n].iter().try_fold(0i64, |v, &b| {
            b.is_ascii_digit().then(|| v * 10 + i64::from(b - b'0'))
        })
    };
    let mut year = num(0, year_digits)?;
    if year_digits == 2 {
        year += if year < 50 { 2000 } else { 1900 };
    }
    let at = year_digits;
    let (month, day) = (num(at, 2)?, num(at + 2, 2)?);
    let (h, m, s) = (num(at + 4, 2)?, num(at + 6, 2)?, num(at + 8, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + h * 3600 + m * 60 + s;
    Some((u64::try_from(secs).unwrap_or(0), rest))
}

/// Howard Hinnant's civil-to-days: days since 1970-01-01.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert_valid(from: (i32, u8, u8), to: (i32, u8, u8)) -> Vec<u8> {
        let mut p = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
        p.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
        p.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
        let key = rcgen::KeyPair::generate().unwrap();
        p.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn reads_the_dates_of_a_real_certificate() {
        // UTCTime before 2050, GeneralizedTime from 2050 on (RFC 5280 §4.1.2.5).
        let der = cert_valid((2020, 2, 29), (2051, 12, 31));
        let v = of(&der).unwrap();
        assert_eq!(v.not_before, 1_582_934_400, "2020-02-29T00:00:00Z");
        assert_eq!(v.not_after, 2_587_593_600, "2051-12-31T00:00:00Z");
        assert_eq!(v.warning(1_700_000_000), None);
        assert!(v
            .warning(1_500_000_000)
            .unwrap()
            .contains("not valid until 2020-02-29"));
        assert!(v
            .warning(2_600_000_000)
            .unwrap()
            .contains("expired on 2051-12-31"));
    }

    #[test]
    fn anything_else_is_none_not_a_panic() {
        let der = cert_valid((2020, 1, 1), (2030, 1, 1));
        for n in 0..der.len() {
            let _ = of(&der[..n]);
        }
        assert_eq!(of(b""), None);
        assert_eq!(of(b"-----BEGIN CERTIFICATE-----"), None);
        assert_eq!(of(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
        assert_eq!(of(&[0x30, 0x80]), None);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = of(&bytes);
        }
    }
}
