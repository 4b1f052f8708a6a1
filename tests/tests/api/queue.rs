//! runPipeline through the job queue: workers in `serve`, API-only nodes, separate workers,
//! one run at a time, duplicate deliveries.

use std::time::Duration;

use tests::eventually;

use entity::{job_listing, pipeline_run};
use jobs::queue::RunPipeline;
use sea_orm::EntityTrait;
use serde_json::json;
use tests::app::error_code;
use tests::boards::{serve_all, vars_for};
use tests::mock_boards::MockBoards;
use tests::{Backend, TestApp, on_each_backend, spawn_api_only, spawn_app_with};

const RUN_PIPELINE: &str = "mutation { runPipeline { id trigger status } }";

async fn an_admin_run_is_queued_and_a_worker_in_serve_completes_it(backend: Backend) {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    let app = spawn_app_with(backend, |vars| vars_for(&mock, vars)).await;
    let admin = app.admin_token().await;
    let started = app.data(RUN_PIPELINE, json!({}), Some(&admin)).await["runPipeline"].clone();
    assert_eq!(started["trigger"], "ADMIN");
    assert!(
        matches!(started["status"].as_str(), Some("QUEUED" | "RUNNING")),
        "{started}"
    );
    let id = started["id"].as_str().expect("id").to_owned();
    let ended = app.until_run_ended(&admin, &id, 30).await;
    assert_eq!(ended["status"], "SUCCEEDED", "{ended}");
    assert_eq!(ended["listingsInserted"], 17);
    assert_eq!(ended["categoriesDone"], 4);
    assert_eq!(app.rows::<job_listing::Entity>().await, 17);
    let row = pipeline_run::Entity::find_by_id(id.parse::<i64>().expect("numeric"))
        .one(&app.db)
        .await
        .expect("query")
        .expect("row");
    assert!(
        row.requested_by.is_some(),
        "the admin who asked is recorded"
    );

    // Once it has ended, pressing again starts a new run.
    let again = app.data(RUN_PIPELINE, json!({}), Some(&admin)).await["runPipeline"]["id"].clone();
    assert_ne!(again, started["id"]);
}

async fn pressing_twice_or_at_once_makes_exactly_one_run(backend: Backend) {
    let mock = MockBoards::start().await;
    let app = spawn_api_only(backend, |vars| vars_for(&mock, vars)).await;
    let admin = app.admin_token().await;
    let first = app.data(RUN_PIPELINE, json!({}), Some(&admin)).await["runPipeline"].clone();
    assert_eq!(
        first["status"], "QUEUED",
        "no worker runs in an API-only node"
    );
    let second = app.data(RUN_PIPELINE, json!({}), Some(&admin)).await["runPipeline"].clone();
    assert_eq!(second["id"], first["id"]);
    let at_once =
        futures::future::join_all((0..6).map(|_| app.data(RUN_PIPELINE, json!({}), Some(&admin))))
            .await;
    assert!(
        at_once
            .iter()
            .all(|d| d["runPipeline"]["id"] == first["id"]),
        "{at_once:?}"
    );
    assert_eq!(app.rows::<pipeline_run::Entity>().await, 1);

    let cli = api::cli::execute(
        api::cli::Command::Pipeline { once: true },
        app.config.clone(),
    )
    .await;
    let err = cli
        .expect_err("the CLI refuses while a run is queued")
        .to_string();
    assert!(
        err.contains(&format!("run {}", first["id"].as_str().expect("id")))
            && err.contains("one collector run at a time"),
        "{err}"
    );
}

async fn a_second_delivery_of_a_finished_run_changes_nothing(backend: Backend) {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    let app = spawn_app_with(backend, |vars| vars_for(&mock, vars)).await;
    let admin = app.admin_token().await;
    let id = app.data(RUN_PIPELINE, json!({}), Some(&admin)).await["runPipeline"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let ended = app.until_run_ended(&admin, &id, 30).await;
    let requests_before = mock.requests().len();
    let row_before = pipeline_run::Entity::find_by_id(id.parse::<i64>().expect("numeric"))
        .one(&app.db)
        .await
        .expect("query")
        .expect("row");

    // The same job again, as a retry or a duplicate delivery would bring it.
    // apalis acknowledges a job just after its handler returns.
    eventually(
        "the first delivery recorded as done",
        Duration::from_secs(10),
        || async {
            match jobs_done(&app).await {
                n if n >= 1 => Ok(()),
                n => Err(format!("{n} done")),
            }
        },
    )
    .await;
    let queue =
        jobs::queue::Queue::in_database(&app.db, &app.config.database_url, &app.config.queue)
            .await
            .expect("queue");
    queue
        .push_run(RunPipeline {
            run_id: row_before.id,
        })
        .await
        .expect("push");
    eventually(
        "the duplicate job consumed",
        Duration::from_secs(10),
        || async {
            match jobs_done(&app).await {
                n if n >= 2 => Ok(()),
                _ => Err(jobs_table(&app).await),
            }
        },
    )
    .await;
    let row_after = pipeline_run::Entity::find_by_id(row_before.id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("row");
    assert_eq!(row_after, row_before, "the run row is untouched");
    assert_eq!(
        mock.requests().len(),
        requests_before,
        "no board was asked again"
    );
    assert_eq!(ended["status"], "SUCCEEDED");
}

/// apalis's view of the jobs, for failure messages.
async fn jobs_table(app: &TestApp) -> String {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = app.db.get_database_backend();
    let sql = if backend == sea_orm::DbBackend::Postgres {
        "SELECT status || ' attempts=' || attempts || ' lock_by=' || coalesce(lock_by, '-') || ' run_at=' || run_at::text AS line FROM apalis.jobs"
    } else {
        "SELECT status || ' attempts=' || attempts || ' lock_by=' || coalesce(lock_by, '-') AS line FROM Jobs"
    };
    match app
        .db
        .query_all_raw(Statement::from_string(backend, sql))
        .await
    {
        Ok(rows) => rows
            .iter()
            .filter_map(|r| r.try_get::<String>("", "line").ok())
            .collect::<Vec<_>>()
            .join("; "),
        Err(e) => format!("(jobs unreadable: {e})"),
    }
}

/// Jobs apalis has finished successfully (its own table).
async fn jobs_done(app: &TestApp) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let sql = "SELECT count(*) AS n FROM apalis.jobs WHERE status = 'Done'";
    let sqlite = "SELECT count(*) AS n FROM Jobs WHERE status = 'Done'";
    let backend = app.db.get_database_backend();
    let stmt = Statement::from_string(
        backend,
        if backend == sea_orm::DbBackend::Postgres {
            sql
        } else {
            sqlite
        },
    );
    let row = app
        .db
        .query_one_raw(stmt)
        .await
        .expect("count jobs")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("n")
}

async fn run_pipeline_is_for_admins_only(backend: Backend) {
    let mock = MockBoards::start().await;
    let app = spawn_api_only(backend, |vars| vars_for(&mock, vars)).await;
    let user = app.register("user@example.com").await;
    assert_eq!(
        error_code(&app.graphql(RUN_PIPELINE, json!({}), Some(&user)).await),
        Some("FORBIDDEN")
    );
    assert_eq!(
        error_code(&app.graphql(RUN_PIPELINE, json!({}), None).await),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(app.rows::<pipeline_run::Entity>().await, 0);
}

on_each_backend!(
    an_admin_run_is_queued_and_a_worker_in_serve_completes_it,
    pressing_twice_or_at_once_makes_exactly_one_run,
    a_second_delivery_of_a_finished_run_changes_nothing,
    run_pipeline_is_for_admins_only,
);
