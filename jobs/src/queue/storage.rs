//! One job type's queue on whichever backend the deployment uses, and how it is built: the
//! queue name under `QUEUE_PREFIX`, batch size, heartbeats, and `JOB_MAX_RETRIES` + 1 attempts
//! written into every job pushed.

use std::time::Duration;

use apalis::prelude::TaskSink;
use apalis_postgres::PostgresStorage;
use apalis_redis::RedisStorage;
use apalis_sqlite::SqliteStorage;
use backon::{ExponentialBuilder, Retryable};
use serde::{Deserialize, Serialize};

use super::{Backend, HEARTBEAT, QueueConfig, queue_error};
use crate::Result;

/// Where one job type's queue lives.
pub enum StorageBackend<T> {
    Sqlite(SqliteStorage<T>),
    Postgres(PostgresStorage<T>),
    Redis(RedisStorage<T>),
}

impl<T> Clone for StorageBackend<T> {
    fn clone(&self) -> Self {
        match self {
            Self::Sqlite(s) => Self::Sqlite(s.clone()),
            Self::Postgres(s) => Self::Postgres(s.clone()),
            Self::Redis(s) => Self::Redis(s.clone()),
        }
    }
}

/// One job type's queue, and how many attempts each job pushed to it gets.
pub struct Storage<T> {
    backend: StorageBackend<T>,
    /// `JOB_MAX_RETRIES` + 1, written into every job: apalis's storages default to 25.
    max_attempts: usize,
}

impl<T> Clone for Storage<T> {
    fn clone(&self) -> Self {
        Self {
            backend: self.backend.clone(),
            max_attempts: self.max_attempts,
        }
    }
}

impl<T> std::fmt::Debug for StorageBackend<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Sqlite(_) => "Sqlite",
            Self::Postgres(_) => "Postgres",
            Self::Redis(_) => "Redis",
        })
    }
}

impl<T> std::fmt::Debug for Storage<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("backend", &self.backend)
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

impl<T> Storage<T> {
    /// The apalis storage, for registering a worker on it.
    pub fn into_backend(self) -> StorageBackend<T> {
        self.backend
    }
}

impl<T> Storage<T>
where
    T: Serialize + for<'de> Deserialize<'de> + Clone + Send + Sync + Unpin + 'static,
{
    /// Queues a job with `JOB_MAX_RETRIES` + 1 attempts. A push that fails (a connection lost a
    /// moment ago and being re-established) is tried again up to three times.
    pub async fn push(&self, job: T) -> Result<()> {
        let task = || {
            apalis::prelude::TaskBuilder::new(job.clone())
                .max_attempts(self.max_attempts)
                .build()
        };
        let push = || async {
            match &self.backend {
                StorageBackend::Sqlite(s) => s.clone().push_task(task()).await.map_err(queue_error),
                StorageBackend::Postgres(s) => {
                    s.clone().push_task(task()).await.map_err(queue_error)
                }
                StorageBackend::Redis(s) => s.clone().push_task(task()).await.map_err(queue_error),
            }
        };
        push.retry(
            ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(100))
                .with_max_times(3),
        )
        .sleep(tokio::time::sleep)
        .notify(|e, wait| tracing::warn!(error = %e, ?wait, "pushing a job failed; retrying"))
        .await
    }
}

pub(super) fn storage<T>(backend: &Backend, config: &QueueConfig, job: &str) -> Storage<T> {
    Storage {
        backend: storage_backend(backend, config, job),
        max_attempts: config.max_attempts(),
    }
}

fn storage_backend<T>(backend: &Backend, config: &QueueConfig, job: &str) -> StorageBackend<T> {
    let name = config.queue_name(job);
    let batch = config.worker_concurrency.max(1);
    let missed = config.missed_heartbeats();
    match backend {
        Backend::Sqlite(pool) => StorageBackend::Sqlite(
            SqliteStorage::new(pool).with_config(
                apalis_sqlite::Config::default()
                    .queue(&name)
                    .batch_size(batch)
                    .heartbeat_interval(HEARTBEAT)
                    .missed_heartbeats(missed),
            ),
        ),
        Backend::Postgres(pool) => StorageBackend::Postgres(
            PostgresStorage::new(pool).with_config(
                apalis_postgres::Config::default()
                    .queue(&name)
                    .batch_size(batch)
                    .heartbeat_interval(HEARTBEAT)
                    .missed_heartbeats(missed),
            ),
        ),
        Backend::Redis(conn) => StorageBackend::Redis(
            RedisStorage::new(conn.clone()).with_config(
                apalis_redis::Config::default()
                    .queue(name)
                    .batch_size(batch)
                    .heartbeat_interval(HEARTBEAT)
                    .missed_heartbeats(missed),
            ),
        ),
    }
}
