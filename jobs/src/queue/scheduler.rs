//! The schedules: a collector run every `PIPELINE_INTERVAL_SECONDS` and a maintenance pass
//! every `MAINTENANCE_INTERVAL_SECONDS`, each once per interval across every process that runs
//! it.
//!
//! Time is cut into slots of one interval (slot = Unix seconds / interval). At each slot's
//! start every scheduler tries to insert `(schedule, slot)` into `scheduler_slots`; the primary
//! key lets exactly one succeed, and only that one asks for the work. A run still going from
//! the last slot is simply returned by [`request_run`] (one active run at a time); maintenance
//! is idempotent, so one pass overlapping the next changes nothing twice.

use std::future::Future;
use std::time::Duration;

use chrono::Utc;
use entity::RunTrigger;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use super::trigger::request_run;
use super::{Maintenance, Queue};
use crate::Result;

/// The pipeline schedule's name in `scheduler_slots`.
pub const PIPELINE_SCHEDULE: &str = "pipeline";
/// The maintenance schedule's name in `scheduler_slots`.
pub const MAINTENANCE_SCHEDULE: &str = "maintenance";

/// What a schedule asks for at each slot it wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// A collector run.
    Pipeline,
    /// A `Maintenance` job.
    Maintenance,
}

impl Schedule {
    /// Its name in `scheduler_slots`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pipeline => PIPELINE_SCHEDULE,
            Self::Maintenance => MAINTENANCE_SCHEDULE,
        }
    }

    /// Asks for the work of `slot`.
    async fn fire(self, db: &DatabaseConnection, queue: &Queue, slot: i64) {
        match self {
            Self::Pipeline => match request_run(db, queue, RunTrigger::Schedule, None).await {
                Ok(run) => tracing::info!(slot, run_id = run.id, "scheduled run requested"),
                Err(e) => tracing::error!(slot, error = %e, "scheduled run could not be requested"),
            },
            Self::Maintenance => match queue.push_maintenance(Maintenance { slot }).await {
                Ok(()) => tracing::info!(slot, "maintenance queued"),
                Err(e) => tracing::error!(slot, error = %e, "maintenance could not be queued"),
            },
        }
    }
}

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

/// Runs `schedule` until `stop`; `interval` zero disables it (returns at once).
pub async fn run(
    db: DatabaseConnection,
    queue: Queue,
    schedule: Schedule,
    interval: Duration,
    claimer: String,
    stop: impl Future<Output = ()>,
) {
    let secs = interval.as_secs();
    if secs == 0 {
        return;
    }
    tokio::pin!(stop);
    let name = schedule.name();
    tracing::info!(schedule = name, interval_secs = secs, "scheduler started");
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
        match claim(&db, name, slot, &claimer).await {
            Ok(true) => schedule.fire(&db, &queue, slot).await,
            Ok(false) => tracing::debug!(schedule = name, slot, "slot claimed by another process"),
            Err(e) => {
                tracing::error!(schedule = name, slot, error = %e, "could not claim the schedule slot")
            }
        }
    }
}
