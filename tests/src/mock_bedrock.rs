//! A local stand-in for Bedrock Runtime's Converse API on 127.0.0.1, speaking its wire format:
//! `POST /model/{modelId}/converse` with the JSON body the SDK sends; success bodies with
//! `output.message.content` (`text` and `toolUse` blocks), `stopReason`, `usage` and `metrics`;
//! errors as the service sends them, the type in the `x-amzn-ErrorType` header and a JSON
//! `message`. Replies are scripted per test (one-shot replies first, then a responder that sees
//! the request), and every call is recorded. [`Call::listings`] reads a scoring batch's
//! listings back out of the prompt, and [`BedrockReply::scores`] answers one entry per listing.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};

/// A call the mock received.
#[derive(Debug, Clone)]
pub struct Call {
    /// The model id from the path, percent-decoded.
    pub model_id: String,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Call {
    /// The forced tool's name (`toolConfig.toolChoice.tool.name`).
    pub fn forced_tool(&self) -> Option<&str> {
        self.body
            .pointer("/toolConfig/toolChoice/tool/name")
            .and_then(Value::as_str)
    }

    /// The user message's text: its text blocks joined by blank lines.
    pub fn prompt(&self) -> String {
        self.body
            .pointer("/messages/0/content")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    /// Whether the user message carries a `cachePoint` block, and the text before it.
    pub fn cached_prefix(&self) -> Option<String> {
        let blocks = self.body.pointer("/messages/0/content")?.as_array()?;
        let at = blocks.iter().position(|b| b.get("cachePoint").is_some())?;
        Some(
            blocks[..at]
                .iter()
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n\n"),
        )
    }

    /// The listings of a scoring batch (`<listing id="L1">…</listing>` in the prompt).
    pub fn listings(&self) -> Vec<PromptListing> {
        prompt_listings(&self.prompt())
    }
}

/// The listings of a scoring batch in a prompt (`<listing id="L1">…</listing>`), whichever the
/// provider.
pub fn prompt_listings(prompt: &str) -> Vec<PromptListing> {
    let mut out = Vec::new();
    let mut rest = prompt;
    while let Some(start) = rest.find("<listing id=\"") {
        rest = &rest[start + 13..];
        let Some(quote) = rest.find('"') else { break };
        let id = rest[..quote].to_owned();
        let Some(end) = rest.find("</listing>") else {
            break;
        };
        let text = rest[quote + 2..end].trim().to_owned();
        let title = text
            .lines()
            .find_map(|l| l.strip_prefix("Title: "))
            .unwrap_or_default()
            .to_owned();
        out.push(PromptListing { id, title, text });
        rest = &rest[end..];
    }
    out
}

/// One listing of a scoring batch as the prompt shows it.
#[derive(Debug, Clone)]
pub struct PromptListing {
    /// `L1`, `L2`, …: the id the answer must use.
    pub id: String,
    pub title: String,
    /// Title, company, location and description.
    pub text: String,
}

/// One reply.
#[derive(Debug, Clone)]
pub struct BedrockReply {
    status: u16,
    error_type: Option<String>,
    body: String,
    delay: Duration,
}

impl BedrockReply {
    /// A successful answer calling `tool` with `input`, optionally after a text block.
    pub fn tool_use(tool: &str, input: Value, text_first: Option<&str>) -> Self {
        let mut content = Vec::new();
        if let Some(text) = text_first {
            content.push(json!({"text": text}));
        }
        content.push(
            json!({"toolUse": {"toolUseId": "tooluse_mock_01", "name": tool, "input": input}}),
        );
        Self::ok(json!({
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": "tool_use",
            "usage": {"inputTokens": 812, "outputTokens": 64, "totalTokens": 876},
            "metrics": {"latencyMs": 420}
        }))
    }

    /// A successful answer reporting these token counts.
    pub fn tool_use_with_usage(tool: &str, input: Value, usage: MockUsage) -> Self {
        Self::ok(json!({
            "output": {"message": {"role": "assistant", "content": [
                {"toolUse": {"toolUseId": "tooluse_mock_01", "name": tool, "input": input}}
            ]}},
            "stopReason": "tool_use",
            "usage": {
                "inputTokens": usage.input, "outputTokens": usage.output,
                "cacheReadInputTokens": usage.cache_read,
                "cacheWriteInputTokens": usage.cache_write,
                "totalTokens": usage.input + usage.output + usage.cache_read + usage.cache_write
            },
            "metrics": {"latencyMs": 420}
        }))
    }

    /// The answer to a scoring batch: one `record_matches` entry per listing of `call`, each
    /// `entry(listing)` (an object with `score`, `reason`, … — `listing_id` is added).
    pub fn scores(call: &Call, entry: impl Fn(&PromptListing) -> Value) -> Self {
        Self::tool_use("record_matches", batch_input(call, entry), None)
    }

    /// A text-only answer (the model ignored the tool).
    pub fn text_only(text: &str) -> Self {
        Self::ok(json!({
            "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 700, "outputTokens": 12, "totalTokens": 712},
            "metrics": {"latencyMs": 300}
        }))
    }

    /// An answer stopped by a content filter.
    pub fn content_filtered() -> Self {
        Self::ok(json!({
            "output": {"message": {"role": "assistant", "content": [{"text": ""}]}},
            "stopReason": "content_filtered",
            "usage": {"inputTokens": 700, "outputTokens": 0, "totalTokens": 700},
            "metrics": {"latencyMs": 120}
        }))
    }

    fn ok(body: Value) -> Self {
        Self {
            status: 200,
            error_type: None,
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    /// An error as Bedrock sends it: `429 ThrottlingException`, `400 ValidationException`,
    /// `503 ServiceUnavailableException`, `408 ModelTimeoutException`, …
    pub fn error(status: u16, error_type: &str, message: &str) -> Self {
        Self {
            status,
            error_type: Some(format!(
                "{error_type}:http://internal.amazon.com/coral/com.amazon.bedrock/"
            )),
            body: json!({"message": message}).to_string(),
            delay: Duration::ZERO,
        }
    }

    /// A 200 whose body is not JSON.
    pub fn malformed() -> Self {
        Self {
            status: 200,
            error_type: None,
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

/// The `record_matches` arguments for `call`'s listings, each `entry(listing)` with its id.
pub fn batch_input(call: &Call, entry: impl Fn(&PromptListing) -> Value) -> Value {
    batch_answer(&call.listings(), entry)
}

/// The `record_matches` arguments for `listings`, each `entry(listing)` with its id.
pub fn batch_answer(listings: &[PromptListing], entry: impl Fn(&PromptListing) -> Value) -> Value {
    let matches: Vec<Value> = listings
        .iter()
        .map(|l| {
            let mut e = entry(l);
            if let Some(map) = e.as_object_mut() {
                map.insert("listing_id".into(), Value::String(l.id.clone()));
            }
            e
        })
        .collect();
    json!({ "matches": matches })
}

/// Token counts a reply reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MockUsage {
    pub input: i64,
    pub output: i64,
    pub cache_read: i64,
    pub cache_write: i64,
}

type Responder = Arc<dyn Fn(&Call) -> BedrockReply + Send + Sync>;

#[derive(Default)]
struct State {
    once: VecDeque<BedrockReply>,
    responder: Option<Responder>,
    calls: Vec<Call>,
}

/// The running mock.
#[derive(Clone)]
pub struct MockBedrock {
    /// `http://127.0.0.1:PORT`: the endpoint URL to configure.
    pub endpoint: String,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for MockBedrock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockBedrock")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl MockBedrock {
    /// Starts on a random port; it stops with the test's runtime.
    pub async fn start() -> Self {
        let state: Arc<Mutex<State>> = Arc::default();
        let handler_state = state.clone();
        let app = axum::Router::new().route(
            "/model/{model_id}/converse",
            axum::routing::post(
                move |Path(model_id): Path<String>, headers: HeaderMap, body: String| {
                    let state = handler_state.clone();
                    async move { answer(&state, model_id, headers, &body).await }
                },
            ),
        );
        Self {
            endpoint: crate::mock_boards::serve_locally(app).await,
            state,
        }
    }

    /// Answers the next calls with these replies, in order, before the responder.
    pub fn script(&self, replies: Vec<BedrockReply>) -> &Self {
        self.state.lock().expect("mock").once.extend(replies);
        self
    }

    /// Answers every call not scripted with `responder(call)`.
    pub fn respond(&self, responder: impl Fn(&Call) -> BedrockReply + Send + Sync + 'static) {
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

    /// Configuration variables pointing an app at this mock with the LLM on.
    pub fn vars(&self, vars: &mut std::collections::HashMap<String, String>) {
        for (k, v) in [
            ("BEDROCK_LLM_ENABLED", "true"),
            ("BEDROCK_LLM_MODEL_ID", MODEL_ID),
            ("AWS_REGION", "us-east-1"),
            ("BEDROCK_API_KEY", API_KEY),
            ("LLM_MAX_ATTEMPTS", "2"),
            ("LLM_RETRY_BACKOFF_MS", "10"),
            ("LLM_ATTEMPT_TIMEOUT_MS", "2000"),
            ("LLM_TIMEOUT_MS", "5000"),
        ] {
            vars.insert(k.into(), v.into());
        }
        vars.insert("BEDROCK_ENDPOINT_URL".into(), self.endpoint.clone());
    }
}

/// The model id test apps use (with the `:` the real ids have, which the SDK percent-encodes).
pub const MODEL_ID: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";
/// The Bedrock API key test apps send.
pub const API_KEY: &str = "bedrock-api-key-for-tests";

async fn answer(
    state: &Mutex<State>,
    model_id: String,
    headers: HeaderMap,
    body: &str,
) -> Response {
    let call = Call {
        model_id,
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
                None => BedrockReply::error(500, "InternalServerException", "no reply scripted"),
            },
        }
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = Response::builder()
        .status(reply.status)
        .header("content-type", "application/json")
        .header("x-amzn-requestid", "00000000-0000-4000-8000-000000000000");
    if let Some(t) = &reply.error_type {
        response = response.header("x-amzn-ErrorType", t);
    }
    response.body(Body::from(reply.body)).unwrap_or_default()
}
