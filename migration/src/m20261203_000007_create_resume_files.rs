//! `resume_files`: the original upload behind a user's current resume (one per user, gone
//! when the user pastes text instead): its bytes, its name, the type read from its bytes, its
//! size and pages, and what the reading warned about.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("resume_files")
                .if_not_exists()
                .col(big_integer("user_id").primary_key())
                .col(string_len("file_name", 255))
                .col(string_len("content_type", 127))
                .col(string_len("source", 16))
                .col(integer("size_bytes"))
                .col(integer_null("pages"))
                .col(json("warnings"))
                .col(string_len("sha256", 64))
                .col(blob("data"))
                .col(timestamp_with_time_zone("uploaded_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("resume_files", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("resume_files").to_owned())
            .await
    }
}
