//! Tailored resumes and cover letters (`TailorDocument`, DESIGN.md §5 "Tailor").
//!
//! A request ([`request`]) for a (listing, kind) is stored PENDING under the user's current
//! resume hash and [`TAILOR_PROMPT_VERSION`]; the same request again returns the stored
//! document instead of paying again, and a resume change makes earlier documents stale (their
//! hash is no longer the user's). The job ([`make`]) tailors through the LLM when there is one
//! — every edit checked against the resume, anything it does not support dropped with a
//! warning — and otherwise, or when the LLM fails, deterministically (`method: KEYWORD`).
//!
//! - `content`: the document as every renderer reads it, and the resume read into it.
//! - `facts`: what a tailored text may claim — only what the resume says.
//! - `keyword`: the deterministic tailoring.
//! - `llm`: the prompts, the forced tools, and the checking of the model's edits.
//! - [`render`]: Markdown, PDF (typst as a library) and DOCX, all in process.

mod content;
mod facts;
mod keyword;
mod llm;
pub mod render;

pub use content::{Content, Entry, Letter, ResumeDoc, Section, Summary};
pub use facts::Facts;
pub use llm::{letter_system, prompt, resume_system};

use chrono::{DateTime, Duration as Span, Utc};
use entity::tailored_document::{self, DocumentChange, DocumentChanges};
use entity::{
    DocumentKind, DocumentStatus, ScoreMethod, StringList, job_listing, user, user_job_match,
};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use crate::llm::Llm;
use crate::matching::keyword::corpus::Corpus;
use crate::{Error, Result};
use render::Paper;

/// Bumped whenever the tailoring prompts, tools or checks change meaning: a request under a
/// new version is made again instead of reusing the old document.
pub const TAILOR_PROMPT_VERSION: &str = "tailor-v1";

/// The listing a document is tailored to, and what the resume shows and lacks of its skills.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub title: &'a str,
    pub company: &'a str,
    pub description: &'a str,
    pub matched: Vec<String>,
    pub missing: Vec<String>,
}

/// A tailoring's result, before it is stored.
#[derive(Debug, Clone)]
pub struct Tailored {
    pub content: Content,
    pub changes: Vec<DocumentChange>,
    pub warnings: Vec<String>,
    pub suggestions: Vec<String>,
}

/// How documents are asked for and rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentConfig {
    /// `TAILOR_MAX_PER_HOUR`: new documents (not reused ones) a user may ask for per hour.
    pub max_per_hour: u32,
    /// `DOCUMENT_PAPER`: `a4` or `letter`.
    pub paper: Paper,
}

impl Default for DocumentConfig {
    fn default() -> Self {
        Self {
            max_per_hour: 20,
            paper: Paper::A4,
        }
    }
}

/// What [`request`] did.
#[derive(Debug, Clone)]
pub enum Requested {
    /// The same request was made before (pending or ready): nothing new is queued.
    Existing(tailored_document::Model),
    /// A new document, or a failed one asked for again: queue `TailorDocument` for it.
    Queued(tailored_document::Model),
}

/// Asks for a document of `kind` tailored to `listing_id` from `user`'s current resume.
pub async fn request(
    db: &DatabaseConnection,
    config: &DocumentConfig,
    user: &user::Model,
    listing_id: i64,
    kind: DocumentKind,
) -> Result<Requested> {
    let Some(resume_hash) = user.resume_hash.clone() else {
        return Err(entity::InvalidValue::new(
            "resume",
            "save or upload a resume before asking for a tailored document",
        )
        .into());
    };
    if job_listing::Entity::find_by_id(listing_id)
        .select_only()
        .column(job_listing::Column::Id)
        .into_tuple::<i64>()
        .one(db)
        .await?
        .is_none()
    {
        return Err(Error::NotFound(format!(
            "no job listing with id {listing_id}"
        )));
    }
    let existing = tailored_document::Entity::find()
        .filter(tailored_document::Column::UserId.eq(user.id))
        .filter(tailored_document::Column::JobListingId.eq(listing_id))
        .filter(tailored_document::Column::Kind.eq(kind))
        .filter(tailored_document::Column::ResumeHash.eq(&resume_hash))
        .filter(tailored_document::Column::PromptVersion.eq(TAILOR_PROMPT_VERSION))
        .one(db)
        .await?;
    let now = Utc::now();
    if let Some(doc) = existing {
        if doc.status != DocumentStatus::Failed {
            return Ok(Requested::Existing(doc));
        }
        check_rate(db, config, user.id, now).await?;
        let mut active: tailored_document::ActiveModel = doc.into();
        active.status = Set(DocumentStatus::Pending);
        active.error = Set(None);
        active.updated_at = Set(now);
        active.created_at = Set(now);
        active.finished_at = Set(None);
        return Ok(Requested::Queued(active.update(db).await?));
    }
    check_rate(db, config, user.id, now).await?;
    let row = tailored_document::ActiveModel {
        user_id: Set(user.id),
        job_listing_id: Set(listing_id),
        kind: Set(kind),
        status: Set(DocumentStatus::Pending),
        resume_hash: Set(resume_hash.clone()),
        prompt_version: Set(TAILOR_PROMPT_VERSION.to_owned()),
        changes: Set(DocumentChanges::default()),
        warnings: Set(StringList::default()),
        suggestions: Set(StringList::default()),
        attempts: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    // Two identical requests at once: one inserts, the other reads what it inserted.
    let inserted = tailored_document::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                tailored_document::Column::UserId,
                tailored_document::Column::JobListingId,
                tailored_document::Column::Kind,
                tailored_document::Column::ResumeHash,
                tailored_document::Column::PromptVersion,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    let doc = tailored_document::Entity::find()
        .filter(tailored_document::Column::UserId.eq(user.id))
        .filter(tailored_document::Column::JobListingId.eq(listing_id))
        .filter(tailored_document::Column::Kind.eq(kind))
        .filter(tailored_document::Column::ResumeHash.eq(&resume_hash))
        .filter(tailored_document::Column::PromptVersion.eq(TAILOR_PROMPT_VERSION))
        .one(db)
        .await?
        .ok_or_else(|| Error::Unexpected("the tailored document vanished".into()))?;
    Ok(if inserted == 1 {
        Requested::Queued(doc)
    } else {
        Requested::Existing(doc)
    })
}

/// Refuses a new document beyond `TAILOR_MAX_PER_HOUR` in the last hour (counted from the
/// stored documents, so it holds across processes and restarts).
async fn check_rate(
    db: &DatabaseConnection,
    config: &DocumentConfig,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    if config.max_per_hour == 0 {
        return Ok(());
    }
    let window = now - Span::hours(1);
    let recent: Vec<DateTime<Utc>> = tailored_document::Entity::find()
        .select_only()
        .column(tailored_document::Column::CreatedAt)
        .filter(tailored_document::Column::UserId.eq(user_id))
        .filter(tailored_document::Column::CreatedAt.gt(window))
        .order_by_asc(tailored_document::Column::CreatedAt)
        .into_tuple()
        .all(db)
        .await?;
    if recent.len() < config.max_per_hour as usize {
        return Ok(());
    }
    let frees = recent[recent.len() - config.max_per_hour as usize] + Span::hours(1);
    Err(Error::RateLimited {
        message: format!("at most {} tailored documents an hour", config.max_per_hour),
        retry_after_secs: u64::try_from((frees - now).num_seconds().max(1)).unwrap_or(1),
    })
}

/// One of the user's documents; `None` when it is not theirs or does not exist.
pub async fn get(
    db: &DatabaseConnection,
    user_id: i64,
    id: i64,
) -> Result<Option<tailored_document::Model>> {
    Ok(tailored_document::Entity::find_by_id(id)
        .filter(tailored_document::Column::UserId.eq(user_id))
        .one(db)
        .await?)
}

/// The user's documents, newest first, at most `first`, optionally for one listing.
pub async fn list(
    db: &DatabaseConnection,
    user_id: i64,
    listing_id: Option<i64>,
    first: u64,
) -> Result<Vec<tailored_document::Model>> {
    let mut query =
        tailored_document::Entity::find().filter(tailored_document::Column::UserId.eq(user_id));
    if let Some(listing) = listing_id {
        query = query.filter(tailored_document::Column::JobListingId.eq(listing));
    }
    Ok(query
        .order_by_desc(tailored_document::Column::CreatedAt)
        .order_by_desc(tailored_document::Column::Id)
        .limit(first)
        .all(db)
        .await?)
}

/// Documents the user has, for tests and the account export.
pub async fn count(db: &DatabaseConnection, user_id: i64) -> Result<u64> {
    Ok(tailored_document::Entity::find()
        .filter(tailored_document::Column::UserId.eq(user_id))
        .count(db)
        .await?)
}

/// What [`make`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Made {
    /// Made (or found made already), by this method.
    Ready(ScoreMethod),
    /// It cannot be made: the resume it was asked for is no longer the user's.
    Failed(String),
    /// No such document (deleted with its user or listing).
    Gone,
}

/// The matched and missing skills of the resume for the listing: the stored score's when it
/// is for this resume, else the keyword scorer's.
async fn skills(
    db: &DatabaseConnection,
    user: &user::Model,
    resume: &str,
    listing: &job_listing::Model,
) -> Result<(Vec<String>, Vec<String>)> {
    let stored = user_job_match::Entity::find()
        .filter(user_job_match::Column::UserId.eq(user.id))
        .filter(user_job_match::Column::JobListingId.eq(listing.id))
        .one(db)
        .await?;
    if let Some(m) = stored.filter(|m| Some(&m.resume_hash) == user.resume_hash.as_ref()) {
        return Ok((m.matched_skills.0, m.missing_skills.0));
    }
    let description = listing.description.as_deref().unwrap_or("");
    let corpus = Corpus::from_listings([(listing.title.as_str(), description)]);
    let score = crate::matching::keyword::score_text(
        &corpus,
        resume,
        &listing.title,
        description,
        chrono::Datelike::year(&Utc::now()),
    );
    let shown = |skills: Vec<String>, text: &str| -> Vec<String> {
        skills.iter().map(|s| surface(s, text)).collect()
    };
    let listing_text = format!("{} {description}", listing.title);
    Ok((
        shown(score.matched, resume),
        shown(score.missing, &listing_text),
    ))
}

/// `skill` as `text` writes it ("postgresql" → "PostgreSQL"), or as given when `text` does
/// not hold it as a whole word.
pub fn surface(skill: &str, text: &str) -> String {
    let wanted = skill.to_lowercase();
    let lowered = text.to_lowercase();
    if lowered.len() != text.len() || wanted.is_empty() {
        return skill.to_owned();
    }
    let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    let mut from = 0;
    while let Some(at) = lowered[from..].find(&wanted) {
        let start = from + at;
        let end = start + wanted.len();
        if boundary(lowered[..start].chars().next_back()) && boundary(lowered[end..].chars().next())
        {
            return text[start..end].to_owned();
        }
        from = start + wanted.len().max(1);
        while !lowered.is_char_boundary(from) {
            from += 1;
        }
    }
    skill.to_owned()
}

/// Tailors `resume` for `target`: through the LLM when given and it answers usably, else
/// deterministically. Returns the result, its method, the tokens used and the model.
pub async fn tailor(
    llm: Option<&dyn Llm>,
    user_id: Option<i64>,
    kind: DocumentKind,
    resume_text: &str,
    target: &Target<'_>,
) -> (Tailored, ScoreMethod, Option<crate::llm::Usage>) {
    let resume = ResumeDoc::parse(resume_text);
    let deterministic = |resume: &ResumeDoc| match kind {
        DocumentKind::Resume => keyword::tailor_resume(resume, target),
        DocumentKind::CoverLetter => keyword::tailor_letter(resume, target),
    };
    let Some(llm) = llm else {
        return (deterministic(&resume), ScoreMethod::Keyword, None);
    };
    let facts = Facts::new(resume_text, &format!("{} {}", target.title, target.company));
    match llm::tailor(llm, user_id, kind, &resume, target, &facts).await {
        Ok((tailored, usage)) => (tailored, ScoreMethod::Llm, Some(usage)),
        Err(e) => {
            tracing::warn!(error = %e, kind = e.kind(), "LLM tailoring failed; tailoring by keywords");
            let mut tailored = deterministic(&resume);
            tailored
                .warnings
                .insert(0, format!("Tailored without the LLM: {e}"));
            (tailored, ScoreMethod::Keyword, None)
        }
    }
}

/// The `TailorDocument` job: makes document `id` and stores it READY. A document already
/// made, or gone, is left alone; one whose resume is no longer the user's is FAILED.
pub async fn make(db: &DatabaseConnection, llm: Option<&dyn Llm>, id: i64) -> Result<Made> {
    let Some(doc) = tailored_document::Entity::find_by_id(id).one(db).await? else {
        return Ok(Made::Gone);
    };
    if doc.status == DocumentStatus::Ready {
        return Ok(Made::Ready(doc.method.unwrap_or(ScoreMethod::Keyword)));
    }
    let user = user::Entity::find_by_id(doc.user_id).one(db).await?;
    let listing = job_listing::Entity::find_by_id(doc.job_listing_id)
        .one(db)
        .await?;
    let (Some(user), Some(listing)) = (user, listing) else {
        return Ok(Made::Gone);
    };
    let now = Utc::now();
    let resume = match (&user.resume_text, &user.resume_hash) {
        (Some(text), Some(hash)) if *hash == doc.resume_hash => text.clone(),
        _ => {
            let why = "the resume changed before this document was made; ask again for one from the current resume";
            fail(db, doc, why).await?;
            return Ok(Made::Failed(why.into()));
        }
    };
    let mut started: tailored_document::ActiveModel = doc.clone().into();
    started.attempts = Set(doc.attempts + 1);
    started.updated_at = Set(now);
    started.update(db).await?;

    let (matched, missing) = skills(db, &user, &resume, &listing).await?;
    let target = Target {
        title: &listing.title,
        company: &listing.company,
        description: listing.description.as_deref().unwrap_or(""),
        matched,
        missing,
    };
    let (tailored, method, usage) =
        tailor(llm, Some(doc.user_id), doc.kind, &resume, &target).await;
    let markdown = render::markdown::render(&tailored.content);
    let content = serde_json::to_value(&tailored.content)
        .map_err(|e| Error::Unexpected(format!("document content: {e}")))?;
    let done = Utc::now();
    let mut ready: tailored_document::ActiveModel = doc.into();
    ready.status = Set(DocumentStatus::Ready);
    ready.method = Set(Some(method));
    ready.content = Set(Some(content));
    ready.markdown = Set(Some(markdown));
    ready.changes = Set(DocumentChanges(tailored.changes));
    ready.warnings = Set(StringList(tailored.warnings));
    ready.suggestions = Set(StringList(tailored.suggestions));
    ready.model_id = Set(usage.and(llm.map(|l| l.model_id().to_owned())));
    ready.input_tokens = Set(usage.map(|u| u.input_tokens));
    ready.output_tokens = Set(usage.map(|u| u.output_tokens));
    ready.error = Set(None);
    ready.updated_at = Set(done);
    ready.finished_at = Set(Some(done));
    ready.update(db).await?;
    Ok(Made::Ready(method))
}

/// Marks document `doc` FAILED with `why` (the job's last attempt, or a request it cannot serve).
pub async fn fail(db: &DatabaseConnection, doc: tailored_document::Model, why: &str) -> Result<()> {
    let now = Utc::now();
    let mut failed: tailored_document::ActiveModel = doc.into();
    failed.status = Set(DocumentStatus::Failed);
    failed.error = Set(Some(why.to_owned()));
    failed.updated_at = Set(now);
    failed.finished_at = Set(Some(now));
    failed.update(db).await?;
    Ok(())
}

/// Marks document `id` FAILED after the job gave up on it.
pub async fn give_up(db: &DatabaseConnection, id: i64, why: &str) -> Result<()> {
    if let Some(doc) = tailored_document::Entity::find_by_id(id).one(db).await?
        && doc.status == DocumentStatus::Pending
    {
        fail(db, doc, why).await?;
    }
    Ok(())
}

/// A stored document's content, for rendering.
pub fn content_of(doc: &tailored_document::Model) -> Result<Option<Content>> {
    doc.content
        .clone()
        .map(serde_json::from_value)
        .transpose()
        .map_err(|e| Error::Unexpected(format!("stored document {} is unreadable: {e}", doc.id)))
}

#[cfg(test)]
mod tests {
    use super::surface;

    #[test]
    fn skills_are_shown_as_the_text_writes_them() {
        assert_eq!(surface("postgresql", "Rust on PostgreSQL."), "PostgreSQL");
        assert_eq!(surface("go", "Going further with Go"), "Go");
        assert_eq!(surface("kafka", "no such thing"), "kafka");
        assert_eq!(surface("c++", "Modern C++ and Rust"), "C++");
    }
}
