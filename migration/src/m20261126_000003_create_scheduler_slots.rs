//! `scheduler_slots`: one row per (schedule, time slot), claimed by the first process to insert
//! it, so a schedule fires once per interval however many processes run it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("scheduler_slots")
                .if_not_exists()
                .col(string_len("schedule", 64))
                .col(big_integer("slot"))
                .col(string_len("claimed_by", 128))
                .col(timestamp_with_time_zone("claimed_at"))
                .primary_key(Index::create().col("schedule").col("slot"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("scheduler_slots").to_owned())
            .await
    }
}
