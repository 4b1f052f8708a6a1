//! Batch upsert of listings and their category links.
//!
//! Listings go in chunks of `INSERT … ON CONFLICT (job_hash) DO NOTHING`, each chunk in one
//! transaction, chunks sized to stay under the bind-parameter limits (SQLite 32 766, Postgres
//! 65 535). Listings seen again have `last_seen_at` moved forward; links are inserted the same
//! way, and the categories that gained a link are reported.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{JobHash, job_listing, job_listing_category};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait, TryInsertResult,
};

use super::dedup::Found;
use crate::Result;

/// Columns bound per listing row; a chunk binds `chunk × LISTING_COLUMNS` parameters.
pub const LISTING_COLUMNS: usize = 20;
/// Largest chunk that keeps a statement under SQLite's 32 766 parameters.
pub const MAX_CHUNK: usize = 32_766 / LISTING_COLUMNS;

/// What a store did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stored {
    /// Listings that were new.
    pub inserted: u64,
    /// Category links that were new.
    pub links_inserted: u64,
    /// Categories that gained at least one listing.
    pub categories_gained: BTreeSet<i64>,
}

/// Stores deduplicated listings and their links, `chunk` listings per statement.
pub async fn store(
    db: &DatabaseConnection,
    found: &[Found],
    chunk: usize,
    now: DateTime<Utc>,
) -> Result<Stored> {
    let mut stored = Stored::default();
    for part in found.chunks(chunk.clamp(1, MAX_CHUNK)) {
        let txn = db.begin().await?;
        let hashes: Vec<JobHash> = part
            .iter()
            .map(|f| JobHash::of(&f.listing.title, &f.listing.company, &f.listing.job_url))
            .collect();
        let rows = part.iter().zip(&hashes).map(|(f, hash)| row(f, hash, now));
        if let TryInsertResult::Inserted(n) = job_listing::Entity::insert_many(rows)
            .on_conflict_do_nothing_on([job_listing::Column::JobHash])
            .exec_without_returning(&txn)
            .await?
        {
            stored.inserted += n;
        }
        job_listing::Entity::update_many()
            .col_expr(job_listing::Column::LastSeenAt, Expr::value(now))
            .filter(job_listing::Column::JobHash.is_in(hashes.iter().cloned()))
            .filter(job_listing::Column::LastSeenAt.lt(now))
            .exec(&txn)
            .await?;
        let ids: HashMap<JobHash, i64> = job_listing::Entity::find()
            .select_only()
            .column(job_listing::Column::JobHash)
            .column(job_listing::Column::Id)
            .filter(job_listing::Column::JobHash.is_in(hashes.iter().cloned()))
            .into_tuple::<(JobHash, i64)>()
            .all(&txn)
            .await?
            .into_iter()
            .collect();
        let listing_ids: Vec<i64> = ids.values().copied().collect();
        let existing: HashSet<(i64, i64)> = job_listing_category::Entity::find()
            .select_only()
            .column(job_listing_category::Column::JobListingId)
            .column(job_listing_category::Column::SearchCategoryId)
            .filter(job_listing_category::Column::JobListingId.is_in(listing_ids))
            .into_tuple::<(i64, i64)>()
            .all(&txn)
            .await?
            .into_iter()
            .collect();
        let new_links: Vec<(i64, i64)> = part
            .iter()
            .zip(&hashes)
            .filter_map(|(f, hash)| ids.get(hash).map(|id| (*id, &f.categories)))
            .flat_map(|(id, cats)| cats.iter().map(move |c| (id, *c)))
            .filter(|link| !existing.contains(link))
            .collect();
        for links in new_links.chunks(MAX_CHUNK) {
            let rows = links
                .iter()
                .map(|(listing, category)| job_listing_category::ActiveModel {
                    job_listing_id: Set(*listing),
                    search_category_id: Set(*category),
                    linked_at: Set(now),
                });
            if let TryInsertResult::Inserted(n) = job_listing_category::Entity::insert_many(rows)
                .on_conflict_do_nothing_on([
                    job_listing_category::Column::JobListingId,
                    job_listing_category::Column::SearchCategoryId,
                ])
                .exec_without_returning(&txn)
                .await?
            {
                stored.links_inserted += n;
            }
        }
        stored
            .categories_gained
            .extend(new_links.iter().map(|(_, c)| *c));
        txn.commit().await?;
    }
    Ok(stored)
}

fn row(f: &Found, hash: &JobHash, now: DateTime<Utc>) -> job_listing::ActiveModel {
    let l = &f.listing;
    let salary = l.salary.as_ref();
    job_listing::ActiveModel {
        job_hash: Set(hash.clone()),
        title: Set(l.title.clone()),
        company: Set(l.company.clone()),
        location: Set(l.location.clone()),
        job_url: Set(l.job_url.clone()),
        job_url_direct: Set(l.job_url_direct.clone()),
        source: Set(l.source.to_owned()),
        source_id: Set(l.source_id.clone().map(|s| s.chars().take(200).collect())),
        description: Set(l.description.clone()),
        date_posted: Set(l.date_posted),
        is_remote: Set(l.is_remote),
        job_type: Set(l.job_type.clone().map(|s| s.chars().take(64).collect())),
        salary_min: Set(salary.and_then(|s| s.min)),
        salary_max: Set(salary.and_then(|s| s.max)),
        salary_currency: Set(salary
            .and_then(|s| s.currency.clone())
            .map(|c| c.chars().take(8).collect())),
        salary_interval: Set(salary
            .and_then(|s| s.interval)
            .map(|i| i.as_str().to_owned())),
        salary_is_estimated: Set(salary.is_some_and(|s| s.estimated)),
        first_seen_at: Set(now),
        last_seen_at: Set(now),
        ..Default::default()
    }
}
