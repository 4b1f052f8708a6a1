//! `matchedJobs`, `setMatchStatus` and `saveResume`: what a job seeker sees of their matches.
//!
//! A page of matches is read with its listings in one join and pages by keyset cursors
//! ([`super::cursor`]), so inserts between two pages neither repeat nor skip a row.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Enum, ID, Object, SimpleObject, Upload};
use chrono::{DateTime, Utc};
use entity::InvalidValue;
use entity::{job_listing, user_job_match};
use jobs::matching::read::{MatchFilter, MatchOrder};

use super::context::{Access, require_user, state};
use super::cursor;
use super::listings::{JobListing, ListingId, Loaders};
use super::types::{CategoryAssignment, PageInfo, User, page_size};
use crate::error::{ApiError, ApiResult};

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

impl From<MatchSort> for MatchOrder {
    fn from(sort: MatchSort) -> Self {
        match sort {
            MatchSort::ScoreDesc => Self::ScoreDesc,
            MatchSort::Newest => Self::Newest,
        }
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

/// Queries of the signed-in user's matches.
#[derive(Default, Debug)]
pub struct MatchQuery;

#[Object]
impl MatchQuery {
    /// The signed-in user's scored listings, with their category assignment. Only the caller's
    /// own matches, whatever is sent. `first` 1 to 100; `minScore` 0 to 100. Matches of
    /// closed listings (gone from their board, or not seen for LISTING_TTL_DAYS) are left out
    /// unless `includeClosed`, except those the user SAVED or APPLIED to. Matches the user's
    /// preferences exclude are never listed. `excludeStatus` leaves out matches with any of
    /// those statuses (`[DISMISSED]`: what a list of live matches wants). Ad hoc: `remote` true
    /// keeps listings marked
    /// remote (false: the others); `location` keeps those whose location contains it
    /// (case-insensitive, at most 100 characters); `minSalary` keeps those whose stated pay,
    /// made yearly, reaches it (compared in the currency of the user's preferences when set;
    /// listings paid in another currency, or stating no pay, pass).
    #[graphql(guard = "Access::User")]
    #[allow(clippy::too_many_arguments)] // one per GraphQL argument, as the contract has them
    async fn matched_jobs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
        min_score: Option<i32>,
        status: Option<MatchStatus>,
        #[graphql(default_with = "Some(MatchSort::ScoreDesc)")] sort: Option<MatchSort>,
        #[graphql(default_with = "Some(false)")] include_closed: Option<bool>,
        remote: Option<bool>,
        location: Option<String>,
        min_salary: Option<f64>,
        exclude_status: Option<Vec<MatchStatus>>,
    ) -> ApiResult<MatchedJobs> {
        let me = require_user(ctx).await?;
        let limit = page_size(first)?;
        let order = MatchOrder::from(sort.unwrap_or_default());
        let currency = me
            .preferences
            .as_ref()
            .and_then(|p| p.salary_currency.clone());
        let filter = MatchFilter::new(
            min_score,
            status.map(Into::into),
            include_closed.unwrap_or(false),
        )?
        .with_listing(remote, location.as_deref(), min_salary, currency)?
        .excluding(
            exclude_status
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
        );
        let after = after
            .as_deref()
            .map(|c| cursor::matched_after(order, c))
            .transpose()?;
        let page =
            jobs::matching::read::page(&state(ctx).db, me.id, filter, order, limit, after).await?;
        let edges: Vec<MatchEdge> = page
            .items
            .into_iter()
            .map(|(m, job)| MatchEdge {
                cursor: cursor::matched(order, m.match_score, m.id, m.job_listing_id),
                node: Match { row: m, job },
            })
            .collect();
        Ok(MatchedJobs {
            category_assignment: CategoryAssignment::of(&me),
            total_count: i32::try_from(page.total).unwrap_or(i32::MAX),
            page_info: PageInfo {
                has_next_page: page.has_next,
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
    #[graphql(guard = "Access::User")]
    async fn save_resume(&self, ctx: &Context<'_>, text: String) -> ApiResult<User> {
        let me = require_user(ctx).await?;
        let s = state(ctx);
        let saved = jobs::queue::trigger::save_resume(&s.db, &s.queue, me, &text).await?;
        Ok(User::from(saved))
    }

    /// Uploads the signed-in user's resume as a file (the GraphQL multipart request spec):
    /// a PDF with a text layer, a DOCX, Markdown or plain text, at most
    /// `RESUME_MAX_FILE_BYTES` and `RESUME_MAX_PAGES`. The type is read from the bytes. The
    /// text read from it is then saved as `saveResume` saves text, and the file is kept
    /// (`GET /files/resume`). A file that cannot be read is a VALIDATION error on `file`
    /// saying why, and nothing changes.
    #[graphql(guard = "Access::User")]
    async fn upload_resume(&self, ctx: &Context<'_>, file: Upload) -> ApiResult<User> {
        let me = require_user(ctx).await?;
        let s = state(ctx);
        let limits = s.config.resume;
        let refused =
            |why: String| ApiError::from(jobs::Error::from(InvalidValue::new("file", why)));
        let value = file
            .value(ctx)
            .map_err(|e| refused(format!("the upload could not be read: {e}")))?;
        let file_name = value.filename.clone();
        let bytes: std::sync::Arc<[u8]> = read_upload(value, limits.max_bytes)
            .map_err(|e| refused(e.to_string()))?
            .into();
        let extracted = jobs::resume::extract::extract_guarded(bytes.clone(), limits)
            .await
            .map_err(|e| refused(e.to_string()))?;
        let upload = jobs::resume::Upload {
            file_name,
            bytes: bytes.to_vec(),
            extracted,
        };
        let saved = jobs::queue::trigger::save_upload(&s.db, &s.queue, me, upload).await?;
        Ok(User::from(saved))
    }

    /// Sets the signed-in user's own status for a match. Another user's listing, or one not
    /// matched, is NOT_FOUND.
    #[graphql(guard = "Access::User")]
    async fn set_match_status(
        &self,
        ctx: &Context<'_>,
        job_listing_id: ID,
        status: MatchStatus,
    ) -> ApiResult<Match> {
        let me = require_user(ctx).await?;
        let not_found = || {
            ApiError::NotFound(format!(
                "you have no match for the listing {}",
                job_listing_id.as_str()
            ))
        };
        let listing_id: i64 = job_listing_id.parse().map_err(|_| not_found())?;
        match jobs::matching::read::set_status(&state(ctx).db, me.id, listing_id, status.into())
            .await
        {
            Ok(row) => Ok(Match { row, job: None }),
            // The id as the client sent it, not as parsed.
            Err(jobs::Error::NotFound(_)) => Err(not_found()),
            Err(e) => Err(e.into()),
        }
    }
}

/// The bytes of an upload (the handler has read the request within its limit), refused past
/// `max` bytes.
fn read_upload(
    value: async_graphql::UploadValue,
    max: usize,
) -> Result<Vec<u8>, jobs::resume::Refusal> {
    let size = value.content.len();
    if size > max {
        return Err(jobs::resume::Refusal::TooLarge { size, max });
    }
    Ok(value.content.to_vec())
}
