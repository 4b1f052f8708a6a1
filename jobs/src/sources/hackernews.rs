//! Hacker News "Who is hiring?" through the Algolia API: the newest thread by `whoishiring`
//! (`/api/v1/search_by_date?tags=story,author_whoishiring`), then its tree
//! (`/api/v1/items/{id}`). One listing per top-level comment that follows the
//! `Company | Role | Location | …` convention; the thread is read once per run and filtered
//! by the search term's words in the role.

use super::{search_query, select};
use async_trait::async_trait;
use serde::Deserialize;
use tokio::sync::OnceCell;

use super::html::{html_to_text, unescape_entities};
use super::model::{RawListing, mentions_remote, parse_date};
use super::{Endpoint, JobSource, SourceError, SourceName, SourceResult, Target, parse_json};

#[derive(Deserialize)]
struct Search {
    hits: Vec<Hit>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Hit {
    #[serde(rename = "objectID")]
    object_id: String,
    #[serde(default)]
    title: Option<String>,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    id: Option<i64>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    children: Vec<Item>,
}

/// The id of the newest "Ask HN: Who is hiring?" story in a `search_by_date` response.
pub fn parse_thread_id(body: &str) -> SourceResult<Option<String>> {
    let search: Search = parse_json("hackernews", body)?;
    Ok(search
        .hits
        .into_iter()
        .find(|h| {
            h.title
                .as_deref()
                .is_some_and(|t| t.starts_with("Ask HN: Who is hiring?"))
        })
        .map(|h| h.object_id))
}

/// One listing per top-level comment of a thread's item tree.
pub fn parse_thread(body: &str) -> SourceResult<Vec<RawListing>> {
    let story: Item = parse_json("hackernews", body)?;
    Ok(story.children.into_iter().filter_map(listing_of).collect())
}

fn listing_of(comment: Item) -> Option<RawListing> {
    let id = comment.id?;
    let html = comment.text?;
    let first_paragraph = html.split("<p>").next().unwrap_or_default();
    // Parsing decodes the entities (`&#x2F;`, `&amp;`); the header is the first line.
    let text = html_to_text(first_paragraph);
    let header = text.lines().next().unwrap_or_default();
    let parts: Vec<&str> = header
        .split('|')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() < 2 {
        return None;
    }
    let company = strip_parenthetical(parts[0]);
    let url = format!("https://news.ycombinator.com/item?id={id}");
    let mut l = RawListing::new("hackernews", parts[1], company, &url);
    l.source_id = Some(id.to_string());
    l.location = parts
        .get(2)
        .map(|p| (*p).to_owned())
        .filter(|p| !looks_like_url(p));
    l.is_remote = Some(mentions_remote(header));
    l.job_url_direct = first_link(&html);
    l.date_posted = comment.created_at.as_deref().and_then(parse_date);
    l.description = Some(html_to_text(&html)).filter(|d| !d.is_empty());
    l.is_complete().then_some(l)
}

/// `Acme (YC W24)` → `Acme`.
fn strip_parenthetical(s: &str) -> &str {
    match s.find(" (") {
        Some(i) if s.ends_with(')') => s[..i].trim(),
        _ => s,
    }
}

fn looks_like_url(s: &str) -> bool {
    s.starts_with("http") || s.starts_with("www.")
}

fn first_link(html: &str) -> Option<String> {
    let start = html.find("href=\"")? + 6;
    let end = html[start..].find('"')? + start;
    let link = unescape_entities(&html[start..end]);
    link.starts_with("http").then_some(link)
}

/// The Hacker News search source.
#[derive(Debug)]
pub struct HackerNews {
    pub endpoint: Endpoint,
    thread: OnceCell<Vec<RawListing>>,
}

impl HackerNews {
    /// A source that reads the thread at most once.
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            thread: OnceCell::new(),
        }
    }

    async fn all(&self) -> SourceResult<&Vec<RawListing>> {
        self.thread
            .get_or_try_init(|| async {
                let search = self
                    .endpoint
                    .url("/api/v1/search_by_date?tags=story,author_whoishiring&hitsPerPage=20");
                let body = self.endpoint.get_json(&search).await?;
                let Some(id) = parse_thread_id(&body)? else {
                    return Err(SourceError::NotFound("no \"Who is hiring?\" thread".into()));
                };
                let body = self
                    .endpoint
                    .get_json(&self.endpoint.url(&format!("/api/v1/items/{id}")))
                    .await?;
                parse_thread(&body)
            })
            .await
    }
}

#[async_trait]
impl JobSource for HackerNews {
    fn name(&self) -> SourceName {
        SourceName::Hackernews
    }

    async fn fetch(&self, target: &Target) -> SourceResult<Vec<RawListing>> {
        let q = search_query(SourceName::Hackernews, target)?;
        Ok(select(self.all().await?, q))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_hiring_thread_not_the_others() {
        let id = parse_thread_id(include_str!(
            "../../fixtures/hackernews/search_by_date.json"
        ))
        .expect("parses");
        assert_eq!(id.as_deref(), Some("50100200"));
        assert_eq!(parse_thread_id(r#"{"hits": []}"#).expect("parses"), None);
    }

    #[test]
    fn one_listing_per_top_level_comment_that_follows_the_convention() {
        let jobs =
            parse_thread(include_str!("../../fixtures/hackernews/thread.json")).expect("parses");
        assert_eq!(
            jobs.len(),
            3,
            "the free-form comment and the deleted one are skipped; replies are not postings"
        );
        let a = &jobs[0];
        assert_eq!(
            (a.company.as_str(), a.title.as_str()),
            ("Fjord Systems", "Senior Software Engineer")
        );
        assert_eq!(a.location.as_deref(), Some("Remote (Europe)"));
        assert_eq!(a.is_remote, Some(true));
        assert_eq!(a.job_url, "https://news.ycombinator.com/item?id=50100231");
        assert_eq!(
            a.job_url_direct.as_deref(),
            Some("https://fjord.example/jobs")
        );
        assert_eq!(a.date_posted, chrono::NaiveDate::from_ymd_opt(2026, 11, 2));
        let b = &jobs[1];
        assert_eq!(
            b.company, "Kestrel Robotics",
            "the (YC W24) suffix is dropped"
        );
        assert_eq!(
            b.title,
            "Machine Learning Intern, New Grad Software Engineer"
        );
        assert!(
            b.description
                .as_deref()
                .expect("text")
                .contains("We're a small team"),
            "entities decoded"
        );
        assert_eq!(jobs[2].is_remote, Some(false));
    }
}
