//! What a job seeker controls: `users.preferences` (JSON: where and how they work, pay,
//! exclusions), `users.token_version` (bumped to revoke every token of the account), and
//! `user_job_matches.hidden` (a match the user's current preferences exclude: kept, not shown).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("users")
                .add_column(json_null("preferences"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("users")
                .add_column(integer("token_version").default(0))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("user_job_matches")
                .add_column(boolean("hidden").default(false))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            ("user_job_matches", "hidden"),
            ("users", "token_version"),
            ("users", "preferences"),
        ] {
            m.alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
