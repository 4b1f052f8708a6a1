//! `jobcollector pipeline`: collector runs inline, with progress on the terminal;
//! `jobcollector import`: a JobSpy export through the same dedup and upsert; and
//! `jobcollector maintenance`: one maintenance pass inline.

use std::io::IsTerminal;
use std::time::Duration;

use entity::RunStatus;
use entity::RunTrigger;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::BufRead;

use entity::CategorySlug;
use jobs::collect::import::{self, Format, ImportReport};
use jobs::collect::lease::{self, Claim};
use jobs::collect::{self, Progress, RunSummary, runs};
use jobs::queue::{Queue, trigger};
use jobs::sources::SourceSet;
use jobs::sources::registry::http_client;
use sea_orm::DatabaseConnection;

use crate::config::Config;

/// The job queue, if it can be reached: matching is queued for the workers after a run, and a
/// run without a reachable queue still collects.
async fn queue_if_reachable(db: &DatabaseConnection, config: &Config) -> Option<Queue> {
    match Queue::connect(db, &config.database_url, &config.queue).await {
        Ok(queue) => Some(queue),
        Err(e) => {
            tracing::warn!(error = %e, "no job queue: matching will not be queued after runs");
            None
        }
    }
}

/// What `jobcollector maintenance` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaintenanceReport {
    pub closed: u64,
    pub deleted_listings: u64,
    pub deleted_matches: u64,
    pub pruned_jobs: u64,
}

/// One maintenance pass in this process, the same as the `Maintenance` job's: stale listings
/// closed, retention applied, finished queue jobs pruned (when the queue can be reached).
pub async fn maintenance(
    db: &DatabaseConnection,
    config: &Config,
) -> anyhow::Result<MaintenanceReport> {
    let report = jobs::maintenance::run(
        db,
        config.collect.listing_ttl_days,
        &config.maintenance,
        chrono::Utc::now(),
    )
    .await?;
    let pruned_jobs = match queue_if_reachable(db, config).await {
        Some(queue) => {
            jobs::queue::workers::prune(&queue, config.maintenance.queue_retention_days).await?
        }
        None => 0,
    };
    Ok(MaintenanceReport {
        closed: report.closed,
        deleted_listings: report.deleted_listings,
        deleted_matches: report.deleted_matches,
        pruned_jobs,
    })
}

/// Runs one collection now (trigger CLI) and returns its summary: the same claim, heartbeat and
/// follow-ups as a worker's run, executed in this process.
pub async fn run_once(
    db: &DatabaseConnection,
    config: &Config,
    progress: &dyn Progress,
) -> anyhow::Result<RunSummary> {
    let queue = queue_if_reachable(db, config).await;
    run_with(db, config, queue.as_ref(), progress).await
}

/// [`run_once`] with the queue already opened (or none).
async fn run_with(
    db: &DatabaseConnection,
    config: &Config,
    queue: Option<&Queue>,
    progress: &dyn Progress,
) -> anyhow::Result<RunSummary> {
    if let Some(queue) = queue {
        trigger::recover_stale_runs(db, queue).await?;
    }
    let requested = runs::request(db, RunTrigger::Cli, None).await?;
    if !requested.created {
        anyhow::bail!(
            "run {} is already queued or running: one collector run at a time",
            requested.run.id
        );
    }
    let orphan_after = config.queue.orphan_after;
    let Claim::Claimed(lease, _) = lease::claim(db, requested.run.id, orphan_after).await? else {
        anyhow::bail!("run {} was taken by another process", requested.run.id);
    };
    let http = http_client().map_err(anyhow::Error::msg)?;
    let work = async {
        let summary = collect::collect(
            db,
            &SourceSet::for_run(&config.sources, &http),
            &config.sources,
            &config.collect,
            &lease,
            progress,
        )
        .await?;
        trigger::finish_run(db, queue, summary).await
    };
    match lease::with_heartbeat(db, &lease, config.queue.run_heartbeat(), work).await {
        Ok(summary) => Ok(summary),
        Err(e) => {
            lease::fail(db, &lease, format!("the run failed: {e}"))
                .await
                .ok();
            Err(e.into())
        }
    }
}

/// `pipeline --once`: one run; an error when every source failed. Without `--once`: a run
/// every `PIPELINE_INTERVAL_SECONDS` until SIGINT/SIGTERM.
pub async fn command(db: &DatabaseConnection, config: &Config, once: bool) -> anyhow::Result<()> {
    command_until(db, config, once, crate::server::shutdown_signal()).await
}

/// [`command`], stopping between runs when `stop` completes (a run in progress finishes first).
pub async fn command_until(
    db: &DatabaseConnection,
    config: &Config,
    once: bool,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    if !once && config.pipeline_interval.is_zero() {
        anyhow::bail!("PIPELINE_INTERVAL_SECONDS is 0: set it to repeat runs, or use --once");
    }
    tokio::pin!(stop);
    let mut queue = None;
    loop {
        if !once && let Some(active) = runs::active(db).await? {
            // Another process (a worker's scheduler, an admin) is running one: skip this turn.
            eprintln!(
                "run {} is already queued or running; skipping this interval",
                active.id
            );
            tokio::select! {
                () = &mut stop => return Ok(()),
                () = tokio::time::sleep(config.pipeline_interval) => continue,
            }
        }
        let progress = TerminalProgress::new();
        if queue.is_none() {
            // Opened once; when unreachable, tried again at the next run.
            queue = queue_if_reachable(db, config).await;
        }
        let summary = run_with(db, config, queue.as_ref(), &progress).await?;
        progress.finish();
        print!("{}", render_summary(&summary));
        if once {
            if summary.status == RunStatus::Failed {
                anyhow::bail!("every source failed (run {})", summary.run_id);
            }
            return Ok(());
        }
        tokio::select! {
            () = &mut stop => return Ok(()),
            () = tokio::time::sleep(config.pipeline_interval) => {}
        }
    }
}

/// `import FILE`: reads a JobSpy export through the collector's dedup and upsert.
pub async fn import(
    db: &DatabaseConnection,
    config: &Config,
    file: &std::path::Path,
    category: Option<&str>,
) -> anyhow::Result<ImportReport> {
    let category: Option<CategorySlug> = category
        .map(str::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--category: {e}"))?;
    let opened = std::fs::File::open(file)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?;
    let mut reader = std::io::BufReader::new(opened);
    let head = String::from_utf8_lossy(reader.fill_buf()?).into_owned();
    let format = Format::sniff(&head);
    Ok(import::import(
        db,
        reader,
        format,
        category.as_ref(),
        config.collect.chunk_size,
    )
    .await?)
}

/// The import report: counts, then each bad row with its line and each refused listing.
pub fn render_import(r: &ImportReport) -> String {
    let mut out = format!(
        "read {} rows: {} bad, {} matched no category, {} unique, {} inserted, {} already stored, {} refused\n",
        r.rows,
        r.bad.len(),
        r.unmatched,
        r.unique,
        r.inserted,
        r.matched,
        r.rejected.len()
    );
    for (line, why) in &r.bad {
        out.push_str(&format!("line {line}: {why}\n"));
    }
    for why in &r.rejected {
        out.push_str(&format!("refused {why}\n"));
    }
    out
}

/// The end-of-run report: per source fetched and errors, then totals.
pub fn render_summary(s: &RunSummary) -> String {
    let mut out = format!("\nrun {} {}\n", s.run_id, s.status.as_str().to_uppercase());
    out.push_str(&format!(
        "{:<16} {:>8} {:>7}\n",
        "source", "fetched", "errors"
    ));
    for (source, stats) in &s.per_source {
        out.push_str(&format!(
            "{:<16} {:>8} {:>7}\n",
            source.as_str(),
            stats.fetched,
            stats.errors
        ));
    }
    let c = &s.counters;
    out.push_str(&format!(
        "categories {}/{}, fetched {}, unique {}, inserted {}\n",
        c.categories_done,
        c.categories_total,
        c.listings_fetched,
        c.listings_unique,
        c.listings_inserted
    ));
    for e in s.errors.iter().take(20) {
        out.push_str(&format!(
            "error: {} [{}] {}\n",
            e.source,
            e.category.as_deref().unwrap_or("-"),
            e.message
        ));
    }
    if s.errors.len() > 20 {
        out.push_str(&format!(
            "… and {} more errors (see pipelineRun)\n",
            s.errors.len() - 20
        ));
    }
    out
}

/// A progress bar on a terminal; plain lines otherwise (logs, CI).
struct TerminalProgress {
    bar: Option<ProgressBar>,
}

impl TerminalProgress {
    fn new() -> Self {
        Self {
            bar: std::io::stderr().is_terminal().then(ProgressBar::hidden),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for TerminalProgress {
    fn started(&self, categories: usize, boards: usize) {
        match &self.bar {
            Some(bar) => {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                bar.set_length(categories as u64);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} [{bar:30}] {pos}/{len} categories {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar.enable_steady_tick(Duration::from_millis(120));
                bar.set_message(format!("(fetching {boards} boards)"));
            }
            None => eprintln!("collecting {categories} categories, {boards} boards"),
        }
    }

    fn category_done(&self, slug: &str, fetched: usize, errors: usize) {
        match &self.bar {
            Some(bar) => {
                bar.inc(1);
                bar.set_message(format!("{slug}: {fetched} listings, {errors} errors"));
            }
            None => eprintln!("category {slug}: {fetched} listings, {errors} errors"),
        }
    }

    fn storing(&self, unique: usize) {
        match &self.bar {
            Some(bar) => bar.set_message(format!("storing {unique} unique listings")),
            None => eprintln!("storing {unique} unique listings"),
        }
    }
}
