//! `tailored_documents`: a resume or cover letter tailored to one listing for one user — the
//! request (listing, kind, the resume's hash, the prompt version: unique together, so asking
//! again reuses it), where it stands, how it was made, the document itself (structured, and as
//! Markdown), every change made with its reason, what was dropped or suggested, the tokens it
//! cost, and its times.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("tailored_documents")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(big_integer("job_listing_id"))
                .col(string_len("kind", 16))
                .col(string_len("status", 16))
                .col(string_len_null("method", 16))
                .col(string_len("resume_hash", 64))
                .col(string_len("prompt_version", 32))
                .col(json_null("content"))
                .col(text_null("markdown"))
                .col(json("changes"))
                .col(json("warnings"))
                .col(json("suggestions"))
                .col(string_len_null("model_id", 255))
                .col(integer_null("input_tokens"))
                .col(integer_null("output_tokens"))
                .col(text_null("error"))
                .col(integer("attempts").default(0))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(timestamp_with_time_zone_null("finished_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("tailored_documents", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("tailored_documents", "job_listing_id")
                        .to("job_listings", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("tailored_documents_request")
                .table("tailored_documents")
                .col("user_id")
                .col("job_listing_id")
                .col("kind")
                .col("resume_hash")
                .col("prompt_version")
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("tailored_documents_user_created")
                .table("tailored_documents")
                .col("user_id")
                .col("created_at")
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("tailored_documents").to_owned())
            .await
    }
}
