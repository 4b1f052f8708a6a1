//! Reads and the one write a job seeker makes on their matches: a filtered, ordered page of
//! `user_job_matches` with each match's listing in the same query (`matchedJobs`; closed
//! listings only when asked, or when the user saved or applied; never those the user's
//! preferences hide; by remote, location and pay when asked), the
//! user's own status (`setMatchStatus`), and how scores spread over every match (the admins'
//! `matchScoreDistribution`).

use entity::{InvalidValue, MatchStatus, Score, job_listing, user_job_match};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::listings::Page;
use crate::{Error, Result};

/// The order of a page of matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatchOrder {
    /// Best score first; ties: most recently scored (highest match id) first. Served by the
    /// `(user_id, match_score DESC, id DESC)` index.
    #[default]
    ScoreDesc,
    /// Most recently collected listing first. Served by `(user_id, job_listing_id)`.
    Newest,
}

/// Where the previous page ended, in the page's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchAfter {
    /// After the match with this score and id.
    Score { score: Score, id: i64 },
    /// After the match of this listing.
    Listing(i64),
}

/// What `matchedJobs` filters by. Matches the user's preferences hide are never listed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatchFilter {
    /// At least this score.
    pub min_score: Option<Score>,
    pub status: Option<MatchStatus>,
    /// Leaves out matches with any of these statuses (`excludeStatus: [DISMISSED]`).
    pub exclude_statuses: Vec<MatchStatus>,
    /// Also matches of closed listings; without it only those the user SAVED or APPLIED to
    /// are kept.
    pub include_closed: bool,
    /// Only listings marked remote (`true`) or not marked remote (`false`).
    pub remote: Option<bool>,
    /// Only listings whose location contains this text (case-insensitive).
    pub location: Option<String>,
    /// Only listings whose stated pay, made yearly, reaches this; in `salary_currency` when
    /// given (listings paid in another currency, or stating no pay, pass).
    pub min_salary: Option<(f64, Option<String>)>,
}

/// A listing's stated pay made yearly, in SQL both databases speak.
const YEARLY_PAY: &str = "COALESCE(salary_max, salary_min) * CASE LOWER(COALESCE(salary_interval, \
'yearly')) WHEN 'hourly' THEN 2080 WHEN 'daily' THEN 260 WHEN 'weekly' THEN 52 WHEN 'monthly' \
THEN 12 ELSE 1 END";

impl MatchFilter {
    /// The filter, `min_score` checked to be 0 to 100 (VALIDATION on `minScore` otherwise).
    pub fn new(
        min_score: Option<i32>,
        status: Option<MatchStatus>,
        include_closed: bool,
    ) -> Result<Self> {
        let min_score = min_score
            .map(|m| {
                Score::try_from(m)
                    .map_err(|_| InvalidValue::new("minScore", "must be between 0 and 100"))
            })
            .transpose()?;
        Ok(Self {
            min_score,
            status,
            include_closed,
            ..Self::default()
        })
    }

    /// Leaves out matches with any of `statuses`.
    pub fn excluding(mut self, mut statuses: Vec<MatchStatus>) -> Self {
        statuses.sort_by_key(|s| s.as_str());
        statuses.dedup();
        self.exclude_statuses = statuses;
        self
    }

    /// Adds the ad hoc listing filters: `location` at most 100 characters, `min_salary` 0 to
    /// 100,000,000 (VALIDATION otherwise); a blank location is none.
    pub fn with_listing(
        mut self,
        remote: Option<bool>,
        location: Option<&str>,
        min_salary: Option<f64>,
        currency: Option<String>,
    ) -> Result<Self> {
        self.remote = remote;
        self.location = match location.map(str::trim).filter(|l| !l.is_empty()) {
            Some(l) if l.chars().count() > 100 => {
                return Err(InvalidValue::new("location", "at most 100 characters").into());
            }
            l => l.map(str::to_lowercase),
        };
        if let Some(min) = min_salary
            && !(min.is_finite() && (0.0..=100_000_000.0).contains(&min))
        {
            return Err(InvalidValue::new("minSalary", "between 0 and 100000000").into());
        }
        self.min_salary = min_salary.map(|m| (m, currency));
        Ok(self)
    }
}

/// `LIKE` pattern for text contained anywhere, its wildcards escaped with `\`.
fn contains_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// A match and its listing (absent only if the listing row is gone).
pub type MatchRow = (user_job_match::Model, Option<job_listing::Model>);

/// The first `first` of `user_id`'s matches passing `filter`, in `order`, after `after`, each
/// with its listing (one join for the whole page).
pub async fn page(
    db: &DatabaseConnection,
    user_id: i64,
    filter: MatchFilter,
    order: MatchOrder,
    first: u64,
    after: Option<MatchAfter>,
) -> Result<Page<MatchRow>> {
    let mut condition = Condition::all()
        .add(user_job_match::Column::UserId.eq(user_id))
        .add(user_job_match::Column::Hidden.eq(false));
    let mut listing = Condition::all();
    if let Some(remote) = filter.remote {
        listing = listing.add(if remote {
            job_listing::Column::IsRemote.eq(true)
        } else {
            Condition::any()
                .add(job_listing::Column::IsRemote.is_null())
                .add(job_listing::Column::IsRemote.eq(false))
                .into()
        });
    }
    if let Some(location) = &filter.location {
        listing = listing.add(
            Expr::expr(Func::lower(Expr::col(job_listing::Column::Location)))
                .like(LikeExpr::new(contains_pattern(location)).escape('\\')),
        );
    }
    if let Some((min, currency)) = &filter.min_salary {
        let mut passes = Condition::any()
            .add(
                job_listing::Column::SalaryMax
                    .is_null()
                    .and(job_listing::Column::SalaryMin.is_null()),
            )
            .add(Expr::cust(YEARLY_PAY).gte(*min));
        if let Some(currency) = currency {
            passes = passes.add(
                Expr::expr(Func::upper(Expr::col(job_listing::Column::SalaryCurrency)))
                    .ne(currency.to_uppercase()),
            );
        }
        listing = listing.add(passes);
    }
    if !listing.is_empty() {
        condition = condition.add(
            user_job_match::Column::JobListingId.in_subquery(
                Query::select()
                    .column(job_listing::Column::Id)
                    .from(job_listing::Entity)
                    .cond_where(listing)
                    .to_owned(),
            ),
        );
    }
    if let Some(min) = filter.min_score {
        condition = condition.add(user_job_match::Column::MatchScore.gte(min));
    }
    if let Some(status) = filter.status {
        condition = condition.add(user_job_match::Column::Status.eq(status));
    }
    if !filter.exclude_statuses.is_empty() {
        condition = condition
            .add(user_job_match::Column::Status.is_not_in(filter.exclude_statuses.iter().copied()));
    }
    if !filter.include_closed {
        condition = condition.add(
            Condition::any()
                .add(
                    user_job_match::Column::JobListingId.not_in_subquery(
                        Query::select()
                            .column(job_listing::Column::Id)
                            .from(job_listing::Entity)
                            .and_where(job_listing::Column::ClosedAt.is_not_null())
                            .to_owned(),
                    ),
                )
                .add(
                    user_job_match::Column::Status
                        .is_in([MatchStatus::Saved, MatchStatus::Applied]),
                ),
        );
    }
    let total = user_job_match::Entity::find()
        .filter(condition.clone())
        .count(db)
        .await?;
    let mut query = user_job_match::Entity::find().filter(condition);
    query = match (order, after) {
        (_, None) => query,
        (MatchOrder::ScoreDesc, Some(MatchAfter::Score { score, id })) => query.filter(
            Condition::any()
                .add(user_job_match::Column::MatchScore.lt(score))
                .add(
                    Condition::all()
                        .add(user_job_match::Column::MatchScore.eq(score))
                        .add(user_job_match::Column::Id.lt(id)),
                ),
        ),
        (MatchOrder::Newest, Some(MatchAfter::Listing(id))) => {
            query.filter(user_job_match::Column::JobListingId.lt(id))
        }
        _ => {
            return Err(InvalidValue::new("after", "not a cursor from this list").into());
        }
    };
    query = match order {
        MatchOrder::ScoreDesc => query
            .order_by_desc(user_job_match::Column::MatchScore)
            .order_by_desc(user_job_match::Column::Id),
        MatchOrder::Newest => query.order_by_desc(user_job_match::Column::JobListingId),
    };
    let rows = query
        .find_also_related(job_listing::Entity)
        .limit(first + 1)
        .all(db)
        .await?;
    Ok(Page::of(rows, first, total))
}

/// Sets `user_id`'s own status for their match of `listing_id`; `NotFound` when they have no
/// such match (another user's listing, or one not matched).
pub async fn set_status(
    db: &DatabaseConnection,
    user_id: i64,
    listing_id: i64,
    status: MatchStatus,
) -> Result<user_job_match::Model> {
    let not_found = || Error::NotFound(format!("you have no match for the listing {listing_id}"));
    let updated = user_job_match::Entity::update_many()
        .col_expr(user_job_match::Column::Status, Expr::value(status))
        .filter(user_job_match::Column::UserId.eq(user_id))
        .filter(user_job_match::Column::JobListingId.eq(listing_id))
        .exec(db)
        .await?;
    if updated.rows_affected == 0 {
        return Err(not_found());
    }
    user_job_match::Entity::find()
        .filter(user_job_match::Column::UserId.eq(user_id))
        .filter(user_job_match::Column::JobListingId.eq(listing_id))
        .one(db)
        .await?
        .ok_or_else(not_found)
}

/// How many matches, over every user, score in each tenth of the scale: `[0]` counts 0–9, …,
/// `[9]` counts 90–100. Screened-out pairs (scored by the keyword prefilter alone) count too.
pub async fn score_distribution(db: &DatabaseConnection) -> Result<[i64; 10]> {
    let rows: Vec<(i32, i64)> = user_job_match::Entity::find()
        .select_only()
        .column_as(
            Expr::cust("CASE WHEN match_score >= 90 THEN 9 ELSE match_score / 10 END"),
            "bucket",
        )
        .column_as(Expr::cust("COUNT(*)"), "n")
        .group_by(Expr::cust(
            "CASE WHEN match_score >= 90 THEN 9 ELSE match_score / 10 END",
        ))
        .into_tuple()
        .all(db)
        .await?;
    let mut buckets = [0i64; 10];
    for (bucket, n) in rows {
        if let Some(slot) = usize::try_from(bucket)
            .ok()
            .and_then(|b| buckets.get_mut(b))
        {
            *slot += n;
        }
    }
    Ok(buckets)
}
