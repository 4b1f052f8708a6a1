//! `source_health`: how each job source has fared across collector runs.

use sea_orm::entity::prelude::*;

/// One source's record, written after every run that was due to try it.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "source_health")]
pub struct Model {
    /// The source's name (`greenhouse`, `remotive`, …).
    #[sea_orm(primary_key, auto_increment = false)]
    pub source: String,
    pub last_success_at: Option<DateTimeUtc>,
    pub last_error_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    /// Runs in a row in which it failed and delivered nothing.
    pub consecutive_failed_runs: i32,
    pub listings_last_run: i32,
    pub errors_last_run: i32,
    /// While it is down: the first time a run tries it again.
    pub next_attempt_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
