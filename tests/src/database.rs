//! One fresh database per test.

use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database};

/// Which database a test runs against.
#[derive(Debug, Clone)]
pub enum Backend {
    /// A temporary SQLite file.
    Sqlite,
    /// A new database on the server `TEST_DATABASE_URL` points at.
    Postgres { admin_url: String },
}

impl Backend {
    /// The Postgres backend when `TEST_DATABASE_URL` is set.
    pub fn postgres_from_env() -> Option<Self> {
        std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .map(|admin_url| Self::Postgres { admin_url })
    }
}

/// A database that exists for one test and is removed afterwards.
#[derive(Debug)]
pub struct TestDatabase {
    /// What the app connects to.
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// Creates an empty database. Panics (failing the test) if Postgres is unreachable.
    pub async fn create(backend: &Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                Self {
                    url,
                    cleanup: Cleanup::Sqlite(dir),
                }
            }
            Backend::Postgres { admin_url } => {
                let name = format!("jc_test_{}", uuid::Uuid::new_v4().simple());
                let mut options = ConnectOptions::new(admin_url.clone());
                options
                    .connect_timeout(Duration::from_secs(5))
                    .acquire_timeout(Duration::from_secs(5))
                    .sqlx_logging(false);
                let admin = Database::connect(options).await.unwrap_or_else(|e| {
                    panic!("TEST_DATABASE_URL={admin_url} is set but unreachable: {e}")
                });
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                Self {
                    url: with_database(admin_url, &name),
                    cleanup: Cleanup::Postgres {
                        admin_url: admin_url.clone(),
                        name,
                    },
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Cleanup::Postgres { admin_url, name } = &self.cleanup else {
            return;
        };
        let (admin_url, name) = (admin_url.clone(), name.clone());
        // Drop runs inside the test's runtime: do the async cleanup on a thread of its own.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let admin = Database::connect(admin_url.as_str()).await?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: could not drop a test database: {dropped:?}");
        }
    }
}

/// The same server URL with another database name (keeping any query string).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let server = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn with_database_swaps_only_the_name() {
        assert_eq!(
            super::with_database("postgres://u@h:5432/test", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(
            super::with_database("postgres://u@h", "x"),
            "postgres://u@h/x"
        );
    }
}
