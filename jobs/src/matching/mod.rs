//! Scoring a user's fresh listings: the `MatchUser` job.
//!
//! [`run`] takes the listings linked to the user's category that were first seen (or posted)
//! within `JOB_HOURS_OLD`, drops those already scored for the user's current resume hash with
//! the current scorer (model id and prompt version), scores the rest newest first — through the
//! LLM with at most `LLM_CONCURRENCY` calls in flight, each failure falling back to the
//! [`keyword`] scorer for that pair — and upserts `user_job_matches`, keeping the user's own
//! status. Every score is stored, high or low, so a pair is never paid for twice: a rerun with
//! nothing new makes no LLM call. A pair that fell back is retried by the LLM on the next run.
//!
//! - [`keyword`]: the deterministic keyword scorer; [`CorpusCache`] holds its per-category
//!   preparation (term statistics, weighed listings).
//! - [`llm`]: one pair scored by the LLM (rubric, tool, prompt, validation).
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
pub use llm::{LlmScore, MATCH_PROMPT_VERSION, SCORE_SYSTEM, llm_score, parse_score, score_prompt};

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
}

impl Default for MatchConfig {
    fn default() -> Self {
        Self {
            hours_old: 72,
            concurrency: 8,
        }
    }
}

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
    /// LLM calls made.
    pub llm_calls: usize,
    /// Pairs the keyword scorer took over after an LLM failure.
    pub fallbacks: usize,
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
    llm_called: bool,
    fell_back: bool,
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
    let (model_id, version) = match llm {
        Some(llm) => (Some(llm.model_id().to_owned()), MATCH_PROMPT_VERSION),
        None => (None, KEYWORD_VERSION),
    };

    let listings = crate::listings::fresh_of_category(db, category_id, config.hours_old).await?;
    let candidates = listings.len();
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
    let current: std::collections::HashSet<i64> = existing
        .into_iter()
        .filter(|(_, hash, model, v)| *hash == resume_hash && *model == model_id && v == version)
        .map(|(id, ..)| id)
        .collect();
    let due: Vec<job_listing::Model> = listings
        .into_iter()
        .filter(|l| !current.contains(&l.id))
        .collect();
    if due.is_empty() {
        return Ok(MatchOutcome {
            candidates,
            ..MatchOutcome::default()
        });
    }

    let stats = corpus.get(db, category_id).await?;
    let prepared = keyword::Resume::new(&resume, Utc::now().year());
    let prepared = &prepared;
    let resume = resume.as_str();
    let mut scores = futures::stream::iter(due)
        .map(|listing| {
            let stats = stats.clone();
            let model_id = model_id.clone();
            async move {
                let keyword = |note: Option<&LlmError>| {
                    let weighed = stats.listing(
                        listing.id,
                        &listing.title,
                        listing.description.as_deref().unwrap_or(""),
                    );
                    let k = keyword::score_listing(prepared, &weighed);
                    let reason = match note {
                        Some(e) => truncate_chars(
                            &format!("Keyword score ({}). {}", e.kind(), k.reason),
                            300,
                        ),
                        None => k.reason,
                    };
                    Scored {
                        listing_id: listing.id,
                        score: k.score,
                        reason,
                        matched: k.matched,
                        missing: k.missing,
                        method: ScoreMethod::Keyword,
                        model_id: None,
                        prompt_version: KEYWORD_VERSION,
                        usage: None,
                        llm_called: false,
                        fell_back: note.is_some(),
                    }
                };
                let Some(llm) = llm else {
                    return keyword(None);
                };
                match llm_score(llm, resume, &listing).await {
                    Ok(s) => Scored {
                        listing_id: listing.id,
                        score: s.score,
                        reason: s.reason,
                        matched: s.matched,
                        missing: s.missing,
                        method: ScoreMethod::Llm,
                        model_id,
                        prompt_version: MATCH_PROMPT_VERSION,
                        usage: Some(s.usage),
                        llm_called: true,
                        fell_back: false,
                    },
                    Err(e) => {
                        tracing::warn!(
                            user_id,
                            listing_id = listing.id,
                            kind = e.kind(),
                            error = %e,
                            "LLM scoring failed; keyword score used"
                        );
                        Scored {
                            llm_called: true,
                            ..keyword(Some(&e))
                        }
                    }
                }
            }
        })
        .buffered(config.concurrency.max(1));

    let mut outcome = MatchOutcome {
        candidates,
        ..MatchOutcome::default()
    };
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    while let Some(scored) = scores.next().await {
        outcome.scored += 1;
        outcome.llm_calls += usize::from(scored.llm_called);
        outcome.fallbacks += usize::from(scored.fell_back);
        batch.push(scored);
        if batch.len() == WRITE_BATCH {
            write(db, user_id, &resume_hash, std::mem::take(&mut batch)).await?;
        }
    }
    write(db, user_id, &resume_hash, batch).await?;
    tracing::info!(
        user_id,
        candidates = outcome.candidates,
        scored = outcome.scored,
        llm_calls = outcome.llm_calls,
        fallbacks = outcome.fallbacks,
        "matching done"
    );
    Ok(outcome)
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
