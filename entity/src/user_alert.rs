//! `user_alerts`: the alert state of one user (email verification, webhook secret and health,
//! the last digest).

use sea_orm::entity::prelude::*;

/// One user's alert state; absent until they first ask for alerts.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_alerts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    /// When the user followed the verification link sent to `verified_email`.
    pub email_verified_at: Option<DateTimeUtc>,
    /// The address that was verified (a changed address needs verifying again).
    pub verified_email: Option<String>,
    /// When the last verification email went out (they are sent at most hourly).
    pub verification_sent_at: Option<DateTimeUtc>,
    /// HMAC-SHA256 key of the webhook's signatures (hex), shown to the user once.
    pub webhook_secret: Option<String>,
    /// Deliveries in a row that failed after their retries.
    pub webhook_failures: i32,
    /// Set when the webhook was disabled after repeated failures; cleared by a new URL.
    #[sea_orm(column_type = "Text", nullable)]
    pub webhook_disabled_reason: Option<String>,
    /// The last delivery error (email or webhook), for the user to see.
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    /// When alerts last went out (the frequency counts from it).
    pub last_sent_at: Option<DateTimeUtc>,
    /// Held by the delivery in progress: another waits until it is done (or this time passed).
    pub sending_until: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
