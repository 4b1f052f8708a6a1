//! SmartRecruiters Posting API: `GET /v1/companies/{company}/postings?limit=100&offset=N`,
//! paged until `offset ≥ totalFound`. The list has no human URL; the public job page is
//! `https://jobs.smartrecruiters.com/{company}/{id}`. Descriptions need one detail request
//! per posting, so list entries carry none.

use super::board_of;
use async_trait::async_trait;
use serde::Deserialize;

use super::model::{Id, Num, RawListing, non_empty, parse_date};
use super::{Endpoint, JobSource, SourceName, SourceResult, Target, not_found_as, parse_json};

/// Postings per request (the API's maximum).
pub const PAGE_SIZE: usize = 100;
const MAX_PAGES: usize = 50;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    #[serde(default)]
    offset: Num,
    #[serde(default)]
    total_found: Num,
    content: Vec<Posting>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Posting {
    #[serde(default)]
    id: Id,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    company: Option<Company>,
    #[serde(default)]
    released_date: Option<String>,
    #[serde(default)]
    location: Option<Location>,
    #[serde(default)]
    type_of_employment: Option<Labelled>,
}

#[derive(Deserialize)]
struct Company {
    #[serde(default)]
    identifier: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    remote: Option<bool>,
    #[serde(default)]
    full_location: Option<String>,
}

#[derive(Deserialize)]
struct Labelled {
    #[serde(default)]
    label: Option<String>,
}

/// Listings of one page, and whether more pages follow.
pub fn parse(body: &str, company: &str) -> SourceResult<(Vec<RawListing>, bool)> {
    let page: Page = parse_json("smartrecruiters", body)?;
    let count = page.content.len() as f64;
    let more = match (page.offset.0, page.total_found.0) {
        (Some(offset), Some(total)) => offset + count < total && count > 0.0,
        _ => false,
    };
    let listings = page
        .content
        .into_iter()
        .filter_map(|p| {
            let id = p.id.0?;
            let (identifier, name) = match p.company {
                Some(c) => (c.identifier, c.name),
                None => (None, None),
            };
            let identifier = identifier.unwrap_or_else(|| company.to_owned());
            let url = format!("https://jobs.smartrecruiters.com/{identifier}/{id}");
            let company_name = non_empty(name.as_deref()).unwrap_or_else(|| identifier.clone());
            let mut l = RawListing::new("smartrecruiters", p.name.as_deref()?, &company_name, &url);
            l.source_id = Some(id);
            if let Some(loc) = p.location {
                l.is_remote = loc.remote;
                l.location = non_empty(loc.full_location.as_deref()).or_else(|| {
                    let parts: Vec<String> =
                        [loc.city, loc.region, loc.country.map(|c| c.to_uppercase())]
                            .iter()
                            .filter_map(|x| non_empty(x.as_deref()))
                            .collect();
                    (!parts.is_empty()).then(|| parts.join(", "))
                });
            }
            l.job_type = p
                .type_of_employment
                .and_then(|t| non_empty(t.label.as_deref()));
            l.date_posted = p.released_date.as_deref().and_then(parse_date);
            l.is_complete().then_some(l)
        })
        .collect();
    Ok((listings, more))
}

/// The SmartRecruiters board source.
#[derive(Debug)]
pub struct SmartRecruiters {
    pub endpoint: Endpoint,
}

#[async_trait]
impl JobSource for SmartRecruiters {
    fn name(&self) -> SourceName {
        SourceName::Smartrecruiters
    }

    async fn fetch(&self, target: &Target) -> SourceResult<Vec<RawListing>> {
        let company = board_of(SourceName::Smartrecruiters, target)?;
        let mut all = Vec::new();
        for page in 0..MAX_PAGES {
            let url = self.endpoint.url(&format!(
                "/v1/companies/{company}/postings?limit={PAGE_SIZE}&offset={}",
                page * PAGE_SIZE
            ));
            let body = self
                .endpoint
                .get_json(&url)
                .await
                .map_err(|e| not_found_as(e, format!("smartrecruiters company {company}")))?;
            let (listings, more) = parse(&body, company)?;
            all.extend(listings);
            if !more {
                break;
            }
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_page_and_knows_when_more_follow() {
        let (jobs, more) = parse(
            include_str!("../../fixtures/smartrecruiters/postings_page1.json"),
            "Meridian",
        )
        .expect("parses");
        assert!(more, "offset 0 + 2 of 3 found");
        assert_eq!(jobs.len(), 2);
        let a = &jobs[0];
        assert_eq!(
            (a.title.as_str(), a.company.as_str()),
            ("Data Analyst I", "Meridian Foods")
        );
        assert_eq!(
            a.job_url,
            "https://jobs.smartrecruiters.com/Meridian/744000154523570"
        );
        assert_eq!(
            a.location.as_deref(),
            Some("Oklahoma City, OK, United States")
        );
        assert_eq!(
            (a.is_remote, a.job_type.as_deref()),
            (Some(false), Some("Full-time"))
        );
        assert_eq!(a.date_posted, chrono::NaiveDate::from_ymd_opt(2026, 10, 8));
        assert_eq!(
            jobs[1].location.as_deref(),
            Some("Austin, TX, US"),
            "built from parts without fullLocation"
        );
        let (last, more) = parse(
            include_str!("../../fixtures/smartrecruiters/postings_page2.json"),
            "Meridian",
        )
        .expect("parses");
        assert!(!more);
        assert_eq!(last.len(), 1);
    }
}
