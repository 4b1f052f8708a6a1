//! `job_listing_categories`: which categories found a listing (a listing can have several).

use sea_orm::entity::prelude::*;

/// A link between a listing and a category that found it.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_listing_categories")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub job_listing_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub search_category_id: i64,
    pub linked_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "job_listing_id", to = "id")]
    pub job_listing: BelongsTo<super::job_listing::Entity>,
    #[sea_orm(belongs_to, from = "search_category_id", to = "id")]
    pub search_category: BelongsTo<super::search_category::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
