//! LinkedIn guest search (off by default: LinkedIn's terms forbid automated collection).
//!
//! `GET /jobs-guest/jobs/api/seeMoreJobPostings/search?keywords=…&location=…&f_TPR=r{secs}&start=N`
//! returns an HTML fragment of about 10 cards; `start` advances by the cards received, an empty
//! body or HTTP 400 ends the results, and `start` stops below 1000. Cards come as
//! `<div class="base-card base-search-card">` with an inner full link and `span.sr-only`, or
//! as `<a class="base-card base-search-card">` roots without either; both carry
//! `data-entity-urn="urn:li:jobPosting:<id>"`. Posts under 24 h old date themselves with
//! `time.job-search-card__listdate--new`. With `LINKEDIN_FETCH_DESCRIPTION` each new listing
//! costs one more request (`/jobs-guest/jobs/api/jobPosting/<id>`) for the description, the
//! employment type and the direct apply URL.

use super::search_query;
use std::collections::HashSet;

use async_trait::async_trait;
use scraper::{ElementRef, Html, Selector};

use super::html::html_to_text;
use super::model::{RawListing, mentions_remote, parse_date, parse_salary_text};
use super::{
    Endpoint, FetchError, JobSource, SearchQuery, SourceError, SourceName, SourceResult, Target,
};

/// LinkedIn serves no results past this offset.
pub const MAX_START: usize = 1000;

const ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
const BROWSER_UA: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

fn sel(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|_| panic!("static selector {css} parses"))
}

fn text_of(el: ElementRef<'_>) -> String {
    el.text()
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn first_text(card: ElementRef<'_>, selector: &Selector) -> Option<String> {
    card.select(selector)
        .next()
        .map(text_of)
        .filter(|t| !t.is_empty())
}

/// The cards of one search response. An empty or card-less body is an empty page.
pub fn parse_search(html: &str) -> Vec<RawListing> {
    let doc = Html::parse_fragment(html);
    let cards = sel(".base-search-card");
    let (sr_only, title, subtitle, location) = (
        sel("span.sr-only"),
        sel(".base-search-card__title"),
        sel(".base-search-card__subtitle"),
        sel(".job-search-card__location"),
    );
    let (date, salary, link) = (
        sel("time.job-search-card__listdate, time.job-search-card__listdate--new"),
        sel(".job-search-card__salary-info"),
        sel("a.base-card__full-link"),
    );
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for card in doc.select(&cards) {
        let href = card.value().attr("href").or_else(|| {
            card.select(&link)
                .next()
                .and_then(|a| a.value().attr("href"))
        });
        let Some(id) = card
            .value()
            .attr("data-entity-urn")
            .and_then(|u| u.strip_prefix("urn:li:jobPosting:"))
            .map(str::to_owned)
            .or_else(|| href.and_then(id_from_href))
        else {
            continue;
        };
        if !seen.insert(id.clone()) {
            continue;
        }
        let Some(title) = first_text(card, &sr_only).or_else(|| first_text(card, &title)) else {
            continue;
        };
        let Some(company) = first_text(card, &subtitle) else {
            continue;
        };
        let mut l = RawListing::new(
            "linkedin",
            &title,
            &company,
            &format!("https://www.linkedin.com/jobs/view/{id}"),
        );
        l.source_id = Some(id);
        l.location = first_text(card, &location);
        l.date_posted = card
            .select(&date)
            .next()
            .and_then(|t| t.value().attr("datetime"))
            .and_then(parse_date);
        l.salary = first_text(card, &salary)
            .as_deref()
            .and_then(parse_salary_text);
        l.is_remote = Some(mentions_remote(&format!(
            "{} {}",
            l.title,
            l.location.as_deref().unwrap_or_default()
        )));
        out.push(l);
    }
    out
}

/// `…/jobs/view/some-title-3995343936?position=1` → `3995343936`.
fn id_from_href(href: &str) -> Option<String> {
    let path = href.split('?').next()?;
    let id = path.trim_end_matches('/').rsplit(['-', '/']).next()?;
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_digit())).then(|| id.to_owned())
}

/// What a detail page adds to a card.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Detail {
    pub description: Option<String>,
    pub job_type: Option<String>,
    pub job_url_direct: Option<String>,
}

/// Reads a job detail page.
pub fn parse_detail(html: &str) -> Detail {
    let doc = Html::parse_document(html);
    let description = doc
        .select(&sel("div.show-more-less-html__markup"))
        .next()
        .map(|d| html_to_text(&d.inner_html()))
        .filter(|d| !d.is_empty());
    let job_type = doc
        .select(&sel("li.description__job-criteria-item"))
        .find_map(|item| {
            let header = item.select(&sel("h3")).next().map(text_of)?;
            (header == "Employment type")
                .then(|| {
                    item.select(&sel("span.description__job-criteria-text"))
                        .next()
                        .map(text_of)
                })
                .flatten()
        });
    let job_url_direct = doc
        .select(&sel("code#applyUrl"))
        .next()
        .and_then(|code| external_apply_url(&code.inner_html()));
    Detail {
        description,
        job_type,
        job_url_direct,
    }
}

/// The employer's URL inside `<!--"https://www.linkedin.com/jobs/view/externalApply/<id>?url=<enc>&urlHash=…"-->`.
fn external_apply_url(comment: &str) -> Option<String> {
    let start = comment.find("?url=")? + 5;
    let rest = &comment[start..];
    let end = rest.find(['&', '"']).unwrap_or(rest.len());
    let decoded: String = url::form_urlencoded::parse(format!("u={}", &rest[..end]).as_bytes())
        .next()?
        .1
        .into_owned();
    decoded.starts_with("http").then_some(decoded)
}

/// The LinkedIn search source.
#[derive(Debug)]
pub struct Linkedin {
    pub endpoint: Endpoint,
    pub fetch_description: bool,
}

impl Linkedin {
    async fn get_html(&self, url: &str) -> Result<String, FetchError> {
        let request = self
            .endpoint
            .http
            .http()
            .get(url)
            .header("accept", ACCEPT)
            .header("accept-language", "en-US,en;q=0.9")
            .header("cache-control", "max-age=0")
            .header("upgrade-insecure-requests", "1")
            .header("user-agent", BROWSER_UA)
            .build()
            .map_err(|e| FetchError::Network(super::http::describe(e)))?;
        Ok(self.endpoint.send(request).await?.body)
    }

    async fn add_detail(&self, listing: &mut RawListing) -> SourceResult<()> {
        let id = listing.source_id.clone().unwrap_or_default();
        let body = self
            .get_html(
                &self
                    .endpoint
                    .url(&format!("/jobs-guest/jobs/api/jobPosting/{id}")),
            )
            .await?;
        let detail = parse_detail(&body);
        if let Some(d) = &detail.description {
            listing.is_remote = Some(listing.is_remote == Some(true) || mentions_remote(d));
        }
        listing.description = detail.description;
        listing.job_type = detail.job_type;
        listing.job_url_direct = detail.job_url_direct;
        Ok(())
    }
}

#[async_trait]
impl JobSource for Linkedin {
    fn name(&self) -> SourceName {
        SourceName::Linkedin
    }

    async fn fetch(&self, target: &Target) -> SourceResult<Vec<RawListing>> {
        let SearchQuery {
            term,
            location,
            hours_old,
            results_wanted,
        } = search_query(SourceName::Linkedin, target)?;
        let mut out: Vec<RawListing> = Vec::new();
        let mut seen = HashSet::new();
        let mut start = 0;
        while out.len() < *results_wanted && start < MAX_START {
            let mut params = vec![
                ("keywords", term.clone()),
                ("pageNum", "0".to_owned()),
                ("start", start.to_string()),
            ];
            if let Some(location) = location {
                params.push(("location", location.clone()));
            }
            if *hours_old > 0 {
                params.push(("f_TPR", format!("r{}", u64::from(*hours_old) * 3600)));
            }
            let url = reqwest::Url::parse_with_params(
                &self
                    .endpoint
                    .url("/jobs-guest/jobs/api/seeMoreJobPostings/search"),
                &params,
            )
            .map_err(|e| SourceError::Unavailable(format!("linkedin URL: {e}")))?;
            let body = match self.get_html(url.as_str()).await {
                Ok(body) => body,
                // LinkedIn answers 400 once the results run out.
                Err(FetchError::Upstream { status: 400 }) => break,
                Err(e) => return Err(e.into()),
            };
            let cards = parse_search(&body);
            if cards.is_empty() {
                if !body.trim().is_empty() && body.contains("base-card") {
                    return Err(SourceError::Malformed(
                        "linkedin: cards present but none parsed (the page layout changed?)".into(),
                    ));
                }
                break;
            }
            start += cards.len();
            out.extend(
                cards
                    .into_iter()
                    .filter(|c| seen.insert(c.source_id.clone())),
            );
        }
        out.truncate(*results_wanted);
        if self.fetch_description {
            for listing in &mut out {
                if let Err(e) = self.add_detail(listing).await {
                    tracing::debug!(error = %e, id = ?listing.source_id, "linkedin detail unavailable; keeping the card");
                    if matches!(
                        e,
                        SourceError::Fetch(FetchError::Blocked { .. } | FetchError::Degraded)
                    ) {
                        break;
                    }
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_div_and_anchor_root_cards_and_new_listing_dates() {
        let cards = parse_search(include_str!("../../fixtures/linkedin/search_page1.html"));
        let ids: Vec<&str> = cards
            .iter()
            .filter_map(|c| c.source_id.as_deref())
            .collect();
        assert_eq!(
            ids,
            ["4100000001", "4100000002", "4100000003", "4100000004"],
            "the repeated card is dropped"
        );
        let div = &cards[0];
        assert_eq!(
            (div.title.as_str(), div.company.as_str()),
            ("Senior Rust Engineer", "Fjord Systems")
        );
        assert_eq!(div.job_url, "https://www.linkedin.com/jobs/view/4100000001");
        assert_eq!(div.location.as_deref(), Some("Berlin, Berlin, Germany"));
        assert_eq!(
            div.date_posted,
            chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
        );
        let s = div.salary.as_ref().expect("salary");
        assert_eq!(
            (s.min, s.max, s.currency.as_deref()),
            (Some(90000.0), Some(120000.0), Some("EUR"))
        );
        let anchor = &cards[1];
        assert_eq!(
            (anchor.title.as_str(), anchor.company.as_str()),
            ("Data Scientist", "Kestrel Robotics"),
            "an <a> root card with plain-text company"
        );
        assert_eq!(
            anchor.date_posted,
            chrono::NaiveDate::from_ymd_opt(2026, 11, 25),
            "listdate--new is read"
        );
        assert_eq!(anchor.is_remote, Some(true));
        assert_eq!(
            cards[2].title, "Product Manager – Payments",
            "entities decoded, whitespace trimmed"
        );
        assert_eq!(
            cards[3].source_id.as_deref(),
            Some("4100000004"),
            "id from the link when the urn is missing"
        );
    }

    #[test]
    fn localized_cards_date_themselves_by_attribute_not_text() {
        let cards = parse_search(include_str!("../../fixtures/linkedin/search_page2.html"));
        assert_eq!(cards.len(), 2);
        let sv = &cards[1];
        assert_eq!(
            (
                sv.title.as_str(),
                sv.company.as_str(),
                sv.location.as_deref()
            ),
            (
                "Produktchef, betalningar",
                "Läkemedelsverket",
                Some("Uppsala")
            )
        );
        assert_eq!(
            sv.date_posted,
            chrono::NaiveDate::from_ymd_opt(2026, 11, 12),
            "\"2 veckor sedan\" is not parsed; datetime is"
        );
    }

    #[test]
    fn empty_and_foreign_bodies_have_no_cards() {
        assert!(parse_search("").is_empty());
        assert!(parse_search("<html><body>Sign in to continue</body></html>").is_empty());
    }

    #[test]
    fn a_detail_page_gives_description_type_and_direct_url() {
        let d = parse_detail(include_str!("../../fixtures/linkedin/job_posting.html"));
        assert_eq!(d.job_type.as_deref(), Some("Full-time"));
        assert_eq!(
            d.job_url_direct.as_deref(),
            Some("https://careers.fjord.example/jobs/123?source=linkedin"),
            "urlHash is dropped"
        );
        let text = d.description.expect("description");
        assert!(
            text.starts_with("About the role\nBuild ferry telemetry in Rust."),
            "{text}"
        );
        assert_eq!(parse_detail("<html></html>"), Detail::default());
    }

    #[test]
    fn ids_from_links() {
        assert_eq!(
            id_from_href(
                "https://se.linkedin.com/jobs/view/handl%C3%A4ggare-4001288218?position=2"
            )
            .as_deref(),
            Some("4001288218")
        );
        assert_eq!(
            id_from_href("https://www.linkedin.com/jobs/view/4001288218/").as_deref(),
            Some("4001288218")
        );
        assert_eq!(id_from_href("https://www.linkedin.com/company/acme"), None);
    }
}
