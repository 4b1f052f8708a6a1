//! Remotive: `GET /api/remote-jobs?search={term}&limit={n}`. Its terms: link back and name
//! Remotive (the stored URL and source do), and no more than 2 requests a minute (the
//! default policy waits 31 s between requests). `publication_date` has no time zone.

use super::{recent, search_query};
use async_trait::async_trait;
use serde::Deserialize;

use super::html::description;
use super::model::{Id, RawListing, non_empty, parse_date, parse_salary_text};
use super::{
    Endpoint, JobSource, SearchQuery, SourceError, SourceName, SourceResult, Target, parse_json,
};

#[derive(Deserialize)]
struct Response {
    jobs: Vec<Job>,
}

#[derive(Deserialize)]
struct Job {
    #[serde(default)]
    id: Id,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    company_name: Option<String>,
    #[serde(default)]
    job_type: Option<String>,
    #[serde(default)]
    publication_date: Option<String>,
    #[serde(default)]
    candidate_required_location: Option<String>,
    #[serde(default)]
    salary: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

/// Listings of one search response.
pub fn parse(body: &str) -> SourceResult<Vec<RawListing>> {
    let parsed: Response = parse_json("remotive", body)?;
    Ok(parsed
        .jobs
        .into_iter()
        .filter_map(|j| {
            let mut l = RawListing::new(
                "remotive",
                j.title.as_deref()?,
                j.company_name.as_deref()?,
                j.url.as_deref()?,
            );
            l.source_id = j.id.0;
            l.location = non_empty(j.candidate_required_location.as_deref());
            l.is_remote = Some(true);
            l.job_type = non_empty(j.job_type.as_deref());
            l.date_posted = j.publication_date.as_deref().and_then(parse_date);
            l.salary = j.salary.as_deref().and_then(parse_salary_text);
            l.description = description(j.description);
            l.is_complete().then_some(l)
        })
        .collect())
}

/// The Remotive search source.
#[derive(Debug)]
pub struct Remotive {
    pub endpoint: Endpoint,
}

#[async_trait]
impl JobSource for Remotive {
    fn name(&self) -> SourceName {
        SourceName::Remotive
    }

    async fn fetch(&self, target: &Target) -> SourceResult<Vec<RawListing>> {
        let SearchQuery {
            term,
            hours_old,
            results_wanted,
            ..
        } = search_query(SourceName::Remotive, target)?;
        let url = reqwest::Url::parse_with_params(
            &self.endpoint.url("/api/remote-jobs"),
            &[
                ("search", term.as_str()),
                ("limit", &results_wanted.to_string()),
            ],
        )
        .map_err(|e| SourceError::Unavailable(format!("remotive URL: {e}")))?;
        let body = self.endpoint.get_json(url.as_str()).await?;
        let mut listings = recent(parse(&body)?, *hours_old);
        listings.truncate(*results_wanted);
        Ok(listings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_search_response() {
        let jobs = parse(include_str!("../../fixtures/remotive/search.json")).expect("parses");
        assert_eq!(jobs.len(), 2, "the job without a company is skipped");
        let a = &jobs[0];
        assert_eq!(
            (a.title.as_str(), a.company.as_str()),
            ("Lead Backend Developer", "Cobalt Mail")
        );
        assert_eq!(a.location.as_deref(), Some("Worldwide"));
        assert_eq!(a.date_posted, chrono::NaiveDate::from_ymd_opt(2026, 11, 20));
        assert_eq!(a.salary.as_ref().and_then(|s| s.max), Some(150000.0));
        assert_eq!(
            a.description.as_deref(),
            Some("Elixir and Postgres.\n- Own the mail pipeline")
        );
        assert_eq!(jobs[1].job_type, None, "an empty job_type is none");
    }

    #[test]
    fn old_listings_are_dropped_by_hours_old() {
        let mut old = RawListing::new("remotive", "t", "c", "https://x");
        old.date_posted = chrono::NaiveDate::from_ymd_opt(2020, 1, 1);
        let undated = RawListing::new("remotive", "u", "c", "https://y");
        let kept = recent(vec![old, undated], 72);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].title, "u");
    }
}
