//! `/metrics` read back by a Prometheus text parser: the counters move after a request, a
//! collector run, its jobs and an LLM call; the gauges count what is stored; `METRICS_TOKEN`
//! guards it; and a `worker` process serves its own on `METRICS_ADDR`.

use std::time::Duration;

use prometheus_parse::{Scrape, Value as Metric};
use serde_json::json;
use tests::boards::{serve_all, vars_for};
use tests::mock_bedrock::{BedrockReply, MockBedrock};
use tests::mock_boards::MockBoards;
use tests::{Backend, TestApp, eventually, on_each_backend, spawn_api_only, spawn_app_with};

use crate::assignment::{BACKEND, SAVE, settled};
use crate::matching::collect;
use crate::worker_process::{start_worker, worker_vars};

const TOKEN: &str = "metrics-token-for-tests";

async fn scrape_from(url: &str) -> Scrape {
    let text = reqwest::Client::new()
        .get(url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("text");
    Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("Prometheus text")
}

/// The sum of a counter or gauge over the samples whose labels include `labels`.
fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            Metric::Counter(v) | Metric::Gauge(v) | Metric::Untyped(v) => *v,
            Metric::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            Metric::Summary(_) => 0.0,
        })
        .sum()
}

async fn scrape(app: &TestApp) -> Scrape {
    scrape_from(&format!("{}/metrics", app.address)).await
}

async fn metrics_move_with_requests_runs_jobs_and_llm_calls(backend: Backend) {
    let boards = MockBoards::start().await;
    serve_all(&boards);
    let bedrock = MockBedrock::start().await;
    bedrock.respond(|call| {
        BedrockReply::scores(
            call,
            |_| json!({"score": 80, "reason": "Rust.", "matched_skills": [], "missing_skills": []}),
        )
    });
    let app = spawn_app_with(backend, |vars| {
        vars_for(&boards, vars);
        bedrock.vars(vars);
        vars.insert("LLM_PRESCORE_MIN".into(), "0".into());
        vars.insert("METRICS_TOKEN".into(), TOKEN.into());
    })
    .await;
    let anonymous = app.get("/metrics").await;
    assert_eq!(anonymous.status(), 401, "METRICS_TOKEN guards it");
    let before = scrape(&app).await;

    let admin = app.admin_token().await;
    let n = collect(&app, &admin).await;
    let alex = app.register("alex@example.com").await;
    app.data(SAVE, json!({ "t": BACKEND }), Some(&alex)).await;
    settled(&app, &alex).await;
    app.until_queues_idle(30).await;
    app.graphql(
        "query MyMatches { matchedJobs { totalCount } }",
        json!({}),
        Some(&alex),
    )
    .await;
    let after = scrape(&app).await;

    let moved = |metric: &str, labels: &[(&str, &str)]| {
        value(&after, metric, labels) - value(&before, metric, labels)
    };
    assert!(
        moved(
            "http_requests_total",
            &[("route", "/graphql"), ("method", "POST"), ("status", "200")]
        ) >= 5.0
    );
    assert!(moved("http_request_duration_seconds", &[("route", "/graphql")]) >= 5.0);
    assert!(
        moved(
            "graphql_operations_total",
            &[("operation", "MyMatches"), ("outcome", "ok")]
        ) >= 1.0
    );
    assert!(moved("jobs_total", &[("job", "run_pipeline"), ("outcome", "ok")]) >= 1.0);
    assert!(moved("jobs_total", &[("job", "match_user"), ("outcome", "ok")]) >= 1.0);
    assert!(moved("source_requests_total", &[("outcome", "ok")]) >= 1.0);
    assert!(moved("listings_fetched_total", &[]) >= n as f64);
    assert!(moved("listings_inserted_total", &[]) >= n as f64);
    assert!(
        moved(
            "llm_calls_total",
            &[
                ("purpose", "score"),
                ("provider", "bedrock"),
                ("outcome", "ok")
            ]
        ) >= 1.0
    );
    assert!(
        moved(
            "llm_tokens_total",
            &[("purpose", "score"), ("kind", "input")]
        ) >= 812.0
    );
    assert_eq!(value(&after, "users", &[]), 3.0, "admin, lister and alex");
    assert!(value(&after, "listings", &[("state", "open")]) >= n as f64);
    assert_eq!(value(&after, "matches", &[]), n as f64);
    assert_eq!(
        value(&after, "queue_depth", &[("job", "match_user")]),
        0.0,
        "idle"
    );
    assert!(
        after
            .samples
            .iter()
            .any(|s| s.metric == "queue_oldest_waiting_seconds"),
        "queue ages are exported"
    );
    assert!(
        after
            .samples
            .iter()
            .filter(|s| s.metric == "http_requests_total")
            .all(|s| s
                .labels
                .get("route")
                .is_some_and(|r| r.starts_with('/') || r == "unmatched")),
        "routes are patterns, not raw paths"
    );
    app.stop().await.expect("stops");
}

async fn a_worker_process_serves_its_own_metrics(backend: Backend) {
    let boards = MockBoards::start().await;
    serve_all(&boards);
    let app = spawn_api_only(backend, |vars| vars_for(&boards, vars)).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("addr")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut vars = worker_vars(
        &app,
        &boards,
        &[("METRICS_ADDR", &addr), ("METRICS_TOKEN", TOKEN)],
    );
    vars.insert("RUST_LOG".into(), "warn".into());
    let mut worker = start_worker(&vars);
    let admin = app.admin_token().await;
    let id = app.start_run(&admin).await;
    app.until_run_ended(&admin, &id, 60).await;
    let url = format!("http://{addr}/metrics");
    eventually(
        "the worker counts its run",
        Duration::from_secs(20),
        async || {
            let s = scrape_from(&url).await;
            let done = value(
                &s,
                "jobs_total",
                &[("job", "run_pipeline"), ("outcome", "ok")],
            );
            if done >= 1.0 {
                Ok(())
            } else {
                Err(format!("{done} runs"))
            }
        },
    )
    .await;
    let refused = reqwest::get(&url).await.expect("answer");
    assert_eq!(refused.status(), 401);
    worker.kill().ok();
    worker.wait().ok();
    app.stop().await.expect("stops");
}

on_each_backend!(
    metrics_move_with_requests_runs_jobs_and_llm_calls,
    a_worker_process_serves_its_own_metrics,
);
