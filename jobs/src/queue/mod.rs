//! Background jobs on apalis 1.0.
//!
//! The queue lives in the app's own database (apalis's SQL storage: SQLite on a fresh
//! machine, Postgres when that is the database), so a queued job survives a restart and a
//! single binary needs nothing else; with `REDIS_URL` set it lives in Redis, shared by every
//! process. Jobs: [`RunPipeline`] (one collector run), [`AssignCategory`] (a user's category
//! from their resume), [`MatchUser`] (scoring a user's fresh listings), [`TailorDocument`]
//! (a resume or cover letter tailored to a listing), [`SendAlerts`] (a user's new matches,
//! by email and webhook), [`Maintenance`] (stale listings closed, retention, finished queue
//! jobs pruned).
//!
//! - [`Queue`]: the queues of every job type on one backend; pushes jobs, prunes finished
//!   ones, and at setup swaps apalis's `lock_by` index for one over unfinished jobs (so a
//!   long-lived worker does not slow down).
//! - `storage`: one job type's queue ([`Storage`]) and how it is built.
//! - [`workers`]: the handlers and the worker monitor (retries with capped exponential
//!   backoff, the last attempt given up at ERROR, graceful shutdown that lets a running job
//!   finish within the grace period), and the watch that recovers stale runs.
//! - [`trigger`]: what asks for jobs — a run (one queued or running at a time), stale runs
//!   queued again, matching after a run, a saved resume's assignment.
//! - [`scheduler`]: a run every `PIPELINE_INTERVAL_SECONDS` and maintenance every
//!   `MAINTENANCE_INTERVAL_SECONDS`, each once per interval across processes.

pub use apalis;

pub mod scheduler;
mod storage;
pub mod trigger;
pub mod workers;

use storage::storage;
pub use storage::{Storage, StorageBackend};

use std::time::Duration;

use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use sea_orm::{DatabaseConnection, DbBackend};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Collect for the `pipeline_runs` row `run_id` (created QUEUED).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunPipeline {
    pub run_id: i64,
}

/// Choose the category of `user_id` for the resume with `resume_hash` (a job for an older
/// resume does nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignCategory {
    pub user_id: i64,
    pub resume_hash: String,
}

/// Score the fresh listings of `user_id`'s category that have no current score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchUser {
    pub user_id: i64,
}

/// Make the tailored document `document_id` (created PENDING by `tailorDocument`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TailorDocument {
    pub document_id: i64,
}

/// Send `user_id`'s alerts that are due (queued after their scoring and when their alert
/// settings change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendAlerts {
    pub user_id: i64,
}

/// Upkeep: close stale listings, delete what `RETENTION_DAYS` allows, prune finished queue
/// jobs older than `QUEUE_RETENTION_DAYS` (queued by the scheduler; `slot` is its slot, for the
/// logs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Maintenance {
    pub slot: i64,
}

/// Every job type's queue name under `QUEUE_PREFIX`.
pub const JOB_TYPES: [&str; 6] = [
    "run_pipeline",
    "assign_category",
    "match_user",
    "tailor_document",
    "send_alerts",
    "maintenance",
];

/// How many jobs of one type wait (see [`Queue::depths`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Depth {
    pub job: String,
    pub waiting: i64,
    pub oldest_waiting_secs: i64,
}

/// How the queue is named and worked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    /// `QUEUE_PREFIX`: queue names are `{prefix}:run_pipeline`, so deployments or test runs can
    /// share one database or Redis.
    pub prefix: String,
    /// `WORKER_CONCURRENCY`: jobs one worker process runs at once.
    pub worker_concurrency: usize,
    /// `QUEUE_POLL_INTERVAL_MS`: how often an idle worker looks for jobs (apalis's SQL
    /// storages do not wake on a push).
    pub poll_interval: Duration,
    /// `JOB_MAX_RETRIES`: retries of a failed job, with exponential backoff.
    pub max_retries: usize,
    /// `QUEUE_ORPHAN_AFTER_SECONDS`: a job held by a worker silent this long is given to
    /// another worker (the holder is taken for dead).
    pub orphan_after: Duration,
    /// `REDIS_URL`: when set the queue lives in Redis, shared by every process; otherwise in
    /// the app's database.
    pub redis_url: Option<String>,
    /// This process among others (`HOSTNAME`-pid): names its workers and its scheduler claims.
    pub instance: String,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            prefix: "jobcollector".into(),
            worker_concurrency: 2,
            poll_interval: Duration::from_millis(500),
            max_retries: 3,
            orphan_after: Duration::from_secs(60),
            redis_url: None,
            instance: format!("host-{}", std::process::id()),
        }
    }
}

impl QueueConfig {
    /// Heartbeats a worker may miss before its jobs are reclaimed.
    pub fn missed_heartbeats(&self) -> usize {
        usize::try_from(self.orphan_after.as_millis() / HEARTBEAT.as_millis())
            .unwrap_or(usize::MAX)
            .max(2)
    }

    /// Attempts a job gets in all: the first and `JOB_MAX_RETRIES` retries.
    pub fn max_attempts(&self) -> usize {
        self.max_retries.saturating_add(1)
    }

    /// How often a worker running a collection refreshes its heartbeat: well within
    /// `orphan_after`, so a live worker is never taken for dead.
    pub fn run_heartbeat(&self) -> Duration {
        (self.orphan_after / 4).max(Duration::from_millis(250))
    }

    /// The storage name of a job type's queue.
    pub fn queue_name(&self, job: &str) -> String {
        format!("{}:{job}", self.prefix)
    }
}

/// Where the queues live: a pool of apalis's own in the app's database, or Redis.
#[derive(Clone)]
enum Backend {
    Sqlite(sea_orm::sqlx::SqlitePool),
    Postgres(sea_orm::sqlx::PgPool),
    Redis(apalis_redis::ConnectionManager),
}

/// How often a worker reports alive. Short, because under load a parked Postgres worker was
/// seen to look for new jobs only on its heartbeat (apalis's 30 s default), and because a dead
/// worker's jobs are reclaimed after missed heartbeats.
const HEARTBEAT: Duration = Duration::from_secs(1);

fn queue_error(e: impl std::fmt::Display) -> Error {
    Error::Unexpected(format!("job queue: {e}"))
}

/// The queues of every job type, in one place.
#[derive(Clone)]
pub struct Queue {
    backend: Backend,
    config: QueueConfig,
    runs: Storage<RunPipeline>,
    assignments: Storage<AssignCategory>,
    matching: Storage<MatchUser>,
    tailoring: Storage<TailorDocument>,
    alerts: Storage<SendAlerts>,
    maintenance: Storage<Maintenance>,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.backend {
            Backend::Sqlite(_) => "Queue::Sqlite",
            Backend::Postgres(_) => "Queue::Postgres",
            Backend::Redis(_) => "Queue::Redis",
        })
    }
}

/// The index apalis puts on `lock_by` covers every job a worker ever took, finished ones too
/// (apalis leaves `lock_by` set when a job is done), and the planner prefers it for the
/// statement that records finished jobs (`… WHERE id = <each id of the batch> AND lock_by =
/// <this worker>`): that statement then reads every job this worker has finished and parses its
/// batch's JSON once for each, so a worker slowed in step with the jobs it had done (SQLite 485
/// → 60 jobs/s over 20,000 jobs, Postgres 360 → 184; flat at 700–900 now). An index over
/// unfinished jobs only still serves the orphan recovery, which looks for queued and running
/// jobs, and leaves the finishing statement the primary key. Replaced at every start (apalis's
/// own migrations would not bring it back, but a later apalis version might).
const SQLITE_LOCK_INDEX: &str = "DROP INDEX IF EXISTS LIdx; \
     CREATE INDEX IF NOT EXISTS jobs_unfinished_lock_by ON Jobs (lock_by) \
     WHERE status IN ('Queued', 'Running');";

/// [`SQLITE_LOCK_INDEX`] on Postgres, where apalis made two such indexes. Done only when they
/// are there, under a transaction-scoped advisory lock so two processes starting at once
/// take turns.
async fn index_unfinished_locks_postgres(pool: &sea_orm::sqlx::PgPool) -> Result<()> {
    // Old indexes still there, plus one when the new one is missing.
    let stale: i64 = sea_orm::sqlx::query_scalar(
        "SELECT count(*) FILTER (WHERE indexname IN ('lidx', 'idx_apalis_jobs_lock_by')) \
              + 1 - count(*) FILTER (WHERE indexname = 'jobs_unfinished_lock_by') \
         FROM pg_indexes WHERE schemaname = 'apalis'",
    )
    .fetch_one(pool)
    .await
    .map_err(queue_error)?;
    if stale == 0 {
        return Ok(());
    }
    let mut tx = pool.begin().await.map_err(queue_error)?;
    sea_orm::sqlx::raw_sql(
        "SELECT pg_advisory_xact_lock(7241500117); \
         DROP INDEX IF EXISTS apalis.lidx; \
         DROP INDEX IF EXISTS apalis.idx_apalis_jobs_lock_by; \
         CREATE INDEX IF NOT EXISTS jobs_unfinished_lock_by ON apalis.jobs (lock_by) \
         WHERE status IN ('Queued', 'Running');",
    )
    .execute(&mut *tx)
    .await
    .map_err(queue_error)?;
    tx.commit().await.map_err(queue_error)?;
    Ok(())
}

impl Queue {
    /// The queue in the app's database, its tables created if missing. apalis gets a small pool
    /// of its own: on SQLite its setup relaxes durability pragmas on the pool it is given, and on
    /// both it keeps job polling from competing with the work for connections.
    pub async fn in_database(
        db: &DatabaseConnection,
        database_url: &str,
        config: &QueueConfig,
    ) -> Result<Self> {
        let backend = match db.get_database_backend() {
            DbBackend::Postgres => {
                // Its own pool, so polling and heartbeats never wait behind a run's queries.
                let pool = sea_orm::sqlx::postgres::PgPoolOptions::new()
                    .max_connections(u32::try_from(config.worker_concurrency + 4).unwrap_or(8))
                    .acquire_timeout(Duration::from_secs(30))
                    .connect(database_url)
                    .await
                    .map_err(queue_error)?;
                PostgresStorage::<()>::setup(&pool)
                    .await
                    .map_err(queue_error)?;
                index_unfinished_locks_postgres(&pool).await?;
                Backend::Postgres(pool)
            }
            DbBackend::Sqlite => {
                let options: sea_orm::sqlx::sqlite::SqliteConnectOptions =
                    database_url.parse().map_err(queue_error)?;
                let pool = sea_orm::sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(options.busy_timeout(Duration::from_secs(10)))
                    .await
                    .map_err(queue_error)?;
                let _lock = crate::setup_lock::acquire(database_url).await?;
                SqliteStorage::<()>::setup(&pool)
                    .await
                    .map_err(queue_error)?;
                sea_orm::sqlx::raw_sql(SQLITE_LOCK_INDEX)
                    .execute(&pool)
                    .await
                    .map_err(queue_error)?;
                Backend::Sqlite(pool)
            }
            other => return Err(queue_error(format!("{other:?} is not supported"))),
        };
        Ok(Self::on(backend, config))
    }

    /// Redis when `REDIS_URL` is set (an unreachable Redis is an error naming it), else the
    /// app's database.
    pub async fn connect(
        db: &DatabaseConnection,
        database_url: &str,
        config: &QueueConfig,
    ) -> Result<Self> {
        let Some(url) = &config.redis_url else {
            return Self::in_database(db, database_url, config).await;
        };
        let shown = redact(url);
        let conn =
            tokio::time::timeout(Duration::from_secs(5), apalis_redis::connect(url.as_str()))
                .await
                .map_err(|_| queue_error(format!("REDIS_URL={shown} did not answer within 5 s")))?
                .map_err(|e| queue_error(format!("cannot connect to REDIS_URL={shown}: {e}")))?;
        Ok(Self::on(Backend::Redis(conn), config))
    }

    fn on(backend: Backend, config: &QueueConfig) -> Self {
        Self {
            runs: storage(&backend, config, "run_pipeline"),
            assignments: storage(&backend, config, "assign_category"),
            matching: storage(&backend, config, "match_user"),
            tailoring: storage(&backend, config, "tailor_document"),
            alerts: storage(&backend, config, "send_alerts"),
            maintenance: storage(&backend, config, "maintenance"),
            backend,
            config: config.clone(),
        }
    }

    /// How the queue is named and worked.
    pub fn config(&self) -> &QueueConfig {
        &self.config
    }

    /// The queue named `job` (under `QUEUE_PREFIX`) on this backend, for jobs of type `T`. The
    /// product's queues ([`JOB_TYPES`]) have their own accessors; this serves the queue benchmark
    /// (`bench-queue`), which measures the same storages with a job type of its own.
    pub fn storage<T>(&self, job: &str) -> Storage<T> {
        storage(&self.backend, &self.config, job)
    }

    /// The collector runs' queue.
    pub fn runs(&self) -> &Storage<RunPipeline> {
        &self.runs
    }

    /// The category assignments' queue.
    pub fn assignments(&self) -> &Storage<AssignCategory> {
        &self.assignments
    }

    /// The matching queue.
    pub fn matching(&self) -> &Storage<MatchUser> {
        &self.matching
    }

    /// The tailoring queue.
    pub fn tailoring(&self) -> &Storage<TailorDocument> {
        &self.tailoring
    }

    /// The alerts queue.
    pub fn alerts(&self) -> &Storage<SendAlerts> {
        &self.alerts
    }

    /// The maintenance queue.
    pub fn maintenance(&self) -> &Storage<Maintenance> {
        &self.maintenance
    }

    /// This deployment's queue names, one per job type.
    fn names(&self) -> Vec<String> {
        self.names_of(&JOB_TYPES)
    }

    /// The queue names of `jobs` under this deployment's `QUEUE_PREFIX`.
    fn names_of(&self, jobs: &[&str]) -> Vec<String> {
        jobs.iter().map(|j| self.config.queue_name(j)).collect()
    }

    /// Jobs of this deployment's queues not finished yet: waiting, running, or failed with
    /// attempts left. On the SQL storages only (apalis-redis keeps no such count); tests use
    /// it to wait until the queue is idle.
    pub async fn unfinished(&self) -> Result<u64> {
        let names = self.names();
        let count: i64 = match &self.backend {
            Backend::Sqlite(pool) => {
                sea_orm::sqlx::query_scalar(
                    "SELECT COUNT(*) FROM Jobs WHERE job_type IN (SELECT value FROM json_each(?)) AND (status IN ('Pending', 'Queued', 'Running') OR (status = 'Failed' AND attempts < max_attempts))",
                )
                .bind(json_list(&names))
                .fetch_one(pool)
                .await
                .map_err(queue_error)?
            }
            Backend::Postgres(pool) => sea_orm::sqlx::query_scalar(
                "SELECT COUNT(*) FROM apalis.jobs WHERE job_type = ANY($1) AND (status IN ('Pending', 'Queued', 'Running') OR (status = 'Failed' AND attempts < max_attempts))",
            )
            .bind(&names)
            .fetch_one(pool)
            .await
            .map_err(queue_error)?,
            Backend::Redis(_) => {
                return Err(Error::Unexpected(
                    "the Redis queue keeps no count of unfinished jobs".into(),
                ));
            }
        };
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Whether the queue's storage answers (`/readyz`): a `SELECT 1` on the SQL pools, a `PING`
    /// to Redis.
    pub async fn ping(&self) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(pool) => sea_orm::sqlx::query("SELECT 1")
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(queue_error),
            Backend::Postgres(pool) => sea_orm::sqlx::query("SELECT 1")
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(queue_error),
            Backend::Redis(conn) => redis::cmd("PING")
                .query_async::<String>(&mut conn.clone())
                .await
                .map(|_| ())
                .map_err(queue_error),
        }
    }

    /// Per job type: jobs waiting to run now, and how long the oldest has waited. On the SQL
    /// storages only (apalis-redis keeps no such view: an error).
    pub async fn depths(&self) -> Result<Vec<Depth>> {
        let names = self.names();
        let rows: Vec<(String, i64, i64)> = match &self.backend {
            Backend::Sqlite(pool) => {
                sea_orm::sqlx::query_as(
                    "SELECT job_type, COUNT(*), CAST(COALESCE(strftime('%s', 'now') - MIN(run_at), 0) AS INTEGER) \
                     FROM Jobs WHERE job_type IN (SELECT value FROM json_each(?)) AND status IN ('Pending', 'Queued') \
                     AND run_at <= strftime('%s', 'now') GROUP BY job_type",
                )
                .bind(json_list(&names))
                .fetch_all(pool)
                .await
                .map_err(queue_error)?
            }
            Backend::Postgres(pool) => sea_orm::sqlx::query_as(
                "SELECT job_type, COUNT(*), COALESCE(EXTRACT(EPOCH FROM now() - MIN(run_at))::bigint, 0) \
                 FROM apalis.jobs WHERE job_type = ANY($1) AND status IN ('Pending', 'Queued') \
                 AND run_at <= now() GROUP BY job_type",
            )
            .bind(&names)
            .fetch_all(pool)
            .await
            .map_err(queue_error)?,
            Backend::Redis(_) => {
                return Err(Error::Unexpected(
                    "the Redis queue keeps no depth per job type here".into(),
                ));
            }
        };
        Ok(JOB_TYPES
            .iter()
            .zip(&names)
            .map(|(job, name)| {
                let row = rows.iter().find(|r| &r.0 == name);
                Depth {
                    job: (*job).to_owned(),
                    waiting: row.map_or(0, |r| r.1),
                    oldest_waiting_secs: row.map_or(0, |r| r.2.max(0)),
                }
            })
            .collect())
    }

    /// Deletes the finished jobs (done, killed, or failed with no attempts left) of this
    /// deployment's queues that finished more than `older_than` ago, on whichever storage
    /// holds them; returns how many. Waiting, running and retrying jobs are never touched.
    ///
    /// apalis's own `vacuum_before` is not used: on SQLite it compares the integer `run_at`
    /// with a date string (so it deletes every finished job whatever its age) and runs a
    /// `VACUUM` of the whole database, and on Redis it leaves the ids in the done and dead
    /// sets and treats a job waiting for its retry as finished.
    pub async fn prune(&self, older_than: Duration) -> Result<u64> {
        self.prune_job_types(&JOB_TYPES, older_than).await
    }

    /// [`prune`](Self::prune) for the queues of `jobs` (job type names under this deployment's
    /// `QUEUE_PREFIX`), for a queue of another type than the six (the queue benchmark's).
    pub async fn prune_job_types(&self, jobs: &[&str], older_than: Duration) -> Result<u64> {
        let names = self.names_of(jobs);
        let secs = i64::try_from(older_than.as_secs()).unwrap_or(i64::MAX);
        let deleted = match &self.backend {
            Backend::Sqlite(pool) => {
                sea_orm::sqlx::query(
                    "DELETE FROM Jobs WHERE job_type IN (SELECT value FROM json_each(?)) \
                     AND (status IN ('Done', 'Killed') OR (status = 'Failed' AND attempts >= max_attempts)) \
                     AND done_at IS NOT NULL AND done_at <= CAST(strftime('%s', 'now') AS INTEGER) - ?",
                )
                .bind(json_list(&names))
                .bind(secs)
                    .execute(pool)
                    .await
                    .map_err(queue_error)?
                    .rows_affected()
            }
            Backend::Postgres(pool) => sea_orm::sqlx::query(
                "DELETE FROM apalis.jobs WHERE job_type = ANY($1) \
                 AND (status IN ('Done', 'Killed') OR (status = 'Failed' AND attempts >= max_attempts)) \
                 AND done_at IS NOT NULL AND done_at <= now() - make_interval(secs => $2)",
            )
            .bind(&names)
            .bind(secs as f64)
            .execute(pool)
            .await
            .map_err(queue_error)?
            .rows_affected(),
            Backend::Redis(conn) => {
                let script = redis::Script::new(PRUNE_REDIS);
                let mut deleted = 0u64;
                for name in &names {
                    let n: u64 = script
                        .key(format!("{name}:data"))
                        .key(format!("{name}:meta"))
                        .key(format!("{name}:done"))
                        .key(format!("{name}:dead"))
                        .arg(secs)
                        .invoke_async(&mut conn.clone())
                        .await
                        .map_err(queue_error)?;
                    deleted += n;
                }
                deleted
            }
        };
        Ok(deleted)
    }

    /// Queues a collector run.
    pub async fn push_run(&self, job: RunPipeline) -> Result<()> {
        self.runs.push(job).await
    }

    /// Queues a category assignment.
    pub async fn push_assign(&self, job: AssignCategory) -> Result<()> {
        self.assignments.push(job).await
    }

    /// Queues matching for a user.
    pub async fn push_match(&self, job: MatchUser) -> Result<()> {
        self.matching.push(job).await
    }

    /// Queues the making of a tailored document.
    pub async fn push_tailor(&self, job: TailorDocument) -> Result<()> {
        self.tailoring.push(job).await
    }

    /// Queues a user's alerts.
    pub async fn push_alerts(&self, job: SendAlerts) -> Result<()> {
        self.alerts.push(job).await
    }

    /// Queues a maintenance pass.
    pub async fn push_maintenance(&self, job: Maintenance) -> Result<()> {
        self.maintenance.push(job).await
    }
}

/// The queue names as a JSON array, for SQLite's `json_each` (one bind for the list).
fn json_list(names: &[String]) -> String {
    serde_json::to_string(names).unwrap_or_else(|_| "[]".into())
}

/// Prunes one apalis-redis queue: every id in its done and dead sets whose job finished at
/// least `ARGV[1]` seconds ago (by the server's clock) loses its data, result and metadata and
/// leaves the set. Jobs waiting for a retry are in neither set.
const PRUNE_REDIS: &str = r#"
local cutoff = tonumber(redis.call("TIME")[1]) - tonumber(ARGV[1])
local deleted = 0
for _, set in ipairs({KEYS[3], KEYS[4]}) do
  for _, id in ipairs(redis.call("SMEMBERS", set)) do
    local meta = KEYS[2] .. ":" .. id
    local done_at = tonumber(redis.call("HGET", meta, "done_at"))
    if done_at == nil or done_at <= cutoff then
      redis.call("HDEL", KEYS[1], id)
      redis.call("HDEL", KEYS[2] .. ":result", id)
      redis.call("DEL", meta)
      redis.call("SREM", set, id)
      deleted = deleted + 1
    end
  end
end
return deleted
"#;

/// A URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}
