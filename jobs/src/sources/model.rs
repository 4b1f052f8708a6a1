//! What every source produces: listings normalized to one shape.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer};

/// How often a salary is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SalaryInterval {
    Yearly,
    Monthly,
    Weekly,
    Daily,
    Hourly,
}

impl SalaryInterval {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Yearly => "yearly",
            Self::Monthly => "monthly",
            Self::Weekly => "weekly",
            Self::Daily => "daily",
            Self::Hourly => "hourly",
        }
    }

    /// Reads the many spellings boards use (`YEAR`, `per-year-salary`, `annual`, `1 YEAR`, `month`, …).
    pub fn parse_loose(s: &str) -> Option<Self> {
        let s = s.to_ascii_lowercase();
        if s.contains("year") || s.contains("annual") || s == "pa" {
            Some(Self::Yearly)
        } else if s.contains("month") {
            Some(Self::Monthly)
        } else if s.contains("week") {
            Some(Self::Weekly)
        } else if s.contains("day") || s.contains("daily") {
            Some(Self::Daily)
        } else if s.contains("hour") || s == "ph" {
            Some(Self::Hourly)
        } else {
            None
        }
    }
}

/// Pay as the board stated it (or estimated it).
#[derive(Debug, Clone, PartialEq)]
pub struct Salary {
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// ISO 4217 code when known.
    pub currency: Option<String>,
    pub interval: Option<SalaryInterval>,
    /// True when the board estimated it rather than the employer stating it.
    pub estimated: bool,
}

impl Salary {
    /// A salary when at least one bound is a positive number; bounds are put in order.
    pub fn new(
        min: Option<f64>,
        max: Option<f64>,
        currency: Option<String>,
        interval: Option<SalaryInterval>,
        estimated: bool,
    ) -> Option<Self> {
        let positive = |v: Option<f64>| v.filter(|v| v.is_finite() && *v > 0.0);
        let (mut min, mut max) = (positive(min), positive(max));
        if let (Some(a), Some(b)) = (min, max)
            && a > b
        {
            (min, max) = (Some(b), Some(a));
        }
        if min.is_none() && max.is_none() {
            return None;
        }
        let currency = currency
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty());
        Some(Self {
            min,
            max,
            currency,
            interval,
            estimated,
        })
    }
}

/// One posting, normalized. `description` is plain text.
#[derive(Debug, Clone, PartialEq)]
pub struct RawListing {
    pub title: String,
    pub company: String,
    pub location: Option<String>,
    pub job_url: String,
    pub job_url_direct: Option<String>,
    /// The source's name (`greenhouse`, `linkedin`, …).
    pub source: &'static str,
    /// The board's own id for the posting.
    pub source_id: Option<String>,
    pub description: Option<String>,
    pub date_posted: Option<NaiveDate>,
    pub is_remote: Option<bool>,
    pub job_type: Option<String>,
    pub salary: Option<Salary>,
    /// `source:board` when the listing came from a company board's complete list (set by the
    /// run, which closes the postings a board no longer lists).
    pub board: Option<String>,
}

impl RawListing {
    /// A listing with the required fields and nothing else.
    pub fn new(source: &'static str, title: &str, company: &str, job_url: &str) -> Self {
        Self {
            title: collapse(title),
            company: collapse(company),
            location: None,
            job_url: job_url.trim().to_owned(),
            job_url_direct: None,
            source,
            source_id: None,
            description: None,
            date_posted: None,
            is_remote: None,
            job_type: None,
            salary: None,
            board: None,
        }
    }

    /// The listing with control characters removed from every text field ([`clean_line`],
    /// [`clean_block`] for the description): what every source's listings and every imported
    /// row go through before they are deduplicated and stored.
    ///
    /// [`clean_line`]: crate::text::clean_line
    /// [`clean_block`]: crate::text::clean_block
    #[must_use]
    pub fn cleaned(mut self) -> Self {
        use crate::text::{clean_block, clean_line};
        let line = |s: Option<String>| s.map(|s| clean_line(&s)).filter(|s| !s.is_empty());
        self.title = clean_line(&self.title);
        self.company = clean_line(&self.company);
        self.job_url = clean_line(&self.job_url);
        self.location = line(self.location);
        self.job_url_direct = line(self.job_url_direct);
        self.source_id = line(self.source_id);
        self.job_type = line(self.job_type);
        self.description = self
            .description
            .map(|d| clean_block(&d))
            .filter(|d| !d.trim().is_empty());
        if let Some(salary) = &mut self.salary {
            salary.currency = line(salary.currency.take());
        }
        self
    }

    /// Whether it has what a stored listing needs (title, company, URL).
    pub fn is_complete(&self) -> bool {
        !self.title.is_empty() && !self.company.is_empty() && self.job_url.starts_with("http")
    }
}

/// Whitespace runs collapsed to one space, ends trimmed.
pub fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `Some(trimmed)` unless empty.
pub fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(collapse).filter(|s| !s.is_empty())
}

/// A JSON value that boards send as a number or as a string ("60000", 60000, "60000.5").
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Num(pub Option<f64>);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Ok(Self(match v {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => s.trim().replace(',', "").parse().ok(),
            _ => None,
        }))
    }
}

/// A JSON id that boards send as a number or a string; kept as a string.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Id(pub Option<String>);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Ok(Self(match v {
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            _ => None,
        }))
    }
}

/// The date part of an RFC 3339 / ISO 8601 timestamp, with or without offset
/// (`2026-08-25T17:40:40-04:00`, `2020-02-15T10:23:26`, `2026-08-28 11:47:47 UTC`, `2026-07-31`).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(dt.date_naive());
    }
    s.get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

/// The UTC date of a Unix time in seconds or milliseconds.
pub fn date_from_epoch(v: f64) -> Option<NaiveDate> {
    let secs = if v > 1e11 { v / 1000.0 } else { v };
    chrono::DateTime::from_timestamp(secs as i64, 0).map(|dt| dt.date_naive())
}

/// Reads a salary written as text: `$40,000 - $50,000`, `€75k–110k`, `$20.00/hr - $24.00/hr`,
/// `£45k`. Currency from the symbol (or an ISO code in the text), interval from words like
/// `/hr`, `hour`, `month`, `year`; `None` when no amount is found.
pub fn parse_salary_text(text: &str) -> Option<Salary> {
    let lower = text.to_lowercase();
    let currency = if text.contains('€') || lower.contains("eur") {
        Some("EUR")
    } else if text.contains('£') || lower.contains("gbp") {
        Some("GBP")
    } else if text.contains('$') || lower.contains("usd") {
        Some("USD")
    } else {
        None
    };
    let mut amounts = Vec::new();
    let chars: Vec<char> = lower.chars().collect();
    let mut i = 0;
    while i < chars.len() && amounts.len() < 2 {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_digit() || chars[i] == ',' || chars[i] == '.')
            {
                i += 1;
            }
            let digits: String = chars[start..i].iter().filter(|c| **c != ',').collect();
            let mut value: f64 = digits.trim_end_matches('.').parse().unwrap_or(0.0);
            if chars.get(i) == Some(&'k') {
                value *= 1000.0;
            }
            amounts.push(value);
        }
        i += 1;
    }
    let interval = if lower.contains("/hr") || lower.contains("hour") || lower.contains("/h ") {
        Some(SalaryInterval::Hourly)
    } else if lower.contains("month") || lower.contains("/mo") {
        Some(SalaryInterval::Monthly)
    } else if lower.contains("week") {
        Some(SalaryInterval::Weekly)
    } else if lower.contains("day") {
        Some(SalaryInterval::Daily)
    } else if lower.contains("year")
        || lower.contains("/yr")
        || lower.contains("annual")
        || amounts.first().is_some_and(|a| *a >= 10_000.0)
    {
        Some(SalaryInterval::Yearly)
    } else {
        None
    };
    Salary::new(
        amounts.first().copied(),
        amounts.get(1).copied(),
        currency.map(str::to_owned),
        interval,
        false,
    )
}

/// Whether text mentions remote work.
pub fn mentions_remote(text: &str) -> bool {
    let t = text.to_lowercase();
    t.contains("remote") || t.contains("work from home") || t.contains("wfh")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning_reaches_every_text_field() {
        let mut l = RawListing::new("lever", "Nurse\u{0}", "Clinic\u{0}", "https://x/1\u{0}");
        l.location = Some("\u{0}".into());
        l.description = Some("Care\u{0}\nfor people".into());
        l.source_id = Some("id\u{1}".into());
        l.salary = Salary::new(Some(1.0), None, Some("US\u{0}D".into()), None, false);
        let l = l.cleaned();
        assert_eq!(
            (l.title.as_str(), l.company.as_str(), l.job_url.as_str()),
            ("Nurse", "Clinic", "https://x/1")
        );
        assert_eq!(
            l.location, None,
            "nothing but a control character is no value"
        );
        assert_eq!(l.description.as_deref(), Some("Care\nfor people"));
        assert_eq!(l.source_id.as_deref(), Some("id"));
        assert_eq!(l.salary.and_then(|s| s.currency).as_deref(), Some("USD"));
    }

    #[test]
    fn dates_in_the_shapes_boards_send() {
        let d = NaiveDate::from_ymd_opt(2026, 8, 25);
        assert_eq!(parse_date("2026-08-25T17:40:40-04:00"), d);
        assert_eq!(parse_date("2026-08-25T10:23:26"), d);
        assert_eq!(parse_date("2026-08-25 11:47:47 UTC"), d);
        assert_eq!(parse_date("2026-08-25"), d);
        assert_eq!(parse_date("last week"), None);
        assert_eq!(
            date_from_epoch(1_553_186_035_299.0),
            NaiveDate::from_ymd_opt(2019, 3, 21)
        );
        assert_eq!(
            date_from_epoch(1_789_776_000.0),
            NaiveDate::from_ymd_opt(2026, 9, 19)
        );
    }

    #[test]
    fn numbers_and_ids_as_numbers_or_strings() {
        let n: Vec<Num> =
            serde_json::from_str(r#"[1, "2", " 3.5 ", "60,000", "", null, "x"]"#).expect("json");
        assert_eq!(
            n.iter().map(|n| n.0).collect::<Vec<_>>(),
            [
                Some(1.0),
                Some(2.0),
                Some(3.5),
                Some(60000.0),
                None,
                None,
                None
            ]
        );
        let ids: Vec<Id> = serde_json::from_str(r#"[7532733, "abc", "", null]"#).expect("json");
        assert_eq!(
            ids.iter().map(|i| i.0.as_deref()).collect::<Vec<_>>(),
            [Some("7532733"), Some("abc"), None, None]
        );
    }

    #[test]
    fn salaries_from_text() {
        let s = parse_salary_text("$40,000 - $50,000").expect("salary");
        assert_eq!(
            (s.min, s.max, s.currency.as_deref(), s.interval),
            (
                Some(40000.0),
                Some(50000.0),
                Some("USD"),
                Some(SalaryInterval::Yearly)
            )
        );
        let s = parse_salary_text("€75k–110k").expect("salary");
        assert_eq!(
            (s.min, s.max, s.currency.as_deref()),
            (Some(75000.0), Some(110000.0), Some("EUR"))
        );
        let s = parse_salary_text("$20.00/hr - $24.00/hr").expect("salary");
        assert_eq!(
            (s.min, s.max, s.interval),
            (Some(20.0), Some(24.0), Some(SalaryInterval::Hourly))
        );
        assert_eq!(parse_salary_text("Competitive"), None);
    }

    #[test]
    fn salaries_need_a_positive_bound_and_come_in_order() {
        assert_eq!(Salary::new(Some(0.0), Some(0.0), None, None, false), None);
        let s = Salary::new(
            Some(90.0),
            Some(50.0),
            Some(" usd ".into()),
            Some(SalaryInterval::Hourly),
            false,
        )
        .expect("salary");
        assert_eq!(
            (s.min, s.max, s.currency.as_deref()),
            (Some(50.0), Some(90.0), Some("USD"))
        );
        assert_eq!(
            SalaryInterval::parse_loose("per-year-salary"),
            Some(SalaryInterval::Yearly)
        );
        assert_eq!(
            SalaryInterval::parse_loose("1 YEAR"),
            Some(SalaryInterval::Yearly)
        );
        assert_eq!(
            SalaryInterval::parse_loose("HOUR"),
            Some(SalaryInterval::Hourly)
        );
        assert_eq!(
            SalaryInterval::parse_loose("month"),
            Some(SalaryInterval::Monthly)
        );
        assert_eq!(SalaryInterval::parse_loose("fortnight"), None);
    }
}
