//! The Postgres path of the store: a chunk is one statement over `UNNEST`ed arrays (a fixed
//! 18 parameters whatever the chunk size) that inserts, moves `last_seen_at` and returns the
//! ids at once, then one for the links: two round trips a chunk.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sqlx::{self, PgPool};

use super::{Found, JobHash, Stored};
use crate::{Error, Result};

const UPSERT: &str = r#"
WITH input AS (
SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                     $9::text[], $10::date[], $11::bool[], $12::text[], $13::float8[], $14::float8[], $15::text[],
                     $16::text[], $17::bool[])
    AS t(job_hash, title, company, location, job_url, job_url_direct, source, source_id, description, date_posted,
         is_remote, job_type, salary_min, salary_max, salary_currency, salary_interval, salary_is_estimated)
),
inserted AS (
INSERT INTO job_listings (job_hash, title, company, location, job_url, job_url_direct, source, source_id, description,
                          date_posted, is_remote, job_type, salary_min, salary_max, salary_currency, salary_interval,
                          salary_is_estimated, first_seen_at, last_seen_at)
SELECT job_hash, title, company, location, job_url, job_url_direct, source, source_id, description, date_posted,
       is_remote, job_type, salary_min, salary_max, salary_currency, salary_interval, salary_is_estimated, $18, $18
FROM input
ON CONFLICT (job_hash) DO NOTHING
RETURNING id, job_hash
),
seen AS (
UPDATE job_listings SET last_seen_at = $18
WHERE job_hash IN (SELECT job_hash FROM input) AND last_seen_at < $18
RETURNING id, job_hash
)
SELECT id, job_hash::text, true FROM inserted
UNION ALL
SELECT id, job_hash::text, false FROM seen"#;

const LINKS: &str = r#"
INSERT INTO job_listing_categories (job_listing_id, search_category_id, linked_at)
SELECT l, c, $3 FROM UNNEST($1::int8[], $2::int8[]) AS t(l, c)
ON CONFLICT DO NOTHING
RETURNING search_category_id"#;

/// Kept as a SeaORM query error, so that the caller can tell a refusal from an outage.
fn db(e: sqlx::Error) -> Error {
    Error::Database(sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(
        std::sync::Arc::new(e),
    )))
}

fn texts(part: &[Found], get: impl Fn(&Found) -> Option<String>) -> Vec<Option<String>> {
    part.iter().map(get).collect()
}

fn truncated(s: Option<&str>, n: usize) -> Option<String> {
    s.map(|s| s.chars().take(n).collect())
}

pub(super) async fn store_chunk(
    pool: &PgPool,
    part: &[Found],
    now: DateTime<Utc>,
) -> Result<Stored> {
    let mut stored = Stored::default();
    {
        let hashes: Vec<String> = part
            .iter()
            .map(|f| {
                JobHash::of(&f.listing.title, &f.listing.company, &f.listing.job_url).to_string()
            })
            .collect();
        let salary = |f: &Found| f.listing.salary.clone();
        let mut tx = pool.begin().await.map_err(db)?;
        let rows: Vec<(i64, String, bool)> = sqlx::query_as(UPSERT)
            .bind(&hashes)
            .bind(
                part.iter()
                    .map(|f| f.listing.title.clone())
                    .collect::<Vec<_>>(),
            )
            .bind(
                part.iter()
                    .map(|f| f.listing.company.clone())
                    .collect::<Vec<_>>(),
            )
            .bind(texts(part, |f| f.listing.location.clone()))
            .bind(
                part.iter()
                    .map(|f| f.listing.job_url.clone())
                    .collect::<Vec<_>>(),
            )
            .bind(texts(part, |f| f.listing.job_url_direct.clone()))
            .bind(
                part.iter()
                    .map(|f| f.listing.source.to_owned())
                    .collect::<Vec<_>>(),
            )
            .bind(texts(part, |f| {
                truncated(f.listing.source_id.as_deref(), 200)
            }))
            .bind(texts(part, |f| f.listing.description.clone()))
            .bind(
                part.iter()
                    .map(|f| f.listing.date_posted)
                    .collect::<Vec<Option<NaiveDate>>>(),
            )
            .bind(
                part.iter()
                    .map(|f| f.listing.is_remote)
                    .collect::<Vec<Option<bool>>>(),
            )
            .bind(texts(part, |f| {
                truncated(f.listing.job_type.as_deref(), 64)
            }))
            .bind(
                part.iter()
                    .map(|f| salary(f).and_then(|s| s.min))
                    .collect::<Vec<_>>(),
            )
            .bind(
                part.iter()
                    .map(|f| salary(f).and_then(|s| s.max))
                    .collect::<Vec<_>>(),
            )
            .bind(texts(part, |f| {
                truncated(salary(f).and_then(|s| s.currency).as_deref(), 8)
            }))
            .bind(texts(part, |f| {
                salary(f)
                    .and_then(|s| s.interval)
                    .map(|i| i.as_str().to_owned())
            }))
            .bind(
                part.iter()
                    .map(|f| salary(f).is_some_and(|s| s.estimated))
                    .collect::<Vec<_>>(),
            )
            .bind(now)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        stored.inserted += rows.iter().filter(|(_, _, new)| *new).count() as u64;
        let mut ids: HashMap<String, i64> =
            rows.into_iter().map(|(id, hash, _)| (hash, id)).collect();
        // A row another run touched at the same instant is neither inserted nor updated here.
        let missing: Vec<&String> = hashes.iter().filter(|h| !ids.contains_key(*h)).collect();
        if !missing.is_empty() {
            let found: Vec<(i64, String)> = sqlx::query_as(
                "SELECT id, job_hash::text FROM job_listings WHERE job_hash = ANY($1::text[])",
            )
            .bind(missing)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
            ids.extend(found.into_iter().map(|(id, hash)| (hash, id)));
        }
        let (mut listings, mut categories) = (Vec::new(), Vec::new());
        for (f, hash) in part.iter().zip(&hashes) {
            if let Some(id) = ids.get(hash) {
                for c in &f.categories {
                    listings.push(*id);
                    categories.push(*c);
                }
            }
        }
        let gained: Vec<(i64,)> = sqlx::query_as(LINKS)
            .bind(&listings)
            .bind(&categories)
            .bind(now)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        stored.links_inserted += gained.len() as u64;
        stored
            .categories_gained
            .extend(gained.into_iter().map(|(c,)| c).collect::<BTreeSet<_>>());
        tx.commit().await.map_err(db)?;
    }
    Ok(stored)
}
