//! `job_listings`: the one deduplicated store of openings. An opening's identity is its
//! `fingerprint`; the board URLs it was found at are its postings (`listing_postings`), the
//! first of which gave the row its `job_hash` and URL fields.

use sea_orm::entity::prelude::*;

use crate::{Fingerprint, JobHash};

/// An opening as collected. Listings are never deleted by a run; one that is gone from its
/// board, or not seen for `LISTING_TTL_DAYS`, is closed.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "job_listings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub job_hash: JobHash,
    pub title: String,
    pub company: String,
    pub location: Option<String>,
    pub job_url: String,
    pub job_url_direct: Option<String>,
    /// The site it came from (`greenhouse`, `linkedin`, …).
    pub source: String,
    /// The board's own id for the posting.
    pub source_id: Option<String>,
    /// Plain text.
    pub description: Option<String>,
    pub date_posted: Option<Date>,
    pub is_remote: Option<bool>,
    pub job_type: Option<String>,
    pub salary_min: Option<f64>,
    pub salary_max: Option<f64>,
    pub salary_currency: Option<String>,
    /// `yearly`, `monthly`, `weekly`, `daily` or `hourly`.
    pub salary_interval: Option<String>,
    /// True when the board estimated the salary rather than the employer stating it.
    pub salary_is_estimated: bool,
    pub first_seen_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    /// Normalized title, company and location, hashed (see [`Fingerprint::of`]).
    #[sea_orm(indexed)]
    pub fingerprint: Fingerprint,
    /// When the opening was seen to be gone; `None` while it is open.
    pub closed_at: Option<DateTimeUtc>,
    #[sea_orm(has_many)]
    pub postings: HasMany<super::listing_posting::Entity>,
    #[sea_orm(has_many)]
    pub matches: HasMany<super::user_job_match::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
