//! The work of Job Collector, independent of how it is triggered (GraphQL, CLI or a queue).
//!
//! - [`catalog`]: search categories — the default seed and the admin operations on them.
//! - [`error`]: the crate's one error type, with variants a caller can act on.
//!
//! Later parts (sources, collect runs, LLM, matching, queue) live beside these, each with its
//! own typed config.

pub mod catalog;
pub mod error;

pub use error::{Error, Result};
