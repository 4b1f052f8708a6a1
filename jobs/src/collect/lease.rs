//! Who runs a collector run: one worker at a time holds its [`Lease`], keeps its heartbeat
//! fresh, and is the only one whose writes land.
//!
//! [`claim`] takes a QUEUED run, or a RUNNING one whose heartbeat is older than
//! `QUEUE_ORPHAN_AFTER_SECONDS` (its worker died), with one conditional update that also
//! counts the attempt; the attempt number is the lease's token. Every later write of the
//! holder is fenced by (id, RUNNING, token): a worker that lost its run (another took it over
//! after its heartbeat stopped) writes nothing and learns it ([`Error::Superseded`]).
//!
//! A run is never stuck: a failed attempt is [`release`]d back to QUEUED with its error, the
//! last attempt [`fail`]s it, and [`stale`] finds RUNNING runs whose heartbeat stopped and
//! QUEUED runs nobody has taken for long, for the queue layer to queue again or fail.
//! Heartbeats are compared across hosts: their clocks should agree to well within the
//! orphan timeout (NTP does).

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{RunErrorEntry, RunErrors, RunStatus, pipeline_run};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, UpdateMany};

use super::runs::{self, LIFECYCLE};
use crate::{Error, Result};

/// A run held by this worker: its id and the attempt that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub id: i64,
    /// The attempt number written by [`claim`]; writes are fenced by it.
    pub attempt: i32,
}

impl Lease {
    /// `update` restricted to this lease's row while this lease still holds it.
    pub(super) fn fenced(
        &self,
        update: UpdateMany<pipeline_run::Entity>,
    ) -> UpdateMany<pipeline_run::Entity> {
        update
            .filter(pipeline_run::Column::Id.eq(self.id))
            .filter(pipeline_run::Column::Status.eq(RunStatus::Running))
            .filter(pipeline_run::Column::Attempts.eq(self.attempt))
    }

    /// A condition true while this lease holds its run, for fencing writes to other tables
    /// (the listings a run closes): evaluated by the write itself, so a worker that lost its
    /// run changes nothing even if it lost it a moment ago.
    pub fn holds(&self) -> SimpleExpr {
        Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(pipeline_run::Entity)
                .and_where(pipeline_run::Column::Id.eq(self.id))
                .and_where(pipeline_run::Column::Status.eq(RunStatus::Running))
                .and_where(pipeline_run::Column::Attempts.eq(self.attempt))
                .to_owned(),
        )
    }

    /// The error for a write that found the run no longer held by this lease.
    pub(super) fn superseded(&self) -> Error {
        Error::Superseded(format!(
            "run {} is no longer held by attempt {}",
            self.id, self.attempt
        ))
    }
}

/// What [`claim`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// This worker now runs it (status RUNNING, heartbeat fresh, attempt counted).
    Claimed(Lease, pipeline_run::Model),
    /// It has ended; nothing to do.
    Ended(RunStatus),
    /// Another live worker is running it (its heartbeat is fresher than `orphan_after`).
    Busy,
}

fn cutoff(after: Duration) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::from_std(after).unwrap_or(chrono::Duration::MAX)
}

/// Runs in `status` not touched since `before` (heartbeat older, or none and queued before).
fn untouched(status: RunStatus, before: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(pipeline_run::Column::Status.eq(status))
        .add(
            Condition::any()
                .add(pipeline_run::Column::HeartbeatAt.lt(before))
                .add(
                    Condition::all()
                        .add(pipeline_run::Column::HeartbeatAt.is_null())
                        .add(pipeline_run::Column::QueuedAt.lt(before)),
                ),
        )
}

/// Takes the run for this worker: a QUEUED run, or a RUNNING one whose heartbeat is older than
/// `orphan_after`. One conditional update, so two workers never both hold it.
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
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            pipeline_run::Column::Attempts,
            Expr::col(pipeline_run::Column::Attempts).add(1),
        )
        .filter(pipeline_run::Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(pipeline_run::Column::Status.eq(RunStatus::Queued))
                .add(untouched(RunStatus::Running, cutoff(orphan_after))),
        )
        .exec(db)
        .await?;
    let run = runs::get(db, id).await?;
    Ok(if claimed.rows_affected == 1 {
        let lease = Lease {
            id,
            attempt: run.attempts,
        };
        Claim::Claimed(lease, run)
    } else if run.status.is_final() {
        Claim::Ended(run.status)
    } else {
        Claim::Busy
    })
}

/// Refreshes the heartbeat of a run this worker holds; false when it no longer holds it.
pub async fn beat(db: &DatabaseConnection, lease: &Lease) -> Result<bool> {
    let update = pipeline_run::Entity::update_many()
        .col_expr(pipeline_run::Column::HeartbeatAt, Expr::value(Utc::now()));
    Ok(lease.fenced(update).exec(db).await?.rows_affected == 1)
}

/// Runs `work` for the run of `lease`, refreshing its heartbeat every `every`. When a beat
/// finds the run taken over, the work is dropped and [`Error::Superseded`] returned; a beat
/// that fails (the database is away) is logged and tried again at the next tick.
pub async fn with_heartbeat<T>(
    db: &DatabaseConnection,
    lease: &Lease,
    every: Duration,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    tokio::pin!(work);
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = tick.tick() => match beat(db, lease).await {
                Ok(true) => {}
                Ok(false) => return Err(lease.superseded()),
                Err(e) => tracing::warn!(run_id = lease.id, error = %e, "could not refresh the run's heartbeat"),
            },
        }
    }
}

/// Hands a run this worker could not finish back to the queue: QUEUED again, with `message`
/// added to its errors, so that the next attempt may claim it.
pub async fn release(db: &DatabaseConnection, lease: &Lease, message: String) -> Result<()> {
    let errors = with_message(db, lease.id, message).await?;
    let update = pipeline_run::Entity::update_many()
        .col_expr(pipeline_run::Column::Status, Expr::value(RunStatus::Queued))
        .col_expr(pipeline_run::Column::HeartbeatAt, Expr::value(Utc::now()))
        .col_expr(pipeline_run::Column::Errors, Expr::value(errors));
    match lease.fenced(update).exec(db).await?.rows_affected {
        1 => Ok(()),
        _ => Err(lease.superseded()),
    }
}

/// Ends a run this worker holds as FAILED, with `message` added to its errors.
pub async fn fail(db: &DatabaseConnection, lease: &Lease, message: String) -> Result<()> {
    let errors = with_message(db, lease.id, message).await?;
    match lease.fenced(failed(errors)).exec(db).await?.rows_affected {
        1 => Ok(()),
        _ => Err(lease.superseded()),
    }
}

/// Ends a run nobody holds as FAILED, if it is still `status` (a QUEUED run whose job could not
/// be queued, a RUNNING run whose worker died on its last attempt). True when this call did it.
pub async fn fail_unheld(
    db: &DatabaseConnection,
    run: &pipeline_run::Model,
    message: String,
) -> Result<bool> {
    let errors = with_message(db, run.id, message).await?;
    let done = failed(errors)
        .filter(pipeline_run::Column::Id.eq(run.id))
        .filter(pipeline_run::Column::Status.eq(run.status))
        .filter(pipeline_run::Column::Attempts.eq(run.attempts))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

fn failed(errors: RunErrors) -> UpdateMany<pipeline_run::Entity> {
    pipeline_run::Entity::update_many()
        .col_expr(pipeline_run::Column::Status, Expr::value(RunStatus::Failed))
        .col_expr(pipeline_run::Column::FinishedAt, Expr::value(Utc::now()))
        .col_expr(pipeline_run::Column::Errors, Expr::value(errors))
}

/// The run's errors with `message` (source [`LIFECYCLE`]) added.
async fn with_message(db: &DatabaseConnection, id: i64, message: String) -> Result<RunErrors> {
    let mut errors = runs::get(db, id).await?.errors;
    errors.0.push(RunErrorEntry {
        source: LIFECYCLE.into(),
        category: None,
        message,
        at: Utc::now(),
    });
    Ok(errors)
}

/// Runs that need the queue's attention: RUNNING with a heartbeat older than `orphan_after`
/// (the worker died), and QUEUED untouched for `queued_after` (the job was lost: a crash
/// between two steps, a job dropped by its storage).
pub async fn stale(
    db: &DatabaseConnection,
    orphan_after: Duration,
    queued_after: Duration,
) -> Result<Vec<pipeline_run::Model>> {
    Ok(pipeline_run::Entity::find()
        .filter(
            Condition::any()
                .add(untouched(RunStatus::Running, cutoff(orphan_after)))
                .add(untouched(RunStatus::Queued, cutoff(queued_after))),
        )
        .all(db)
        .await?)
}

/// Marks a run that [`stale`] found QUEUED and touched now, if it is still stale; true when
/// this call did it (the caller then queues its job), so two watchers never both queue it.
pub async fn requeue(
    db: &DatabaseConnection,
    run: &pipeline_run::Model,
    orphan_after: Duration,
    queued_after: Duration,
) -> Result<bool> {
    let still = match run.status {
        RunStatus::Running => untouched(RunStatus::Running, cutoff(orphan_after)),
        _ => untouched(RunStatus::Queued, cutoff(queued_after)),
    };
    let done = pipeline_run::Entity::update_many()
        .col_expr(pipeline_run::Column::Status, Expr::value(RunStatus::Queued))
        .col_expr(pipeline_run::Column::HeartbeatAt, Expr::value(Utc::now()))
        .filter(pipeline_run::Column::Id.eq(run.id))
        .filter(pipeline_run::Column::Attempts.eq(run.attempts))
        .filter(still)
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}
