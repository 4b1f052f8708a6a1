//! One process at a time sets up a SQLite database.
//!
//! SQLite migrations (ours and apalis's) are not transactional: a second process starting at
//! the same moment could see a table without its index, or run a migration twice. Setup on
//! SQLite therefore runs under an OS file lock beside the database file (Postgres setup uses
//! an advisory lock instead).

use std::fs::File;

use crate::{Error, Result};

/// Waits for the setup lock of the SQLite database at `database_url`; released when the
/// returned file is dropped or the process dies. `None` for in-memory and non-SQLite URLs.
pub async fn acquire(database_url: &str) -> Result<Option<File>> {
    let Some(path) = sqlite_file(database_url) else {
        return Ok(None);
    };
    let path = format!("{path}.setup-lock");
    tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::Unexpected(format!("cannot open the setup lock {path}: {e}")))?;
        file.lock()
            .map_err(|e| Error::Unexpected(format!("cannot lock {path}: {e}")))?;
        Ok(Some(file))
    })
    .await
    .map_err(|e| Error::Unexpected(format!("the setup lock task failed: {e}")))?
}

/// The file of a SQLite URL (`sqlite://PATH?…` or `sqlite:PATH`); `None` for in-memory ones.
fn sqlite_file(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.contains(":memory:")).then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::sqlite_file;

    #[test]
    fn the_lock_sits_beside_the_database_file() {
        assert_eq!(
            sqlite_file("sqlite://data/jobs.db?mode=rwc").as_deref(),
            Some("data/jobs.db")
        );
        assert_eq!(
            sqlite_file("sqlite:///tmp/x.db").as_deref(),
            Some("/tmp/x.db")
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://u@h/db"), None);
    }
}
