//! Domain values with rules. Each is built only by parsing, so code that holds one never
//! re-checks it. Values read back from the database are parsed again on the way out.

use std::fmt;
use std::str::FromStr;

use sea_orm::FromJsonQueryResult;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A value that broke its type's rules; `field` names the value, `reason` says which rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidValue {
    /// Which value was rejected (`slug`, `email`, …).
    pub field: &'static str,
    /// A sentence a client can show.
    pub reason: String,
}

impl InvalidValue {
    /// Builds the error for `field` with a human-readable `reason`.
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// Refuses text that holds a control character other than a tab or a line break (NUL, escape,
/// DEL, …): such text is never what a person typed, Postgres cannot store NUL, and SQLite's
/// `LIKE` stops at it. The reason names the character.
pub fn check_plain_text(field: &'static str, text: &str) -> Result<(), InvalidValue> {
    match text
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        None => Ok(()),
        Some(c) => Err(InvalidValue::new(
            field,
            format!(
                "must be plain text; it contains the control character U+{:04X}",
                u32::from(c)
            ),
        )),
    }
}

/// A search category's identifier: `^[a-z][a-z0-9_]{1,48}$` (2 to 49 characters).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, DeriveValueType)]
#[sea_orm(value_type = "String")]
pub struct CategorySlug(String);

impl CategorySlug {
    /// Longest slug accepted.
    pub const MAX_LEN: usize = 49;

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for CategorySlug {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| Err(InvalidValue::new("slug", why));
        let mut chars = s.chars();
        match chars.next() {
            None => return bad("must not be empty"),
            Some(c) if !c.is_ascii_lowercase() => {
                return bad("must start with a lowercase letter a-z");
            }
            Some(_) => {}
        }
        if s.len() < 2 || s.len() > Self::MAX_LEN {
            return bad("must be 2 to 49 characters long");
        }
        if !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            return bad("may only contain lowercase letters a-z, digits and underscores");
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Display for CategorySlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address, trimmed and lowercased, with a plausible local part and domain.
#[derive(Clone, Debug, PartialEq, Eq, Hash, DeriveValueType)]
#[sea_orm(value_type = "String")]
pub struct Email(String);

impl Email {
    /// The address as text (always lowercase).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Email {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| Err(InvalidValue::new("email", why));
        let trimmed = s.trim();
        // Measured before anything is copied: a megabyte of "email" is refused at once.
        if trimmed.len() > 254 {
            return bad("must be at most 254 characters");
        }
        let email = trimmed.to_lowercase();
        if email.is_empty() {
            return bad("must not be empty");
        }
        let Some((local, domain)) = email.split_once('@') else {
            return bad("must contain one @");
        };
        if local.is_empty() || local.len() > 64 {
            return bad("the part before @ must be 1 to 64 characters");
        }
        let local_ok = local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        if !local_ok || local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return bad("the part before @ has characters an address cannot have");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return bad("the domain must look like example.com");
        }
        Ok(Self(email))
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Identity of a listing: SHA-256 (lowercase hex) of
/// `norm(title)|norm(company)|canonical(job_url)` — see [`JobHash::of`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, DeriveValueType)]
#[sea_orm(value_type = "String")]
pub struct JobHash(String);

/// Query parameters that only track where a click came from; they never change the posting.
const TRACKING_PARAMS: &[&str] = &[
    "gh_src",
    "trk",
    "trackingid",
    "refid",
    "urlhash",
    "ref",
    "src",
    "source",
    "gclid",
    "fbclid",
    "lipi",
    "position",
    "pagenum",
];

impl JobHash {
    /// Hashes a listing's identity. Title and company are trimmed, lowercased and have their
    /// whitespace collapsed; the URL is canonicalized by [`canonical_url`].
    pub fn of(title: &str, company: &str, job_url: &str) -> Self {
        let key = format!(
            "{}|{}|{}",
            normalize_text(title),
            normalize_text(company),
            canonical_url(job_url)
        );
        Self(hex::encode(Sha256::digest(key.as_bytes())))
    }

    /// The 64-character hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for JobHash {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        sha256_hex("job_hash", s).map(Self)
    }
}

impl fmt::Display for JobHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Identity of an opening across boards: SHA-256 (lowercase hex) of
/// `title|company|location` as normalized by [`Fingerprint::key`]. Two postings with the same
/// fingerprint are one listing (DESIGN.md §5 "Identity").
///
/// Changing the normalization changes every listing's fingerprint: it needs a migration that
/// computes them again (migration 6 computed the first ones with this code).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, DeriveValueType)]
#[sea_orm(value_type = "String")]
pub struct Fingerprint(String);

/// Words at the end of a company name that name its legal form, not the company.
const LEGAL_SUFFIXES: &[&str] = &[
    "inc",
    "incorporated",
    "llc",
    "llp",
    "lp",
    "ltd",
    "limited",
    "plc",
    "corp",
    "corporation",
    "co",
    "company",
    "gmbh",
    "ag",
    "kg",
    "ug",
    "sa",
    "sas",
    "sarl",
    "srl",
    "spa",
    "bv",
    "nv",
    "ab",
    "as",
    "asa",
    "oy",
    "oyj",
    "aps",
    "pty",
    "pte",
    "kk",
    "sl",
    "se",
];

impl Fingerprint {
    /// The fingerprint of an opening.
    pub fn of(title: &str, company: &str, location: Option<&str>) -> Self {
        Self(hex::encode(Self::digest(title, company, location)))
    }

    /// The raw digest (32 bytes), for in-memory indexes.
    pub fn digest(title: &str, company: &str, location: Option<&str>) -> [u8; 32] {
        Sha256::digest(Self::key(title, company, location).as_bytes()).into()
    }

    /// The fingerprint of a digest from [`Fingerprint::digest`].
    pub fn from_digest(digest: &[u8; 32]) -> Self {
        Self(hex::encode(digest))
    }

    /// The text that is hashed: the title's words; the company's words without trailing legal
    /// suffixes, joined without spaces (so a board slug `acmerobotics` meets "Acme Robotics,
    /// Inc."); the location's first part (before a comma, dash, slash, bar or parenthesis), or
    /// `remote` when it names remote work. Case and punctuation never count.
    pub fn key(title: &str, company: &str, location: Option<&str>) -> String {
        let title = words(title).join(" ");
        let mut company = words(company);
        while company.len() > 1
            && company
                .last()
                .is_some_and(|w| LEGAL_SUFFIXES.contains(&w.as_str()))
        {
            company.pop();
        }
        let location = location.unwrap_or_default().to_lowercase();
        let location = if words(&location).iter().any(|w| w == "remote") {
            "remote".to_owned()
        } else {
            let first = location
                .split([',', '/', '|', '(', ';', '–', '—'])
                .next()
                .unwrap_or_default();
            let first = first.split(" - ").next().unwrap_or_default();
            words(first).join(" ")
        };
        format!("{title}|{}|{location}", company.concat())
    }

    /// The 64-character hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Lowercased alphanumeric words; every other character separates.
fn words(s: &str) -> Vec<String> {
    s.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

impl FromStr for Fingerprint {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        sha256_hex("fingerprint", s).map(Self)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `s` when it is a SHA-256 digest in lowercase hex (what [`JobHash`] and [`Fingerprint`] hold).
fn sha256_hex(field: &'static str, s: &str) -> Result<String, InvalidValue> {
    if s.len() == 64
        && s.chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    {
        Ok(s.to_owned())
    } else {
        Err(InvalidValue::new(field, "must be 64 lowercase hex digits"))
    }
}

/// Trim, lowercase, and collapse runs of whitespace to one space.
pub fn normalize_text(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A URL with its fragment, tracking parameters (`utm_*` and [`TRACKING_PARAMS`]) and a
/// trailing slash removed, and scheme and host lowercased; other parameters keep their order.
pub fn canonical_url(url: &str) -> String {
    let url = url.trim();
    let without_fragment = url.split('#').next().unwrap_or(url);
    let (base, query) = match without_fragment.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (without_fragment, None),
    };
    let base = match base.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
            let path = path.trim_end_matches('/');
            let mut out = format!("{}://{}", scheme.to_lowercase(), host.to_lowercase());
            if !path.is_empty() {
                out.push('/');
                out.push_str(path);
            }
            out
        }
        None => base.trim_end_matches('/').to_owned(),
    };
    let kept: Vec<&str> = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|pair| {
            let key = pair
                .split('=')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            !pair.is_empty() && !key.starts_with("utm_") && !TRACKING_PARAMS.contains(&key.as_str())
        })
        .collect();
    if kept.is_empty() {
        base
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

/// A match score, 0 to 100 inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, DeriveValueType)]
pub struct Score(i32);

impl Score {
    /// The score as a number.
    pub fn value(self) -> i32 {
        self.0
    }

    /// Rounds and clamps any number into 0..=100 (for model output that strays).
    pub fn clamped(v: f64) -> Self {
        if v.is_nan() {
            Self(0)
        } else {
            Self(v.round().clamp(0.0, 100.0) as i32)
        }
    }
}

impl TryFrom<i32> for Score {
    type Error = InvalidValue;

    fn try_from(v: i32) -> Result<Self, Self::Error> {
        if (0..=100).contains(&v) {
            Ok(Self(v))
        } else {
            Err(InvalidValue::new("score", "must be between 0 and 100"))
        }
    }
}

/// A list of strings stored as a JSON array (search terms, keywords, skills).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct StringList(pub Vec<String>);

/// One error recorded during a pipeline run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunErrorEntry {
    /// The source (board) that failed, or `pipeline` for run-wide failures.
    pub source: String,
    /// The category being collected when it failed, if any.
    pub category: Option<String>,
    /// What went wrong, safe to show an admin.
    pub message: String,
    /// When it happened.
    pub at: chrono::DateTime<chrono::Utc>,
}

/// The errors of a run, stored as a JSON array.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct RunErrors(pub Vec<RunErrorEntry>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_pattern() {
        for ok in [
            "ab",
            "software_engineer",
            "ml2",
            &format!("a{}", "b".repeat(48)),
        ] {
            assert!(ok.parse::<CategorySlug>().is_ok(), "{ok} should parse");
        }
        for bad in [
            "",
            "a",
            "A_b",
            "1abc",
            "_ab",
            "ab-c",
            "ab c",
            "dévops",
            &format!("a{}", "b".repeat(49)),
        ] {
            assert!(
                bad.parse::<CategorySlug>().is_err(),
                "{bad} should be rejected"
            );
        }
    }

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        let e: Email = "  Ada.Lovelace+jobs@Example.COM ".parse().expect("valid");
        assert_eq!(e.as_str(), "ada.lovelace+jobs@example.com");
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@-b.com",
            "a..b@c.com",
            "a@b..com",
        ] {
            assert!(bad.parse::<Email>().is_err(), "{bad} should be rejected");
        }
        assert!(
            format!("{}@example.com", "a".repeat(65))
                .parse::<Email>()
                .is_err()
        );
    }

    #[test]
    fn job_hash_ignores_case_whitespace_and_tracking_parameters() {
        let a = JobHash::of(
            "Senior  Rust Engineer ",
            "ACME",
            "https://Boards.example.com/jobs/1/?utm_source=x&gh_src=y#apply",
        );
        let b = JobHash::of(
            "senior rust engineer",
            "acme",
            "https://boards.example.com/jobs/1",
        );
        assert_eq!(a, b);
        assert_eq!(a.as_str().len(), 64);
        let c = JobHash::of(
            "senior rust engineer",
            "acme",
            "https://boards.example.com/jobs/2",
        );
        assert_ne!(a, c);
        assert_eq!(a.as_str().parse::<JobHash>().expect("round trip"), a);
        assert!("xyz".parse::<JobHash>().is_err());
    }

    #[test]
    fn fingerprints_ignore_case_punctuation_and_legal_forms() {
        let a = Fingerprint::of(
            "Senior Data Engineer - Payments",
            "Acme Robotics, Inc.",
            Some("Berlin, Germany"),
        );
        assert_eq!(
            a,
            Fingerprint::of(
                "senior data engineer, payments",
                "ACME ROBOTICS GmbH",
                Some("Berlin")
            )
        );
        assert_eq!(
            a,
            Fingerprint::of(
                "Senior Data Engineer (Payments)",
                "acmerobotics",
                Some("berlin - de")
            ),
            "a board slug meets the display name"
        );
        assert_ne!(
            a,
            Fingerprint::of(
                "Senior Data Engineer - Payments",
                "Acme Robotics",
                Some("Munich")
            ),
            "another location is another opening"
        );
        assert_ne!(
            a,
            Fingerprint::of("Senior Data Engineer - Payments", "Acme", Some("Berlin"))
        );
        assert_eq!(
            Fingerprint::key("QA", "Co", Some("Remote (US)")),
            "qa|co|remote",
            "a name that is only a suffix keeps it"
        );
        assert_eq!(
            Fingerprint::key("QA", "Visa Inc", Some("Remote - US")),
            "qa|visa|remote"
        );
        assert_eq!(Fingerprint::key("QA", "X", None), "qa|x|");
        assert_eq!(a.as_str().parse::<Fingerprint>().expect("round trip"), a);
    }

    #[test]
    fn canonical_url_keeps_meaningful_parameters_in_order() {
        assert_eq!(
            canonical_url("https://x.com/view?id=7&trk=abc&refId=q&page=2&utm_medium=m"),
            "https://x.com/view?id=7&page=2"
        );
        assert_eq!(canonical_url("https://x.com/"), "https://x.com");
    }

    #[test]
    fn scores_are_bounded() {
        assert!(Score::try_from(101).is_err());
        assert!(Score::try_from(-1).is_err());
        assert_eq!(Score::try_from(100).map(Score::value), Ok(100));
        assert_eq!(Score::clamped(140.2).value(), 100);
        assert_eq!(Score::clamped(-3.0).value(), 0);
        assert_eq!(Score::clamped(f64::NAN).value(), 0);
        assert_eq!(Score::clamped(72.5).value(), 73);
    }
}
