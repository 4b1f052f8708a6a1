//! `tailored_documents`: a resume or cover letter tailored to a listing, with every change
//! it makes to the user's resume and why.

use sea_orm::FromJsonQueryResult;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{DocumentKind, DocumentStatus, ScoreMethod, StringList};

/// One change a tailoring made, for the user to review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentChange {
    /// Where: `Summary`, `Skills`, or the section and entry a bullet belongs to.
    pub section: String,
    /// The resume's text before (none for added text such as a summary or a paragraph).
    pub before: Option<String>,
    pub after: String,
    pub why: String,
}

/// The changes of a document, stored as a JSON array.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct DocumentChanges(pub Vec<DocumentChange>);

/// One tailored document; unique per (user, listing, kind, resume hash, prompt version).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tailored_documents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub job_listing_id: i64,
    pub kind: DocumentKind,
    pub status: DocumentStatus,
    /// How it was made, once made.
    pub method: Option<ScoreMethod>,
    /// The resume it was made from: a different current resume makes it stale.
    pub resume_hash: String,
    pub prompt_version: String,
    /// The document, structured (what PDF and DOCX are rendered from), once made.
    pub content: Option<Json>,
    pub markdown: Option<String>,
    pub changes: DocumentChanges,
    /// What was dropped from the LLM's answer, and why; why the LLM was not used.
    pub warnings: StringList,
    /// Skills the listing asks for that the resume does not show: for the user, never claimed.
    pub suggestions: StringList,
    pub model_id: Option<String>,
    pub input_tokens: Option<i32>,
    pub output_tokens: Option<i32>,
    pub error: Option<String>,
    /// Times the job started making it.
    pub attempts: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    #[sea_orm(belongs_to, from = "user_id", to = "id")]
    pub user: BelongsTo<super::user::Entity>,
    #[sea_orm(belongs_to, from = "job_listing_id", to = "id")]
    pub job_listing: BelongsTo<super::job_listing::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
