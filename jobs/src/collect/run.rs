//! The collect run (DESIGN.md §5 "Collect").
//!
//! Board sources are fetched once, concurrently, before the categories; a board listing joins
//! every category whose keywords its title matches. Each category is then one task on a
//! `JoinSet` that asks every search source for each of its search terms. Boards and categories
//! share `COLLECT_CONCURRENCY` permits, each held until its listings are in the sink, so no
//! more fetched answers than that are held at once. A failing source or category is recorded
//! in the run and never stops the others. Counters are written to `pipeline_runs` as
//! categories finish; listings stream through the global dedup into the store a chunk at a
//! time. Then the listings gone from a board fetched whole, and those not seen for
//! `LISTING_TTL_DAYS`, are closed, by writes fenced by the run's lease. The run is left for its
//! caller to [`finish`](super::runs::finish), once the queue layer has queued what follows
//! (matching for the categories that gained listings).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::Utc;
use entity::{JobHash, RunErrorEntry, RunStatus, search_category};
use sea_orm::DatabaseConnection;
use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::closing;
use super::health;
use super::lease::Lease;
use super::runs::{self, Counters};
use super::store::Sink;
use crate::catalog;
use crate::sources::{
    JobSource, RawListing, SearchQuery, SourceName, SourceSet, SourcesConfig, Target,
};
use crate::text::matches_term;
use crate::{Error, Result};

/// How a run fans out and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollectConfig {
    /// `COLLECT_CONCURRENCY`: categories (and boards) fetched at once.
    pub concurrency: usize,
    /// `INGEST_CHUNK_SIZE`: listings per insert transaction; 0 picks one for the backend
    /// (500 on SQLite, 1 000 on Postgres).
    pub chunk_size: usize,
    /// `LISTING_TTL_DAYS`: a listing not seen for this many days is closed after a run (0:
    /// never).
    pub listing_ttl_days: u32,
}

impl Default for CollectConfig {
    fn default() -> Self {
        Self {
            concurrency: 4,
            chunk_size: 0,
            listing_ttl_days: 30,
        }
    }
}

/// Per-source totals of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceStats {
    pub fetched: usize,
    pub errors: usize,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub run_id: i64,
    /// The lease the run was collected under, for the final write.
    pub lease: Lease,
    pub status: RunStatus,
    pub counters: Counters,
    pub per_source: BTreeMap<SourceName, SourceStats>,
    pub errors: Vec<RunErrorEntry>,
    /// Categories that gained listings (their users are due for matching).
    pub categories_gained: Vec<i64>,
    /// Listings found already stored (the same opening, or the same posting): refreshed.
    pub listings_matched: u64,
    /// Listings closed: gone from their board's complete list, or past `LISTING_TTL_DAYS`.
    pub listings_closed: u64,
    /// Closed listings seen again and reopened.
    pub listings_reopened: u64,
}

/// Observes a run, for progress displays.
pub trait Progress: Send + Sync {
    /// The run is about to fetch `categories` categories and `boards` boards.
    fn started(&self, categories: usize, boards: usize);
    /// A category finished with this many listings and errors.
    fn category_done(&self, slug: &str, fetched: usize, errors: usize);
    /// Storing begins.
    fn storing(&self, unique: usize);
}

/// A [`Progress`] that shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct SilentProgress;

impl Progress for SilentProgress {
    fn started(&self, _: usize, _: usize) {}
    fn category_done(&self, _: &str, _: usize, _: usize) {}
    fn storing(&self, _: usize) {}
}

struct Outcome {
    source: SourceName,
    category: Option<String>,
    /// `source:board` for a company board's fetch.
    board: Option<String>,
    result: std::result::Result<Vec<RawListing>, Failure>,
}

/// A failed fetch, as the run records it.
struct Failure {
    message: String,
    /// The host's circuit breaker opened: the source is skipped for the rest of the run.
    circuit_open: bool,
}

impl Failure {
    fn new(target: &Target, e: &crate::sources::SourceError) -> Self {
        Self {
            circuit_open: e.is_circuit_open(),
            message: if e.is_circuit_open() {
                e.to_string()
            } else {
                format!("{target}: {e}")
            },
        }
    }
}

/// Collects for the run this worker holds (`lease`), up to its final status, which the caller
/// writes with [`super::runs::finish`].
pub async fn collect(
    db: &DatabaseConnection,
    sources: &SourceSet,
    config: &SourcesConfig,
    collect: &CollectConfig,
    lease: &Lease,
    progress: &dyn Progress,
) -> Result<RunSummary> {
    let run_id = lease.id;
    // Sources that are down wait out their backoff (see `health`).
    let skipped = health::not_due(db, Utc::now()).await?;
    if !skipped.is_empty() {
        tracing::info!(
            ?skipped,
            "sources down and backing off: not tried in this run"
        );
    }
    let due = sources.without(&skipped);
    let sources = &due;
    let categories = catalog::list(db, false).await?;
    let history = runs::mark_running(
        db,
        lease,
        i32::try_from(categories.len()).unwrap_or(i32::MAX),
    )
    .await?;
    let mut state = RunState {
        counters: Counters {
            categories_total: categories.len() as i32,
            ..Counters::default()
        },
        carried: history.len(),
        errors: history,
        ..RunState::default()
    };
    for (name, why) in &sources.unavailable {
        state.record(
            *name,
            None,
            format!("{name} is enabled but unavailable: {why}"),
        );
    }
    progress.started(categories.len(), sources.boards.len());

    // A fetch keeps its permit until its listings are in the sink, so at most
    // `COLLECT_CONCURRENCY` fetched answers are held at once, however many boards and
    // categories there are.
    let limit = Arc::new(Semaphore::new(collect.concurrency.max(1)));
    let seen_at = Utc::now();
    let mut sink = Sink::new(db, collect.chunk_size, seen_at);
    let mut boards = fetch_boards(sources, &limit);
    while let Some(joined) = boards.join_next().await {
        let (outcome, _permit) = match joined {
            Ok(done) => done,
            Err(e) => {
                tracing::error!(error = %e, "a board task panicked");
                continue;
            }
        };
        for (listing, found_by) in state.absorb_board(outcome, &categories) {
            sink.add(listing, &found_by).await?;
        }
    }
    state.counters.listings_unique = sink.unique() as i32;
    runs::write_progress(db, lease, &state.counters, &state.errors).await?;

    let mut tasks = JoinSet::new();
    for category in categories {
        let search = sources.search.clone();
        let limit = limit.clone();
        let query_base = (config.hours_old, config.results_wanted);
        tasks.spawn(async move {
            let permit = limit.acquire_owned().await;
            (
                search_category(&search, &category, query_base).await,
                permit,
            )
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let ((category, outcomes), _permit) =
            joined.map_err(|e| Error::Unexpected(format!("a category task panicked: {e}")))?;
        let mut fetched = 0;
        let mut errors = 0;
        for outcome in outcomes {
            match outcome.result {
                Ok(listings) => {
                    fetched += listings.len();
                    state.per_source.entry(outcome.source).or_default().fetched += listings.len();
                    for l in listings {
                        sink.add(l, &[category.id]).await?;
                    }
                }
                Err(failure) => {
                    errors += 1;
                    state.failed(outcome.source, outcome.category, failure);
                }
            }
        }
        state.counters.categories_done += 1;
        state.counters.listings_fetched += fetched as i32;
        state.counters.listings_unique = sink.unique() as i32;
        runs::write_progress(db, lease, &state.counters, &state.errors).await?;
        progress.category_done(category.slug.as_str(), fetched, errors);
    }

    progress.storing(sink.unique());
    state.counters.listings_unique = sink.unique() as i32;
    let stored = sink.finish().await?;
    state.counters.listings_inserted = stored.inserted as i32;
    for r in &stored.rejected {
        state.errors.push(RunErrorEntry {
            source: r.source.clone(),
            category: None,
            message: format!(
                "listing {:?} ({}) not stored: {}",
                r.title, r.job_url, r.reason
            ),
            at: Utc::now(),
        });
    }
    let mut closed = 0;
    for (board, seen) in &state.complete_boards {
        closed += closing::close_missing(db, lease, board, seen, seen_at, Utc::now()).await?;
    }
    closed += closing::close_stale(db, Some(lease), collect.listing_ttl_days, Utc::now()).await?;
    state.collapse_open_circuits();
    health::record(db, &state.tried(), config.down_after_runs, Utc::now()).await?;
    let status = state.final_status(sources);
    Ok(RunSummary {
        run_id,
        lease: *lease,
        status,
        counters: state.counters,
        per_source: state.per_source,
        errors: state.errors,
        categories_gained: stored.categories_gained.into_iter().collect(),
        listings_matched: stored.matched,
        listings_closed: closed,
        listings_reopened: stored.reopened,
    })
}

#[derive(Default)]
struct RunState {
    counters: Counters,
    per_source: BTreeMap<SourceName, SourceStats>,
    errors: Vec<RunErrorEntry>,
    /// Errors at the front of `errors` carried over from earlier attempts: history, not a
    /// reason to call this attempt partial.
    carried: usize,
    /// Sources whose host's breaker opened in this attempt, with the index of that error.
    open_circuits: Vec<(SourceName, usize)>,
    /// Boards fetched whole: `source:board` and the hashes of every listing it returned.
    complete_boards: Vec<(String, HashSet<JobHash>)>,
}

impl RunState {
    fn record(&mut self, source: SourceName, category: Option<String>, message: String) {
        tracing::warn!(%source, category = category.as_deref().unwrap_or("-"), %message, "source failed");
        self.per_source.entry(source).or_default().errors += 1;
        self.errors.push(RunErrorEntry {
            source: source.as_str().to_owned(),
            category,
            message,
            at: Utc::now(),
        });
    }

    /// Records a failed fetch; a source whose breaker opened is recorded once.
    fn failed(&mut self, source: SourceName, category: Option<String>, failure: Failure) {
        if failure.circuit_open {
            if self.open_circuits.iter().any(|(s, _)| *s == source) {
                return;
            }
            self.open_circuits.push((source, self.errors.len()));
            self.record(source, None, failure.message);
        } else {
            self.record(source, category, failure.message);
        }
    }

    /// A source whose breaker opened keeps one error, the breaker's, which names the cause:
    /// the failed requests that led to it are that one error.
    fn collapse_open_circuits(&mut self) {
        if self.open_circuits.is_empty() {
            return;
        }
        let carried = self.carried;
        let open = &self.open_circuits;
        let mut index = 0;
        self.errors.retain(|e| {
            let i = index;
            index += 1;
            i < carried
                || open.iter().any(|(_, kept)| *kept == i)
                || !open.iter().any(|(s, _)| s.as_str() == e.source)
        });
        for (source, _) in open {
            self.per_source.entry(*source).or_default().errors = 1;
        }
    }

    /// Counts a board's fetch and remembers what a complete one returned; gives back its
    /// listings whose titles match some category's keywords, each with those categories (the
    /// others join no category and are not stored).
    fn absorb_board(
        &mut self,
        outcome: Outcome,
        categories: &[search_category::Model],
    ) -> Vec<(RawListing, Vec<i64>)> {
        match outcome.result {
            Ok(mut listings) => {
                self.per_source.entry(outcome.source).or_default().fetched += listings.len();
                self.counters.listings_fetched += listings.len() as i32;
                if let Some(board) = outcome.board {
                    let seen = listings
                        .iter()
                        .map(|l| JobHash::of(&l.title, &l.company, &l.job_url))
                        .collect();
                    for l in &mut listings {
                        l.board = Some(board.clone());
                    }
                    self.complete_boards.push((board, seen));
                }
                listings
                    .into_iter()
                    .filter_map(|l| {
                        let found_by: Vec<i64> = categories
                            .iter()
                            .filter(|c| title_matches_keywords(&l.title, &c.keywords.0))
                            .map(|c| c.id)
                            .collect();
                        (!found_by.is_empty()).then_some((l, found_by))
                    })
                    .collect()
            }
            Err(failure) => {
                self.failed(outcome.source, None, failure);
                Vec::new()
            }
        }
    }

    /// What each source that was tried did in this attempt, for `source_health`.
    fn tried(&self) -> Vec<health::Tried> {
        self.per_source
            .iter()
            .map(|(source, stats)| health::Tried {
                source: source.as_str().to_owned(),
                fetched: stats.fetched,
                errors: stats.errors,
                last_error: self.errors[self.carried.min(self.errors.len())..]
                    .iter()
                    .rev()
                    .find(|e| e.source == source.as_str())
                    .map(|e| e.message.clone()),
            })
            .collect()
    }

    /// FAILED when no source delivered anything and something failed; PARTIAL with errors.
    fn final_status(&self, sources: &SourceSet) -> RunStatus {
        let any_source = !sources.search.is_empty() || !sources.boards.is_empty();
        let every_source_failed = self
            .per_source
            .values()
            .all(|s| s.fetched == 0 && s.errors > 0)
            && !self.per_source.is_empty();
        if self.errors.len() == self.carried {
            RunStatus::Succeeded
        } else if every_source_failed || !any_source {
            RunStatus::Failed
        } else {
            RunStatus::Partial
        }
    }
}

/// Every board's fetch, each task returning its outcome with the permit it fetched under.
fn fetch_boards(
    sources: &SourceSet,
    limit: &Arc<Semaphore>,
) -> JoinSet<(
    Outcome,
    std::result::Result<OwnedSemaphorePermit, AcquireError>,
)> {
    let mut tasks = JoinSet::new();
    for (source, target) in &sources.boards {
        let (source, target, limit) = (source.clone(), target.clone(), limit.clone());
        tasks.spawn(async move {
            let permit = limit.acquire_owned().await;
            let result = source
                .fetch(&target)
                .await
                .map_err(|e| Failure::new(&target, &e));
            let board = match &target {
                Target::Board(b) => Some(format!("{}:{b}", source.name())),
                _ => None,
            };
            let outcome = Outcome {
                source: source.name(),
                category: None,
                board,
                result,
            };
            (outcome, permit)
        });
    }
    tasks
}

async fn search_category(
    search: &[Arc<dyn JobSource>],
    category: &search_category::Model,
    (hours_old, results_wanted): (u32, usize),
) -> (search_category::Model, Vec<Outcome>) {
    let mut outcomes = Vec::new();
    for source in search {
        for term in &category.search_terms.0 {
            let query = SearchQuery {
                term: term.clone(),
                location: category.location.clone(),
                hours_old,
                results_wanted,
            };
            let target = Target::Search(query);
            let result = source
                .fetch(&target)
                .await
                .map_err(|e| Failure::new(&target, &e));
            let given_up = result.as_ref().is_err_and(|f| f.circuit_open);
            outcomes.push(Outcome {
                source: source.name(),
                category: Some(category.slug.to_string()),
                board: None,
                result,
            });
            if given_up {
                break;
            }
        }
    }
    (category.clone(), outcomes)
}

/// Whether a board listing's title contains any of the category's keywords (all its words,
/// whole words).
pub fn title_matches_keywords(title: &str, keywords: &[String]) -> bool {
    keywords.iter().any(|k| matches_term(title, k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn board_titles_join_categories_by_keyword() {
        let kw = vec!["software engineer".to_owned(), "backend".to_owned()];
        assert!(title_matches_keywords(
            "Senior Software Engineer, Payments",
            &kw
        ));
        assert!(title_matches_keywords("Backend Developer (Go)", &kw));
        assert!(!title_matches_keywords("Account Executive", &kw));
        assert!(!title_matches_keywords("Software Engineering Manager", &kw));
    }
}
