//! A collector run: fan out per category, dedup globally, batch-upsert.
//!
//! - [`runs`]: the `pipeline_runs` row of a run: asked for, read, written by its holder.
//! - [`lease`]: which worker holds a run (claim, heartbeat, release, fail, stale runs).
//! - [`dedup`]: merging listings by normalized (title, company).
//! - [`store`]: chunked `INSERT … ON CONFLICT DO NOTHING` of listings and links.
//! - [`import`]: JobSpy CSV / JSON Lines exports through the same dedup and upsert.
//! - [`health`]: how each source fared across runs, and which ones a run skips.
//! - [`run`]: the run itself, with a [`Progress`] observer for terminals.

pub mod dedup;
pub mod health;
pub mod import;
pub mod lease;
pub mod run;
pub mod runs;
pub mod store;

pub use run::{CollectConfig, Progress, RunSummary, SilentProgress, SourceStats, collect};
