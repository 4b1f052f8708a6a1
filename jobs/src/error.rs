//! One error type for everything in `jobs`; the API turns it into client errors in one place.

use entity::InvalidValue;
use sea_orm::{DbErr, SqlErr};

/// What went wrong, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input broke a rule; the message is safe to show.
    #[error(transparent)]
    Validation(#[from] InvalidValue),
    /// The thing already exists (a duplicate slug, email, …).
    #[error("{0}")]
    Conflict(String),
    /// Nothing has that identifier.
    #[error("{0}")]
    NotFound(String),
    /// Too many requests of a kind; it may be asked again after `retry_after_secs`.
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    /// This worker no longer holds the run it was working on: another took it over after this
    /// one's heartbeat stopped. Nothing it would still write may land.
    #[error("superseded: {0}")]
    Superseded(String),
    /// Something that should not happen (a panicked task); the context is for the logs.
    #[error("unexpected: {0}")]
    Unexpected(String),
    /// The database failed; details are for the logs only.
    #[error("database error: {0}")]
    Database(#[source] DbErr),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<DbErr> for Error {
    fn from(err: DbErr) -> Self {
        Self::Database(err)
    }
}

impl Error {
    /// Maps a unique-constraint violation to [`Error::Conflict`] with `message`; any other
    /// database error stays [`Error::Database`].
    pub fn conflict_on_unique(err: DbErr, message: impl Into<String>) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::Conflict(message.into()),
            _ => Self::Database(err),
        }
    }
}
