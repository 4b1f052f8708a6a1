//! The `jobcollector` application: CLI, configuration, HTTP server and GraphQL API.
//!
//! - [`cli`]: the commands (`serve [--no-workers]`, `worker`, `migrate`, `schema`,
//!   `pipeline [--once]`, `import FILE`, `admin grant EMAIL`).
//! - [`config`]: the typed configuration, from the environment and `.env`.
//! - [`server`]: [`server::Application`] — build, bind, serve (`/graphql`, `/graphql/ws`,
//!   files, documents, the export, alert links, `/healthz`, `/readyz`, `/metrics`), run the
//!   workers beside, shut down gracefully.
//! - [`metrics`]: the Prometheus recorder, the HTTP and GraphQL measurements, `/metrics`.
//! - [`graphql`]: the schema, one module per domain, and the limits every operation is measured
//!   against.
//! - [`pipeline`]: collector runs from the command line, with progress and a summary; JobSpy
//!   imports.
//! - [`auth`]: passwords, tokens, accounts and the login throttle.
//! - [`db`]: connecting, migrating and seeding.
//! - [`error`]: the one error type and its mapping to GraphQL error codes.
//! - [`state`], [`telemetry`]: shared state; logging.

pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod graphql;
pub mod metrics;
pub mod pipeline;
pub mod server;
pub mod state;
pub mod telemetry;
