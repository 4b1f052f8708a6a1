//! `llm_calls`: the ledger, one row per LLM call (assignment, scoring, tailoring).

use sea_orm::entity::prelude::*;

/// One call as it was made and answered.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "llm_calls")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub created_at: DateTimeUtc,
    /// The UTC day of `created_at` (`YYYY-MM-DD`), the unit of budgets and of `llmUsage.byDay`.
    pub day: String,
    /// `assign`, `score` or `tailor`.
    pub purpose: String,
    /// `bedrock` or `openai`.
    pub provider: String,
    pub model_id: String,
    /// Whom the call was for; null once the account is deleted, or for no one in particular.
    pub user_id: Option<i64>,
    /// Items judged: the listings of a scoring batch, 1 otherwise.
    pub items: i32,
    /// Uncached input tokens.
    pub input_tokens: i32,
    pub output_tokens: i32,
    pub cache_read_tokens: i32,
    pub cache_write_tokens: i32,
    pub latency_ms: i32,
    /// `ok`, or the failure's kind (`throttled`, `timeout`, `malformed`, …).
    pub outcome: String,
}

impl ActiveModelBehavior for ActiveModel {}
