//! Test support for the integration tests in `tests/api/`.
//!
//! - [`database`]: a fresh database per test — a temporary SQLite file always, or a new
//!   Postgres database (dropped afterwards) when `TEST_DATABASE_URL` is set.
//! - [`app`]: [`app::spawn_app`] starts the real application on a random port against such a
//!   database, and [`app::TestApp`] talks GraphQL to it over HTTP.
//!
//! - [`bench`]: what the bench binaries in `src/bin/` share (scratch databases, timed runs).
//! - [`boards`]: every keyless board served from fixtures, and the app variables for it.
//! - [`mock_boards`]: the job boards replayed from fixtures on 127.0.0.1, with scripted faults.
//! - [`mock_bedrock`]: Bedrock's Converse API on 127.0.0.1, scripted per test.
//! - [`mock_openai`]: an OpenAI-compatible Chat Completions server on 127.0.0.1, scripted per
//!   test.
//! - [`mock_smtp`]: an SMTP sink on 127.0.0.1 that records every message and decodes it back.
//! - [`mock_webhook`]: a webhook receiver on 127.0.0.1 with scripted statuses and delays, and
//!   [`mock_webhook::verify`] for the signature.
//! - [`quality`]: the labeled evaluation sets of `fixtures/quality/` (listings, resumes,
//!   grades), loaded for `bench-quality` and `bench-llm-cost`.
//! - [`redis`]: the test Redis from `TEST_REDIS_URL`, and the cleanup of a test's queue keys
//!   (the harness gives every app on Redis a prefix of its own and deletes it afterwards).
//! - [`wait`]: [`eventually`], the one way tests wait for a condition.
//! - [`ws`]: a graphql-transport-ws client for `/graphql/ws`.
//! - [`logs`]: `TEST_LOG=1` (or a filter such as `TEST_LOG=jobs=debug`) shows the app's logs.
//!
//! Postgres variants are skipped only when `TEST_DATABASE_URL` is unset; when it is set but
//! unreachable they fail.

pub mod app;
pub mod bench;
pub mod boards;
pub mod database;
pub mod logs;
pub mod mock_bedrock;
pub mod mock_boards;
pub mod mock_openai;
pub mod mock_smtp;
pub mod mock_webhook;
pub mod quality;
pub mod redis;
pub mod wait;
pub mod ws;

pub use app::{TestApp, spawn_api_only, spawn_app, spawn_app_with};
pub use database::{Backend, TestDatabase};
pub use wait::eventually;

/// Runs an async test body once per backend: `sqlite` always, `postgres` when
/// `TEST_DATABASE_URL` is set.
///
/// ```ignore
/// async fn registers(backend: Backend) { … }
/// on_each_backend!(registers);
/// ```
#[macro_export]
macro_rules! on_each_backend {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    match $crate::Backend::postgres_from_env() {
                        Some(backend) => super::$name(backend).await,
                        None => eprintln!("TEST_DATABASE_URL is unset: Postgres variant skipped"),
                    }
                }
            }
        )+
    };
}
