//! The API's one error type, and the one place where errors become GraphQL errors.
//!
//! Every error a client sees carries a stable `extensions.code`. Internal errors are logged
//! with their cause and shown to the client only as a generic message.

use std::sync::Arc;

use async_graphql::ErrorExtensions;

/// The stable codes clients can rely on (`extensions.code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    Validation,
    Conflict,
    RateLimited,
    Internal,
}

impl ErrorCode {
    /// The code as sent to clients.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::Validation => "VALIDATION",
            Self::Conflict => "CONFLICT",
            Self::RateLimited => "RATE_LIMITED",
            Self::Internal => "INTERNAL",
        }
    }
}

/// An error on its way to a client. It deliberately does not implement `Display` (async-graphql
/// turns anything `Display` into an error of its own, without a code), so that it reaches
/// async-graphql only through the conversion below; [`ApiError::message`] and the conversion
/// into `anyhow::Error` give the CLI and start-up a plain message.
#[derive(Debug, Clone)]
pub enum ApiError {
    /// Missing, invalid or expired credentials.
    Unauthenticated(&'static str),
    /// Signed in, but not allowed.
    Forbidden(&'static str),
    NotFound(String),
    /// Bad input: which field, and which rule it broke.
    Validation {
        field: &'static str,
        message: String,
    },
    Conflict(String),
    /// Too many attempts; try again after this many seconds.
    RateLimited {
        retry_after_secs: u64,
    },
    /// Anything else; logged in full, shown as a generic message.
    Internal(Arc<anyhow::Error>),
}

/// `Result` for resolvers and services in this crate.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// The code clients see.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Validation { .. } => ErrorCode::Validation,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// A one-line description: the code and what a client would read, or the internal cause
    /// (for operators, never for clients).
    pub fn message(&self) -> String {
        let code = self.code().as_str();
        match self {
            Self::Unauthenticated(m) | Self::Forbidden(m) => format!("{code}: {m}"),
            Self::NotFound(m) | Self::Conflict(m) => format!("{code}: {m}"),
            Self::Validation { field, message } => format!("{code}: {field}: {message}"),
            Self::RateLimited { retry_after_secs } => {
                format!("{code}: try again in {retry_after_secs} s")
            }
            Self::Internal(cause) => format!("{code}: {cause:#}"),
        }
    }

    /// Shorthand for an internal error with context.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(Arc::new(err.into()))
    }
}

impl From<ApiError> for anyhow::Error {
    fn from(err: ApiError) -> Self {
        anyhow::anyhow!(err.message())
    }
}

impl From<jobs::Error> for ApiError {
    fn from(err: jobs::Error) -> Self {
        match err {
            jobs::Error::Validation(v) => Self::Validation {
                field: v.field,
                message: v.reason,
            },
            jobs::Error::Conflict(m) => Self::Conflict(m),
            jobs::Error::NotFound(m) => Self::NotFound(m),
            jobs::Error::RateLimited {
                retry_after_secs, ..
            } => Self::RateLimited { retry_after_secs },
            jobs::Error::Database(e) => Self::internal(e),
            jobs::Error::Superseded(m) | jobs::Error::Unexpected(m) => {
                Self::internal(anyhow::anyhow!(m))
            }
        }
    }
}

impl From<entity::InvalidValue> for ApiError {
    fn from(v: entity::InvalidValue) -> Self {
        Self::Validation {
            field: v.field,
            message: v.reason,
        }
    }
}

/// The longest message sent back: messages may quote what the client sent (an id, a slug), and
/// a 500 KB id is not echoed back whole.
const MAX_MESSAGE_CHARS: usize = 300;

fn capped(message: String) -> String {
    match message.char_indices().nth(MAX_MESSAGE_CHARS) {
        None => message,
        Some((at, _)) => format!("{}…", &message[..at]),
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        let code = err.code().as_str();
        let retry_after = match err {
            ApiError::RateLimited { retry_after_secs } => Some(retry_after_secs),
            _ => None,
        };
        let (message, field) = match err {
            ApiError::Unauthenticated(m) | ApiError::Forbidden(m) => (m.to_owned(), None),
            ApiError::NotFound(m) | ApiError::Conflict(m) => (m, None),
            ApiError::Validation { field, message } => (format!("{field}: {message}"), Some(field)),
            ApiError::RateLimited { retry_after_secs } => (
                format!("too many attempts: try again in {retry_after_secs} s"),
                None,
            ),
            ApiError::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error while handling a GraphQL request");
                ("internal error".to_owned(), None)
            }
        };
        async_graphql::Error::new(capped(message)).extend_with(|_, ext| {
            ext.set("code", code);
            if let Some(field) = field {
                ext.set("field", field);
            }
            if let Some(secs) = retry_after {
                ext.set("retryAfter", secs);
            }
        })
    }
}
