//! `pipeline_runs.heartbeat_at` and `pipeline_runs.attempts`: the worker that runs a collection
//! refreshes the heartbeat while it works, so a run whose worker died is seen as orphaned and
//! recovered (or failed after `JOB_MAX_RETRIES`) instead of staying RUNNING for good.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        m.alter_table(
            Table::alter()
                .table("pipeline_runs")
                .add_column(timestamp_with_time_zone_null("heartbeat_at"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("pipeline_runs")
                .add_column(integer("attempts").default(0))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in ["attempts", "heartbeat_at"] {
            m.alter_table(
                Table::alter()
                    .table("pipeline_runs")
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
