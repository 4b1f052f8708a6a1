//! [`Llm`] on AWS Bedrock's Converse API (`aws-sdk-bedrockruntime`).
//!
//! One client per process, built from [`BedrockConfig`]: the region, the model id, an optional
//! endpoint URL (a VPC endpoint, or a local mock in tests), explicit connect / attempt /
//! operation timeouts, the SDK's standard retries (throttling and 5xx, with backoff and
//! `x-amz-retry-after` honoured), and our own cap on calls in flight (`LLM_CONCURRENCY`).
//! Requests force the tool with `toolChoice: {tool: {name}}` at temperature 0 with a bounded
//! `maxTokens`; the reply's `toolUse` block is taken wherever it is in the content (some models
//! write text first). A request's cacheable prefix (the resume of a scoring batch) goes first in
//! the user message, followed by a `cachePoint` when `LLM_PROMPT_CACHE` is on and the model
//! supports prompt caching ([`supports_prompt_cache`]); the cache read and write tokens the
//! answer reports are kept in [`Usage`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::config::retry::RetryConfig;
use aws_sdk_bedrockruntime::config::timeout::TimeoutConfig;
use aws_sdk_bedrockruntime::config::{BehaviorVersion, Credentials, Region, Token};
use aws_sdk_bedrockruntime::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_bedrockruntime::operation::converse::ConverseError;
use aws_sdk_bedrockruntime::types::{
    CachePointBlock, CachePointType, ContentBlock, ConversationRole, InferenceConfiguration,
    Message, SpecificToolChoice, StopReason, SystemContentBlock, ToolChoice, ToolConfiguration,
    ToolInputSchema, ToolSpecification,
};
use aws_smithy_types::{Document, Number};
use tokio::sync::Semaphore;

use super::{Llm, LlmError, ToolReply, ToolRequest, Usage};

/// How requests are signed.
#[derive(Clone, PartialEq, Eq)]
pub enum BedrockAuth {
    /// The standard AWS credential chain (environment, profile, web identity, container and
    /// instance roles); a Bedrock API key in `AWS_BEARER_TOKEN_BEDROCK` is honoured too.
    DefaultChain,
    /// A Bedrock API key (`BEDROCK_API_KEY`), sent as a bearer token.
    ApiKey(String),
    /// Fixed access keys (for tools and tests that must not read the environment).
    Static {
        access_key_id: String,
        secret_access_key: String,
    },
}

impl std::fmt::Debug for BedrockAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::DefaultChain => "DefaultChain",
            Self::ApiKey(_) => "ApiKey(***)",
            Self::Static { .. } => "Static(***)",
        })
    }
}

/// Everything the Bedrock client is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BedrockConfig {
    /// `AWS_REGION`.
    pub region: String,
    /// `BEDROCK_LLM_MODEL_ID`: a model id or inference profile id.
    pub model_id: String,
    /// `BEDROCK_ENDPOINT_URL`: overrides the regional endpoint.
    pub endpoint_url: Option<String>,
    pub auth: BedrockAuth,
    /// `LLM_CONCURRENCY`: calls in flight at most, across the process.
    pub concurrency: usize,
    /// `LLM_MAX_TOKENS`: the answer's token budget.
    pub max_tokens: i32,
    /// `LLM_CONNECT_TIMEOUT_MS`.
    pub connect_timeout: Duration,
    /// `LLM_ATTEMPT_TIMEOUT_MS`: one HTTP attempt, including the model's time.
    pub attempt_timeout: Duration,
    /// `LLM_TIMEOUT_MS`: the whole call, retries included.
    pub operation_timeout: Duration,
    /// `LLM_MAX_ATTEMPTS`: attempts per call (1 = no retry).
    pub max_attempts: u32,
    /// `LLM_RETRY_BACKOFF_MS`: the first retry's delay; it grows exponentially with jitter.
    pub retry_initial_backoff: Duration,
    /// `LLM_PROMPT_CACHE`: mark the cacheable prefix with a `cachePoint` (when the model
    /// supports it).
    pub prompt_cache: bool,
}

impl Default for BedrockConfig {
    fn default() -> Self {
        Self {
            region: "us-east-1".into(),
            model_id: "anthropic.claude-3-5-haiku-20241022-v1:0".into(),
            endpoint_url: None,
            auth: BedrockAuth::DefaultChain,
            concurrency: 8,
            max_tokens: 1024,
            connect_timeout: Duration::from_secs(3),
            attempt_timeout: Duration::from_secs(30),
            operation_timeout: Duration::from_secs(75),
            max_attempts: 3,
            retry_initial_backoff: Duration::from_secs(1),
            prompt_cache: true,
        }
    }
}

/// Whether Bedrock supports prompt caching (`cachePoint`) for this model or inference profile
/// id: Anthropic's Claude 3.5 Haiku, 3.7 Sonnet, and the Claude 4 family; Amazon Nova. Other
/// models reject a `cachePoint`, so none is sent to them.
pub fn supports_prompt_cache(model_id: &str) -> bool {
    let id = model_id.to_ascii_lowercase();
    [
        "claude-3-5-haiku",
        "claude-3-7-sonnet",
        "claude-sonnet-4",
        "claude-opus-4",
        "claude-haiku-4",
        "amazon.nova-",
    ]
    .iter()
    .any(|m| id.contains(m))
}

/// The Converse client with its concurrency cap.
#[derive(Debug, Clone)]
pub struct BedrockLlm {
    client: Client,
    model_id: String,
    max_tokens: i32,
    prompt_cache: bool,
    permits: Arc<Semaphore>,
}

impl BedrockLlm {
    /// Builds the client. Credentials are resolved lazily, on the first call.
    pub async fn new(config: &BedrockConfig) -> Self {
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(config.connect_timeout)
            .operation_attempt_timeout(config.attempt_timeout)
            .operation_timeout(config.operation_timeout)
            .build();
        let retries = RetryConfig::standard()
            .with_max_attempts(config.max_attempts.max(1))
            .with_initial_backoff(config.retry_initial_backoff);
        let mut builder = match &config.auth {
            BedrockAuth::DefaultChain => {
                let shared = aws_config::defaults(BehaviorVersion::latest())
                    .region(Region::new(config.region.clone()))
                    .load()
                    .await;
                aws_sdk_bedrockruntime::config::Builder::from(&shared)
            }
            BedrockAuth::ApiKey(key) => aws_sdk_bedrockruntime::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new(config.region.clone()))
                .bearer_token(Token::new(key.clone(), None)),
            BedrockAuth::Static {
                access_key_id,
                secret_access_key,
            } => aws_sdk_bedrockruntime::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new(config.region.clone()))
                .credentials_provider(Credentials::new(
                    access_key_id,
                    secret_access_key,
                    None,
                    None,
                    "jobcollector-config",
                )),
        };
        builder = builder.timeout_config(timeouts).retry_config(retries);
        if let Some(url) = &config.endpoint_url {
            builder = builder.endpoint_url(url);
        }
        Self {
            client: Client::from_conf(builder.build()),
            model_id: config.model_id.clone(),
            max_tokens: config.max_tokens.max(1),
            prompt_cache: config.prompt_cache && supports_prompt_cache(&config.model_id),
            permits: Arc::new(Semaphore::new(config.concurrency.max(1))),
        }
    }
}

#[async_trait::async_trait]
impl Llm for BedrockLlm {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn provider(&self) -> &'static str {
        "bedrock"
    }

    async fn call_tool(&self, request: ToolRequest<'_>) -> Result<ToolReply, LlmError> {
        let tool = &request.tool;
        let spec = ToolSpecification::builder()
            .name(tool.name)
            .description(tool.description)
            .input_schema(ToolInputSchema::Json(to_document(&tool.schema)))
            .build()
            .map_err(|e| LlmError::Validation(e.to_string()))?;
        let choice = SpecificToolChoice::builder()
            .name(tool.name)
            .build()
            .map_err(|e| LlmError::Validation(e.to_string()))?;
        let tools = ToolConfiguration::builder()
            .tools(aws_sdk_bedrockruntime::types::Tool::ToolSpec(spec))
            .tool_choice(ToolChoice::Tool(choice))
            .build()
            .map_err(|e| LlmError::Validation(e.to_string()))?;
        let mut message = Message::builder().role(ConversationRole::User);
        if let Some(prefix) = request.prefix {
            message = message.content(ContentBlock::Text(prefix));
            if self.prompt_cache {
                let point = CachePointBlock::builder()
                    .r#type(CachePointType::Default)
                    .build()
                    .map_err(|e| LlmError::Validation(e.to_string()))?;
                message = message.content(ContentBlock::CachePoint(point));
            }
        }
        let message = message
            .content(ContentBlock::Text(request.prompt))
            .build()
            .map_err(|e| LlmError::Validation(e.to_string()))?;

        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| LlmError::Unavailable("the LLM client is shutting down".into()))?;
        let started = Instant::now();
        let output = self
            .client
            .converse()
            .model_id(&self.model_id)
            .system(SystemContentBlock::Text(request.system.to_owned()))
            .messages(message)
            .inference_config(
                InferenceConfiguration::builder()
                    .temperature(0.0)
                    .max_tokens(request.max_tokens.unwrap_or(self.max_tokens))
                    .build(),
            )
            .tool_config(tools)
            .send()
            .await
            .map_err(classify)?;
        let latency = started.elapsed();

        let usage = output
            .usage()
            .map(|u| Usage {
                input_tokens: u.input_tokens(),
                output_tokens: u.output_tokens(),
                cache_read_tokens: u.cache_read_input_tokens().unwrap_or(0),
                cache_write_tokens: u.cache_write_input_tokens().unwrap_or(0),
            })
            .unwrap_or_default();
        tracing::debug!(
            model = %self.model_id,
            tool = tool.name,
            input_tokens = usage.input_tokens,
            output_tokens = usage.output_tokens,
            cache_read_tokens = usage.cache_read_tokens,
            cache_write_tokens = usage.cache_write_tokens,
            latency_ms = latency.as_millis(),
            "LLM call"
        );
        let stop = output.stop_reason().clone();
        if matches!(
            stop,
            StopReason::ContentFiltered | StopReason::GuardrailIntervened
        ) {
            return Err(LlmError::ContentFiltered(format!(
                "stop reason {}",
                stop.as_str()
            )));
        }
        let blocks = output
            .output()
            .and_then(|o| o.as_message().ok())
            .map(|m| m.content())
            .unwrap_or_default();
        let tool_use = blocks.iter().find_map(|b| match b {
            ContentBlock::ToolUse(t) if t.name() == tool.name => Some(t),
            _ => None,
        });
        let Some(tool_use) = tool_use else {
            return Err(LlmError::MissingToolOutput(format!(
                "stop reason {}, {} content block(s), none a call of {}",
                stop.as_str(),
                blocks.len(),
                tool.name
            )));
        };
        let input = to_json(tool_use.input());
        if !input.is_object() {
            return Err(LlmError::Malformed(format!(
                "{} arguments are not an object",
                tool.name
            )));
        }
        Ok(ToolReply {
            input,
            usage,
            latency,
        })
    }
}

/// Maps an SDK failure to the kind a caller records.
fn classify(err: SdkError<ConverseError>) -> LlmError {
    let detail = |e: &dyn ProvideErrorMetadata| {
        format!(
            "{}: {}",
            e.code().unwrap_or("error"),
            e.message().unwrap_or("no message")
        )
    };
    match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            match e {
                ConverseError::ThrottlingException(_) => LlmError::Throttled(detail(e)),
                ConverseError::ValidationException(_)
                | ConverseError::ResourceNotFoundException(_) => LlmError::Validation(detail(e)),
                ConverseError::ModelTimeoutException(_) => LlmError::Timeout(detail(e)),
                // A success status whose body could not be read as a Converse answer.
                _ if service.raw().status().is_success() => {
                    LlmError::Malformed(format!("unreadable response body: {}", error_chain(&err)))
                }
                _ if service.raw().status().as_u16() == 429 => LlmError::Throttled(detail(e)),
                _ => LlmError::Unavailable(format!(
                    "HTTP {} {}",
                    service.raw().status().as_u16(),
                    detail(e)
                )),
            }
        }
        SdkError::TimeoutError(_) => LlmError::Timeout("no answer within the timeout".into()),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => {
            LlmError::Timeout("connection timed out".into())
        }
        SdkError::DispatchFailure(failure) => LlmError::Unavailable(format!(
            "could not reach Bedrock: {}",
            failure
                .as_connector_error()
                .map_or_else(|| format!("{err:?}"), |e| error_chain(e))
        )),
        SdkError::ResponseError(_) => {
            LlmError::Malformed(format!("unreadable response: {}", error_chain(&err)))
        }
        _ => LlmError::Unavailable(error_chain(&err)),
    }
}

/// An error with its causes, `a: b: c`.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

/// JSON to the SDK's document type.
pub fn to_document(value: &serde_json::Value) -> Document {
    use serde_json::Value;
    match value {
        Value::Null => Document::Null,
        Value::Bool(b) => Document::Bool(*b),
        Value::Number(n) => Document::Number(if let Some(u) = n.as_u64() {
            Number::PosInt(u)
        } else if let Some(i) = n.as_i64() {
            Number::NegInt(i)
        } else {
            Number::Float(n.as_f64().unwrap_or_default())
        }),
        Value::String(s) => Document::String(s.clone()),
        Value::Array(items) => Document::Array(items.iter().map(to_document).collect()),
        Value::Object(map) => Document::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), to_document(v)))
                .collect::<HashMap<_, _>>(),
        ),
    }
}

/// The SDK's document type to JSON (non-finite floats become null).
pub fn to_json(document: &Document) -> serde_json::Value {
    use serde_json::Value;
    match document {
        Document::Null => Value::Null,
        Document::Bool(b) => Value::Bool(*b),
        Document::Number(Number::PosInt(u)) => Value::from(*u),
        Document::Number(Number::NegInt(i)) => Value::from(*i),
        Document::Number(Number::Float(f)) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Document::String(s) => Value::String(s.clone()),
        Document::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        Document::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_survives_the_document_round_trip() {
        let value = json!({
            "score": 87, "neg": -3, "ratio": 0.5, "ok": true, "none": null,
            "skills": ["rust", "sql"], "nested": {"a": [1, {"b": "c"}]}
        });
        assert_eq!(to_json(&to_document(&value)), value);
    }

    #[test]
    fn prompt_caching_is_asked_of_models_that_support_it() {
        assert!(supports_prompt_cache(
            "anthropic.claude-3-5-haiku-20241022-v1:0"
        ));
        assert!(supports_prompt_cache(
            "us.anthropic.claude-sonnet-4-20250514-v1:0"
        ));
        assert!(supports_prompt_cache("amazon.nova-lite-v1:0"));
        assert!(!supports_prompt_cache("meta.llama3-70b-instruct-v1:0"));
        assert!(!supports_prompt_cache(
            "anthropic.claude-3-haiku-20240307-v1:0"
        ));
    }

    #[test]
    fn keys_are_not_printed() {
        let shown = format!("{:?}", BedrockAuth::ApiKey("secret-key".into()));
        assert!(!shown.contains("secret"), "{shown}");
    }
}
