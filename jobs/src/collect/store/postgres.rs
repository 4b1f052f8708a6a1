//! The Postgres path of the store: a chunk is three statements over `UNNEST`ed arrays (a fixed
//! number of parameters whatever the chunk size), in one transaction: which listings are
//! stored already (by posting hash or fingerprint); insert the new ones and refresh the
//! others; upsert the postings and insert the links.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sqlx::{self, PgPool};

use super::{Candidate, Pending, Stored, choose, found_ids, posting_hashes};
use crate::{Error, Result};

const RESOLVE: &str = r#"
SELECT t.n, p.job_listing_id, l.closed_at IS NOT NULL, true
FROM UNNEST($1::int4[], $2::text[]) AS t(n, h)
JOIN listing_postings p ON p.job_hash = t.h
JOIN job_listings l ON l.id = p.job_listing_id
UNION ALL
SELECT t.n, l.id, l.closed_at IS NOT NULL, false
FROM UNNEST($3::int4[], $4::text[]) AS t(n, f)
JOIN job_listings l ON l.fingerprint = t.f"#;

const UPSERT: &str = r#"
WITH input AS (
SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                     $9::text[], $10::text[], $11::date[], $12::bool[], $13::text[], $14::float8[], $15::float8[],
                     $16::text[], $17::text[], $18::bool[])
    AS t(job_hash, fingerprint, title, company, location, job_url, job_url_direct, source, source_id, description,
         date_posted, is_remote, job_type, salary_min, salary_max, salary_currency, salary_interval,
         salary_is_estimated)
),
inserted AS (
INSERT INTO job_listings (job_hash, fingerprint, title, company, location, job_url, job_url_direct, source, source_id,
                          description, date_posted, is_remote, job_type, salary_min, salary_max, salary_currency,
                          salary_interval, salary_is_estimated, first_seen_at, last_seen_at)
SELECT job_hash, fingerprint, title, company, location, job_url, job_url_direct, source, source_id, description,
       date_posted, is_remote, job_type, salary_min, salary_max, salary_currency, salary_interval,
       salary_is_estimated, $19, $19
FROM input
ON CONFLICT (job_hash) DO NOTHING
RETURNING id, job_hash
),
seen AS (
UPDATE job_listings SET last_seen_at = $19, closed_at = NULL
WHERE id = ANY($20::int8[]) AND (last_seen_at < $19 OR closed_at IS NOT NULL)
RETURNING id
)
SELECT id, job_hash::text FROM inserted"#;

const POSTINGS_AND_LINKS: &str = r#"
WITH posted AS (
INSERT INTO listing_postings (job_listing_id, job_hash, source, source_id, board, job_url, job_url_direct,
                              first_seen_at, last_seen_at)
SELECT l, h, s, si, b, u, ud, $8, $8
FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
    AS t(l, h, s, si, b, u, ud)
ON CONFLICT (job_hash) DO UPDATE
SET last_seen_at = EXCLUDED.last_seen_at, board = COALESCE(EXCLUDED.board, listing_postings.board)
RETURNING (xmax = 0) AS new
),
linked AS (
INSERT INTO job_listing_categories (job_listing_id, search_category_id, linked_at)
SELECT l, c, $8 FROM UNNEST($9::int8[], $10::int8[]) AS t(l, c)
ON CONFLICT DO NOTHING
RETURNING search_category_id
)
SELECT (SELECT count(*) FROM posted WHERE new), (SELECT count(*) FROM linked),
       ARRAY(SELECT DISTINCT search_category_id FROM linked)"#;

/// Kept as a SeaORM query error, so that the caller can tell a refusal from an outage.
fn db(e: sqlx::Error) -> Error {
    Error::Database(sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(
        std::sync::Arc::new(e),
    )))
}

fn truncated(s: Option<&str>, n: usize) -> Option<String> {
    s.map(|s| s.chars().take(n).collect())
}

/// One column of the new listings, borrowed where it is text (a chunk's descriptions are
/// megabytes; they are not copied again to be bound).
fn column<'r, T>(
    rows: &[(usize, &'r crate::sources::RawListing)],
    get: impl Fn(&'r crate::sources::RawListing) -> T,
) -> Vec<T> {
    rows.iter().map(|(_, l)| get(l)).collect()
}

pub(super) async fn store_chunk(
    pool: &PgPool,
    part: &[Pending],
    now: DateTime<Utc>,
) -> Result<(Stored, Vec<Option<i64>>)> {
    let mut stored = Stored::default();
    let postings = posting_hashes(part);
    let mut tx = pool.begin().await.map_err(db)?;

    // 1. Which are stored already.
    let unknown: Vec<usize> = (0..part.len()).filter(|i| part[*i].id.is_none()).collect();
    let found: Vec<(i32, i64, bool, bool)> = sqlx::query_as(RESOLVE)
        .bind(postings.iter().map(|(i, _)| *i as i32).collect::<Vec<_>>())
        .bind(
            postings
                .iter()
                .map(|(_, p)| p.job_hash.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(unknown.iter().map(|i| *i as i32).collect::<Vec<_>>())
        .bind(
            unknown
                .iter()
                .map(|i| part[*i].fingerprint.as_str())
                .collect::<Vec<_>>(),
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
    let candidates = found
        .into_iter()
        .map(|(n, id, closed, via_posting)| Candidate {
            index: n as usize,
            id,
            closed,
            via_posting,
        })
        .collect();
    let chosen = choose(part, candidates);
    let mut ids = found_ids(part, &chosen, &mut stored);

    // 2. New listings in, stored ones refreshed.
    let new: Vec<(usize, &crate::sources::RawListing)> = part
        .iter()
        .enumerate()
        .filter(|(i, _)| chosen[*i].is_none())
        .filter_map(|(i, p)| Some((i, p.listing.as_ref()?)))
        .collect();
    let hashes: Vec<String> = new
        .iter()
        .map(|(i, _)| part[*i].postings[0].job_hash.to_string())
        .collect();
    let refreshed: Vec<i64> = chosen.iter().flatten().map(|(id, _)| *id).collect();
    let inserted: Vec<(i64, String)> = sqlx::query_as(UPSERT)
        .bind(&hashes)
        .bind(
            new.iter()
                .map(|(i, _)| part[*i].fingerprint.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(column(&new, |l| l.title.as_str()))
        .bind(column(&new, |l| l.company.as_str()))
        .bind(column(&new, |l| l.location.as_deref()))
        .bind(column(&new, |l| l.job_url.as_str()))
        .bind(column(&new, |l| l.job_url_direct.as_deref()))
        .bind(column(&new, |l| l.source))
        .bind(column(&new, |l| truncated(l.source_id.as_deref(), 200)))
        .bind(column(&new, |l| l.description.as_deref()))
        .bind(
            column(&new, |l| l.date_posted)
                .into_iter()
                .collect::<Vec<Option<NaiveDate>>>(),
        )
        .bind(column(&new, |l| l.is_remote))
        .bind(column(&new, |l| truncated(l.job_type.as_deref(), 64)))
        .bind(column(&new, |l| l.salary.as_ref().and_then(|s| s.min)))
        .bind(column(&new, |l| l.salary.as_ref().and_then(|s| s.max)))
        .bind(column(&new, |l| {
            truncated(l.salary.as_ref().and_then(|s| s.currency.as_deref()), 8)
        }))
        .bind(column(&new, |l| {
            l.salary
                .as_ref()
                .and_then(|s| s.interval)
                .map(|i| i.as_str().to_owned())
        }))
        .bind(column(&new, |l| {
            l.salary.as_ref().is_some_and(|s| s.estimated)
        }))
        .bind(now)
        .bind(&refreshed)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
    stored.inserted += inserted.len() as u64;
    let mut by_hash: HashMap<String, i64> = inserted.into_iter().map(|(id, h)| (h, id)).collect();
    // A hash another writer stored at the same instant is not inserted here.
    let missing: Vec<&String> = hashes
        .iter()
        .filter(|h| !by_hash.contains_key(*h))
        .collect();
    if !missing.is_empty() {
        let found: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, job_hash::text FROM job_listings WHERE job_hash = ANY($1::text[])",
        )
        .bind(missing)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        by_hash.extend(found.into_iter().map(|(id, hash)| (hash, id)));
    }
    for ((i, _), hash) in new.iter().zip(&hashes) {
        ids[*i] = by_hash.get(hash).copied();
    }

    // 3. Postings and links.
    let kept: Vec<(i64, &super::Posting)> = postings
        .iter()
        .filter_map(|(i, p)| Some((ids[*i]?, *p)))
        .collect();
    let (mut link_listings, mut link_categories) = (Vec::new(), Vec::new());
    for (p, id) in part.iter().zip(&ids) {
        if let Some(id) = id {
            for c in &p.categories {
                link_listings.push(*id);
                link_categories.push(*c);
            }
        }
    }
    let (postings_new, links_new, gained): (i64, i64, Vec<i64>) =
        sqlx::query_as(POSTINGS_AND_LINKS)
            .bind(kept.iter().map(|(id, _)| *id).collect::<Vec<_>>())
            .bind(
                kept.iter()
                    .map(|(_, p)| p.job_hash.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(kept.iter().map(|(_, p)| p.source).collect::<Vec<_>>())
            .bind(
                kept.iter()
                    .map(|(_, p)| p.source_id.as_deref())
                    .collect::<Vec<_>>(),
            )
            .bind(
                kept.iter()
                    .map(|(_, p)| p.board.as_deref())
                    .collect::<Vec<_>>(),
            )
            .bind(
                kept.iter()
                    .map(|(_, p)| p.job_url.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                kept.iter()
                    .map(|(_, p)| p.job_url_direct.as_deref())
                    .collect::<Vec<_>>(),
            )
            .bind(now)
            .bind(&link_listings)
            .bind(&link_categories)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
    stored.postings_inserted += postings_new as u64;
    stored.links_inserted += links_new as u64;
    stored.categories_gained.extend(gained);
    // The chunk's insert was one message of megabytes: without this the connection would keep
    // buffers that large for as long as the pool keeps it, one set per pooled connection.
    sqlx::Connection::shrink_buffers(&mut *tx);
    tx.commit().await.map_err(db)?;
    Ok((stored, ids))
}
