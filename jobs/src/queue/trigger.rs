//! Asking for a collector run: one queued or running run at a time; and recovering runs whose
//! worker died, so an orphaned run never blocks every later request.

use entity::{RunStatus, RunTrigger, pipeline_run};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, SqlErr};

use super::{Queue, RunPipeline};
use crate::collect::runs;
use crate::{Error, Result};

/// The run that is queued or running, if any.
pub async fn active_run(db: &DatabaseConnection) -> Result<Option<pipeline_run::Model>> {
    Ok(pipeline_run::Entity::find()
        .filter(pipeline_run::Column::Status.is_in([RunStatus::Queued, RunStatus::Running]))
        .order_by_asc(pipeline_run::Column::Id)
        .one(db)
        .await?)
}

/// Returns the active run if there is one (after recovering orphaned runs); otherwise creates a
/// QUEUED run and queues its job.
/// A partial unique index admits one active run, so two callers at once get the same run.
/// If queueing fails the new run is marked FAILED with the reason, so it blocks nothing.
pub async fn request_run(
    db: &DatabaseConnection,
    queue: &Queue,
    trigger: RunTrigger,
    requested_by: Option<i64>,
) -> Result<pipeline_run::Model> {
    recover_orphaned_runs(db, queue).await?;
    if let Some(active) = active_run(db).await? {
        return Ok(active);
    }
    let run = match runs::create(db, trigger, requested_by).await {
        Ok(run) => run,
        Err(Error::Database(e))
            if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
        {
            return active_run(db).await?.ok_or_else(|| {
                Error::Unexpected("an active run vanished while being looked up".into())
            });
        }
        Err(e) => return Err(e),
    };
    if let Err(e) = queue.push_run(RunPipeline { run_id: run.id }).await {
        let errors = [entity::RunErrorEntry {
            source: runs::LIFECYCLE.into(),
            category: None,
            message: e.to_string(),
            at: chrono::Utc::now(),
        }];
        runs::finish(
            db,
            run.id,
            RunStatus::Failed,
            &runs::Counters::default(),
            &errors,
        )
        .await?;
        return Err(e);
    }
    Ok(run)
}

/// Puts runs whose worker died (heartbeat older than `QUEUE_ORPHAN_AFTER_SECONDS`) back on the
/// queue, or fails those that have used their attempts. Returns how many were recovered or
/// failed.
pub async fn recover_orphaned_runs(db: &DatabaseConnection, queue: &Queue) -> Result<usize> {
    let config = queue.config();
    let mut handled = 0;
    for run in runs::orphaned(db, config.orphan_after).await? {
        let attempts = usize::try_from(run.attempts).unwrap_or(usize::MAX);
        if attempts >= config.max_attempts() {
            tracing::error!(
                run_id = run.id,
                attempts,
                "run's worker stopped responding on its last attempt; marking it FAILED"
            );
            runs::fail(
                db,
                run.id,
                format!(
                    "its worker stopped responding during attempt {attempts}; no attempts left"
                ),
            )
            .await?;
            handled += 1;
        } else if runs::requeue_orphan(db, run.id, config.orphan_after).await? {
            tracing::warn!(
                run_id = run.id,
                attempts,
                "run's worker stopped responding; queueing the run again"
            );
            if let Err(e) = queue.push_run(RunPipeline { run_id: run.id }).await {
                runs::fail(db, run.id, format!("could not queue the run again: {e}")).await?;
            }
            handled += 1;
        }
    }
    Ok(handled)
}
