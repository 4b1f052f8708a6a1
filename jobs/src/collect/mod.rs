//! A collector run: fan out per category, dedup globally while streaming to the store in
//! chunks, close what is gone.
//!
//! - [`runs`]: the `pipeline_runs` row of a run: asked for, read, written by its holder.
//! - [`lease`]: which worker holds a run (claim, heartbeat, release, fail, stale runs).
//! - [`dedup`]: merging listings by fingerprint, holding keys rather than listings.
//! - [`store`]: the chunked store of openings, their postings and category links.
//! - [`closing`]: closing listings gone from their board or not seen for the TTL.
//! - [`import`]: JobSpy CSV / JSON Lines exports through the same dedup and upsert.
//! - [`health`]: how each source fared across runs, and which ones a run skips.
//! - [`run`]: the run itself, with a [`Progress`] observer for terminals.

pub mod closing;
pub mod dedup;
pub mod health;
pub mod import;
pub mod lease;
pub mod run;
pub mod runs;
pub mod store;

pub use run::{CollectConfig, Progress, RunSummary, SilentProgress, SourceStats, collect};
