//! `jobListings` and the `JobListing` type: stored listings, newest first, with keyset cursors;
//! the categories of listings (and listings by id) are loaded in batches per request
//! ([`Loaders`]), never one query per row.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, ID, Object, Scalar, ScalarType, SimpleObject, Value as GqlValue};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{job_listing, listing_posting, search_category};
use jobs::listings::ListingFilter;
use sea_orm::DatabaseConnection;

use super::context::{Access, state};
use super::cursor;
use super::types::{PageInfo, SearchCategory, page_size};
use crate::error::{ApiError, ApiResult};

/// A calendar date, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy)]
pub struct Date(pub NaiveDate);

/// A calendar date, `YYYY-MM-DD`.
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: GqlValue) -> async_graphql::InputValueResult<Self> {
        match &value {
            GqlValue::String(s) => Ok(Self(s.parse()?)),
            _ => Err(async_graphql::InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> GqlValue {
        GqlValue::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// Pay as the listing states it.
#[derive(SimpleObject, Debug, Clone)]
pub struct Salary {
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// ISO 4217 code.
    pub currency: Option<String>,
    /// `yearly`, `monthly`, `weekly`, `daily` or `hourly`.
    pub interval: Option<String>,
    /// True when the board estimated it rather than the employer stating it.
    pub estimated: bool,
}

/// A stored job listing.
#[derive(Debug, Clone)]
pub struct JobListing(pub job_listing::Model);

/// A stored job listing.
#[Object]
impl JobListing {
    /// Opaque identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn company(&self) -> &str {
        &self.0.company
    }
    async fn location(&self) -> Option<&str> {
        self.0.location.as_deref()
    }
    /// The posting on the board it was found on.
    async fn job_url(&self) -> &str {
        &self.0.job_url
    }
    /// The employer's own page, when the board gives it.
    async fn job_url_direct(&self) -> Option<&str> {
        self.0.job_url_direct.as_deref()
    }
    /// The board: `greenhouse`, `lever`, `linkedin`, …
    async fn source(&self) -> &str {
        &self.0.source
    }
    /// Plain text.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn date_posted(&self) -> Option<Date> {
        self.0.date_posted.map(Date)
    }
    async fn is_remote(&self) -> Option<bool> {
        self.0.is_remote
    }
    async fn job_type(&self) -> Option<&str> {
        self.0.job_type.as_deref()
    }
    /// Null when the listing states no pay.
    async fn salary(&self) -> Option<Salary> {
        let l = &self.0;
        (l.salary_min.is_some() || l.salary_max.is_some()).then(|| Salary {
            min: l.salary_min,
            max: l.salary_max,
            currency: l.salary_currency.clone(),
            interval: l.salary_interval.clone(),
            estimated: l.salary_is_estimated,
        })
    }
    /// The categories it was found for.
    async fn categories(&self, ctx: &Context<'_>) -> ApiResult<Vec<SearchCategory>> {
        let found = ctx
            .data_unchecked::<DataLoader<Loaders>>()
            .load_one(CategoriesOf(self.0.id))
            .await
            .map_err(ApiError::internal)?;
        Ok(found
            .unwrap_or_default()
            .into_iter()
            .map(SearchCategory)
            .collect())
    }
    /// When the collector first stored it.
    async fn first_seen_at(&self) -> DateTime<Utc> {
        self.0.first_seen_at
    }
    /// When a source last listed it.
    async fn last_seen_at(&self) -> DateTime<Utc> {
        self.0.last_seen_at
    }
    /// When it was seen to be gone (its board no longer lists it, or no source listed it for
    /// LISTING_TTL_DAYS); null while it is open.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
    /// The board URLs this opening was found at, first found first: the same opening on two
    /// boards is one listing with two postings.
    async fn postings(&self, ctx: &Context<'_>) -> ApiResult<Vec<JobPosting>> {
        let found = ctx
            .data_unchecked::<DataLoader<Loaders>>()
            .load_one(PostingsOf(self.0.id))
            .await
            .map_err(ApiError::internal)?;
        Ok(found
            .unwrap_or_default()
            .into_iter()
            .map(JobPosting)
            .collect())
    }
}

/// One board URL of a listing.
#[derive(Debug)]
pub struct JobPosting(listing_posting::Model);

#[Object]
impl JobPosting {
    /// The source it came from (`greenhouse`, `linkedin`, …).
    async fn source(&self) -> &str {
        &self.0.source
    }
    async fn job_url(&self) -> &str {
        &self.0.job_url
    }
    /// The employer's own application page, when the board gives one.
    async fn job_url_direct(&self) -> Option<&str> {
        self.0.job_url_direct.as_deref()
    }
    async fn first_seen_at(&self) -> DateTime<Utc> {
        self.0.first_seen_at
    }
    async fn last_seen_at(&self) -> DateTime<Utc> {
        self.0.last_seen_at
    }
}

/// One listing and its cursor.
#[derive(SimpleObject, Debug)]
pub struct JobListingEdge {
    pub cursor: String,
    pub node: JobListing,
}

/// A page of stored listings.
#[derive(SimpleObject, Debug)]
pub struct JobListingConnection {
    pub total_count: i32,
    pub edges: Vec<JobListingEdge>,
    pub page_info: PageInfo,
}

/// Batch loads for one request.
#[derive(Debug)]
pub struct Loaders {
    db: DatabaseConnection,
}

impl Loaders {
    pub fn new(db: DatabaseConnection) -> DataLoader<Self> {
        DataLoader::new(Self { db }, tokio::spawn)
    }
}

/// A listing by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListingId(pub i64);

/// The categories of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CategoriesOf(pub i64);

impl Loader<ListingId> for Loaders {
    type Value = job_listing::Model;
    type Error = Arc<jobs::Error>;

    async fn load(
        &self,
        keys: &[ListingId],
    ) -> Result<HashMap<ListingId, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let found = jobs::listings::by_ids(&self.db, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(found
            .into_iter()
            .map(|(id, l)| (ListingId(id), l))
            .collect())
    }
}

/// The postings of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PostingsOf(pub i64);

impl Loader<PostingsOf> for Loaders {
    type Value = Vec<listing_posting::Model>;
    type Error = Arc<jobs::Error>;

    async fn load(
        &self,
        keys: &[PostingsOf],
    ) -> Result<HashMap<PostingsOf, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let found = jobs::listings::postings_of(&self.db, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(found
            .into_iter()
            .map(|(id, p)| (PostingsOf(id), p))
            .collect())
    }
}

impl Loader<CategoriesOf> for Loaders {
    type Value = Vec<search_category::Model>;
    type Error = Arc<jobs::Error>;

    async fn load(
        &self,
        keys: &[CategoriesOf],
    ) -> Result<HashMap<CategoriesOf, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let found = jobs::listings::categories_of(&self.db, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(found
            .into_iter()
            .map(|(id, c)| (CategoriesOf(id), c))
            .collect())
    }
}

/// Queries of stored listings.
#[derive(Default, Debug)]
pub struct ListingQuery;

#[Object]
impl ListingQuery {
    /// Stored listings, newest first: of one category, collected or posted within some hours,
    /// and/or whose title or company contains `search` (case-insensitive). Signed in.
    #[graphql(guard = "Access::User")]
    async fn job_listings(
        &self,
        ctx: &Context<'_>,
        category_slug: Option<String>,
        posted_within_hours: Option<i32>,
        search: Option<String>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<JobListingConnection> {
        let db = &state(ctx).db;
        let limit = page_size(first)?;
        let filter = ListingFilter {
            category: category_slug.map(|s| s.trim().parse()).transpose()?,
            posted_within_hours,
            search,
        }
        .check(db)
        .await?;
        let after = after.as_deref().map(cursor::listing_after).transpose()?;
        let page = jobs::listings::page(db, &filter, limit, after).await?;
        let edges: Vec<JobListingEdge> = page
            .items
            .into_iter()
            .map(|l| JobListingEdge {
                cursor: cursor::listing(l.id),
                node: JobListing(l),
            })
            .collect();
        Ok(JobListingConnection {
            total_count: i32::try_from(page.total).unwrap_or(i32::MAX),
            page_info: PageInfo {
                has_next_page: page.has_next,
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
        })
    }
}
