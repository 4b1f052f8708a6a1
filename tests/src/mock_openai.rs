//! A local stand-in for an OpenAI-compatible Chat Completions server on 127.0.0.1, speaking its
//! wire format: `POST /v1/chat/completions` with the JSON body clients send; success bodies as
//! OpenAI sends them (a `chat.completion` whose `choices[].message` carries `content` and
//! `tool_calls` with `arguments` as a JSON string, a `finish_reason`, and `usage` with
//! `prompt_tokens_details.cached_tokens`); errors as `{"error": {"message", "type", "code"}}`,
//! a 429 with a `Retry-After` header. Replies are scripted per test (one-shot replies first,
//! then a responder that sees the request); every call is recorded, and so is the most calls
//! ever in flight at once.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};

/// A call the mock received.
#[derive(Debug, Clone)]
pub struct Call {
    pub headers: HeaderMap,
    pub body: Value,
}

impl Call {
    /// The forced tool's name (`tool_choice.function.name`).
    pub fn forced_tool(&self) -> Option<&str> {
        self.body
            .pointer("/tool_choice/function/name")
            .and_then(Value::as_str)
    }

    /// The system message's content.
    pub fn system(&self) -> &str {
        self.message("system")
    }

    /// The user message's content.
    pub fn user_message(&self) -> &str {
        self.message("user")
    }

    fn message(&self, role: &str) -> &str {
        self.body["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["role"] == role)
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
    }
}

/// One reply.
#[derive(Debug, Clone)]
pub struct OpenAiReply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    content_type: &'static str,
    body: String,
    delay: Duration,
}

impl OpenAiReply {
    /// A successful answer calling `tool` with `input` (812 prompt tokens, 64 completion tokens,
    /// none cached).
    pub fn tool_call(tool: &str, input: Value) -> Self {
        Self::tool_call_with_usage(tool, input, 812, 64, 0)
    }

    /// A successful answer calling `tool` with `input`, reporting this usage.
    pub fn tool_call_with_usage(
        tool: &str,
        input: Value,
        prompt_tokens: i64,
        completion_tokens: i64,
        cached_tokens: i64,
    ) -> Self {
        let message = json!({
            "role": "assistant",
            "content": null,
            "tool_calls": [{
                "id": "call_mock01",
                "type": "function",
                "function": {"name": tool, "arguments": input.to_string()},
            }],
            "refusal": null,
        });
        // With `tool_choice` naming a function, OpenAI ends the turn with "stop", not
        // "tool_calls".
        Self::completion(
            message,
            "stop",
            (prompt_tokens, completion_tokens, cached_tokens),
        )
    }

    /// An answer with `text` as the message content and no tool call, as from a server that
    /// ignores tools: the JSON object, when there is one, is somewhere in the text.
    pub fn content_json(text: &str) -> Self {
        let message = json!({"role": "assistant", "content": text, "refusal": null});
        Self::completion(message, "stop", (700, 40, 0))
    }

    /// An answer stopped by the content filter.
    pub fn content_filtered() -> Self {
        let message = json!({"role": "assistant", "content": null, "refusal": null});
        Self::completion(message, "content_filter", (700, 0, 0))
    }

    fn completion(
        message: Value,
        finish_reason: &str,
        (prompt, completion, cached): Usage,
    ) -> Self {
        Self::ok(json!({
            "id": "chatcmpl-mock0000000000000000000001",
            "object": "chat.completion",
            "created": 1_764_547_200,
            "model": MODEL,
            "choices": [{
                "index": 0,
                "message": message,
                "logprobs": null,
                "finish_reason": finish_reason,
            }],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
            },
            "system_fingerprint": "fp_mock",
        }))
    }

    fn ok(body: Value) -> Self {
        Self {
            status: 200,
            headers: Vec::new(),
            content_type: "application/json",
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    /// An error as OpenAI sends it, with the `type` and `code` it uses for the status: `400`
    /// bad request, `401` wrong key, `404` unknown model, `429` rate limit, `5xx` server error.
    pub fn error(status: u16, message: &str) -> Self {
        let (kind, code) = match status {
            401 => ("invalid_request_error", Value::from("invalid_api_key")),
            404 => ("invalid_request_error", Value::from("model_not_found")),
            429 => ("requests", Value::from("rate_limit_exceeded")),
            400..=499 => ("invalid_request_error", Value::Null),
            _ => ("server_error", Value::Null),
        };
        Self {
            status,
            headers: Vec::new(),
            content_type: "application/json",
            body: json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
                .to_string(),
            delay: Duration::ZERO,
        }
    }

    /// A 429 asking to retry after `retry_after_secs` seconds (`Retry-After`).
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut reply = Self::error(
            429,
            "Rate limit reached for requests per min (RPM): Limit 3, Used 3, Requested 1.",
        );
        reply.headers = vec![
            ("retry-after", retry_after_secs.to_string()),
            ("x-ratelimit-limit-requests", "3".into()),
            ("x-ratelimit-remaining-requests", "0".into()),
            ("x-ratelimit-reset-requests", format!("{retry_after_secs}s")),
        ];
        reply
    }

    /// A 200 whose body is not JSON.
    pub fn garbage() -> Self {
        Self {
            status: 200,
            headers: Vec::new(),
            content_type: "text/html",
            body: "<html>upstream proxy error</html>".into(),
            delay: Duration::ZERO,
        }
    }

    /// Answers only after `delay`.
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// Prompt, completion and cached tokens.
type Usage = (i64, i64, i64);

type Responder = Arc<dyn Fn(&Call) -> OpenAiReply + Send + Sync>;

#[derive(Default)]
struct State {
    once: VecDeque<OpenAiReply>,
    responder: Option<Responder>,
    calls: Vec<Call>,
    in_flight: usize,
    max_in_flight: usize,
}

/// The running mock.
#[derive(Clone)]
pub struct MockOpenAi {
    /// `http://127.0.0.1:PORT`; the base URL to configure is `{endpoint}/v1`.
    pub endpoint: String,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for MockOpenAi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockOpenAi")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl MockOpenAi {
    /// Starts on a random port; it stops with the test's runtime.
    pub async fn start() -> Self {
        let state: Arc<Mutex<State>> = Arc::default();
        let handler_state = state.clone();
        let app = axum::Router::new().route(
            "/v1/chat/completions",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let state = handler_state.clone();
                async move { answer(state, headers, &body).await }
            }),
        );
        Self {
            endpoint: crate::mock_boards::serve_locally(app).await,
            state,
        }
    }

    /// The base URL a client is configured with: `{endpoint}/v1`.
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.endpoint)
    }

    /// Answers the next calls with these replies, in order, before the responder.
    pub fn script(&self, replies: Vec<OpenAiReply>) -> &Self {
        self.state.lock().expect("mock").once.extend(replies);
        self
    }

    /// Answers every call not scripted with `responder(call)`.
    pub fn respond(&self, responder: impl Fn(&Call) -> OpenAiReply + Send + Sync + 'static) {
        self.state.lock().expect("mock").responder = Some(Arc::new(responder));
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().expect("mock").calls.clone()
    }

    /// How many calls so far.
    pub fn call_count(&self) -> usize {
        self.state.lock().expect("mock").calls.len()
    }

    /// The most calls that were being answered at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.state.lock().expect("mock").max_in_flight
    }

    /// Configuration variables pointing an app at this mock with the LLM on.
    pub fn vars(&self, vars: &mut HashMap<String, String>) {
        for (k, v) in [
            ("BEDROCK_LLM_ENABLED", "true"),
            ("LLM_PROVIDER", "openai"),
            ("OPENAI_API_KEY", API_KEY),
            ("OPENAI_MODEL", MODEL),
            ("LLM_MAX_ATTEMPTS", "2"),
            ("LLM_RETRY_BACKOFF_MS", "10"),
            ("LLM_ATTEMPT_TIMEOUT_MS", "2000"),
            ("LLM_TIMEOUT_MS", "5000"),
        ] {
            vars.insert(k.into(), v.into());
        }
        vars.insert("OPENAI_BASE_URL".into(), self.base_url());
    }
}

/// The model test apps ask for (a local model's name, as a vLLM or llama.cpp server knows it).
pub const MODEL: &str = "qwen2.5-7b-instruct";
/// The API key test apps send.
pub const API_KEY: &str = "sk-test-openai-key-for-tests";

/// Counts a call as in flight until it is answered or the client goes away.
struct InFlight(Arc<Mutex<State>>);

impl InFlight {
    fn enter(state: Arc<Mutex<State>>) -> Self {
        {
            let mut s = state.lock().expect("mock");
            s.in_flight += 1;
            s.max_in_flight = s.max_in_flight.max(s.in_flight);
        }
        Self(state)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        s.in_flight -= 1;
    }
}

async fn answer(state: Arc<Mutex<State>>, headers: HeaderMap, body: &str) -> Response {
    let _in_flight = InFlight::enter(state.clone());
    let call = Call {
        headers,
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    };
    let reply = {
        let mut s = state.lock().expect("mock");
        s.calls.push(call.clone());
        match s.once.pop_front() {
            Some(reply) => reply,
            None => match &s.responder {
                Some(responder) => responder(&call),
                None => OpenAiReply::error(500, "no reply scripted"),
            },
        }
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = Response::builder()
        .status(reply.status)
        .header("content-type", reply.content_type)
        .header("x-request-id", "req_mock0000000000000000000001");
    for (name, value) in &reply.headers {
        response = response.header(*name, value);
    }
    response.body(Body::from(reply.body)).unwrap_or_default()
}
