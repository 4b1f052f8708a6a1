//! Reads of stored listings: a filtered page (`jobListings`), listings and their categories by
//! id (the API's batch loaders), the fresh listings of a category (what `MatchUser` scores),
//! the recent texts the keyword scorer's statistics are counted over, and the row counts
//! `/metrics` shows. The "of a category, within some hours" conditions are defined once, here.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    CategorySlug, InvalidValue, job_listing, job_listing_category, listing_posting, search_category,
};
use sea_orm::sea_query::{Expr, Func, LikeExpr, Query};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, ExprTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use crate::{Error, Result};

/// Longest `search` text.
pub const MAX_SEARCH_CHARS: usize = 200;
/// Widest `postedWithinHours`: a year.
pub const MAX_HOURS: i32 = 24 * 365;

/// One page of a list, read with one row more than asked to know whether another follows.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Rows passing the filters, over all pages.
    pub total: u64,
    pub has_next: bool,
}

impl<T> Page<T> {
    /// The first `limit` of `rows` (read with one extra) and whether there are more.
    pub fn of(mut rows: Vec<T>, limit: u64, total: u64) -> Self {
        let has_next = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Self {
            items: rows,
            total,
            has_next,
        }
    }
}

/// What `jobListings` filters by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListingFilter {
    /// Only listings found for this category.
    pub category: Option<CategorySlug>,
    /// Only listings first seen or posted within this many hours (1 to [`MAX_HOURS`]).
    pub posted_within_hours: Option<i32>,
    /// Only listings whose title or company contains this text, case-insensitively and
    /// literally (`%` and `_` are not wildcards). Blank is no filter.
    pub search: Option<String>,
}

/// Listings found for `category_id`.
pub fn in_category(category_id: i64) -> Condition {
    Condition::all().add(
        job_listing::Column::Id.in_subquery(
            Query::select()
                .column(job_listing_category::Column::JobListingId)
                .from(job_listing_category::Entity)
                .and_where(job_listing_category::Column::SearchCategoryId.eq(category_id))
                .to_owned(),
        ),
    )
}

/// Listings first seen, or posted, at or after `cutoff`.
pub fn fresh_since(cutoff: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(job_listing::Column::FirstSeenAt.gte(cutoff))
        .add(job_listing::Column::DatePosted.gte(cutoff.date_naive()))
}

fn hours_ago(hours: u32) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::hours(i64::from(hours))
}

/// Listings whose title or company contains `text` (already lowercased), literally.
fn containing(text: &str) -> Condition {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let pattern = format!("%{escaped}%");
    let like = |col: job_listing::Column| {
        Expr::expr(Func::lower(Expr::col(col))).like(LikeExpr::new(pattern.clone()).escape('\\'))
    };
    Condition::any()
        .add(like(job_listing::Column::Title))
        .add(like(job_listing::Column::Company))
}

/// A [`ListingFilter`] checked against its rules and the catalog, ready to page with.
#[derive(Debug, Clone)]
pub struct CheckedFilter(Condition);

impl ListingFilter {
    /// Checks the filter's values (an unknown category is `NotFound`, a bad window or search is
    /// VALIDATION), in the order of its fields.
    pub async fn check(&self, db: &DatabaseConnection) -> Result<CheckedFilter> {
        self.condition(db).await.map(CheckedFilter)
    }

    async fn condition(&self, db: &DatabaseConnection) -> Result<Condition> {
        let mut filter = Condition::all();
        if let Some(slug) = &self.category {
            let category = crate::catalog::find(db, slug).await?.ok_or_else(|| {
                Error::NotFound(format!("no search category has the slug {slug}"))
            })?;
            filter = filter.add(in_category(category.id));
        }
        if let Some(hours) = self.posted_within_hours {
            let hours = u32::try_from(hours)
                .ok()
                .filter(|h| (1..=MAX_HOURS as u32).contains(h))
                .ok_or_else(|| {
                    InvalidValue::new(
                        "postedWithinHours",
                        format!("must be between 1 and {MAX_HOURS}"),
                    )
                })?;
            filter = filter.add(fresh_since(hours_ago(hours)));
        }
        if let Some(search) = &self.search {
            entity::check_plain_text("search", search)?;
            let search = search.trim().to_lowercase();
            if search.chars().count() > MAX_SEARCH_CHARS {
                return Err(InvalidValue::new(
                    "search",
                    format!("at most {MAX_SEARCH_CHARS} characters"),
                )
                .into());
            }
            if !search.is_empty() {
                filter = filter.add(containing(&search));
            }
        }
        Ok(filter)
    }
}

/// Stored listings passing `filter`, newest first: `first` of them after the listing id
/// `after` (a keyset: inserts between two pages neither repeat nor skip a row).
pub async fn page(
    db: &DatabaseConnection,
    filter: &CheckedFilter,
    first: u64,
    after: Option<i64>,
) -> Result<Page<job_listing::Model>> {
    let condition = filter.0.clone();
    let total = job_listing::Entity::find()
        .filter(condition.clone())
        .count(db)
        .await?;
    let mut query = job_listing::Entity::find().filter(condition);
    if let Some(after) = after {
        query = query.filter(job_listing::Column::Id.lt(after));
    }
    let rows = query
        .order_by_desc(job_listing::Column::Id)
        .limit(first + 1)
        .all(db)
        .await?;
    Ok(Page::of(rows, first, total))
}

/// The listings with these ids (those that exist).
pub async fn by_ids(
    db: &DatabaseConnection,
    ids: &[i64],
) -> Result<HashMap<i64, job_listing::Model>> {
    let rows = job_listing::Entity::find()
        .filter(job_listing::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|l| (l.id, l)).collect())
}

/// The postings (board URLs) of each of these listings, oldest first; one query.
pub async fn postings_of(
    db: &DatabaseConnection,
    listing_ids: &[i64],
) -> Result<HashMap<i64, Vec<listing_posting::Model>>> {
    let rows = listing_posting::Entity::find()
        .filter(listing_posting::Column::JobListingId.is_in(listing_ids.iter().copied()))
        .order_by_asc(listing_posting::Column::Id)
        .all(db)
        .await?;
    let mut out: HashMap<i64, Vec<listing_posting::Model>> = HashMap::new();
    for p in rows {
        out.entry(p.job_listing_id).or_default().push(p);
    }
    Ok(out)
}

/// The categories each of these listings was found for, by slug; two queries for any number.
pub async fn categories_of(
    db: &DatabaseConnection,
    listing_ids: &[i64],
) -> Result<HashMap<i64, Vec<search_category::Model>>> {
    let links: Vec<(i64, i64)> = job_listing_category::Entity::find()
        .select_only()
        .column(job_listing_category::Column::JobListingId)
        .column(job_listing_category::Column::SearchCategoryId)
        .filter(job_listing_category::Column::JobListingId.is_in(listing_ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    let categories: HashMap<i64, search_category::Model> = search_category::Entity::find()
        .filter(search_category::Column::Id.is_in(links.iter().map(|(_, c)| *c)))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut out: HashMap<i64, Vec<search_category::Model>> = HashMap::new();
    for (listing, category) in links {
        if let Some(c) = categories.get(&category) {
            out.entry(listing).or_default().push(c.clone());
        }
    }
    for list in out.values_mut() {
        list.sort_by(|a, b| a.slug.as_str().cmp(b.slug.as_str()));
    }
    Ok(out)
}

/// The open listings of `category_id` first seen or posted within `hours`, newest first: what
/// `MatchUser` scores (a closed listing is never matched or scored).
pub async fn fresh_of_category(
    db: &DatabaseConnection,
    category_id: i64,
    hours: u32,
) -> Result<Vec<job_listing::Model>> {
    Ok(job_listing::Entity::find()
        .filter(in_category(category_id))
        .filter(fresh_since(hours_ago(hours)))
        .filter(job_listing::Column::ClosedAt.is_null())
        .order_by_desc(job_listing::Column::FirstSeenAt)
        .order_by_desc(job_listing::Column::Id)
        .all(db)
        .await?)
}

/// The titles and descriptions of the `limit` most recent listings, of `category_id` when
/// given, newest first: what the keyword scorer's term statistics are counted over.
pub async fn recent_texts(
    db: &DatabaseConnection,
    category_id: Option<i64>,
    limit: u64,
) -> Result<Vec<(i64, String, Option<String>)>> {
    let mut query = job_listing::Entity::find()
        .select_only()
        .column(job_listing::Column::Id)
        .column(job_listing::Column::Title)
        .column(job_listing::Column::Description);
    if let Some(category_id) = category_id {
        query = query.filter(in_category(category_id));
    }
    Ok(query
        .order_by_desc(job_listing::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?)
}

/// Row counts an operator watches (the `/metrics` gauges).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub open: u64,
    pub closed: u64,
    pub users: u64,
    pub matches: u64,
}

/// How many listings are open and closed, and how many users and matches there are.
pub async fn counts(db: &DatabaseConnection) -> Result<Counts> {
    let closed = job_listing::Entity::find()
        .filter(job_listing::Column::ClosedAt.is_not_null())
        .count(db)
        .await?;
    let all = job_listing::Entity::find().count(db).await?;
    Ok(Counts {
        open: all.saturating_sub(closed),
        closed,
        users: entity::user::Entity::find().count(db).await?,
        matches: entity::user_job_match::Entity::find().count(db).await?,
    })
}
