//! `llm_token_days`: the LLM tokens spent (and reserved by calls in flight) per UTC day.

use sea_orm::entity::prelude::*;

/// One day's count.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "llm_token_days")]
pub struct Model {
    /// `YYYY-MM-DD`, UTC.
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: String,
    pub tokens: i64,
}

impl ActiveModelBehavior for ActiveModel {}
