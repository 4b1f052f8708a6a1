//! Alerts: a user's new good matches, sent once each — as an email digest and/or a signed
//! webhook POST — at the user's frequency (the `SendAlerts` job, queued after each of their
//! scoring runs and when their alert settings change).
//!
//! [`send`] does one user's alerts:
//! 1. With email alerts on and the account's address not verified, a verification link is
//!    mailed (at most hourly); email alerts wait until it is followed ([`verify_email`]).
//! 2. When the frequency is due (EACH_RUN: always; DAILY / WEEKLY: a day / a week after the
//!    last alert), the new matches — not alerted yet, not hidden, listing open, score at least
//!    `alertMinScore` (70 by default), best first, at most 50 — are claimed one by one
//!    (`alerted_at` set where it is still null), so a retried or doubled job never sends a
//!    match twice.
//! 3. The digest is mailed; if SMTP fails for now (4xx, a lost connection), the claims are
//!    given back and the job retried; refused for good (5xx, a bad address), the error is
//!    recorded for the user and the webhook still goes.
//!    Then the webhook gets the same matches as JSON; after its retries a failed delivery
//!    counts against it, and `WEBHOOK_DISABLE_AFTER` failures in a row disable it with the
//!    reason shown to the user (a new URL enables it again).
//!
//! - [`links`]: signed unsubscribe and verification links.
//! - [`email`]: the digest and verification emails over SMTP.
//! - [`webhook`]: where webhooks may go (no private addresses), signing, retries.

pub mod email;
pub mod links;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{AlertFrequency, Preferences, job_listing, user, user_alert, user_job_match};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::OnConflict,
};
use serde_json::json;

use crate::Result;

/// Matches one alert carries at most.
const MAX_PER_ALERT: u64 = 50;
/// The score a match needs when the user set none.
pub const DEFAULT_MIN_SCORE: i16 = 70;
/// Verification emails go out at most this often.
const VERIFICATION_EVERY: chrono::Duration = chrono::Duration::hours(1);

/// How alerts are sent.
#[derive(Clone, PartialEq, Eq)]
pub struct AlertConfig {
    /// `SMTP_URL`; `None`: no email alerts (webhooks still go).
    pub smtp_url: Option<String>,
    /// `ALERT_FROM`: the sender of alert emails.
    pub from: String,
    /// `PUBLIC_BASE_URL`: where links in alerts point (no trailing slash).
    pub public_base_url: String,
    /// `WEBHOOK_TIMEOUT_SECONDS`: one delivery attempt.
    pub webhook_timeout: Duration,
    /// `WEBHOOK_RETRY_BACKOFF_MS`: the first retry's delay (it doubles).
    pub webhook_backoff: Duration,
    /// `WEBHOOK_DISABLE_AFTER`: failed deliveries in a row that disable a webhook.
    pub webhook_disable_after: i32,
    /// `ALERT_WEBHOOK_ALLOW_PRIVATE`: let webhooks reach loopback and private addresses.
    pub allow_private: bool,
    /// The key of signed links ([`links::derive_key`] of the session secret).
    pub link_key: Arc<[u8]>,
}

impl std::fmt::Debug for AlertConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertConfig")
            .field("smtp", &self.smtp_url.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .field("public_base_url", &self.public_base_url)
            .field("allow_private", &self.allow_private)
            .finish_non_exhaustive()
    }
}

impl Default for AlertConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: "Job Collector <alerts@localhost>".into(),
            public_base_url: "http://127.0.0.1:8080".into(),
            webhook_timeout: Duration::from_secs(10),
            webhook_backoff: Duration::from_secs(1),
            webhook_disable_after: 5,
            allow_private: false,
            link_key: Arc::from(links::derive_key(b"").as_slice()),
        }
    }
}

/// What [`send`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertOutcome {
    /// Matches alerted.
    pub alerted: usize,
    pub emailed: bool,
    pub webhooked: bool,
    pub verification_sent: bool,
    /// Why nothing went out, when nothing did.
    pub skipped: Option<&'static str>,
}

/// Whether `user`'s alert settings ask for anything at all.
pub fn wanted(p: &Preferences) -> bool {
    p.alert_frequency != AlertFrequency::Off && (p.alert_email || p.alert_webhook_url.is_some())
}

/// The user's alert state, created on first use.
pub async fn state(db: &DatabaseConnection, user_id: i64) -> Result<user_alert::Model> {
    user_alert::Entity::insert(user_alert::ActiveModel {
        user_id: Set(user_id),
        webhook_failures: Set(0),
        updated_at: Set(Utc::now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(user_alert::Column::UserId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    user_alert::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or_else(|| crate::Error::NotFound(format!("alert state of user {user_id}")))
}

/// The user's alert state if there is one (nothing is created).
pub async fn find_state(
    db: &DatabaseConnection,
    user_id: i64,
) -> Result<Option<user_alert::Model>> {
    Ok(user_alert::Entity::find_by_id(user_id).one(db).await?)
}

/// Whether `user`'s current address is the verified one.
pub fn is_verified(user: &user::Model, state: Option<&user_alert::Model>) -> bool {
    state.is_some_and(|s| {
        s.email_verified_at.is_some() && s.verified_email.as_deref() == Some(user.email.as_str())
    })
}

/// A new webhook secret: 32 random bytes, hex.
pub fn new_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| crate::Error::Unexpected(format!("no randomness for a secret: {e}")))?;
    Ok(hex::encode(bytes))
}

/// Gives `user_id` a new webhook secret (and a clean record: failures forgotten, enabled).
pub async fn rotate_secret(db: &DatabaseConnection, user_id: i64) -> Result<String> {
    state(db, user_id).await?;
    let secret = new_secret()?;
    user_alert::Entity::update_many()
        .col_expr(
            user_alert::Column::WebhookSecret,
            Expr::value(Some(secret.clone())),
        )
        .col_expr(user_alert::Column::WebhookFailures, Expr::value(0))
        .col_expr(
            user_alert::Column::WebhookDisabledReason,
            Expr::value(Option::<String>::None),
        )
        .col_expr(user_alert::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(user_alert::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(secret)
}

/// Enables the webhook again (a new URL was saved): failures forgotten.
pub async fn reset_webhook(db: &DatabaseConnection, user_id: i64) -> Result<()> {
    state(db, user_id).await?;
    user_alert::Entity::update_many()
        .col_expr(user_alert::Column::WebhookFailures, Expr::value(0))
        .col_expr(
            user_alert::Column::WebhookDisabledReason,
            Expr::value(Option::<String>::None),
        )
        .filter(user_alert::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks the address of the verification link's user verified; `false` when the link is not
/// good (forged, expired, or for an address the account no longer has).
pub async fn verify_email(db: &DatabaseConnection, key: &[u8], token: &str) -> Result<bool> {
    let Some(user_id) = token
        .split('.')
        .nth(1)
        .and_then(|id| id.parse::<i64>().ok())
    else {
        return Ok(false);
    };
    let Some(user) = user::Entity::find_by_id(user_id).one(db).await? else {
        return Ok(false);
    };
    let email = user.email.as_str().to_owned();
    let now = Utc::now();
    if links::check_verify(key, token, |_| Some(email.clone()), now.timestamp()) != Some(user.id) {
        return Ok(false);
    }
    state(db, user.id).await?;
    user_alert::Entity::update_many()
        .col_expr(user_alert::Column::EmailVerifiedAt, Expr::value(Some(now)))
        .col_expr(user_alert::Column::VerifiedEmail, Expr::value(Some(email)))
        .col_expr(user_alert::Column::UpdatedAt, Expr::value(now))
        .filter(user_alert::Column::UserId.eq(user.id))
        .exec(db)
        .await?;
    Ok(true)
}

/// Turns off email alerts for the unsubscribe link's user; `false` when the link is not good.
pub async fn unsubscribe(db: &DatabaseConnection, key: &[u8], token: &str) -> Result<bool> {
    let Some(user_id) = links::check_unsubscribe(key, token) else {
        return Ok(false);
    };
    let Some(user) = user::Entity::find_by_id(user_id).one(db).await? else {
        return Ok(false);
    };
    let mut p = user.preferences.unwrap_or_default();
    p.alert_email = false;
    crate::preferences::save(db, user_id, p).await?;
    tracing::info!(user_id, "unsubscribed from email alerts");
    Ok(true)
}

/// Whether alerts are due at `now` after the last ones went out at `last`.
fn due(frequency: AlertFrequency, last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    // A little slack, so a daily digest does not slip a day for a run that comes minutes early.
    let slack = chrono::Duration::minutes(10);
    match (frequency, last) {
        (AlertFrequency::Off, _) => false,
        (_, None) | (AlertFrequency::EachRun, _) => true,
        (AlertFrequency::Daily, Some(at)) => now - at >= chrono::Duration::days(1) - slack,
        (AlertFrequency::Weekly, Some(at)) => now - at >= chrono::Duration::days(7) - slack,
    }
}

/// Records `error` (and, for the webhook, a failure in a row, disabling it at the limit).
async fn record_error(
    db: &DatabaseConnection,
    config: &AlertConfig,
    st: &user_alert::Model,
    error: &str,
    webhook: bool,
) -> Result<()> {
    let mut update = user_alert::Entity::update_many()
        .col_expr(
            user_alert::Column::LastError,
            Expr::value(Some(error.to_owned())),
        )
        .col_expr(user_alert::Column::UpdatedAt, Expr::value(Utc::now()));
    if webhook {
        let failures = st.webhook_failures + 1;
        update = update.col_expr(
            user_alert::Column::WebhookFailures,
            Expr::col(user_alert::Column::WebhookFailures).add(1),
        );
        if failures >= config.webhook_disable_after {
            tracing::warn!(
                user_id = st.user_id,
                failures,
                "webhook disabled after repeated failures"
            );
            update = update.col_expr(
                user_alert::Column::WebhookDisabledReason,
                Expr::value(Some(format!(
                    "disabled after {failures} failed deliveries in a row; the last: {error}"
                ))),
            );
        }
    }
    update
        .filter(user_alert::Column::UserId.eq(st.user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// How long a delivery may hold a user's lease (a crashed one gives it up after this).
const LEASE: chrono::Duration = chrono::Duration::minutes(5);

/// The `SendAlerts` job for `user_id`; see the module docs. One delivery per user at a time:
/// a second job while one is in progress fails, to be retried after it (so one digest holds
/// every new match, and none waits for the next run).
pub async fn send(
    db: &DatabaseConnection,
    config: &AlertConfig,
    user_id: i64,
) -> Result<AlertOutcome> {
    let skip = |why| {
        Ok(AlertOutcome {
            skipped: Some(why),
            ..AlertOutcome::default()
        })
    };
    let Some(user) = user::Entity::find_by_id(user_id).one(db).await? else {
        return skip("no such user");
    };
    if !wanted(&user.preferences.clone().unwrap_or_default()) {
        return skip("alerts are off");
    }
    state(db, user_id).await?;
    let now = Utc::now();
    // Longer than the slowest delivery allowed: SMTP plus three webhook attempts and waits.
    let slowest = config.webhook_timeout * 3 + config.webhook_backoff * 3;
    // Whole seconds, so the value reads back equal on every database (the release matches it).
    let until = chrono::Timelike::with_nanosecond(
        &(now
            + LEASE
            + chrono::Duration::from_std(slowest).unwrap_or(chrono::Duration::minutes(10))),
        0,
    )
    .unwrap_or(now + LEASE);
    let leased = user_alert::Entity::update_many()
        .col_expr(user_alert::Column::SendingUntil, Expr::value(Some(until)))
        .filter(user_alert::Column::UserId.eq(user_id))
        .filter(
            sea_orm::Condition::any()
                .add(user_alert::Column::SendingUntil.is_null())
                .add(user_alert::Column::SendingUntil.lt(now)),
        )
        .exec(db)
        .await?;
    if leased.rows_affected != 1 {
        return Err(crate::Error::Unexpected(
            "another alert delivery for this user is in progress; retried after it".into(),
        ));
    }
    let sent = send_leased(db, config, &user).await;
    // Only our own lease is given back (one that outlived it may be another job's now).
    user_alert::Entity::update_many()
        .col_expr(
            user_alert::Column::SendingUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(user_alert::Column::UserId.eq(user_id))
        .filter(user_alert::Column::SendingUntil.eq(until))
        .exec(db)
        .await?;
    sent
}

/// [`send`]'s work once the user's lease is held (`user` is who asked for alerts).
async fn send_leased(
    db: &DatabaseConnection,
    config: &AlertConfig,
    user: &user::Model,
) -> Result<AlertOutcome> {
    let user_id = user.id;
    let p = user.preferences.clone().unwrap_or_default();
    let st = state(db, user_id).await?;
    let now = Utc::now();
    let mut outcome = AlertOutcome::default();
    let verified = is_verified(user, Some(&st));
    if p.alert_email
        && !verified
        && let Some(smtp) = &config.smtp_url
        && st
            .verification_sent_at
            .is_none_or(|at| now - at >= VERIFICATION_EVERY)
    {
        let token = links::verify_token(
            &config.link_key,
            user_id,
            user.email.as_str(),
            now.timestamp(),
        );
        let link = format!("{}/alerts/verify?token={token}", config.public_base_url);
        // Tried at most hourly whatever happens; a failure is recorded and blocks no webhook.
        user_alert::Entity::update_many()
            .col_expr(
                user_alert::Column::VerificationSentAt,
                Expr::value(Some(now)),
            )
            .filter(user_alert::Column::UserId.eq(user_id))
            .exec(db)
            .await?;
        match email::send_verification(smtp, &config.from, user.email.as_str(), &link).await {
            Ok(()) => outcome.verification_sent = true,
            Err(e) => record_error(db, config, &st, &e.message, false).await?,
        }
    }
    let by_email = p.alert_email && verified && config.smtp_url.is_some();
    let by_webhook = p.alert_webhook_url.is_some()
        && st.webhook_secret.is_some()
        && st.webhook_disabled_reason.is_none();
    if !by_email && !by_webhook {
        outcome.skipped = Some("no channel is ready (address not verified, webhook disabled)");
        return Ok(outcome);
    }
    if !due(p.alert_frequency, st.last_sent_at, now) {
        outcome.skipped = Some("not due yet");
        return Ok(outcome);
    }
    let min = i32::from(p.alert_min_score.unwrap_or(DEFAULT_MIN_SCORE));
    let candidates = user_job_match::Entity::find()
        .filter(user_job_match::Column::UserId.eq(user_id))
        .filter(user_job_match::Column::AlertedAt.is_null())
        .filter(user_job_match::Column::Hidden.eq(false))
        .filter(user_job_match::Column::MatchScore.gte(min))
        .find_also_related(job_listing::Entity)
        .filter(job_listing::Column::ClosedAt.is_null())
        .order_by_desc(user_job_match::Column::MatchScore)
        .order_by_desc(user_job_match::Column::Id)
        .limit(MAX_PER_ALERT)
        .all(db)
        .await?;
    let mut claimed = Vec::new();
    for (m, listing) in candidates {
        let Some(listing) = listing else { continue };
        let won = user_job_match::Entity::update_many()
            .col_expr(user_job_match::Column::AlertedAt, Expr::value(Some(now)))
            .filter(user_job_match::Column::Id.eq(m.id))
            .filter(user_job_match::Column::AlertedAt.is_null())
            .exec(db)
            .await?;
        if won.rows_affected == 1 {
            claimed.push((m, listing));
        }
    }
    if claimed.is_empty() {
        outcome.skipped = Some("no new match to alert");
        return Ok(outcome);
    }
    let items: Vec<email::DigestItem> = claimed
        .iter()
        .map(|(m, l)| email::DigestItem {
            title: l.title.clone(),
            company: l.company.clone(),
            location: l.location.clone(),
            score: m.match_score.value(),
            reason: m.match_reason.clone(),
            url: l.job_url.clone(),
        })
        .collect();
    if by_email && let Some(smtp) = &config.smtp_url {
        let token = links::unsubscribe_token(&config.link_key, user_id);
        let unsubscribe = format!(
            "{}/alerts/unsubscribe?token={token}",
            config.public_base_url
        );
        if let Err(e) = email::send_digest(
            smtp,
            &config.from,
            user.email.as_str(),
            &items,
            &config.public_base_url,
            &unsubscribe,
        )
        .await
        {
            record_error(db, config, &st, &e.message, false).await?;
            if !e.permanent {
                // Given back, so the retried job sends them (the webhook with them).
                user_job_match::Entity::update_many()
                    .col_expr(
                        user_job_match::Column::AlertedAt,
                        Expr::value(Option::<DateTime<Utc>>::None),
                    )
                    .filter(user_job_match::Column::Id.is_in(claimed.iter().map(|(m, _)| m.id)))
                    .exec(db)
                    .await?;
                return Err(crate::Error::Unexpected(e.message));
            }
            // Refused for good (a 5xx, a bad address): trying again would fail the same way,
            // and the webhook still goes.
        } else {
            outcome.emailed = true;
        }
    }
    if by_webhook && let (Some(url), Some(secret)) = (&p.alert_webhook_url, &st.webhook_secret) {
        let delivery_id = {
            use sha2::Digest;
            let ids: Vec<String> = claimed.iter().map(|(m, _)| m.id.to_string()).collect();
            hex::encode(&sha2::Sha256::digest(format!("{user_id}:{}", ids.join(",")))[..16])
        };
        let body = json!({
            "type": "matches",
            "deliveryId": delivery_id,
            "userId": user_id,
            "sentAt": now,
            "matches": claimed.iter().map(|(m, l)| json!({
                "jobListingId": l.id.to_string(),
                "title": l.title,
                "company": l.company,
                "location": l.location,
                "score": m.match_score.value(),
                "reason": m.match_reason,
                "matchedSkills": m.matched_skills.0,
                "url": l.job_url,
            })).collect::<Vec<_>>(),
        })
        .to_string();
        match webhook::deliver(
            url,
            secret,
            &delivery_id,
            body.as_bytes(),
            config.allow_private,
            config.webhook_timeout,
            config.webhook_backoff,
        )
        .await
        {
            Ok(()) => {
                outcome.webhooked = true;
                user_alert::Entity::update_many()
                    .col_expr(user_alert::Column::WebhookFailures, Expr::value(0))
                    .filter(user_alert::Column::UserId.eq(user_id))
                    .exec(db)
                    .await?;
            }
            Err(e) => {
                tracing::warn!(user_id, error = %e, "webhook delivery failed");
                record_error(db, config, &st, &e, true).await?;
            }
        }
    }
    user_alert::Entity::update_many()
        .col_expr(user_alert::Column::LastSentAt, Expr::value(Some(now)))
        .col_expr(user_alert::Column::UpdatedAt, Expr::value(now))
        .filter(user_alert::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    outcome.alerted = claimed.len();
    tracing::info!(
        user_id,
        alerted = outcome.alerted,
        emailed = outcome.emailed,
        webhooked = outcome.webhooked,
        "alerts sent"
    );
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequencies_fall_due() {
        let now = Utc::now();
        let hours = |h| Some(now - chrono::Duration::hours(h));
        assert!(!due(AlertFrequency::Off, None, now));
        assert!(due(AlertFrequency::Daily, None, now));
        assert!(due(AlertFrequency::EachRun, hours(0), now));
        assert!(!due(AlertFrequency::Daily, hours(20), now));
        assert!(due(AlertFrequency::Daily, hours(24), now));
        assert!(!due(AlertFrequency::Weekly, hours(24 * 6), now));
        assert!(due(AlertFrequency::Weekly, hours(24 * 7), now));
    }
}
