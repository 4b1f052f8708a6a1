//! What asks for jobs: a collector run (one queued or running at a time), queueing again the
//! runs that went stale, what follows a run (matching for the users of every category that
//! gained listings), a saved resume's category assignment, and the matching that saved
//! preferences ask for.

use std::time::Duration;

use entity::{RunTrigger, pipeline_run};
use sea_orm::DatabaseConnection;

use super::{MatchUser, Queue, RunPipeline};
use crate::Result;
use crate::collect::{RunSummary, lease, runs};

/// How long a QUEUED run may wait untaken before its job is taken for lost: the orphan timeout
/// plus the longest wait between two retries.
pub fn queued_stale_after(orphan_after: Duration) -> Duration {
    orphan_after + super::workers::RETRY_BACKOFF_MAX
}

/// Returns the active run if there is one (after recovering stale runs); otherwise creates a
/// QUEUED run and queues its job. If queueing fails the new run is marked FAILED with the
/// reason, so it blocks nothing.
pub async fn request_run(
    db: &DatabaseConnection,
    queue: &Queue,
    trigger: RunTrigger,
    requested_by: Option<i64>,
) -> Result<pipeline_run::Model> {
    recover_stale_runs(db, queue).await?;
    let requested = runs::request(db, trigger, requested_by).await?;
    if requested.created {
        push_or_fail(db, queue, &requested.run).await?;
    }
    Ok(requested.run)
}

async fn push_or_fail(
    db: &DatabaseConnection,
    queue: &Queue,
    run: &pipeline_run::Model,
) -> Result<()> {
    if let Err(e) = queue.push_run(RunPipeline { run_id: run.id }).await {
        tracing::error!(run_id = run.id, error = %e, "could not queue the run; marking it FAILED");
        lease::fail_unheld(db, run, format!("could not queue the run: {e}")).await?;
        return Err(e);
    }
    Ok(())
}

/// Queues again the runs that went stale — RUNNING with a silent worker, or QUEUED and never
/// taken — and fails those that have used their attempts. Returns how many it handled.
pub async fn recover_stale_runs(db: &DatabaseConnection, queue: &Queue) -> Result<usize> {
    let config = queue.config();
    let queued_after = queued_stale_after(config.orphan_after);
    let mut handled = 0;
    for run in lease::stale(db, config.orphan_after, queued_after).await? {
        let attempts = usize::try_from(run.attempts).unwrap_or(usize::MAX);
        if attempts >= config.max_attempts() {
            if lease::fail_unheld(
                db,
                &run,
                format!("its worker stopped during attempt {attempts}; no attempts left"),
            )
            .await?
            {
                tracing::error!(
                    run_id = run.id,
                    attempts,
                    "a run's worker stopped on its last attempt; marked FAILED"
                );
                handled += 1;
            }
        } else if lease::requeue(db, &run, config.orphan_after, queued_after).await? {
            tracing::warn!(
                run_id = run.id,
                status = run.status.as_str(),
                attempts,
                "a run went stale; queueing it again"
            );
            push_or_fail(db, queue, &run).await.ok();
            handled += 1;
        }
    }
    Ok(handled)
}

/// What follows a collected run: `MatchUser` for every user assigned to a category that gained
/// listings (a failure to queue is recorded as an error of the run), then the run's final
/// write. Returns the summary as stored.
pub async fn finish_run(
    db: &DatabaseConnection,
    queue: Option<&Queue>,
    mut summary: RunSummary,
) -> Result<RunSummary> {
    for (source, stats) in &summary.per_source {
        metrics::counter!("listings_fetched_total", "source" => source.as_str())
            .increment(stats.fetched as u64);
    }
    metrics::counter!("listings_inserted_total")
        .increment(u64::try_from(summary.counters.listings_inserted).unwrap_or(0));
    if let Some(queue) = queue {
        match queue_matching(db, queue, &summary.categories_gained).await {
            Ok(n) => summary.counters.users_queued_for_matching = n,
            Err(e) => {
                tracing::warn!(error = %e, "queueing matching after the run failed");
                summary.errors.push(entity::RunErrorEntry {
                    source: "matching".into(),
                    category: None,
                    message: format!("queueing matching failed: {e}"),
                    at: chrono::Utc::now(),
                });
            }
        }
    }
    runs::finish(
        db,
        &summary.lease,
        summary.status,
        &summary.counters,
        &summary.errors,
    )
    .await?;
    Ok(summary)
}

/// Queues `MatchUser` for every user assigned to one of `categories`; returns how many.
async fn queue_matching(db: &DatabaseConnection, queue: &Queue, categories: &[i64]) -> Result<i32> {
    let users = crate::matching::assigned_users(db, categories).await?;
    for &user_id in &users {
        queue.push_match(MatchUser { user_id }).await?;
    }
    Ok(i32::try_from(users.len()).unwrap_or(i32::MAX))
}

/// Saves `user`'s resume ([`crate::resume::save`]) and, when its assignment became PENDING,
/// queues `AssignCategory` for it; if queueing fails the assignment is FAILED with the reason.
pub async fn save_resume(
    db: &DatabaseConnection,
    queue: &Queue,
    user: entity::user::Model,
    text: &str,
) -> Result<entity::user::Model> {
    let saved = crate::resume::save(db, user, text).await?;
    assign_saved(db, queue, saved).await
}

/// [`save_resume`] for the text read from an uploaded file ([`crate::resume::save_upload`]).
pub async fn save_upload(
    db: &DatabaseConnection,
    queue: &Queue,
    user: entity::user::Model,
    upload: crate::resume::Upload,
) -> Result<entity::user::Model> {
    let saved = crate::resume::save_upload(db, user, upload).await?;
    assign_saved(db, queue, saved).await
}

async fn assign_saved(
    db: &DatabaseConnection,
    queue: &Queue,
    saved: crate::resume::Saved,
) -> Result<entity::user::Model> {
    let Some(resume_hash) = saved.assign else {
        return Ok(saved.user);
    };
    let user_id = saved.user.id;
    match queue
        .push_assign(super::AssignCategory {
            user_id,
            resume_hash,
        })
        .await
    {
        Ok(()) => Ok(saved.user),
        Err(e) => {
            tracing::error!(user_id, error = %e, "queueing the category assignment failed");
            crate::resume::assignment_not_queued(db, saved.user).await
        }
    }
}

/// What [`save_preferences`] saved.
#[derive(Debug, Clone)]
pub struct SavedPreferences {
    pub user: entity::user::Model,
    /// A webhook signing secret made by this save (the first URL set): shown to the user once.
    pub new_webhook_secret: Option<String>,
}

/// Saves a user's preferences (validated first: VALIDATION naming the field, nothing saved; a
/// webhook URL must be http(s) and, unless `ALERT_WEBHOOK_ALLOW_PRIVATE`, resolve to public
/// addresses only). Then queues their `MatchUser` at once when they have a category, so
/// matches they now exclude are hidden and newly admitted listings scored (pairs already
/// scored are not rescored), and their `SendAlerts` when the alert settings changed (which
/// mails the address verification if it is needed).
pub async fn save_preferences(
    db: &DatabaseConnection,
    queue: &Queue,
    alerts: &crate::alerts::AlertConfig,
    before: &entity::user::Model,
    preferences: entity::Preferences,
) -> Result<SavedPreferences> {
    let preferences = crate::preferences::validate(preferences)?;
    let old = before.preferences.clone().unwrap_or_default();
    let url_changed = preferences.alert_webhook_url != old.alert_webhook_url;
    if url_changed && let Some(url) = &preferences.alert_webhook_url {
        crate::alerts::webhook::destination(url, alerts.allow_private)
            .await
            .map_err(|why| entity::InvalidValue::new("alertWebhookUrl", why))?;
    }
    let alerts_changed = url_changed
        || preferences.alert_email != old.alert_email
        || preferences.alert_frequency != old.alert_frequency
        || preferences.alert_min_score != old.alert_min_score;
    let user = crate::preferences::save(db, before.id, preferences.clone()).await?;
    let mut new_webhook_secret = None;
    if url_changed && preferences.alert_webhook_url.is_some() {
        let state = crate::alerts::state(db, user.id).await?;
        if state.webhook_secret.is_none() {
            new_webhook_secret = Some(crate::alerts::rotate_secret(db, user.id).await?);
        } else {
            crate::alerts::reset_webhook(db, user.id).await?;
        }
    }
    if user.search_category_id.is_some()
        && user.category_status == entity::AssignmentStatus::Assigned
    {
        queue.push_match(MatchUser { user_id: user.id }).await?;
    }
    if alerts_changed && crate::alerts::wanted(&preferences) {
        queue
            .push_alerts(super::SendAlerts { user_id: user.id })
            .await?;
    }
    Ok(SavedPreferences {
        user,
        new_webhook_secret,
    })
}
