//! Saving a resume — pasted text, or the text read from an uploaded file kept beside it — which
//! starts the category assignment; [`extract`] reads the files.

pub mod extract;

use chrono::Utc;
use entity::{AssignmentStatus, InvalidValue, ResumeSource, StringList, resume_file, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait, QuerySelect,
    TransactionTrait,
};
use sha2::{Digest, Sha256};

pub use self::extract::{Extracted, Limits, Refusal};
use crate::Result;

/// Fewest characters a resume may have (not counting surrounding whitespace).
pub const MIN_CHARS: usize = 50;
/// Most bytes a resume may have.
pub const MAX_BYTES: usize = 100 * 1024;

/// Checks that `text` is a plausible plain-text resume: 50 characters to 100 KB, not only
/// whitespace, no control characters other than tabs and line breaks.
pub fn validate(text: &str) -> Result<&str, InvalidValue> {
    validate_as("text", text)
}

/// [`validate`], the error naming `field` (`file` for the text read from an upload).
fn validate_as<'a>(field: &'static str, text: &'a str) -> Result<&'a str, InvalidValue> {
    if text.len() > MAX_BYTES {
        return Err(InvalidValue::new(
            field,
            format!(
                "the resume is {} KB; at most {} KB of plain text is accepted",
                text.len().div_ceil(1024),
                MAX_BYTES / 1024
            ),
        ));
    }
    entity::check_plain_text(field, text)?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(InvalidValue::new(field, "the resume is empty"));
    }
    let chars = trimmed.chars().count();
    if chars < MIN_CHARS {
        return Err(InvalidValue::new(
            field,
            format!("the resume has {chars} characters; at least {MIN_CHARS} are needed"),
        ));
    }
    Ok(trimmed)
}

/// SHA-256 hex of the stored text.
pub fn hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// What [`save`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    pub user: user::Model,
    /// The resume hash to assign a category for, when the assignment became PENDING (the queue
    /// layer then queues `AssignCategory`); `None` when nothing changed.
    pub assign: Option<String>,
}

/// Stores the pasted resume of `user` (the row the caller's request loaded), replacing any
/// uploaded file. When the text changed (or the last assignment failed or never started), the
/// assignment becomes PENDING for the new hash; saving the same text again changes nothing.
pub async fn save(db: &DatabaseConnection, user: user::Model, text: &str) -> Result<Saved> {
    let text = validate(text)?;
    store(db, user, text, None).await
}

/// An uploaded file and what was read from it.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The name it was uploaded under; only its last path component is kept.
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub extracted: Extracted,
}

/// The media type of each kind of resume file.
pub fn content_type(source: ResumeSource) -> &'static str {
    match source {
        ResumeSource::Pdf => "application/pdf",
        ResumeSource::Docx => {
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        }
        ResumeSource::Markdown => "text/markdown; charset=utf-8",
        ResumeSource::Text => "text/plain; charset=utf-8",
    }
}

/// A file name safe to store and to send back: its last path component, without control
/// characters or quotes, at most 200 characters; `resume` if nothing is left.
pub fn file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect();
    let name = name.trim().to_owned();
    if name.is_empty() || name == "." || name == ".." {
        "resume".into()
    } else {
        name
    }
}

/// Stores the text read from an upload as `user`'s resume, and the file itself (replacing
/// any earlier one); the assignment as in [`save`]. Text too short or too long is refused
/// with `field: file`, and nothing is stored.
pub async fn save_upload(
    db: &DatabaseConnection,
    user: user::Model,
    upload: Upload,
) -> Result<Saved> {
    let text = validate_as("file", &upload.extracted.text).map_err(|e| {
        InvalidValue::new("file", format!("the text read from the file: {}", e.reason))
    })?;
    let file = resume_file::ActiveModel {
        user_id: Set(user.id),
        file_name: Set(file_name(&upload.file_name)),
        content_type: Set(content_type(upload.extracted.source).to_owned()),
        source: Set(upload.extracted.source),
        size_bytes: Set(i32::try_from(upload.bytes.len()).unwrap_or(i32::MAX)),
        pages: Set(upload.extracted.pages.and_then(|p| i32::try_from(p).ok())),
        warnings: Set(StringList(upload.extracted.warnings.clone())),
        sha256: Set(hex::encode(Sha256::digest(&upload.bytes))),
        data: Set(upload.bytes),
        uploaded_at: Set(Utc::now()),
    };
    let text = text.to_owned();
    store(db, user, &text, Some(file)).await
}

/// The text as `user`'s resume and `file` as its file (none: pasted), in one transaction.
async fn store(
    db: &DatabaseConnection,
    user: user::Model,
    text: &str,
    file: Option<resume_file::ActiveModel>,
) -> Result<Saved> {
    let new_hash = hash(text);
    let unchanged = user.resume_hash.as_deref() == Some(new_hash.as_str())
        && matches!(
            user.category_status,
            AssignmentStatus::Pending | AssignmentStatus::Assigned
        );
    let txn = db.begin().await?;
    resume_file::Entity::delete_by_id(user.id)
        .exec(&txn)
        .await?;
    if let Some(file) = file {
        file.insert(&txn).await?;
    }
    let now = Utc::now();
    let saved = if unchanged {
        Saved { user, assign: None }
    } else {
        let mut row: user::ActiveModel = user.into();
        row.resume_text = Set(Some(text.to_owned()));
        row.resume_hash = Set(Some(new_hash.clone()));
        row.resume_updated_at = Set(Some(now));
        row.category_status = Set(AssignmentStatus::Pending);
        row.category_error = Set(None);
        row.updated_at = Set(now);
        Saved {
            user: row.update(&txn).await?,
            assign: Some(new_hash),
        }
    };
    txn.commit().await?;
    Ok(saved)
}

/// What is known of a user's resume file, without its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct FileInfo {
    pub file_name: String,
    pub content_type: String,
    pub source: ResumeSource,
    pub size_bytes: i32,
    pub pages: Option<i32>,
    pub warnings: Vec<String>,
    pub uploaded_at: chrono::DateTime<Utc>,
}

/// The columns of [`FileInfo`], as read.
type FileRow = (
    String,
    String,
    ResumeSource,
    i32,
    Option<i32>,
    StringList,
    chrono::DateTime<Utc>,
);

/// The file behind `user_id`'s resume, if it was uploaded (its bytes are not read).
pub async fn file_info(db: &DatabaseConnection, user_id: i64) -> Result<Option<FileInfo>> {
    use resume_file::Column as C;
    let row: Option<FileRow> = resume_file::Entity::find_by_id(user_id)
        .select_only()
        .columns([
            C::FileName,
            C::ContentType,
            C::Source,
            C::SizeBytes,
            C::Pages,
            C::Warnings,
            C::UploadedAt,
        ])
        .into_tuple()
        .one(db)
        .await?;
    Ok(row.map(
        |(file_name, content_type, source, size_bytes, pages, warnings, uploaded_at)| FileInfo {
            file_name,
            content_type,
            source,
            size_bytes,
            pages,
            warnings: warnings.0,
            uploaded_at,
        },
    ))
}

/// The whole file behind `user_id`'s resume, to send back to its owner.
pub async fn file(db: &DatabaseConnection, user_id: i64) -> Result<Option<resume_file::Model>> {
    Ok(resume_file::Entity::find_by_id(user_id).one(db).await?)
}

/// Records that the assignment of `user` could not be queued: FAILED with the reason, so that
/// saving the resume again retries.
pub async fn assignment_not_queued(
    db: &DatabaseConnection,
    user: user::Model,
) -> Result<user::Model> {
    let mut row: user::ActiveModel = user.into();
    row.category_status = Set(AssignmentStatus::Failed);
    row.category_error = Set(Some(
        "the assignment could not be queued; save the resume again to retry".into(),
    ));
    Ok(row.update(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resumes_are_checked_for_size_and_plain_text() {
        let ok = "Backend engineer with eight years of Rust, Go and PostgreSQL in production.";
        assert_eq!(validate(&format!("  {ok}\n")).map(str::len), Ok(ok.len()));
        for (bad, says) in [
            ("", "empty"),
            (" \n\t  ", "empty"),
            ("Too short to be a resume.", "at least 50"),
            (&format!("{ok}\u{0}"), "U+0000"),
            (&"x".repeat(MAX_BYTES + 1), "at most 100 KB"),
        ] {
            let err = validate(bad).expect_err("rejected");
            assert!(err.to_string().contains(says), "{bad:?}: {err}");
        }
        // Multi-byte text is counted in characters for the minimum, bytes for the maximum.
        assert!(validate(&"é".repeat(50)).is_ok());
        assert!(validate(&"é".repeat(49)).is_err());
    }

    #[test]
    fn the_hash_is_sha256_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
