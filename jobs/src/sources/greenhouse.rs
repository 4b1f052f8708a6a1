//! Greenhouse Job Board API: `GET /v1/boards/{board}/jobs?content=true`, the whole board in
//! one response. `content` is entity-escaped HTML (`&lt;p&gt;`): unescaped once, then read.
//! Postings without a `company_name` take the board's name from `GET /v1/boards/{board}`
//! (asked only then, best effort), else the board token made readable.

use super::board_of;
use async_trait::async_trait;
use serde::Deserialize;

use super::html::{html_to_text, unescape_entities};
use super::model::{Id, RawListing, mentions_remote, non_empty, parse_date};
use super::{Endpoint, JobSource, SourceName, SourceResult, Target, not_found_as, parse_json};

#[derive(Deserialize)]
struct Board {
    jobs: Vec<Job>,
}

#[derive(Deserialize)]
struct Job {
    #[serde(default)]
    id: Id,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    absolute_url: Option<String>,
    #[serde(default)]
    location: Option<Location>,
    #[serde(default)]
    company_name: Option<String>,
    #[serde(default)]
    first_published: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct Location {
    #[serde(default)]
    name: Option<String>,
}

/// Listings of one board's response; `board` names the company when the response does not.
pub fn parse(body: &str, board: &str) -> SourceResult<Vec<RawListing>> {
    let parsed: Board = parse_json("greenhouse", body)?;
    Ok(parsed
        .jobs
        .into_iter()
        .filter_map(|job| {
            let company =
                non_empty(job.company_name.as_deref()).unwrap_or_else(|| company_from_board(board));
            let mut l = RawListing::new(
                "greenhouse",
                job.title.as_deref()?,
                &company,
                job.absolute_url.as_deref()?,
            );
            l.source_id = job.id.0;
            l.location = job.location.and_then(|loc| non_empty(loc.name.as_deref()));
            l.is_remote = l.location.as_deref().map(mentions_remote);
            l.date_posted = job
                .first_published
                .or(job.updated_at)
                .as_deref()
                .and_then(parse_date);
            l.description = job
                .content
                .map(|c| html_to_text(&unescape_entities(&c)))
                .filter(|d| !d.is_empty());
            l.is_complete().then_some(l)
        })
        .collect())
}

/// `acme-corp` → `Acme Corp`: a readable company name when the board gives none.
pub fn company_from_board(board: &str) -> String {
    board
        .split(['-', '_', '.'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The Greenhouse board source.
#[derive(Debug)]
pub struct Greenhouse {
    pub endpoint: Endpoint,
}

#[async_trait]
impl JobSource for Greenhouse {
    fn name(&self) -> SourceName {
        SourceName::Greenhouse
    }

    async fn fetch(&self, target: &Target) -> SourceResult<Vec<RawListing>> {
        let board = board_of(SourceName::Greenhouse, target)?;
        let url = self
            .endpoint
            .url(&format!("/v1/boards/{board}/jobs?content=true"));
        let body = self
            .endpoint
            .get_json(&url)
            .await
            .map_err(|e| not_found_as(e, format!("greenhouse board {board}")))?;
        let mut listings = parse(&body, board)?;
        // Postings without a company name take the board's own name, asked once.
        let from_slug = company_from_board(board);
        if listings.iter().any(|l| l.company == from_slug) {
            let url = self.endpoint.url(&format!("/v1/boards/{board}"));
            match self.endpoint.get_json(&url).await.map(|b| board_name(&b)) {
                Ok(Some(name)) => {
                    for l in listings.iter_mut().filter(|l| l.company == from_slug) {
                        l.company.clone_from(&name);
                    }
                }
                Ok(None) => tracing::debug!(board, "greenhouse board has no name"),
                Err(e) => tracing::debug!(board, error = %e, "greenhouse board name unavailable"),
            }
        }
        Ok(listings)
    }
}

/// The `name` of a `GET /v1/boards/{board}` response, if it has one.
pub fn board_name(body: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct BoardInfo {
        #[serde(default)]
        name: Option<String>,
    }
    let info: BoardInfo = serde_json::from_str(body).ok()?;
    non_empty(info.name.as_deref()).map(|n| crate::text::clean_line(&n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::SourceError;

    const BOARD: &str = include_str!("../../fixtures/greenhouse/board_content.json");

    #[test]
    fn parses_a_board_with_escaped_html_content() {
        let jobs = parse(BOARD, "northwind").expect("parses");
        assert_eq!(jobs.len(), 3, "the posting without a URL is skipped");
        let first = &jobs[0];
        assert_eq!(first.title, "Senior Backend Engineer, Payments");
        assert_eq!(first.company, "Northwind Labs");
        assert_eq!(first.source_id.as_deref(), Some("4011223"));
        assert_eq!(
            first.job_url,
            "https://northwind.example/careers?gh_jid=4011223"
        );
        assert_eq!(first.location.as_deref(), Some("San Francisco, CA"));
        assert_eq!(first.is_remote, Some(false));
        assert_eq!(
            first.date_posted,
            chrono::NaiveDate::from_ymd_opt(2026, 10, 3)
        );
        let description = first.description.as_deref().expect("description");
        assert!(
            description.starts_with("About the team\nWe move money & data"),
            "{description}"
        );
        assert!(description.contains("- Rust or Go"), "{description}");
        assert!(
            !description.contains("&lt;") && !description.contains('<'),
            "{description}"
        );
    }

    #[test]
    fn fills_gaps_from_the_board_and_older_fields() {
        let jobs = parse(BOARD, "northwind").expect("parses");
        let remote = &jobs[1];
        assert_eq!(remote.is_remote, Some(true));
        assert_eq!(
            remote.date_posted,
            chrono::NaiveDate::from_ymd_opt(2026, 9, 28),
            "updated_at when first_published is missing"
        );
        let bare = &jobs[2];
        assert_eq!(bare.company, "Northwind", "company from the board token");
        assert_eq!(bare.location, None);
        assert_eq!(bare.description, None);
    }

    #[test]
    fn the_board_endpoint_names_the_company() {
        let body = include_str!("../../fixtures/greenhouse/board.json");
        assert_eq!(board_name(body).as_deref(), Some("Northwind Labs"));
        assert_eq!(board_name(r#"{"name": "  "}"#), None);
        assert_eq!(board_name("<html>"), None);
    }

    #[test]
    fn an_empty_board_and_a_malformed_body() {
        assert!(
            parse(r#"{"jobs": [], "meta": {"total": 0}}"#, "x")
                .expect("empty")
                .is_empty()
        );
        assert!(matches!(
            parse("<html>oops</html>", "x"),
            Err(SourceError::Malformed(_))
        ));
        assert!(matches!(
            parse(r#"{"status":404,"error":"Job not found"}"#, "x"),
            Err(SourceError::Malformed(_))
        ));
        assert_eq!(company_from_board("acme-corp_io"), "Acme Corp Io");
    }
}
