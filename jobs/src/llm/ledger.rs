//! [`Metered`]: the [`Llm`] every worker uses, wrapping the provider's client with the daily
//! token budget and the ledger; and the ledger's read side ([`pairs_today`], [`usage`]).
//!
//! **Budget.** With `LLM_DAILY_TOKEN_BUDGET` set, a call first reserves an estimate of its
//! tokens in `llm_token_days` (the day's row, UTC) by one conditional update — `tokens +
//! estimate <= budget` — so that any number of processes share the budget without a lock and
//! without overshooting it by more than the estimates' error. A call that does not fit is not
//! made: it fails as [`LlmError::OverBudget`] and the caller falls back to its deterministic
//! path. When the answer comes back, the reservation is corrected to the tokens the provider
//! reported; an answer that came back unusable, or a timeout, keeps its reservation (the
//! provider bills it, but reports no tokens to us); a call refused before the model ran
//! (connection, throttling, validation) gives it back. The
//! estimate is generous (a token per three characters of the request plus the whole answer
//! budget), so the last calls of a day may be refused while some budget remains.
//!
//! **Ledger.** Every call made — answered or failed — is one `llm_calls` row: purpose,
//! provider, model, user, items, tokens (uncached input, output, cache read, cache write),
//! latency and outcome (`ok` or the failure's kind). A call whose answer the caller then
//! rejects as unusable is `ok` here: it was made and paid for. The budget counts every token
//! processed, cache reads included.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use entity::{llm_call, llm_token_day};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::{Llm, LlmError, Purpose, ToolReply, ToolRequest};
use crate::Result;

/// The answer budget assumed for a request that leaves it to the provider's setting.
const DEFAULT_ANSWER_TOKENS: i64 = 1_024;

/// The deployment-wide limits every call is held to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Budget {
    /// `LLM_DAILY_TOKEN_BUDGET`: tokens per UTC day across every process; `None`: no limit.
    pub daily_tokens: Option<i64>,
}

/// An [`Llm`] with the budget and the ledger around it; see the module docs.
#[derive(Debug, Clone)]
pub struct Metered {
    inner: Arc<dyn Llm>,
    db: DatabaseConnection,
    budget: Budget,
}

impl Metered {
    pub fn new(inner: Arc<dyn Llm>, db: DatabaseConnection, budget: Budget) -> Self {
        Self { inner, db, budget }
    }
}

/// The UTC day `at` falls on, as stored.
pub fn day_of(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// A generous estimate of the tokens `request` will use.
fn estimate(request: &ToolRequest<'_>) -> i64 {
    let chars = request.system.len()
        + request.prefix.as_ref().map_or(0, String::len)
        + request.prompt.len()
        + request.tool.schema.to_string().len()
        + request.tool.description.len();
    i64::try_from(chars / 3).unwrap_or(i64::MAX / 2)
        + request.max_tokens.map_or(DEFAULT_ANSWER_TOKENS, i64::from)
}

/// Reserves `tokens` of `day`'s budget of `limit`; false when they do not fit.
async fn reserve(db: &DatabaseConnection, day: &str, tokens: i64, limit: i64) -> Result<bool> {
    llm_token_day::Entity::insert(llm_token_day::ActiveModel {
        day: Set(day.to_owned()),
        tokens: Set(0),
    })
    .on_conflict(
        OnConflict::column(llm_token_day::Column::Day)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let reserved = llm_token_day::Entity::update_many()
        .col_expr(
            llm_token_day::Column::Tokens,
            Expr::col(llm_token_day::Column::Tokens).add(tokens),
        )
        .filter(llm_token_day::Column::Day.eq(day))
        .filter(Expr::col(llm_token_day::Column::Tokens).lte(limit - tokens))
        .exec(db)
        .await?;
    Ok(reserved.rows_affected == 1)
}

/// Adds `delta` (negative: gives tokens back) to `day`'s count.
async fn correct(db: &DatabaseConnection, day: &str, delta: i64) -> Result<()> {
    if delta != 0 {
        llm_token_day::Entity::update_many()
            .col_expr(
                llm_token_day::Column::Tokens,
                Expr::col(llm_token_day::Column::Tokens).add(delta),
            )
            .filter(llm_token_day::Column::Day.eq(day))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// The tokens counted against `day`'s budget so far (reservations of calls in flight included).
pub async fn tokens_on(db: &DatabaseConnection, day: &str) -> Result<i64> {
    Ok(llm_token_day::Entity::find_by_id(day.to_owned())
        .one(db)
        .await?
        .map_or(0, |d| d.tokens))
}

#[async_trait::async_trait]
impl Llm for Metered {
    fn model_id(&self) -> &str {
        self.inner.model_id()
    }

    fn provider(&self) -> &'static str {
        self.inner.provider()
    }

    async fn call_tool(&self, request: ToolRequest<'_>) -> Result<ToolReply, LlmError> {
        let now = Utc::now();
        let day = day_of(now);
        let (purpose, user_id, items) = (request.purpose, request.user_id, request.items);
        let reserved = match self.budget.daily_tokens {
            Some(limit) => {
                let tokens = estimate(&request);
                match reserve(&self.db, &day, tokens, limit).await {
                    Ok(true) => Some(tokens),
                    Ok(false) => {
                        tracing::info!(
                            purpose = purpose.as_str(),
                            budget = limit,
                            "LLM call not made: the daily token budget is spent"
                        );
                        return Err(LlmError::OverBudget(format!(
                            "the daily budget of {limit} tokens is spent; \
                             calls resume tomorrow (UTC)"
                        )));
                    }
                    Err(e) => {
                        return Err(LlmError::Unavailable(format!(
                            "the token budget could not be read: {e}"
                        )));
                    }
                }
            }
            None => None,
        };
        let started = Instant::now();
        let result = self.inner.call_tool(request).await;
        let latency = started.elapsed();
        let usage = result.as_ref().map(|r| r.usage).unwrap_or_default();
        let provider = self.inner.provider();
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.kind(),
        };
        metrics::counter!("llm_calls_total", "purpose" => purpose.as_str(), "provider" => provider, "outcome" => outcome)
            .increment(1);
        metrics::histogram!("llm_call_duration_seconds", "purpose" => purpose.as_str(), "provider" => provider)
            .record(latency.as_secs_f64());
        for (kind, tokens) in [
            ("input", usage.input_tokens),
            ("output", usage.output_tokens),
            ("cache_read", usage.cache_read_tokens),
            ("cache_write", usage.cache_write_tokens),
        ] {
            metrics::counter!("llm_tokens_total", "purpose" => purpose.as_str(), "provider" => provider, "kind" => kind)
                .increment(u64::try_from(tokens).unwrap_or(0));
        }
        // What the call cost: the reported tokens; for an answer that came back unusable, or
        // a timeout the provider may still bill, the reservation stays (their tokens are not
        // reported); a call refused before the model ran costs nothing.
        let spent = match &result {
            Ok(_) => Some(usage.total()),
            Err(
                LlmError::Timeout(_)
                | LlmError::Malformed(_)
                | LlmError::MissingToolOutput(_)
                | LlmError::ContentFiltered(_),
            ) => None,
            Err(_) => Some(0),
        };
        if let (Some(tokens), Some(spent)) = (reserved, spent)
            && let Err(e) = correct(&self.db, &day, spent - tokens).await
        {
            tracing::warn!(error = %e, "could not correct the token budget's count");
        }
        let row = llm_call::ActiveModel {
            created_at: Set(now),
            day: Set(day),
            purpose: Set(purpose.as_str().to_owned()),
            provider: Set(self.inner.provider().to_owned()),
            model_id: Set(self.inner.model_id().to_owned()),
            user_id: Set(user_id),
            items: Set(i32::try_from(items).unwrap_or(i32::MAX)),
            input_tokens: Set(usage.input_tokens),
            output_tokens: Set(usage.output_tokens),
            cache_read_tokens: Set(usage.cache_read_tokens),
            cache_write_tokens: Set(usage.cache_write_tokens),
            latency_ms: Set(i32::try_from(latency.as_millis()).unwrap_or(i32::MAX)),
            outcome: Set(match &result {
                Ok(_) => "ok".to_owned(),
                Err(e) => e.kind().to_owned(),
            }),
            ..Default::default()
        };
        if let Err(e) = llm_call::Entity::insert(row)
            .exec_without_returning(&self.db)
            .await
        {
            tracing::warn!(error = %e, "could not record the LLM call in the ledger");
        }
        result
    }
}

/// The listings scored by the LLM for `user_id` today (UTC), failed calls included: what
/// `LLM_USER_DAILY_PAIRS` caps.
pub async fn pairs_today(db: &DatabaseConnection, user_id: i64) -> Result<i64> {
    let items: Option<i64> = llm_call::Entity::find()
        .select_only()
        .column_as(llm_call::Column::Items.sum(), "items")
        .filter(llm_call::Column::UserId.eq(user_id))
        .filter(llm_call::Column::Day.eq(day_of(Utc::now())))
        .filter(llm_call::Column::Purpose.eq(Purpose::Score.as_str()))
        .into_tuple()
        .one(db)
        .await?
        .flatten();
    Ok(items.unwrap_or(0))
}

/// Prices per million tokens, for an estimated cost.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Prices {
    /// `LLM_PRICE_INPUT_PER_MTOK`, US dollars.
    pub input: Option<f64>,
    /// `LLM_PRICE_OUTPUT_PER_MTOK`, US dollars.
    pub output: Option<f64>,
}

/// Share of the input price a prompt-cache read costs (Bedrock's and OpenAI's published ratio
/// for the models that cache).
pub const CACHE_READ_PRICE_RATIO: f64 = 0.1;
/// Share of the input price a prompt-cache write costs (Bedrock's published ratio for Claude).
pub const CACHE_WRITE_PRICE_RATIO: f64 = 1.25;

/// Calls and tokens over some rows of the ledger.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageRow {
    /// The purpose (`byPurpose`), the day (`byDay`), or empty (the totals).
    pub key: String,
    pub calls: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    /// From the prices; `None` when no price is set.
    pub estimated_cost_usd: Option<f64>,
}

impl UsageRow {
    fn add(&mut self, other: &UsageRow) {
        self.calls += other.calls;
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cache_read_tokens += other.cache_read_tokens;
        self.cache_write_tokens += other.cache_write_tokens;
    }

    fn priced(mut self, prices: Prices) -> Self {
        if prices.input.is_some() || prices.output.is_some() {
            let input = prices.input.unwrap_or(0.0);
            let output = prices.output.unwrap_or(0.0);
            #[allow(clippy::cast_precision_loss)] // token counts far below 2^52
            let cost = (self.input_tokens as f64
                + self.cache_read_tokens as f64 * CACHE_READ_PRICE_RATIO
                + self.cache_write_tokens as f64 * CACHE_WRITE_PRICE_RATIO)
                * input
                + self.output_tokens as f64 * output;
            self.estimated_cost_usd = Some(cost / 1_000_000.0);
        }
        self
    }
}

/// What `llmUsage` reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageReport {
    pub totals: UsageRow,
    /// One row per purpose, by name.
    pub by_purpose: Vec<UsageRow>,
    /// One row per UTC day with calls, oldest first.
    pub by_day: Vec<UsageRow>,
}

/// The ledger's calls made in `[since, until)`, summed in the database.
pub async fn usage(
    db: &DatabaseConnection,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    prices: Prices,
) -> Result<UsageReport> {
    let by = |column: llm_call::Column| {
        use llm_call::Column as C;
        llm_call::Entity::find()
            .select_only()
            .column(column)
            .column_as(C::Id.count(), "calls")
            .column_as(C::InputTokens.sum(), "input_tokens")
            .column_as(C::OutputTokens.sum(), "output_tokens")
            .column_as(C::CacheReadTokens.sum(), "cache_read_tokens")
            .column_as(C::CacheWriteTokens.sum(), "cache_write_tokens")
            .filter(C::CreatedAt.gte(since))
            .filter(C::CreatedAt.lt(until))
            .group_by(column)
            .order_by_asc(column)
            .into_tuple::<(String, i64, i64, i64, i64, i64)>()
    };
    let rows = |tuples: Vec<(String, i64, i64, i64, i64, i64)>| -> Vec<UsageRow> {
        tuples
            .into_iter()
            .map(|(key, calls, i, o, r, w)| UsageRow {
                key,
                calls,
                input_tokens: i,
                output_tokens: o,
                cache_read_tokens: r,
                cache_write_tokens: w,
                estimated_cost_usd: None,
            })
            .collect()
    };
    let by_purpose = rows(by(llm_call::Column::Purpose).all(db).await?);
    let by_day = rows(by(llm_call::Column::Day).all(db).await?);
    let mut totals = UsageRow::default();
    for row in &by_purpose {
        totals.add(row);
    }
    Ok(UsageReport {
        totals: totals.priced(prices),
        by_purpose: by_purpose.into_iter().map(|r| r.priced(prices)).collect(),
        by_day: by_day.into_iter().map(|r| r.priced(prices)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_price_cache_reads_and_writes_apart() {
        let row = UsageRow {
            input_tokens: 1_000_000,
            output_tokens: 100_000,
            cache_read_tokens: 2_000_000,
            cache_write_tokens: 400_000,
            ..UsageRow::default()
        };
        let priced = row.clone().priced(Prices {
            input: Some(0.8),
            output: Some(4.0),
        });
        // 0.8 × (1 + 0.2 + 0.5) + 4 × 0.1
        let cost = priced.estimated_cost_usd.expect("priced");
        assert!((cost - 1.76).abs() < 1e-9, "{cost}");
        assert_eq!(row.priced(Prices::default()).estimated_cost_usd, None);
    }

    #[test]
    fn days_are_utc_dates() {
        let at = DateTime::parse_from_rfc3339("2026-12-03T23:59:59-02:00")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(day_of(at), "2026-12-04");
    }
}
