//! At most one collector run is queued or running: a unique index over a constant, restricted
//! to the active statuses, so a second active row cannot exist whoever inserts it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX IF NOT EXISTS uq_pipeline_runs_one_active ON pipeline_runs ((1)) \
                 WHERE status IN ('queued', 'running')",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS uq_pipeline_runs_one_active")
            .await?;
        Ok(())
    }
}
