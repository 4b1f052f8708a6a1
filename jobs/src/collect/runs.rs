//! `pipeline_runs` rows: asked for (one queued or running run at a time), read, and written by
//! the worker that holds the run's [`Lease`](super::lease::Lease) (see [`super::lease`]).

use chrono::Utc;
use entity::{RunErrorEntry, RunErrors, RunStatus, RunTrigger, pipeline_run};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, SqlErr,
};

use super::lease::Lease;
use crate::{Error, Result};

/// The `source` of the errors that concern the run itself rather than a job source.
pub const LIFECYCLE: &str = "pipeline";

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

/// What [`request`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Requested {
    pub run: pipeline_run::Model,
    /// True when this call created it (it then needs a job); false when it was already active.
    pub created: bool,
}

/// The active run (queued or running) if there is one, else a new QUEUED run. A partial unique
/// index admits one active run, so two callers at once get the same run.
pub async fn request(
    db: &DatabaseConnection,
    trigger: RunTrigger,
    requested_by: Option<i64>,
) -> Result<Requested> {
    if let Some(run) = active(db).await? {
        return Ok(Requested {
            run,
            created: false,
        });
    }
    match create(db, trigger, requested_by).await {
        Ok(run) => Ok(Requested { run, created: true }),
        Err(Error::Database(e))
            if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
        {
            let run = active(db).await?.ok_or_else(|| {
                Error::Unexpected("an active run vanished while being looked up".into())
            })?;
            Ok(Requested {
                run,
                created: false,
            })
        }
        Err(e) => Err(e),
    }
}

/// The run that is queued or running, if any.
pub async fn active(db: &DatabaseConnection) -> Result<Option<pipeline_run::Model>> {
    Ok(pipeline_run::Entity::find()
        .filter(pipeline_run::Column::Status.is_in([RunStatus::Queued, RunStatus::Running]))
        .order_by_asc(pipeline_run::Column::Id)
        .one(db)
        .await?)
}

/// Creates a QUEUED run (its heartbeat marks when it was last handed to the queue).
pub async fn create(
    db: &DatabaseConnection,
    trigger: RunTrigger,
    requested_by: Option<i64>,
) -> Result<pipeline_run::Model> {
    let now = Utc::now();
    let row = pipeline_run::ActiveModel {
        trigger: Set(trigger),
        status: Set(RunStatus::Queued),
        requested_by: Set(requested_by),
        queued_at: Set(now),
        heartbeat_at: Set(Some(now)),
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
    Ok(pipeline_run::Entity::find()
        .order_by_desc(pipeline_run::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Resets the counters of a run just claimed and records its category count. Returns what
/// earlier attempts recorded about the run itself (source [`LIFECYCLE`]: why an attempt
/// failed), which the new attempt keeps; the sources' errors of an earlier attempt are dropped
/// with its counters.
pub async fn mark_running(
    db: &DatabaseConnection,
    lease: &Lease,
    categories_total: i32,
) -> Result<Vec<RunErrorEntry>> {
    let history: Vec<RunErrorEntry> = get(db, lease.id)
        .await?
        .errors
        .0
        .into_iter()
        .filter(|e| e.source == LIFECYCLE)
        .collect();
    let counters = Counters {
        categories_total,
        ..Counters::default()
    };
    write_progress(db, lease, &counters, &history).await?;
    Ok(history)
}

/// Writes the current counters and errors of a run this worker holds.
pub async fn write_progress(
    db: &DatabaseConnection,
    lease: &Lease,
    counters: &Counters,
    errors: &[RunErrorEntry],
) -> Result<()> {
    let update = with_counters(pipeline_run::Entity::update_many(), counters, errors);
    let done = lease.fenced(update).exec(db).await?;
    if done.rows_affected == 1 {
        Ok(())
    } else {
        Err(lease.superseded())
    }
}

/// Ends a run this worker holds with `status`.
pub async fn finish(
    db: &DatabaseConnection,
    lease: &Lease,
    status: RunStatus,
    counters: &Counters,
    errors: &[RunErrorEntry],
) -> Result<()> {
    let update = with_counters(pipeline_run::Entity::update_many(), counters, errors)
        .col_expr(pipeline_run::Column::Status, Expr::value(status))
        .col_expr(pipeline_run::Column::FinishedAt, Expr::value(Utc::now()));
    let done = lease.fenced(update).exec(db).await?;
    if done.rows_affected == 1 {
        Ok(())
    } else {
        Err(lease.superseded())
    }
}

fn with_counters(
    update: sea_orm::UpdateMany<pipeline_run::Entity>,
    c: &Counters,
    errors: &[RunErrorEntry],
) -> sea_orm::UpdateMany<pipeline_run::Entity> {
    use pipeline_run::Column as C;
    update
        .col_expr(C::CategoriesTotal, Expr::value(c.categories_total))
        .col_expr(C::CategoriesDone, Expr::value(c.categories_done))
        .col_expr(C::ListingsFetched, Expr::value(c.listings_fetched))
        .col_expr(C::ListingsUnique, Expr::value(c.listings_unique))
        .col_expr(C::ListingsInserted, Expr::value(c.listings_inserted))
        .col_expr(
            C::UsersQueuedForMatching,
            Expr::value(c.users_queued_for_matching),
        )
        .col_expr(C::Errors, Expr::value(RunErrors(errors.to_vec())))
}
