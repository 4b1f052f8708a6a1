//! SeaORM entities and the domain values their columns hold.
//!
//! - [`domain`]: newtypes with rules (`CategorySlug`, `Email`, `JobHash`, `Fingerprint`,
//!   `Score`), built only by parsing, and the small JSON-column types (`StringList`,
//!   `RunErrors`).
//! - [`preferences`]: [`Preferences`], a user's wishes of a listing (a JSON column).
//! - [`enums`]: the closed sets stored as short strings (roles, statuses, methods, origins).
//! - one module per table: [`search_category`], [`job_listing`], [`listing_posting`],
//!   [`job_listing_category`], [`user`], [`user_job_match`], [`pipeline_run`],
//!   [`source_health`], [`resume_file`], [`tailored_document`], [`llm_call`] (the LLM ledger),
//!   [`llm_token_day`] (the daily token budget's count), [`user_alert`] (a user's alert state).
//!
//! Every table works on both Postgres and SQLite: enums are text, lists are JSON, times are
//! timestamps with time zone.

pub mod domain;
pub mod enums;
pub mod job_listing;
pub mod job_listing_category;
pub mod listing_posting;
pub mod llm_call;
pub mod llm_token_day;
pub mod pipeline_run;
pub mod preferences;
pub mod resume_file;
pub mod search_category;
pub mod source_health;
pub mod tailored_document;
pub mod user;
pub mod user_alert;
pub mod user_job_match;

pub use domain::{
    CategorySlug, Email, Fingerprint, InvalidValue, JobHash, RunErrorEntry, RunErrors, Score,
    StringList, check_plain_text,
};
pub use enums::{
    AssignmentMethod, AssignmentStatus, CategoryOrigin, DocumentKind, DocumentStatus, MatchStatus,
    ResumeSource, Role, RunStatus, RunTrigger, ScoreMethod,
};
pub use preferences::{AlertFrequency, Preferences};
