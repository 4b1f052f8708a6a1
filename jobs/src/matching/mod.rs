//! Scoring a user's fresh listings: the `MatchUser` job.
//!
//! [`run`] first applies the user's preferences (`crate::preferences`): matches they now
//! exclude are hidden, those they admit again shown. It then takes the listings linked to the
//! user's category that were first seen (or posted) within `JOB_HOURS_OLD` and that the
//! preferences admit, drops those already current for the user's resume hash (scored by the
//! scorer in use, or screened out by the prefilter), and keyword-scores the rest. Without the
//! LLM those are the scores. With it, the pairs worth a call — keyword score at least
//! `LLM_PRESCORE_MIN`, at most `LLM_TOP_K` per run, best first, within the user's daily cap —
//! go to the LLM in batches of `LLM_BATCH_SIZE` ([`llm`]), at most `LLM_CONCURRENCY` calls in
//! flight; every pair not sent or whose answer failed keeps its keyword score with a reason
//! saying why. Scores are upserted into `user_job_matches`, keeping the user's own status.
//! Every score is stored, high or low, so a pair is never paid for twice: a rerun with nothing
//! new makes no LLM call. A pair that fell back, or that a cap or the budget held back, is
//! offered to the LLM again on the next run; one the prefilter screened out stays screened
//! until the resume changes.
//!
//! - [`keyword`]: the deterministic keyword scorer; [`CorpusCache`] holds its per-category
//!   preparation (term statistics, weighed listings).
//! - [`llm`]: a batch of listings scored by the LLM for one resume (rubric, tool, prompt with
//!   the resume as the cacheable prefix, per-entry validation, splitting a failed batch).
//! - [`read`]: a user's matches as `matchedJobs` pages them, and `setMatchStatus`.

pub mod keyword;
pub mod llm;
pub mod read;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Datelike, Utc};
use entity::{
    AssignmentStatus, MatchStatus, Score, ScoreMethod, StringList, job_listing, user,
    user_job_match,
};
use futures::StreamExt;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};
use tokio::sync::Mutex;

use crate::Result;
use crate::llm::{Llm, LlmError, Usage};
use crate::text::truncate_chars;
use keyword::Corpus;
pub use llm::{
    LlmScore, MATCH_PROMPT_VERSION, SCORE_SYSTEM, parse_batch, parse_score, resume_prefix,
    score_batch,
};

/// The users assigned to one of `categories`: who is due for matching when they gain listings.
pub async fn assigned_users(db: &DatabaseConnection, categories: &[i64]) -> Result<Vec<i64>> {
    if categories.is_empty() {
        return Ok(Vec::new());
    }
    Ok(user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::SearchCategoryId.is_in(categories.iter().copied()))
        .filter(user::Column::CategoryStatus.eq(AssignmentStatus::Assigned))
        .into_tuple()
        .all(db)
        .await?)
}

/// The keyword scorer's version, stored as the prompt version of its scores: a new version
/// rescores every pair the keyword scorer scored before.
pub const KEYWORD_VERSION: &str = "keyword-v2";
/// The prompt version of a keyword score the prefilter kept from the LLM (below
/// `LLM_PRESCORE_MIN`, or outside the run's `LLM_TOP_K`): with the LLM on, such a pair is
/// current until the resume changes. A pair that fell back or was deferred keeps
/// [`KEYWORD_VERSION`] and is offered to the LLM again.
pub const SCREENED_VERSION: &str = "keyword-v2+screened";
/// A category's most recent listings its term statistics are counted over.
const CORPUS_LISTINGS: u64 = 2_000;
/// Fewer than this, and the statistics are topped up with the most recent listings overall
/// (a young category's words are not yet telling).
const CORPUS_MIN_LISTINGS: usize = 200;
/// How long a category's statistics (and the listings weighed by them) are reused.
const CORPUS_MAX_AGE: Duration = Duration::from_secs(600);
/// Categories whose statistics are kept in memory at once.
const CORPUS_CATEGORIES: usize = 32;
/// Weighed listings kept per category (about 10 KB each); the cache starts over when full.
const WEIGHED_LISTINGS: usize = 4_000;
/// Scores written per statement.
const WRITE_BATCH: usize = 50;

/// How matching is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchConfig {
    /// `JOB_HOURS_OLD`: how recent a listing must be to be scored.
    pub hours_old: u32,
    /// `LLM_CONCURRENCY`: LLM calls in flight for one user.
    pub concurrency: usize,
    /// `LLM_PRESCORE_MIN`: the keyword score a pair needs to be sent to the LLM.
    pub prescore_min: i16,
    /// `LLM_TOP_K`: pairs sent to the LLM per user and run at most, best keyword score first.
    pub top_k: usize,
    /// `LLM_BATCH_SIZE`: listings scored per LLM call.
    pub batch_size: usize,
    /// `LLM_USER_DAILY_PAIRS`: pairs sent to the LLM per user and UTC day; `None`: no cap.
    pub user_daily_pairs: Option<i64>,
}

impl Default for MatchConfig {
    fn default() -> Self {
        Self {
            hours_old: 72,
            concurrency: 8,
            prescore_min: DEFAULT_PRESCORE_MIN,
            top_k: DEFAULT_TOP_K,
            batch_size: DEFAULT_BATCH_SIZE,
            user_daily_pairs: None,
        }
    }
}

/// `LLM_PRESCORE_MIN`'s default, chosen on the dev evaluation set (see README, LLM cost).
pub const DEFAULT_PRESCORE_MIN: i16 = 25;
/// `LLM_TOP_K`'s default.
pub const DEFAULT_TOP_K: usize = 100;
/// `LLM_BATCH_SIZE`'s default.
pub const DEFAULT_BATCH_SIZE: usize = 10;

/// The keyword scorer's per-category preparation, reused for ten minutes per process: the
/// term statistics over the category's recent listings, and each listing read and weighed
/// by them (keyed by id and a fingerprint of its text, so an updated description is read
/// again). At most [`CORPUS_CATEGORIES`] categories are held, the oldest going first, each
/// with at most [`WEIGHED_LISTINGS`] listings; expired ones are dropped on the next look-up.
#[derive(Debug, Default)]
pub struct CorpusCache {
    categories: Mutex<HashMap<i64, Arc<CategoryStats>>>,
}

/// One category's statistics and its listings weighed by them.
#[derive(Debug)]
pub struct CategoryStats {
    built: Instant,
    pub corpus: Corpus,
    listings: std::sync::Mutex<HashMap<i64, (u64, Arc<keyword::Listing>)>>,
}

impl CategoryStats {
    fn new(corpus: Corpus) -> Self {
        Self {
            built: Instant::now(),
            corpus,
            listings: std::sync::Mutex::default(),
        }
    }

    /// The listing read and weighed, from the cache when its text is unchanged.
    pub fn listing(&self, id: i64, title: &str, description: &str) -> Arc<keyword::Listing> {
        let fingerprint = keyword::terms::hash_word(title)
            ^ keyword::terms::hash_word(description).rotate_left(1);
        if let Ok(cached) = self.listings.lock()
            && let Some((f, listing)) = cached.get(&id)
            && *f == fingerprint
        {
            return listing.clone();
        }
        let listing = Arc::new(keyword::Listing::new(&self.corpus, title, description));
        if let Ok(mut cached) = self.listings.lock() {
            if cached.len() >= WEIGHED_LISTINGS {
                cached.clear();
            }
            cached.insert(id, (fingerprint, listing.clone()));
        }
        listing
    }
}

impl CorpusCache {
    /// The statistics of `category_id`, counted over its most recent stored listings. The
    /// map is locked only to look up and to insert: a rebuild (two reads and the counting,
    /// on a blocking thread) holds up no other category. Two callers may rebuild the same
    /// category at once; the later one's stays.
    pub async fn get(
        &self,
        db: &DatabaseConnection,
        category_id: i64,
    ) -> Result<Arc<CategoryStats>> {
        {
            let mut categories = self.categories.lock().await;
            categories.retain(|_, s| s.built.elapsed() < CORPUS_MAX_AGE);
            if let Some(stats) = categories.get(&category_id) {
                return Ok(stats.clone());
            }
        }
        let mut rows =
            crate::listings::recent_texts(db, Some(category_id), CORPUS_LISTINGS).await?;
        if rows.len() < CORPUS_MIN_LISTINGS {
            let ids: std::collections::HashSet<i64> = rows.iter().map(|r| r.0).collect();
            let more = crate::listings::recent_texts(db, None, CORPUS_MIN_LISTINGS as u64).await?;
            rows.extend(more.into_iter().filter(|r| !ids.contains(&r.0)));
            rows.truncate(CORPUS_MIN_LISTINGS);
        }
        let corpus = tokio::task::spawn_blocking(move || {
            Corpus::from_listings(
                rows.iter()
                    .map(|(_, t, d)| (t.as_str(), d.as_deref().unwrap_or(""))),
            )
        })
        .await
        .map_err(|e| crate::Error::Unexpected(format!("counting term statistics failed: {e}")))?;
        let stats = Arc::new(CategoryStats::new(corpus));
        let mut categories = self.categories.lock().await;
        if categories.len() >= CORPUS_CATEGORIES
            && !categories.contains_key(&category_id)
            && let Some(oldest) = categories
                .iter()
                .min_by_key(|(_, s)| s.built)
                .map(|(id, _)| *id)
        {
            categories.remove(&oldest);
        }
        categories.insert(category_id, stats.clone());
        Ok(stats)
    }
}

/// What a `MatchUser` run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchOutcome {
    /// Fresh listings of the user's category.
    pub candidates: usize,
    /// Pairs scored and written this run.
    pub scored: usize,
    /// Pairs sent to the LLM.
    pub sent: usize,
    /// LLM calls made (a batch split after failing as a whole is several).
    pub llm_calls: usize,
    /// Pairs the keyword scorer took over after an LLM failure (retried on a later run).
    pub fallbacks: usize,
    /// Pairs not worth an LLM call (below `LLM_PRESCORE_MIN`, or outside the run's
    /// `LLM_TOP_K`): they keep their keyword score.
    pub screened: usize,
    /// Pairs worth a call that the per-user daily cap or the token budget held back: keyword
    /// scores for now, offered to the LLM again on a later run.
    pub deferred: usize,
    /// Whether the user asked for alerts (the job then queues `SendAlerts`).
    pub alerts_wanted: bool,
    /// Why nothing was done, when nothing was.
    pub skipped: Option<String>,
}

struct Scored {
    listing_id: i64,
    score: i16,
    reason: String,
    matched: Vec<String>,
    missing: Vec<String>,
    method: ScoreMethod,
    model_id: Option<String>,
    prompt_version: &'static str,
    usage: Option<Usage>,
}

impl Scored {
    /// The keyword score, its reason led by `note` when there is one.
    fn keyword(
        listing_id: i64,
        k: &keyword::KeywordScore,
        note: Option<String>,
        version: &'static str,
    ) -> Self {
        Self {
            listing_id,
            score: k.score,
            reason: match note {
                Some(note) => truncate_chars(&format!("{note} {}", k.reason), 300),
                None => k.reason.clone(),
            },
            matched: k.matched.clone(),
            missing: k.missing.clone(),
            method: ScoreMethod::Keyword,
            model_id: None,
            prompt_version: version,
            usage: None,
        }
    }
}

/// What a pair that fell back to its keyword score says about why.
fn fallback_note(e: &LlmError) -> String {
    match e {
        LlmError::OverBudget(_) => "Keyword score: the daily LLM token budget is spent;                                     offered to the LLM again on a later run."
            .to_owned(),
        e => format!("Keyword score ({}).", e.kind()),
    }
}

/// The `MatchUser` job for `user_id`; see the module docs.
pub async fn run(
    db: &DatabaseConnection,
    llm: Option<&dyn Llm>,
    corpus: &CorpusCache,
    config: &MatchConfig,
    user_id: i64,
) -> Result<MatchOutcome> {
    let skip = |why: &str| {
        tracing::info!(user_id, reason = why, "matching skipped");
        Ok(MatchOutcome {
            skipped: Some(why.to_owned()),
            ..MatchOutcome::default()
        })
    };
    let Some(user) = user::Entity::find_by_id(user_id).one(db).await? else {
        return skip("no such user");
    };
    let (Some(category_id), AssignmentStatus::Assigned) =
        (user.search_category_id, user.category_status)
    else {
        return skip("no category assigned");
    };
    let (Some(resume), Some(resume_hash)) = (user.resume_text.clone(), user.resume_hash.clone())
    else {
        return skip("no resume");
    };
    let model_id = llm.map(|l| l.model_id().to_owned());

    // The user's preferences: matches they now exclude are hidden (those they admit again are
    // shown), and excluded listings are not scored at all.
    let filter = crate::preferences::Filter::new(&user.preferences.clone().unwrap_or_default());
    let changed = crate::preferences::apply_to_matches(db, user_id, &filter).await?;
    let listings: Vec<job_listing::Model> =
        crate::listings::fresh_of_category(db, category_id, config.hours_old)
            .await?
            .into_iter()
            .filter(|l| filter.admits(l.into()).is_ok())
            .collect();
    let candidates = listings.len();
    let alerts_wanted = crate::alerts::wanted(&user.preferences.clone().unwrap_or_default());
    if changed > 0 {
        tracing::info!(
            user_id,
            changed,
            "matches hidden or shown by the preferences"
        );
    }
    let existing: Vec<(i64, String, Option<String>, String)> = user_job_match::Entity::find()
        .select_only()
        .column(user_job_match::Column::JobListingId)
        .column(user_job_match::Column::ResumeHash)
        .column(user_job_match::Column::ModelId)
        .column(user_job_match::Column::PromptVersion)
        .filter(user_job_match::Column::UserId.eq(user_id))
        .into_tuple()
        .all(db)
        .await?;
    // Current: scored for this resume by the scorer in use — or, with the LLM on, screened out
    // by the prefilter for this resume (not worth a call until the resume changes).
    let current: std::collections::HashSet<i64> = existing
        .into_iter()
        .filter(|(_, hash, model, v)| {
            *hash == resume_hash
                && match &model_id {
                    Some(_) => {
                        (*model == model_id && v == MATCH_PROMPT_VERSION)
                            || (model.is_none() && v == SCREENED_VERSION)
                    }
                    None => model.is_none() && v == KEYWORD_VERSION,
                }
        })
        .map(|(id, ..)| id)
        .collect();
    let due: Vec<job_listing::Model> = listings
        .into_iter()
        .filter(|l| !current.contains(&l.id))
        .collect();
    if due.is_empty() {
        return Ok(MatchOutcome {
            candidates,
            alerts_wanted,
            ..MatchOutcome::default()
        });
    }

    // Every due pair is keyword-scored first: the score of record without the LLM, the
    // prefilter's ranking with it.
    let stats = corpus.get(db, category_id).await?;
    let prepared = keyword::Resume::new(&resume, Utc::now().year());
    let keyword_scores: Vec<keyword::KeywordScore> = due
        .iter()
        .map(|l| {
            let weighed = stats.listing(l.id, &l.title, l.description.as_deref().unwrap_or(""));
            keyword::score_listing(&prepared, &weighed)
        })
        .collect();
    let mut outcome = MatchOutcome {
        candidates,
        scored: due.len(),
        alerts_wanted,
        ..MatchOutcome::default()
    };
    let mut scored: Vec<Scored> = Vec::with_capacity(due.len());
    let Some(llm) = llm else {
        scored.extend(
            due.iter()
                .zip(&keyword_scores)
                .map(|(l, k)| Scored::keyword(l.id, k, None, KEYWORD_VERSION)),
        );
        write_all(db, user_id, &resume_hash, scored).await?;
        log_outcome(user_id, &outcome);
        return Ok(outcome);
    };

    // The prefilter: best keyword score first (newest first among equals), those at or above
    // the threshold, at most `top_k`, within what the user's daily cap leaves.
    let mut order: Vec<usize> = (0..due.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(keyword_scores[i].score));
    let left_today = match config.user_daily_pairs {
        Some(cap) => {
            usize::try_from(cap - crate::llm::ledger::pairs_today(db, user_id).await?).unwrap_or(0)
        }
        None => usize::MAX,
    };
    let mut send: Vec<usize> = Vec::new();
    for (rank, &i) in order.iter().enumerate() {
        let k = &keyword_scores[i];
        let id = due[i].id;
        if k.score < config.prescore_min {
            outcome.screened += 1;
            let note = format!(
                "Not sent to the LLM: keyword score {} is below LLM_PRESCORE_MIN ({}).",
                k.score, config.prescore_min
            );
            scored.push(Scored::keyword(id, k, Some(note), SCREENED_VERSION));
        } else if rank >= config.top_k {
            outcome.screened += 1;
            let note = format!(
                "Not sent to the LLM: outside this run's {} best keyword scores (LLM_TOP_K).",
                config.top_k
            );
            scored.push(Scored::keyword(id, k, Some(note), SCREENED_VERSION));
        } else if send.len() >= left_today {
            outcome.deferred += 1;
            let note = format!(
                "Keyword score for now: the daily limit of {} LLM-scored listings per user is                  reached; offered to the LLM again on a later run.",
                config.user_daily_pairs.unwrap_or_default()
            );
            scored.push(Scored::keyword(id, k, Some(note), KEYWORD_VERSION));
        } else {
            send.push(i);
        }
    }
    outcome.sent = send.len();

    let prefix = llm::resume_prefix(&resume);
    let prefix = prefix.as_str();
    let due = &due;
    let batches: Vec<Vec<usize>> = send
        .chunks(config.batch_size.max(1))
        .map(<[usize]>::to_vec)
        .collect();
    let mut answers = futures::stream::iter(batches)
        .map(|batch| async move {
            let listings: Vec<&job_listing::Model> = batch.iter().map(|&i| &due[i]).collect();
            let result = llm::score_batch(llm, Some(user_id), prefix, &listings).await;
            (batch, result)
        })
        .buffer_unordered(config.concurrency.max(1));
    while let Some((batch, result)) = answers.next().await {
        outcome.llm_calls += result.calls;
        for (&i, answer) in batch.iter().zip(result.scores) {
            let listing_id = due[i].id;
            match answer {
                Ok(s) => scored.push(Scored {
                    listing_id,
                    score: s.score,
                    reason: s.reason,
                    matched: s.matched,
                    missing: s.missing,
                    method: ScoreMethod::Llm,
                    model_id: model_id.clone(),
                    prompt_version: MATCH_PROMPT_VERSION,
                    usage: Some(s.usage),
                }),
                Err(e) => {
                    if matches!(e, LlmError::OverBudget(_)) {
                        outcome.deferred += 1;
                    } else {
                        outcome.fallbacks += 1;
                        tracing::warn!(
                            user_id,
                            listing_id,
                            kind = e.kind(),
                            error = %e,
                            "LLM scoring failed; keyword score used"
                        );
                    }
                    let note = fallback_note(&e);
                    scored.push(Scored::keyword(
                        listing_id,
                        &keyword_scores[i],
                        Some(note),
                        KEYWORD_VERSION,
                    ));
                }
            }
        }
    }
    write_all(db, user_id, &resume_hash, scored).await?;
    log_outcome(user_id, &outcome);
    Ok(outcome)
}

fn log_outcome(user_id: i64, outcome: &MatchOutcome) {
    tracing::info!(
        user_id,
        candidates = outcome.candidates,
        scored = outcome.scored,
        sent = outcome.sent,
        screened = outcome.screened,
        deferred = outcome.deferred,
        llm_calls = outcome.llm_calls,
        fallbacks = outcome.fallbacks,
        "matching done"
    );
}

/// Writes the scores, [`WRITE_BATCH`] rows per statement.
async fn write_all(
    db: &DatabaseConnection,
    user_id: i64,
    resume_hash: &str,
    mut scored: Vec<Scored>,
) -> Result<()> {
    while !scored.is_empty() {
        let rest = scored.split_off(scored.len().min(WRITE_BATCH));
        write(
            db,
            user_id,
            resume_hash,
            std::mem::replace(&mut scored, rest),
        )
        .await?;
    }
    Ok(())
}

/// Upserts scores; the user's own status survives a rescore.
async fn write(
    db: &DatabaseConnection,
    user_id: i64,
    resume_hash: &str,
    batch: Vec<Scored>,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let rows = batch.into_iter().map(|s| user_job_match::ActiveModel {
        user_id: Set(user_id),
        job_listing_id: Set(s.listing_id),
        match_score: Set(Score::clamped(f64::from(s.score))),
        match_reason: Set(s.reason),
        matched_skills: Set(StringList(s.matched)),
        missing_skills: Set(StringList(s.missing)),
        method: Set(s.method),
        model_id: Set(s.model_id),
        prompt_version: Set(s.prompt_version.to_owned()),
        resume_hash: Set(resume_hash.to_owned()),
        input_tokens: Set(s.usage.map(|u| u.input_tokens)),
        output_tokens: Set(s.usage.map(|u| u.output_tokens)),
        scored_at: Set(now),
        status: Set(MatchStatus::New),
        ..Default::default()
    });
    use user_job_match::Column as C;
    user_job_match::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([C::UserId, C::JobListingId])
                .update_columns([
                    C::MatchScore,
                    C::MatchReason,
                    C::MatchedSkills,
                    C::MissingSkills,
                    C::Method,
                    C::ModelId,
                    C::PromptVersion,
                    C::ResumeHash,
                    C::InputTokens,
                    C::OutputTokens,
                    C::ScoredAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighed_listings_are_reused_until_their_text_changes() {
        let stats = CategoryStats::new(Corpus::from_listings([
            ("Data Engineer", "Spark and Kafka pipelines."),
            ("iOS Engineer", "Swift and SwiftUI."),
        ]));
        let a = stats.listing(1, "Data Engineer", "Spark and Kafka pipelines.");
        let b = stats.listing(1, "Data Engineer", "Spark and Kafka pipelines.");
        assert!(Arc::ptr_eq(&a, &b), "the same text is read once");
        let c = stats.listing(1, "Data Engineer", "Spark, Kafka and Airflow pipelines.");
        assert!(!Arc::ptr_eq(&a, &c), "an updated description is read again");
        let d = stats.listing(2, "Data Engineer", "Spark and Kafka pipelines.");
        assert!(!Arc::ptr_eq(&a, &d), "another listing is another entry");
    }
}
