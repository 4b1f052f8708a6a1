//! Connecting to the database, migrating it, and seeding it.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};

use crate::config::{Config, redact_url};

/// Opens the pool. On SQLite it also turns on WAL so readers do not wait for writers.
pub async fn connect(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(config.database_url.clone());
    options
        .max_connections(config.database_max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    let db = Database::connect(options).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot connect to DATABASE_URL={}: {e}",
            redact_url(&config.database_url)
        )
    })?;
    if config.is_sqlite() {
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    }
    Ok(db)
}

/// A SQLite database file as it was when opened: its path and identity (device and inode).
/// A running process keeps writing to the file it opened even after it is deleted or replaced,
/// and those writes are gone at the next start; readiness compares the path with this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseFile {
    path: std::path::PathBuf,
    identity: (u64, u64),
}

impl DatabaseFile {
    /// The file of a `sqlite://PATH[?…]` URL, if it is a file that exists.
    pub fn of(url: &str) -> Option<Self> {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))?;
        let path = rest.split('?').next().unwrap_or(rest);
        if path.is_empty() || path.contains(":memory:") {
            return None;
        }
        let path = std::path::PathBuf::from(path);
        let identity = identity(&path).ok()?;
        Some(Self { path, identity })
    }

    /// `Err(why)` when the path no longer leads to the file that was opened.
    pub fn check(&self) -> Result<(), String> {
        match identity(&self.path) {
            Ok(now) if now == self.identity => Ok(()),
            Ok(_) => Err(format!(
                "{} was replaced by another file",
                self.path.display()
            )),
            Err(e) => Err(format!("{}: {e}", self.path.display())),
        }
    }
}

#[cfg(unix)]
fn identity(path: &std::path::Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path)?;
    Ok((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(path: &std::path::Path) -> std::io::Result<(u64, u64)> {
    std::fs::metadata(path).map(|_| (0, 0))
}

/// Applies pending migrations, then seeds the default categories (both idempotent, and safe
/// when several processes start at once).
pub async fn prepare(config: &Config, db: &DatabaseConnection) -> anyhow::Result<()> {
    migrate(config, db).await?;
    let seeded = jobs::catalog::seed_default_categories(db).await?;
    if seeded > 0 {
        tracing::info!(seeded, "seeded default search categories");
    }
    Ok(())
}

/// Key of the Postgres advisory lock held while migrating.
const MIGRATION_LOCK_KEY: i64 = 0x6a6f_6263_6f6c; // "jobcol"

/// Applies pending migrations, one process at a time: on Postgres under an advisory lock held
/// on a dedicated connection, on SQLite under an OS file lock beside the database file (its
/// migrations are not transactional, so another process must never see one half applied). The
/// processes that waited then find nothing to do.
pub async fn migrate(config: &Config, db: &DatabaseConnection) -> anyhow::Result<()> {
    let failed = |e: DbErr| anyhow::anyhow!("migration failed: {e}");
    if db.get_database_backend() != DbBackend::Postgres {
        let _lock = jobs::setup_lock::acquire(&config.database_url).await?;
        return Migrator::up(db, None).await.map_err(failed);
    }
    let mut options = ConnectOptions::new(config.database_url.clone());
    options
        .max_connections(1)
        .min_connections(1)
        .sqlx_logging(false);
    let session = Database::connect(options).await?;
    session
        .execute_unprepared(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
        .await?;
    let result = Migrator::up(&session, None).await.map_err(failed);
    session
        .execute_unprepared(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
        .await
        .ok();
    session.close().await.ok();
    result
}
