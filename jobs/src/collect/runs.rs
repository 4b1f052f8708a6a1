//! `pipeline_runs` rows: created queued, claimed by one worker at a time (which keeps a
//! heartbeat while it works), counters written as the run goes, finished with a final status.
//!
//! A run is never left RUNNING for good: a worker that fails releases it back to QUEUED with
//! the error (or fails it on its last attempt), and a run whose heartbeat stopped — its worker
//! died — is [`orphaned`] and taken up again or failed.

use std::future::Future;
use std::time::Duration;

use chrono::Utc;
use entity::{RunErrorEntry, RunErrors, RunStatus, RunTrigger, pipeline_run};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, EntityTrait,
    QueryFilter,
};

use crate::{Error, Result};

/// Counters of a run in progress.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    pub categories_total: i32,
    pub categories_done: i32,
    pub listings_fetched: i32,
    pub listings_unique: i32,
    pub listings_inserted: i32,
    pub users_queued_for_matching: i32,
}

/// Creates a QUEUED run.
pub async fn create(
    db: &DatabaseConnection,
    trigger: RunTrigger,
    requested_by: Option<i64>,
) -> Result<pipeline_run::Model> {
    let row = pipeline_run::ActiveModel {
        trigger: Set(trigger),
        status: Set(RunStatus::Queued),
        requested_by: Set(requested_by),
        queued_at: Set(Utc::now()),
        categories_total: Set(0),
        categories_done: Set(0),
        listings_fetched: Set(0),
        listings_unique: Set(0),
        listings_inserted: Set(0),
        users_queued_for_matching: Set(0),
        errors: Set(RunErrors::default()),
        attempts: Set(0),
        ..Default::default()
    };
    Ok(pipeline_run::Entity::insert(row)
        .exec_with_returning(db)
        .await?)
}

/// The run, or `NotFound`.
pub async fn get(db: &DatabaseConnection, id: i64) -> Result<pipeline_run::Model> {
    pipeline_run::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no pipeline run has the id {id}")))
}

/// The newest runs first, at most `limit`.
pub async fn newest(db: &DatabaseConnection, limit: u64) -> Result<Vec<pipeline_run::Model>> {
    use sea_orm::{QueryOrder, QuerySelect};
    Ok(pipeline_run::Entity::find()
        .order_by_desc(pipeline_run::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// What [`claim`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// This worker now runs it (status RUNNING, heartbeat fresh, attempts counted).
    Claimed(pipeline_run::Model),
    /// It has ended; nothing to do.
    Ended(RunStatus),
    /// Another live worker is running it (its heartbeat is fresher than `orphan_after`).
    Busy,
}

/// The condition under which a RUNNING run has lost its worker.
fn silent_since(cutoff: chrono::DateTime<Utc>) -> Condition {
    Condition::all()
        .add(pipeline_run::Column::Status.eq(RunStatus::Running))
        .add(
            Condition::any()
                .add(pipeline_run::Column::HeartbeatAt.lt(cutoff))
                .add(
                    Condition::all()
                        .add(pipeline_run::Column::HeartbeatAt.is_null())
                        .add(pipeline_run::Column::StartedAt.lt(cutoff)),
                ),
        )
}

fn cutoff(orphan_after: Duration) -> chrono::DateTime<Utc> {
    Utc::now() - chrono::Duration::from_std(orphan_after).unwrap_or(chrono::Duration::MAX)
}

/// Takes the run for this worker: a QUEUED run, or a RUNNING one whose heartbeat is older than
/// `orphan_after`. One conditional update, so two workers never both run it.
pub async fn claim(db: &DatabaseConnection, id: i64, orphan_after: Duration) -> Result<Claim> {
    let now = Utc::now();
    let claimed = pipeline_run::Entity::update_many()
        .col_expr(
            pipeline_run::Column::Status,
            Expr::value(RunStatus::Running),
        )
        .col_expr(pipeline_run::Column::StartedAt, Expr::value(now))
        .col_expr(pipeline_run::Column::HeartbeatAt, Expr::value(now))
        .col_expr(
            pipeline_run::Column::FinishedAt,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .col_expr(
            pipeline_run::Column::Attempts,
            Expr::col(pipeline_run::Column::Attempts).add(1),
        )
        .filter(pipeline_run::Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(pipeline_run::Column::Status.eq(RunStatus::Queued))
                .add(silent_since(cutoff(orphan_after))),
        )
        .exec(db)
        .await?;
    let run = get(db, id).await?;
    Ok(if claimed.rows_affected == 1 {
        Claim::Claimed(run)
    } else if run.status.is_final() {
        Claim::Ended(run.status)
    } else {
        Claim::Busy
    })
}

/// Refreshes the heartbeat of a run this worker holds.
pub async fn beat(db: &DatabaseConnection, id: i64) -> Result<()> {
    pipeline_run::Entity::update_many()
        .col_expr(pipeline_run::Column::HeartbeatAt, Expr::value(Utc::now()))
        .filter(pipeline_run::Column::Id.eq(id))
        .filter(pipeline_run::Column::Status.eq(RunStatus::Running))
        .exec(db)
        .await?;
    Ok(())
}

/// Runs `work` for run `id`, refreshing its heartbeat every `every` until `work` completes. A
/// failed heartbeat write is logged and tried again at the next tick.
pub async fn with_heartbeat<T>(
    db: &DatabaseConnection,
    id: i64,
    every: Duration,
    work: impl Future<Output = T>,
) -> T {
    tokio::pin!(work);
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = tick.tick() => {
                if let Err(e) = beat(db, id).await {
                    tracing::warn!(run_id = id, error = %e, "could not refresh the run's heartbeat");
                }
            }
        }
    }
}

/// Hands a run this worker could not finish back to the queue: QUEUED again, with `message`
/// added to its errors, so the next attempt may claim it.
pub async fn release(db: &DatabaseConnection, id: i64, message: String) -> Result<()> {
    let mut row: pipeline_run::ActiveModel = get(db, id).await?.into();
    row.status = Set(RunStatus::Queued);
    row.heartbeat_at = Set(None);
    push_error(&mut row, message);
    row.update(db).await?;
    Ok(())
}

/// Ends a run that cannot complete: FAILED, with `message` added to its errors. A run that has
/// already ended is left as it is.
pub async fn fail(db: &DatabaseConnection, id: i64, message: String) -> Result<()> {
    let run = get(db, id).await?;
    if run.status.is_final() {
        return Ok(());
    }
    let mut row: pipeline_run::ActiveModel = run.into();
    row.status = Set(RunStatus::Failed);
    row.finished_at = Set(Some(Utc::now()));
    push_error(&mut row, message);
    row.update(db).await?;
    Ok(())
}

fn push_error(row: &mut pipeline_run::ActiveModel, message: String) {
    let mut errors = match &row.errors {
        sea_orm::ActiveValue::Set(e) | sea_orm::ActiveValue::Unchanged(e) => e.0.clone(),
        sea_orm::ActiveValue::NotSet => Vec::new(),
    };
    errors.push(RunErrorEntry {
        source: LIFECYCLE.into(),
        category: None,
        message,
        at: Utc::now(),
    });
    row.errors = Set(RunErrors(errors));
}

/// RUNNING runs whose heartbeat is older than `orphan_after`: their worker is gone.
pub async fn orphaned(
    db: &DatabaseConnection,
    orphan_after: Duration,
) -> Result<Vec<pipeline_run::Model>> {
    Ok(pipeline_run::Entity::find()
        .filter(silent_since(cutoff(orphan_after)))
        .all(db)
        .await?)
}

/// Puts an orphaned run back in the queue's hands (QUEUED), if it is still orphaned; true when
/// this call did it.
pub async fn requeue_orphan(
    db: &DatabaseConnection,
    id: i64,
    orphan_after: Duration,
) -> Result<bool> {
    let updated = pipeline_run::Entity::update_many()
        .col_expr(pipeline_run::Column::Status, Expr::value(RunStatus::Queued))
        .col_expr(
            pipeline_run::Column::HeartbeatAt,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .filter(pipeline_run::Column::Id.eq(id))
        .filter(silent_since(cutoff(orphan_after)))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Resets the counters of a claimed run and records its category count. Returns what earlier
/// attempts recorded about the run itself (source `pipeline`: why an attempt failed), which
/// the new attempt keeps; the sources' errors of an earlier attempt are dropped with its
/// counters.
pub async fn mark_running(
    db: &DatabaseConnection,
    id: i64,
    categories_total: i32,
) -> Result<Vec<RunErrorEntry>> {
    let run = get(db, id).await?;
    let history: Vec<RunErrorEntry> = run
        .errors
        .0
        .iter()
        .filter(|e| e.source == LIFECYCLE)
        .cloned()
        .collect();
    let mut row: pipeline_run::ActiveModel = run.into();
    apply(
        &mut row,
        &Counters {
            categories_total,
            ..Counters::default()
        },
        &history,
    );
    row.update(db).await?;
    Ok(history)
}

/// The `source` of the errors that concern the run itself rather than a job source.
pub const LIFECYCLE: &str = "pipeline";

/// Writes the current counters and errors.
pub async fn write_progress(
    db: &DatabaseConnection,
    id: i64,
    counters: &Counters,
    errors: &[RunErrorEntry],
) -> Result<()> {
    let mut row: pipeline_run::ActiveModel = get(db, id).await?.into();
    apply(&mut row, counters, errors);
    row.update(db).await?;
    Ok(())
}

/// Ends the run with `status`.
pub async fn finish(
    db: &DatabaseConnection,
    id: i64,
    status: RunStatus,
    counters: &Counters,
    errors: &[RunErrorEntry],
) -> Result<pipeline_run::Model> {
    let mut row: pipeline_run::ActiveModel = get(db, id).await?.into();
    apply(&mut row, counters, errors);
    row.status = Set(status);
    row.finished_at = Set(Some(Utc::now()));
    Ok(row.update(db).await?)
}

fn apply(row: &mut pipeline_run::ActiveModel, c: &Counters, errors: &[RunErrorEntry]) {
    row.categories_total = Set(c.categories_total);
    row.categories_done = Set(c.categories_done);
    row.listings_fetched = Set(c.listings_fetched);
    row.listings_unique = Set(c.listings_unique);
    row.listings_inserted = Set(c.listings_inserted);
    row.users_queued_for_matching = Set(c.users_queued_for_matching);
    row.errors = Set(RunErrors(errors.to_vec()));
}
