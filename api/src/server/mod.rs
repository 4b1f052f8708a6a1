//! The HTTP server: start-up, serving, graceful shutdown, the job workers beside it, the
//! LLM client they use ([`connect_llm`]), and a worker's own `/metrics` listener
//! ([`serve_worker_metrics`]).
//!
//! - [`downloads`]: `GET /documents/{id}/{format}` — a tailored document rendered as PDF,
//!   DOCX or Markdown, for its owner's Bearer token or a signed link.
//! - [`edge`]: request ids (in every log line of a request, and in its response) and CORS.
//! - [`listener`]: the accept loop (connection cap, header timeout, graceful drain).
//! - [`rate`]: request rates per client address and per user, and who the client is behind a
//!   trusted proxy.
//! - [`routes`]: `POST /graphql` (body limit, timeout, clean errors, resume uploads, rate
//!   limits), `GET /files/resume`, `GET /me/export`, the alert links
//!   (`/alerts/unsubscribe`, `/alerts/verify`), GraphiQL (`GET /graphql`), `/healthz`,
//!   `/readyz`, security headers.
//! - [`web`]: the web app at `GET /` and `/assets/*`, compiled into the binary.
//! - [`websocket`]: subscriptions on `/graphql/ws` with message limits and an init timeout.

mod downloads;
mod edge;
mod listener;
mod rate;
mod routes;
mod web;
mod websocket;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use jobs::queue::{Queue, scheduler, workers};

use crate::auth::{LoginThrottle, TokenKeys};
use crate::config::Config;
use crate::db;
use crate::graphql::{AppSchema, build_schema};
use crate::state::AppState;

/// What the routes share.
#[derive(Clone)]
struct HttpState {
    app: AppState,
    schema: AppSchema,
    /// Turns true when the server begins to shut down.
    stopping: watch::Receiver<bool>,
    /// `WS_MAX_CONNECTIONS` permits, one per open WebSocket.
    ws_slots: Arc<tokio::sync::Semaphore>,
    /// `RATE_LIMIT_*` on `/graphql`.
    rate: Arc<rate::RateLimits>,
}

/// A built application: database ready, listener bound, not yet serving.
pub struct Application {
    listener: TcpListener,
    port: u16,
    router: axum::Router,
    state: AppState,
    stopping: watch::Sender<bool>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Connects, migrates (unless `AUTO_MIGRATE=false`), seeds and binds `BIND_ADDR` (port 0
    /// picks a free port).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let state = Self::build_without_http(config).await?;
        let listener = TcpListener::bind(state.config.bind_addr)
            .await
            .map_err(|e| {
                anyhow::anyhow!("cannot bind BIND_ADDR={}: {e}", state.config.bind_addr)
            })?;
        let port = listener.local_addr()?.port();
        let schema = build_schema(state.clone(), state.config.graphql);
        let (stopping, stopping_rx) = watch::channel(false);
        let router = routes::router(HttpState {
            app: state.clone(),
            schema,
            stopping: stopping_rx,
            ws_slots: Arc::new(tokio::sync::Semaphore::new(
                state.config.http.ws_max_connections,
            )),
            rate: Arc::new(rate::RateLimits::new(&state.config.rate_limits)),
        });
        Ok(Self {
            listener,
            port,
            router,
            state,
            stopping,
        })
    }

    /// Connects, migrates and opens the queue without binding a port: the state a `worker`
    /// process needs. Settings given but not used are logged here.
    pub async fn build_without_http(config: Config) -> anyhow::Result<AppState> {
        // The metrics recorder first, so nothing counted before the first scrape is lost.
        crate::metrics::handle();
        for warning in &config.warnings {
            tracing::warn!("{warning}");
        }
        let db = db::connect(&config).await?;
        if config.auto_migrate {
            db::prepare(&config, &db).await?;
        }
        let db_file = db::DatabaseFile::of(&config.database_url);
        let queue = Queue::connect(&db, &config.database_url, &config.queue)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open the job queue: {e}"))?;
        Ok(AppState {
            db,
            db_file,
            queue,
            keys: TokenKeys::new(&config.auth),
            login_throttle: Arc::new(LoginThrottle::new(config.auth.login)),
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

    /// Serves until `stop` completes, then drains in-flight requests (and closes WebSockets)
    /// for at most `SHUTDOWN_GRACE_SECONDS`, stops the workers and closes the pool.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(port = self.port, "serving GraphQL on /graphql");
        let config = self.state.config.clone();
        let stopping = self.stopping;
        let workers = config.workers_in_process.then(|| {
            tokio::spawn(run_workers(
                self.state.clone(),
                listener::wait_true(stopping.subscribe()),
            ))
        });
        let stopping_rx = stopping.subscribe();
        tokio::spawn(async move {
            stop.await;
            let _ = stopping.send(true);
        });
        let drained = listener::serve(
            self.listener,
            self.router,
            config.http,
            stopping_rx,
            config.shutdown_grace,
        )
        .await;
        if !drained {
            tracing::warn!(grace = ?config.shutdown_grace, "in-flight requests outlived the grace period");
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

/// Serves `GET /metrics` on `addr` for a `worker` process (which has no HTTP server
/// otherwise), until the process ends. Binding fails loudly.
pub async fn serve_worker_metrics(
    app: AppState,
    addr: std::net::SocketAddr,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "worker metrics on /metrics");
    let router = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move |headers: axum::http::HeaderMap| {
            let app = app.clone();
            async move { routes::serve_metrics(&app, &headers).await }
        }),
    );
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "the worker metrics listener stopped");
        }
    }))
}

/// The configured provider's client behind the budget and the ledger ([`jobs::llm::Metered`]).
pub async fn connect_llm(
    config: &crate::config::LlmConfig,
    db: &sea_orm::DatabaseConnection,
) -> std::io::Result<Arc<dyn jobs::llm::Llm>> {
    use crate::config::LlmProvider;
    let inner: Arc<dyn jobs::llm::Llm> = match &config.provider {
        LlmProvider::Bedrock(c) => Arc::new(jobs::llm::BedrockLlm::new(c).await),
        LlmProvider::OpenAi(c) => {
            Arc::new(jobs::llm::OpenAiLlm::new(c).map_err(std::io::Error::other)?)
        }
    };
    tracing::info!(
        provider = config.provider.name(),
        model = config.provider.model_id(),
        daily_token_budget = config.budget.daily_tokens,
        "LLM enabled"
    );
    Ok(Arc::new(jobs::llm::Metered::new(
        inner,
        db.clone(),
        config.budget,
    )))
}

/// Runs the job workers and the scheduler until `stop`, letting a running job finish within the
/// grace period.
pub async fn run_workers(
    state: AppState,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stopping_tx, stopping_rx) = watch::channel(false);
    tokio::spawn(async move {
        stop.await;
        let _ = stopping_tx.send(true);
    });
    let llm = match &state.config.llm {
        Some(config) => Some(connect_llm(config, &state.db).await?),
        None => {
            tracing::info!("LLM disabled: keyword assignment, scoring and tailoring");
            None
        }
    };
    let http = jobs::sources::registry::http_client().map_err(std::io::Error::other)?;
    let deps = Arc::new(workers::Deps {
        db: state.db.clone(),
        sources: state.config.sources.clone(),
        http,
        collect: state.config.collect,
        queue: state.queue.clone(),
        llm,
        assign: state.config.assign.clone(),
        matching: state.config.matching.clone(),
        corpus: Arc::default(),
        alerts: state.config.alerts.clone(),
        maintenance: state.config.maintenance,
    });
    let schedule = |which, interval| {
        scheduler::run(
            state.db.clone(),
            state.queue.clone(),
            which,
            interval,
            state.config.queue.instance.clone(),
            listener::wait_true(stopping_rx.clone()),
        )
    };
    let runs = schedule(
        scheduler::Schedule::Pipeline,
        state.config.pipeline_interval,
    );
    let upkeep = schedule(
        scheduler::Schedule::Maintenance,
        state.config.maintenance_interval,
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
        listener::wait_true(stopping_rx),
    );
    let ((), (), result) = tokio::join!(runs, upkeep, work);
    result
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
