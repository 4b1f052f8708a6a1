//! `user_job_matches`: a user's score for a listing, and the user's own status for it.

use sea_orm::entity::prelude::*;

use crate::{MatchStatus, Score, ScoreMethod, StringList};

/// One scored (user, listing) pair; unique per pair.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_job_matches")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub job_listing_id: i64,
    pub match_score: Score,
    pub match_reason: String,
    pub matched_skills: StringList,
    pub missing_skills: StringList,
    pub method: ScoreMethod,
    pub model_id: Option<String>,
    pub prompt_version: String,
    /// The resume the score was computed for.
    pub resume_hash: String,
    pub input_tokens: Option<i32>,
    pub output_tokens: Option<i32>,
    pub scored_at: DateTimeUtc,
    pub status: MatchStatus,
    /// The user's current preferences exclude the listing: kept (with its score and status),
    /// not shown.
    pub hidden: bool,
    /// When the match went out in an alert (email digest or webhook); never twice.
    pub alerted_at: Option<DateTimeUtc>,
    #[sea_orm(belongs_to, from = "user_id", to = "id")]
    pub user: BelongsTo<super::user::Entity>,
    #[sea_orm(belongs_to, from = "job_listing_id", to = "id")]
    pub job_listing: BelongsTo<super::job_listing::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
