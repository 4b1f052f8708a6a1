//! Chunked storing of openings, their postings and their category links (DESIGN.md §5
//! "Identity").
//!
//! A [`Sink`] takes listings as they arrive, deduplicates them by fingerprint (keeping keys,
//! not listings: [`super::dedup`]) and stores every full chunk in one transaction, on a task of
//! its own while reading goes on (two chunks at once on Postgres):
//!
//! 1. each listing is matched to a stored one, by one of its postings' `job_hash` first, else
//!    by fingerprint (an open listing before a closed one, the oldest first);
//! 2. the rest are inserted (`INSERT … ON CONFLICT (job_hash) DO NOTHING`) with their
//!    fingerprint; the matched ones have `last_seen_at` moved forward and are reopened when
//!    they were closed;
//! 3. postings are upserted by `job_hash` (a posting seen again is refreshed), links inserted
//!    with `ON CONFLICT DO NOTHING`, and the categories that gained a link are reported.
//!
//! A chunk the database refuses is stored again one listing at a time, so one bad listing is
//! [`Rejected`] and the rest land.
//!
//! On SQLite a chunk is a few multi-row statements sized under the 32 766 bind-parameter
//! limit. On Postgres ([`postgres`]) it is three statements over `UNNEST`ed arrays, whatever the
//! chunk size, and the connection's buffers are shrunk back after each chunk. (sqlx 0.9.0 left
//! Nagle's algorithm on over TCP, transact-rs/sqlx#4335, so each round trip could stall ~40 ms;
//! 0.9.1, which this build uses, sets `TCP_NODELAY` again.)

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{Fingerprint, JobHash, job_listing, job_listing_category, listing_posting};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QuerySelect, TransactionTrait, TryInsertResult,
};

use super::dedup::{Deduper, Pending, Posting};
use crate::Result;
use crate::sources::RawListing;

mod postgres;

/// Columns bound per listing row; a chunk binds `chunk × LISTING_COLUMNS` parameters.
pub const LISTING_COLUMNS: usize = 21;
/// Largest chunk that keeps a statement under SQLite's 32 766 parameters.
pub const MAX_CHUNK: usize = 32_766 / LISTING_COLUMNS;
/// Listings per chunk on Postgres when `INGEST_CHUNK_SIZE` is 0 (automatic). The array
/// statements have a fixed number of parameters, so chunks could be larger, but with
/// `TCP_NODELAY` set a chunk's five round trips cost little, and memory grows with the chunk
/// (three chunks of listings are held, two of them also encoded for the wire): the 100,000-row
/// import peaks at 96 MB with 1,000 and 228 MB with 5,000, in the same time.
pub const POSTGRES_AUTO_CHUNK: usize = 1_000;
/// Listings per chunk on SQLite when `INGEST_CHUNK_SIZE` is 0.
pub const SQLITE_AUTO_CHUNK: usize = 500;

/// What a store did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stored {
    /// Listings that were new.
    pub inserted: u64,
    /// Listings found already stored (by a posting or their fingerprint): refreshed, not new.
    pub matched: u64,
    /// Stored listings that were closed and are open again.
    pub reopened: u64,
    /// Postings that were new (a new listing's first one included).
    pub postings_inserted: u64,
    /// Category links that were new.
    pub links_inserted: u64,
    /// Categories that gained at least one listing.
    pub categories_gained: BTreeSet<i64>,
    /// Listings the database refused (each is also logged).
    pub rejected: Vec<Rejected>,
}

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
        self.matched += other.matched;
        self.reopened += other.reopened;
        self.postings_inserted += other.postings_inserted;
        self.links_inserted += other.links_inserted;
        self.categories_gained.extend(other.categories_gained);
        self.rejected.extend(other.rejected);
    }
}

/// A chunk being stored, and what became of it.
type InFlight = tokio::task::JoinHandle<Result<(Vec<Pending>, Stored, Vec<Option<i64>>)>>;

/// Takes listings as they arrive and stores them a chunk at a time, on its own task, while
/// the caller goes on reading: on Postgres two chunks are stored at once (no two share a
/// fingerprint, see [`Deduper`]), on SQLite one.
#[derive(Debug)]
pub struct Sink<'a> {
    db: &'a DatabaseConnection,
    deduper: Deduper,
    now: DateTime<Utc>,
    stored: Stored,
    in_flight: std::collections::VecDeque<InFlight>,
    parallel: usize,
}

impl<'a> Sink<'a> {
    /// A sink writing `chunk` listings per transaction (0 picks a size for the backend),
    /// stamping them seen at `now`.
    pub fn new(db: &'a DatabaseConnection, chunk: usize, now: DateTime<Utc>) -> Self {
        let postgres = db.get_database_backend() == DbBackend::Postgres;
        let chunk = match (chunk, postgres) {
            (0, true) => POSTGRES_AUTO_CHUNK,
            (0, false) => SQLITE_AUTO_CHUNK,
            (n, true) => n,
            (n, false) => n.clamp(1, MAX_CHUNK),
        };
        Self {
            db,
            deduper: Deduper::new(chunk),
            now,
            stored: Stored::default(),
            in_flight: std::collections::VecDeque::new(),
            parallel: if postgres { 2 } else { 1 },
        }
    }

    /// Adds a listing found by `categories`, storing the buffer when it is full.
    pub async fn add(&mut self, listing: RawListing, categories: &[i64]) -> Result<()> {
        if self.deduper.add(listing, categories) {
            self.flush().await?;
        }
        Ok(())
    }

    /// Distinct listings so far.
    pub fn unique(&self) -> usize {
        self.deduper.len()
    }

    /// Sends the buffer to be stored, first waiting for the oldest chunk when as many as
    /// allowed are being stored.
    async fn flush(&mut self) -> Result<()> {
        let chunk = self.deduper.take();
        if chunk.is_empty() {
            return Ok(());
        }
        while self.in_flight.len() >= self.parallel {
            self.settle_oldest().await?;
        }
        let (db, now) = (self.db.clone(), self.now);
        self.in_flight.push_back(tokio::spawn(async move {
            let started = std::time::Instant::now();
            let (stored, ids) = store_part(&db, &chunk, now).await?;
            tracing::debug!(
                listings = chunk.len(),
                ms = started.elapsed().as_millis() as u64,
                "chunk stored"
            );
            Ok((chunk, stored, ids))
        }));
        Ok(())
    }

    async fn settle_oldest(&mut self) -> Result<()> {
        let Some(task) = self.in_flight.pop_front() else {
            return Ok(());
        };
        let (chunk, stored, ids) = task
            .await
            .map_err(|e| crate::Error::Unexpected(format!("a store task panicked: {e}")))??;
        self.deduper.settle(&chunk, &ids);
        self.stored.absorb(stored);
        Ok(())
    }

    /// Stores everything still buffered or waiting and says what the whole sink did.
    pub async fn finish(mut self) -> Result<Stored> {
        loop {
            self.flush().await?;
            if self.in_flight.is_empty() && !self.deduper.has_buffered() {
                return Ok(self.stored);
            }
            self.settle_oldest().await?;
        }
    }
}

/// A listing with the categories that found it, for [`store`].
#[derive(Debug, Clone)]
pub struct Found {
    pub listing: RawListing,
    pub categories: BTreeSet<i64>,
}

/// Stores listings a caller already holds, through a [`Sink`] of `chunk` listings.
pub async fn store(
    db: &DatabaseConnection,
    found: &[Found],
    chunk: usize,
    now: DateTime<Utc>,
) -> Result<Stored> {
    let mut sink = Sink::new(db, chunk, now);
    for f in found {
        let categories: Vec<i64> = f.categories.iter().copied().collect();
        sink.add(f.listing.clone(), &categories).await?;
    }
    sink.finish().await
}

/// Whether the database answered that it refuses this data (a statement error), as opposed to
/// being unreachable, timing out or out of connections: only a refusal is worth retrying one
/// listing at a time.
fn is_refusal(error: &crate::Error) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    match error {
        crate::Error::Database(DbErr::Exec(RuntimeErr::SqlxError(e)))
        | crate::Error::Database(DbErr::Query(RuntimeErr::SqlxError(e))) => {
            // SQLite's busy and locked (5, 6) are contention, not a refusal of the data.
            matches!(&**e, sea_orm::sqlx::Error::Database(d)
                if !matches!(d.code().as_deref(), Some("5" | "6")))
        }
        _ => false,
    }
}

/// One chunk, or its listings one by one when the database refuses the chunk; with each
/// listing's id (`None`: refused).
async fn store_part(
    db: &DatabaseConnection,
    part: &[Pending],
    now: DateTime<Utc>,
) -> Result<(Stored, Vec<Option<i64>>)> {
    let chunk_error = match store_chunk(db, part, now).await {
        Ok(done) => return Ok(done),
        Err(e) if is_refusal(&e) => e,
        Err(e) => return Err(e),
    };
    tracing::warn!(error = %chunk_error, listings = part.len(), "a chunk of listings was refused; storing them one at a time");
    let mut stored = Stored::default();
    let mut ids = Vec::with_capacity(part.len());
    for one in part.chunks(1) {
        match store_chunk(db, one, now).await {
            Ok((s, id)) => {
                stored.absorb(s);
                ids.extend(id);
            }
            Err(e) if is_refusal(&e) => {
                stored.rejected.push(rejected(&one[0], &e));
                ids.push(None);
            }
            Err(e) => return Err(e),
        }
    }
    if stored.rejected.len() == part.len() {
        // Nothing at all was taken: the table, not the data, is what fails.
        return Err(chunk_error);
    }
    Ok((stored, ids))
}

fn rejected(p: &Pending, error: &crate::Error) -> Rejected {
    let (source, title, url) = match &p.listing {
        Some(l) => (l.source, l.title.as_str(), l.job_url.as_str()),
        None => {
            let first = &p.postings[0];
            (first.source, "", first.job_url.as_str())
        }
    };
    tracing::warn!(source, title, url, %error, "listing refused by the database");
    Rejected {
        source: source.to_owned(),
        title: title.chars().take(200).collect(),
        job_url: url.chars().take(500).collect(),
        reason: error.to_string(),
    }
}

/// A stored listing a pending one may be: found `via_posting` (by `job_hash`) or by its
/// fingerprint.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    index: usize,
    id: i64,
    closed: bool,
    via_posting: bool,
}

/// Each pending listing's stored id, if any (a posting's hash beats the fingerprint, an open
/// listing a closed one, an older a newer), and whether that one is closed.
fn choose(part: &[Pending], candidates: Vec<Candidate>) -> Vec<Option<(i64, bool)>> {
    let mut best: Vec<Option<Candidate>> = part
        .iter()
        .map(|p| {
            p.id.map(|id| Candidate {
                index: 0,
                id,
                closed: false,
                via_posting: true,
            })
        })
        .collect();
    let rank = |c: &Candidate| (!c.via_posting, c.closed, c.id);
    for c in candidates {
        let slot = &mut best[c.index];
        if slot.is_none_or(|b| rank(&c) < rank(&b)) {
            *slot = Some(c);
        }
    }
    best.into_iter()
        .map(|c| c.map(|c| (c.id, c.closed)))
        .collect()
}

/// Each listing's id as far as [`choose`] found it, counting in `stored` the listings found
/// stored already and those of them that reopen.
fn found_ids(
    part: &[Pending],
    chosen: &[Option<(i64, bool)>],
    stored: &mut Stored,
) -> Vec<Option<i64>> {
    for (p, c) in part.iter().zip(chosen) {
        if let Some((_, closed)) = c {
            stored.matched += u64::from(p.id.is_none());
            stored.reopened += u64::from(*closed);
        }
    }
    chosen.iter().map(|c| c.map(|(id, _)| id)).collect()
}

/// The hashes a chunk's postings carry, each once (the first pending with it owns it).
fn posting_hashes(part: &[Pending]) -> Vec<(usize, &Posting)> {
    let mut seen = HashSet::new();
    part.iter()
        .enumerate()
        .flat_map(|(i, p)| p.postings.iter().map(move |posting| (i, posting)))
        .filter(|(_, p)| seen.insert(p.job_hash.clone()))
        .collect()
}

async fn store_chunk(
    db: &DatabaseConnection,
    part: &[Pending],
    now: DateTime<Utc>,
) -> Result<(Stored, Vec<Option<i64>>)> {
    if db.get_database_backend() == DbBackend::Postgres {
        return postgres::store_chunk(db.get_postgres_connection_pool(), part, now).await;
    }
    // IMMEDIATE: the chunk reads before it writes, and a deferred transaction that has read
    // cannot take the write lock once another connection wrote (SQLITE_BUSY at once).
    let txn = db
        .begin_with_options(sea_orm::TransactionOptions {
            sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?;
    let done = sqlite_chunk(&txn, part, now).await?;
    txn.commit().await?;
    Ok(done)
}

async fn sqlite_chunk(
    txn: &DatabaseTransaction,
    part: &[Pending],
    now: DateTime<Utc>,
) -> Result<(Stored, Vec<Option<i64>>)> {
    let mut stored = Stored::default();
    let postings = posting_hashes(part);
    // 1. Which are stored already.
    let owner: HashMap<JobHash, usize> = postings
        .iter()
        .map(|(i, p)| (p.job_hash.clone(), *i))
        .collect();
    let mut candidates = Vec::new();
    for hashes in postings.chunks(MAX_CHUNK) {
        let found: Vec<(JobHash, i64, Option<DateTime<Utc>>)> = listing_posting::Entity::find()
            .select_only()
            .column(listing_posting::Column::JobHash)
            .column(listing_posting::Column::JobListingId)
            .column_as(job_listing::Column::ClosedAt, "closed_at")
            .inner_join(job_listing::Entity)
            .filter(
                listing_posting::Column::JobHash
                    .is_in(hashes.iter().map(|(_, p)| p.job_hash.clone())),
            )
            .into_tuple()
            .all(txn)
            .await?;
        candidates.extend(found.into_iter().filter_map(|(hash, id, closed)| {
            Some(Candidate {
                index: *owner.get(&hash)?,
                id,
                closed: closed.is_some(),
                via_posting: true,
            })
        }));
    }
    let by_fingerprint: HashMap<&Fingerprint, usize> = part
        .iter()
        .enumerate()
        .filter(|(_, p)| p.id.is_none())
        .map(|(i, p)| (&p.fingerprint, i))
        .collect();
    let fingerprints: Vec<&Fingerprint> = by_fingerprint.keys().copied().collect();
    for chunk in fingerprints.chunks(MAX_CHUNK) {
        let found: Vec<(Fingerprint, i64, Option<DateTime<Utc>>)> = job_listing::Entity::find()
            .select_only()
            .column(job_listing::Column::Fingerprint)
            .column(job_listing::Column::Id)
            .column(job_listing::Column::ClosedAt)
            .filter(job_listing::Column::Fingerprint.is_in(chunk.iter().map(|f| (*f).clone())))
            .into_tuple()
            .all(txn)
            .await?;
        candidates.extend(found.into_iter().filter_map(|(f, id, closed)| {
            Some(Candidate {
                index: *by_fingerprint.get(&f)?,
                id,
                closed: closed.is_some(),
                via_posting: false,
            })
        }));
    }
    let chosen = choose(part, candidates);
    // 2. New listings in, stored ones refreshed.
    let new: Vec<(usize, &RawListing)> = part
        .iter()
        .enumerate()
        .filter(|(i, _)| chosen[*i].is_none())
        .filter_map(|(i, p)| Some((i, p.listing.as_ref()?)))
        .collect();
    let mut ids = found_ids(part, &chosen, &mut stored);
    if !new.is_empty() {
        let rows = new.iter().map(|(i, l)| {
            row(
                l,
                &part[*i].fingerprint,
                &part[*i].postings[0].job_hash,
                now,
            )
        });
        if let TryInsertResult::Inserted(n) = job_listing::Entity::insert_many(rows)
            .on_conflict_do_nothing_on([job_listing::Column::JobHash])
            .exec_without_returning(txn)
            .await?
        {
            stored.inserted += n;
        }
        let first_hash: HashMap<&JobHash, usize> = new
            .iter()
            .map(|(i, _)| (&part[*i].postings[0].job_hash, *i))
            .collect();
        let found: Vec<(JobHash, i64)> = job_listing::Entity::find()
            .select_only()
            .column(job_listing::Column::JobHash)
            .column(job_listing::Column::Id)
            .filter(job_listing::Column::JobHash.is_in(first_hash.keys().map(|h| (*h).clone())))
            .into_tuple()
            .all(txn)
            .await?;
        for (hash, id) in found {
            if let Some(i) = first_hash.get(&hash) {
                ids[*i] = Some(id);
            }
        }
    }
    let refreshed: Vec<i64> = chosen.iter().flatten().map(|(id, _)| *id).collect();
    for chunk in refreshed.chunks(MAX_CHUNK) {
        job_listing::Entity::update_many()
            .col_expr(job_listing::Column::LastSeenAt, Expr::value(now))
            .col_expr(
                job_listing::Column::ClosedAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(job_listing::Column::Id.is_in(chunk.iter().copied()))
            .exec(txn)
            .await?;
    }
    // 3. Postings and links.
    let posting_rows: Vec<listing_posting::ActiveModel> = postings
        .iter()
        .filter_map(|(i, p)| Some(posting_row(ids[*i]?, p, now)))
        .collect();
    let before = listing_posting::Entity::find()
        .select_only()
        .column(listing_posting::Column::Id)
        .filter(
            listing_posting::Column::JobHash
                .is_in(postings.iter().map(|(_, p)| p.job_hash.clone())),
        )
        .into_tuple::<i64>()
        .all(txn)
        .await?
        .len();
    for rows in posting_rows.chunks(32_766 / 10) {
        listing_posting::Entity::insert_many(rows.iter().cloned())
            .on_conflict(
                OnConflict::column(listing_posting::Column::JobHash)
                    .update_column(listing_posting::Column::LastSeenAt)
                    .value(
                        listing_posting::Column::Board,
                        Expr::cust("COALESCE(excluded.board, listing_postings.board)"),
                    )
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    stored.postings_inserted += (posting_rows.len() - before.min(posting_rows.len())) as u64;
    let links: Vec<(i64, i64)> = part
        .iter()
        .zip(&ids)
        .filter_map(|(p, id)| Some((id.as_ref()?, &p.categories)))
        .flat_map(|(id, cats)| cats.iter().map(move |c| (*id, *c)))
        .collect();
    let listing_ids: Vec<i64> = ids.iter().flatten().copied().collect();
    let mut existing: HashSet<(i64, i64)> = HashSet::new();
    for chunk in listing_ids.chunks(MAX_CHUNK) {
        existing.extend(
            job_listing_category::Entity::find()
                .select_only()
                .column(job_listing_category::Column::JobListingId)
                .column(job_listing_category::Column::SearchCategoryId)
                .filter(job_listing_category::Column::JobListingId.is_in(chunk.iter().copied()))
                .into_tuple::<(i64, i64)>()
                .all(txn)
                .await?,
        );
    }
    let new_links: Vec<(i64, i64)> = links
        .into_iter()
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
            .exec_without_returning(txn)
            .await?
        {
            stored.links_inserted += n;
        }
    }
    stored
        .categories_gained
        .extend(new_links.iter().map(|(_, c)| *c));
    Ok((stored, ids))
}

fn posting_row(listing: i64, p: &Posting, now: DateTime<Utc>) -> listing_posting::ActiveModel {
    listing_posting::ActiveModel {
        job_listing_id: Set(listing),
        job_hash: Set(p.job_hash.clone()),
        source: Set(p.source.to_owned()),
        source_id: Set(p.source_id.clone()),
        board: Set(p.board.clone()),
        job_url: Set(p.job_url.clone()),
        job_url_direct: Set(p.job_url_direct.clone()),
        first_seen_at: Set(now),
        last_seen_at: Set(now),
        ..Default::default()
    }
}

fn row(
    l: &RawListing,
    fingerprint: &Fingerprint,
    hash: &JobHash,
    now: DateTime<Utc>,
) -> job_listing::ActiveModel {
    let salary = l.salary.as_ref();
    job_listing::ActiveModel {
        job_hash: Set(hash.clone()),
        fingerprint: Set(fingerprint.clone()),
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
        closed_at: Set(None),
        ..Default::default()
    }
}
