//! How each source has fared across runs (`source_health`), and which ones a run skips.
//!
//! After a run, every source it tried is recorded: a run in which the source delivered
//! listings or made no error is a success (its failures in a row start over); one in which it
//! made errors and delivered nothing is a failed run. After `SOURCE_DOWN_AFTER_RUNS` failed
//! runs in a row the source is DOWN and tried again only after a backoff — 1 hour, doubling
//! with every further failed run, at most 24 hours ([`backoff`]); runs before then skip it.
//! A success brings it back UP. States ([`state`]): DISABLED (not in `JOB_SOURCES`), DOWN,
//! DEGRADED (errors in its last run, or failed runs not yet enough for DOWN), UP.

use chrono::{DateTime, Duration, Utc};
use entity::source_health;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::Result;

/// Where a source stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceState {
    Up,
    Degraded,
    Down,
    Disabled,
}

/// One source's part in a run, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tried {
    pub source: String,
    pub fetched: usize,
    pub errors: usize,
    /// The last error it made, if any.
    pub last_error: Option<String>,
}

/// The wait before a down source is tried again, after `failed` failed runs in a row of which
/// `down_after` made it down.
pub fn backoff(failed: i32, down_after: u32) -> Duration {
    let beyond = u32::try_from(failed)
        .unwrap_or(0)
        .saturating_sub(down_after);
    let hours = 1i64 << beyond.min(5);
    Duration::hours(hours.min(24))
}

/// The state a record (or its absence) means; see the module docs.
pub fn state(row: Option<&source_health::Model>, enabled: bool, down_after: u32) -> SourceState {
    if !enabled {
        return SourceState::Disabled;
    }
    let Some(row) = row else {
        return SourceState::Up;
    };
    if down_after > 0
        && row.consecutive_failed_runs >= i32::try_from(down_after).unwrap_or(i32::MAX)
    {
        SourceState::Down
    } else if row.errors_last_run > 0 || row.consecutive_failed_runs > 0 {
        SourceState::Degraded
    } else {
        SourceState::Up
    }
}

/// Every record.
pub async fn all(db: &DatabaseConnection) -> Result<Vec<source_health::Model>> {
    Ok(source_health::Entity::find().all(db).await?)
}

/// The sources a run at `now` skips: down, and not yet due again.
pub async fn not_due(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Vec<String>> {
    Ok(source_health::Entity::find()
        .filter(source_health::Column::NextAttemptAt.gt(now))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.source)
        .collect())
}

/// Records what each source did in a run that ended at `now`.
pub async fn record(
    db: &DatabaseConnection,
    tried: &[Tried],
    down_after: u32,
    now: DateTime<Utc>,
) -> Result<()> {
    for t in tried {
        let before = source_health::Entity::find_by_id(t.source.clone())
            .one(db)
            .await?;
        let failed_before = before.as_ref().map_or(0, |r| r.consecutive_failed_runs);
        let succeeded = t.fetched > 0 || t.errors == 0;
        let failed = if succeeded { 0 } else { failed_before + 1 };
        let down = down_after > 0 && failed >= i32::try_from(down_after).unwrap_or(i32::MAX);
        let row = source_health::ActiveModel {
            source: Set(t.source.clone()),
            last_success_at: Set(if succeeded {
                Some(now)
            } else {
                before.as_ref().and_then(|r| r.last_success_at)
            }),
            last_error_at: Set(if t.errors > 0 {
                Some(now)
            } else {
                before.as_ref().and_then(|r| r.last_error_at)
            }),
            last_error: Set(match &t.last_error {
                Some(e) => Some(crate::text::truncate_chars(e, 1_000)),
                None => before.as_ref().and_then(|r| r.last_error.clone()),
            }),
            consecutive_failed_runs: Set(failed),
            listings_last_run: Set(i32::try_from(t.fetched).unwrap_or(i32::MAX)),
            errors_last_run: Set(i32::try_from(t.errors).unwrap_or(i32::MAX)),
            next_attempt_at: Set(down.then(|| now + backoff(failed, down_after))),
            updated_at: Set(now),
        };
        use source_health::Column as C;
        source_health::Entity::insert(row)
            .on_conflict(
                OnConflict::column(C::Source)
                    .update_columns([
                        C::LastSuccessAt,
                        C::LastErrorAt,
                        C::LastError,
                        C::ConsecutiveFailedRuns,
                        C::ListingsLastRun,
                        C::ErrorsLastRun,
                        C::NextAttemptAt,
                        C::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        if down {
            tracing::warn!(source = %t.source, failed_runs = failed, "source down: backing off");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_down_source_backs_off_doubling_up_to_a_day() {
        assert_eq!(backoff(3, 3), Duration::hours(1));
        assert_eq!(backoff(4, 3), Duration::hours(2));
        assert_eq!(backoff(6, 3), Duration::hours(8));
        assert_eq!(backoff(20, 3), Duration::hours(24));
    }

    #[test]
    fn states_follow_the_record() {
        let now = Utc::now();
        let row = |failed: i32, errors: i32| source_health::Model {
            source: "remotive".into(),
            last_success_at: None,
            last_error_at: None,
            last_error: None,
            consecutive_failed_runs: failed,
            listings_last_run: 0,
            errors_last_run: errors,
            next_attempt_at: None,
            updated_at: now,
        };
        assert_eq!(state(None, true, 3), SourceState::Up);
        assert_eq!(state(None, false, 3), SourceState::Disabled);
        assert_eq!(state(Some(&row(0, 0)), true, 3), SourceState::Up);
        assert_eq!(state(Some(&row(0, 2)), true, 3), SourceState::Degraded);
        assert_eq!(state(Some(&row(2, 1)), true, 3), SourceState::Degraded);
        assert_eq!(state(Some(&row(3, 1)), true, 3), SourceState::Down);
    }
}
