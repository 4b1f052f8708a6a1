//! Prometheus metrics: one recorder per process (installed on first use), the HTTP middleware
//! that counts requests, the GraphQL operation label, and [`render`] for `GET /metrics` (on
//! the API, and on `METRICS_ADDR` beside a `worker` process).
//!
//! What is measured, where:
//! - `http_requests_total{route,method,status}`, `http_request_duration_seconds{route,method}`
//!   ([`track_http`]; the route is the matched pattern, never the raw path);
//! - `graphql_operations_total{operation,outcome}`,
//!   `graphql_operation_duration_seconds{operation}` (the handler; [`operation_label`] keeps
//!   the operation names bounded);
//! - `jobs_total{job,outcome}`, `job_duration_seconds{job}`, `job_retries_total{job}`
//!   (`jobs::queue::workers`); `queue_depth{job}`, `queue_oldest_waiting_seconds{job}` (at
//!   scrape time, SQL queues only);
//! - `source_requests_total{source,outcome}`, `source_request_duration_seconds{source}`
//!   (`jobs::sources::http`); `listings_fetched_total{source}`, `listings_inserted_total`
//!   (at the end of each collector run, `jobs::queue::trigger`);
//! - `listings_closed_total{by="maintenance"}`, `listings_deleted_total`,
//!   `queue_jobs_pruned_total` (the `Maintenance` job, `jobs::queue::workers`);
//! - `llm_calls_total{purpose,provider,outcome}`, `llm_tokens_total{purpose,provider,kind}`,
//!   `llm_call_duration_seconds{purpose,provider}` (`jobs::llm::ledger`);
//! - gauges `listings{state}`, `users`, `matches` (at scrape time).

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets, seconds: 5 ms to 2 min.
const BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];
/// Distinct operation names kept as labels; later ones are counted as `other`.
const MAX_OPERATION_NAMES: usize = 200;

/// The process's recorder, installed on first use (several apps in one process, as in the
/// tests, share it).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS)
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics shows its own");
        }
        handle
    })
}

/// The label of a GraphQL operation: its name when it is a plain identifier of at most 64
/// characters and one of the first [`MAX_OPERATION_NAMES`] seen, `anonymous` without a name,
/// `other` otherwise — so no client can grow the label set without bound.
pub fn operation_label(name: Option<&str>) -> String {
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return "anonymous".into();
    };
    if name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return "other".into();
    }
    let mut seen = SEEN
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if seen.contains(name) || seen.len() < MAX_OPERATION_NAMES {
        seen.insert(name.to_owned());
        name.to_owned()
    } else {
        "other".into()
    }
}

/// The name an operation gives itself in its document (`query MyMatches { … }`), for requests
/// that send no `operationName`: the first operation's, when it has one.
pub fn name_in(document: &str) -> Option<&str> {
    let mut rest = document.trim_start();
    while let Some(comment) = rest.strip_prefix('#') {
        rest = comment.split_once('\n').map_or("", |(_, r)| r).trim_start();
    }
    let rest = ["query", "mutation", "subscription"]
        .iter()
        .find_map(|k| rest.strip_prefix(k))?;
    let rest = rest.trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// Counts every HTTP request by its matched route, method and status, with its latency.
pub async fn track_http(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Records one GraphQL operation: `outcome` is `ok` or the first error's code.
pub fn record_operation(label: String, outcome: String, started: Instant) {
    metrics::counter!("graphql_operations_total", "operation" => label.clone(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!("graphql_operation_duration_seconds", "operation" => label)
        .record(started.elapsed().as_secs_f64());
}

/// The metrics as Prometheus text, after refreshing the gauges read from the database and the
/// queue.
pub async fn render(db: &sea_orm::DatabaseConnection, queue: &jobs::queue::Queue) -> String {
    let handle = handle();
    match jobs::listings::counts(db).await {
        Ok(c) => {
            metrics::gauge!("listings", "state" => "open").set(c.open as f64);
            metrics::gauge!("listings", "state" => "closed").set(c.closed as f64);
            metrics::gauge!("users").set(c.users as f64);
            metrics::gauge!("matches").set(c.matches as f64);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: counting rows failed"),
    }
    match queue.depths().await {
        Ok(depths) => {
            for d in depths {
                metrics::gauge!("queue_depth", "job" => d.job.clone()).set(d.waiting as f64);
                metrics::gauge!("queue_oldest_waiting_seconds", "job" => d.job)
                    .set(d.oldest_waiting_secs as f64);
            }
        }
        Err(e) => tracing::debug!(error = %e, "metrics: no queue depths"),
    }
    handle.run_upkeep();
    handle.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_stay_bounded() {
        assert_eq!(operation_label(None), "anonymous");
        assert_eq!(operation_label(Some("")), "anonymous");
        assert_eq!(operation_label(Some("MyMatches")), "MyMatches");
        assert_eq!(operation_label(Some("with space")), "other");
        assert_eq!(operation_label(Some(&"x".repeat(65))), "other");
        for i in 0..MAX_OPERATION_NAMES {
            operation_label(Some(&format!("Op{i}")));
        }
        assert_eq!(operation_label(Some("OneTooMany")), "other");
        assert_eq!(
            operation_label(Some("MyMatches")),
            "MyMatches",
            "seen names stay"
        );
    }
}
