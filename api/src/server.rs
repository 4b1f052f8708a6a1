//! The HTTP server: routes, start-up and graceful shutdown.
//!
//! `POST /graphql` executes operations, `GET /graphql` serves GraphiQL, `/healthz` says the
//! process is up and `/readyz` that the database answers.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::extract::State;
use axum::extract::WebSocketUpgrade;
use axum::http::{HeaderMap, StatusCode, header::AUTHORIZATION};
use axum::response::Response;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use jobs::queue::{Queue, scheduler, workers};

use crate::auth::{LoginThrottle, TokenKeys, accounts};
use crate::config::Config;
use crate::db;
use crate::graphql::context::RequestAuth;
use crate::graphql::{AppSchema, build_schema};
use crate::state::AppState;

/// Largest request body accepted (a resume is at most 100 KB).
const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
struct HttpState {
    app: AppState,
    schema: AppSchema,
}

/// A built application: database ready, listener bound, not yet serving.
pub struct Application {
    listener: TcpListener,
    port: u16,
    router: Router,
    state: AppState,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Connects, migrates (unless `AUTO_MIGRATE=false`), seeds, promotes configured admins and
    /// binds `BIND_ADDR` (port 0 picks a free port).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = db::connect(&config).await?;
        if config.auto_migrate {
            db::prepare(&config, &db).await?;
        }
        let promoted = accounts::promote_configured_admins(&db, &config.auth.admin_emails)
            .await
            .map_err(|e| anyhow::anyhow!("promoting ADMIN_EMAILS failed: {e:?}"))?;
        if promoted > 0 {
            tracing::info!(promoted, "promoted accounts listed in ADMIN_EMAILS");
        }
        let login_throttle = Arc::new(LoginThrottle::new(
            config.auth.login_max_failures,
            config.auth.login_failure_window,
        ));
        let queue = Queue::connect(&db, &config.database_url, &config.queue)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open the job queue: {e}"))?;
        let state = AppState {
            db,
            queue,
            keys: TokenKeys::new(&config.auth),
            login_throttle,
            config: Arc::new(config),
        };
        let listener = TcpListener::bind(state.config.bind_addr)
            .await
            .map_err(|e| {
                anyhow::anyhow!("cannot bind BIND_ADDR={}: {e}", state.config.bind_addr)
            })?;
        let port = listener.local_addr()?.port();
        let schema = build_schema(state.clone(), state.config.graphql);
        let router = router(HttpState {
            app: state.clone(),
            schema,
        });
        Ok(Self {
            listener,
            port,
            router,
            state,
        })
    }

    /// Connects, migrates and opens the queue without binding a port: the state a `worker`
    /// process needs.
    pub async fn build_without_http(config: Config) -> anyhow::Result<AppState> {
        let db = db::connect(&config).await?;
        if config.auto_migrate {
            db::prepare(&config, &db).await?;
        }
        let queue = Queue::connect(&db, &config.database_url, &config.queue)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open the job queue: {e}"))?;
        let login_throttle = Arc::new(LoginThrottle::new(0, Duration::ZERO));
        Ok(AppState {
            db,
            queue,
            keys: TokenKeys::new(&config.auth),
            login_throttle,
            config: Arc::new(config),
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state (database pool, keys, config).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT or SIGTERM, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` completes, then drains in-flight requests for at most
    /// `SHUTDOWN_GRACE_SECONDS` and closes the pool.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(port = self.port, "serving GraphQL on /graphql");
        let grace = self.state.config.shutdown_grace;
        let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
        let (stopping_tx, stopping_rx) = tokio::sync::watch::channel(false);
        let workers = self.state.config.workers_in_process.then(|| {
            let stopping = wait_for(stopping_rx.clone());
            tokio::spawn(run_workers(self.state.clone(), stopping))
        });
        let server = axum::serve(self.listener, self.router).with_graceful_shutdown(async move {
            stop.await;
            let _ = stopping_tx.send(true);
            let _ = stopped_tx.send(());
        });
        let drained = async {
            let _ = stopped_rx.await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            result = server => result?,
            () = drained => tracing::warn!(?grace, "in-flight requests outlived the grace period"),
        }
        if let Some(workers) = workers {
            // The monitor lets a running job finish within the grace period itself.
            match workers.await {
                Ok(Err(e)) => tracing::error!(error = %e, "workers stopped with an error"),
                Err(e) => tracing::error!(error = %e, "workers panicked"),
                Ok(Ok(())) => {}
            }
        }
        self.state.db.clone().close().await.ok();
        tracing::info!("stopped");
        Ok(())
    }
}

/// Resolves once the flag turns true.
async fn wait_for(mut flag: tokio::sync::watch::Receiver<bool>) {
    let _ = flag.wait_for(|stop| *stop).await;
}

/// Runs the job workers and the scheduler until `stop`, letting a running job finish within the
/// grace period.
pub async fn run_workers(
    state: AppState,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stopping_tx, stopping_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        stop.await;
        let _ = stopping_tx.send(true);
    });
    let llm: Option<Arc<dyn jobs::llm::Llm>> = match &state.config.llm {
        Some(config) => {
            tracing::info!(model = %config.model_id, region = %config.region, "LLM enabled (Bedrock)");
            Some(Arc::new(jobs::llm::BedrockLlm::new(config).await))
        }
        None => {
            tracing::info!("LLM disabled: keyword assignment and scoring");
            None
        }
    };
    let deps = Arc::new(workers::Deps {
        db: state.db.clone(),
        sources: state.config.sources.clone(),
        collect: state.config.collect,
        queue: state.queue.clone(),
        llm,
        assign: state.config.assign.clone(),
        matching: state.config.matching.clone(),
        corpus: Arc::default(),
    });
    let claimer = format!(
        "{}:{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into()),
        std::process::id()
    );
    let schedule = scheduler::run(
        state.db.clone(),
        state.queue.clone(),
        state.config.pipeline_interval,
        claimer,
        wait_for(stopping_rx.clone()),
    );
    tracing::info!(
        concurrency = state.config.queue.worker_concurrency,
        "workers started"
    );
    let work = workers::run(
        state.queue.clone(),
        deps,
        &state.config.queue,
        state.config.shutdown_grace,
        wait_for(stopping_rx),
    );
    let ((), result) = tokio::join!(schedule, work);
    result
}

fn router(state: HttpState) -> Router {
    Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route("/graphql/ws", get(graphql_ws))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn graphql(
    State(state): State<HttpState>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    let header = headers
        .get(AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("invalid"));
    let auth = RequestAuth::from_header(header, &state.app);
    state
        .schema
        .execute(request.into_inner().data(auth))
        .await
        .into()
}

/// Subscriptions over WebSocket (`graphql-transport-ws`, or the older `graphql-ws`). The token
/// comes in the `connection_init` payload as `{"Authorization": "Bearer <token>"}`.
async fn graphql_ws(
    State(state): State<HttpState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let app = state.app.clone();
            GraphQLWebSocket::new(socket, state.schema.clone(), protocol)
                .on_connection_init(move |payload| async move {
                    let header = payload
                        .get("Authorization")
                        .or_else(|| payload.get("authorization"))
                        .and_then(|v| v.as_str())
                        .map(str::to_owned);
                    let mut data = async_graphql::Data::default();
                    data.insert(RequestAuth::from_header(header.as_deref(), &app));
                    Ok(data)
                })
                .serve()
        })
}

async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .title("Job Collector")
            .finish(),
    )
}

async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(State(state): State<HttpState>) -> impl IntoResponse {
    let ping = tokio::time::timeout(Duration::from_secs(3), state.app.db.ping()).await;
    match ping {
        Ok(Ok(())) => (
            StatusCode::OK,
            Json(serde_json::json!({ "status": "ready", "database": "ok" })),
        ),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "unavailable", "database": "unreachable" })),
            )
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "unavailable", "database": "timeout" })),
        ),
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
