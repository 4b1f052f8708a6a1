//! One polite HTTP policy for every source.
//!
//! Per host (scheme, host and port): a cap on concurrent requests and a minimum interval
//! between requests with random jitter (`governor`). Per request: a timeout, and at most
//! `max_retries` retries on 429, 5xx, timeouts and connection errors (`backon`), waiting for
//! `Retry-After` (seconds or HTTP date) when the server sends it, else exponential backoff with
//! jitter. A 403 or a challenge page is never retried: the source is marked degraded and every
//! later request of that source in the run fails at once without reaching the network.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use governor::{DefaultDirectRateLimiter, Jitter, Quota, RateLimiter};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Request, StatusCode};
use tokio::sync::Semaphore;

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
}

impl FetchError {
    fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Timeout | Self::Network(_)
        ) || matches!(self, Self::Upstream { status } if *status >= 500)
    }
}

/// A successful response.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: u16,
    pub body: String,
}

struct Host {
    permits: Semaphore,
    pacer: Option<DefaultDirectRateLimiter>,
    jitter: Duration,
}

/// The shared client. Cheap to clone.
#[derive(Clone)]
pub struct PoliteClient {
    client: reqwest::Client,
    hosts: Arc<Mutex<HashMap<String, Arc<Host>>>>,
    degraded: Arc<Mutex<HashSet<&'static str>>>,
}

impl std::fmt::Debug for PoliteClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoliteClient").finish_non_exhaustive()
    }
}

impl PoliteClient {
    /// A client; `reqwest::Client` settings (TLS, pooling) are shared by every source.
    pub fn new(client: reqwest::Client) -> Self {
        Self {
            client,
            hosts: Arc::default(),
            degraded: Arc::default(),
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
            .entry(key)
            .or_insert_with(|| {
                let pacer = (!policy.min_interval.is_zero())
                    .then(|| Quota::with_period(policy.min_interval))
                    .flatten()
                    .map(|q| RateLimiter::direct(q.allow_burst(NonZeroU32::MIN)));
                Arc::new(Host {
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
        let host = self.host(key, policy);
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
            self.attempt(source, policy, &host, request).await
        };
        attempt
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(FetchError::is_retryable)
            .adjust(move |err, planned| match err {
                // The server's hint wins; a hint longer than we are willing to wait ends retrying.
                FetchError::RateLimited {
                    retry_after: Some(wait),
                } => (*wait <= cap).then_some(*wait),
                _ => planned,
            })
            .notify(|err, wait| tracing::debug!(source, error = %err, ?wait, "retrying"))
            .await
    }

    async fn attempt(
        &self,
        source: &'static str,
        policy: &HostPolicy,
        host: &Host,
        mut request: Request,
    ) -> Result<Page, FetchError> {
        if self.is_degraded(source) {
            return Err(FetchError::Degraded);
        }
        let _permit = host
            .permits
            .acquire()
            .await
            .map_err(|_| FetchError::Network("client closed".into()))?;
        if let Some(pacer) = &host.pacer {
            pacer
                .until_ready_with_jitter(Jitter::up_to(host.jitter))
                .await;
        }
        *request.timeout_mut() = Some(policy.timeout);
        let response = self.client.execute(request).await.map_err(|e| {
            if e.is_timeout() {
                FetchError::Timeout
            } else {
                FetchError::Network(describe(e))
            }
        })?;
        let status = response.status();
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
