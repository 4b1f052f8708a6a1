//! `listing_postings`: the board URLs of a listing, one row per `job_hash`.

use sea_orm::entity::prelude::*;

use crate::JobHash;

/// Where an opening was found: one board's URL for it. The same opening on two boards is one
/// listing with two postings.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "listing_postings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub job_listing_id: i64,
    /// Hash of the posting's title, company and URL (the seed's listing identity).
    #[sea_orm(unique)]
    pub job_hash: JobHash,
    pub source: String,
    pub source_id: Option<String>,
    /// `source:board` when the posting came from a company board's complete list (whose
    /// fetch closes the postings it no longer has); `None` for searches and feeds.
    pub board: Option<String>,
    pub job_url: String,
    pub job_url_direct: Option<String>,
    pub first_seen_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "job_listing_id", to = "id")]
    pub job_listing: BelongsTo<super::job_listing::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
