//! Real worker processes: killed mid-run (SIGKILL), the run is reclaimed by another worker and
//! completes without duplicate rows; a live worker busy with a long run keeps it.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tests::eventually;

use api::server::{Application, run_workers};
use entity::{job_listing, job_listing_category};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use tests::app::test_vars;
use tests::boards::{serve_all, vars_for};
use tests::mock_boards::{MockBoards, Reply};
use tests::{Backend, TestApp, on_each_backend, spawn_api_only};

const SLOW_BOARD: &str = "/v1/boards/northwind/jobs";

/// The variables a worker process gets: the same database and boards as the app.
pub(crate) fn worker_vars(
    app: &TestApp,
    mock: &MockBoards,
    extra: &[(&str, &str)],
) -> HashMap<String, String> {
    let mut vars = test_vars(&app.database.url);
    vars_for(mock, &mut vars);
    for (k, v) in extra {
        vars.insert((*k).into(), (*v).into());
    }
    vars
}

pub(crate) fn start_worker(vars: &HashMap<String, String>) -> Child {
    Command::new(env!("CARGO_BIN_EXE_jobcollector-under-test"))
        .arg("worker")
        .env_clear()
        .envs(vars)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(
            std::fs::File::create(
                std::env::temp_dir().join(format!("jc-worker-{}.log", std::process::id())),
            )
            .map(Stdio::from)
            .unwrap_or(Stdio::null()),
        )
        .spawn()
        .expect("the worker process starts")
}

async fn run_status(app: &TestApp, admin: &str, id: &str) -> Value {
    app.data(
        "query($id: ID!) { pipelineRun(id: $id) { status listingsInserted } }",
        json!({ "id": id }),
        Some(admin),
    )
    .await["pipelineRun"]
        .clone()
}

async fn wait_until(what: &str, secs: u64, mut done: impl AsyncFnMut() -> bool) {
    eventually(what, Duration::from_secs(secs), async || {
        if done().await {
            Ok(())
        } else {
            Err("not yet".to_owned())
        }
    })
    .await;
}

async fn a_worker_killed_mid_run_leaves_a_job_another_worker_completes_without_duplicates(
    backend: Backend,
) {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    mock.serve(
        SLOW_BOARD,
        Reply::fixture("greenhouse/board_content.json").delayed(Duration::from_secs(3)),
    );
    let extra = [("QUEUE_ORPHAN_AFTER_SECONDS", "3")];
    let app = spawn_api_only(backend, |vars| {
        vars_for(&mock, vars);
        vars.insert(extra[0].0.into(), extra[0].1.into());
    })
    .await;
    let admin = app.admin_token().await;
    let vars = worker_vars(&app, &mock, &extra);

    let mut first = start_worker(&vars);
    let id = app.start_run(&admin).await;
    wait_until(
        "the first worker is fetching the slow board",
        30,
        async || !mock.requests_to(SLOW_BOARD).is_empty(),
    )
    .await;
    assert_eq!(run_status(&app, &admin, &id).await["status"], "RUNNING");
    first.kill().expect("SIGKILL");
    first.wait().expect("reaped");

    let mut second = start_worker(&vars);
    app.until_run_ended(&admin, &id, 60).await;
    second.kill().ok();
    second.wait().ok();
    let run = run_status(&app, &admin, &id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert!(
        mock.requests_to(SLOW_BOARD).len() >= 2,
        "the second worker fetched the board again"
    );
    assert_eq!(
        app.rows::<job_listing::Entity>().await,
        17,
        "no duplicate listings"
    );
    assert_eq!(
        app.rows::<job_listing_category::Entity>().await,
        18,
        "no duplicate links"
    );
}

async fn a_busy_worker_keeps_its_long_run(backend: Backend) {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    // The run outlasts the orphan timeout several times over.
    mock.serve(
        SLOW_BOARD,
        Reply::fixture("greenhouse/board_content.json").delayed(Duration::from_millis(4500)),
    );
    let app = spawn_api_only(backend, |vars| {
        vars_for(&mock, vars);
        vars.insert("QUEUE_ORPHAN_AFTER_SECONDS".into(), "2".into());
    })
    .await;
    let admin = app.admin_token().await;
    let state = Application::build_without_http(app.config.clone())
        .await
        .expect("worker");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(run_workers(state, async {
        let _ = stop_rx.await;
    }));
    let id = app.start_run(&admin).await;
    app.until_run_ended(&admin, &id, 60).await;
    stop_tx.send(()).ok();
    worker.await.expect("joined").expect("stopped");
    assert_eq!(run_status(&app, &admin, &id).await["status"], "SUCCEEDED");
    assert_eq!(
        mock.requests_to(SLOW_BOARD).len(),
        1,
        "the run executed once: a busy worker is not taken for dead"
    );
}

async fn a_worker_process_started_apart_from_an_api_only_node_runs_the_queued_job(
    backend: Backend,
) {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    let app = spawn_api_only(backend, |vars| vars_for(&mock, vars)).await;
    let admin = app.admin_token().await;
    let id = app.start_run(&admin).await;
    let mut worker = start_worker(&worker_vars(&app, &mock, &[]));
    app.until_run_ended(&admin, &id, 60).await;
    let run = run_status(&app, &admin, &id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(run["listingsInserted"], 17);
    // SIGTERM: the worker stops taking jobs and exits cleanly.
    let pid = worker.id().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let exit = eventually(
        "the worker exiting after SIGTERM",
        Duration::from_secs(20),
        || {
            let exited = worker.try_wait().expect("wait");
            async move { exited.ok_or_else(|| "still running".to_owned()) }
        },
    )
    .await;
    assert!(exit.success(), "clean exit after SIGTERM: {exit:?}");
}

async fn two_worker_processes_schedule_one_run_per_interval(backend: Backend) {
    use sea_orm::{ConnectionTrait, Statement};
    let mock = MockBoards::start().await;
    serve_all(&mock);
    let extra = [
        ("PIPELINE_INTERVAL_SECONDS", "1"),
        ("JOB_SOURCES", "remoteok"),
    ];
    let app = spawn_api_only(backend, |vars| {
        vars_for(&mock, vars);
        for (k, v) in extra {
            vars.insert(k.into(), v.into());
        }
    })
    .await;
    let vars = worker_vars(&app, &mock, &extra);
    let mut workers = [start_worker(&vars), start_worker(&vars)];
    let slots = async || {
        let stmt = Statement::from_string(
            app.db.get_database_backend(),
            "SELECT count(*) AS n FROM scheduler_slots",
        );
        app.db
            .query_one_raw(stmt)
            .await
            .expect("count")
            .expect("row")
            .try_get::<i64>("", "n")
            .expect("n")
    };
    wait_until("three intervals passed", 30, async || slots().await >= 3).await;
    for w in &mut workers {
        w.kill().ok();
        w.wait().ok();
    }
    let claimed = slots().await;
    let runs = entity::pipeline_run::Entity::find()
        .all(&app.db)
        .await
        .expect("runs");
    assert!(
        runs.iter()
            .all(|r| r.trigger == entity::RunTrigger::Schedule)
    );
    // One claim per interval whatever the number of processes, and at most one run per claim.
    assert!(
        runs.len() >= 2 && runs.len() as i64 <= claimed,
        "{} runs for {claimed} slots",
        runs.len()
    );
    let mut queued: Vec<_> = runs.iter().map(|r| r.queued_at).collect();
    queued.sort();
    for pair in queued.windows(2) {
        assert!(
            pair[1] - pair[0] >= chrono::Duration::milliseconds(800),
            "runs are an interval apart: {queued:?}"
        );
    }
}

on_each_backend!(
    a_worker_killed_mid_run_leaves_a_job_another_worker_completes_without_duplicates,
    a_busy_worker_keeps_its_long_run,
    a_worker_process_started_apart_from_an_api_only_node_runs_the_queued_job,
    two_worker_processes_schedule_one_run_per_interval,
);
