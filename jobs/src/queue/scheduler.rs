//! The schedule: a collector run every `PIPELINE_INTERVAL_SECONDS`, once per interval across
//! every process that runs it.
//!
//! Time is cut into slots of one interval (slot = Unix seconds / interval). At each slot's
//! start every scheduler tries to insert `(schedule, slot)` into `scheduler_slots`; the primary
//! key lets exactly one succeed, and only that one asks for a run. A run still going from the
//! last slot is simply returned by [`request_run`] (one active run at a time).

use std::future::Future;
use std::time::Duration;

use chrono::Utc;
use entity::RunTrigger;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use super::Queue;
use super::trigger::request_run;
use crate::Result;

/// The schedule's name in `scheduler_slots`.
pub const PIPELINE_SCHEDULE: &str = "pipeline";

/// Claims `slot` of `schedule` for `claimer`; true when this call won it.
pub async fn claim(
    db: &DatabaseConnection,
    schedule: &str,
    slot: i64,
    claimer: &str,
) -> Result<bool> {
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "INSERT INTO scheduler_slots (schedule, slot, claimed_by, claimed_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"
        }
        _ => {
            "INSERT INTO scheduler_slots (schedule, slot, claimed_by, claimed_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
        }
    };
    let result = db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [
                schedule.into(),
                slot.into(),
                claimer.into(),
                Utc::now().into(),
            ],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Runs the schedule until `stop`; `interval` zero disables it (returns at once).
pub async fn run(
    db: DatabaseConnection,
    queue: Queue,
    interval: Duration,
    claimer: String,
    stop: impl Future<Output = ()>,
) {
    let secs = interval.as_secs();
    if secs == 0 {
        return;
    }
    tokio::pin!(stop);
    tracing::info!(interval_secs = secs, "scheduler started");
    loop {
        let now = Utc::now();
        let slot = now.timestamp().div_euclid(secs as i64) + 1;
        let wait = Duration::from_millis(
            u64::try_from(slot * secs as i64 * 1000 - now.timestamp_millis()).unwrap_or(0),
        );
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(wait) => {}
        }
        match claim(&db, PIPELINE_SCHEDULE, slot, &claimer).await {
            Ok(true) => match request_run(&db, &queue, RunTrigger::Schedule, None).await {
                Ok(run) => tracing::info!(slot, run_id = run.id, "scheduled run requested"),
                Err(e) => tracing::error!(slot, error = %e, "scheduled run could not be requested"),
            },
            Ok(false) => tracing::debug!(slot, "slot claimed by another process"),
            Err(e) => tracing::error!(slot, error = %e, "could not claim the schedule slot"),
        }
    }
}
