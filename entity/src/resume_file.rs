//! `resume_files`: the file a user's current resume was read from.

use sea_orm::entity::prelude::*;

use crate::{ResumeSource, StringList};

/// The original upload, kept so its owner can download it again.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "resume_files")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    /// The name it was uploaded under (without any directory).
    pub file_name: String,
    /// The media type of what the bytes are (not what the upload declared).
    pub content_type: String,
    pub source: ResumeSource,
    pub size_bytes: i32,
    pub pages: Option<i32>,
    /// What the reading warned about (images not read, …).
    pub warnings: StringList,
    /// SHA-256 hex of `data`.
    pub sha256: String,
    #[sea_orm(column_type = "Blob")]
    pub data: Vec<u8>,
    pub uploaded_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
