//! Schema migrations, applied by `jobcollector migrate` and at start-up.
//!
//! Append-only: once a migration has landed on main it is never edited; a change to the
//! schema is a new migration named `mYYYYMMDD_NNNNNN_verb_object`. Every migration runs on
//! Postgres and on SQLite.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_create_core_tables;
mod m20261126_000002_limit_active_runs;
mod m20261126_000003_create_scheduler_slots;
mod m20261201_000004_track_run_liveness;
mod m20261202_000005_create_source_health;
mod m20261202_000006_identify_openings;
mod m20261203_000007_create_resume_files;
mod m20261204_000008_create_tailored_documents;
mod m20261205_000009_create_llm_ledger;
mod m20261206_000010_add_preferences_and_token_versions;
mod m20261207_000011_create_alerts;

/// All migrations in order.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_core_tables::Migration),
            Box::new(m20261126_000002_limit_active_runs::Migration),
            Box::new(m20261126_000003_create_scheduler_slots::Migration),
            Box::new(m20261201_000004_track_run_liveness::Migration),
            Box::new(m20261202_000005_create_source_health::Migration),
            Box::new(m20261202_000006_identify_openings::Migration),
            Box::new(m20261203_000007_create_resume_files::Migration),
            Box::new(m20261204_000008_create_tailored_documents::Migration),
            Box::new(m20261205_000009_create_llm_ledger::Migration),
            Box::new(m20261206_000010_add_preferences_and_token_versions::Migration),
            Box::new(m20261207_000011_create_alerts::Migration),
        ]
    }
}
