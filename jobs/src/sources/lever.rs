//! Lever Postings API: `GET /v0/postings/{site}?mode=json&skip=N&limit=100`, a bare JSON array,
//! paged with `skip` until a short page. The title is `text`; `createdAt` is epoch ms.

use super::board_of;
use async_trait::async_trait;
use serde::Deserialize;

use super::greenhouse::company_from_board;
use super::model::{Num, RawListing, Salary, SalaryInterval, date_from_epoch, non_empty};
use super::{
    Endpoint, JobSource, SourceError, SourceName, SourceResult, Target, not_found_as, parse_json,
};

/// Postings per request.
pub const PAGE_SIZE: usize = 100;
/// Safety stop for a runaway board.
const MAX_PAGES: usize = 50;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Posting {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    categories: Categories,
    #[serde(default)]
    description_plain: Option<String>,
    #[serde(default)]
    lists: Vec<List>,
    #[serde(default)]
    additional_plain: Option<String>,
    #[serde(default)]
    hosted_url: Option<String>,
    #[serde(default)]
    apply_url: Option<String>,
    #[serde(default)]
    workplace_type: Option<String>,
    #[serde(default)]
    salary_range: Option<SalaryRange>,
    #[serde(default)]
    created_at: Num,
}

#[derive(Deserialize, Default)]
struct Categories {
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    commitment: Option<String>,
}

#[derive(Deserialize)]
struct List {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct SalaryRange {
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    interval: Option<String>,
    #[serde(default)]
    min: Num,
    #[serde(default)]
    max: Num,
}

/// Listings of one page of a site's postings.
pub fn parse(body: &str, site: &str) -> SourceResult<Vec<RawListing>> {
    let postings: Vec<Posting> = parse_json("lever", body)?;
    let company = company_from_board(site);
    Ok(postings
        .into_iter()
        .filter_map(|p| {
            let mut l = RawListing::new(
                "lever",
                p.text.as_deref()?,
                &company,
                p.hosted_url.as_deref()?,
            );
            l.source_id = p.id;
            l.job_url_direct = p.apply_url;
            l.location = non_empty(p.categories.location.as_deref());
            l.job_type = non_empty(p.categories.commitment.as_deref());
            l.is_remote = match p.workplace_type.as_deref() {
                Some("remote") => Some(true),
                Some("on-site" | "hybrid") => Some(false),
                _ => None,
            };
            l.date_posted = p.created_at.0.and_then(date_from_epoch);
            l.salary = p.salary_range.and_then(|s| {
                Salary::new(
                    s.min.0,
                    s.max.0,
                    s.currency,
                    s.interval.as_deref().and_then(SalaryInterval::parse_loose),
                    false,
                )
            });
            let mut description = p.description_plain.unwrap_or_default();
            for list in p.lists {
                let items = super::html::html_to_text(list.content.as_deref().unwrap_or_default());
                description.push_str(&format!("\n\n{}\n{items}", list.text.unwrap_or_default()));
            }
            if let Some(extra) = p.additional_plain {
                description.push_str(&format!("\n\n{extra}"));
            }
            l.description = non_empty_text(&description);
            l.is_complete().then_some(l)
        })
        .collect())
}

fn non_empty_text(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// The Lever board source.
#[derive(Debug)]
pub struct Lever {
    pub endpoint: Endpoint,
}

#[async_trait]
impl JobSource for Lever {
    fn name(&self) -> SourceName {
        SourceName::Lever
    }

    async fn fetch(&self, target: &Target) -> SourceResult<Vec<RawListing>> {
        let site = board_of(SourceName::Lever, target)?;
        let mut all = Vec::new();
        for page in 0..MAX_PAGES {
            let url = self.endpoint.url(&format!(
                "/v0/postings/{site}?mode=json&skip={}&limit={PAGE_SIZE}",
                page * PAGE_SIZE
            ));
            let body = self
                .endpoint
                .get_json(&url)
                .await
                .map_err(|e| not_found_as(e, format!("lever site {site}")))?;
            if body.trim_start().starts_with('{') && body.contains("\"ok\":false") {
                return Err(SourceError::NotFound(format!("lever site {site}")));
            }
            let raw_count = serde_json::from_str::<Vec<serde_json::Value>>(&body)
                .map(|v| v.len())
                .unwrap_or(0);
            all.extend(parse(&body, site)?);
            if raw_count < PAGE_SIZE {
                break;
            }
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POSTINGS: &str = include_str!("../../fixtures/lever/postings.json");

    #[test]
    fn parses_postings_with_absent_categories_and_salary() {
        let jobs = parse(POSTINGS, "quarry-labs").expect("parses");
        assert_eq!(jobs.len(), 3);
        let a = &jobs[0];
        assert_eq!(a.title, "Machine Learning Engineer");
        assert_eq!(a.company, "Quarry Labs");
        assert_eq!(
            a.source_id.as_deref(),
            Some("5f0c2a9e-1b7d-4c1e-9a51-7d2b6f1e0a11")
        );
        assert_eq!(
            a.job_url,
            "https://jobs.lever.co/quarry-labs/5f0c2a9e-1b7d-4c1e-9a51-7d2b6f1e0a11"
        );
        assert_eq!(
            a.job_url_direct.as_deref(),
            Some("https://jobs.lever.co/quarry-labs/5f0c2a9e-1b7d-4c1e-9a51-7d2b6f1e0a11/apply")
        );
        assert_eq!(a.location.as_deref(), Some("Amsterdam, Netherlands"));
        assert_eq!(a.is_remote, Some(true));
        assert_eq!(a.job_type.as_deref(), Some("Full-time"));
        assert_eq!(a.date_posted, chrono::NaiveDate::from_ymd_opt(2026, 10, 12));
        let s = a.salary.as_ref().expect("salary");
        assert_eq!(
            (s.min, s.max, s.currency.as_deref(), s.interval),
            (
                Some(90000.0),
                Some(120000.0),
                Some("EUR"),
                Some(SalaryInterval::Yearly)
            )
        );
        let d = a.description.as_deref().expect("description");
        assert!(
            d.contains("Qualifications\n- PyTorch\n- Production ML"),
            "{d}"
        );
        assert!(d.ends_with("We offer a 4-day week."), "{d}");
        let b = &jobs[1];
        assert_eq!(
            (
                b.location.as_deref(),
                b.job_type.as_deref(),
                b.is_remote,
                &b.salary
            ),
            (None, None, None, &None)
        );
        assert_eq!(jobs[2].is_remote, Some(false));
    }

    #[test]
    fn not_an_array_is_malformed() {
        assert!(matches!(
            parse(r#"{"ok":false,"error":"Document not found"}"#, "x"),
            Err(SourceError::Malformed(_))
        ));
        assert!(parse("[]", "x").expect("empty").is_empty());
    }
}
