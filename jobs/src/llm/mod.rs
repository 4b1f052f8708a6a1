//! The LLM behind category assignment, match scoring and tailoring.
//!
//! Every call asks for structured output through one forced tool: the model must answer by
//! "calling" the tool with arguments that fit its JSON schema. [`Llm::call_tool`] returns those
//! arguments as JSON with the tokens used and the latency; the callers ([`crate::assign`],
//! [`crate::matching`], [`crate::documents`]) validate and clamp them. Every failure is an
//! [`LlmError`] whose kind a caller records before falling back to the deterministic path.
//!
//! - [`bedrock`]: the implementation on AWS Bedrock's Converse API.
//! - [`openai`]: the implementation on an OpenAI-compatible Chat Completions API (OpenAI, or a
//!   local server such as vLLM, llama.cpp or Ollama).
//! - [`ledger`]: [`Metered`], the wrapper every call goes through: the daily token budget shared
//!   by all processes (counted in the database), and one `llm_calls` row per call.

pub mod bedrock;
pub mod ledger;
pub mod openai;

use std::time::Duration;

pub use bedrock::{BedrockAuth, BedrockConfig, BedrockLlm};
pub use ledger::{Budget, Metered};
pub use openai::{OpenAiConfig, OpenAiLlm};

/// A tool the model is forced to call.
#[derive(Debug, Clone)]
pub struct Tool {
    pub name: &'static str,
    pub description: &'static str,
    /// JSON Schema of the tool's input: what the model must produce.
    pub schema: serde_json::Value,
}

/// What a call is for: the ledger's `purpose`, and the budget it draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Category assignment (picking or proposing a category for a resume).
    Assign,
    /// Match scoring (one or more listings for one resume).
    Score,
    /// A tailored resume or cover letter.
    Tailor,
}

impl Purpose {
    /// The name stored in `llm_calls.purpose`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Assign => "assign",
            Self::Score => "score",
            Self::Tailor => "tailor",
        }
    }
}

/// One structured-output request.
#[derive(Debug, Clone)]
pub struct ToolRequest<'a> {
    /// What the call is for (recorded in the ledger).
    pub purpose: Purpose,
    /// The user the call is made for, when there is one (the per-user caps count by it).
    pub user_id: Option<i64>,
    /// How many items the call judges (listings of a scoring batch; 1 otherwise).
    pub items: u32,
    /// Instructions, sent as the system prompt.
    pub system: &'a str,
    /// The stable head of the user message (the resume, when it is judged against several
    /// listings): sent before `prompt`, and marked as a cacheable prefix where the provider
    /// supports prompt caching. `None`: the message is `prompt` alone.
    pub prefix: Option<String>,
    /// The user message (after `prefix`): the material to judge.
    pub prompt: String,
    pub tool: &'a Tool,
    /// The most tokens the answer may use; `None` is the provider's setting
    /// (`LLM_MAX_TOKENS`). Tailoring and batches ask for more than one score needs.
    pub max_tokens: Option<i32>,
}

impl<'a> ToolRequest<'a> {
    /// A request for one item with no cacheable prefix and the provider's answer budget.
    pub fn new(purpose: Purpose, system: &'a str, tool: &'a Tool, prompt: String) -> Self {
        Self {
            purpose,
            user_id: None,
            items: 1,
            system,
            prefix: None,
            prompt,
            tool,
            max_tokens: None,
        }
    }

    /// The whole user message: the prefix (if any), a blank line, then the prompt.
    pub fn message(&self) -> String {
        match &self.prefix {
            Some(prefix) => format!("{prefix}\n\n{}", self.prompt),
            None => self.prompt.clone(),
        }
    }
}

/// Tokens a call used, as the provider reports them. `input_tokens` are the uncached input
/// tokens; prompt-cache reads and writes are counted apart (Bedrock's `cacheReadInputTokens`
/// / `cacheWriteInputTokens`, OpenAI's `prompt_tokens_details.cached_tokens`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input_tokens: i32,
    pub output_tokens: i32,
    pub cache_read_tokens: i32,
    pub cache_write_tokens: i32,
}

impl Usage {
    /// Every token the call processed: what the daily token budget counts.
    pub fn total(&self) -> i64 {
        i64::from(self.input_tokens)
            + i64::from(self.output_tokens)
            + i64::from(self.cache_read_tokens)
            + i64::from(self.cache_write_tokens)
    }
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
    /// The deployment's daily token budget (`LLM_DAILY_TOKEN_BUDGET`) is spent; no call was
    /// made.
    #[error("LLM budget spent: {0}")]
    OverBudget(String),
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
            Self::OverBudget(_) => "over_budget",
        }
    }
}

/// A model that answers through a forced tool.
#[async_trait::async_trait]
pub trait Llm: Send + Sync + std::fmt::Debug {
    /// The model's identifier, recorded with every score.
    fn model_id(&self) -> &str;

    /// The provider's name, recorded in the ledger (`bedrock`, `openai`).
    fn provider(&self) -> &'static str;

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
