//! Connecting to the database, migrating it, and seeding it.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

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

/// Applies pending migrations, then seeds the default categories (both idempotent).
pub async fn prepare(db: &DatabaseConnection) -> anyhow::Result<()> {
    migrate(db).await?;
    let seeded = jobs::catalog::seed_default_categories(db).await?;
    if seeded > 0 {
        tracing::info!(seeded, "seeded default search categories");
    }
    Ok(())
}

/// Applies pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None)
        .await
        .map_err(|e| anyhow::anyhow!("migration failed: {e}"))
}
