//! Ashby Job Posting API: `GET /posting-api/job-board/{board}?includeCompensation=true`, the
//! whole board at once. Unlisted postings are skipped.

use super::board_of;
use async_trait::async_trait;
use serde::Deserialize;

use super::greenhouse::company_from_board;
use super::html::html_to_text;
use super::model::{Num, RawListing, Salary, SalaryInterval, non_empty, parse_date};
use super::{Endpoint, JobSource, SourceName, SourceResult, Target, not_found_as, parse_json};

#[derive(Deserialize)]
struct Board {
    jobs: Vec<Job>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Job {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    employment_type: Option<String>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    is_remote: Option<bool>,
    #[serde(default)]
    workplace_type: Option<String>,
    #[serde(default)]
    published_at: Option<String>,
    #[serde(default)]
    is_listed: Option<bool>,
    #[serde(default)]
    job_url: Option<String>,
    #[serde(default)]
    apply_url: Option<String>,
    #[serde(default)]
    description_plain: Option<String>,
    #[serde(default)]
    description_html: Option<String>,
    #[serde(default)]
    compensation: Option<Compensation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Compensation {
    #[serde(default)]
    summary_components: Vec<Component>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Component {
    #[serde(default)]
    compensation_type: Option<String>,
    #[serde(default)]
    interval: Option<String>,
    #[serde(default)]
    currency_code: Option<String>,
    #[serde(default)]
    min_value: Num,
    #[serde(default)]
    max_value: Num,
}

/// Listings of one board.
pub fn parse(body: &str, board: &str) -> SourceResult<Vec<RawListing>> {
    let parsed: Board = parse_json("ashby", body)?;
    let company = company_from_board(board);
    Ok(parsed
        .jobs
        .into_iter()
        .filter(|j| j.is_listed != Some(false))
        .filter_map(|j| {
            let mut l = RawListing::new(
                "ashby",
                j.title.as_deref()?,
                &company,
                j.job_url.as_deref()?,
            );
            l.source_id = j.id;
            l.job_url_direct = j.apply_url;
            l.location = non_empty(j.location.as_deref());
            // `isRemote` is also true for hybrid postings; `workplaceType` says which.
            l.is_remote = match j.workplace_type.as_deref() {
                Some("Remote") => Some(true),
                Some("OnSite" | "Hybrid") => Some(false),
                _ => j.is_remote,
            };
            l.job_type = non_empty(j.employment_type.as_deref());
            l.date_posted = j.published_at.as_deref().and_then(parse_date);
            l.description = j
                .description_plain
                .filter(|d| !d.trim().is_empty())
                .map(|d| d.trim().to_owned())
                .or_else(|| j.description_html.map(|h| html_to_text(&h)))
                .filter(|d| !d.is_empty());
            l.salary = j.compensation.and_then(|c| {
                c.summary_components
                    .into_iter()
                    .find(|s| s.compensation_type.as_deref() == Some("Salary"))
                    .and_then(|s| {
                        Salary::new(
                            s.min_value.0,
                            s.max_value.0,
                            s.currency_code,
                            s.interval.as_deref().and_then(SalaryInterval::parse_loose),
                            false,
                        )
                    })
            });
            l.is_complete().then_some(l)
        })
        .collect())
}

/// The Ashby board source.
#[derive(Debug)]
pub struct Ashby {
    pub endpoint: Endpoint,
}

#[async_trait]
impl JobSource for Ashby {
    fn name(&self) -> SourceName {
        SourceName::Ashby
    }

    async fn fetch(&self, target: &Target) -> SourceResult<Vec<RawListing>> {
        let board = board_of(SourceName::Ashby, target)?;
        let url = self.endpoint.url(&format!(
            "/posting-api/job-board/{board}?includeCompensation=true"
        ));
        let body = self
            .endpoint
            .get_json(&url)
            .await
            .map_err(|e| not_found_as(e, format!("ashby board {board}")))?;
        parse(&body, board)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::SourceError;

    #[test]
    fn parses_listed_jobs_with_compensation() {
        let jobs = parse(
            include_str!("../../fixtures/ashby/job_board.json"),
            "ridgeline",
        )
        .expect("parses");
        assert_eq!(jobs.len(), 2, "the unlisted job is skipped");
        let a = &jobs[0];
        assert_eq!(
            a.title, "Security Engineer, Cloud",
            "stray spaces are trimmed"
        );
        assert_eq!(a.company, "Ridgeline");
        assert_eq!(
            a.is_remote,
            Some(false),
            "hybrid is not remote even when isRemote is true"
        );
        assert_eq!(a.job_type.as_deref(), Some("FullTime"));
        assert_eq!(a.date_posted, chrono::NaiveDate::from_ymd_opt(2026, 10, 7));
        assert!(
            a.description
                .as_deref()
                .expect("text")
                .starts_with("ABOUT RIDGELINE")
        );
        let s = a.salary.as_ref().expect("salary");
        assert_eq!(
            (s.min, s.max, s.currency.as_deref(), s.interval),
            (
                Some(180000.0),
                Some(215000.0),
                Some("USD"),
                Some(SalaryInterval::Yearly)
            )
        );
        let b = &jobs[1];
        assert_eq!(b.is_remote, Some(true));
        assert_eq!(
            b.description.as_deref(),
            Some("Own the roadmap.\n- Talk to customers"),
            "HTML when no plain text"
        );
        assert_eq!(b.salary, None, "equity only is not a salary");
    }

    #[test]
    fn a_missing_jobs_key_is_malformed() {
        assert!(matches!(
            parse(r#"{"apiVersion":"1"}"#, "x"),
            Err(SourceError::Malformed(_))
        ));
    }
}
