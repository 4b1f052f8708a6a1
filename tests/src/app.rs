//! The real application on a random port, and a GraphQL client for it.

use std::collections::HashMap;

use api::config::Config;
use api::server::Application;
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};

use crate::database::{Backend, TestDatabase};

/// The signing secret every test app uses, so tests can forge tokens on purpose.
pub const TEST_JWT_SECRET: &str = "test-secret-that-is-long-enough-0123456789";
/// The email of the admin that [`TestApp::admin_token`] makes.
pub const ADMIN_EMAIL: &str = "admin@example.com";
/// A password that passes the rules.
pub const PASSWORD: &str = "correct horse battery staple";

/// A running application with its own database.
#[derive(Debug)]
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    pub port: u16,
    /// A pool on the app's database, for arranging and checking state directly.
    pub db: DatabaseConnection,
    /// The configuration the app was built with.
    pub config: Config,
    /// The app's shared state (its pool, keys, login throttle), for checking what it holds.
    pub state: api::state::AppState,
    pub http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    /// With `REDIS_URL`: the test's own queue prefix, whose keys go when the app does.
    _redis_keys: Option<crate::redis::PrefixCleanup>,
    /// Kept last so the database outlives the app.
    pub database: TestDatabase,
}

/// The configuration of a test app on `database_url`, before overrides.
pub fn test_vars(database_url: &str) -> HashMap<String, String> {
    [
        ("DATABASE_URL", database_url),
        ("BIND_ADDR", "127.0.0.1:0"),
        ("JWT_SECRET", TEST_JWT_SECRET),
        ("DATABASE_MAX_CONNECTIONS", "5"),
        ("SHUTDOWN_GRACE_SECONDS", "5"),
        ("QUEUE_POLL_INTERVAL_MS", "50"),
        // No maintenance pass at an hour's turn in the middle of a test; its tests set their own.
        ("MAINTENANCE_INTERVAL_SECONDS", "0"),
        // Tests poll and hammer one app from one address; the rate tests set their own.
        ("RATE_LIMIT_PER_MINUTE", "0"),
        ("RATE_LIMIT_USER_PER_MINUTE", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// Starts the app on a fresh database of `backend`.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Starts the app on a fresh database, after `adjust` has changed the configuration variables.
pub async fn spawn_app_with(
    backend: Backend,
    adjust: impl FnOnce(&mut HashMap<String, String>),
) -> TestApp {
    spawn_configured(backend, adjust, |_| {}).await
}

/// Starts the app like `serve --no-workers`: HTTP only, jobs stay queued.
pub async fn spawn_api_only(
    backend: Backend,
    adjust: impl FnOnce(&mut HashMap<String, String>),
) -> TestApp {
    spawn_configured(backend, adjust, |config| config.workers_in_process = false).await
}

async fn spawn_configured(
    backend: Backend,
    adjust: impl FnOnce(&mut HashMap<String, String>),
    tweak: impl FnOnce(&mut Config),
) -> TestApp {
    crate::logs::init_if_asked();
    let database = TestDatabase::create(&backend).await;
    let mut vars = test_vars(&database.url);
    adjust(&mut vars);
    // A queue on Redis gets a prefix of its own, so tests never see each other's jobs.
    let redis_keys = vars.get("REDIS_URL").cloned().map(|url| {
        let prefix = vars
            .entry("QUEUE_PREFIX".into())
            .or_insert_with(|| format!("jc-test-{}", uuid::Uuid::new_v4().simple()))
            .clone();
        crate::redis::PrefixCleanup { url, prefix }
    });
    let mut config = Config::from_map(&vars).expect("test configuration");
    tweak(&mut config);
    let app = Application::build(config.clone())
        .await
        .expect("application builds");
    let port = app.port();
    let state = app.state().clone();
    let db = state.db.clone();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stop_rx.await;
    }));
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        db,
        config,
        state,
        http: reqwest::Client::new(),
        stop: Some(stop_tx),
        server: Some(server),
        _redis_keys: redis_keys,
        database,
    }
}

impl TestApp {
    /// How many rows the table of `E` holds.
    pub async fn rows<E: sea_orm::EntityTrait>(&self) -> u64
    where
        E::Model: Sync,
    {
        use sea_orm::PaginatorTrait;
        E::find().count(&self.db).await.expect("count rows")
    }

    /// Starts a collector run as `token` (`runPipeline`) and returns its id.
    pub async fn start_run(&self, token: &str) -> String {
        let data = self
            .data("mutation { runPipeline { id } }", json!({}), Some(token))
            .await;
        data["runPipeline"]["id"]
            .as_str()
            .expect("a run id")
            .to_owned()
    }

    /// GETs a path of the app (`/healthz`, …).
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request reaches the app")
    }

    /// A client whose connections come from `source` (any 127.0.0.0/8 address reaches the app
    /// on loopback), to act as another client address.
    pub fn client_from(source: &str) -> reqwest::Client {
        reqwest::Client::builder()
            .local_address(source.parse::<std::net::IpAddr>().expect("an IP address"))
            .build()
            .expect("a client")
    }

    /// Posts an operation and returns the whole response body (`data` and `errors`).
    pub async fn graphql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        self.graphql_from(&self.http, query, variables, token).await
    }

    /// [`TestApp::graphql`] through `client` (say, one from [`TestApp::client_from`]).
    pub async fn graphql_from(
        &self,
        client: &reqwest::Client,
        query: &str,
        variables: Value,
        token: Option<&str>,
    ) -> Value {
        let mut request = client
            .post(format!("{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request reaches the app");
        assert!(response.status().is_success(), "HTTP {}", response.status());
        response.json().await.expect("a JSON body")
    }

    /// Posts `query` with one file bound to its `$file` variable, as the GraphQL multipart
    /// request spec has clients send it; returns the HTTP status and the body.
    pub async fn upload(
        &self,
        query: &str,
        file_name: &str,
        content_type: &str,
        bytes: &[u8],
        token: Option<&str>,
    ) -> (u16, Value) {
        let boundary = "----jobcollector-test-7f3a9c";
        let operations = json!({ "query": query, "variables": { "file": null } }).to_string();
        let mut body = Vec::with_capacity(bytes.len() + 1024);
        for (name, value) in [
            ("operations", operations.as_str()),
            ("map", r#"{"0":["variables.file"]}"#),
        ] {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let mut request = self
            .http
            .post(format!("{}/graphql", self.address))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request reaches the app");
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON body"))
    }

    /// `GET path` with a Bearer token, if given.
    pub async fn get_as(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request reaches the app")
    }

    /// Like [`TestApp::graphql`], but panics on errors and returns `data`.
    pub async fn data(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let body = self.graphql(query, variables, token).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// Registers an account and returns its token.
    pub async fn register(&self, email: &str) -> String {
        let data = self
            .data(
                "mutation($e: String!, $p: String!) { register(email: $e, password: $p) { token } }",
                json!({ "e": email, "p": PASSWORD }),
                None,
            )
            .await;
        data["register"]["token"]
            .as_str()
            .expect("a token")
            .to_owned()
    }

    /// Stores a keyword match of `listing_id` for `user_id` with `score` and `status`, as
    /// scoring would, for tests that arrange matches directly.
    pub async fn insert_match(
        &self,
        user_id: i64,
        listing_id: i64,
        score: f64,
        status: entity::MatchStatus,
    ) {
        use entity::{Score, ScoreMethod, StringList, user_job_match};
        use sea_orm::{ActiveValue::Set, EntityTrait};
        user_job_match::Entity::insert(user_job_match::ActiveModel {
            user_id: Set(user_id),
            job_listing_id: Set(listing_id),
            match_score: Set(Score::clamped(score)),
            match_reason: Set("test".into()),
            matched_skills: Set(StringList(vec![])),
            missing_skills: Set(StringList(vec![])),
            method: Set(ScoreMethod::Keyword),
            prompt_version: Set("keyword-v2".into()),
            resume_hash: Set("h".into()),
            scored_at: Set(chrono::Utc::now()),
            status: Set(status),
            ..Default::default()
        })
        .exec(&self.db)
        .await
        .expect("match");
    }

    /// Registers [`ADMIN_EMAIL`], grants it the admin role as `jobcollector admin grant` does,
    /// and returns its token.
    pub async fn admin_token(&self) -> String {
        let token = self.register(ADMIN_EMAIL).await;
        api::auth::accounts::grant_admin(&self.db, ADMIN_EMAIL)
            .await
            .expect("grant the admin role");
        token
    }

    /// Polls `pipelineRun(id)` as `token` until the run has ended (SUCCEEDED, PARTIAL or
    /// FAILED) and returns it; fails after `secs` seconds.
    pub async fn until_run_ended(&self, token: &str, id: &str, secs: u64) -> Value {
        let query = "query($id: ID!) { pipelineRun(id: $id) { id status listingsInserted categoriesDone errors { source message } } }";
        crate::eventually(
            &format!("run {id} ending"),
            std::time::Duration::from_secs(secs),
            || async {
                let run =
                    self.data(query, json!({ "id": id }), Some(token)).await["pipelineRun"].clone();
                match run["status"].as_str() {
                    Some("SUCCEEDED" | "PARTIAL" | "FAILED") => Ok(run),
                    _ => Err(run.to_string()),
                }
            },
        )
        .await
    }

    /// Waits until every job this app queued has run (none waiting, running, or failed with
    /// attempts left), on the queue in the app's database; fails after `secs` seconds.
    pub async fn until_queues_idle(&self, secs: u64) {
        crate::eventually(
            "the queues becoming idle",
            std::time::Duration::from_secs(secs),
            || async {
                match self.state.queue.unfinished().await {
                    Ok(0) => Ok(()),
                    Ok(n) => Err(format!("{n} unfinished jobs")),
                    Err(e) => Err(e.to_string()),
                }
            },
        )
        .await;
    }

    /// Starts job workers on this app's state, as a `jobcollector worker` process beside an
    /// API-only node would run them.
    pub fn start_workers(&self) -> Workers {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(api::server::run_workers(self.state.clone(), async {
            let _ = stopped.await;
        }));
        Workers { stop, task }
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.server.take() {
            Some(server) => server.await?,
            None => Ok(()),
        }
    }
}

/// Workers started by [`TestApp::start_workers`].
#[derive(Debug)]
pub struct Workers {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Workers {
    /// Stops them and waits (a running job may finish first); panics if they fail to stop.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(std::time::Duration::from_secs(30), self.task)
            .await
            .expect("workers stop in time")
            .expect("workers do not panic")
            .expect("workers stop cleanly");
    }
}

/// The `extensions.code` of the first error, if any.
pub fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}
