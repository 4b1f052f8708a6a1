//! `sourceHealth`: how each job source has fared across collector runs, for admins.

use async_graphql::{Context, Enum, Object, SimpleObject};
use chrono::{DateTime, Utc};
use jobs::collect::health;
use jobs::sources::SourceName;

use super::context::{Access, state};
use crate::error::ApiResult;

/// Where a job source stands.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "jobs::collect::health::SourceState")]
pub enum SourceState {
    /// Its last run went without errors.
    Up,
    /// Errors in its last run, or failed runs not yet enough to be down.
    Degraded,
    /// `SOURCE_DOWN_AFTER_RUNS` failed runs in a row: tried again only at `nextAttemptAt`.
    Down,
    /// Not in `JOB_SOURCES`.
    Disabled,
}

/// One job source's record across runs.
#[derive(SimpleObject, Debug, Clone)]
pub struct SourceHealth {
    /// Its name, as in `JOB_SOURCES`.
    source: String,
    state: SourceState,
    /// The last run in which it delivered listings or made no error.
    last_success_at: Option<DateTime<Utc>>,
    last_error_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    /// Runs in a row in which it failed and delivered nothing.
    consecutive_failed_runs: i32,
    /// Listings it delivered in its last run.
    listings_last_run: i32,
    /// While it is down: when a run tries it again.
    next_attempt_at: Option<DateTime<Utc>>,
}

#[derive(Default, Debug)]
pub struct HealthQuery;

#[Object]
impl HealthQuery {
    /// Every job source, enabled or not, in a fixed order.
    #[graphql(guard = "Access::Admin")]
    async fn source_health(&self, ctx: &Context<'_>) -> ApiResult<Vec<SourceHealth>> {
        let app = state(ctx);
        let rows = health::all(&app.db).await?;
        let sources = &app.config.sources;
        Ok(SourceName::ALL
            .iter()
            .map(|name| {
                let row = rows.iter().find(|r| r.source == name.as_str());
                SourceHealth {
                    source: name.as_str().to_owned(),
                    state: health::state(row, sources.is_enabled(*name), sources.down_after_runs)
                        .into(),
                    last_success_at: row.and_then(|r| r.last_success_at),
                    last_error_at: row.and_then(|r| r.last_error_at),
                    last_error: row.and_then(|r| r.last_error.clone()),
                    consecutive_failed_runs: row.map_or(0, |r| r.consecutive_failed_runs),
                    listings_last_run: row.map_or(0, |r| r.listings_last_run),
                    next_attempt_at: row.and_then(|r| r.next_attempt_at),
                }
            })
            .collect())
    }
}
