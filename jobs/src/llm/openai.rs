//! [`Llm`] on an OpenAI-compatible Chat Completions API (`POST {base_url}/chat/completions`):
//! OpenAI itself, or a local server (vLLM, llama.cpp, Ollama, LM Studio) speaking its dialect.
//!
//! One client per process, built from [`OpenAiConfig`]: the base URL, the model, an optional API
//! key (a bearer token; local servers often need none), explicit connect / attempt / operation
//! timeouts, and our own cap on calls in flight (`LLM_CONCURRENCY`). Retries are our own: a 429
//! waits for `Retry-After` (seconds or an HTTP date) or backs off exponentially with jitter, as
//! do 5xx, timeouts and connection errors; other 4xx fail at once. Requests force the tool with
//! `tool_choice: {type: "function", function: {name}}` at temperature 0 with a bounded
//! `max_tokens`. The answer is the tool call's `arguments` (a JSON string, or an object from some
//! servers); from a server that ignores tools, a JSON object in the message `content` (bare,
//! fenced or inside prose) is taken instead. OpenAI caches long prompt prefixes by itself, so the
//! request's cacheable prefix just goes first in the user message; the cached tokens it reports
//! are kept in [`Usage`] as cache reads. The API key never appears in an error or a log.

use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::{StatusCode, Url};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::{Llm, LlmError, ToolReply, ToolRequest, Usage};
use crate::sources::http::{describe, retry_after};

/// Everything the OpenAI-compatible client is built from.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenAiConfig {
    /// `OPENAI_BASE_URL`: the API root, `https://api.openai.com/v1` or a local server's
    /// `http://localhost:8000/v1`; requests go to `{base_url}/chat/completions`.
    pub base_url: String,
    /// `OPENAI_API_KEY`: sent as `Authorization: Bearer …` when set.
    pub api_key: Option<String>,
    /// `OPENAI_MODEL`: the model name the server knows.
    pub model: String,
    /// `LLM_CONCURRENCY`: calls in flight at most, across the process.
    pub concurrency: usize,
    /// `LLM_MAX_TOKENS`: the answer's token budget.
    pub max_tokens: i32,
    /// `LLM_CONNECT_TIMEOUT_MS`.
    pub connect_timeout: Duration,
    /// `LLM_ATTEMPT_TIMEOUT_MS`: one HTTP attempt, including the model's time.
    pub attempt_timeout: Duration,
    /// `LLM_TIMEOUT_MS`: the whole call, retries and their waits included.
    pub operation_timeout: Duration,
    /// `LLM_MAX_ATTEMPTS`: attempts per call (1 = no retry).
    pub max_attempts: u32,
    /// `LLM_RETRY_BACKOFF_MS`: the first retry's delay; it grows exponentially with jitter.
    pub retry_initial_backoff: Duration,
}

impl Default for OpenAiConfig {
    fn default() -> Self {
        Self {
            base_url: "https://api.openai.com/v1".into(),
            api_key: None,
            model: "gpt-4o-mini".into(),
            concurrency: 8,
            max_tokens: 1024,
            connect_timeout: Duration::from_secs(3),
            attempt_timeout: Duration::from_secs(30),
            operation_timeout: Duration::from_secs(75),
            max_attempts: 3,
            retry_initial_backoff: Duration::from_secs(1),
        }
    }
}

impl std::fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("model", &self.model)
            .field("concurrency", &self.concurrency)
            .field("max_tokens", &self.max_tokens)
            .field("connect_timeout", &self.connect_timeout)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("operation_timeout", &self.operation_timeout)
            .field("max_attempts", &self.max_attempts)
            .field("retry_initial_backoff", &self.retry_initial_backoff)
            .finish()
    }
}

/// The longest backoff between two attempts (a `Retry-After` may ask for more).
const MAX_BACKOFF: Duration = Duration::from_secs(20);

/// The most characters of a server's error message kept in an [`LlmError`].
const MAX_MESSAGE_CHARS: usize = 300;

/// The Chat Completions client with its concurrency cap.
#[derive(Clone)]
pub struct OpenAiLlm {
    client: reqwest::Client,
    /// `{base_url}/chat/completions`.
    url: Url,
    api_key: Option<String>,
    model: String,
    max_tokens: i32,
    attempt_timeout: Duration,
    operation_timeout: Duration,
    max_attempts: u32,
    retry_initial_backoff: Duration,
    permits: Arc<Semaphore>,
}

impl std::fmt::Debug for OpenAiLlm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiLlm")
            .field("url", &self.url.as_str())
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

impl OpenAiLlm {
    /// Builds the client; `Validation` when the base URL is not an http(s) URL, `Unavailable`
    /// when no HTTP client can be built (no TLS roots).
    pub fn new(config: &OpenAiConfig) -> Result<Self, LlmError> {
        let url = format!("{}/chat/completions", config.base_url.trim_end_matches('/'));
        let url = Url::parse(&url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| {
                LlmError::Validation(format!(
                    "OPENAI_BASE_URL {:?} is not an http(s) URL",
                    config.base_url
                ))
            })?;
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| {
                LlmError::Unavailable(format!("cannot build the HTTP client: {}", describe(e)))
            })?;
        Ok(Self {
            client,
            url,
            api_key: config.api_key.clone().filter(|k| !k.is_empty()),
            model: config.model.clone(),
            max_tokens: config.max_tokens.max(1),
            attempt_timeout: config.attempt_timeout,
            operation_timeout: config.operation_timeout,
            max_attempts: config.max_attempts.max(1),
            retry_initial_backoff: config.retry_initial_backoff,
            permits: Arc::new(Semaphore::new(config.concurrency.max(1))),
        })
    }

    /// Posts `body` with retries until an attempt answers 2xx (its body), one fails for good,
    /// the attempts are spent, or the next wait would outlast the operation timeout (the last
    /// attempt's error).
    async fn post(&self, body: &Value) -> Result<String, LlmError> {
        let deadline = Instant::now() + self.operation_timeout;
        let mut backoff = ExponentialBuilder::default()
            .with_min_delay(self.retry_initial_backoff)
            .with_max_delay(MAX_BACKOFF)
            .with_jitter()
            .without_max_times()
            .build();
        let mut attempt = 1;
        loop {
            let budget = self
                .attempt_timeout
                .min(deadline.saturating_duration_since(Instant::now()));
            let failure = match tokio::time::timeout(budget, self.attempt(body)).await {
                Ok(Ok(text)) => return Ok(text),
                Ok(Err(failure)) => failure,
                Err(_) => Failure {
                    error: LlmError::Timeout(format!("no answer within {} ms", budget.as_millis())),
                    retry: Retry::Backoff,
                },
            };
            let wait = match failure.retry {
                Retry::Never => return Err(failure.error),
                Retry::After(wait) => wait,
                Retry::Backoff => backoff.next().unwrap_or(self.retry_initial_backoff),
            };
            if attempt >= self.max_attempts
                || wait >= deadline.saturating_duration_since(Instant::now())
            {
                return Err(failure.error);
            }
            tracing::debug!(
                model = %self.model,
                attempt,
                error = %failure.error,
                wait_ms = wait.as_millis(),
                "retrying LLM call"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One HTTP attempt: the body of a 2xx answer, or how it failed.
    async fn attempt(&self, body: &Value) -> Result<String, Failure> {
        let mut request = self.client.post(self.url.clone()).json(body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let wait = retry_after(response.headers());
        let text = response.text().await.map_err(transport)?;
        if status.is_success() {
            return Ok(text);
        }
        let message = server_message(&text, self.api_key.as_deref());
        Err(classify(status, wait, message))
    }
}

#[async_trait::async_trait]
impl Llm for OpenAiLlm {
    fn model_id(&self) -> &str {
        &self.model
    }

    fn provider(&self) -> &'static str {
        "openai"
    }

    async fn call_tool(&self, request: ToolRequest<'_>) -> Result<ToolReply, LlmError> {
        let tool = request.tool;
        let body = json!({
            "model": self.model,
            "messages": [
                {"role": "system", "content": request.system},
                {"role": "user", "content": request.message()},
            ],
            "tools": [{"type": "function", "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.schema,
            }}],
            "tool_choice": {"type": "function", "function": {"name": tool.name}},
            "temperature": 0,
            "max_tokens": request.max_tokens.unwrap_or(self.max_tokens),
        });

        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| LlmError::Unavailable("the LLM client is shutting down".into()))?;
        let started = std::time::Instant::now();
        let text = self.post(&body).await?;
        let latency = started.elapsed();

        let completion = parse_completion(&text)?;
        let usage = completion.usage();
        tracing::debug!(
            model = %self.model,
            tool = tool.name,
            input_tokens = usage.input_tokens,
            output_tokens = usage.output_tokens,
            cache_read_tokens = usage.cache_read_tokens,
            latency_ms = latency.as_millis(),
            "LLM call"
        );
        let input = completion.tool_input(tool.name)?;
        Ok(ToolReply {
            input,
            usage,
            latency,
        })
    }
}

/// A failed attempt: the error the call ends in if it is the last, and whether to try again.
#[derive(Debug)]
struct Failure {
    error: LlmError,
    retry: Retry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Another attempt would fail the same way.
    Never,
    /// After the next exponential backoff.
    Backoff,
    /// After the server's `Retry-After`.
    After(Duration),
}

/// A request that got no HTTP answer: timeouts and connection failures, both worth a retry.
fn transport(e: reqwest::Error) -> Failure {
    let error = if e.is_timeout() {
        LlmError::Timeout(describe(e))
    } else {
        LlmError::Unavailable(format!("could not reach the server: {}", describe(e)))
    };
    Failure {
        error,
        retry: Retry::Backoff,
    }
}

/// What a non-2xx status means, with the server's (redacted) message.
fn classify(status: StatusCode, retry_after: Option<Duration>, message: Option<String>) -> Failure {
    let detail = match message {
        Some(m) => format!("HTTP {}: {m}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    };
    let (error, retry) = match status.as_u16() {
        429 => (
            LlmError::Throttled(detail),
            retry_after.map_or(Retry::Backoff, Retry::After),
        ),
        408 => (LlmError::Timeout(detail), Retry::Backoff),
        401 | 403 => (
            LlmError::Unavailable(format!("access denied: {detail}")),
            Retry::Never,
        ),
        500..=599 => (LlmError::Unavailable(detail), Retry::Backoff),
        400..=499 => (LlmError::Validation(detail), Retry::Never),
        _ => (
            LlmError::Unavailable(format!("unexpected {detail}")),
            Retry::Never,
        ),
    };
    Failure { error, retry }
}

/// The message of an error body (`{"error": {"message"}}`, or `{"error": "…"}` as some local
/// servers send), with the API key masked and at most [`MAX_MESSAGE_CHARS`] characters.
fn server_message(body: &str, api_key: Option<&str>) -> Option<String> {
    let body: Value = serde_json::from_str(body).ok()?;
    let error = body.get("error")?;
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .or_else(|| error.as_str())
        .map(str::trim)
        .filter(|m| !m.is_empty())?;
    let message = match api_key {
        Some(key) => message.replace(key, "***"),
        None => message.to_owned(),
    };
    Some(message.chars().take(MAX_MESSAGE_CHARS).collect())
}

/// A Chat Completions answer, as far as we read it.
#[derive(Debug, Deserialize)]
struct Completion {
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    #[serde(default)]
    message: Option<Message>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<Value>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCall>>,
}

#[derive(Debug, Deserialize)]
struct ToolCall {
    function: FunctionCall,
}

#[derive(Debug, Deserialize)]
struct FunctionCall {
    name: String,
    /// A JSON string by the spec; an object from some servers.
    #[serde(default)]
    arguments: Value,
}

#[derive(Debug, Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: Option<i32>,
    #[serde(default)]
    completion_tokens: Option<i32>,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
}

#[derive(Debug, Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Option<i32>,
}

/// A 2xx body as a completion with at least one choice; `Malformed` otherwise.
fn parse_completion(body: &str) -> Result<Completion, LlmError> {
    let completion: Completion = serde_json::from_str(body)
        .map_err(|e| LlmError::Malformed(format!("the answer is not a chat completion: {e}")))?;
    if completion.choices.is_empty() {
        return Err(LlmError::Malformed("the answer has no choices".into()));
    }
    Ok(completion)
}

impl Completion {
    /// The tokens used; cached prompt tokens count as cache reads, not as input.
    fn usage(&self) -> Usage {
        let Some(u) = &self.usage else {
            return Usage::default();
        };
        let prompt = u.prompt_tokens.unwrap_or(0).max(0);
        let cached = u
            .prompt_tokens_details
            .as_ref()
            .and_then(|d| d.cached_tokens)
            .unwrap_or(0)
            .clamp(0, prompt);
        Usage {
            input_tokens: prompt - cached,
            output_tokens: u.completion_tokens.unwrap_or(0).max(0),
            cache_read_tokens: cached,
            cache_write_tokens: 0,
        }
    }

    /// The arguments of the first choice's call of `tool`, else a JSON object in its content.
    fn tool_input(&self, tool: &str) -> Result<Value, LlmError> {
        let choice = self
            .choices
            .first()
            .ok_or_else(|| LlmError::Malformed("the answer has no choices".into()))?;
        let finish = choice.finish_reason.as_deref().unwrap_or("none");
        if finish == "content_filter" {
            return Err(LlmError::ContentFiltered(format!("finish reason {finish}")));
        }
        let calls = choice
            .message
            .as_ref()
            .and_then(|m| m.tool_calls.as_deref())
            .unwrap_or_default();
        if let Some(call) = calls.iter().find(|c| c.function.name == tool) {
            return arguments(&call.function.arguments)
                .ok_or_else(|| LlmError::Malformed(format!("{tool} arguments are not an object")));
        }
        let content = choice
            .message
            .as_ref()
            .and_then(|m| m.content.as_ref())
            .and_then(Value::as_str);
        content.and_then(json_object_in).ok_or_else(|| {
            LlmError::MissingToolOutput(format!(
                "finish reason {finish}, {} tool call(s), none a call of {tool}, and no JSON \
                 object in the content",
                calls.len()
            ))
        })
    }
}

/// Tool arguments as a JSON object: parsed from a string, or as sent when already an object.
fn arguments(value: &Value) -> Option<Value> {
    let parsed = match value {
        Value::String(s) => serde_json::from_str(s).ok()?,
        other => other.clone(),
    };
    parsed.is_object().then_some(parsed)
}

/// The JSON object in a text answer: the value starting at the first `{`, so a ```` ```json ````
/// fence or prose around the object does not matter (what follows it is ignored).
fn json_object_in(text: &str) -> Option<Value> {
    let start = text.find('{')?;
    let mut values = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
    match values.next() {
        Some(Ok(object @ Value::Object(_))) => Some(object),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_json_is_found_bare_fenced_or_in_prose() {
        let want = json!({"score": 87, "reasons": ["rust"]});
        for text in [
            r#"{"score": 87, "reasons": ["rust"]}"#,
            "```json\n{\"score\": 87, \"reasons\": [\"rust\"]}\n```",
            "Here is my answer:\n```\n{\"score\": 87, \"reasons\": [\"rust\"]}\n```\nHope it helps {:",
            "Sure! {\"score\": 87, \"reasons\": [\"rust\"]} That is all.",
        ] {
            assert_eq!(json_object_in(text), Some(want.clone()), "{text}");
        }
        for text in ["I think the score is 80.", "[1, 2]", "{\"score\": 8", ""] {
            assert_eq!(json_object_in(text), None, "{text}");
        }
    }

    #[test]
    fn arguments_are_a_json_string_or_an_object() {
        assert_eq!(
            arguments(&json!("{\"score\": 3}")),
            Some(json!({"score": 3}))
        );
        assert_eq!(arguments(&json!({"score": 3})), Some(json!({"score": 3})));
        assert_eq!(arguments(&json!("\"87\"")), None);
        assert_eq!(arguments(&json!("not json")), None);
        assert_eq!(arguments(&Value::Null), None);
    }

    #[test]
    fn tool_calls_win_over_content_and_other_tools_are_ignored() {
        let body = json!({"choices": [{"message": {
            "content": "{\"score\": 1}",
            "tool_calls": [
                {"function": {"name": "other", "arguments": "{\"score\": 2}"}},
                {"function": {"name": "record_match", "arguments": "{\"score\": 3}"}},
            ]}, "finish_reason": "stop"}]});
        let completion = parse_completion(&body.to_string()).expect("completion");
        assert_eq!(
            completion.tool_input("record_match"),
            Ok(json!({"score": 3}))
        );
        assert_eq!(completion.tool_input("nothing"), Ok(json!({"score": 1})));
    }

    #[test]
    fn bodies_without_choices_are_malformed_and_filters_are_typed() {
        for body in ["<html>oops</html>", "{}", r#"{"choices": []}"#] {
            assert!(
                matches!(parse_completion(body), Err(LlmError::Malformed(_))),
                "{body}"
            );
        }
        let filtered =
            r#"{"choices": [{"message": {"content": null}, "finish_reason": "content_filter"}]}"#;
        let completion = parse_completion(filtered).expect("completion");
        assert!(matches!(
            completion.tool_input("t"),
            Err(LlmError::ContentFiltered(_))
        ));
        assert_eq!(completion.usage(), Usage::default(), "no usage is zeros");
    }

    #[test]
    fn cached_prompt_tokens_are_cache_reads() {
        let body = r#"{"choices": [{"message": {}}], "usage": {"prompt_tokens": 1200,
            "completion_tokens": 80, "prompt_tokens_details": {"cached_tokens": 1024}}}"#;
        let usage = parse_completion(body).expect("completion").usage();
        assert_eq!(
            usage,
            Usage {
                input_tokens: 176,
                output_tokens: 80,
                cache_read_tokens: 1024,
                cache_write_tokens: 0
            }
        );
    }

    #[test]
    fn statuses_map_to_kinds_and_retries() {
        let wait = Some(Duration::from_secs(2));
        let cases = [
            (429, wait, "throttled", Retry::After(Duration::from_secs(2))),
            (429, None, "throttled", Retry::Backoff),
            (503, wait, "unavailable", Retry::Backoff),
            (500, None, "unavailable", Retry::Backoff),
            (408, None, "timeout", Retry::Backoff),
            (400, None, "validation", Retry::Never),
            (404, None, "validation", Retry::Never),
            (422, None, "validation", Retry::Never),
            (401, None, "unavailable", Retry::Never),
            (403, None, "unavailable", Retry::Never),
        ];
        for (status, retry_after, kind, retry) in cases {
            let status = StatusCode::from_u16(status).expect("status");
            let failure = classify(status, retry_after, Some("why".into()));
            assert_eq!(
                (failure.error.kind(), failure.retry),
                (kind, retry),
                "{status}"
            );
            assert!(failure.error.to_string().contains("why"), "{status}");
        }
    }

    #[test]
    fn server_messages_are_read_and_the_key_masked() {
        let body = r#"{"error": {"message": "Incorrect API key provided: sk-secret-1.",
            "type": "invalid_request_error", "code": "invalid_api_key"}}"#;
        assert_eq!(
            server_message(body, Some("sk-secret-1")).as_deref(),
            Some("Incorrect API key provided: ***.")
        );
        assert_eq!(
            server_message(r#"{"error": "model 'x' not found"}"#, None).as_deref(),
            Some("model 'x' not found")
        );
        assert_eq!(server_message("<html>502</html>", None), None);
        let long = json!({"error": {"message": "x".repeat(1000)}}).to_string();
        assert_eq!(
            server_message(&long, None).map(|m| m.len()),
            Some(MAX_MESSAGE_CHARS)
        );
    }

    #[test]
    fn a_429_waits_for_retry_after_as_seconds_or_an_http_date() {
        use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
        let later = (chrono::Utc::now() + chrono::Duration::seconds(30))
            .to_rfc2822()
            .replace("+0000", "GMT");
        let cases = [
            ("3", Duration::from_secs(3)..=Duration::from_secs(3)),
            (&later, Duration::from_secs(25)..=Duration::from_secs(30)),
            (
                "Wed, 21 Oct 2015 07:28:00 GMT",
                Duration::ZERO..=Duration::ZERO,
            ),
        ];
        for (value, expected) in cases {
            let mut headers = HeaderMap::new();
            headers.insert(RETRY_AFTER, HeaderValue::from_str(value).expect("header"));
            let failure = classify(StatusCode::TOO_MANY_REQUESTS, retry_after(&headers), None);
            let Retry::After(wait) = failure.retry else {
                panic!("{value}: {:?}", failure.retry);
            };
            assert!(expected.contains(&wait), "{value}: {wait:?}");
        }
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        let failure = classify(StatusCode::TOO_MANY_REQUESTS, retry_after(&headers), None);
        assert_eq!(
            failure.retry,
            Retry::Backoff,
            "an unreadable hint backs off"
        );
    }

    #[test]
    fn debug_output_hides_the_api_key() {
        let config = OpenAiConfig {
            api_key: Some("sk-very-secret".into()),
            ..OpenAiConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("sk-very-secret"), "{shown}");
        assert!(shown.contains("gpt-4o-mini"), "{shown}");
        let llm = OpenAiLlm::new(&config).expect("client");
        let shown = format!("{llm:?}");
        assert!(!shown.contains("sk-very-secret"), "{shown}");
        assert!(
            shown.contains("https://api.openai.com/v1/chat/completions"),
            "{shown}"
        );
    }

    #[test]
    fn a_base_url_that_is_not_http_is_rejected() {
        for base_url in ["", "api.openai.com/v1", "ftp://example.com"] {
            let config = OpenAiConfig {
                base_url: base_url.into(),
                ..OpenAiConfig::default()
            };
            assert!(
                matches!(OpenAiLlm::new(&config), Err(LlmError::Validation(_))),
                "{base_url:?}"
            );
        }
    }
}
