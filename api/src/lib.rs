//! The `jobcollector` application: CLI, configuration, HTTP server and GraphQL API.
//!
//! - [`cli`]: the commands (`serve`, `migrate`, `schema`, `admin grant`).
//! - [`config`]: the typed configuration, from the environment and `.env`.
//! - [`server`]: [`server::Application`] — build, bind, serve, shut down gracefully.
//! - [`graphql`]: the schema, one module per domain.
//! - [`pipeline`]: collector runs from the command line, with progress and a summary.
//! - [`auth`]: passwords, tokens and accounts.
//! - [`db`]: connecting, migrating and seeding.
//! - [`error`]: the one error type and its mapping to GraphQL error codes.
//! - [`state`], [`telemetry`]: shared state; logging.

pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod graphql;
pub mod pipeline;
pub mod server;
pub mod state;
pub mod telemetry;
