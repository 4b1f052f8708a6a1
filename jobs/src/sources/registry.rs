//! Builds the enabled sources from configuration. Every source is wrapped so that what it
//! returns is cleaned of control characters ([`RawListing::cleaned`]) before anything else
//! sees it, and a board's slug-named company takes its `COMPANY_BOARDS` display name.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::arbeitnow::Arbeitnow;
use super::ashby::Ashby;
use super::greenhouse::{Greenhouse, company_from_board};
use super::hackernews::HackerNews;
use super::indeed::Indeed;
use super::lever::Lever;
use super::linkedin::Linkedin;
use super::recruitee::Recruitee;
use super::remoteok::RemoteOk;
use super::remotive::Remotive;
use super::smartrecruiters::SmartRecruiters;
use super::workable::Workable;
use super::{
    Endpoint, JobSource, PoliteClient, RawListing, SourceKind, SourceName, SourceResult,
    SourcesConfig, Target,
};

/// The sources of one run. Built fresh per run, so per-run caches and degraded marks start
/// empty.
#[derive(Debug)]
pub struct SourceSet {
    /// Asked once per category search term.
    pub search: Vec<Arc<dyn JobSource>>,
    /// Fetched once per run: each board source with each of its targets.
    pub boards: Vec<(Arc<dyn JobSource>, Target)>,
    /// Enabled sources that cannot run as configured, and why (recorded as run errors).
    pub unavailable: Vec<(SourceName, String)>,
}

impl SourceSet {
    /// The enabled sources of one run, on the process's HTTP `client` (see [`http_client`]),
    /// with a fresh per-host policy state. Indeed without `INDEED_API_KEY` is recorded as
    /// unavailable.
    pub fn for_run(config: &SourcesConfig, client: &reqwest::Client) -> Self {
        let http = PoliteClient::new(client.clone(), config.breaker_failures);
        let mut set = Self {
            search: Vec::new(),
            boards: Vec::new(),
            unavailable: Vec::new(),
        };
        for &name in &config.enabled {
            let endpoint = Endpoint::new(name, &http, config);
            let source: Arc<dyn JobSource> = match name {
                SourceName::Greenhouse => Arc::new(Greenhouse { endpoint }),
                SourceName::Lever => Arc::new(Lever { endpoint }),
                SourceName::Ashby => Arc::new(Ashby { endpoint }),
                SourceName::Workable => Arc::new(Workable { endpoint }),
                SourceName::Smartrecruiters => Arc::new(SmartRecruiters { endpoint }),
                SourceName::Recruitee => Arc::new(Recruitee { endpoint }),
                SourceName::Remoteok => Arc::new(RemoteOk { endpoint }),
                SourceName::Remotive => Arc::new(Remotive { endpoint }),
                SourceName::Arbeitnow => Arc::new(Arbeitnow::new(endpoint)),
                SourceName::Hackernews => Arc::new(HackerNews::new(endpoint)),
                SourceName::Linkedin => Arc::new(Linkedin {
                    endpoint,
                    fetch_description: config.linkedin_fetch_description,
                }),
                SourceName::Indeed => match &config.indeed_api_key {
                    Some(key) => Arc::new(Indeed {
                        endpoint,
                        api_key: key.clone(),
                        country: config.indeed_country.clone(),
                    }),
                    None => {
                        set.unavailable
                            .push((name, "INDEED_API_KEY is not set".into()));
                        continue;
                    }
                },
            };
            let names: HashMap<String, String> = config
                .board_names
                .iter()
                .filter(|((s, _), _)| *s == name)
                .map(|((_, board), display)| (board.clone(), display.clone()))
                .collect();
            let source: Arc<dyn JobSource> = Arc::new(Cleaned {
                inner: source,
                names,
            });
            match name.kind() {
                SourceKind::Search => set.search.push(source),
                SourceKind::Board if name.needs_boards() => {
                    for (_, board) in config.company_boards.iter().filter(|(s, _)| *s == name) {
                        set.boards
                            .push((source.clone(), Target::Board(board.clone())));
                    }
                }
                SourceKind::Board => set.boards.push((source, Target::Feed)),
            }
        }
        set
    }
}

impl SourceSet {
    /// The same set without the sources named in `skipped` (down and backing off).
    pub fn without(&self, skipped: &[String]) -> SourceSet {
        let kept = |s: &Arc<dyn JobSource>| !skipped.iter().any(|n| n == s.name().as_str());
        SourceSet {
            search: self.search.iter().filter(|s| kept(s)).cloned().collect(),
            boards: self
                .boards
                .iter()
                .filter(|(s, _)| kept(s))
                .cloned()
                .collect(),
            unavailable: self.unavailable.clone(),
        }
    }
}

/// A source whose listings come out cleaned — the one boundary where board text enters — and
/// named: a board's listings whose company is only the board token made readable take the
/// display name `COMPANY_BOARDS` gives the board.
#[derive(Debug)]
struct Cleaned {
    inner: Arc<dyn JobSource>,
    /// Board token → display name.
    names: HashMap<String, String>,
}

#[async_trait::async_trait]
impl JobSource for Cleaned {
    fn name(&self) -> SourceName {
        self.inner.name()
    }

    async fn fetch(&self, target: &Target) -> SourceResult<Vec<RawListing>> {
        let display = match target {
            Target::Board(board) => self
                .names
                .get(board)
                .map(|name| (company_from_board(board), name)),
            _ => None,
        };
        Ok(self
            .inner
            .fetch(target)
            .await?
            .into_iter()
            .map(|mut l| {
                if let Some((from_slug, name)) = &display
                    && l.company == *from_slug
                {
                    l.company.clone_from(name);
                }
                l.cleaned()
            })
            .filter(RawListing::is_complete)
            .collect())
    }
}

/// The HTTP client every source shares: rustls, connection pooling, bounded connect time.
/// Built once at start; a client that cannot be built (no TLS roots) stops the start rather than
/// running without its timeouts.
pub fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .map_err(|e| format!("cannot build the HTTP client for job sources: {e}"))
}
