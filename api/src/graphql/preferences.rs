//! `User.preferences`, `updatePreferences` and `rotateWebhookSecret`: where and how a job
//! seeker works, what they are paid, and what they never want to see — applied before
//! scoring, so an excluded listing costs no LLM call and makes no match — and how they hear
//! about new matches (email digest, signed webhook).

use async_graphql::{Context, Enum, InputObject, MaybeUndefined, Object, SimpleObject};

use super::context::{Access, require_user, state};
use super::types::User;
use crate::error::{ApiError, ApiResult};

/// What a job seeker wants of a listing. Empty lists and nulls admit everything.
#[derive(SimpleObject, Debug, Clone)]
pub struct Preferences {
    /// Places the user works in ("Berlin", "Germany"); a listing's location must name one.
    /// "Remote" among them admits listings marked or named remote.
    locations: Vec<String>,
    /// Only listings marked or named remote.
    remote_only: bool,
    /// The least yearly pay, in `salaryCurrency`: a listing whose stated pay (made yearly)
    /// is lower is excluded; pay in another currency passes (it cannot be compared).
    min_salary: Option<f64>,
    /// ISO 4217 code of `minSalary`.
    salary_currency: Option<String>,
    /// With `minSalary`: also exclude listings that state no pay (by default they pass).
    require_salary: bool,
    /// Companies never shown (compared without case, punctuation and legal suffixes).
    exclude_companies: Vec<String>,
    /// Words or phrases that exclude a listing when its title has them.
    exclude_title_words: Vec<String>,
    /// Job types admitted (`fulltime`, `parttime`, `contract`, `internship`, `temporary`); a
    /// listing that states none passes. Empty: all.
    job_types: Vec<String>,
    /// New matches at or above this score are alerted (null: 70).
    alert_min_score: Option<i32>,
    /// How often alerts go out (OFF: never).
    alert_frequency: AlertFrequency,
    /// Alerts by email to the account's address, once it is verified (a link is mailed when
    /// this is turned on).
    alert_email: bool,
    /// Alerts POSTed as JSON to this URL, signed with HMAC-SHA256 over
    /// `{x-jobcollector-timestamp}.{body}` in `x-jobcollector-signature: sha256=<hex>`.
    alert_webhook_url: Option<String>,
    /// The webhook's signing secret, only in the answer of the `updatePreferences` that first
    /// set a webhook URL: keep it, it is never shown again (`rotateWebhookSecret` makes a new
    /// one).
    alert_webhook_secret: Option<String>,
    /// Why the webhook was disabled (repeated failed deliveries); a new URL enables it again.
    alert_webhook_disabled: Option<String>,
    /// The last failed alert delivery, email or webhook.
    alert_last_error: Option<String>,
    /// Whether the account's address is verified for email alerts.
    email_verified: bool,
}

/// How often a user's new matches are sent.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::AlertFrequency")]
pub enum AlertFrequency {
    Off,
    /// After every scoring run that found new matches.
    EachRun,
    /// At most once a day.
    Daily,
    /// At most once a week.
    Weekly,
}

impl Preferences {
    fn of(
        p: entity::Preferences,
        user: &entity::user::Model,
        state: Option<&entity::user_alert::Model>,
    ) -> Self {
        Self {
            alert_min_score: p.alert_min_score.map(i32::from),
            alert_frequency: p.alert_frequency.into(),
            alert_email: p.alert_email,
            alert_webhook_url: p.alert_webhook_url.clone(),
            alert_webhook_secret: None,
            alert_webhook_disabled: state.and_then(|s| s.webhook_disabled_reason.clone()),
            alert_last_error: state.and_then(|s| s.last_error.clone()),
            email_verified: jobs::alerts::is_verified(user, state),
            ..p.into()
        }
    }
}

impl From<entity::Preferences> for Preferences {
    fn from(p: entity::Preferences) -> Self {
        Self {
            alert_min_score: p.alert_min_score.map(i32::from),
            alert_frequency: p.alert_frequency.into(),
            alert_email: p.alert_email,
            alert_webhook_url: p.alert_webhook_url.clone(),
            alert_webhook_secret: None,
            alert_webhook_disabled: None,
            alert_last_error: None,
            email_verified: false,
            locations: p.locations,
            remote_only: p.remote_only,
            #[allow(clippy::cast_precision_loss)] // salaries far below 2^52
            min_salary: p.min_salary.map(|m| m as f64),
            salary_currency: p.salary_currency,
            require_salary: p.require_salary,
            exclude_companies: p.exclude_companies,
            exclude_title_words: p.exclude_title_words,
            job_types: p.job_types,
        }
    }
}

/// Changes to the preferences: a field left out keeps its value; an empty list or null clears
/// it. At most 20 locations and 50 companies or title words, each at most 100 characters.
#[derive(InputObject, Debug, Clone, Default)]
pub struct PreferencesInput {
    locations: Option<Vec<String>>,
    remote_only: Option<bool>,
    /// 0 to 100,000,000; needs `salaryCurrency`. Null clears it.
    min_salary: MaybeUndefined<f64>,
    salary_currency: MaybeUndefined<String>,
    require_salary: Option<bool>,
    exclude_companies: Option<Vec<String>>,
    exclude_title_words: Option<Vec<String>>,
    job_types: Option<Vec<String>>,
    /// 0 to 100; null: 70.
    alert_min_score: MaybeUndefined<i32>,
    alert_frequency: Option<AlertFrequency>,
    alert_email: Option<bool>,
    /// An http(s) URL that resolves to public addresses only (unless the operator allows
    /// private ones); null removes the webhook.
    alert_webhook_url: MaybeUndefined<String>,
}

/// `User.preferences`: the owner's, or the defaults for anyone else.
pub async fn of(
    ctx: &Context<'_>,
    user: &entity::user::Model,
    new_webhook_secret: Option<String>,
) -> ApiResult<Preferences> {
    let viewer = super::context::current_user(ctx).await?;
    let own = viewer.is_some_and(|v| v.id == user.id);
    if !own {
        return Ok(entity::Preferences::default().into());
    }
    let alerts = jobs::alerts::find_state(&state(ctx).db, user.id).await?;
    Ok(Preferences {
        alert_webhook_secret: new_webhook_secret,
        ..Preferences::of(
            user.preferences.clone().unwrap_or_default(),
            user,
            alerts.as_ref(),
        )
    })
}

#[derive(Default, Debug)]
pub struct PreferencesMutation;

#[Object]
impl PreferencesMutation {
    /// Changes the signed-in user's preferences. The user's matching runs again at once in the
    /// background: matches the preferences now exclude are hidden from `matchedJobs` (kept,
    /// and shown again if the preferences change back), newly admitted listings are scored,
    /// and pairs already scored are not rescored. VALIDATION names the field at fault.
    #[graphql(guard = "Access::User")]
    async fn update_preferences(
        &self,
        ctx: &Context<'_>,
        input: PreferencesInput,
    ) -> ApiResult<User> {
        let me = require_user(ctx).await?;
        let s = state(ctx);
        let mut p = me.preferences.clone().unwrap_or_default();
        let set = |target: &mut Vec<String>, value: Option<Vec<String>>| {
            if let Some(v) = value {
                *target = v;
            }
        };
        set(&mut p.locations, input.locations);
        set(&mut p.exclude_companies, input.exclude_companies);
        set(&mut p.exclude_title_words, input.exclude_title_words);
        set(&mut p.job_types, input.job_types);
        if let Some(v) = input.remote_only {
            p.remote_only = v;
        }
        if let Some(v) = input.require_salary {
            p.require_salary = v;
        }
        match input.min_salary {
            MaybeUndefined::Undefined => {}
            MaybeUndefined::Null => p.min_salary = None,
            MaybeUndefined::Value(min) => {
                if !min.is_finite() || !(0.0..=1e8).contains(&min) {
                    return Err(ApiError::Validation {
                        field: "minSalary",
                        message: "between 0 and 100000000".into(),
                    });
                }
                #[allow(clippy::cast_possible_truncation)] // bounded above
                {
                    p.min_salary = Some(min.round() as i64);
                }
            }
        }
        match input.salary_currency {
            MaybeUndefined::Undefined => {}
            MaybeUndefined::Null => p.salary_currency = None,
            MaybeUndefined::Value(c) => p.salary_currency = Some(c),
        }
        match input.alert_min_score {
            MaybeUndefined::Undefined => {}
            MaybeUndefined::Null => p.alert_min_score = None,
            MaybeUndefined::Value(v) => {
                p.alert_min_score = Some(i16::try_from(v).map_err(|_| ApiError::Validation {
                    field: "alertMinScore",
                    message: "between 0 and 100".into(),
                })?);
            }
        }
        if let Some(f) = input.alert_frequency {
            p.alert_frequency = f.into();
        }
        if let Some(v) = input.alert_email {
            p.alert_email = v;
        }
        match input.alert_webhook_url {
            MaybeUndefined::Undefined => {}
            MaybeUndefined::Null => p.alert_webhook_url = None,
            MaybeUndefined::Value(url) => p.alert_webhook_url = Some(url),
        }
        let saved =
            jobs::queue::trigger::save_preferences(&s.db, &s.queue, &s.config.alerts, &me, p)
                .await?;
        Ok(User {
            row: saved.user,
            new_webhook_secret: saved.new_webhook_secret,
        })
    }

    /// Makes a new signing secret for the signed-in user's webhook and shows it this once; the
    /// old one stops working. The webhook is enabled again.
    #[graphql(guard = "Access::User")]
    async fn rotate_webhook_secret(&self, ctx: &Context<'_>) -> ApiResult<String> {
        let me = require_user(ctx).await?;
        Ok(jobs::alerts::rotate_secret(&state(ctx).db, me.id).await?)
    }
}
