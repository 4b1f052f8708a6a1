//! The work of Job Collector, independent of how it is triggered (GraphQL, CLI or a queue).
//!
//! - [`catalog`]: search categories — the default seed and the admin operations on them.
//! - [`collect`]: a collector run — fan-out per category, global dedup, batch upsert.
//! - [`error`]: the crate's one error type, with variants a caller can act on.
//! - [`queue`]: background jobs on apalis — the collector run, workers, one run at a time.
//! - [`setup_lock`]: one process at a time migrates a SQLite database.
//! - [`sources`]: the job boards, their parsers, and the polite HTTP policy they share.
//!
//! Later parts (sources, collect runs, LLM, matching, queue) live beside these, each with its
//! own typed config.

pub mod accounts;
pub mod assign;
pub mod catalog;
pub mod collect;
pub mod error;
pub mod listings;
pub mod llm;
pub mod matching;
pub mod queue;
pub mod resume;
pub mod setup_lock;
pub mod sources;
pub mod text;

pub use error::{Error, Result};
