//! Saving a resume, which starts the category assignment.

use chrono::Utc;
use entity::{AssignmentStatus, InvalidValue, user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection};
use sha2::{Digest, Sha256};

use crate::Result;

/// Fewest characters a resume may have (not counting surrounding whitespace).
pub const MIN_CHARS: usize = 50;
/// Most bytes a resume may have.
pub const MAX_BYTES: usize = 100 * 1024;

/// Checks that `text` is a plausible plain-text resume: 50 characters to 100 KB, not only
/// whitespace, no control characters other than tabs and line breaks.
pub fn validate(text: &str) -> Result<&str, InvalidValue> {
    if text.len() > MAX_BYTES {
        return Err(InvalidValue::new(
            "text",
            format!(
                "the resume is {} KB; at most {} KB of plain text is accepted",
                text.len().div_ceil(1024),
                MAX_BYTES / 1024
            ),
        ));
    }
    entity::check_plain_text("text", text)?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(InvalidValue::new("text", "the resume is empty"));
    }
    let chars = trimmed.chars().count();
    if chars < MIN_CHARS {
        return Err(InvalidValue::new(
            "text",
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

/// Stores the resume of `user` (the row the caller's request loaded). When the text changed
/// (or the last assignment failed or never started), the assignment becomes PENDING for the
/// new hash; saving the same text again changes nothing.
pub async fn save(db: &DatabaseConnection, user: user::Model, text: &str) -> Result<Saved> {
    let text = validate(text)?;
    let new_hash = hash(text);
    let unchanged = user.resume_hash.as_deref() == Some(new_hash.as_str());
    if unchanged
        && matches!(
            user.category_status,
            AssignmentStatus::Pending | AssignmentStatus::Assigned
        )
    {
        return Ok(Saved { user, assign: None });
    }
    let now = Utc::now();
    let mut row: user::ActiveModel = user.into();
    row.resume_text = Set(Some(text.to_owned()));
    row.resume_hash = Set(Some(new_hash.clone()));
    row.resume_updated_at = Set(Some(now));
    row.category_status = Set(AssignmentStatus::Pending);
    row.category_error = Set(None);
    row.updated_at = Set(now);
    Ok(Saved {
        user: row.update(db).await?,
        assign: Some(new_hash),
    })
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
