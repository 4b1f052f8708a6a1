//! The work of Job Collector, independent of how it is triggered (GraphQL, CLI or a queue).
//! Plain async functions over a database handle; reads the API needs are functions here too.
//!
//! - [`accounts`]: the `users` rows as accounts (create, find, grant admin, revoke tokens,
//!   delete, export).
//! - [`alerts`]: new good matches sent once each, by email digest and signed webhook.
//! - [`catalog`]: search categories — the default seed and the admin operations on them.
//! - [`collect`]: a collector run — fan-out per category, global dedup, batch upsert, the run's
//!   records and who holds it, JobSpy imports.
//! - [`sources`]: the job boards, their parsers, and the polite HTTP policy they share.
//! - [`listings`]: reads of stored listings (pages, by id, a category's fresh ones).
//! - [`llm`]: the `Llm` trait, its providers (Bedrock, OpenAI-compatible), and the ledger and
//!   daily token budget every call goes through.
//! - [`assign`]: choosing a user's category from their resume (`AssignCategory`).
//! - [`maintenance`]: upkeep of the store — stale listings closed, closed ones past
//!   `RETENTION_DAYS` that nobody keeps deleted (the `Maintenance` job).
//! - [`matching`]: scoring a user's fresh listings (`MatchUser`), and reading their matches.
//! - [`preferences`]: a job seeker's preferences, validated and applied to listings and matches.
//! - [`resume`]: checking and saving a resume, pasted or uploaded (its assignment is queued by
//!   `queue`), and reading the text of PDF, DOCX, Markdown and text files.
//! - [`documents`]: resumes and cover letters tailored to a listing (`TailorDocument`): the
//!   LLM's edits checked against the resume, the deterministic tailoring, and rendering to
//!   Markdown, PDF and DOCX in process.
//! - [`queue`]: background jobs on apalis — payloads, storages, workers, the scheduler, and
//!   the only place follow-up jobs are queued.
//! - [`roles`]: a role read from a job title (specialty, family, level, manager or not), and
//!   the lines of a resume that state one.
//! - [`text`]: plain-text helpers every part shares (words, truncation, cleaning).
//! - [`error`]: the crate's one error type, with variants a caller can act on.
//! - [`setup_lock`]: one process at a time migrates a SQLite database.
//!
//! `queue` sits on top: it runs the work and queues what follows, and nothing else in the crate
//! depends on it (CI checks that). The work modules use each other as they need (`collect`
//! and `listings` read the `catalog`, `matching` reads `listings`), without cycles.

pub mod accounts;
pub mod alerts;
pub mod assign;
pub mod catalog;
pub mod collect;
pub mod documents;
pub mod error;
pub mod listings;
pub mod llm;
pub mod maintenance;
pub mod matching;
pub mod preferences;
pub mod queue;
pub mod resume;
pub mod roles;
pub mod setup_lock;
pub mod sources;
pub mod text;

pub use error::{Error, Result};
