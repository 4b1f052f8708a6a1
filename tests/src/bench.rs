//! What the bench binaries share: a scratch Postgres database prepared by the app's own
//! migrations, row counts, and a release `jobcollector` run under GNU `time` for its wall
//! time and peak RSS.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use sea_orm::{ConnectionTrait, Database};

/// The server bench databases are made on: `BENCH_DATABASE_URL`, else the local test server.
pub fn admin_url() -> String {
    std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// `JOBCOLLECTOR_BIN`, else the workspace's release build (which must exist).
pub fn release_binary() -> anyhow::Result<PathBuf> {
    let binary = std::env::var("JOBCOLLECTOR_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/jobcollector")
        });
    anyhow::ensure!(
        binary.exists(),
        "{} is missing: run `cargo build --release -p api --bin jobcollector` first",
        binary.display()
    );
    Ok(binary)
}

/// Drops and recreates database `name` on the `admin` server, migrated and seeded; returns
/// its URL.
pub async fn fresh_database(admin: &str, name: &str) -> anyhow::Result<String> {
    let db = Database::connect(admin).await?;
    db.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await?;
    db.execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    db.close().await?;
    let url = format!(
        "{}/{name}",
        admin.rsplit_once('/').map_or(admin, |(server, _)| server)
    );
    let mut vars = crate::app::test_vars(&url);
    vars.insert("DATABASE_MAX_CONNECTIONS".into(), "4".into());
    let config = api::config::Config::from_map(&vars)?;
    let conn = api::db::connect(&config).await?;
    api::db::prepare(&config, &conn).await?;
    conn.close().await?;
    Ok(url)
}

/// Drops the scratch databases.
pub async fn drop_databases(admin: &str, names: &[&str]) -> anyhow::Result<()> {
    let db = Database::connect(admin).await?;
    for name in names {
        db.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
    }
    db.close().await?;
    Ok(())
}

/// `SELECT count(*) FROM table` on the database at `url`.
pub async fn count(url: &str, table: &str) -> anyhow::Result<i64> {
    let db = Database::connect(url).await?;
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT count(*) AS n FROM {table}"),
        ))
        .await?;
    db.close().await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0))
}

/// A finished command: its output, wall time and peak resident set.
#[derive(Debug)]
pub struct Timed {
    pub output: Output,
    pub seconds: f64,
    pub peak_mb: f64,
}

/// Runs `binary args…` with `env` under GNU `/usr/bin/time`; fails unless it succeeds.
pub fn timed(binary: &Path, args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<Timed> {
    let start = Instant::now();
    let output = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(binary)
        .args(args)
        .envs(env.iter().copied())
        .output()?;
    let seconds = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    anyhow::ensure!(
        output.status.success(),
        "{} {} failed: {stderr}",
        binary.display(),
        args.join(" ")
    );
    let peak_kb: f64 = stderr
        .lines()
        .last()
        .unwrap_or("0")
        .trim()
        .parse()
        .unwrap_or(0.0);
    Ok(Timed {
        output,
        seconds,
        peak_mb: peak_kb / 1024.0,
    })
}
