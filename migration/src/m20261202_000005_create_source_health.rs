//! `source_health`: one row per job source, updated after every collector run — its last
//! success and error, how many runs in a row it failed, what it delivered last, and (when it
//! is down) when it is tried next.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("source_health")
                .if_not_exists()
                .col(string_len("source", 32).primary_key())
                .col(timestamp_with_time_zone_null("last_success_at"))
                .col(timestamp_with_time_zone_null("last_error_at"))
                .col(text_null("last_error"))
                .col(integer("consecutive_failed_runs").default(0))
                .col(integer("listings_last_run").default(0))
                .col(integer("errors_last_run").default(0))
                .col(timestamp_with_time_zone_null("next_attempt_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("source_health").to_owned())
            .await
    }
}
