//! Faults per source during a run: each is retried or isolated as the policy says, recorded in
//! the run, and never loses what other sources delivered.

use std::time::Duration;

use entity::{RunStatus, job_listing};
use jobs::collect::{RunSummary, SilentProgress};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tests::boards::serve_all;
use tests::mock_boards::{MockBoards, Recorded, Reply};
use tests::{Backend, TestApp};

use crate::collect::app_on;

async fn run(app: &TestApp) -> RunSummary {
    api::pipeline::run_once(&app.db, &app.config, &SilentProgress)
        .await
        .expect("the run itself completes")
}

async fn stored_from(app: &TestApp, source: &str) -> u64 {
    job_listing::Entity::find()
        .filter(job_listing::Column::Source.eq(source))
        .count(&app.db)
        .await
        .expect("count")
}

fn errors_of<'a>(summary: &'a RunSummary, source: &str) -> Vec<&'a str> {
    summary
        .errors
        .iter()
        .filter(|e| e.source == source)
        .map(|e| e.message.as_str())
        .collect()
}

fn gap(requests: &[Recorded]) -> Duration {
    requests[1].at.duration_since(requests[0].at)
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_and_the_board_is_stored() {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    mock.script(
        "/v1/boards/northwind/jobs",
        vec![Reply::status(429, "slow down").header("retry-after", "1")],
    );
    let app = app_on(Backend::Sqlite, &mock, &[]).await;
    let summary = run(&app).await;
    assert_eq!(summary.status, RunStatus::Succeeded, "{:?}", summary.errors);
    let requests = mock.requests_to("/v1/boards/northwind/jobs");
    assert_eq!(requests.len(), 2);
    assert!(
        gap(&requests) >= Duration::from_millis(900),
        "Retry-After: 1 was honoured: {:?}",
        gap(&requests)
    );
    assert_eq!(stored_from(&app, "greenhouse").await, 3);
}

#[tokio::test]
async fn a_retry_after_longer_than_the_cap_gives_up_at_once() {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    mock.serve(
        "/v1/boards/northwind/jobs",
        Reply::status(429, "").header("retry-after", "3600"),
    );
    let app = app_on(Backend::Sqlite, &mock, &[]).await;
    let summary = run(&app).await;
    assert_eq!(summary.status, RunStatus::Partial);
    assert_eq!(
        mock.requests_to("/v1/boards/northwind/jobs").len(),
        1,
        "no hour-long wait, no hammering"
    );
    assert!(
        errors_of(&summary, "greenhouse")[0].contains("429"),
        "{:?}",
        summary.errors
    );
    assert!(
        stored_from(&app, "lever").await > 0,
        "other sources still land"
    );
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_until_success() {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    mock.script(
        "/v0/postings/quarry-labs",
        vec![
            Reply::status(503, "unavailable"),
            Reply::status(502, "bad gateway"),
        ],
    );
    let app = app_on(Backend::Sqlite, &mock, &[]).await;
    let summary = run(&app).await;
    assert_eq!(summary.status, RunStatus::Succeeded, "{:?}", summary.errors);
    assert_eq!(mock.requests_to("/v0/postings/quarry-labs").len(), 3);
    assert_eq!(stored_from(&app, "lever").await, 2);
}

#[tokio::test]
async fn a_timeout_is_retried_then_recorded_without_stopping_the_others() {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    mock.serve(
        "/posting-api/job-board/ridgeline",
        Reply::fixture("ashby/job_board.json").delayed(Duration::from_secs(3)),
    );
    let app = app_on(
        Backend::Sqlite,
        &mock,
        &[
            ("SOURCES_TIMEOUT_SECONDS", "1"),
            ("SOURCES_MAX_RETRIES", "1"),
        ],
    )
    .await;
    let summary = run(&app).await;
    assert_eq!(summary.status, RunStatus::Partial);
    assert_eq!(
        mock.requests_to("/posting-api/job-board/ridgeline").len(),
        2,
        "one retry"
    );
    let errors = errors_of(&summary, "ashby");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains("board ridgeline") && errors[0].contains("timed out"),
        "{errors:?}"
    );
    assert_eq!(stored_from(&app, "ashby").await, 0);
    assert_eq!(
        stored_from(&app, "greenhouse").await,
        3,
        "nothing already fetched is lost"
    );
    let row = jobs::collect::runs::get(&app.db, summary.run_id)
        .await
        .expect("run");
    assert_eq!(row.status, RunStatus::Partial);
    assert_eq!(row.errors.0.len(), 1);
    assert_eq!(row.errors.0[0].source, "ashby");
}

#[tokio::test]
async fn a_malformed_body_is_recorded_and_the_rest_lands() {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    mock.serve(
        "/api/accounts/harbor",
        Reply::status(200, "<html><body>Down for maintenance</body></html>"),
    );
    mock.serve(
        "/api/job-board-api?page=2",
        Reply::json(r#"{"data": "not a list"}"#),
    );
    let app = app_on(Backend::Sqlite, &mock, &[]).await;
    let summary = run(&app).await;
    assert_eq!(summary.status, RunStatus::Partial);
    assert!(
        errors_of(&summary, "workable")[0].contains("malformed"),
        "{:?}",
        summary.errors
    );
    assert!(
        errors_of(&summary, "arbeitnow")
            .iter()
            .all(|e| e.contains("malformed")),
        "{:?}",
        summary.errors
    );
    assert_eq!(
        mock.requests_to("/api/accounts/harbor").len(),
        1,
        "a malformed body is not retried"
    );
    assert_eq!(stored_from(&app, "workable").await, 0);
    assert_eq!(stored_from(&app, "lever").await, 2);
}

#[tokio::test]
async fn a_403_challenge_page_degrades_the_source_for_the_rest_of_the_run() {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    mock.serve("/api/remote-jobs", Reply::status(403, "<!DOCTYPE html><title>Just a moment...</title><script src=\"/cdn-cgi/challenge-platform/h/b\"></script>"));
    mock.serve(
        "/api/remote-jobs?search=backend+developer&limit=50",
        Reply::status(403, "<title>Just a moment...</title>"),
    );
    let app = app_on(Backend::Sqlite, &mock, &[("COLLECT_CONCURRENCY", "1")]).await;
    let summary = run(&app).await;
    assert_eq!(summary.status, RunStatus::Partial);
    assert_eq!(
        mock.requests_to("/api/remote-jobs").len(),
        1,
        "blocked once, never asked again in this run"
    );
    let errors = errors_of(&summary, "remotive");
    assert_eq!(
        errors.len(),
        8,
        "every search term of every category is recorded"
    );
    assert!(
        errors[0].contains("blocked") && errors[0].contains("403"),
        "{errors:?}"
    );
    assert!(
        errors[1..].iter().all(|e| e.contains("degraded")),
        "{errors:?}"
    );
    assert!(
        summary
            .errors
            .iter()
            .filter(|e| e.source == "remotive")
            .all(|e| e.category.is_some())
    );
    assert!(stored_from(&app, "arbeitnow").await > 0);
}

#[tokio::test]
async fn an_unknown_board_is_not_found_and_the_others_land() {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    let boards = format!("{},lever:ghost-company", tests::boards::COMPANY_BOARDS);
    let app = app_on(Backend::Sqlite, &mock, &[("COMPANY_BOARDS", &boards)]).await;
    let summary = run(&app).await;
    assert_eq!(summary.status, RunStatus::Partial);
    assert_eq!(
        errors_of(&summary, "lever"),
        ["board ghost-company: not found: lever site ghost-company"]
    );
    assert_eq!(
        mock.requests_to("/v0/postings/ghost-company").len(),
        1,
        "a 404 is not retried"
    );
    assert_eq!(stored_from(&app, "lever").await, 2);
}

#[tokio::test]
async fn when_every_source_fails_the_run_fails_and_the_command_says_so() {
    let mock = MockBoards::start().await;
    mock.serve("/v1/boards/northwind/jobs", Reply::status(500, "boom"));
    mock.serve("/api", Reply::status(500, "boom"));
    let app = app_on(
        Backend::Sqlite,
        &mock,
        &[
            ("JOB_SOURCES", "greenhouse,remoteok"),
            ("SOURCES_MAX_RETRIES", "0"),
        ],
    )
    .await;
    let summary = run(&app).await;
    assert_eq!(summary.status, RunStatus::Failed);
    assert_eq!(summary.errors.len(), 2);
    let command = api::cli::execute(
        api::cli::Command::Pipeline { once: true },
        app.config.clone(),
    )
    .await;
    let err = command.expect_err("non-zero exit when every source failed");
    assert!(err.to_string().contains("every source failed"), "{err}");
}

#[tokio::test]
async fn requests_to_one_host_are_paced_by_the_minimum_interval() {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    let app = app_on(
        Backend::Sqlite,
        &mock,
        &[
            ("JOB_SOURCES", "arbeitnow,hackernews"),
            ("SOURCES_MIN_INTERVAL_MS", "200"),
        ],
    )
    .await;
    let summary = run(&app).await;
    assert_eq!(summary.status, RunStatus::Succeeded, "{:?}", summary.errors);
    let mut times: Vec<_> = mock.requests().iter().map(|r| r.at).collect();
    times.sort();
    assert_eq!(
        times.len(),
        4,
        "two arbeitnow pages, the hackernews search and thread"
    );
    for pair in times.windows(2) {
        let gap = pair[1].duration_since(pair[0]);
        assert!(
            gap >= Duration::from_millis(150),
            "requests to one host at least ~200 ms apart, got {gap:?}"
        );
    }
}

/// Every keyless source: its name, its first route in the standard replay, and how many of its
/// listings a clean run stores (recruitee's offers match no default category).
const ROUTES: &[(&str, &str, u64)] = &[
    ("greenhouse", "/v1/boards/northwind/jobs", 3),
    ("lever", "/v0/postings/quarry-labs", 2),
    ("ashby", "/posting-api/job-board/ridgeline", 1),
    ("workable", "/api/accounts/harbor", 1),
    (
        "smartrecruiters",
        "/v1/companies/Meridian/postings?limit=100&offset=0",
        2,
    ),
    ("recruitee", "/api/offers/", 0),
    ("remoteok", "/api", 1),
    (
        "remotive",
        "/api/remote-jobs?search=backend+developer&limit=50",
        2,
    ),
    ("arbeitnow", "/api/job-board-api?page=1", 3),
    ("hackernews", "/api/v1/search_by_date", 2),
];

#[tokio::test]
async fn every_source_retries_a_server_error_and_then_stores_its_listings() {
    for (source, route, expected) in ROUTES {
        let mock = MockBoards::start().await;
        serve_all(&mock);
        mock.script(
            route,
            vec![Reply::status(503, "busy").header("retry-after", "0")],
        );
        let app = app_on(Backend::Sqlite, &mock, &[]).await;
        let summary = run(&app).await;
        assert_eq!(
            summary.status,
            RunStatus::Succeeded,
            "{source}: {:?}",
            summary.errors
        );
        assert_eq!(
            stored_from(&app, source).await,
            *expected,
            "{source} stored after its retry"
        );
        let path = route.split('?').next().unwrap_or(route);
        let query = route.split_once('?').map(|(_, q)| q);
        let hits = mock
            .requests_to(path)
            .iter()
            .filter(|r| query.is_none_or(|q| r.query == q))
            .count();
        assert_eq!(hits, 2, "{source}: one failure, one retry");
    }
}

#[tokio::test]
async fn every_source_records_a_malformed_body_and_the_others_still_land() {
    for (source, route, _) in ROUTES {
        let mock = MockBoards::start().await;
        serve_all(&mock);
        mock.serve(
            route,
            Reply::status(200, "<html><body>We'll be right back</body></html>"),
        );
        let app = app_on(Backend::Sqlite, &mock, &[]).await;
        let summary = run(&app).await;
        assert_eq!(summary.status, RunStatus::Partial, "{source}");
        let errors = errors_of(&summary, source);
        assert!(
            !errors.is_empty() && errors.iter().all(|e| e.contains("malformed")),
            "{source}: {errors:?}"
        );
        assert!(
            summary.errors.iter().all(|e| e.source == *source),
            "only {source} failed: {:?}",
            summary.errors
        );
        assert_eq!(stored_from(&app, source).await, 0, "{source}");
        assert!(
            stored_from(
                &app,
                if *source == "greenhouse" {
                    "lever"
                } else {
                    "greenhouse"
                }
            )
            .await
                > 0,
            "{source}: the others land"
        );
    }
}

#[tokio::test]
async fn a_refused_connection_is_recorded_with_its_cause() {
    let mock = MockBoards::start().await;
    let app = app_on(
        Backend::Sqlite,
        &mock,
        &[
            ("JOB_SOURCES", "remoteok"),
            ("REMOTEOK_BASE_URL", "http://127.0.0.1:1"),
            ("SOURCES_MAX_RETRIES", "0"),
        ],
    )
    .await;
    let summary = run(&app).await;
    assert_eq!(summary.status, RunStatus::Failed);
    let message = &summary.errors[0].message;
    assert!(
        message.to_lowercase().contains("connection refused"),
        "the cause is kept: {message}"
    );
}

#[tokio::test]
async fn a_host_failing_again_and_again_is_skipped_for_the_rest_of_the_run() {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    mock.serve("/api/remote-jobs", Reply::status(503, "busy"));
    mock.serve(
        "/api/remote-jobs?search=backend+developer&limit=50",
        Reply::status(503, "busy"),
    );
    let app = app_on(Backend::Sqlite, &mock, &[("COLLECT_CONCURRENCY", "1")]).await;
    let summary = run(&app).await;
    assert_eq!(summary.status, RunStatus::Partial);
    // 8 searches × 4 attempts without the breaker; 5 failed attempts open it.
    assert_eq!(
        mock.requests_to("/api/remote-jobs").len(),
        5,
        "nothing reaches the host once the breaker is open"
    );
    let errors = errors_of(&summary, "remotive");
    assert_eq!(errors.len(), 1, "one error for the source: {errors:?}");
    assert!(
        errors[0].contains("skipped for the rest of the run")
            && errors[0].contains("5 consecutive failed requests")
            && errors[0].contains("503"),
        "{errors:?}"
    );
    assert!(stored_from(&app, "arbeitnow").await > 0, "the others land");
}

#[tokio::test]
async fn a_run_against_refused_connections_everywhere_ends_in_seconds() {
    // A closed port per source: every host refuses, as on a machine without a network.
    // Sockets bound but never listening: a connection to them is refused, and no other test
    // can take their ports while they are held (a port merely freed could be reused).
    let mut ports = Vec::new();
    let mut held = Vec::new();
    for _ in jobs::sources::SourceName::ALL {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind("127.0.0.1:0".parse().expect("addr"))
            .expect("bind");
        ports.push(socket.local_addr().expect("addr").port());
        held.push(socket);
    }
    let mock = MockBoards::start().await;
    let app = tests::spawn_app_with(Backend::Sqlite, |vars| {
        tests::boards::vars_for(&mock, vars);
        // The sources' own pacing and backoff, not the fast test settings.
        for k in [
            "SOURCES_MIN_INTERVAL_MS",
            "SOURCES_BACKOFF_BASE_MS",
            "SOURCES_BACKOFF_MAX_SECONDS",
            "SOURCES_TIMEOUT_SECONDS",
        ] {
            vars.remove(k);
        }
        let names: Vec<&str> = jobs::sources::SourceName::ALL
            .iter()
            .map(|s| s.as_str())
            .collect();
        vars.insert("JOB_SOURCES".into(), names.join(","));
        vars.insert("INDEED_API_KEY".into(), "test-key".into());
        for (name, port) in jobs::sources::SourceName::ALL.iter().zip(&ports) {
            vars.insert(name.base_url_var(), format!("http://127.0.0.1:{port}"));
        }
    })
    .await;
    let started = std::time::Instant::now();
    let summary = run(&app).await;
    let took = started.elapsed();
    // Remotive alone paces 31 s between requests and every source backs off for seconds:
    // minutes without the breaker.
    assert!(took < Duration::from_secs(30), "the run took {took:?}");
    assert_eq!(summary.status, RunStatus::Failed);
    for name in jobs::sources::SourceName::ALL {
        let errors = errors_of(&summary, name.as_str());
        assert_eq!(errors.len(), 1, "{name}: one error: {errors:?}");
        assert!(
            errors[0].to_lowercase().contains("connection refused"),
            "{name}: the cause is named: {errors:?}"
        );
    }
    assert!(mock.requests().is_empty(), "nothing reached the mock");
    drop(held);
}

async fn source_health(app: &TestApp, admin: &str) -> Vec<serde_json::Value> {
    let data = app
        .data(
            "{ sourceHealth { source state consecutiveFailedRuns listingsLastRun lastError lastSuccessAt nextAttemptAt } }",
            serde_json::json!({}),
            Some(admin),
        )
        .await;
    data["sourceHealth"].as_array().expect("rows").clone()
}

#[tokio::test]
async fn a_source_failing_run_after_run_goes_down_backs_off_and_comes_back() {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    mock.script(
        "/api",
        vec![Reply::status(503, "down"), Reply::status(503, "down")],
    );
    let app = app_on(
        Backend::Sqlite,
        &mock,
        &[
            ("SOURCES_MAX_RETRIES", "0"),
            ("SOURCE_DOWN_AFTER_RUNS", "2"),
        ],
    )
    .await;
    let admin = app.admin_token().await;
    let of = |rows: &[serde_json::Value], source: &str| {
        rows.iter()
            .find(|r| r["source"] == source)
            .expect("a row per source")
            .clone()
    };

    run(&app).await;
    let rows = source_health(&app, &admin).await;
    let remoteok = of(&rows, "remoteok");
    assert_eq!(remoteok["state"], "DEGRADED", "{remoteok}");
    assert_eq!(remoteok["consecutiveFailedRuns"], 1);
    assert!(
        remoteok["lastError"]
            .as_str()
            .unwrap_or_default()
            .contains("503")
    );
    assert_eq!(of(&rows, "greenhouse")["state"], "UP");
    assert_eq!(of(&rows, "greenhouse")["listingsLastRun"], 3);
    assert_eq!(of(&rows, "linkedin")["state"], "DISABLED");

    run(&app).await;
    let remoteok = of(&source_health(&app, &admin).await, "remoteok");
    assert_eq!(remoteok["state"], "DOWN", "{remoteok}");
    assert!(remoteok["nextAttemptAt"].is_string(), "{remoteok}");

    // Down and not yet due: the next run does not ask it, and its record stands.
    let asked = mock.requests_to("/api").len();
    let summary = run(&app).await;
    assert_eq!(
        mock.requests_to("/api").len(),
        asked,
        "skipped while backing off"
    );
    assert!(errors_of(&summary, "remoteok").is_empty());
    assert_eq!(
        of(&source_health(&app, &admin).await, "remoteok")["consecutiveFailedRuns"],
        2
    );

    // Due again (an hour on), and the board answers: UP, its failures forgotten.
    entity::source_health::Entity::update_many()
        .col_expr(
            entity::source_health::Column::NextAttemptAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .exec(&app.db)
        .await
        .expect("moves the clock");
    run(&app).await;
    let remoteok = of(&source_health(&app, &admin).await, "remoteok");
    assert_eq!(
        (
            remoteok["state"].as_str(),
            remoteok["consecutiveFailedRuns"].as_i64()
        ),
        (Some("UP"), Some(0)),
        "{remoteok}"
    );
    assert!(remoteok["lastSuccessAt"].is_string() && remoteok["nextAttemptAt"].is_null());
}
