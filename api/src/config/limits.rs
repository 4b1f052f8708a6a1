//! The limits on clients, each with its variable: failed logins, GraphQL operations, HTTP
//! connections and requests, WebSockets.

use std::time::Duration;

use super::{ConfigError, parse};

/// How failed logins are throttled (0 turns a limit off).
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    /// `LOGIN_MAX_FAILURES`: failures per (email, client address) within the window.
    pub max_failures: u32,
    /// `LOGIN_FAILURE_WINDOW_SECONDS`.
    pub window: Duration,
    /// `LOGIN_IP_MAX_FAILURES`: failures per client address (any email) within the window.
    pub ip_max_failures: u32,
    /// `LOGIN_EMAIL_MAX_FAILURES_PER_MINUTE`: failures per email from all addresses within a
    /// minute: a short cap on spread-out guessing that never locks the owner out for long.
    pub email_max_failures_per_minute: u32,
    /// `LOGIN_THROTTLE_MAX_ENTRIES`: counters kept in memory at most.
    pub max_entries: usize,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            max_failures: 10,
            window: Duration::from_secs(900),
            ip_max_failures: 100,
            email_max_failures_per_minute: 30,
            max_entries: 100_000,
        }
    }
}

/// Limits on incoming GraphQL operations, measured before they are validated.
#[derive(Debug, Clone, Copy)]
pub struct GraphqlConfig {
    /// `GRAPHQL_MAX_DEPTH`: field nesting.
    pub max_depth: usize,
    /// `GRAPHQL_MAX_COMPLEXITY`: fields, with pages weighed by their size.
    pub max_complexity: usize,
    /// `GRAPHQL_MAX_ALIASES`: aliased fields.
    pub max_aliases: usize,
    /// `GRAPHQL_MAX_TOKENS`: lexical tokens of the query text.
    pub max_tokens: usize,
    /// `GRAPHQL_INTROSPECTION`: introspection and "did you mean" suggestions.
    pub introspection: bool,
}

/// Limits on HTTP connections and requests.
#[derive(Debug, Clone, Copy)]
pub struct HttpConfig {
    /// `HTTP_MAX_BODY_BYTES`: largest request body, and largest WebSocket message.
    pub max_body_bytes: usize,
    /// `HTTP_REQUEST_TIMEOUT_SECONDS`: a request, body and execution included.
    pub request_timeout: Duration,
    /// `HTTP_HEADER_TIMEOUT_SECONDS`: time to send a request's headers, and the longest an
    /// idle connection is kept open.
    pub header_timeout: Duration,
    /// `HTTP_MAX_CONNECTIONS`: open connections (WebSockets included); more wait to be accepted.
    pub max_connections: usize,
    /// `HTTP_MAX_CONNECTIONS_PER_IP`: open connections from one client address (0 = no cap);
    /// more are closed at once.
    pub max_connections_per_ip: usize,
    /// `WS_MAX_CONNECTIONS`: open WebSockets, a share of `max_connections` so that sockets can
    /// never take every slot from plain requests.
    pub ws_max_connections: usize,
    /// `WS_INIT_TIMEOUT_SECONDS`: a WebSocket must send `connection_init` within this.
    pub ws_init_timeout: Duration,
    /// `WS_IDLE_TIMEOUT_SECONDS`: a WebSocket with no operation running is closed after this.
    pub ws_idle_timeout: Duration,
    /// `WS_MAX_OPERATIONS`: operations running at once on one WebSocket.
    pub ws_max_operations: usize,
}

/// The HTTP limits.
pub(super) fn http_config<'a>(
    get: &impl Fn(&str) -> Option<&'a str>,
) -> Result<HttpConfig, ConfigError> {
    let secs = |name: &str, default: u64| -> Result<Duration, ConfigError> {
        Ok(Duration::from_secs(parse(get(name), name, default)?).max(Duration::from_secs(1)))
    };
    let max_connections: usize = parse(
        get("HTTP_MAX_CONNECTIONS"),
        "HTTP_MAX_CONNECTIONS",
        1024usize,
    )?
    .max(2);
    Ok(HttpConfig {
        max_body_bytes: parse(
            get("HTTP_MAX_BODY_BYTES"),
            "HTTP_MAX_BODY_BYTES",
            1024 * 1024,
        )?
        .max(1024),
        request_timeout: secs("HTTP_REQUEST_TIMEOUT_SECONDS", 30)?,
        header_timeout: secs("HTTP_HEADER_TIMEOUT_SECONDS", 10)?,
        max_connections,
        max_connections_per_ip: parse(
            get("HTTP_MAX_CONNECTIONS_PER_IP"),
            "HTTP_MAX_CONNECTIONS_PER_IP",
            64usize,
        )?,
        ws_max_connections: parse(
            get("WS_MAX_CONNECTIONS"),
            "WS_MAX_CONNECTIONS",
            max_connections / 2,
        )?
        .clamp(1, max_connections - 1),
        ws_init_timeout: secs("WS_INIT_TIMEOUT_SECONDS", 5)?,
        ws_idle_timeout: secs("WS_IDLE_TIMEOUT_SECONDS", 60)?,
        ws_max_operations: parse(get("WS_MAX_OPERATIONS"), "WS_MAX_OPERATIONS", 16usize)?.max(1),
    })
}
