//! `--auth`: HTTP Basic authentication (RFC 7617). Each credential is kept as the SHA-256 of
//! its user name and of its password (or the digest `user:sha256:HEX` gave), never the
//! password itself, and a request's pair is compared digest to digest over every credential in
//! constant time: how long a refusal takes says nothing about how close a guess was.

use sha2::{Digest, Sha256};

use super::base64::{self, Base64Error, MAX_DECODED};
use crate::http::token::{hex_value, trim_ows};

/// Longest user name or password `--auth` accepts, in bytes.
const MAX_PART: usize = 255;

/// One `--auth` credential.
#[derive(Clone)]
pub struct Credential {
    user: String,
    user_sha: [u8; 32],
    pass_sha: [u8; 32],
}

/// Never the digest: a `{:?}` of the settings must not help anyone guess the password.
impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credential({:?}, password hidden)", self.user)
    }
}

fn sha256(v: &[u8]) -> [u8; 32] {
    Sha256::digest(v).into()
}

impl Credential {
    /// `user:password`, or `user:sha256:HEX` with the 64 hex digits of the password's
    /// SHA-256. The user name may not be empty or hold a colon (RFC 7617 §2) or control bytes.
    pub fn parse(s: &str) -> Result<Credential, String> {
        let Some((user, secret)) = s.split_once(':') else {
            return Err("expected user:password or user:sha256:HEX".into());
        };
        if user.is_empty() || user.len() > MAX_PART || user.bytes().any(|b| b.is_ascii_control()) {
            return Err(format!(
                "the user name must be 1 to {MAX_PART} bytes, without control characters"
            ));
        }
        let pass_sha = match secret.strip_prefix("sha256:") {
            Some(hex) => parse_hex(hex).ok_or("sha256: must be followed by 64 hex digits")?,
            None if secret.is_empty() || secret.len() > MAX_PART => {
                return Err(format!("the password must be 1 to {MAX_PART} bytes"))
            }
            None => sha256(secret.as_bytes()),
        };
        Ok(Credential {
            user: user.to_owned(),
            user_sha: sha256(user.as_bytes()),
            pass_sha,
        })
    }
}

fn parse_hex(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        *o = hex_value(pair[0])? << 4 | hex_value(pair[1])?;
    }
    Some(out)
}

/// Why a request's credentials were refused: each is a 401, its reason in the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthFailure {
    Missing,
    Duplicate,
    NotBasic,
    TooLong,
    BadBase64,
    NoColon,
    /// No credential has this user name and password (which of the two is not said).
    Wrong,
}

impl AuthFailure {
    pub fn reason(self) -> &'static str {
        match self {
            AuthFailure::Missing => "credentials required (Authorization: Basic)\n",
            AuthFailure::Duplicate => "more than one Authorization field\n",
            AuthFailure::NotBasic => "only the Basic scheme is accepted\n",
            AuthFailure::TooLong => "the credentials are too long\n",
            AuthFailure::BadBase64 => "the credentials are not valid base64\n",
            AuthFailure::NoColon => "the credentials have no colon between user and password\n",
            AuthFailure::Wrong => "wrong user name or password\n",
        }
    }
}

/// The credential whose user name and password `authorization` (every value of the field
/// the request sent) carries: its user name, for the access log.
pub fn check<'c, 'v>(
    creds: &'c [Credential],
    mut authorization: impl Iterator<Item = &'v [u8]>,
) -> Result<&'c str, AuthFailure> {
    let value = authorization.next().ok_or(AuthFailure::Missing)?;
    if authorization.next().is_some() {
        return Err(AuthFailure::Duplicate);
    }
    let (scheme, rest) = value
        .iter()
        .position(|&b| b == b' ')
        .map_or((value, &b""[..]), |sp| value.split_at(sp));
    if !scheme.eq_ignore_ascii_case(b"Basic") {
        return Err(AuthFailure::NotBasic);
    }
    let token = trim_ows(rest);
    if token.is_empty() {
        return Err(AuthFailure::BadBase64);
    }
    let mut buf = [0u8; MAX_DECODED];
    let pair = base64::decode(token, &mut buf).map_err(|e| match e {
        Base64Error::TooLong => AuthFailure::TooLong,
        _ => AuthFailure::BadBase64,
    })?;
    let colon = memchr::memchr(b':', pair).ok_or(AuthFailure::NoColon)?;
    let (user, pass) = (sha256(&pair[..colon]), sha256(&pair[colon + 1..]));
    buf.fill(0);
    // Every credential is compared, whichever matches: no early exit.
    let mut found = None;
    for c in creds {
        if same(&c.user_sha, &user) & same(&c.pass_sha, &pass) {
            found = Some(c.user.as_str());
        }
    }
    found.ok_or(AuthFailure::Wrong)
}

/// Digests compared in constant time: every byte is looked at, whatever differs first.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn creds() -> Vec<Credential> {
        vec![
            Credential::parse("alice:wonder land").unwrap(),
            // sha256("hunter2")
            Credential::parse(
                "bob:sha256:f52fbd32b2b3b86ff88ef6c490628285f482af15ddcb29541f94bcf526a3f6c7",
            )
            .unwrap(),
        ]
    }

    fn check1(value: &[u8]) -> Result<String, AuthFailure> {
        let creds = creds();
        check(&creds, std::iter::once(value)).map(str::to_owned)
    }

    #[test]
    fn the_right_pairs_pass() {
        // "alice:wonder land", "bob:hunter2"
        assert_eq!(
            check1(b"Basic YWxpY2U6d29uZGVyIGxhbmQ="),
            Ok("alice".into())
        );
        assert_eq!(check1(b"basic   Ym9iOmh1bnRlcjI=  "), Ok("bob".into()));
    }

    #[test]
    fn everything_else_fails_with_its_reason() {
        use AuthFailure::*;
        for (value, why) in [
            (&b"Basic YWxpY2U6d3Jvbmc="[..], Wrong),       // alice:wrong
            (b"Basic Ym9iOndvbmRlciBsYW5k", Wrong),        // bob:wonder land
            (b"Basic Ym9iOnNoYTI1NjpmNTJm", Wrong),        // bob:sha256:f52f
            (b"Basic YWxpY2V3b25kZXI=", NoColon),          // alicewonder
            (b"Basic YWxpY2U6d29uZGVyIGxhbmQ", BadBase64), // no padding
            (b"Basic !!!!", BadBase64),
            (b"Basic", BadBase64),
            (b"Bearer abc", NotBasic),
            (b"BasicYWxp", NotBasic),
        ] {
            assert_eq!(
                check1(value),
                Err(why),
                "{}",
                String::from_utf8_lossy(value)
            );
        }
        let long = format!("Basic {}", "A".repeat(MAX_DECODED / 3 * 4 + 4));
        assert_eq!(check1(long.as_bytes()), Err(TooLong));
        let creds = creds();
        assert_eq!(check(&creds, std::iter::empty()), Err(Missing));
        let two = [&b"Basic Ym9iOmh1bnRlcjI="[..], b"Basic Ym9iOmh1bnRlcjI="];
        assert_eq!(check(&creds, two.into_iter()), Err(Duplicate));
    }

    #[test]
    fn bad_auth_syntax_is_refused_at_start_up() {
        for bad in [
            "alice",
            ":pw",
            "alice:",
            "al\x01ce:pw",
            "bob:sha256:abc",
            "bob:sha256:g52fbd32b2b3b86ff88ef6c490628285f482af15ddcb29541f94bcf526a3f6c7",
        ] {
            assert!(Credential::parse(bad).is_err(), "{bad:?}");
        }
        let c = Credential::parse("carol:a:b:c").unwrap();
        assert_eq!(format!("{c:?}"), "Credential(\"carol\", password hidden)");
    }

    proptest! {
        /// Any value: no panic, and only a real pair passes.
        #[test]
        fn no_value_panics(v in proptest::collection::vec(any::<u8>(), 0..1100)) {
            let creds = creds();
            let r = check(&creds, std::iter::once(&v[..]));
            prop_assert!(r.is_err() || v.len() < 40);
        }
    }
}
