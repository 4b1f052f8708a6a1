//! Configuration: one typed tree, loaded once at start from the environment and `.env`.
//!
//! [`Config::from_env`] reads the process environment over `.env`; [`Config::from_map`] takes
//! any key/value source, so tests pass values without touching the process environment.
//! Every variable, its default and its meaning is listed in README.md.
//!
//! - [`limits`]: the limits on clients (logins, GraphQL operations, HTTP and WebSocket).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

mod limits;

use limits::http_config;
pub use limits::{GraphqlConfig, HttpConfig, LoginLimits};

use jobs::alerts::AlertConfig;
use jobs::assign::AssignConfig;
use jobs::collect::CollectConfig;
use jobs::documents::DocumentConfig;
use jobs::documents::render::Paper;
use jobs::llm::ledger::Prices;
use jobs::llm::{BedrockAuth, BedrockConfig, Budget, OpenAiConfig};
use jobs::maintenance::MaintenanceConfig;
use jobs::matching::MatchConfig;
use jobs::queue::QueueConfig;
use jobs::resume::Limits as ResumeLimits;
use jobs::sources::SourcesConfig;

/// Where the service runs; production refuses unsafe settings that development tolerates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The whole configuration.
#[derive(Clone)]
pub struct Config {
    pub app_env: AppEnv,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    pub database_max_connections: u32,
    /// Apply pending migrations when `serve` starts.
    pub auto_migrate: bool,
    pub bind_addr: SocketAddr,
    pub auth: AuthConfig,
    pub graphql: GraphqlConfig,
    pub http: HttpConfig,
    pub log_format: LogFormat,
    /// How long in-flight requests may run after a shutdown signal.
    pub shutdown_grace: Duration,
    /// Job sources: which, where, how politely.
    pub sources: SourcesConfig,
    /// How a collector run fans out and writes.
    pub collect: CollectConfig,
    /// `PIPELINE_INTERVAL_SECONDS`: time between scheduled runs; zero means none.
    pub pipeline_interval: Duration,
    /// `MAINTENANCE_INTERVAL_SECONDS`: time between maintenance passes; zero means none.
    pub maintenance_interval: Duration,
    /// `RETENTION_DAYS`, `QUEUE_RETENTION_DAYS`: what maintenance keeps.
    pub maintenance: MaintenanceConfig,
    /// The job queue and its workers.
    pub queue: QueueConfig,
    /// Whether `serve` also runs workers (`serve --no-workers` turns this off).
    pub workers_in_process: bool,
    /// The LLM; `None` unless `BEDROCK_LLM_ENABLED=true`.
    pub llm: Option<LlmConfig>,
    /// `LLM_PRICE_INPUT_PER_MTOK`, `LLM_PRICE_OUTPUT_PER_MTOK`: for `llmUsage`'s estimated cost.
    pub llm_prices: Prices,
    /// Category assignment.
    pub assign: AssignConfig,
    /// Match scoring.
    pub matching: MatchConfig,
    /// `CORS_ALLOWED_ORIGINS`: which browser origins may call the API.
    pub cors: CorsOrigins,
    /// `RATE_LIMIT_PER_MINUTE`, `RATE_LIMIT_USER_PER_MINUTE`, `TRUSTED_PROXIES`.
    pub rate_limits: RateLimitConfig,
    /// Uploaded resumes: `RESUME_MAX_FILE_BYTES`, `RESUME_MAX_PAGES`,
    /// `RESUME_EXTRACT_TIMEOUT_SECONDS`.
    pub resume: ResumeLimits,
    /// Tailored documents: `TAILOR_MAX_PER_HOUR`, `DOCUMENT_PAPER`.
    pub documents: DocumentConfig,
    /// `DOCUMENT_LINK_TTL_SECONDS`: how long a signed download link works.
    pub document_link_ttl: Duration,
    /// Alerts: `SMTP_URL`, `ALERT_FROM`, `PUBLIC_BASE_URL`, `WEBHOOK_*`,
    /// `ALERT_WEBHOOK_ALLOW_PRIVATE`.
    pub alerts: AlertConfig,
    /// `METRICS_TOKEN`: when set, `/metrics` wants `Authorization: Bearer <it>`.
    pub metrics_token: Option<String>,
    /// `METRICS_ADDR`: where a `worker` process serves `/metrics` (it has no HTTP otherwise).
    pub metrics_addr: Option<SocketAddr>,
    /// Settings that were given but are not used, each with why: logged at start.
    pub warnings: Vec<String>,
}

/// How many GraphQL requests a client may send (0 = no limit).
#[derive(Debug, Clone, Default)]
pub struct RateLimitConfig {
    /// Per client address (IPv6: per /64) and minute.
    pub per_ip_per_minute: u32,
    /// Per signed-in user and minute, from any address.
    pub per_user_per_minute: u32,
    /// Peers whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<Cidr>,
}

/// An address block: `10.0.0.0/8`, `::1/128`, or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: std::net::IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` is inside the block (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = s.split_once('/').unwrap_or((s, ""));
        let network: std::net::IpAddr = addr
            .parse()
            .map_err(|_| "is not an address or a block like 10.0.0.0/8".to_owned())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = if prefix.is_empty() {
            max
        } else {
            prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("has a prefix length beyond {max}"))?
        };
        Ok(Self { network, prefix })
    }
}

/// The browser origins allowed to call the API from pages of their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// Only pages served from this server's own origin (no CORS headers at all).
    SameOrigin,
    /// Any origin (`*`; refused in production).
    Any,
    /// Exactly these origins (`https://app.example.com`, lowercased, no trailing slash).
    List(Vec<String>),
}

/// `CORS_ALLOWED_ORIGINS`: comma-separated exact origins; empty for same origin only; `*` for
/// any, which production refuses.
fn cors_origins(value: Option<&str>, env: AppEnv) -> Result<CorsOrigins, ConfigError> {
    let Some(value) = value else {
        return Ok(CorsOrigins::SameOrigin);
    };
    if value == "*" {
        if env == AppEnv::Production {
            return Err(ConfigError(
                "CORS_ALLOWED_ORIGINS=* is refused when APP_ENV=production: list the origins of your frontends".into(),
            ));
        }
        return Ok(CorsOrigins::Any);
    }
    let mut list = Vec::new();
    for raw in value.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        let origin = raw.trim_end_matches('/').to_ascii_lowercase();
        let valid = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            .is_some_and(|rest| !rest.is_empty() && !rest.contains(['/', '*', '?', '#', ' ', '@']));
        if !valid {
            return Err(ConfigError(format!(
                "CORS_ALLOWED_ORIGINS: {raw:?} is not an origin like https://app.example.com (scheme and host, optional port, no path)"
            )));
        }
        list.push(origin);
    }
    Ok(if list.is_empty() {
        CorsOrigins::SameOrigin
    } else {
        CorsOrigins::List(list)
    })
}

/// Accounts and tokens.
#[derive(Clone)]
pub struct AuthConfig {
    /// HS256 signing secret; `None` only in development (a random one is made per process).
    pub jwt_secret: Option<String>,
    pub token_ttl: Duration,
    pub login: LoginLimits,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret or credentials in the database URL.
        f.debug_struct("Config")
            .field("app_env", &self.app_env)
            .field("database", &redact_url(&self.database_url))
            .field("bind_addr", &self.bind_addr)
            .field("jwt_secret_set", &self.auth.jwt_secret.is_some())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("token_ttl", &self.token_ttl)
            .finish_non_exhaustive()
    }
}

/// A setting that could not be used; the message names the variable.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// The shortest `JWT_SECRET` accepted in production (bytes).
pub const MIN_JWT_SECRET_LEN: usize = 32;
/// The default database: a SQLite file in the working directory, created if missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://jobcollector.db?mode=rwc";

impl Config {
    /// Reads `.env` (if present) and the process environment; the environment wins.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut vars: HashMap<String, String> = HashMap::new();
        if let Ok(iter) = dotenvy::dotenv_iter() {
            for (k, v) in iter.flatten() {
                vars.insert(k, v);
            }
        }
        vars.extend(std::env::vars());
        Self::from_map(&vars)
    }

    /// Builds the configuration from key/value pairs, applying the documented defaults.
    pub fn from_map(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |k: &str| vars.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let app_env = match get("APP_ENV")
            .unwrap_or("development")
            .to_ascii_lowercase()
            .as_str()
        {
            "development" | "dev" => AppEnv::Development,
            "production" | "prod" => AppEnv::Production,
            other => {
                return Err(ConfigError(format!(
                    "APP_ENV must be development or production, not {other:?}"
                )));
            }
        };
        let jwt_secret = get("JWT_SECRET").map(str::to_owned);
        // Alert links are signed with a key derived from the session secret; without one
        // (development) a random key, shared by the API and the workers of this process.
        let jwt_secret_for_links = match &jwt_secret {
            Some(secret) => secret.as_bytes().to_vec(),
            None => jobs::alerts::new_secret()
                .map_err(|e| ConfigError(e.to_string()))?
                .into_bytes(),
        };
        if app_env == AppEnv::Production {
            match &jwt_secret {
                None => {
                    return Err(ConfigError(
                        "JWT_SECRET must be set when APP_ENV=production".into(),
                    ));
                }
                Some(s) if s.len() < MIN_JWT_SECRET_LEN => {
                    return Err(ConfigError(format!(
                        "JWT_SECRET is too weak: use at least {MIN_JWT_SECRET_LEN} random bytes (e.g. `openssl rand -hex 32`)"
                    )));
                }
                Some(_) => {}
            }
        }
        let mut warnings = Vec::new();
        if get("ADMIN_EMAILS").is_some() {
            warnings.push(
                "ADMIN_EMAILS is ignored: typing an address at registration proves nothing, so admins are made only with `jobcollector admin grant EMAIL`".to_owned(),
            );
        }
        let secs = |name: &str, default: u64| -> Result<Duration, ConfigError> {
            Ok(Duration::from_secs(parse(get(name), name, default)?))
        };
        let login_defaults = LoginLimits::default();
        let sources =
            SourcesConfig::from_vars(|k| get(k).map(str::to_owned)).map_err(ConfigError)?;
        let llm_concurrency = parse(get("LLM_CONCURRENCY"), "LLM_CONCURRENCY", 8usize)?.max(1);
        let match_defaults = MatchConfig::default();
        // Names this process among others (workers, scheduler claims): host and process id.
        let instance = format!(
            "{}-{}",
            get("HOSTNAME").unwrap_or("host"),
            std::process::id()
        );
        let log_format = match get("LOG_FORMAT")
            .unwrap_or("text")
            .to_ascii_lowercase()
            .as_str()
        {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError(format!(
                    "LOG_FORMAT must be text or json, not {other:?}"
                )));
            }
        };
        Ok(Self {
            app_env,
            database_url: sqlite_create_if_missing(
                get("DATABASE_URL").unwrap_or(DEFAULT_DATABASE_URL),
            ),
            database_max_connections: parse(
                get("DATABASE_MAX_CONNECTIONS"),
                "DATABASE_MAX_CONNECTIONS",
                10,
            )?,
            auto_migrate: parse_bool(get("AUTO_MIGRATE"), "AUTO_MIGRATE", true)?,
            bind_addr: parse(
                get("BIND_ADDR"),
                "BIND_ADDR",
                SocketAddr::from(([127, 0, 0, 1], 8080)),
            )?,
            auth: AuthConfig {
                jwt_secret,
                token_ttl: Duration::from_secs(
                    60 * parse::<u64>(get("JWT_TTL_MINUTES"), "JWT_TTL_MINUTES", 24 * 60)?,
                ),
                login: LoginLimits {
                    max_failures: parse(
                        get("LOGIN_MAX_FAILURES"),
                        "LOGIN_MAX_FAILURES",
                        login_defaults.max_failures,
                    )?,
                    window: secs(
                        "LOGIN_FAILURE_WINDOW_SECONDS",
                        login_defaults.window.as_secs(),
                    )?,
                    ip_max_failures: parse(
                        get("LOGIN_IP_MAX_FAILURES"),
                        "LOGIN_IP_MAX_FAILURES",
                        login_defaults.ip_max_failures,
                    )?,
                    email_max_failures_per_minute: parse(
                        get("LOGIN_EMAIL_MAX_FAILURES_PER_MINUTE"),
                        "LOGIN_EMAIL_MAX_FAILURES_PER_MINUTE",
                        login_defaults.email_max_failures_per_minute,
                    )?,
                    max_entries: parse(
                        get("LOGIN_THROTTLE_MAX_ENTRIES"),
                        "LOGIN_THROTTLE_MAX_ENTRIES",
                        login_defaults.max_entries,
                    )?
                    .max(100),
                },
            },
            graphql: GraphqlConfig {
                max_depth: parse(get("GRAPHQL_MAX_DEPTH"), "GRAPHQL_MAX_DEPTH", 12)?,
                max_complexity: parse(
                    get("GRAPHQL_MAX_COMPLEXITY"),
                    "GRAPHQL_MAX_COMPLEXITY",
                    5000,
                )?,
                max_aliases: parse(get("GRAPHQL_MAX_ALIASES"), "GRAPHQL_MAX_ALIASES", 15)?,
                max_tokens: parse(get("GRAPHQL_MAX_TOKENS"), "GRAPHQL_MAX_TOKENS", 1000)?,
                introspection: parse_bool(
                    get("GRAPHQL_INTROSPECTION"),
                    "GRAPHQL_INTROSPECTION",
                    app_env == AppEnv::Development,
                )?,
            },
            http: http_config(&get)?,
            log_format,
            shutdown_grace: Duration::from_secs(parse(
                get("SHUTDOWN_GRACE_SECONDS"),
                "SHUTDOWN_GRACE_SECONDS",
                30,
            )?),
            matching: MatchConfig {
                hours_old: sources.hours_old,
                concurrency: llm_concurrency,
                prescore_min: parse(
                    get("LLM_PRESCORE_MIN"),
                    "LLM_PRESCORE_MIN",
                    match_defaults.prescore_min,
                )?
                .clamp(0, 100),
                top_k: parse(get("LLM_TOP_K"), "LLM_TOP_K", match_defaults.top_k)?,
                batch_size: parse(
                    get("LLM_BATCH_SIZE"),
                    "LLM_BATCH_SIZE",
                    match_defaults.batch_size,
                )?
                .clamp(1, MAX_BATCH_SIZE),
                user_daily_pairs: optional(get("LLM_USER_DAILY_PAIRS"), "LLM_USER_DAILY_PAIRS")?,
            },
            sources,
            collect: CollectConfig {
                concurrency: parse(get("COLLECT_CONCURRENCY"), "COLLECT_CONCURRENCY", 4usize)?
                    .max(1),
                chunk_size: parse(get("INGEST_CHUNK_SIZE"), "INGEST_CHUNK_SIZE", 0usize)?,
                listing_ttl_days: parse(get("LISTING_TTL_DAYS"), "LISTING_TTL_DAYS", 30u32)?,
            },
            pipeline_interval: Duration::from_secs(parse(
                get("PIPELINE_INTERVAL_SECONDS"),
                "PIPELINE_INTERVAL_SECONDS",
                0,
            )?),
            maintenance_interval: Duration::from_secs(parse(
                get("MAINTENANCE_INTERVAL_SECONDS"),
                "MAINTENANCE_INTERVAL_SECONDS",
                3_600,
            )?),
            maintenance: MaintenanceConfig {
                retention_days: parse(get("RETENTION_DAYS"), "RETENTION_DAYS", 180u32)?,
                queue_retention_days: parse(
                    get("QUEUE_RETENTION_DAYS"),
                    "QUEUE_RETENTION_DAYS",
                    7u32,
                )?,
            },
            queue: QueueConfig {
                prefix: get("QUEUE_PREFIX").unwrap_or("jobcollector").to_owned(),
                worker_concurrency: parse(get("WORKER_CONCURRENCY"), "WORKER_CONCURRENCY", 2usize)?
                    .max(1),
                poll_interval: Duration::from_millis(
                    parse(
                        get("QUEUE_POLL_INTERVAL_MS"),
                        "QUEUE_POLL_INTERVAL_MS",
                        500u64,
                    )?
                    .max(10),
                ),
                max_retries: parse(get("JOB_MAX_RETRIES"), "JOB_MAX_RETRIES", 3usize)?,
                orphan_after: Duration::from_secs(
                    parse(
                        get("QUEUE_ORPHAN_AFTER_SECONDS"),
                        "QUEUE_ORPHAN_AFTER_SECONDS",
                        60u64,
                    )?
                    .max(2),
                ),
                redis_url: get("REDIS_URL").map(str::to_owned),
                instance,
            },
            workers_in_process: true,
            llm: llm_config(&get, llm_concurrency)?,
            llm_prices: Prices {
                input: optional(get("LLM_PRICE_INPUT_PER_MTOK"), "LLM_PRICE_INPUT_PER_MTOK")?,
                output: optional(
                    get("LLM_PRICE_OUTPUT_PER_MTOK"),
                    "LLM_PRICE_OUTPUT_PER_MTOK",
                )?,
            },
            assign: AssignConfig {
                default_category: get("ASSIGN_DEFAULT_CATEGORY")
                    .unwrap_or("software_engineer")
                    .to_owned(),
                create_categories: parse_bool(
                    get("ASSIGN_CREATE_CATEGORIES"),
                    "ASSIGN_CREATE_CATEGORIES",
                    true,
                )?,
                max_new_per_day: parse(
                    get("ASSIGN_MAX_NEW_CATEGORIES_PER_DAY"),
                    "ASSIGN_MAX_NEW_CATEGORIES_PER_DAY",
                    20u32,
                )?,
            },
            cors: cors_origins(get("CORS_ALLOWED_ORIGINS"), app_env)?,
            rate_limits: RateLimitConfig {
                per_ip_per_minute: parse(
                    get("RATE_LIMIT_PER_MINUTE"),
                    "RATE_LIMIT_PER_MINUTE",
                    600u32,
                )?,
                per_user_per_minute: parse(
                    get("RATE_LIMIT_USER_PER_MINUTE"),
                    "RATE_LIMIT_USER_PER_MINUTE",
                    300u32,
                )?,
                trusted_proxies: get("TRUSTED_PROXIES")
                    .unwrap_or_default()
                    .split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        p.parse::<Cidr>()
                            .map_err(|why| ConfigError(format!("TRUSTED_PROXIES: {p:?} {why}")))
                    })
                    .collect::<Result<_, _>>()?,
            },
            resume: ResumeLimits {
                max_bytes: parse(
                    get("RESUME_MAX_FILE_BYTES"),
                    "RESUME_MAX_FILE_BYTES",
                    ResumeLimits::default().max_bytes,
                )?
                .max(1024),
                max_pages: parse(
                    get("RESUME_MAX_PAGES"),
                    "RESUME_MAX_PAGES",
                    ResumeLimits::default().max_pages,
                )?
                .max(1),
                timeout: secs(
                    "RESUME_EXTRACT_TIMEOUT_SECONDS",
                    ResumeLimits::default().timeout.as_secs(),
                )?
                .max(Duration::from_secs(1)),
            },
            documents: DocumentConfig {
                max_per_hour: parse(
                    get("TAILOR_MAX_PER_HOUR"),
                    "TAILOR_MAX_PER_HOUR",
                    DocumentConfig::default().max_per_hour,
                )?,
                paper: match get("DOCUMENT_PAPER") {
                    None => Paper::default(),
                    Some(raw) => Paper::parse(raw).ok_or_else(|| {
                        ConfigError(format!("DOCUMENT_PAPER: {raw:?} is not a4 or letter"))
                    })?,
                },
            },
            document_link_ttl: secs("DOCUMENT_LINK_TTL_SECONDS", 300)?
                .clamp(Duration::from_secs(10), Duration::from_secs(3600)),
            alerts: alert_config(&get, jwt_secret_for_links)?,
            metrics_token: get("METRICS_TOKEN")
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
            metrics_addr: match get("METRICS_ADDR").map(str::trim).filter(|a| !a.is_empty()) {
                None => None,
                Some(a) => Some(a.parse().map_err(|_| {
                    ConfigError(format!("METRICS_ADDR must be host:port, got {a:?}"))
                })?),
            },
            warnings,
        })
    }

    /// Whether the database is SQLite (the embedded default).
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// The alert settings.
fn alert_config<'a>(
    get: &impl Fn(&str) -> Option<&'a str>,
    session_secret: Vec<u8>,
) -> Result<AlertConfig, ConfigError> {
    let defaults = AlertConfig::default();
    let smtp_url = get("SMTP_URL")
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned);
    if let Some(url) = &smtp_url
        && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
    {
        return Err(ConfigError(
            "SMTP_URL must start with smtp:// or smtps://".into(),
        ));
    }
    let from = get("ALERT_FROM").unwrap_or(&defaults.from).to_owned();
    if !from.contains('@') {
        return Err(ConfigError(format!(
            "ALERT_FROM must be an email address, got {from:?}"
        )));
    }
    let base = get("PUBLIC_BASE_URL")
        .unwrap_or(&defaults.public_base_url)
        .trim_end_matches('/')
        .to_owned();
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(ConfigError(format!(
            "PUBLIC_BASE_URL must be an http(s) URL, got {base:?}"
        )));
    }
    Ok(AlertConfig {
        smtp_url,
        from,
        public_base_url: base,
        webhook_timeout: Duration::from_secs(
            parse(
                get("WEBHOOK_TIMEOUT_SECONDS"),
                "WEBHOOK_TIMEOUT_SECONDS",
                10u64,
            )?
            .clamp(1, 60),
        ),
        webhook_backoff: Duration::from_millis(parse(
            get("WEBHOOK_RETRY_BACKOFF_MS"),
            "WEBHOOK_RETRY_BACKOFF_MS",
            1_000u64,
        )?),
        webhook_disable_after: parse(
            get("WEBHOOK_DISABLE_AFTER"),
            "WEBHOOK_DISABLE_AFTER",
            defaults.webhook_disable_after,
        )?
        .max(1),
        allow_private: parse_bool(
            get("ALERT_WEBHOOK_ALLOW_PRIVATE"),
            "ALERT_WEBHOOK_ALLOW_PRIVATE",
            false,
        )?,
        link_key: jobs::alerts::links::derive_key(&session_secret).into(),
    })
}

/// The most listings one scoring call may carry (`LLM_BATCH_SIZE` is capped to it): the
/// answer must fit the model's output limit.
const MAX_BATCH_SIZE: usize = 25;

/// Which LLM answers, and the limits every call is held to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlmConfig {
    pub provider: LlmProvider,
    /// `LLM_DAILY_TOKEN_BUDGET`.
    pub budget: Budget,
}

/// `LLM_PROVIDER`: where the model runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LlmProvider {
    /// `bedrock` (the default): AWS Bedrock's Converse API.
    Bedrock(BedrockConfig),
    /// `openai`: any OpenAI-compatible Chat Completions endpoint (OpenAI, vLLM, Ollama,
    /// llama.cpp's server, LM Studio).
    OpenAi(OpenAiConfig),
}

impl LlmProvider {
    /// The model's identifier, as scores record it.
    pub fn model_id(&self) -> &str {
        match self {
            Self::Bedrock(c) => &c.model_id,
            Self::OpenAi(c) => &c.model,
        }
    }

    /// The provider's name, as the ledger records it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Bedrock(_) => "bedrock",
            Self::OpenAi(_) => "openai",
        }
    }
}

/// The LLM settings when `BEDROCK_LLM_ENABLED=true` (the seed's name; it turns the LLM on
/// whichever the provider).
fn llm_config<'a>(
    get: &impl Fn(&str) -> Option<&'a str>,
    concurrency: usize,
) -> Result<Option<LlmConfig>, ConfigError> {
    if !parse_bool(get("BEDROCK_LLM_ENABLED"), "BEDROCK_LLM_ENABLED", false)? {
        return Ok(None);
    }
    let defaults = BedrockConfig::default();
    let ms = |name: &str, default: Duration| -> Result<Duration, ConfigError> {
        let default = u64::try_from(default.as_millis()).unwrap_or(u64::MAX);
        Ok(Duration::from_millis(
            parse(get(name), name, default)?.max(1),
        ))
    };
    let max_tokens = parse(get("LLM_MAX_TOKENS"), "LLM_MAX_TOKENS", defaults.max_tokens)?.max(1);
    let connect_timeout = ms("LLM_CONNECT_TIMEOUT_MS", defaults.connect_timeout)?;
    let attempt_timeout = ms("LLM_ATTEMPT_TIMEOUT_MS", defaults.attempt_timeout)?;
    let operation_timeout = ms("LLM_TIMEOUT_MS", defaults.operation_timeout)?;
    let max_attempts = parse(
        get("LLM_MAX_ATTEMPTS"),
        "LLM_MAX_ATTEMPTS",
        defaults.max_attempts,
    )?
    .max(1);
    let retry_initial_backoff = ms("LLM_RETRY_BACKOFF_MS", defaults.retry_initial_backoff)?;
    let provider = match get("LLM_PROVIDER").map(str::trim).unwrap_or("bedrock") {
        "bedrock" => LlmProvider::Bedrock(BedrockConfig {
            region: get("AWS_REGION").unwrap_or(&defaults.region).to_owned(),
            model_id: get("BEDROCK_LLM_MODEL_ID")
                .unwrap_or(&defaults.model_id)
                .to_owned(),
            endpoint_url: get("BEDROCK_ENDPOINT_URL").map(str::to_owned),
            auth: match get("BEDROCK_API_KEY") {
                Some(key) => BedrockAuth::ApiKey(key.to_owned()),
                None => BedrockAuth::DefaultChain,
            },
            concurrency,
            max_tokens,
            connect_timeout,
            attempt_timeout,
            operation_timeout,
            max_attempts,
            retry_initial_backoff,
            prompt_cache: parse_bool(
                get("LLM_PROMPT_CACHE"),
                "LLM_PROMPT_CACHE",
                defaults.prompt_cache,
            )?,
        }),
        "openai" => {
            let openai = OpenAiConfig::default();
            let base_url = get("OPENAI_BASE_URL").unwrap_or(&openai.base_url);
            if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
                return Err(ConfigError(format!(
                    "OPENAI_BASE_URL must be an http(s) URL, got {base_url:?}"
                )));
            }
            LlmProvider::OpenAi(OpenAiConfig {
                base_url: base_url.to_owned(),
                api_key: get("OPENAI_API_KEY")
                    .filter(|k| !k.trim().is_empty())
                    .map(str::to_owned),
                model: get("OPENAI_MODEL").unwrap_or(&openai.model).to_owned(),
                concurrency,
                max_tokens,
                connect_timeout,
                attempt_timeout,
                operation_timeout,
                max_attempts,
                retry_initial_backoff,
            })
        }
        other => {
            return Err(ConfigError(format!(
                "LLM_PROVIDER must be bedrock or openai, got {other:?}"
            )));
        }
    };
    Ok(Some(LlmConfig {
        provider,
        budget: Budget {
            daily_tokens: optional(get("LLM_DAILY_TOKEN_BUDGET"), "LLM_DAILY_TOKEN_BUDGET")?,
        },
    }))
}

/// An optional number: unset or empty is `None`.
fn optional<T: std::str::FromStr>(
    value: Option<&str>,
    name: &str,
) -> Result<Option<T>, ConfigError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| ConfigError(format!("{name} has an invalid value {v:?}"))),
    }
}

fn parse<T: std::str::FromStr>(
    value: Option<&str>,
    name: &str,
    default: T,
) -> Result<T, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| ConfigError(format!("{name} has an invalid value {v:?}"))),
    }
}

fn parse_bool(value: Option<&str>, name: &str, default: bool) -> Result<bool, ConfigError> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(v) => Err(ConfigError(format!(
            "{name} must be true or false, not {v:?}"
        ))),
    }
}

/// A SQLite URL without `mode=` gets `mode=rwc`, so the file is created on first start.
fn sqlite_create_if_missing(url: &str) -> String {
    if !url.starts_with("sqlite:") || url.contains("mode=") || url.contains(":memory:") {
        return url.to_owned();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}mode=rwc")
}

/// The URL without its password, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            let user = creds.split(':').next().unwrap_or_default();
            format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests;
