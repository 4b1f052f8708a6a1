//! Alerts: `user_job_matches.alerted_at` (a match is alerted at most once), and `user_alerts`,
//! one row per user who asked for alerts — whether and when their email address was verified,
//! their webhook's signing secret, how its deliveries have fared (failures in a row, why it
//! was disabled), when a digest last went out, and the lease of the delivery in progress
//! (one per user at a time).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("user_job_matches")
                .add_column(timestamp_with_time_zone_null("alerted_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("user_alerts")
                .if_not_exists()
                .col(big_integer("user_id").primary_key())
                .col(timestamp_with_time_zone_null("email_verified_at"))
                .col(string_len_null("verified_email", 320))
                .col(timestamp_with_time_zone_null("verification_sent_at"))
                .col(string_len_null("webhook_secret", 128))
                .col(integer("webhook_failures").default(0))
                .col(text_null("webhook_disabled_reason"))
                .col(text_null("last_error"))
                .col(timestamp_with_time_zone_null("last_sent_at"))
                .col(timestamp_with_time_zone_null("sending_until"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("user_alerts", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("user_alerts").if_exists().to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table("user_job_matches")
                .drop_column("alerted_at")
                .to_owned(),
        )
        .await
    }
}
