//! Job handlers and the worker monitor.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use apalis::layers::retry::HasherRng;
use apalis::layers::retry::backoff::{ExponentialBackoffMaker, MakeBackoff};
use apalis::prelude::*;
use sea_orm::DatabaseConnection;

use super::{Queue, QueueConfig, RunPipeline};
use crate::collect::{self, CollectConfig, SilentProgress, runs};
use crate::sources::registry::http_client;
use crate::sources::{PoliteClient, SourceSet, SourcesConfig};

/// What handlers need.
#[derive(Debug, Clone)]
pub struct Deps {
    pub db: DatabaseConnection,
    pub sources: SourcesConfig,
    pub collect: CollectConfig,
}

/// Runs the collection of `job.run_id`. A run that already ended is left alone, so a retry or
/// a second delivery changes nothing twice; an interrupted run starts over (counters reset,
/// listings already stored are skipped by `ON CONFLICT DO NOTHING`).
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
    )
    .await?;
    tracing::info!(
        run_id = job.run_id,
        status = summary.status.as_str(),
        inserted = summary.counters.listings_inserted,
        "run finished"
    );
    Ok(())
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
    let (concurrency, poll, retries) = (
        config.worker_concurrency.max(1),
        config.poll_interval,
        config.max_retries,
    );
    let backoff = ExponentialBackoffMaker::new(
        Duration::from_secs(2),
        Duration::from_secs(300),
        0.5,
        HasherRng::default(),
    )
    .map_err(std::io::Error::other)?;
    let policy = move || RetryPolicy::retries(retries).with_backoff(backoff.clone().make_backoff());
    // A worker that stops on a backend error (a lost connection, a pool timeout) is restarted
    // after a pause rather than leaving its queue unserved.
    // Worker names must differ between processes: apalis tracks liveness by name, and a new
    // worker under a dead one's name would keep the dead one's jobs looking alive.
    let instance = instance_name();
    let monitor = Monitor::new()
        .shutdown_timeout(grace)
        .should_restart(|worker, error| {
            tracing::warn!(worker = worker.name(), %error, "worker stopped; restarting it");
            true
        });
    // The storages are different types, so each gets the same worker built by this macro.
    macro_rules! worker_on {
        ($storage:expr) => {{
            let storage = $storage;
            monitor.register(move |i| {
                WorkerBuilder::new(format!("run-pipeline-{instance}-{i}"))
                    .backend(storage.clone().poll_with_interval(poll))
                    .concurrency(concurrency)
                    .retry(policy())
                    .data(deps.clone())
                    .build(run_pipeline)
            })
        }};
    }
    let monitor = match queue {
        Queue::Sqlite(storage) => worker_on!(storage),
        Queue::Postgres(storage) => worker_on!(storage),
        Queue::Redis(storage) => worker_on!(storage),
    };
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
