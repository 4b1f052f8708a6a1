//! pipelineRun / pipelineRuns: what admins see of collector runs.

use jobs::collect::SilentProgress;
use serde_json::json;
use tests::app::error_code;
use tests::boards::serve_all;
use tests::mock_boards::{MockBoards, Reply};
use tests::{Backend, on_each_backend};

use crate::collect::app_on;

const RUNS: &str = "query($n: Int) { pipelineRuns(first: $n) { id trigger status categoriesTotal categoriesDone listingsFetched listingsUnique listingsInserted usersQueuedForMatching queuedAt startedAt finishedAt errors { source category message at } } }";
const RUN: &str = "query($id: ID!) { pipelineRun(id: $id) { id status listingsInserted errors { source message } } }";

async fn admins_see_runs_newest_first_with_counters_and_errors(backend: Backend) {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    mock.script(
        "/v1/boards/northwind/jobs",
        vec![Reply::status(
            404,
            "{\"status\":404,\"error\":\"Job not found\"}",
        )],
    );
    let app = app_on(backend, &mock, &[]).await;
    let first = api::pipeline::run_once(&app.db, &app.config, &SilentProgress)
        .await
        .expect("first run");
    let second = api::pipeline::run_once(&app.db, &app.config, &SilentProgress)
        .await
        .expect("second run");
    let admin = app.admin_token().await;

    let data = app.data(RUNS, json!({ "n": 5 }), Some(&admin)).await;
    let runs = data["pipelineRuns"].as_array().expect("list");
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["id"], second.run_id.to_string(), "newest first");
    let (newest, oldest) = (&runs[0], &runs[1]);
    assert_eq!(
        (newest["status"].as_str(), newest["trigger"].as_str()),
        (Some("SUCCEEDED"), Some("CLI"))
    );
    assert_eq!(
        newest["listingsInserted"], 3,
        "the greenhouse board missing from the first run lands in the second"
    );
    assert_eq!(oldest["status"], "PARTIAL");
    assert_eq!(oldest["categoriesTotal"], 4);
    assert_eq!(oldest["categoriesDone"], 4);
    assert_eq!(oldest["listingsInserted"], 14);
    assert!(oldest["startedAt"].is_string() && oldest["finishedAt"].is_string());
    assert_eq!(oldest["errors"].as_array().expect("errors").len(), 1);
    assert_eq!(oldest["errors"][0]["source"], "greenhouse");
    assert_eq!(oldest["errors"][0]["category"], json!(null));
    assert!(
        oldest["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("not found")
    );

    let one = app
        .data(RUN, json!({ "id": first.run_id.to_string() }), Some(&admin))
        .await;
    assert_eq!(one["pipelineRun"]["status"], "PARTIAL");
    for missing in ["999999", "not-a-number"] {
        assert_eq!(
            app.data(RUN, json!({ "id": missing }), Some(&admin)).await["pipelineRun"],
            json!(null)
        );
    }
    let one_only = app.data(RUNS, json!({ "n": 1 }), Some(&admin)).await;
    assert_eq!(one_only["pipelineRuns"].as_array().expect("list").len(), 1);
    let defaulted = app
        .data("{ pipelineRuns { id } }", json!({}), Some(&admin))
        .await;
    assert_eq!(defaulted["pipelineRuns"].as_array().expect("list").len(), 2);
    for bad in [0, 101] {
        let body = app.graphql(RUNS, json!({ "n": bad }), Some(&admin)).await;
        assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    }
}

async fn runs_are_for_admins_only(backend: Backend) {
    let mock = MockBoards::start().await;
    let app = app_on(backend, &mock, &[]).await;
    let user = app.register("user@example.com").await;
    for (query, vars) in [(RUNS, json!({ "n": 5 })), (RUN, json!({ "id": "1" }))] {
        assert_eq!(
            error_code(&app.graphql(query, vars.clone(), Some(&user)).await),
            Some("FORBIDDEN")
        );
        assert_eq!(
            error_code(&app.graphql(query, vars, None).await),
            Some("UNAUTHENTICATED")
        );
    }
}

on_each_backend!(
    admins_see_runs_newest_first_with_counters_and_errors,
    runs_are_for_admins_only
);
