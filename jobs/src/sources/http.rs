//! One polite HTTP policy for every source.
//!
//! Per host (scheme, host and port): a cap on concurrent requests and a minimum interval
//! between requests with random jitter (`governor`). Per request: a timeout, and at most
//! `max_retries` retries on 429, 5xx, timeouts and connection errors (`backon`), waiting for
//! `Retry-After` (seconds or HTTP date) when the server sends it, else exponential backoff with
//! jitter (at most half a second after a connection that could not be made). A 403 or a
//! challenge page is never retried: the source is marked degraded and every later request of
//! that source in the run fails at once without reaching the network.
//!
//! A circuit breaker per source, host and run: after `breaker_failures` consecutive failed
//! attempts (connection errors, timeouts, 5xx) every later request of the source to the host
//! fails at once with
//! [`FetchError::CircuitOpen`], waiting retries and pacing wake up and give up, and nothing
//! more reaches the network. A host that refuses connections (or does not resolve) has no one
//! to be polite to: while its last attempt failed to connect, attempts skip the pacing, so a run
//! against an unreachable network ends in seconds rather than after every source's pacing and
//! backoff.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use governor::{DefaultDirectRateLimiter, Jitter, Quota, RateLimiter};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Request, StatusCode};
use tokio::sync::{Notify, Semaphore};

/// How to treat one host.
#[derive(Debug, Clone, PartialEq)]
pub struct HostPolicy {
    /// Requests in flight at once.
    pub max_concurrency: usize,
    /// Least time between the starts of two requests.
    pub min_interval: Duration,
    /// Extra random wait added to `min_interval`, up to this much.
    pub jitter: Duration,
    /// Limit for one attempt, connection to last byte.
    pub timeout: Duration,
    /// Retries after the first attempt (429, 5xx, timeouts).
    pub max_retries: usize,
    /// First backoff when the server gives no `Retry-After`.
    pub backoff_base: Duration,
    /// Longest single wait; a `Retry-After` beyond it gives up instead of waiting.
    pub backoff_max: Duration,
}

impl Default for HostPolicy {
    fn default() -> Self {
        Self {
            max_concurrency: 2,
            min_interval: Duration::from_secs(1),
            jitter: Duration::from_millis(500),
            timeout: Duration::from_secs(15),
            max_retries: 3,
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(300),
        }
    }
}

/// Why a fetch failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FetchError {
    /// 429 after every retry; `retry_after` is the server's last hint.
    #[error("rate limited (HTTP 429) after retries")]
    RateLimited { retry_after: Option<Duration> },
    /// A status we do not retry, or a 5xx after every retry.
    #[error("HTTP {status} from the server")]
    Upstream { status: u16 },
    /// 403 or a bot challenge: the source is degraded for the rest of the run.
    #[error("blocked by the site (HTTP {status}): source degraded for this run")]
    Blocked { status: u16 },
    /// An earlier request of this source was blocked in this run.
    #[error("source degraded earlier in this run; not contacted")]
    Degraded,
    #[error("timed out after retries")]
    Timeout,
    #[error("network error: {0}")]
    Network(String),
    /// The connection could not be made (refused, unresolvable, unreachable): retried after
    /// short waits only.
    #[error("cannot connect: {0}")]
    Unreachable(String),
    /// The host failed too often in a row in this run; not contacted again.
    #[error(
        "{host} skipped for the rest of the run after {failures} consecutive failed requests (last: {cause})"
    )]
    CircuitOpen {
        host: String,
        failures: usize,
        cause: String,
    },
}

impl FetchError {
    /// A short stable name for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::RateLimited { .. } => "rate_limited",
            Self::Upstream { .. } => "upstream",
            Self::Blocked { .. } => "blocked",
            Self::Degraded => "degraded",
            Self::Timeout => "timeout",
            Self::Network(_) => "network",
            Self::Unreachable(_) => "unreachable",
            Self::CircuitOpen { .. } => "circuit_open",
        }
    }
}

impl FetchError {
    fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Timeout | Self::Network(_) | Self::Unreachable(_)
        ) || matches!(self, Self::Upstream { status } if *status >= 500)
    }
}

/// The longest wait before retrying a host that could not be connected to.
const UNREACHABLE_WAIT: Duration = Duration::from_millis(500);

/// A successful response.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: u16,
    pub body: String,
}

struct Host {
    /// `scheme://host:port`.
    key: String,
    permits: Semaphore,
    pacer: Option<DefaultDirectRateLimiter>,
    jitter: Duration,
}

/// The breakers of one run, by source and host.
type Breakers = HashMap<(&'static str, String), Arc<Breaker>>;

/// One host's consecutive failures in this run, and whether it is given up on.
#[derive(Default)]
struct Breaker {
    failures: AtomicUsize,
    /// The last attempt could not connect (refused, unresolvable).
    unreachable: AtomicBool,
    /// Why it opened, once it has.
    open: Mutex<Option<(usize, String)>>,
    opened: Notify,
}

impl Breaker {
    fn error(&self, host: &str) -> Option<FetchError> {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.as_ref()
            .map(|(failures, cause)| FetchError::CircuitOpen {
                host: host.to_owned(),
                failures: *failures,
                cause: cause.clone(),
            })
    }

    fn is_open(&self) -> bool {
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// Counts a failed attempt; opens at `threshold` (0: never).
    fn failed(&self, host: &str, threshold: usize, cause: &FetchError, connect: bool) {
        self.unreachable.store(connect, Ordering::Relaxed);
        let failures = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if threshold == 0 || failures < threshold {
            return;
        }
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if open.is_none() {
            tracing::warn!(host, failures, cause = %cause, "circuit open: host skipped for the rest of the run");
            *open = Some((failures, cause.to_string()));
            self.opened.notify_waiters();
        }
    }

    fn succeeded(&self) {
        self.failures.store(0, Ordering::Relaxed);
        self.unreachable.store(false, Ordering::Relaxed);
    }

    /// Waits for `wait` (or `until` to finish), unless the breaker opens first.
    async fn unless_opened<F: std::future::Future>(&self, until: F) {
        let notified = self.opened.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if self.is_open() {
            return;
        }
        tokio::select! {
            _ = until => {}
            _ = notified => {}
        }
    }
}

/// The shared client. Cheap to clone.
#[derive(Clone)]
pub struct PoliteClient {
    client: reqwest::Client,
    hosts: Arc<Mutex<HashMap<String, Arc<Host>>>>,
    degraded: Arc<Mutex<HashSet<&'static str>>>,
    breakers: Arc<Mutex<Breakers>>,
    /// Consecutive failed attempts that open a host's breaker (0: never).
    breaker_failures: usize,
}

impl std::fmt::Debug for PoliteClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoliteClient").finish_non_exhaustive()
    }
}

impl PoliteClient {
    /// A client; `reqwest::Client` settings (TLS, pooling) are shared by every source. A
    /// host's breaker opens after `breaker_failures` consecutive failed attempts (0: never).
    pub fn new(client: reqwest::Client, breaker_failures: usize) -> Self {
        Self {
            client,
            hosts: Arc::default(),
            degraded: Arc::default(),
            breakers: Arc::default(),
            breaker_failures,
        }
    }

    /// The underlying client, for building requests.
    pub fn http(&self) -> &reqwest::Client {
        &self.client
    }

    /// Whether `source` was blocked earlier in this run.
    pub fn is_degraded(&self, source: &'static str) -> bool {
        self.degraded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(source)
    }

    fn host(&self, key: String, policy: &HostPolicy) -> Arc<Host> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(key.clone())
            .or_insert_with(|| {
                let pacer = (!policy.min_interval.is_zero())
                    .then(|| Quota::with_period(policy.min_interval))
                    .flatten()
                    .map(|q| RateLimiter::direct(q.allow_burst(NonZeroU32::MIN)));
                Arc::new(Host {
                    key,
                    permits: Semaphore::new(policy.max_concurrency.max(1)),
                    pacer,
                    jitter: policy.jitter,
                })
            })
            .clone()
    }

    /// Sends `request` for `source` under `policy`, with pacing and retries; the body of a
    /// 2xx response, or why there is none.
    pub async fn send(
        &self,
        source: &'static str,
        policy: &HostPolicy,
        request: Request,
    ) -> Result<Page, FetchError> {
        let url = request.url();
        let key = format!(
            "{}://{}:{}",
            url.scheme(),
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or(0)
        );
        let host = self.host(key.clone(), policy);
        let breaker = self
            .breakers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((source, key))
            .or_default()
            .clone();
        let backoff = ExponentialBuilder::default()
            .with_min_delay(policy.backoff_base)
            .with_max_delay(policy.backoff_max)
            .with_max_times(policy.max_retries)
            .with_jitter();
        let cap = policy.backoff_max;
        let attempt = || async {
            let request = request
                .try_clone()
                .ok_or_else(|| FetchError::Network("request body cannot be replayed".into()))?;
            self.attempt(source, policy, &host, &breaker, request).await
        };
        let waker = breaker.clone();
        let sleeper = move |wait: Duration| {
            let breaker = waker.clone();
            async move {
                breaker.unless_opened(tokio::time::sleep(wait)).await;
            }
        };
        let started = std::time::Instant::now();
        let result = attempt
            .retry(backoff)
            .sleep(sleeper)
            .when(FetchError::is_retryable)
            .adjust(move |err, planned| match err {
                // The server's hint wins; a hint longer than we are willing to wait ends retrying.
                FetchError::RateLimited {
                    retry_after: Some(wait),
                } => (*wait <= cap).then_some(*wait),
                // Nothing answered: a quick second look, not a long wait.
                FetchError::Unreachable(_) => planned.map(|p| p.min(UNREACHABLE_WAIT)),
                _ => planned,
            })
            .notify(|err, wait| tracing::debug!(source, error = %err, ?wait, "retrying"))
            .await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.kind(),
        };
        metrics::counter!("source_requests_total", "source" => source, "outcome" => outcome)
            .increment(1);
        metrics::histogram!("source_request_duration_seconds", "source" => source)
            .record(started.elapsed().as_secs_f64());
        result
    }

    async fn attempt(
        &self,
        source: &'static str,
        policy: &HostPolicy,
        host: &Host,
        breaker: &Breaker,
        mut request: Request,
    ) -> Result<Page, FetchError> {
        if self.is_degraded(source) {
            return Err(FetchError::Degraded);
        }
        if let Some(open) = breaker.error(&host.key) {
            return Err(open);
        }
        let _permit = host
            .permits
            .acquire()
            .await
            .map_err(|_| FetchError::Network("client closed".into()))?;
        if let Some(pacer) = &host.pacer
            && !breaker.unreachable.load(Ordering::Relaxed)
        {
            breaker
                .unless_opened(pacer.until_ready_with_jitter(Jitter::up_to(host.jitter)))
                .await;
        }
        if let Some(open) = breaker.error(&host.key) {
            return Err(open);
        }
        *request.timeout_mut() = Some(policy.timeout);
        let response = match self.client.execute(request).await {
            Ok(response) => response,
            Err(e) => {
                let connect = e.is_connect() && !e.is_timeout();
                let err = if e.is_timeout() {
                    FetchError::Timeout
                } else if connect {
                    FetchError::Unreachable(describe(e))
                } else {
                    FetchError::Network(describe(e))
                };
                breaker.failed(&host.key, self.breaker_failures, &err, connect);
                return Err(err);
            }
        };
        let status = response.status();
        if status.is_server_error() {
            let err = FetchError::Upstream {
                status: status.as_u16(),
            };
            breaker.failed(&host.key, self.breaker_failures, &err, false);
        } else {
            breaker.succeeded();
        }
        let retry_after = retry_after(response.headers());
        let body = response.text().await.map_err(|e| {
            if e.is_timeout() {
                FetchError::Timeout
            } else {
                FetchError::Network(describe(e))
            }
        })?;
        if status.is_success() && !is_challenge(status, &body) {
            return Ok(Page {
                status: status.as_u16(),
                body,
            });
        }
        if status == StatusCode::FORBIDDEN || status.as_u16() == 999 || is_challenge(status, &body)
        {
            self.degraded
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(source);
            tracing::warn!(
                source,
                status = status.as_u16(),
                "blocked: source degraded for the rest of the run"
            );
            return Err(FetchError::Blocked {
                status: status.as_u16(),
            });
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(FetchError::RateLimited { retry_after });
        }
        Err(FetchError::Upstream {
            status: status.as_u16(),
        })
    }
}

/// A reqwest error with its causes ("error sending request: connection refused"), without
/// the URL (query strings may carry keys).
pub fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// `Retry-After` as seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = when.signed_duration_since(chrono::Utc::now());
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// A bot-protection page (Cloudflare "Just a moment...", WAF errors) rather than content.
pub fn is_challenge(status: StatusCode, body: &str) -> bool {
    let head = &body[..body.len().min(4096)];
    let challenge = head.contains("Just a moment...")
        || head.contains("cf-chl-")
        || head.contains("forbidden cf-waf")
        || head.contains("challenge-platform");
    challenge
        && (status.is_success()
            || status == StatusCode::FORBIDDEN
            || status == StatusCode::SERVICE_UNAVAILABLE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_as_seconds_or_http_date() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        let later = (chrono::Utc::now() + chrono::Duration::seconds(30))
            .to_rfc2822()
            .replace("+0000", "GMT");
        h.insert(RETRY_AFTER, HeaderValue::from_str(&later).expect("header"));
        let wait = retry_after(&h).expect("date");
        assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(
            retry_after(&h),
            Some(Duration::ZERO),
            "a past date means now"
        );
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn challenge_pages_are_recognized() {
        assert!(is_challenge(
            StatusCode::FORBIDDEN,
            "<title>Just a moment...</title>"
        ));
        assert!(is_challenge(
            StatusCode::OK,
            "<html><script src=/cdn-cgi/challenge-platform/x></script>"
        ));
        assert!(!is_challenge(StatusCode::OK, "{\"jobs\": []}"));
    }
}
