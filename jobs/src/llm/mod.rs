//! The LLM behind category assignment and match scoring.
//!
//! Every call asks for structured output through one forced tool: the model must answer by
//! "calling" the tool with arguments that fit its JSON schema. [`Llm::call_tool`] returns those
//! arguments as JSON with the tokens used and the latency; the callers ([`crate::assign`],
//! [`crate::matching`]) validate and clamp them. Every failure is an [`LlmError`] whose kind a
//! caller records before falling back to the deterministic path.
//!
//! - [`bedrock`]: the implementation on AWS Bedrock's Converse API.

pub mod bedrock;

use std::time::Duration;

pub use bedrock::{BedrockAuth, BedrockConfig, BedrockLlm};

/// A tool the model is forced to call.
#[derive(Debug, Clone)]
pub struct Tool {
    pub name: &'static str,
    pub description: &'static str,
    /// JSON Schema of the tool's input: what the model must produce.
    pub schema: serde_json::Value,
}

/// One structured-output request.
#[derive(Debug, Clone)]
pub struct ToolRequest<'a> {
    /// Instructions, sent as the system prompt.
    pub system: &'a str,
    /// The user message: the material to judge.
    pub prompt: String,
    pub tool: &'a Tool,
    /// The most tokens the answer may use; `None` is the provider's setting
    /// (`BEDROCK_LLM_MAX_TOKENS`). Tailoring asks for more than a score needs.
    pub max_tokens: Option<i32>,
}

/// Tokens a call used, as the provider reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input_tokens: i32,
    pub output_tokens: i32,
}

/// The arguments the model passed to the tool.
#[derive(Debug, Clone)]
pub struct ToolReply {
    pub input: serde_json::Value,
    pub usage: Usage,
    pub latency: Duration,
}

/// Why a call gave no usable answer. Callers fall back to the deterministic path and keep the
/// message (`Display`) as the recorded reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// Throttled, and still throttled after the SDK's retries.
    #[error("LLM throttled: {0}")]
    Throttled(String),
    /// The request was refused as invalid (for example a retired or unknown model id).
    #[error("LLM rejected the request: {0}")]
    Validation(String),
    /// The model or the connection took too long.
    #[error("LLM timed out: {0}")]
    Timeout(String),
    /// The service failed (5xx after retries, connection refused, access denied).
    #[error("LLM unavailable: {0}")]
    Unavailable(String),
    /// A content filter or guardrail stopped the answer.
    #[error("LLM answer filtered: {0}")]
    ContentFiltered(String),
    /// The answer did not call the tool (text only, or cut off).
    #[error("LLM gave no tool output: {0}")]
    MissingToolOutput(String),
    /// The tool arguments did not fit the schema.
    #[error("LLM output invalid: {0}")]
    Malformed(String),
}

impl LlmError {
    /// A short stable name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Throttled(_) => "throttled",
            Self::Validation(_) => "validation",
            Self::Timeout(_) => "timeout",
            Self::Unavailable(_) => "unavailable",
            Self::ContentFiltered(_) => "content_filtered",
            Self::MissingToolOutput(_) => "missing_tool_output",
            Self::Malformed(_) => "malformed",
        }
    }
}

/// A model that answers through a forced tool.
#[async_trait::async_trait]
pub trait Llm: Send + Sync + std::fmt::Debug {
    /// The model's identifier, recorded with every score.
    fn model_id(&self) -> &str;

    /// Asks the model to call `request.tool` and returns its arguments.
    async fn call_tool(&self, request: ToolRequest<'_>) -> Result<ToolReply, LlmError>;
}

/// Reads a string field, trimmed; `None` when missing, null or empty.
pub(crate) fn str_field<'a>(input: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    input
        .get(name)
        .and_then(serde_json::Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Reads a list of strings, trimmed, deduplicated case-insensitively, at most `max` items of
/// at most 80 characters; anything that is not a string is dropped.
pub(crate) fn string_list(input: &serde_json::Value, name: &str, max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in input
        .get(name)
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(s) = item.as_str().map(str::trim).filter(|s| !s.is_empty()) else {
            continue;
        };
        let s: String = s.chars().take(80).collect();
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&s)) {
            out.push(s);
        }
        if out.len() == max {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_are_trimmed_deduplicated_and_capped() {
        let input = json!({"skills": [" Rust ", "rust", 3, "", "SQL", "Go", null]});
        assert_eq!(string_list(&input, "skills", 2), ["Rust", "SQL"]);
        assert_eq!(string_list(&input, "missing", 5), Vec::<String>::new());
    }

    #[test]
    fn string_fields_ignore_blank_and_wrong_types() {
        let input = json!({"a": "  x ", "b": "   ", "c": 4});
        assert_eq!(str_field(&input, "a"), Some("x"));
        assert_eq!(str_field(&input, "b"), None);
        assert_eq!(str_field(&input, "c"), None);
    }
}
