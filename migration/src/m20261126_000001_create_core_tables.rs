//! The core tables: categories, listings and their category links, users, matches, runs.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn created_updated(t: &mut TableCreateStatement) -> &mut TableCreateStatement {
    t.col(timestamp_with_time_zone("created_at"))
        .col(timestamp_with_time_zone("updated_at"))
}

fn fk(
    name: &str,
    from: (&'static str, &'static str),
    to: (&'static str, &'static str),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(on_delete)
        .on_update(ForeignKeyAction::Cascade)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            created_updated(
                Table::create()
                    .table("search_categories")
                    .col(big_pk_auto("id"))
                    .col(string_len("slug", 49))
                    .col(string_len("name", 200))
                    .col(json("search_terms"))
                    .col(json("keywords"))
                    .col(string_len_null("location", 200))
                    .col(boolean("is_active").default(true))
                    .col(string_len("origin", 16)),
            )
            .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_search_categories_slug")
                .table("search_categories")
                .col("slug")
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("job_listings")
                .col(big_pk_auto("id"))
                .col(char_len("job_hash", 64))
                .col(text("title"))
                .col(text("company"))
                .col(text_null("location"))
                .col(text("job_url"))
                .col(text_null("job_url_direct"))
                .col(string_len("source", 32))
                .col(string_len_null("source_id", 200))
                .col(text_null("description"))
                .col(date_null("date_posted"))
                .col(boolean_null("is_remote"))
                .col(string_len_null("job_type", 64))
                .col(double_null("salary_min"))
                .col(double_null("salary_max"))
                .col(string_len_null("salary_currency", 8))
                .col(string_len_null("salary_interval", 16))
                .col(boolean("salary_is_estimated").default(false))
                .col(timestamp_with_time_zone("first_seen_at"))
                .col(timestamp_with_time_zone("last_seen_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_job_listings_job_hash")
                .table("job_listings")
                .col("job_hash")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_job_listings_first_seen_at")
                .table("job_listings")
                .col(("first_seen_at", IndexOrder::Desc))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("job_listing_categories")
                .col(big_integer("job_listing_id"))
                .col(big_integer("search_category_id"))
                .col(timestamp_with_time_zone("linked_at"))
                .primary_key(
                    Index::create()
                        .col("job_listing_id")
                        .col("search_category_id"),
                )
                .foreign_key(&mut fk(
                    "fk_jlc_listing",
                    ("job_listing_categories", "job_listing_id"),
                    ("job_listings", "id"),
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "fk_jlc_category",
                    ("job_listing_categories", "search_category_id"),
                    ("search_categories", "id"),
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;
        // A category's listings, newest link first.
        m.create_index(
            Index::create()
                .name("ix_jlc_category_recent")
                .table("job_listing_categories")
                .col("search_category_id")
                .col(("linked_at", IndexOrder::Desc))
                .col("job_listing_id")
                .to_owned(),
        )
        .await?;

        m.create_table(
            created_updated(
                Table::create()
                    .table("users")
                    .col(big_pk_auto("id"))
                    .col(string_len("email", 254))
                    .col(string_len("password_hash", 255))
                    .col(string_len("role", 16).default("user"))
                    .col(text_null("resume_text"))
                    .col(char_len_null("resume_hash", 64))
                    .col(timestamp_with_time_zone_null("resume_updated_at"))
                    .col(big_integer_null("search_category_id"))
                    .col(string_len("category_status", 16).default("none"))
                    .col(string_len_null("category_method", 16))
                    .col(timestamp_with_time_zone_null("category_assigned_at"))
                    .col(text_null("category_error"))
                    .foreign_key(&mut fk(
                        "fk_users_category",
                        ("users", "search_category_id"),
                        ("search_categories", "id"),
                        ForeignKeyAction::SetNull,
                    )),
            )
            .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_users_email")
                .table("users")
                .col("email")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_users_category")
                .table("users")
                .col("search_category_id")
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("user_job_matches")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(big_integer("job_listing_id"))
                .col(integer("match_score").check(Expr::col("match_score").between(0, 100)))
                .col(text("match_reason"))
                .col(json("matched_skills"))
                .col(json("missing_skills"))
                .col(string_len("method", 16))
                .col(string_len_null("model_id", 200))
                .col(string_len("prompt_version", 32))
                .col(char_len("resume_hash", 64))
                .col(integer_null("input_tokens"))
                .col(integer_null("output_tokens"))
                .col(timestamp_with_time_zone("scored_at"))
                .col(string_len("status", 16).default("new"))
                .foreign_key(&mut fk(
                    "fk_matches_user",
                    ("user_job_matches", "user_id"),
                    ("users", "id"),
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "fk_matches_listing",
                    ("user_job_matches", "job_listing_id"),
                    ("job_listings", "id"),
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_user_job_matches_user_listing")
                .table("user_job_matches")
                .col("user_id")
                .col("job_listing_id")
                .unique()
                .to_owned(),
        )
        .await?;
        // A user's matches by score (the default sort), id as the tie-breaker for cursors.
        m.create_index(
            Index::create()
                .name("ix_user_job_matches_user_score")
                .table("user_job_matches")
                .col("user_id")
                .col(("match_score", IndexOrder::Desc))
                .col(("id", IndexOrder::Desc))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_user_job_matches_listing")
                .table("user_job_matches")
                .col("job_listing_id")
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("pipeline_runs")
                .col(big_pk_auto("id"))
                .col(string_len("trigger", 16))
                .col(string_len("status", 16))
                .col(big_integer_null("requested_by"))
                .col(timestamp_with_time_zone("queued_at"))
                .col(timestamp_with_time_zone_null("started_at"))
                .col(timestamp_with_time_zone_null("finished_at"))
                .col(integer("categories_total").default(0))
                .col(integer("categories_done").default(0))
                .col(integer("listings_fetched").default(0))
                .col(integer("listings_unique").default(0))
                .col(integer("listings_inserted").default(0))
                .col(integer("users_queued_for_matching").default(0))
                .col(json("errors"))
                .foreign_key(&mut fk(
                    "fk_runs_requested_by",
                    ("pipeline_runs", "requested_by"),
                    ("users", "id"),
                    ForeignKeyAction::SetNull,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_pipeline_runs_status")
                .table("pipeline_runs")
                .col("status")
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "pipeline_runs",
            "user_job_matches",
            "users",
            "job_listing_categories",
            "job_listings",
            "search_categories",
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
