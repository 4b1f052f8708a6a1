//! `pipeline_runs`: one row per collector run, with live counters and errors.

use sea_orm::entity::prelude::*;

use crate::{RunErrors, RunStatus, RunTrigger};

/// A collector run from queueing to its end.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pipeline_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub trigger: RunTrigger,
    pub status: RunStatus,
    /// The admin who asked for it, if any.
    pub requested_by: Option<i64>,
    pub queued_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub categories_total: i32,
    pub categories_done: i32,
    pub listings_fetched: i32,
    pub listings_unique: i32,
    pub listings_inserted: i32,
    pub users_queued_for_matching: i32,
    pub errors: RunErrors,
    /// Refreshed by the worker running it; a RUNNING run whose heartbeat is older than
    /// `QUEUE_ORPHAN_AFTER_SECONDS` has lost its worker.
    pub heartbeat_at: Option<DateTimeUtc>,
    /// How many times a worker has taken the run up (at most `JOB_MAX_RETRIES` + 1).
    pub attempts: i32,
}

impl ActiveModelBehavior for ActiveModel {}
