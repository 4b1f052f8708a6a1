//! `pipeline_runs` rows: created queued, marked running, counters written as the run goes,
//! finished with a final status.

use chrono::Utc;
use entity::{RunErrorEntry, RunErrors, RunStatus, RunTrigger, pipeline_run};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait};

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

/// Marks the run RUNNING with its category count, clearing counters from an interrupted
/// attempt.
pub async fn mark_running(db: &DatabaseConnection, id: i64, categories_total: i32) -> Result<()> {
    let mut row: pipeline_run::ActiveModel = get(db, id).await?.into();
    row.status = Set(RunStatus::Running);
    row.started_at = Set(Some(Utc::now()));
    row.finished_at = Set(None);
    apply(
        &mut row,
        &Counters {
            categories_total,
            ..Counters::default()
        },
        &[],
    );
    row.update(db).await?;
    Ok(())
}

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
