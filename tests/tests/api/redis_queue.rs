//! The queue on Redis (`REDIS_URL`): runs through a shared Redis under a per-test prefix, a
//! clear error when Redis is unreachable, `/readyz` failing while Redis is down, and
//! reconnection after a Redis restart.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tests::eventually;

use api::config::Config;
use api::server::Application;
use tests::app::test_vars;
use tests::boards::{serve_all, vars_for};
use tests::mock_boards::MockBoards;
use tests::{Backend, TestApp, TestDatabase, spawn_app_with};

async fn run_to_end(app: &TestApp, admin: &str) -> serde_json::Value {
    let id = app.start_run(admin).await;
    app.until_run_ended(admin, &id, 30).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_goes_through_redis_and_succeeds() {
    let Some(redis) = tests::redis::redis_url_from_env() else {
        eprintln!("TEST_REDIS_URL is unset: Redis variant skipped");
        return;
    };
    let mock = MockBoards::start().await;
    serve_all(&mock);
    let app = spawn_app_with(Backend::Sqlite, |vars| {
        vars_for(&mock, vars);
        vars.insert("REDIS_URL".into(), redis.clone());
    })
    .await;
    let admin = app.admin_token().await;
    let run = run_to_end(&app, &admin).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(run["listingsInserted"], 17);
}

#[tokio::test]
async fn an_unreachable_redis_stops_the_start_with_an_error_naming_redis_url() {
    let database = TestDatabase::create(&Backend::Sqlite).await;
    let mut vars = test_vars(&database.url);
    vars.insert("REDIS_URL".into(), "redis://:hunter2@127.0.0.1:1".into());
    let config = Config::from_map(&vars).expect("config");
    let err = Application::build(config)
        .await
        .expect_err("no Redis listens on port 1")
        .to_string();
    assert!(err.contains("REDIS_URL=redis://***@127.0.0.1:1"), "{err}");
    assert!(
        !err.contains("hunter2"),
        "the password stays out of messages: {err}"
    );
}

struct PrivateRedis {
    child: Child,
}

impl PrivateRedis {
    /// Starts `redis-server` on `port` and waits until it accepts connections.
    async fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (CI installs it)");
        eventually(
            "the private redis-server accepting connections",
            Duration::from_secs(10),
            || async {
                tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .map(drop)
                    .map_err(|e| e.to_string())
            },
        )
        .await;
        Self { child }
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_redis_is_down_readyz_fails_and_after_a_restart_runs_still_complete() {
    if tests::redis::redis_url_from_env().is_none() {
        eprintln!("TEST_REDIS_URL is unset: Redis restart test skipped");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr")
        .port();
    let redis = PrivateRedis::start(port).await;
    let mock = MockBoards::start().await;
    serve_all(&mock);
    let app = spawn_app_with(Backend::Sqlite, |vars| {
        vars_for(&mock, vars);
        vars.insert("REDIS_URL".into(), format!("redis://127.0.0.1:{port}"));
        vars.insert("JOB_SOURCES".into(), "remoteok".into());
    })
    .await;
    let admin = app.admin_token().await;
    assert_eq!(run_to_end(&app, &admin).await["status"], "SUCCEEDED");

    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.json::<serde_json::Value>().await.expect("json")["queue"],
        "ok"
    );

    redis.stop();
    eventually(
        "/readyz failing on the queue",
        Duration::from_secs(15),
        || async {
            let ready = app.get("/readyz").await;
            let status = ready.status();
            let body = ready.json::<serde_json::Value>().await.unwrap_or_default();
            match (status.as_u16(), body["queue"].as_str()) {
                (503, Some("unreachable")) if body["database"] == "ok" => Ok(()),
                other => Err(format!("{other:?}: {body}")),
            }
        },
    )
    .await;
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "alive, only not ready"
    );

    let restarted = PrivateRedis::start(port).await;
    eventually("/readyz ready again", Duration::from_secs(15), || async {
        match app.get("/readyz").await.status().as_u16() {
            200 => Ok(()),
            other => Err(other.to_string()),
        }
    })
    .await;
    let again = run_to_end(&app, &admin).await;
    assert_eq!(
        again["status"], "SUCCEEDED",
        "the second run went through the restarted Redis: {again}"
    );
    drop(restarted);
}
