//! Job handlers and the worker monitor.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use apalis::layers::retry::HasherRng;
use apalis::layers::retry::backoff::{ExponentialBackoffMaker, MakeBackoff};
use apalis::prelude::*;
use sea_orm::DatabaseConnection;

use super::{AssignCategory, MatchUser, Queue, QueueConfig, RunPipeline};
use crate::assign::{self, AssignConfig};
use crate::collect::{self, CollectConfig, SilentProgress, runs};
use crate::llm::Llm;
use crate::matching::{self, CorpusCache, MatchConfig};
use crate::sources::registry::http_client;
use crate::sources::{PoliteClient, SourceSet, SourcesConfig};

/// What handlers need.
#[derive(Debug, Clone)]
pub struct Deps {
    pub db: DatabaseConnection,
    pub sources: SourcesConfig,
    pub collect: CollectConfig,
    /// Where follow-up jobs are queued (matching after a run or an assignment).
    pub queue: Queue,
    /// The LLM, when `BEDROCK_LLM_ENABLED=true`.
    pub llm: Option<Arc<dyn Llm>>,
    pub assign: AssignConfig,
    pub matching: MatchConfig,
    pub corpus: Arc<CorpusCache>,
}

/// Runs the collection of `job.run_id`, then queues matching for the users of every category
/// that gained listings. A run that already ended is left alone, so a retry or a second
/// delivery changes nothing twice; an interrupted run starts over (counters reset, listings
/// already stored are skipped by `ON CONFLICT DO NOTHING`).
pub async fn run_pipeline(job: RunPipeline, deps: Data<Arc<Deps>>) -> Result<(), BoxDynError> {
    let run = runs::get(&deps.db, job.run_id).await?;
    if run.status.is_final() {
        tracing::info!(
            run_id = job.run_id,
            status = run.status.as_str(),
            "run already ended; nothing to do"
        );
        return Ok(());
    }
    let sources = SourceSet::from_config(&deps.sources, PoliteClient::new(http_client()));
    let summary = collect::collect(
        &deps.db,
        &sources,
        &deps.sources,
        &deps.collect,
        job.run_id,
        &SilentProgress,
        Some(&deps.queue),
    )
    .await?;
    tracing::info!(
        run_id = job.run_id,
        status = summary.status.as_str(),
        inserted = summary.counters.listings_inserted,
        users_queued = summary.counters.users_queued_for_matching,
        "run finished"
    );
    Ok(())
}

/// Assigns a category for `job.resume_hash`, then queues matching. A job for an older resume,
/// or one delivered again after its result was recorded, changes nothing.
pub async fn assign_category(
    job: AssignCategory,
    deps: Data<Arc<Deps>>,
) -> Result<(), BoxDynError> {
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
    Ok(())
}

/// Scores the user's fresh listings that have no current score.
pub async fn match_user(job: MatchUser, deps: Data<Arc<Deps>>) -> Result<(), BoxDynError> {
    matching::run(
        &deps.db,
        deps.llm.as_deref(),
        &deps.corpus,
        &deps.matching,
        job.user_id,
    )
    .await?;
    Ok(())
}

/// How every worker is run: the same for each queue.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// `host-pid-n`: worker names must differ between processes, because apalis tracks
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
            instance: instance_name(),
            concurrency: config.worker_concurrency.max(1),
            poll: config.poll_interval,
            retries: config.max_retries,
            backoff: ExponentialBackoffMaker::new(
                Duration::from_secs(2),
                Duration::from_secs(300),
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
        match $storage {
            $crate::queue::Storage::Sqlite(s) => on!(s),
            $crate::queue::Storage::Postgres(s) => on!(s),
            $crate::queue::Storage::Redis(s) => on!(s),
        }
    }};
}

/// Runs workers for every queue until `stop` completes; a job in progress may finish within
/// `grace`.
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
    monitor
        .run_with_signal(async move {
            stop.await;
            Ok(())
        })
        .await
        .map_err(std::io::Error::other)
}

/// `host-pid-n`: unique per monitor started on this machine.
fn instance_name() -> String {
    static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    format!("{host}-{}-{n}", std::process::id())
}
