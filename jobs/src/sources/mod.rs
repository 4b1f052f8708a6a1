//! Job sources: one module per board, all behind [`JobSource`], all through one polite
//! HTTP policy ([`http::PoliteClient`]).
//!
//! Parsing is a pure function per module (`parse_*`: response body → [`RawListing`]s), so saved
//! responses drive unit tests; the source types only build requests and page.
//!
//! - *Search sources* answer a [`SearchQuery`] per category search term: linkedin, indeed,
//!   remotive, arbeitnow, hackernews.
//! - *Board sources* are fetched once per run — company ATS boards from `COMPANY_BOARDS`
//!   (greenhouse, lever, ashby, workable, smartrecruiters, recruitee) and the remoteok feed —
//!   and their listings join the categories whose keywords their titles match.

pub mod arbeitnow;
pub mod ashby;
pub mod config;
pub mod greenhouse;
pub mod hackernews;
pub mod html;
pub mod http;
pub mod indeed;
pub mod lever;
pub mod linkedin;
pub mod model;
pub mod recruitee;
pub mod registry;
pub mod remoteok;
pub mod remotive;
pub mod smartrecruiters;
pub mod workable;

use std::fmt;

use async_trait::async_trait;

pub use config::{SourceName, SourcesConfig};
pub use http::{FetchError, HostPolicy, PoliteClient};
pub use model::{RawListing, Salary, SalaryInterval};
pub use registry::SourceSet;

use crate::text::matches_term;

/// Whether a source is asked per search term or fetched whole once per run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Search,
    Board,
}

/// What a search source is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    pub term: String,
    pub location: Option<String>,
    /// Only listings posted within this many hours.
    pub hours_old: u32,
    /// Stop paging once this many listings are in hand.
    pub results_wanted: usize,
}

/// What to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A search source's query.
    Search(SearchQuery),
    /// One company board (its token or slug).
    Board(String),
    /// A whole feed with no board (remoteok).
    Feed,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Search(q) => write!(f, "search {:?}", q.term),
            Self::Board(b) => write!(f, "board {b}"),
            Self::Feed => f.write_str("feed"),
        }
    }
}

/// Why a source gave nothing.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The body was not what the site sends; nothing from it was used.
    #[error("malformed response: {0}")]
    Malformed(String),
    /// The board or company does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The site answered with an error of its own (a GraphQL `errors` array with HTTP 200).
    #[error("{0}")]
    Api(String),
    /// The source cannot run as configured (a missing key, an unsupported target).
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// Result of a source call.
pub type SourceResult<T> = Result<T, SourceError>;

impl SourceError {
    /// Whether the host's circuit breaker gave up on it for the rest of the run.
    pub fn is_circuit_open(&self) -> bool {
        matches!(self, Self::Fetch(FetchError::CircuitOpen { .. }))
    }
}

/// A job board.
#[async_trait]
pub trait JobSource: Send + Sync + fmt::Debug {
    /// Which source this is.
    fn name(&self) -> SourceName;

    /// Every listing the target yields, normalized. A board's missing or invalid postings
    /// are skipped; a body that is not the expected shape is [`SourceError::Malformed`].
    async fn fetch(&self, target: &Target) -> SourceResult<Vec<RawListing>>;
}

/// Where and how one source sends its requests.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub name: SourceName,
    pub http: PoliteClient,
    /// The origin, without a trailing slash.
    pub base: String,
    pub policy: HostPolicy,
    pub user_agent: String,
}

impl Endpoint {
    /// The endpoint of `name` as configured.
    pub fn new(name: SourceName, http: &PoliteClient, config: &SourcesConfig) -> Self {
        Self {
            name,
            http: http.clone(),
            base: config.base_url(name),
            policy: config.policy(name),
            user_agent: config.user_agent.clone(),
        }
    }

    /// `base` + `path_and_query` (which starts with `/`).
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base)
    }

    /// GETs a JSON API with our identifying User-Agent.
    pub async fn get_json(&self, url: &str) -> Result<String, FetchError> {
        let request = self
            .http
            .http()
            .get(url)
            .header(reqwest::header::USER_AGENT, &self.user_agent)
            .header(reqwest::header::ACCEPT, "application/json")
            .build()
            .map_err(|e| FetchError::Network(http::describe(e)))?;
        Ok(self.send(request).await?.body)
    }

    /// Sends a prepared request under this source's policy.
    pub async fn send(&self, request: reqwest::Request) -> Result<http::Page, FetchError> {
        self.http
            .send(self.name.as_str(), &self.policy, request)
            .await
    }
}

/// The query of a search target; any other target is `Unavailable` for a search source.
pub(crate) fn search_query(source: SourceName, target: &Target) -> SourceResult<&SearchQuery> {
    match target {
        Target::Search(q) => Ok(q),
        other => Err(SourceError::Unavailable(format!(
            "{source} answers searches, not {other}"
        ))),
    }
}

/// The board of a board target; any other target is `Unavailable` for a board source.
pub(crate) fn board_of(source: SourceName, target: &Target) -> SourceResult<&str> {
    match target {
        Target::Board(board) => Ok(board),
        other => Err(SourceError::Unavailable(format!(
            "{source} fetches boards, not {other}"
        ))),
    }
}

/// From listings read once per run, those a query wants: every word of the term in the title,
/// posted within `hours_old`, at most `results_wanted`.
pub(crate) fn select(pool: &[RawListing], q: &SearchQuery) -> Vec<RawListing> {
    let matching = pool
        .iter()
        .filter(|l| matches_term(&l.title, &q.term))
        .cloned()
        .collect();
    let mut listings = recent(matching, q.hours_old);
    listings.truncate(q.results_wanted);
    listings
}

/// Keeps listings posted within `hours_old` (undated ones too).
pub fn recent(listings: Vec<RawListing>, hours_old: u32) -> Vec<RawListing> {
    let cutoff = (chrono::Utc::now() - chrono::Duration::hours(i64::from(hours_old))).date_naive();
    listings
        .into_iter()
        .filter(|l| l.date_posted.is_none_or(|d| d >= cutoff))
        .collect()
}

/// Turns a 404 into `NotFound(what)`; other fetch errors stay as they are.
pub(crate) fn not_found_as(err: FetchError, what: impl Into<String>) -> SourceError {
    match err {
        FetchError::Upstream { status: 404 } => SourceError::NotFound(what.into()),
        other => SourceError::Fetch(other),
    }
}

/// Parses JSON, naming the source in the error.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    source: &str,
    body: &str,
) -> SourceResult<T> {
    serde_json::from_str(body).map_err(|e| SourceError::Malformed(format!("{source}: {e}")))
}
