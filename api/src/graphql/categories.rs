//! `searchCategories` and the admin mutations on categories.

use async_graphql::{Context, Object};
use entity::CategoryOrigin;
use jobs::catalog::{self, CategoryPatch, NewCategory};

use super::context::{Access, state};
use super::types::{AddSearchCategoryInput, SearchCategory, UpdateSearchCategoryInput};
use crate::error::ApiResult;

/// Category queries.
#[derive(Default, Debug)]
pub struct CategoryQuery;

#[Object]
impl CategoryQuery {
    /// Search categories ordered by slug; retired ones only with `includeInactive`.
    /// For any signed-in user.
    #[graphql(guard = "Access::User")]
    async fn search_categories(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(false)")] include_inactive: Option<bool>,
    ) -> ApiResult<Vec<SearchCategory>> {
        let rows = catalog::list(&state(ctx).db, include_inactive.unwrap_or(false)).await?;
        Ok(rows.into_iter().map(SearchCategory).collect())
    }
}

/// Category mutations (admins only).
#[derive(Default, Debug)]
pub struct CategoryMutation;

#[Object]
impl CategoryMutation {
    /// Adds a category; the next collector run searches for it. CONFLICT if the slug is taken.
    #[graphql(guard = "Access::Admin")]
    async fn add_search_category(
        &self,
        ctx: &Context<'_>,
        input: AddSearchCategoryInput,
    ) -> ApiResult<SearchCategory> {
        let new = NewCategory {
            slug: input.slug,
            name: input.name,
            search_terms: input.search_terms,
            keywords: input.keywords,
            location: input.location,
        };
        Ok(SearchCategory(
            catalog::add(&state(ctx).db, new, CategoryOrigin::Admin).await?,
        ))
    }

    /// Renames a category or changes its terms, keywords, location or activity.
    #[graphql(guard = "Access::Admin")]
    async fn update_search_category(
        &self,
        ctx: &Context<'_>,
        slug: String,
        input: UpdateSearchCategoryInput,
    ) -> ApiResult<SearchCategory> {
        let patch = CategoryPatch {
            name: input.name,
            search_terms: input.search_terms,
            keywords: input.keywords,
            location: input.location,
            is_active: input.is_active,
        };
        Ok(SearchCategory(
            catalog::update(&state(ctx).db, &slug, patch).await?,
        ))
    }

    /// Retires a category: it becomes inactive and is kept for history. Not a deletion.
    #[graphql(guard = "Access::Admin")]
    async fn remove_search_category(
        &self,
        ctx: &Context<'_>,
        slug: String,
    ) -> ApiResult<SearchCategory> {
        Ok(SearchCategory(
            catalog::retire(&state(ctx).db, &slug).await?,
        ))
    }
}
