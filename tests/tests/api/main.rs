//! End-to-end tests: the real app over HTTP, on SQLite always and on Postgres when
//! `TEST_DATABASE_URL` is set. One test binary; modules by domain.

mod account;
mod accounts;
mod alerts;
mod assignment;
mod browser;
mod categories;
mod cli;
mod collect;
mod collect_faults;
mod collect_optin;
mod documents;
mod edge;
mod hardening_auth;
mod hardening_collect;
mod hardening_http;
mod http;
mod identity;
mod import;
mod llm;
mod llm_cost;
mod maintenance;
mod matching;
mod metrics;
mod openai;
mod preferences;
mod progress;
mod queue;
mod redis_queue;
mod resumes;
mod runs;
mod schema;
mod seeding;
mod services;
mod store;
mod worker_process;
