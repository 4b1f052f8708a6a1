//! `search_categories`: what the collector searches for, and what users are assigned to.

use sea_orm::entity::prelude::*;

use crate::{CategoryOrigin, CategorySlug, StringList};

/// A search category. Never deleted: retiring sets `is_active = false`.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "search_categories")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Unique identifier used by clients and admins.
    #[sea_orm(unique)]
    pub slug: CategorySlug,
    /// Display name.
    pub name: String,
    /// Queries sent to search sources (never empty: defaults to the name).
    pub search_terms: StringList,
    /// Words that assign resumes and board listings to this category.
    pub keywords: StringList,
    /// Location passed to search sources, if any.
    pub location: Option<String>,
    /// Inactive categories are kept for history but neither collected nor assigned.
    pub is_active: bool,
    pub origin: CategoryOrigin,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    #[sea_orm(has_many)]
    pub users: HasMany<super::user::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
