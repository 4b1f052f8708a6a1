//! Reports for admins: `llmUsage`, what the LLM cost over a period, from the ledger
//! (`llm_calls`) — totals, by purpose and by day, with an estimated cost when prices are
//! configured; and `matchScoreDistribution`, how match scores spread (a histogram).

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Duration, Utc};
use jobs::llm::ledger;

use super::context::{Access, state};
use crate::error::{ApiError, ApiResult};

/// The period `llmUsage` covers when `since` is not given.
const DEFAULT_DAYS: i64 = 30;

/// Calls and tokens over a period (or one purpose, or one day of it).
#[derive(SimpleObject, Debug, Clone)]
pub struct LlmUsageRow {
    /// The purpose (`assign`, `score`, `tailor`) or the UTC day (`YYYY-MM-DD`).
    key: String,
    calls: i64,
    /// Input tokens the provider did not read from its prompt cache.
    input_tokens: i64,
    output_tokens: i64,
    cache_read_tokens: i64,
    cache_write_tokens: i64,
    /// From `LLM_PRICE_INPUT_PER_MTOK` and `LLM_PRICE_OUTPUT_PER_MTOK` (cache reads at a tenth
    /// of the input price, cache writes at 1.25 times); null when neither is set.
    estimated_cost_usd: Option<f64>,
}

/// The LLM's use over `[since, until)`.
#[derive(SimpleObject, Debug, Clone)]
pub struct LlmUsage {
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    calls: i64,
    input_tokens: i64,
    output_tokens: i64,
    cache_read_tokens: i64,
    cache_write_tokens: i64,
    estimated_cost_usd: Option<f64>,
    /// One row per purpose with calls, by name.
    by_purpose: Vec<LlmUsageRow>,
    /// One row per UTC day with calls, oldest first.
    by_day: Vec<LlmUsageRow>,
}

/// One bar of the score histogram: matches scoring `from` to `to`, both included.
#[derive(SimpleObject, Debug, Clone)]
pub struct ScoreBucket {
    from: i32,
    to: i32,
    count: i64,
}

/// How every user's match scores spread, in tenths of the scale.
#[derive(SimpleObject, Debug, Clone)]
pub struct ScoreDistribution {
    /// Every match counted.
    total: i64,
    /// Ten buckets, lowest first: 0–9, 10–19, …, 90–100.
    buckets: Vec<ScoreBucket>,
}

impl From<ledger::UsageRow> for LlmUsageRow {
    fn from(r: ledger::UsageRow) -> Self {
        Self {
            key: r.key,
            calls: r.calls,
            input_tokens: r.input_tokens,
            output_tokens: r.output_tokens,
            cache_read_tokens: r.cache_read_tokens,
            cache_write_tokens: r.cache_write_tokens,
            estimated_cost_usd: r.estimated_cost_usd,
        }
    }
}

#[derive(Default, Debug)]
pub struct UsageQuery;

#[Object]
impl UsageQuery {
    /// The LLM calls made from `since` (default: 30 days before `until`) until `until`
    /// (default: now), whatever their outcome.
    #[graphql(guard = "Access::Admin")]
    async fn llm_usage(
        &self,
        ctx: &Context<'_>,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> ApiResult<LlmUsage> {
        let app = state(ctx);
        let until = until.unwrap_or_else(Utc::now);
        let since = since.unwrap_or(until - Duration::days(DEFAULT_DAYS));
        if since >= until {
            return Err(ApiError::Validation {
                field: "since",
                message: "since must be before until".into(),
            });
        }
        let report = ledger::usage(&app.db, since, until, app.config.llm_prices).await?;
        let t = report.totals;
        Ok(LlmUsage {
            since,
            until,
            calls: t.calls,
            input_tokens: t.input_tokens,
            output_tokens: t.output_tokens,
            cache_read_tokens: t.cache_read_tokens,
            cache_write_tokens: t.cache_write_tokens,
            estimated_cost_usd: t.estimated_cost_usd,
            by_purpose: report.by_purpose.into_iter().map(Into::into).collect(),
            by_day: report.by_day.into_iter().map(Into::into).collect(),
        })
    }

    /// How match scores spread over every user's matches (those the keyword prefilter
    /// screened out included), in ten buckets: is the scorer separating good fits from poor
    /// ones?
    #[graphql(guard = "Access::Admin")]
    async fn match_score_distribution(&self, ctx: &Context<'_>) -> ApiResult<ScoreDistribution> {
        let counts = jobs::matching::read::score_distribution(&state(ctx).db).await?;
        Ok(ScoreDistribution {
            total: counts.iter().sum(),
            buckets: (0i32..)
                .zip(counts)
                .map(|(i, count)| ScoreBucket {
                    from: i * 10,
                    to: if i == 9 { 100 } else { i * 10 + 9 },
                    count,
                })
                .collect(),
        })
    }
}
