//! Collector runs, for admins: `pipelineRun` and `pipelineRuns` (runs with their counters and
//! errors), `runPipeline` (ask for a run), and the `pipelineRunProgress` subscription.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::pipeline_run;
use jobs::collect::runs;

use super::context::{Access, require_user, state};
use crate::error::{ApiError, ApiResult};

/// Most runs one `pipelineRuns` call returns.
pub const MAX_RUNS: i32 = 100;

/// What started a run.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::RunTrigger")]
pub enum RunTrigger {
    /// `jobcollector pipeline` on a command line.
    Cli,
    /// The schedule (`PIPELINE_INTERVAL_SECONDS`).
    Schedule,
    /// An admin's `runPipeline`.
    Admin,
}

/// Where a run stands. SUCCEEDED, PARTIAL and FAILED are final.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::RunStatus")]
pub enum RunStatus {
    /// Waiting for a worker.
    Queued,
    /// Collecting.
    Running,
    /// Ended without errors.
    Succeeded,
    /// Ended; some sources or categories failed (see `errors`), the rest was stored.
    Partial,
    /// Ended; nothing could be collected.
    Failed,
}

/// One failure during a run. A failing source or category never stops the others.
#[derive(SimpleObject, Debug, Clone)]
pub struct RunError {
    /// The source that failed (`greenhouse`, `linkedin`, …).
    pub source: String,
    /// The category being collected, when the failure belongs to one.
    pub category: Option<String>,
    /// What went wrong.
    pub message: String,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// A collector run: fan-out per category, global dedup, batch upsert.
#[derive(Debug, Clone)]
pub struct PipelineRun(pub pipeline_run::Model);

/// A collector run: fan-out per category, global dedup, batch upsert.
#[Object]
impl PipelineRun {
    /// Opaque identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// What started it.
    async fn trigger(&self) -> RunTrigger {
        self.0.trigger.into()
    }
    /// Where it stands.
    async fn status(&self) -> RunStatus {
        self.0.status.into()
    }
    /// When it was created.
    async fn queued_at(&self) -> DateTime<Utc> {
        self.0.queued_at
    }
    /// When collecting began.
    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.0.started_at
    }
    /// When it ended.
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }
    /// Active categories when it started.
    async fn categories_total(&self) -> i32 {
        self.0.categories_total
    }
    /// Categories collected so far.
    async fn categories_done(&self) -> i32 {
        self.0.categories_done
    }
    /// Listings received from the sources, before dedup.
    async fn listings_fetched(&self) -> i32 {
        self.0.listings_fetched
    }
    /// Distinct listings after dedup by (title, company).
    async fn listings_unique(&self) -> i32 {
        self.0.listings_unique
    }
    /// Listings that were new to the store.
    async fn listings_inserted(&self) -> i32 {
        self.0.listings_inserted
    }
    /// Users whose matches were queued for scoring after the run.
    async fn users_queued_for_matching(&self) -> i32 {
        self.0.users_queued_for_matching
    }
    /// What failed, in order.
    async fn errors(&self) -> Vec<RunError> {
        self.0
            .errors
            .0
            .iter()
            .map(|e| RunError {
                source: e.source.clone(),
                category: e.category.clone(),
                message: e.message.clone(),
                at: e.at,
            })
            .collect()
    }
}

/// Run queries (admins only).
#[derive(Default, Debug)]
pub struct RunQuery;

#[Object]
impl RunQuery {
    /// One run by id; null when there is none.
    #[graphql(guard = "Access::Admin")]
    async fn pipeline_run(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<PipelineRun>> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(None);
        };
        match runs::get(&state(ctx).db, id).await {
            Ok(run) => Ok(Some(PipelineRun(run))),
            Err(jobs::Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The newest runs first, at most `first` (1 to 100).
    #[graphql(guard = "Access::Admin")]
    async fn pipeline_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(20)")] first: Option<i32>,
    ) -> ApiResult<Vec<PipelineRun>> {
        let first = first.unwrap_or(20);
        if !(1..=MAX_RUNS).contains(&first) {
            return Err(ApiError::Validation {
                field: "first",
                message: format!("must be between 1 and {MAX_RUNS}"),
            });
        }
        let rows = runs::newest(&state(ctx).db, first as u64).await?;
        Ok(rows.into_iter().map(PipelineRun).collect())
    }
}

/// Run mutations (admins only).
#[derive(Default, Debug)]
pub struct RunMutation;

#[Object]
impl RunMutation {
    /// Starts a collector run: creates it QUEUED and queues its job. While a run is queued or
    /// running this returns that run instead, so pressing twice (or two admins at once) makes
    /// exactly one run.
    #[graphql(guard = "Access::Admin")]
    async fn run_pipeline(&self, ctx: &Context<'_>) -> ApiResult<PipelineRun> {
        let admin = require_user(ctx).await?;
        let s = state(ctx);
        let run = jobs::queue::trigger::request_run(
            &s.db,
            &s.queue,
            entity::RunTrigger::Admin,
            Some(admin.id),
        )
        .await?;
        Ok(PipelineRun(run))
    }
}

/// How often a progress subscription reads the run. Reading the row (rather than an in-process
/// channel) lets it follow a run executed by any worker process.
const PROGRESS_POLL: std::time::Duration = std::time::Duration::from_millis(250);

/// Run subscriptions (admins only).
#[derive(Default, Debug)]
pub struct RunSubscription;

/// A run without what clients never see: the worker's heartbeat moves every few seconds and
/// is no change to report.
fn as_seen(row: &pipeline_run::Model) -> pipeline_run::Model {
    pipeline_run::Model {
        heartbeat_at: None,
        ..row.clone()
    }
}

#[async_graphql::Subscription]
impl RunSubscription {
    /// The run now, then again every time its status or counters change; completes after the
    /// run ends. Works whichever process executes the run (it follows the stored row).
    #[graphql(guard = "Access::Admin")]
    async fn pipeline_run_progress(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<impl futures::Stream<Item = PipelineRun> + use<>, ApiError> {
        let db = state(ctx).db.clone();
        let not_found =
            || ApiError::NotFound(format!("no pipeline run has the id {}", id.as_str()));
        let id: i64 = id.parse().map_err(|_| not_found())?;
        let first = match runs::get(&db, id).await {
            Ok(run) => run,
            Err(jobs::Error::NotFound(_)) => return Err(not_found()),
            Err(e) => return Err(e.into()),
        };
        // State: the last emitted row, and whether the run has ended (then the stream ends).
        let stream = futures::stream::unfold(
            (db, id, None::<pipeline_run::Model>, Some(first)),
            |(db, id, last, pending)| async move {
                if let Some(last) = &last
                    && last.status.is_final()
                {
                    return None;
                }
                let mut next = pending;
                loop {
                    if let Some(row) = next.take()
                        && last.as_ref().map(as_seen) != Some(as_seen(&row))
                    {
                        return Some((PipelineRun(row.clone()), (db, id, Some(row), None)));
                    }
                    tokio::time::sleep(PROGRESS_POLL).await;
                    match runs::get(&db, id).await {
                        Ok(row) => next = Some(row),
                        Err(e) => {
                            tracing::warn!(run_id = id, error = %e, "progress subscription could not read the run; ending it");
                            return None;
                        }
                    }
                }
            },
        );
        Ok(stream)
    }
}
