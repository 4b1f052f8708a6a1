//! `saveResume`, `matchedJobs`, `setMatchStatus` and `jobListings`: what a job seeker sees.
//!
//! Lists page by keyset cursors (opaque hex of the sort key and the listing id), so inserts
//! between two pages neither repeat nor skip a row. A page of matches is read with its
//! listings in one join; other listings and the categories of listings are loaded in batches
//! per request ([`Loaders`]), never one query per row.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{
    Context, Enum, ID, Object, Scalar, ScalarType, SimpleObject, Value as GqlValue,
};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{Score, job_listing, job_listing_category, search_category, user, user_job_match};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, ExprTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::context::{require_user, state};
use super::types::{CategoryAssignment, SearchCategory, User};
use crate::error::{ApiError, ApiResult};

/// Most items one page may ask for.
use super::MAX_PAGE;

/// A user's own status for a match.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::MatchStatus")]
pub enum MatchStatus {
    /// Not acted on yet.
    New,
    /// Kept for later.
    Saved,
    /// Applied to.
    Applied,
    /// Not interesting; hidden by clients.
    Dismissed,
}

/// How a match was scored.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::ScoreMethod")]
pub enum ScoreMethod {
    /// By the LLM with the rubric prompt.
    Llm,
    /// By the deterministic keyword scorer (the LLM was off or failed for this pair).
    Keyword,
}

/// The order of `matchedJobs`.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum MatchSort {
    /// Best score first (ties: most recently scored first).
    #[default]
    ScoreDesc,
    /// Most recently collected listing first.
    Newest,
}

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

/// Where a page ends.
#[derive(SimpleObject, Debug, Clone)]
pub struct PageInfo {
    pub has_next_page: bool,
    /// Pass as `after` for the next page.
    pub end_cursor: Option<String>,
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
}

/// A listing scored for the signed-in user.
#[derive(Debug, Clone)]
pub struct Match {
    pub row: user_job_match::Model,
    /// The listing when it was read with the match (one join for a whole page).
    pub job: Option<job_listing::Model>,
}

/// A listing scored for the signed-in user.
#[Object]
impl Match {
    async fn job(&self, ctx: &Context<'_>) -> ApiResult<JobListing> {
        if let Some(job) = &self.job {
            return Ok(JobListing(job.clone()));
        }
        ctx.data_unchecked::<DataLoader<Loaders>>()
            .load_one(ListingId(self.row.job_listing_id))
            .await
            .map_err(ApiError::internal)?
            .map(JobListing)
            .ok_or_else(|| ApiError::NotFound("the listing is gone".into()))
    }
    /// 0 to 100.
    async fn score(&self) -> i32 {
        self.row.match_score.value()
    }
    /// Why, citing the resume (at most 300 characters).
    async fn reason(&self) -> &str {
        &self.row.match_reason
    }
    async fn matched_skills(&self) -> &[String] {
        &self.row.matched_skills.0
    }
    async fn missing_skills(&self) -> &[String] {
        &self.row.missing_skills.0
    }
    async fn method(&self) -> ScoreMethod {
        self.row.method.into()
    }
    /// The user's own status.
    async fn status(&self) -> MatchStatus {
        self.row.status.into()
    }
    async fn scored_at(&self) -> DateTime<Utc> {
        self.row.scored_at
    }
}

/// One match and its cursor.
#[derive(SimpleObject, Debug)]
pub struct MatchEdge {
    pub cursor: String,
    pub node: Match,
}

/// The signed-in user's matches, with where their category assignment stands.
#[derive(SimpleObject, Debug)]
pub struct MatchedJobs {
    /// PENDING while the category is being chosen: show "assigning your category…".
    pub category_assignment: CategoryAssignment,
    /// Matches passing the filters, over all pages.
    pub total_count: i32,
    pub edges: Vec<MatchEdge>,
    pub page_info: PageInfo,
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
    type Error = std::sync::Arc<sea_orm::DbErr>;

    async fn load(
        &self,
        keys: &[ListingId],
    ) -> Result<HashMap<ListingId, Self::Value>, Self::Error> {
        let rows = job_listing::Entity::find()
            .filter(job_listing::Column::Id.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|l| (ListingId(l.id), l)).collect())
    }
}

impl Loader<CategoriesOf> for Loaders {
    type Value = Vec<search_category::Model>;
    type Error = std::sync::Arc<sea_orm::DbErr>;

    async fn load(
        &self,
        keys: &[CategoriesOf],
    ) -> Result<HashMap<CategoriesOf, Self::Value>, Self::Error> {
        let links: Vec<(i64, i64)> = job_listing_category::Entity::find()
            .select_only()
            .column(job_listing_category::Column::JobListingId)
            .column(job_listing_category::Column::SearchCategoryId)
            .filter(job_listing_category::Column::JobListingId.is_in(keys.iter().map(|k| k.0)))
            .into_tuple()
            .all(&self.db)
            .await?;
        let categories: HashMap<i64, search_category::Model> = search_category::Entity::find()
            .filter(search_category::Column::Id.is_in(links.iter().map(|(_, c)| *c)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let mut out: HashMap<CategoriesOf, Vec<search_category::Model>> = HashMap::new();
        for (listing, category) in links {
            if let Some(c) = categories.get(&category) {
                out.entry(CategoriesOf(listing))
                    .or_default()
                    .push(c.clone());
            }
        }
        for list in out.values_mut() {
            list.sort_by(|a, b| a.slug.as_str().cmp(b.slug.as_str()));
        }
        Ok(out)
    }
}

fn page_size(first: Option<i32>) -> ApiResult<u64> {
    let first = first.unwrap_or(20);
    if !(1..=MAX_PAGE).contains(&first) {
        return Err(ApiError::Validation {
            field: "first",
            message: format!("must be between 1 and {MAX_PAGE}"),
        });
    }
    Ok(first as u64)
}

/// The first `limit` of `rows` (read with one extra), and whether there are more.
fn split_page<T>(mut rows: Vec<T>, limit: u64) -> (Vec<T>, bool) {
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    (rows, more)
}

fn bad_cursor() -> ApiError {
    ApiError::Validation {
        field: "after",
        message: "not a cursor from this list".into(),
    }
}

/// `kind:a:b` as opaque hex.
fn encode_cursor(kind: char, a: i64, b: i64) -> String {
    hex::encode(format!("{kind}:{a}:{b}"))
}

fn decode_cursor(kind: char, cursor: &str) -> ApiResult<(i64, i64)> {
    let bytes = hex::decode(cursor).map_err(|_| bad_cursor())?;
    let text = String::from_utf8(bytes).map_err(|_| bad_cursor())?;
    let mut parts = text.split(':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(k), Some(a), Some(b), None) if k.len() == 1 && k.starts_with(kind) => Ok((
            a.parse().map_err(|_| bad_cursor())?,
            b.parse().map_err(|_| bad_cursor())?,
        )),
        _ => Err(bad_cursor()),
    }
}

/// Queries of the signed-in user's matches and of stored listings.
#[derive(Default, Debug)]
pub struct MatchQuery;

#[Object]
impl MatchQuery {
    /// The signed-in user's scored listings, with their category assignment. Only the caller's
    /// own matches, whatever is sent. `first` 1 to 100; `minScore` 0 to 100.
    async fn matched_jobs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
        min_score: Option<i32>,
        status: Option<MatchStatus>,
        #[graphql(default_with = "Some(MatchSort::ScoreDesc)")] sort: Option<MatchSort>,
    ) -> ApiResult<MatchedJobs> {
        let me = require_user(ctx).await?;
        let db = &state(ctx).db;
        let limit = page_size(first)?;
        let sort = sort.unwrap_or_default();
        let mut filter = Condition::all().add(user_job_match::Column::UserId.eq(me.id));
        if let Some(min) = min_score {
            if !(0..=100).contains(&min) {
                return Err(ApiError::Validation {
                    field: "minScore",
                    message: "must be between 0 and 100".into(),
                });
            }
            filter =
                filter.add(user_job_match::Column::MatchScore.gte(Score::clamped(f64::from(min))));
        }
        if let Some(status) = status {
            filter =
                filter.add(user_job_match::Column::Status.eq(entity::MatchStatus::from(status)));
        }
        let total = user_job_match::Entity::find()
            .filter(filter.clone())
            .count(db)
            .await?;

        let kind = match sort {
            MatchSort::ScoreDesc => 's',
            MatchSort::Newest => 'n',
        };
        let mut query = user_job_match::Entity::find().filter(filter);
        if let Some(after) = &after {
            let (a, b) = decode_cursor(kind, after)?;
            query = match sort {
                MatchSort::ScoreDesc => {
                    let score = Score::clamped(a as f64);
                    query.filter(
                        Condition::any()
                            .add(user_job_match::Column::MatchScore.lt(score))
                            .add(
                                Condition::all()
                                    .add(user_job_match::Column::MatchScore.eq(score))
                                    .add(user_job_match::Column::Id.lt(b)),
                            ),
                    )
                }
                MatchSort::Newest => query.filter(user_job_match::Column::JobListingId.lt(b)),
            };
        }
        // Keysets that the indexes serve: (user_id, match_score DESC, id DESC) and
        // (user_id, job_listing_id).
        query = match sort {
            MatchSort::ScoreDesc => query
                .order_by_desc(user_job_match::Column::MatchScore)
                .order_by_desc(user_job_match::Column::Id),
            MatchSort::Newest => query.order_by_desc(user_job_match::Column::JobListingId),
        };
        // The page's listings come in the same query.
        let rows = query
            .find_also_related(job_listing::Entity)
            .limit(limit + 1)
            .all(db)
            .await?;
        let (rows, has_next_page) = split_page(rows, limit);
        let edges: Vec<MatchEdge> = rows
            .into_iter()
            .map(|(m, job)| MatchEdge {
                cursor: match sort {
                    MatchSort::ScoreDesc => {
                        encode_cursor(kind, i64::from(m.match_score.value()), m.id)
                    }
                    MatchSort::Newest => encode_cursor(kind, 0, m.job_listing_id),
                },
                node: Match { row: m, job },
            })
            .collect();
        Ok(MatchedJobs {
            category_assignment: CategoryAssignment::of(&me),
            total_count: i32::try_from(total).unwrap_or(i32::MAX),
            page_info: PageInfo {
                has_next_page,
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
        })
    }

    /// Stored listings, newest first: of one category, collected or posted within some hours,
    /// and/or whose title or company contains `search` (case-insensitive). Signed in.
    async fn job_listings(
        &self,
        ctx: &Context<'_>,
        category_slug: Option<String>,
        posted_within_hours: Option<i32>,
        search: Option<String>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<JobListingConnection> {
        require_user(ctx).await?;
        let db = &state(ctx).db;
        let limit = page_size(first)?;
        let mut filter = Condition::all();
        if let Some(slug) = category_slug {
            let slug: entity::CategorySlug = slug.trim().parse()?;
            let Some(category) = jobs::catalog::find(db, &slug).await? else {
                return Err(ApiError::NotFound(format!(
                    "no search category has the slug {slug}"
                )));
            };
            filter = filter.add(
                job_listing::Column::Id.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(job_listing_category::Column::JobListingId)
                        .from(job_listing_category::Entity)
                        .and_where(job_listing_category::Column::SearchCategoryId.eq(category.id))
                        .to_owned(),
                ),
            );
        }
        if let Some(hours) = posted_within_hours {
            if !(1..=24 * 365).contains(&hours) {
                return Err(ApiError::Validation {
                    field: "postedWithinHours",
                    message: "must be between 1 and 8760".into(),
                });
            }
            let cutoff = Utc::now() - chrono::Duration::hours(i64::from(hours));
            filter = filter.add(
                Condition::any()
                    .add(job_listing::Column::FirstSeenAt.gte(cutoff))
                    .add(job_listing::Column::DatePosted.gte(cutoff.date_naive())),
            );
        }
        if let Some(search) = &search {
            entity::check_plain_text("search", search)?;
        }
        if let Some(search) = search
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty())
        {
            if search.chars().count() > 200 {
                return Err(ApiError::Validation {
                    field: "search",
                    message: "at most 200 characters".into(),
                });
            }
            let escaped = search
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            let pattern = format!("%{escaped}%");
            let like = |col: job_listing::Column| {
                Expr::expr(Func::lower(Expr::col(col)))
                    .like(sea_orm::sea_query::LikeExpr::new(pattern.clone()).escape('\\'))
            };
            filter = filter.add(
                Condition::any()
                    .add(like(job_listing::Column::Title))
                    .add(like(job_listing::Column::Company)),
            );
        }
        let total = job_listing::Entity::find()
            .filter(filter.clone())
            .count(db)
            .await?;
        let mut query = job_listing::Entity::find().filter(filter);
        if let Some(after) = &after {
            let (_, id) = decode_cursor('l', after)?;
            query = query.filter(job_listing::Column::Id.lt(id));
        }
        let rows = query
            .order_by_desc(job_listing::Column::Id)
            .limit(limit + 1)
            .all(db)
            .await?;
        let (rows, has_next_page) = split_page(rows, limit);
        let edges: Vec<JobListingEdge> = rows
            .into_iter()
            .map(|l| JobListingEdge {
                cursor: encode_cursor('l', 0, l.id),
                node: JobListing(l),
            })
            .collect();
        Ok(JobListingConnection {
            total_count: i32::try_from(total).unwrap_or(i32::MAX),
            page_info: PageInfo {
                has_next_page,
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
        })
    }
}

/// Changes to the signed-in user's resume and matches.
#[derive(Default, Debug)]
pub struct MatchMutation;

#[Object]
impl MatchMutation {
    /// Saves the signed-in user's resume (plain text, 50 characters to 100 KB). When the text
    /// changed, the category assignment becomes PENDING and is redone in the background; then
    /// the matches are rescored.
    async fn save_resume(&self, ctx: &Context<'_>, text: String) -> ApiResult<User> {
        let me = require_user(ctx).await?;
        let s = state(ctx);
        let saved = jobs::resume::save(&s.db, &s.queue, me, &text).await?;
        Ok(User(saved))
    }

    /// Sets the signed-in user's own status for a match. Another user's listing, or one not
    /// matched, is NOT_FOUND.
    async fn set_match_status(
        &self,
        ctx: &Context<'_>,
        job_listing_id: ID,
        status: MatchStatus,
    ) -> ApiResult<Match> {
        let me: user::Model = require_user(ctx).await?;
        let db = &state(ctx).db;
        let not_found = || {
            ApiError::NotFound(format!(
                "you have no match for the listing {}",
                job_listing_id.as_str()
            ))
        };
        let listing_id: i64 = job_listing_id.parse().map_err(|_| not_found())?;
        let updated = user_job_match::Entity::update_many()
            .col_expr(
                user_job_match::Column::Status,
                Expr::value(entity::MatchStatus::from(status).as_str()),
            )
            .filter(user_job_match::Column::UserId.eq(me.id))
            .filter(user_job_match::Column::JobListingId.eq(listing_id))
            .exec(db)
            .await?;
        if updated.rows_affected == 0 {
            return Err(not_found());
        }
        user_job_match::Entity::find()
            .filter(user_job_match::Column::UserId.eq(me.id))
            .filter(user_job_match::Column::JobListingId.eq(listing_id))
            .one(db)
            .await?
            .map(|row| Match { row, job: None })
            .ok_or_else(not_found)
    }
}
