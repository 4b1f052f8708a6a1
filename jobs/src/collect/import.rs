//! Ingest listings from a JobSpy export (CSV, or JSON Lines) through the collector's dedup and
//! upsert. Columns: site, title, company, location, job_url, job_url_direct, description,
//! date_posted, is_remote, job_type, min_amount, max_amount, currency, interval (others are
//! ignored). Rows stream through the store in chunks (only keys are held, so memory stays flat
//! whatever the file's size). Rows join the categories whose keywords their titles match, or one category for
//! every row. Text is cleaned of control characters like a source's. A bad row is reported with
//! its line number and skipped, a listing the database refuses is reported with its title; the
//! rest land.

use std::collections::HashMap;
use std::io::BufRead;

use chrono::Utc;
use entity::CategorySlug;
use sea_orm::DatabaseConnection;
use serde_json::Value;

use super::run::title_matches_keywords;
use super::store::Sink;
use crate::catalog;
use crate::sources::html::html_to_text;
use crate::sources::model::{RawListing, Salary, SalaryInterval, date_from_epoch, parse_date};
use crate::{Error, Result};

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Data rows read (not counting a CSV header).
    pub rows: usize,
    /// Rows skipped: (line number, why).
    pub bad: Vec<(usize, String)>,
    /// Good rows whose title matched no category.
    pub unmatched: usize,
    /// Distinct listings after dedup.
    pub unique: usize,
    pub inserted: u64,
    /// Distinct listings that were stored already (by a posting or the same opening): their
    /// postings and links were added, no new listing.
    pub matched: u64,
    /// Listings the database refused: "title (url): why". The rest landed.
    pub rejected: Vec<String>,
}

/// One row: column name → value.
pub type Row = HashMap<String, Value>;
/// A row with its line number, or why that line is unreadable.
pub type NumberedRow = (usize, std::result::Result<Row, String>);

/// The file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

impl Format {
    /// JSON Lines when the first non-blank character is `{`, else CSV.
    pub fn sniff(head: &str) -> Self {
        if head.trim_start().starts_with('{') {
            Self::JsonLines
        } else {
            Self::Csv
        }
    }
}

/// Reads rows lazily as column → value maps, each with its line number, or why it is
/// unreadable.
pub fn read_rows<'a>(
    reader: impl BufRead + 'a,
    format: Format,
) -> Box<dyn Iterator<Item = NumberedRow> + 'a> {
    match format {
        Format::JsonLines => Box::new(reader.lines().enumerate().filter_map(|(i, line)| {
            let line_no = i + 1;
            match line {
                Err(e) => Some((line_no, Err(format!("unreadable line: {e}")))),
                Ok(l) if l.trim().is_empty() => None,
                Ok(l) => Some((
                    line_no,
                    serde_json::from_str::<Row>(&l).map_err(|e| format!("not a JSON object: {e}")),
                )),
            }
        })),
        Format::Csv => {
            let mut csv = csv::ReaderBuilder::new()
                .flexible(false)
                .from_reader(reader);
            let headers: Vec<String> = match csv.headers() {
                Ok(h) => h.iter().map(|s| s.trim().to_lowercase()).collect(),
                Err(e) => {
                    return Box::new(std::iter::once((1, Err(format!("unreadable header: {e}")))));
                }
            };
            Box::new(csv.into_records().map(move |record| match record {
                Ok(r) => {
                    let line = r.position().map_or(0, |p| p.line() as usize);
                    (
                        line,
                        Ok(headers
                            .iter()
                            .cloned()
                            .zip(r.iter().map(|v| Value::String(v.to_owned())))
                            .collect()),
                    )
                }
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line() as usize);
                    (line, Err(format!("malformed CSV: {e}")))
                }
            }))
        }
    }
}

fn text(row: &HashMap<String, Value>, key: &str) -> Option<String> {
    match row.get(key)? {
        Value::String(s) => {
            let t = s.trim();
            (!t.is_empty() && !t.eq_ignore_ascii_case("nan") && !t.eq_ignore_ascii_case("none"))
                .then(|| t.to_owned())
        }
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn number(row: &HashMap<String, Value>, key: &str) -> std::result::Result<Option<f64>, String> {
    match row.get(key) {
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(_)) => match text(row, key) {
            None => Ok(None),
            Some(s) => s
                .replace(',', "")
                .parse()
                .map(Some)
                .map_err(|_| format!("{key} is not a number: {s:?}")),
        },
        _ => Ok(None),
    }
}

/// JobSpy's site names as stored sources.
fn site_name(site: Option<&str>) -> &'static str {
    const KNOWN: &[&str] = &[
        "linkedin",
        "indeed",
        "zip_recruiter",
        "glassdoor",
        "google",
        "bayt",
        "naukri",
        "bdjobs",
        "greenhouse",
        "lever",
        "ashby",
        "workable",
        "smartrecruiters",
        "recruitee",
        "remoteok",
        "remotive",
        "arbeitnow",
        "hackernews",
    ];
    let site = site.unwrap_or_default().to_lowercase();
    KNOWN
        .iter()
        .find(|k| **k == site)
        .copied()
        .unwrap_or("import")
}

/// One row as a listing, or why it cannot be one.
pub fn listing_of(row: &HashMap<String, Value>) -> std::result::Result<RawListing, String> {
    let title = text(row, "title").ok_or("missing title")?;
    let company = text(row, "company").ok_or("missing company")?;
    let url = text(row, "job_url").ok_or("missing job_url")?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("job_url is not an http(s) URL: {url:?}"));
    }
    let mut l = RawListing::new(
        site_name(text(row, "site").as_deref()),
        &title,
        &company,
        &url,
    );
    l.source_id = text(row, "id");
    l.location = text(row, "location");
    l.job_url_direct = text(row, "job_url_direct");
    l.description = text(row, "description").map(|d| {
        if d.starts_with('<') {
            html_to_text(&d)
        } else {
            d
        }
    });
    l.date_posted = match row.get("date_posted") {
        Some(Value::Number(n)) => n.as_f64().and_then(date_from_epoch),
        _ => match text(row, "date_posted") {
            None => None,
            Some(d) => {
                Some(parse_date(&d).ok_or_else(|| format!("date_posted is not a date: {d:?}"))?)
            }
        },
    };
    l.is_remote = match text(row, "is_remote").map(|s| s.to_lowercase()).as_deref() {
        None => None,
        Some("true" | "1" | "yes") => Some(true),
        Some("false" | "0" | "no") => Some(false),
        Some(other) => return Err(format!("is_remote is not true/false: {other:?}")),
    };
    l.job_type = text(row, "job_type");
    let interval = text(row, "interval")
        .map(|i| SalaryInterval::parse_loose(&i).ok_or_else(|| format!("unknown interval {i:?}")))
        .transpose()?;
    l.salary = Salary::new(
        number(row, "min_amount")?,
        number(row, "max_amount")?,
        text(row, "currency"),
        interval,
        false,
    );
    let l = l.cleaned();
    if !l.is_complete() {
        return Err(
            "title, company or job_url is empty once control characters are removed".into(),
        );
    }
    Ok(l)
}

/// Imports `reader` (in `format`) into the store. With `category`, every row joins it;
/// otherwise rows join the active categories whose keywords their titles match.
pub async fn import(
    db: &DatabaseConnection,
    reader: impl BufRead,
    format: Format,
    category: Option<&CategorySlug>,
    chunk: usize,
) -> Result<ImportReport> {
    let categories =
        match category {
            Some(slug) => vec![catalog::find(db, slug).await?.ok_or_else(|| {
                Error::NotFound(format!("no search category has the slug {slug}"))
            })?],
            None => catalog::list(db, false).await?,
        };
    let mut report = ImportReport::default();
    let mut sink = Sink::new(db, chunk, Utc::now());
    for (line, row) in read_rows(reader, format) {
        report.rows += 1;
        let listing = match row.and_then(|r| listing_of(&r)) {
            Ok(l) => l,
            Err(why) => {
                report.bad.push((line, why));
                continue;
            }
        };
        let matching: Vec<i64> = if category.is_some() {
            categories.iter().map(|c| c.id).collect()
        } else {
            categories
                .iter()
                .filter(|c| title_matches_keywords(&listing.title, &c.keywords.0))
                .map(|c| c.id)
                .collect()
        };
        if matching.is_empty() {
            report.unmatched += 1;
            continue;
        }
        sink.add(listing, &matching).await?;
    }
    report.unique = sink.unique();
    let stored = sink.finish().await?;
    report.inserted = stored.inserted;
    report.matched = stored.matched;
    report.rejected = stored
        .rejected
        .into_iter()
        .map(|r| format!("{:?} ({}): {}", r.title, r.job_url, r.reason))
        .collect();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_with_jobspy_columns() {
        let csv = "id,site,job_url,job_url_direct,title,company,location,date_posted,job_type,salary_source,interval,min_amount,max_amount,currency,is_remote,description\n\
                   li-1,linkedin,https://www.linkedin.com/jobs/view/1,,Data Engineer,Acme,\"Berlin, BE, Germany\",2026-11-20,fulltime,direct_data,yearly,70000,90000,EUR,False,Build **pipelines**\n\
                   in-2,indeed,not-a-url,,Broken,Acme,,,,,,,,,,\n\
                   in-3,indeed,https://www.indeed.com/viewjob?jk=3,,Nurse,Clinic,,2026-11-21,,,,nan,nan,,True,\n";
        let rows: Vec<NumberedRow> = read_rows(csv.as_bytes(), Format::sniff(csv)).collect();
        assert_eq!(rows.len(), 3);
        let first = listing_of(rows[0].1.as_ref().expect("row")).expect("listing");
        assert_eq!(
            (
                first.source,
                first.title.as_str(),
                first.location.as_deref()
            ),
            ("linkedin", "Data Engineer", Some("Berlin, BE, Germany"))
        );
        let s = first.salary.expect("salary");
        assert_eq!(
            (s.min, s.max, s.currency.as_deref(), s.interval),
            (
                Some(70000.0),
                Some(90000.0),
                Some("EUR"),
                Some(SalaryInterval::Yearly)
            )
        );
        assert_eq!(first.is_remote, Some(false));
        assert_eq!(rows[1].0, 3, "line numbers count the header");
        assert!(
            listing_of(rows[1].1.as_ref().expect("row"))
                .expect_err("bad url")
                .contains("job_url")
        );
        let third = listing_of(rows[2].1.as_ref().expect("row")).expect("listing");
        assert_eq!(
            (third.salary, third.is_remote),
            (None, Some(true)),
            "nan amounts are no salary"
        );
    }

    #[test]
    fn json_lines_with_epoch_dates_and_bad_lines() {
        let jsonl = "{\"site\":\"indeed\",\"title\":\"QA Engineer\",\"company\":\"Acme\",\"job_url\":\"https://x/1\",\"date_posted\":1795478400000,\"is_remote\":true,\"min_amount\":50,\"max_amount\":60,\"interval\":\"hourly\",\"currency\":\"USD\"}\n\
                     \n\
                     {not json}\n\
                     {\"title\":\"No company\",\"job_url\":\"https://x/2\"}\n";
        let rows: Vec<NumberedRow> = read_rows(jsonl.as_bytes(), Format::sniff(jsonl)).collect();
        assert_eq!(rows.len(), 3, "blank lines are skipped");
        let l = listing_of(rows[0].1.as_ref().expect("row")).expect("listing");
        assert_eq!(l.date_posted, chrono::NaiveDate::from_ymd_opt(2026, 11, 24));
        assert_eq!(
            l.salary.expect("salary").interval,
            Some(SalaryInterval::Hourly)
        );
        assert_eq!(rows[1].0, 3);
        assert!(rows[1].1.is_err());
        assert_eq!(
            listing_of(rows[2].1.as_ref().expect("row")).expect_err("missing"),
            "missing company"
        );
    }

    #[test]
    fn bad_values_name_the_column() {
        let row: HashMap<String, Value> = serde_json::from_str(
            r#"{"title":"t","company":"c","job_url":"https://x","min_amount":"lots"}"#,
        )
        .expect("json");
        assert!(listing_of(&row).expect_err("bad").contains("min_amount"));
        let row: HashMap<String, Value> = serde_json::from_str(
            r#"{"title":"t","company":"c","job_url":"https://x","date_posted":"yesterday"}"#,
        )
        .expect("json");
        assert!(listing_of(&row).expect_err("bad").contains("date_posted"));
    }
}
