//! Job handlers and the worker monitor.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use apalis::layers::retry::HasherRng;
use apalis::layers::retry::backoff::{ExponentialBackoffMaker, MakeBackoff};
use apalis::prelude::*;
use sea_orm::DatabaseConnection;

use super::{
    AssignCategory, Maintenance, MatchUser, Queue, QueueConfig, RunPipeline, SendAlerts,
    TailorDocument,
};
use crate::alerts::{self, AlertConfig};
use crate::assign::{self, AssignConfig};
use crate::collect::lease::{self as runs_lease, Claim};
use crate::collect::{self, CollectConfig, SilentProgress};
use crate::llm::Llm;
use crate::maintenance::{self, MaintenanceConfig};
use crate::matching::{self, CorpusCache, MatchConfig};
use crate::sources::{SourceSet, SourcesConfig};

/// What handlers need.
#[derive(Debug, Clone)]
pub struct Deps {
    pub db: DatabaseConnection,
    pub sources: SourcesConfig,
    /// The HTTP client every source shares, built once at start.
    pub http: reqwest::Client,
    pub collect: CollectConfig,
    /// Where follow-up jobs are queued (matching after a run or an assignment).
    pub queue: Queue,
    /// The LLM, when `BEDROCK_LLM_ENABLED=true`.
    pub llm: Option<Arc<dyn Llm>>,
    pub assign: AssignConfig,
    pub matching: MatchConfig,
    pub corpus: Arc<CorpusCache>,
    pub alerts: AlertConfig,
    pub maintenance: MaintenanceConfig,
}

/// The longest wait between two attempts of a job (the backoff doubles from 2 s up to this).
pub const RETRY_BACKOFF_MAX: Duration = Duration::from_secs(300);

/// Runs the collection of `job.run_id`, then queues matching for the users of every category
/// that gained listings and writes the run's end. The run is claimed first, so a second
/// delivery, or a job for a run another live worker holds, changes nothing; an interrupted run
/// starts over (counters reset, listings already stored are skipped by `ON CONFLICT DO
/// NOTHING`). While it works the worker refreshes the run's heartbeat; if another worker took
/// the run over, this one stops and writes nothing. A failed attempt hands the run back to the
/// queue with its error; the last one marks it FAILED.
pub async fn run_pipeline(
    job: RunPipeline,
    deps: Data<Arc<Deps>>,
    attempt: Attempt,
    task_id: TaskId,
) -> Result<(), BoxDynError> {
    let span = tracing::info_span!("job", job = "run_pipeline", %task_id, run_id = job.run_id);
    timed("run_pipeline", span, async move {
        let queue = deps.queue.config();
        let claimed = runs_lease::claim(&deps.db, job.run_id, queue.orphan_after)
            .await
            .map_err(|e| settle("run_pipeline", &attempt, queue, e.into()))?;
        let lease = match claimed {
            Claim::Claimed(lease, _) => lease,
            Claim::Ended(status) => {
                tracing::info!(
                    run_id = job.run_id,
                    status = status.as_str(),
                    "run already ended; nothing to do"
                );
                return Ok(());
            }
            Claim::Busy => {
                tracing::info!(
                    run_id = job.run_id,
                    "run is held by a live worker; nothing to do"
                );
                return Ok(());
            }
        };
        let work = async {
            let summary = collect::collect(
                &deps.db,
                &SourceSet::for_run(&deps.sources, &deps.http),
                &deps.sources,
                &deps.collect,
                &lease,
                &SilentProgress,
            )
            .await?;
            super::trigger::finish_run(&deps.db, Some(&deps.queue), summary).await
        };
        match runs_lease::with_heartbeat(&deps.db, &lease, queue.run_heartbeat(), work).await {
            Ok(summary) => {
                tracing::info!(
                    run_id = lease.id,
                    status = summary.status.as_str(),
                    inserted = summary.counters.listings_inserted,
                    users_queued = summary.counters.users_queued_for_matching,
                    "run finished"
                );
                Ok(())
            }
            Err(crate::Error::Superseded(why)) => {
                tracing::warn!(run_id = lease.id, %why, "another worker took the run over; this one stops");
                Ok(())
            }
            Err(e) => {
                let attempts = usize::try_from(lease.attempt).unwrap_or(usize::MAX);
                let recorded = if is_last_attempt(&attempt, queue) || attempts >= queue.max_attempts() {
                    runs_lease::fail(
                        &deps.db,
                        &lease,
                        format!("attempt {attempts} failed: {e}; no attempts left"),
                    )
                    .await
                } else {
                    runs_lease::release(
                        &deps.db,
                        &lease,
                        format!("attempt {attempts} failed: {e}; it will be retried"),
                    )
                    .await
                };
                if let Err(why) = recorded {
                    tracing::warn!(run_id = lease.id, error = %why, "could not record the failed attempt");
                }
                Err(settle("run_pipeline", &attempt, queue, e.into()))
            }
        }
    })
    .await
}

/// Assigns a category for `job.resume_hash`, then queues matching. A job for an older resume,
/// or one delivered again after its result was recorded, changes nothing.
pub async fn assign_category(
    job: AssignCategory,
    deps: Data<Arc<Deps>>,
    attempt: Attempt,
    task_id: TaskId,
) -> Result<(), BoxDynError> {
    let span = tracing::info_span!("job", job = "assign_category", %task_id, user_id = job.user_id);
    timed("assign_category", span, async move {
        let assigned = async {
            let outcome = assign::run(
                &deps.db,
                deps.llm.as_deref(),
                &deps.assign,
                job.user_id,
                &job.resume_hash,
            )
            .await?;
            if let assign::Outcome::Assigned { .. } = outcome {
                deps.queue
                    .push_match(MatchUser {
                        user_id: job.user_id,
                    })
                    .await?;
            }
            crate::Result::Ok(())
        };
        assigned.await.map_err(|e: crate::Error| {
            settle("assign_category", &attempt, deps.queue.config(), e.into())
        })
    })
    .await
}

/// Scores the user's fresh listings that have no current score, then queues their alerts when
/// it scored something and they asked for alerts.
pub async fn match_user(
    job: MatchUser,
    deps: Data<Arc<Deps>>,
    attempt: Attempt,
    task_id: TaskId,
) -> Result<(), BoxDynError> {
    let span = tracing::info_span!("job", job = "match_user", %task_id, user_id = job.user_id);
    timed("match_user", span, async move {
        let matched = async {
            let outcome = matching::run(
                &deps.db,
                deps.llm.as_deref(),
                &deps.corpus,
                &deps.matching,
                job.user_id,
            )
            .await?;
            if outcome.scored > 0 && outcome.alerts_wanted {
                deps.queue
                    .push_alerts(SendAlerts {
                        user_id: job.user_id,
                    })
                    .await?;
            }
            crate::Result::Ok(())
        };
        matched.await.map_err(|e: crate::Error| {
            settle("match_user", &attempt, deps.queue.config(), e.into())
        })
    })
    .await
}

/// Sends the user's due alerts.
pub async fn send_alerts(
    job: SendAlerts,
    deps: Data<Arc<Deps>>,
    attempt: Attempt,
    task_id: TaskId,
) -> Result<(), BoxDynError> {
    let span = tracing::info_span!("job", job = "send_alerts", %task_id, user_id = job.user_id);
    timed("send_alerts", span, async move {
        alerts::send(&deps.db, &deps.alerts, job.user_id)
            .await
            .map(|outcome| tracing::debug!(user_id = job.user_id, ?outcome, "alerts"))
            .map_err(|e| settle("send_alerts", &attempt, deps.queue.config(), e.into()))
    })
    .await
}

/// Makes a tailored document. On the last failed attempt the document is marked FAILED with
/// the error, so its owner is not left waiting on PENDING.
pub async fn tailor_document(
    job: TailorDocument,
    deps: Data<Arc<Deps>>,
    attempt: Attempt,
    task_id: TaskId,
) -> Result<(), BoxDynError> {
    let span = tracing::info_span!(
        "job",
        job = "tailor_document",
        %task_id,
        document_id = job.document_id
    );
    timed("tailor_document", span, async move {
        let queue = deps.queue.config();
        match crate::documents::make(&deps.db, deps.llm.as_deref(), job.document_id).await {
            Ok(made) => {
                tracing::info!(document_id = job.document_id, ?made, "tailored document");
                Ok(())
            }
            Err(e) => {
                if is_last_attempt(&attempt, queue) {
                    let why = format!("the document could not be made: {e}");
                    if let Err(why) = crate::documents::give_up(&deps.db, job.document_id, &why).await {
                        tracing::warn!(document_id = job.document_id, error = %why, "could not record the failure");
                    }
                }
                Err(settle("tailor_document", &attempt, queue, e.into()))
            }
        }
    })
    .await
}

/// Closes stale listings, deletes what `RETENTION_DAYS` allows, then prunes finished queue
/// jobs older than `QUEUE_RETENTION_DAYS` from every queue of this deployment.
pub async fn run_maintenance(
    job: Maintenance,
    deps: Data<Arc<Deps>>,
    attempt: Attempt,
    task_id: TaskId,
) -> Result<(), BoxDynError> {
    let span = tracing::info_span!("job", job = "maintenance", %task_id, slot = job.slot);
    timed("maintenance", span, async move {
        let work = async {
            let report = maintenance::run(
                &deps.db,
                deps.collect.listing_ttl_days,
                &deps.maintenance,
                chrono::Utc::now(),
            )
            .await?;
            let pruned = prune(&deps.queue, deps.maintenance.queue_retention_days).await?;
            tracing::info!(
                closed = report.closed,
                deleted_listings = report.deleted_listings,
                deleted_matches = report.deleted_matches,
                pruned_jobs = pruned,
                "maintenance done"
            );
            metrics::counter!("listings_closed_total", "by" => "maintenance")
                .increment(report.closed);
            metrics::counter!("listings_deleted_total").increment(report.deleted_listings);
            crate::Result::Ok(())
        };
        work.await.map_err(|e: crate::Error| {
            settle("maintenance", &attempt, deps.queue.config(), e.into())
        })
    })
    .await
}

/// Prunes finished jobs older than `retention_days` (0 keeps them) and counts them in
/// `queue_jobs_pruned_total`.
pub async fn prune(queue: &Queue, retention_days: u32) -> crate::Result<u64> {
    if retention_days == 0 {
        return Ok(0);
    }
    let pruned = queue
        .prune(Duration::from_secs(u64::from(retention_days) * 86_400))
        .await?;
    metrics::counter!("queue_jobs_pruned_total").increment(pruned);
    Ok(pruned)
}

/// Whether this attempt is the job's last (`JOB_MAX_RETRIES` retries already made).
fn is_last_attempt(attempt: &Attempt, queue: &QueueConfig) -> bool {
    attempt.current() >= queue.max_attempts()
}

/// Runs a handler's work in a span naming the job and its ids (every log line of the job
/// carries them), and counts it in `jobs_total` (`ok` here; `retried` and `failed` in
/// [`settle`]) with its time in `job_duration_seconds`.
async fn timed(
    job: &'static str,
    span: tracing::Span,
    work: impl Future<Output = Result<(), BoxDynError>>,
) -> Result<(), BoxDynError> {
    use tracing::Instrument;
    let started = std::time::Instant::now();
    let result = work.instrument(span).await;
    if result.is_ok() {
        metrics::counter!("jobs_total", "job" => job, "outcome" => "ok").increment(1);
    }
    metrics::histogram!("job_duration_seconds", "job" => job)
        .record(started.elapsed().as_secs_f64());
    result
}

/// The error a handler returns (counted in `jobs_total` as `retried` or `failed`): on the last
/// attempt it is logged at ERROR and wrapped in
/// [`AbortError`], so no storage tries the job again (apalis-redis would otherwise retry a
/// failed job up to 25 times whatever its `max_attempts`); before that it is logged as a retry.
fn settle(
    job: &'static str,
    attempt: &Attempt,
    queue: &QueueConfig,
    error: BoxDynError,
) -> BoxDynError {
    let made = attempt.current();
    let last = is_last_attempt(attempt, queue);
    metrics::counter!("jobs_total", "job" => job, "outcome" => if last { "failed" } else { "retried" })
        .increment(1);
    if !last {
        metrics::counter!("job_retries_total", "job" => job).increment(1);
    }
    if last {
        tracing::error!(job, attempt = made, error = %error, "job failed for the last time; giving up");
        Box::new(AbortError::new(error))
    } else {
        tracing::warn!(job, attempt = made, max_attempts = queue.max_attempts(), error = %error, "job failed; it will be retried");
        error
    }
}

/// How every worker is run: the same for each queue.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// `{instance}-{random}`: worker names must differ between processes, because apalis tracks
    /// liveness by name and a new worker under a dead one's name would keep the dead one's jobs
    /// looking alive.
    pub instance: String,
    pub concurrency: usize,
    pub poll: Duration,
    pub retries: usize,
    backoff: ExponentialBackoffMaker<HasherRng>,
}

impl WorkerSettings {
    pub fn new(config: &QueueConfig) -> std::io::Result<Self> {
        Ok(Self {
            instance: monitor_name(&config.instance),
            concurrency: config.worker_concurrency.max(1),
            poll: config.poll_interval,
            retries: config.max_retries,
            backoff: ExponentialBackoffMaker::new(
                Duration::from_secs(2),
                RETRY_BACKOFF_MAX,
                0.5,
                HasherRng::default(),
            )
            .map_err(std::io::Error::other)?,
        })
    }

    /// Retries with capped exponential backoff (2 s doubling up to 5 min, jittered).
    pub fn retry_policy(
        &self,
    ) -> apalis::layers::retry::BackoffRetryPolicy<apalis::layers::retry::backoff::ExponentialBackoff>
    {
        RetryPolicy::retries(self.retries).with_backoff(self.backoff.clone().make_backoff())
    }

    /// A monitor that restarts a worker stopped by a backend error (a lost connection, a pool
    /// timeout) rather than leaving its queue unserved, and lets running jobs finish within
    /// `grace` on shutdown.
    pub fn monitor(&self, grace: Duration) -> Monitor {
        Monitor::new()
            .shutdown_timeout(grace)
            .should_restart(|worker, error| {
                tracing::warn!(worker = worker.name(), %error, "worker stopped; restarting it");
                true
            })
    }
}

/// Registers on `$monitor` a worker named `$name` for the queue `$storage` (a
/// [`Storage`](crate::queue::Storage), whatever its backend), with `$settings`
/// ([`WorkerSettings`]), the shared data `$data` and the handler `$handler`; evaluates to the
/// monitor.
#[macro_export]
macro_rules! register_worker {
    ($monitor:expr, $storage:expr, $name:expr, $settings:expr, $data:expr, $handler:expr) => {{
        #[allow(unused_imports)]
        use $crate::queue::apalis::prelude::*;
        let (settings, data, name) = ($settings.clone(), $data.clone(), $name);
        macro_rules! on {
            ($backend:expr) => {{
                let backend = $backend;
                $monitor.register(move |i| {
                    WorkerBuilder::new(format!("{name}-{}-{i}", settings.instance))
                        .backend(backend.clone().poll_with_interval(settings.poll))
                        .concurrency(settings.concurrency)
                        .retry(settings.retry_policy())
                        .data(data.clone())
                        .build($handler)
                })
            }};
        }
        match $storage.into_backend() {
            $crate::queue::StorageBackend::Sqlite(s) => on!(s),
            $crate::queue::StorageBackend::Postgres(s) => on!(s),
            $crate::queue::StorageBackend::Redis(s) => on!(s),
        }
    }};
}

/// Runs workers for every queue until `stop` completes; a job in progress may finish within
/// `grace`. Beside them, a watch recovers collector runs whose worker died.
pub async fn run(
    queue: Queue,
    deps: Arc<Deps>,
    config: &QueueConfig,
    grace: Duration,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let settings = WorkerSettings::new(config)?;
    let monitor = settings.monitor(grace);
    let monitor = crate::register_worker!(
        monitor,
        queue.runs().clone(),
        "run-pipeline",
        settings,
        deps,
        run_pipeline
    );
    let monitor = crate::register_worker!(
        monitor,
        queue.assignments().clone(),
        "assign-category",
        settings,
        deps,
        assign_category
    );
    let monitor = crate::register_worker!(
        monitor,
        queue.matching().clone(),
        "match-user",
        settings,
        deps,
        match_user
    );
    let monitor = crate::register_worker!(
        monitor,
        queue.tailoring().clone(),
        "tailor-document",
        settings,
        deps,
        tailor_document
    );
    let monitor = crate::register_worker!(
        monitor,
        queue.alerts().clone(),
        "send-alerts",
        settings,
        deps,
        send_alerts
    );
    let monitor = crate::register_worker!(
        monitor,
        queue.maintenance().clone(),
        "maintenance",
        settings,
        deps,
        run_maintenance
    );
    let workers = monitor.run_with_signal(async move {
        stop.await;
        Ok(())
    });
    tokio::select! {
        result = workers => result.map_err(std::io::Error::other),
        () = watch_runs(&deps.db, &queue) => Ok(()),
    }
}

/// Every half `QUEUE_ORPHAN_AFTER_SECONDS`, recovers stale runs (never returns).
async fn watch_runs(db: &DatabaseConnection, queue: &Queue) {
    let mut tick = tokio::time::interval(queue.config().orphan_after / 2);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = super::trigger::recover_stale_runs(db, queue).await {
            tracing::warn!(error = %e, "could not check for stale runs");
        }
    }
}

/// `{instance}-{random}`: unique per monitor, also when one process starts several (tests,
/// the queue benchmark).
fn monitor_name(instance: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!("{instance}-{:06x}", random & 0xff_ffff)
}
