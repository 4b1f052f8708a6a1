//! The LLM ledger: `llm_calls`, one row per call (when, what for, which provider and model, for
//! whom, how many items, the tokens incl. prompt-cache reads and writes, the latency, the
//! outcome), and `llm_token_days`, the tokens spent per UTC day, which the daily budget reserves
//! against with one conditional update so that every process shares it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("llm_calls")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(string_len("day", 10))
                .col(string_len("purpose", 16))
                .col(string_len("provider", 16))
                .col(string_len("model_id", 255))
                .col(big_integer_null("user_id"))
                .col(integer("items"))
                .col(integer("input_tokens"))
                .col(integer("output_tokens"))
                .col(integer("cache_read_tokens"))
                .col(integer("cache_write_tokens"))
                .col(integer("latency_ms"))
                .col(string_len("outcome", 32))
                .foreign_key(
                    ForeignKey::create()
                        .from("llm_calls", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("llm_calls_created")
                .table("llm_calls")
                .col("created_at")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("llm_calls_user_day")
                .table("llm_calls")
                .col("user_id")
                .col("day")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("llm_token_days")
                .if_not_exists()
                .col(string_len("day", 10).primary_key())
                .col(big_integer("tokens"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("llm_token_days").if_exists().to_owned())
            .await?;
        m.drop_table(Table::drop().table("llm_calls").if_exists().to_owned())
            .await
    }
}
