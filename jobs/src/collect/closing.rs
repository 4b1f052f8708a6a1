//! Closing listings whose openings are gone (DESIGN.md §5 "Identity"): a company board's
//! complete list no longer has them, or no source has seen them for `LISTING_TTL_DAYS`.
//!
//! A closed listing is not matched or scored; a match a user SAVED or APPLIED stays visible
//! with `closedAt`. A closed listing that is seen again reopens (the store does that).

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use entity::{JobHash, job_listing, listing_posting};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};

use super::lease::{self, Lease};
use crate::Result;

/// Closes the open listings of `board` (`source:board`) whose postings are missing from a
/// successful, complete fetch of it (`seen`: the hashes it returned), for the run `lease`
/// holds: every update is fenced by the lease, so a worker that lost its run closes nothing
/// ([`Error::Superseded`](crate::Error::Superseded)). A listing that another posting of it
/// shows was seen in this run (`run_seen_at`, when the run stamped what it found) stays open:
/// the opening is still posted somewhere, and closing it would only have it reopen on the next
/// run. Returns how many were closed.
pub async fn close_missing(
    db: &DatabaseConnection,
    lease: &Lease,
    board: &str,
    seen: &HashSet<JobHash>,
    run_seen_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64> {
    let postings: Vec<(JobHash, i64)> = listing_posting::Entity::find()
        .select_only()
        .column(listing_posting::Column::JobHash)
        .column(listing_posting::Column::JobListingId)
        .inner_join(job_listing::Entity)
        .filter(listing_posting::Column::Board.eq(board))
        .filter(job_listing::Column::ClosedAt.is_null())
        .into_tuple()
        .all(db)
        .await?;
    let still: HashSet<i64> = postings
        .iter()
        .filter(|(h, _)| seen.contains(h))
        .map(|(_, id)| *id)
        .collect();
    let gone: HashSet<i64> = postings
        .iter()
        .filter(|(h, id)| !seen.contains(h) && !still.contains(id))
        .map(|(_, id)| *id)
        .collect();
    if gone.is_empty() {
        return Ok(0);
    }
    let posted_elsewhere: HashSet<i64> = listing_posting::Entity::find()
        .select_only()
        .column(listing_posting::Column::JobListingId)
        .filter(listing_posting::Column::JobListingId.is_in(gone.iter().copied()))
        .filter(listing_posting::Column::LastSeenAt.gte(run_seen_at))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let closing: Vec<i64> = gone.difference(&posted_elsewhere).copied().collect();
    let mut closed = 0;
    for ids in closing.chunks(1_000) {
        closed += job_listing::Entity::update_many()
            .col_expr(job_listing::Column::ClosedAt, Expr::value(now))
            .filter(job_listing::Column::Id.is_in(ids.iter().copied()))
            .filter(job_listing::Column::ClosedAt.is_null())
            .filter(lease.holds())
            .exec(db)
            .await?
            .rows_affected;
        still_held(db, lease).await?;
    }
    if closed > 0 {
        tracing::info!(board, closed, "listings gone from their board closed");
    }
    Ok(closed)
}

/// Fails with [`Error::Superseded`](crate::Error::Superseded) when `lease` no longer holds its
/// run (its fenced writes changed nothing, and the run is another worker's); else refreshes
/// its heartbeat.
async fn still_held(db: &DatabaseConnection, lease: &Lease) -> Result<()> {
    if lease::beat(db, lease).await? {
        Ok(())
    } else {
        Err(lease.superseded())
    }
}

/// Closes every open listing not seen for `ttl_days` days (0 closes nothing). Returns how many.
/// Under a run's `lease` the update is fenced by it like [`close_missing`]'s; the scheduled
/// maintenance passes none.
pub async fn close_stale(
    db: &DatabaseConnection,
    lease: Option<&Lease>,
    ttl_days: u32,
    now: DateTime<Utc>,
) -> Result<u64> {
    if ttl_days == 0 {
        return Ok(0);
    }
    let before = now - Duration::days(i64::from(ttl_days));
    let mut update = job_listing::Entity::update_many()
        .col_expr(job_listing::Column::ClosedAt, Expr::value(now))
        .filter(job_listing::Column::ClosedAt.is_null())
        .filter(job_listing::Column::LastSeenAt.lt(before));
    if let Some(lease) = lease {
        update = update.filter(lease.holds());
    }
    let closed = update.exec(db).await?.rows_affected;
    if let Some(lease) = lease {
        still_held(db, lease).await?;
    }
    if closed > 0 {
        tracing::info!(
            closed,
            ttl_days,
            "listings not seen within LISTING_TTL_DAYS closed"
        );
    }
    Ok(closed)
}
