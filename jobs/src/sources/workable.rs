//! Workable public accounts API: `GET /api/accounts/{slug}?details=true`, the whole account.
//! `telecommuting` is the remote flag; empty strings and nulls both mean "absent".

use super::board_of;
use async_trait::async_trait;
use serde::Deserialize;

use super::html::description;
use super::model::{RawListing, non_empty, parse_date};
use super::{Endpoint, JobSource, SourceName, SourceResult, Target, not_found_as, parse_json};

#[derive(Deserialize)]
struct Account {
    #[serde(default)]
    name: Option<String>,
    jobs: Vec<Job>,
}

#[derive(Deserialize)]
struct Job {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    shortcode: Option<String>,
    #[serde(default)]
    employment_type: Option<String>,
    #[serde(default)]
    telecommuting: Option<bool>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    application_url: Option<String>,
    #[serde(default)]
    published_on: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

/// Listings of one account.
pub fn parse(body: &str, slug: &str) -> SourceResult<Vec<RawListing>> {
    let account: Account = parse_json("workable", body)?;
    let company = non_empty(account.name.as_deref())
        .unwrap_or_else(|| super::greenhouse::company_from_board(slug));
    Ok(account
        .jobs
        .into_iter()
        .filter_map(|j| {
            let mut l =
                RawListing::new("workable", j.title.as_deref()?, &company, j.url.as_deref()?);
            l.source_id = j.shortcode;
            l.job_url_direct = j.application_url;
            let parts: Vec<String> = [j.city, j.state, j.country]
                .iter()
                .filter_map(|p| non_empty(p.as_deref()))
                .collect();
            l.location = (!parts.is_empty()).then(|| parts.join(", "));
            l.is_remote = j.telecommuting;
            l.job_type = non_empty(j.employment_type.as_deref());
            l.date_posted = j
                .published_on
                .or(j.created_at)
                .as_deref()
                .and_then(parse_date);
            l.description = description(j.description);
            l.is_complete().then_some(l)
        })
        .collect())
}

/// The Workable board source.
#[derive(Debug)]
pub struct Workable {
    pub endpoint: Endpoint,
}

#[async_trait]
impl JobSource for Workable {
    fn name(&self) -> SourceName {
        SourceName::Workable
    }

    async fn fetch(&self, target: &Target) -> SourceResult<Vec<RawListing>> {
        let slug = board_of(SourceName::Workable, target)?;
        let url = self
            .endpoint
            .url(&format!("/api/accounts/{slug}?details=true"));
        let body = self
            .endpoint
            .get_json(&url)
            .await
            .map_err(|e| not_found_as(e, format!("workable account {slug}")))?;
        parse(&body, slug)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_an_account_with_empty_and_null_location_parts() {
        let jobs = parse(
            include_str!("../../fixtures/workable/account.json"),
            "harbor",
        )
        .expect("parses");
        assert_eq!(jobs.len(), 2);
        let a = &jobs[0];
        assert_eq!(
            (a.title.as_str(), a.company.as_str()),
            ("Manager, Project Management", "Harbor Analytics")
        );
        assert_eq!(
            a.location.as_deref(),
            Some("New York, New York, United States")
        );
        assert_eq!(a.is_remote, Some(true));
        assert_eq!(a.source_id.as_deref(), Some("AB12CD34EF"));
        assert_eq!(a.date_posted, chrono::NaiveDate::from_ymd_opt(2026, 10, 2));
        assert!(
            a.description
                .as_deref()
                .expect("text")
                .contains("$125,000.00 - $145,000.00")
        );
        let b = &jobs[1];
        assert_eq!(
            b.location.as_deref(),
            Some("Greece"),
            "empty city and null state are skipped"
        );
        assert_eq!(b.is_remote, Some(false));
    }
}
