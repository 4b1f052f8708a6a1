//! Queue-overhead benchmark: no-op jobs through the real queue code (`jobs::queue`: the same
//! storages, worker settings and `register_worker!` as the product) on the embedded SQLite
//! storage, Postgres and Redis, with 1 and 2 worker processes.
//!
//! ```sh
//! cargo build --release -p tests --bin bench-queue
//! target/release/bench-queue [JOBS]          # default 10000
//! ```
//! For each backend and worker count it starts that many worker processes (this binary, as
//! `bench-queue worker …`), waits until they poll, then
//! - **burst**: pushes `JOBS` jobs from 8 concurrent producers as fast as they go; reports the
//!   push rate, jobs/s from the first push to the last job started, and the enqueue-to-start
//!   latency (p50/p99/max) of every job;
//! - **paced**: 200 jobs at 20 jobs/s — the latency a single job sees on an idle queue.
//!
//!
//! `bench-queue growth [TOTAL] [ROUND] [sqlite|postgres]` (defaults 20000, 2000, both)
//! measures the embedded queue as finished jobs pile up: rounds of `ROUND` jobs through one
//! worker process until `TOTAL` are processed, keeping every finished job, pruning them after
//! each round as the `Maintenance` job does, and pruning with a new worker process after each
//! round; it prints jobs/s per round.
//!
//! Every job is counted by sequence number, so a duplicate or lost delivery is reported.
//! `BENCH_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`) and
//! `BENCH_REDIS_URL` (default `redis://127.0.0.1:6379`) name the servers; one that does not
//! answer is skipped with a note. Queues are named under a fresh prefix; the Redis keys of a
//! run are deleted afterwards. `WORKER_CONCURRENCY` and `QUEUE_POLL_INTERVAL_MS` are the
//! product's settings (defaults 2 and 500 ms).

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jobs::queue::apalis::prelude::{BoxDynError, Data};
use jobs::queue::{Queue, QueueConfig, Storage, workers::WorkerSettings};
use sea_orm::Database;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Noop {
    seq: u32,
    /// Microseconds since the Unix epoch when pushed (same machine, same clock).
    pushed_at: u64,
}

const QUEUE: &str = "bench_noop";

fn now_micros() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_micros(),
    )
    .unwrap_or(u64::MAX)
}

fn queue_config(prefix: &str, redis_url: Option<String>) -> anyhow::Result<QueueConfig> {
    let mut config = QueueConfig {
        prefix: prefix.to_owned(),
        redis_url,
        ..QueueConfig::default()
    };
    if let Ok(n) = std::env::var("WORKER_CONCURRENCY") {
        config.worker_concurrency = n.parse()?;
    }
    if let Ok(ms) = std::env::var("QUEUE_POLL_INTERVAL_MS") {
        config.poll_interval = Duration::from_millis(ms.parse()?);
    }
    Ok(config)
}

async fn connect(database_url: &str, config: &QueueConfig) -> anyhow::Result<Queue> {
    let db = Database::connect(database_url).await?;
    Ok(Queue::connect(&db, database_url, config).await?)
}

/// The handler: prints `seq latency_us` and returns.
async fn noop(job: Noop, _: Data<Arc<()>>) -> Result<(), BoxDynError> {
    let latency = now_micros().saturating_sub(job.pushed_at);
    println!("{} {latency}", job.seq);
    Ok(())
}

/// `bench-queue worker DATABASE_URL REDIS_URL|- PREFIX`: serves the no-op queue until killed.
async fn worker(args: &[String]) -> anyhow::Result<()> {
    let [database_url, redis_url, prefix] = args else {
        anyhow::bail!("usage: bench-queue worker DATABASE_URL REDIS_URL|- PREFIX");
    };
    let redis_url = (redis_url != "-").then(|| redis_url.clone());
    let config = queue_config(prefix, redis_url)?;
    let queue = connect(database_url, &config).await?;
    let settings = WorkerSettings::new(&config)?;
    let monitor = settings.monitor(Duration::from_secs(1));
    let monitor = jobs::register_worker!(
        monitor,
        queue.storage::<Noop>(QUEUE),
        "bench",
        settings,
        Arc::new(()),
        noop
    );
    println!("ready");
    monitor.run().await?;
    Ok(())
}

struct Phase {
    jobs: usize,
    pushed_in: Duration,
    all_started_in: Duration,
    latencies_us: Vec<u64>,
    duplicates: usize,
}

impl Phase {
    fn percentile(&self, p: f64) -> f64 {
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
        sorted.get(rank).copied().unwrap_or_default() as f64 / 1000.0
    }
}

/// Pushes `jobs` jobs (`producers` at once, or paced at `per_second` from one producer) and
/// waits until every one has started.
async fn phase(
    storage: &Storage<Noop>,
    started: &mut mpsc::UnboundedReceiver<(u32, u64)>,
    first_seq: u32,
    jobs: u32,
    pace: Option<Duration>,
) -> anyhow::Result<Phase> {
    let t0 = Instant::now();
    let producers = if pace.is_some() { 1 } else { 8 };
    let mut pushers = tokio::task::JoinSet::new();
    for p in 0..producers {
        let storage = storage.clone();
        pushers.spawn(async move {
            let mut seq = first_seq + p;
            while seq < first_seq + jobs {
                storage
                    .push(Noop {
                        seq,
                        pushed_at: now_micros(),
                    })
                    .await?;
                if let Some(pace) = pace {
                    tokio::time::sleep(pace).await;
                }
                seq += producers;
            }
            anyhow::Ok(())
        });
    }
    let mut seen = vec![false; jobs as usize];
    let (mut latencies_us, mut duplicates, mut pushed_in) = (Vec::new(), 0, None);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    while latencies_us.len() < jobs as usize {
        tokio::select! {
            Some(done) = pushers.join_next(), if !pushers.is_empty() => {
                done??;
                if pushers.is_empty() {
                    pushed_in = Some(t0.elapsed());
                }
            }
            got = tokio::time::timeout_at(deadline, started.recv()) => {
                let Some((seq, latency)) = got? else { anyhow::bail!("the workers exited") };
                let Some(slot) = seq.checked_sub(first_seq).and_then(|i| seen.get_mut(i as usize)) else {
                    continue;
                };
                if std::mem::replace(slot, true) {
                    duplicates += 1;
                } else {
                    latencies_us.push(latency);
                }
            }
        }
    }
    let all_started_in = t0.elapsed();
    while let Some(done) = pushers.join_next().await {
        done??;
    }
    Ok(Phase {
        jobs: jobs as usize,
        pushed_in: pushed_in.unwrap_or_else(|| t0.elapsed()),
        all_started_in,
        latencies_us,
        duplicates,
    })
}

/// Worker processes serving the no-op queue under `prefix`, and what they report (sequence
/// number and latency of each job started).
async fn spawn_workers(
    database_url: &str,
    redis_url: Option<&str>,
    prefix: &str,
    processes: usize,
) -> anyhow::Result<(
    Vec<tokio::process::Child>,
    mpsc::UnboundedReceiver<(u32, u64)>,
)> {
    let (tx, started) = mpsc::unbounded_channel();
    let (ready_tx, mut ready) = mpsc::unbounded_channel();
    let mut children = Vec::new();
    for _ in 0..processes {
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .args(["worker", database_url, redis_url.unwrap_or("-"), prefix])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
        let (tx, ready_tx) = (tx.clone(), ready_tx.clone());
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if line == "ready" {
                    let _ = ready_tx.send(());
                } else if let Some((seq, latency)) = line.split_once(' ')
                    && let (Ok(seq), Ok(latency)) = (seq.parse(), latency.parse())
                {
                    let _ = tx.send((seq, latency));
                }
            }
        });
        children.push(child);
    }
    for _ in 0..processes {
        tokio::time::timeout(Duration::from_secs(30), ready.recv()).await?;
    }
    // Let every worker register and make its first poll.
    tokio::time::sleep(Duration::from_secs(2)).await;
    Ok((children, started))
}

async fn bench(
    label: &str,
    database_url: &str,
    redis_url: Option<&str>,
    processes: usize,
    jobs: u32,
) -> anyhow::Result<()> {
    let prefix = format!("bench-{}", uuid::Uuid::new_v4().simple());
    let config = queue_config(&prefix, redis_url.map(str::to_owned))?;
    let queue = connect(database_url, &config).await?;
    let storage = queue.storage::<Noop>(QUEUE);
    let (mut children, mut started) =
        spawn_workers(database_url, redis_url, &prefix, processes).await?;

    let burst = phase(&storage, &mut started, 0, jobs, None).await?;
    let paced = phase(
        &storage,
        &mut started,
        jobs,
        200,
        Some(Duration::from_millis(50)),
    )
    .await?;
    for child in &mut children {
        child.kill().await?;
    }
    // A duplicate arriving late would show here.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let late = std::iter::from_fn(|| started.try_recv().ok()).count();

    println!(
        "| {label} | {processes} | {:.0} | {:.0} | {:.1} / {:.1} / {:.1} | {:.1} / {:.1} | {} |",
        burst.jobs as f64 / burst.pushed_in.as_secs_f64(),
        burst.jobs as f64 / burst.all_started_in.as_secs_f64(),
        burst.percentile(50.0),
        burst.percentile(99.0),
        burst.percentile(100.0),
        paced.percentile(50.0),
        paced.percentile(99.0),
        burst.duplicates + paced.duplicates + late,
    );
    if let Some(url) = redis_url {
        cleanup_redis(url, &prefix).await?;
    }
    Ok(())
}

/// What happens between the rounds of `growth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Between {
    /// Nothing: finished jobs pile up.
    Keep,
    /// Finished jobs are pruned (`Queue::prune`, what the `Maintenance` job does).
    Prune,
    /// Pruned, and the worker process replaced by a new one.
    PruneAndRestart,
}

impl Between {
    fn label(self) -> &'static str {
        match self {
            Self::Keep => "kept",
            Self::Prune => "pruned after each round",
            Self::PruneAndRestart => "pruned, and a new worker process, after each round",
        }
    }
}

/// `growth`: rounds of `round` jobs through one worker process until `total` have been
/// processed, on a fresh queue, doing `between` after each round. Returns jobs/s of every
/// round.
async fn growth(
    database_url: &str,
    redis_url: Option<&str>,
    total: u32,
    round: u32,
    between: Between,
) -> anyhow::Result<Vec<f64>> {
    let prefix = format!("bench-{}", uuid::Uuid::new_v4().simple());
    // A fresh SQLite file for every measurement, so none sees another's finished jobs.
    let dir = tempfile::tempdir()?;
    let fresh = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("queue.db").display()
    );
    let database_url = if database_url.starts_with("sqlite:") {
        fresh.as_str()
    } else {
        database_url
    };
    let config = queue_config(&prefix, redis_url.map(str::to_owned))?;
    let queue = connect(database_url, &config).await?;
    let storage = queue.storage::<Noop>(QUEUE);
    let (mut children, mut started) = spawn_workers(database_url, redis_url, &prefix, 1).await?;
    let mut rates = Vec::new();
    let mut done = 0;
    while done < total {
        let p = phase(&storage, &mut started, done, round, None).await?;
        anyhow::ensure!(p.duplicates == 0, "{} duplicate deliveries", p.duplicates);
        rates.push(p.jobs as f64 / p.all_started_in.as_secs_f64());
        done += round;
        // Let the last jobs of the round be marked done before pruning.
        tokio::time::sleep(Duration::from_millis(300)).await;
        if between != Between::Keep {
            let pruned = queue.prune_job_types(&[QUEUE], Duration::ZERO).await?;
            // Every job of the round is finished by now (the first version of this benchmark
            // pruned the six job types' queues, not this one, and measured nothing).
            anyhow::ensure!(
                pruned >= u64::from(round) * 9 / 10,
                "pruning removed {pruned} of the round's {round} finished jobs"
            );
        }
        if between == Between::PruneAndRestart && done < total {
            for child in &mut children {
                child.kill().await?;
            }
            (children, started) = spawn_workers(database_url, redis_url, &prefix, 1).await?;
        }
    }
    for child in &mut children {
        child.kill().await?;
    }
    // Leave nothing behind in a shared Postgres (the queue is this run's prefix only).
    queue.prune_job_types(&[QUEUE], Duration::ZERO).await?;
    if let Some(url) = redis_url {
        cleanup_redis(url, &prefix).await?;
    }
    Ok(rates)
}

/// `bench-queue growth [TOTAL] [ROUND] [sqlite|postgres]`: the embedded queue's throughput as
/// finished jobs pile up: kept, pruned, and pruned with the worker process replaced.
async fn growth_report(args: &[String], sqlite: &str, pg: &str) -> anyhow::Result<()> {
    let total: u32 = args.first().map_or(Ok(20_000), |n| n.parse())?;
    let round: u32 = args.get(1).map_or(Ok(2_000), |n| n.parse())?;
    anyhow::ensure!(
        round > 0 && total >= round,
        "TOTAL must be at least ROUND > 0"
    );
    println!(
        "rounds of {round} no-op jobs (8 producers, 1 worker process) until {total} processed; jobs/s per round"
    );
    println!(
        "| storage | finished jobs | jobs/s after {round} | jobs/s after {total} | every round |"
    );
    println!("|---|---|---|---|---|");
    let only = args.get(2).map(String::as_str);
    for (label, key, url) in [
        ("embedded (SQLite)", "sqlite", sqlite),
        ("embedded (Postgres)", "postgres", pg),
    ] {
        if only.is_some_and(|o| o != key) {
            continue;
        }
        for between in [Between::Keep, Between::Prune, Between::PruneAndRestart] {
            let kept = between.label();
            match growth(url, None, total, round, between).await {
                Ok(rates) => println!(
                    "| {label} | {kept} | {:.0} | {:.0} | {} |",
                    rates.first().copied().unwrap_or_default(),
                    rates.last().copied().unwrap_or_default(),
                    rates
                        .iter()
                        .map(|r| format!("{r:.0}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Err(e) => println!("| {label} | {kept} | skipped: {e} |"),
            }
        }
    }
    Ok(())
}

/// Deletes the run's keys (never the whole Redis: it may be shared).
async fn cleanup_redis(url: &str, prefix: &str) -> anyhow::Result<()> {
    let script = format!(
        "redis-cli -u '{url}' --scan --pattern '{prefix}*' | xargs -r -n 500 redis-cli -u '{url}' del > /dev/null"
    );
    let status = tokio::process::Command::new("sh")
        .args(["-c", &script])
        .status()
        .await?;
    anyhow::ensure!(status.success(), "deleting the run's Redis keys failed");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("worker") {
        return worker(&args[1..]).await;
    }
    let pg = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let redis =
        std::env::var("BENCH_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let dir = tempfile::tempdir()?;
    let sqlite = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("queue.db").display()
    );
    if args.first().map(String::as_str) == Some("growth") {
        return growth_report(&args[1..], &sqlite, &pg).await;
    }
    let jobs: u32 = args.first().map_or(Ok(10_000), |n| n.parse())?;

    println!("{jobs} no-op jobs per run; then 200 jobs at 20/s for the idle-queue latency");
    println!(
        "| storage | worker processes | pushes/s | jobs/s (burst) | burst latency p50 / p99 / max (ms) | paced latency p50 / p99 (ms) | duplicates |"
    );
    println!("|---|---|---|---|---|---|---|");
    let backends: [(&str, &str, Option<&str>); 3] = [
        ("embedded (SQLite)", &sqlite, None),
        ("embedded (Postgres)", &pg, None),
        ("Redis", &sqlite, Some(&redis)),
    ];
    for (label, database_url, redis_url) in backends {
        for processes in [1, 2] {
            if let Err(e) = bench(label, database_url, redis_url, processes, jobs).await {
                println!("| {label} | {processes} | skipped: {e} |");
            }
        }
    }
    Ok(())
}
