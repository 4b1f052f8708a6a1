//! Openings and their postings (DESIGN.md §4, §5 "Identity"): `job_listings.fingerprint`
//! (indexed) and `job_listings.closed_at`, and `listing_postings`, one row per board URL
//! (`job_hash` unique) of a listing.
//!
//! Existing rows are backfilled: every listing gets the posting its own fields describe and
//! its fingerprint. Listings that turn out to be one opening (the same fingerprint, stored
//! twice because the seed's identity included the URL) are merged into the first: the later
//! ones' postings and category links move to it, and they are closed, keeping their matches.

use std::collections::HashMap;

use entity::Fingerprint;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Listings read per backfill page.
const PAGE: usize = 1_000;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        m.alter_table(
            Table::alter()
                .table("job_listings")
                .add_column(string_len("fingerprint", 64).default(""))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("job_listings")
                .add_column(timestamp_with_time_zone_null("closed_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("listing_postings")
                .if_not_exists()
                .col(big_integer("id").auto_increment().primary_key())
                .col(big_integer("job_listing_id"))
                .col(string_len("job_hash", 64).unique_key())
                .col(string_len("source", 32))
                .col(string_len_null("source_id", 200))
                .col(string_len_null("board", 200))
                .col(text("job_url"))
                .col(text_null("job_url_direct"))
                .col(timestamp_with_time_zone("first_seen_at"))
                .col(timestamp_with_time_zone("last_seen_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("listing_postings", "job_listing_id")
                        .to("job_listings", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        db.execute_unprepared(
            "INSERT INTO listing_postings (job_listing_id, job_hash, source, source_id, job_url, \
             job_url_direct, first_seen_at, last_seen_at) \
             SELECT id, job_hash, source, source_id, job_url, job_url_direct, first_seen_at, \
             last_seen_at FROM job_listings",
        )
        .await?;
        backfill_fingerprints(m).await?;
        for (name, table, column) in [
            (
                "idx_job_listings_fingerprint",
                "job_listings",
                "fingerprint",
            ),
            (
                "idx_listing_postings_listing",
                "listing_postings",
                "job_listing_id",
            ),
            ("idx_listing_postings_board", "listing_postings", "board"),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(table)
                    .col(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("listing_postings").to_owned())
            .await?;
        m.drop_index(
            Index::drop()
                .name("idx_job_listings_fingerprint")
                .table("job_listings")
                .to_owned(),
        )
        .await?;
        for column in ["closed_at", "fingerprint"] {
            m.alter_table(
                Table::alter()
                    .table("job_listings")
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

/// Computes every listing's fingerprint, page by page, and merges the listings that share one.
async fn backfill_fingerprints(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = m.get_connection();
    let backend = m.get_database_backend();
    // First listing of each fingerprint (digest → id): 40 bytes an entry.
    let mut first: HashMap<[u8; 32], i64> = HashMap::new();
    let mut merged: Vec<(i64, i64)> = Vec::new();
    let mut after = 0_i64;
    loop {
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                format!(
                    "SELECT id, title, company, location FROM job_listings WHERE id > {after} \
                     ORDER BY id LIMIT {PAGE}"
                ),
            ))
            .await?;
        if rows.is_empty() {
            break;
        }
        let mut cases = String::new();
        let mut ids = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = row.try_get("", "id")?;
            let title: String = row.try_get("", "title")?;
            let company: String = row.try_get("", "company")?;
            let location: Option<String> = row.try_get("", "location")?;
            let digest = Fingerprint::digest(&title, &company, location.as_deref());
            match first.get(&digest) {
                Some(&kept) => merged.push((id, kept)),
                None => {
                    first.insert(digest, id);
                }
            }
            let fingerprint = Fingerprint::from_digest(&digest);
            cases.push_str(&format!(" WHEN {id} THEN '{fingerprint}'"));
            ids.push(id.to_string());
            after = id;
        }
        db.execute_unprepared(&format!(
            "UPDATE job_listings SET fingerprint = CASE id{cases} END WHERE id IN ({})",
            ids.join(",")
        ))
        .await?;
    }
    for (later, kept) in merged {
        db.execute_unprepared(&format!(
            "UPDATE listing_postings SET job_listing_id = {kept} WHERE job_listing_id = {later}"
        ))
        .await?;
        db.execute_unprepared(&format!(
            "INSERT INTO job_listing_categories (job_listing_id, search_category_id, linked_at) \
             SELECT {kept}, search_category_id, linked_at FROM job_listing_categories \
             WHERE job_listing_id = {later} ON CONFLICT DO NOTHING"
        ))
        .await?;
        db.execute_unprepared(&format!(
            "UPDATE job_listings SET closed_at = last_seen_at WHERE id = {later}"
        ))
        .await?;
        db.execute_unprepared(&format!(
            "UPDATE job_listings SET last_seen_at = (SELECT MAX(last_seen_at) FROM listing_postings \
             WHERE job_listing_id = {kept}) WHERE id = {kept}"
        ))
        .await?;
    }
    Ok(())
}
