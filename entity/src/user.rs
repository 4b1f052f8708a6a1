//! `users`: accounts, their resume, the state of their category assignment, their
//! preferences, and the version their tokens must carry.

use sea_orm::entity::prelude::*;

use crate::{AssignmentMethod, AssignmentStatus, Email, Preferences, Role};

/// An account.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub email: Email,
    /// Argon2id PHC string; never leaves the server.
    pub password_hash: String,
    pub role: Role,
    pub resume_text: Option<String>,
    /// SHA-256 hex of the resume text; matches scored for another hash are stale.
    pub resume_hash: Option<String>,
    pub resume_updated_at: Option<DateTimeUtc>,
    pub search_category_id: Option<i64>,
    pub category_status: AssignmentStatus,
    pub category_method: Option<AssignmentMethod>,
    pub category_assigned_at: Option<DateTimeUtc>,
    pub category_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// What the user wants of a listing; `None` until they say (everything passes).
    pub preferences: Option<Preferences>,
    /// Bumped to revoke every token issued before (password change, sign out everywhere).
    pub token_version: i32,
    #[sea_orm(belongs_to, from = "search_category_id", to = "id")]
    pub search_category: HasOne<super::search_category::Entity>,
    #[sea_orm(has_many)]
    pub matches: HasMany<super::user_job_match::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
