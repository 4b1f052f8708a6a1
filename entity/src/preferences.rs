//! [`Preferences`]: what a job seeker wants of a listing, stored as JSON in
//! `users.preferences`. The rules that apply them are `jobs::preferences`.

use sea_orm::FromJsonQueryResult;
use serde::{Deserialize, Serialize};

/// A user's preferences; the default admits every listing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
#[serde(default, rename_all = "camelCase")]
pub struct Preferences {
    /// Places the user works in ("Berlin", "Germany", "Remote"); empty: anywhere.
    pub locations: Vec<String>,
    /// Only listings marked or named remote.
    pub remote_only: bool,
    /// The least yearly pay acceptable, in `salary_currency` (whole units).
    pub min_salary: Option<i64>,
    /// ISO 4217 code of `min_salary`.
    pub salary_currency: Option<String>,
    /// Exclude listings that state no pay when a minimum is set (default: they pass).
    pub require_salary: bool,
    /// Companies never shown (compared without case and legal suffixes).
    pub exclude_companies: Vec<String>,
    /// Words or phrases that exclude a listing when its title has them ("intern", "sales").
    pub exclude_title_words: Vec<String>,
    /// Job types admitted (`fulltime`, `parttime`, `contract`, `internship`, `temporary`);
    /// empty: all. A listing that states none passes.
    pub job_types: Vec<String>,
    /// New matches at or above this score are alerted; `None`: 70.
    pub alert_min_score: Option<i16>,
    /// How often alerts go out.
    pub alert_frequency: AlertFrequency,
    /// Alerts by email (to the account's address, once verified).
    pub alert_email: bool,
    /// Alerts POSTed as signed JSON to this http(s) URL.
    pub alert_webhook_url: Option<String>,
}

/// How often a user's new matches are sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertFrequency {
    /// Never.
    #[default]
    Off,
    /// After every scoring run that found some.
    EachRun,
    /// At most once a day.
    Daily,
    /// At most once a week.
    Weekly,
}
