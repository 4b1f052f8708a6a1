//! Arbeitnow: `GET /api/job-board-api?page=N`, 100 jobs a page, paged until `links.next` is
//! null. There is no server-side search: the pages are fetched once per run (shared by every
//! category) and filtered here by the search term's words in the title.

use super::{search_query, select};
use async_trait::async_trait;
use serde::Deserialize;
use tokio::sync::OnceCell;

use super::html::description;
use super::model::{Num, RawListing, date_from_epoch, non_empty};
use super::{Endpoint, JobSource, SourceName, SourceResult, Target, parse_json};

/// Pages read per run at most (the newest first).
pub const MAX_PAGES: usize = 5;

#[derive(Deserialize)]
struct Page {
    data: Vec<Job>,
    #[serde(default)]
    links: Links,
}

#[derive(Deserialize, Default)]
struct Links {
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
struct Job {
    #[serde(default)]
    slug: Option<String>,
    #[serde(default)]
    company_name: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    remote: Option<bool>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    job_types: Vec<String>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    created_at: Num,
}

/// Listings of one page, and whether a next page exists.
pub fn parse(body: &str) -> SourceResult<(Vec<RawListing>, bool)> {
    let page: Page = parse_json("arbeitnow", body)?;
    let listings = page
        .data
        .into_iter()
        .filter_map(|j| {
            let mut l = RawListing::new(
                "arbeitnow",
                j.title.as_deref()?,
                j.company_name.as_deref()?,
                j.url.as_deref()?,
            );
            l.source_id = j.slug;
            l.location = non_empty(j.location.as_deref());
            l.is_remote = j.remote;
            l.job_type = (!j.job_types.is_empty()).then(|| j.job_types.join(", "));
            l.date_posted = j.created_at.0.and_then(date_from_epoch);
            l.description = description(j.description);
            l.is_complete().then_some(l)
        })
        .collect();
    Ok((listings, page.links.next.is_some()))
}

/// The Arbeitnow search source (client-side filtering).
#[derive(Debug)]
pub struct Arbeitnow {
    pub endpoint: Endpoint,
    pages: OnceCell<Vec<RawListing>>,
}

impl Arbeitnow {
    /// A source that reads the board at most once.
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            pages: OnceCell::new(),
        }
    }

    async fn all(&self) -> SourceResult<&Vec<RawListing>> {
        self.pages
            .get_or_try_init(|| async {
                let mut all = Vec::new();
                for page in 1..=MAX_PAGES {
                    let body = self
                        .endpoint
                        .get_json(
                            &self
                                .endpoint
                                .url(&format!("/api/job-board-api?page={page}")),
                        )
                        .await?;
                    let (listings, more) = parse(&body)?;
                    all.extend(listings);
                    if !more {
                        break;
                    }
                }
                Ok(all)
            })
            .await
    }
}

#[async_trait]
impl JobSource for Arbeitnow {
    fn name(&self) -> SourceName {
        SourceName::Arbeitnow
    }

    async fn fetch(&self, target: &Target) -> SourceResult<Vec<RawListing>> {
        let q = search_query(SourceName::Arbeitnow, target)?;
        Ok(select(self.all().await?, q))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_page_and_its_next_link() {
        let (jobs, more) =
            parse(include_str!("../../fixtures/arbeitnow/page1.json")).expect("parses");
        assert!(more);
        assert_eq!(jobs.len(), 2);
        let a = &jobs[0];
        assert_eq!(
            (a.title.as_str(), a.company.as_str()),
            (
                "Senior Software Engineer (m/w/d)",
                "Brückenbau Digital GmbH"
            )
        );
        assert_eq!(a.location.as_deref(), Some("Berlin"));
        assert_eq!(
            (a.is_remote, a.job_type.as_deref()),
            (Some(true), Some("full time, berufserfahren"))
        );
        assert_eq!(a.date_posted, chrono::NaiveDate::from_ymd_opt(2026, 11, 24));
        assert!(
            a.description
                .as_deref()
                .expect("text")
                .starts_with("Wir suchen")
        );
        let (last, more) =
            parse(include_str!("../../fixtures/arbeitnow/page2.json")).expect("parses");
        assert!(!more);
        assert_eq!(last.len(), 1);
    }
}
