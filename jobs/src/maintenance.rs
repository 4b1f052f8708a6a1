//! Upkeep of the store (the `Maintenance` job, DESIGN.md §6): listings no source has seen for
//! `LISTING_TTL_DAYS` are closed, and closed listings older than `RETENTION_DAYS` are deleted
//! unless someone still cares about them — a user SAVED or APPLIED to one, or has a tailored
//! document for it. A deleted listing takes its postings, category links and its users' other
//! matches (NEW or DISMISSED) with it.
//!
//! The queue layer runs this on the scheduler and prunes finished queue jobs beside it
//! (`Queue::prune`); the effects are idempotent, so a second delivery changes nothing.

use chrono::{DateTime, Duration, Utc};
use entity::{MatchStatus, job_listing, tailored_document, user_job_match};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};

use crate::Result;
use crate::collect::closing;

/// Listings deleted per transaction: short transactions, so matching and collection never wait
/// long behind retention.
const DELETE_BATCH: u64 = 500;

/// How long closed listings and finished queue jobs are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaintenanceConfig {
    /// `RETENTION_DAYS`: a closed listing older than this that nobody saved, applied to or
    /// tailored a document for is deleted (0 keeps every listing).
    pub retention_days: u32,
    /// `QUEUE_RETENTION_DAYS`: finished queue jobs (done, or failed for the last time) older
    /// than this are deleted from the queue's storage (0 keeps them).
    pub queue_retention_days: u32,
}

impl Default for MaintenanceConfig {
    fn default() -> Self {
        Self {
            retention_days: 180,
            queue_retention_days: 7,
        }
    }
}

/// What one maintenance pass changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Open listings closed because no source has seen them for `LISTING_TTL_DAYS`.
    pub closed: u64,
    /// Closed listings deleted past `RETENTION_DAYS`.
    pub deleted_listings: u64,
    /// Matches (NEW or DISMISSED) deleted with those listings.
    pub deleted_matches: u64,
}

/// One maintenance pass over the store at `now`: closes stale listings (`listing_ttl_days`,
/// 0 closes none), then deletes what retention allows.
pub async fn run(
    db: &DatabaseConnection,
    listing_ttl_days: u32,
    config: &MaintenanceConfig,
    now: DateTime<Utc>,
) -> Result<Report> {
    let closed = closing::close_stale(db, None, listing_ttl_days, now).await?;
    let (deleted_listings, deleted_matches) =
        delete_retained(db, config.retention_days, now).await?;
    if deleted_listings > 0 {
        tracing::info!(
            deleted_listings,
            deleted_matches,
            retention_days = config.retention_days,
            "closed listings past RETENTION_DAYS deleted"
        );
    }
    Ok(Report {
        closed,
        deleted_listings,
        deleted_matches,
    })
}

/// Deletes the closed listings older than `retention_days` that nobody keeps, in batches;
/// returns (listings, matches) deleted.
async fn delete_retained(
    db: &DatabaseConnection,
    retention_days: u32,
    now: DateTime<Utc>,
) -> Result<(u64, u64)> {
    if retention_days == 0 {
        return Ok((0, 0));
    }
    let before = now - Duration::days(i64::from(retention_days));
    let (mut listings, mut matches) = (0, 0);
    loop {
        let ids: Vec<i64> = job_listing::Entity::find()
            .select_only()
            .column(job_listing::Column::Id)
            .filter(job_listing::Column::ClosedAt.lt(before))
            .filter(job_listing::Column::Id.not_in_subquery(kept_by_a_match()))
            .filter(job_listing::Column::Id.not_in_subquery(kept_by_a_document()))
            .limit(DELETE_BATCH)
            .into_tuple()
            .all(db)
            .await?;
        if ids.is_empty() {
            break;
        }
        let txn = db.begin().await?;
        matches += user_job_match::Entity::delete_many()
            .filter(user_job_match::Column::JobListingId.is_in(ids.iter().copied()))
            .filter(
                user_job_match::Column::Status.is_in([MatchStatus::New, MatchStatus::Dismissed]),
            )
            .exec(&txn)
            .await?
            .rows_affected;
        // Checked again at the delete: a match saved since the select keeps its listing (the
        // match itself was not deleted above). Postings and category links go by cascade.
        let deleted = job_listing::Entity::delete_many()
            .filter(job_listing::Column::Id.is_in(ids.iter().copied()))
            .filter(job_listing::Column::ClosedAt.lt(before))
            .filter(job_listing::Column::Id.not_in_subquery(any_match()))
            .filter(job_listing::Column::Id.not_in_subquery(kept_by_a_document()))
            .exec(&txn)
            .await?
            .rows_affected;
        txn.commit().await?;
        listings += deleted;
        if deleted == 0 {
            // Every listing of the batch was taken up meanwhile; the next select skips them,
            // but stop rather than spin if something keeps them in an unforeseen way.
            break;
        }
    }
    Ok((listings, matches))
}

/// Listings a user SAVED or APPLIED to.
fn kept_by_a_match() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(user_job_match::Column::JobListingId)
        .from(user_job_match::Entity)
        .and_where(user_job_match::Column::Status.is_in([MatchStatus::Saved, MatchStatus::Applied]))
        .to_owned()
}

/// Listings with any match left.
fn any_match() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(user_job_match::Column::JobListingId)
        .from(user_job_match::Entity)
        .to_owned()
}

/// Listings a user has a tailored resume or cover letter for.
fn kept_by_a_document() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(tailored_document::Column::JobListingId)
        .from(tailored_document::Entity)
        .to_owned()
}
