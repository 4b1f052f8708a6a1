//! Batch upsert of listings and their category links.
//!
//! Listings go in chunks of `INSERT … ON CONFLICT (job_hash) DO NOTHING`, each chunk in one
//! transaction. Listings seen again have `last_seen_at` moved forward; links are inserted the
//! same way, and the categories that gained a link are reported.
//!
//! On SQLite a chunk is a multi-row `VALUES` insert sized under the 32 766 bind-parameter
//! limit. On Postgres ([`postgres`]) a chunk is one statement over `UNNEST`ed arrays (a fixed
//! 18 parameters whatever the chunk size) that inserts, moves `last_seen_at` and returns the
//! ids at once, then one for the links: two round trips a chunk instead of five. Round trips
//! matter doubly with sqlx 0.9.0, which no longer sets `TCP_NODELAY`, so each one over TCP can
//! stall ~40 ms on Nagle's algorithm (transact-rs/sqlx#4335).

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{JobHash, job_listing, job_listing_category};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QuerySelect, TransactionTrait, TryInsertResult,
};

use super::dedup::Found;

mod postgres;
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
    /// Listings the database refused (each is also logged).
    pub rejected: Vec<Rejected>,
}

/// Listings per statement on Postgres when `INGEST_CHUNK_SIZE` is 0 (automatic): the array
/// statement has a fixed number of parameters, so chunks can be large.
pub const POSTGRES_AUTO_CHUNK: usize = 5_000;
/// Listings per statement on SQLite when `INGEST_CHUNK_SIZE` is 0.
pub const SQLITE_AUTO_CHUNK: usize = 500;

/// A listing the database would not take, and why; the others of its chunk still land.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub source: String,
    pub title: String,
    pub job_url: String,
    pub reason: String,
}

impl Stored {
    fn absorb(&mut self, other: Stored) {
        self.inserted += other.inserted;
        self.links_inserted += other.links_inserted;
        self.categories_gained.extend(other.categories_gained);
        self.rejected.extend(other.rejected);
    }
}

/// Stores deduplicated listings and their links, `chunk` listings per transaction (0 picks a
/// size for the backend). A chunk the database refuses is stored again one listing at a time,
/// so one bad listing is [`Rejected`] and the rest land; only when every listing of a chunk
/// fails (the database itself is failing) is the error returned.
pub async fn store(
    db: &DatabaseConnection,
    found: &[Found],
    chunk: usize,
    now: DateTime<Utc>,
) -> Result<Stored> {
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    let chunk = match (chunk, postgres) {
        (0, true) => POSTGRES_AUTO_CHUNK,
        (0, false) => SQLITE_AUTO_CHUNK,
        (n, true) => n,
        (n, false) => n.clamp(1, MAX_CHUNK),
    };
    let mut stored = Stored::default();
    let mut chunks = found.chunks(chunk.max(1));
    while let Some(first) = chunks.next() {
        // On Postgres two chunks go at once, each in its own transaction: after the global
        // dedup no two chunks share a hash or a listing, so they never wait on each other.
        let second = if postgres { chunks.next() } else { None };
        let (a, b) = tokio::join!(store_part(db, first, now), async {
            match second {
                Some(part) => store_part(db, part, now).await,
                None => Ok(Stored::default()),
            }
        });
        stored.absorb(a?);
        stored.absorb(b?);
    }
    Ok(stored)
}

/// Whether the database answered that it refuses this data (a statement error), as opposed to
/// being unreachable, timing out or out of connections: only a refusal is worth retrying one
/// listing at a time.
fn is_refusal(error: &crate::Error) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    match error {
        crate::Error::Database(DbErr::Exec(RuntimeErr::SqlxError(e)))
        | crate::Error::Database(DbErr::Query(RuntimeErr::SqlxError(e))) => {
            matches!(**e, sea_orm::sqlx::Error::Database(_))
        }
        _ => false,
    }
}

/// One chunk, or its listings one by one when the database refuses the chunk.
async fn store_part(db: &DatabaseConnection, part: &[Found], now: DateTime<Utc>) -> Result<Stored> {
    let chunk_error = match store_chunk(db, part, now).await {
        Ok(stored) => return Ok(stored),
        Err(e) if is_refusal(&e) => e,
        Err(e) => return Err(e),
    };
    tracing::warn!(error = %chunk_error, listings = part.len(), "a chunk of listings was refused; storing them one at a time");
    let mut stored = Stored::default();
    for one in part.chunks(1) {
        match store_chunk(db, one, now).await {
            Ok(s) => stored.absorb(s),
            Err(e) if is_refusal(&e) => stored.rejected.push(rejected(&one[0], &e)),
            Err(e) => return Err(e),
        }
    }
    if stored.rejected.len() == part.len() {
        // Nothing at all was taken: the table, not the data, is what fails.
        return Err(chunk_error);
    }
    Ok(stored)
}

fn rejected(found: &Found, error: &crate::Error) -> Rejected {
    let l = &found.listing;
    tracing::warn!(source = l.source, title = %l.title, url = %l.job_url, %error, "listing refused by the database");
    Rejected {
        source: l.source.to_owned(),
        title: l.title.chars().take(200).collect(),
        job_url: l.job_url.chars().take(500).collect(),
        reason: error.to_string(),
    }
}

async fn store_chunk(
    db: &DatabaseConnection,
    part: &[Found],
    now: DateTime<Utc>,
) -> Result<Stored> {
    if db.get_database_backend() == DbBackend::Postgres {
        return postgres::store_chunk(db.get_postgres_connection_pool(), part, now).await;
    }
    let mut stored = Stored::default();
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
