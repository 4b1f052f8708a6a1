//! pipelineRunProgress over WebSocket (graphql-transport-ws), following a run that another
//! worker executes.

use std::time::Duration;

use api::server::{Application, run_workers};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tests::boards::{serve_all, vars_for};
use tests::mock_boards::MockBoards;
use tests::ws::Socket;
use tests::{Backend, TestApp, on_each_backend, spawn_api_only};
use tokio_tungstenite::tungstenite::Message;

/// Every field of a run that moves during it: an update differs from the one before in one of
/// them (the server sends the run whenever any of it changes).
const SUBSCRIBE: &str = "subscription($id: ID!) { pipelineRunProgress(id: $id) { id status startedAt finishedAt categoriesTotal categoriesDone listingsFetched listingsUnique listingsInserted usersQueuedForMatching errors { source category message at } } }";

async fn connect(app: &TestApp, token: Option<&str>) -> Socket {
    tests::ws::connect(app, token)
        .await
        .expect("the socket is initialised")
}

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::text(message.to_string()))
        .await
        .expect("send");
}

/// The next protocol message (pings skipped), failing after a deadline.
async fn next(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .expect("a message in time")
            .expect("open")
            .expect("readable");
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(&text).expect("JSON");
            if value["type"] != "ping" {
                return value;
            }
        }
    }
}

async fn progress_follows_a_run_from_queued_to_its_end_then_completes(backend: Backend) {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    let app = spawn_api_only(backend, |vars| vars_for(&mock, vars)).await;
    let admin = app.admin_token().await;
    let id = app.start_run(&admin).await;

    let mut socket = connect(&app, Some(&admin)).await;
    send(&mut socket, json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIBE, "variables": { "id": id } } })).await;
    let first = next(&mut socket).await;
    assert_eq!(first["type"], "next", "{first}");
    assert_eq!(
        first["payload"]["data"]["pipelineRunProgress"]["status"],
        "QUEUED"
    );

    // A worker elsewhere picks the run up.
    let worker_state = Application::build_without_http(app.config.clone())
        .await
        .expect("worker");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(run_workers(worker_state, async {
        let _ = stop_rx.await;
    }));

    let mut seen = vec![first["payload"]["data"]["pipelineRunProgress"].clone()];
    loop {
        let message = next(&mut socket).await;
        match message["type"].as_str() {
            Some("next") => seen.push(message["payload"]["data"]["pipelineRunProgress"].clone()),
            Some("complete") => break,
            other => panic!("unexpected {other:?}: {message}"),
        }
    }
    let statuses: Vec<&str> = seen.iter().filter_map(|r| r["status"].as_str()).collect();
    assert_eq!(statuses.last(), Some(&"SUCCEEDED"), "{seen:?}");
    // QUEUED first (the worker starts after the subscription), RUNNING as often as it was
    // seen, SUCCEEDED last: never out of order.
    let rank = |s: &str| {
        ["QUEUED", "RUNNING", "SUCCEEDED"]
            .iter()
            .position(|x| *x == s)
    };
    assert_eq!(statuses.first(), Some(&"QUEUED"), "{seen:?}");
    assert!(
        statuses
            .windows(2)
            .all(|w| rank(w[0]).is_some() && rank(w[0]) <= rank(w[1])),
        "statuses in order: {statuses:?}"
    );
    let done: Vec<i64> = seen
        .iter()
        .filter_map(|r| r["categoriesDone"].as_i64())
        .collect();
    assert!(
        done.windows(2).all(|w| w[0] <= w[1]),
        "counters only move forward: {done:?}"
    );
    assert_eq!(seen.last().expect("last")["listingsInserted"], 17);
    for pair in seen.windows(2) {
        assert_ne!(
            pair[0], pair[1],
            "an update is sent only when something changed"
        );
    }
    stop_tx.send(()).expect("worker running");
    worker.await.expect("joined").expect("worker stops");
}

async fn progress_is_for_admins_and_known_runs(backend: Backend) {
    let mock = MockBoards::start().await;
    let app = spawn_api_only(backend, |vars| vars_for(&mock, vars)).await;
    let user = app.register("user@example.com").await;
    let mut socket = connect(&app, Some(&user)).await;
    send(&mut socket, json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIBE, "variables": { "id": "1" } } })).await;
    let refused = next(&mut socket).await;
    assert_eq!(refused["type"], "next", "{refused}");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );

    let admin = app.admin_token().await;
    let mut socket = connect(&app, Some(&admin)).await;
    send(&mut socket, json!({ "id": "2", "type": "subscribe", "payload": { "query": SUBSCRIBE, "variables": { "id": "424242" } } })).await;
    let missing = next(&mut socket).await;
    assert_eq!(
        missing["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{missing}"
    );

    let mut anonymous = connect(&app, None).await;
    send(&mut anonymous, json!({ "id": "3", "type": "subscribe", "payload": { "query": SUBSCRIBE, "variables": { "id": "1" } } })).await;
    let unauthenticated = next(&mut anonymous).await;
    assert_eq!(
        unauthenticated["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{unauthenticated}"
    );
}

on_each_backend!(
    progress_follows_a_run_from_queued_to_its_end_then_completes,
    progress_is_for_admins_and_known_runs
);
