//! Tailored documents: `tailorDocument`, `tailoredDocument`, `tailoredDocuments` and the
//! `tailoredDocumentProgress` subscription — a resume or cover letter made for one listing from
//! the caller's resume, every change listed, downloadable as PDF, DOCX or Markdown through
//! short-lived signed links. Only the caller's own documents, whatever is sent.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::tailored_document;
use jobs::documents::{self, Requested};
use jobs::queue::TailorDocument;

use super::context::{Access, require_user, state};
use super::listings::{JobListing, ListingId, Loaders};
use super::matches::ScoreMethod;
use super::types::page_size;
use crate::error::{ApiError, ApiResult};

/// What a tailored document is.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::DocumentKind")]
pub enum DocumentKind {
    /// The resume, tailored to the listing.
    Resume,
    /// A cover letter for the listing, citing the resume.
    CoverLetter,
}

/// Where a tailored document stands.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::DocumentStatus")]
pub enum DocumentStatus {
    /// Queued or being made.
    Pending,
    /// Made: `markdown`, `changes` and `downloads` are there.
    Ready,
    /// Given up on; `error` says why. Asking again tries again.
    Failed,
}

/// One change a tailoring made to the resume, for the user to review.
#[derive(SimpleObject, Clone, Debug)]
pub struct DocumentChange {
    /// Where: the summary, or the section and entry of a bullet or skill group.
    pub section: String,
    /// The resume's text before; null for added text (a summary, a letter's paragraph).
    pub before: Option<String>,
    pub after: String,
    pub why: String,
}

/// Signed links to the document, each valid for `DOCUMENT_LINK_TTL_SECONDS` (paths on this
/// server; no Authorization header needed, so a browser can follow them).
#[derive(SimpleObject, Clone, Debug)]
pub struct DocumentDownloads {
    pub pdf: String,
    pub docx: String,
    pub markdown: String,
}

/// A resume or cover letter tailored to one listing.
#[derive(Clone, Debug)]
pub struct TailoredDocument {
    row: tailored_document::Model,
    /// The owner's current resume hash, to tell a stale document.
    current_resume: Option<String>,
}

#[Object]
impl TailoredDocument {
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }
    async fn kind(&self) -> DocumentKind {
        self.row.kind.into()
    }
    /// The listing it is tailored to.
    async fn job(&self, ctx: &Context<'_>) -> ApiResult<JobListing> {
        ctx.data_unchecked::<DataLoader<Loaders>>()
            .load_one(ListingId(self.row.job_listing_id))
            .await
            .map_err(ApiError::internal)?
            .map(JobListing)
            .ok_or_else(|| ApiError::NotFound("the listing is gone".into()))
    }
    async fn status(&self) -> DocumentStatus {
        self.row.status.into()
    }
    /// LLM (its edits checked against the resume) or KEYWORD (the deterministic tailoring);
    /// null until made.
    async fn method(&self) -> Option<ScoreMethod> {
        self.row.method.map(Into::into)
    }
    /// The document as Markdown, once made.
    async fn markdown(&self) -> Option<&str> {
        self.row.markdown.as_deref()
    }
    /// Every change made to the resume's text or order, with why.
    async fn changes(&self) -> Vec<DocumentChange> {
        self.row
            .changes
            .0
            .iter()
            .map(|c| DocumentChange {
                section: c.section.clone(),
                before: c.before.clone(),
                after: c.after.clone(),
                why: c.why.clone(),
            })
            .collect()
    }
    /// What was dropped from the LLM's answer and why (a claim the resume does not support),
    /// or why the LLM was not used.
    async fn warnings(&self) -> &[String] {
        &self.row.warnings.0
    }
    /// Skills the listing asks for that the resume does not show: for the user to consider,
    /// never claimed in the document.
    async fn suggestions(&self) -> &[String] {
        &self.row.suggestions.0
    }
    /// Signed links to PDF, DOCX and Markdown; null until the document is READY.
    async fn downloads(&self, ctx: &Context<'_>) -> ApiResult<Option<DocumentDownloads>> {
        if self.row.status != entity::DocumentStatus::Ready {
            return Ok(None);
        }
        let app = state(ctx);
        let me = super::context::require_user(ctx).await?;
        let link = |format: &str| -> ApiResult<String> {
            let token =
                app.keys
                    .issue_link(&me, self.row.id, format, app.config.document_link_ttl)?;
            Ok(format!("/documents/{}/{format}?token={token}", self.row.id))
        };
        Ok(Some(DocumentDownloads {
            pdf: link("pdf")?,
            docx: link("docx")?,
            markdown: link("md")?,
        }))
    }
    /// Made from a resume that is no longer the user's current one.
    async fn stale(&self) -> bool {
        self.current_resume.as_deref() != Some(self.row.resume_hash.as_str())
    }
    /// Why it failed, when FAILED.
    async fn error(&self) -> Option<&str> {
        self.row.error.as_deref()
    }
    /// The model that made it, when the LLM did.
    async fn model_id(&self) -> Option<&str> {
        self.row.model_id.as_deref()
    }
    async fn input_tokens(&self) -> Option<i32> {
        self.row.input_tokens
    }
    async fn output_tokens(&self) -> Option<i32> {
        self.row.output_tokens
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.row.finished_at
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("no tailored document has the id {id}"))
}

#[derive(Default, Debug)]
pub struct DocumentQuery;

#[Object]
impl DocumentQuery {
    /// One of the caller's tailored documents; null when there is none (or it is another
    /// user's).
    #[graphql(guard = "Access::User")]
    async fn tailored_document(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<Option<TailoredDocument>> {
        let me = require_user(ctx).await?;
        let Ok(id) = id.parse::<i64>() else {
            return Ok(None);
        };
        Ok(documents::get(&state(ctx).db, me.id, id)
            .await?
            .map(|row| TailoredDocument {
                row,
                current_resume: me.resume_hash.clone(),
            }))
    }

    /// The caller's tailored documents, newest first, at most `first` (1 to 100), for one
    /// listing when `jobListingId` is given.
    #[graphql(guard = "Access::User")]
    async fn tailored_documents(
        &self,
        ctx: &Context<'_>,
        job_listing_id: Option<ID>,
        #[graphql(default = 20)] first: Option<i32>,
    ) -> ApiResult<Vec<TailoredDocument>> {
        let me = require_user(ctx).await?;
        let limit = page_size(first)?;
        let listing = match job_listing_id {
            None => None,
            Some(id) => match id.parse::<i64>() {
                Ok(id) => Some(id),
                Err(_) => return Ok(Vec::new()),
            },
        };
        Ok(documents::list(&state(ctx).db, me.id, listing, limit)
            .await?
            .into_iter()
            .map(|row| TailoredDocument {
                row,
                current_resume: me.resume_hash.clone(),
            })
            .collect())
    }
}

#[derive(Default, Debug)]
pub struct DocumentMutation;

#[Object]
impl DocumentMutation {
    /// Asks for a document of `kind` tailored to a listing from the caller's current resume.
    /// The same request again (same listing, kind, resume and prompt version) returns the
    /// stored document instead of making a new one; a FAILED one is tried again. New
    /// documents are limited per user per hour (`TAILOR_MAX_PER_HOUR`: RATE_LIMITED with
    /// `retryAfter`). Follow it with `tailoredDocumentProgress` or by polling.
    #[graphql(guard = "Access::User")]
    async fn tailor_document(
        &self,
        ctx: &Context<'_>,
        job_listing_id: ID,
        #[graphql(default_with = "Some(DocumentKind::Resume)")] kind: Option<DocumentKind>,
    ) -> ApiResult<TailoredDocument> {
        let me = require_user(ctx).await?;
        let app = state(ctx);
        let listing: i64 = job_listing_id.parse().map_err(|_| {
            ApiError::NotFound(format!(
                "no job listing with id {}",
                job_listing_id.as_str()
            ))
        })?;
        let kind = kind.unwrap_or(DocumentKind::Resume).into();
        let row = match documents::request(&app.db, &app.config.documents, &me, listing, kind)
            .await?
        {
            Requested::Existing(row) => row,
            Requested::Queued(row) => {
                if let Err(e) = app
                    .queue
                    .push_tailor(TailorDocument {
                        document_id: row.id,
                    })
                    .await
                {
                    let _ = documents::give_up(&app.db, row.id, "the job queue refused it").await;
                    return Err(e.into());
                }
                row
            }
        };
        Ok(TailoredDocument {
            row,
            current_resume: me.resume_hash.clone(),
        })
    }
}

#[derive(Default, Debug)]
pub struct DocumentSubscription;

/// How often a progress subscription reads the document.
const PROGRESS_POLL: std::time::Duration = std::time::Duration::from_millis(250);

#[async_graphql::Subscription]
impl DocumentSubscription {
    /// The caller's document now, then again each time it changes; completes once it is READY
    /// or FAILED. Works whichever process makes it (it follows the stored row).
    #[graphql(guard = "Access::User")]
    async fn tailored_document_progress(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<impl futures::Stream<Item = TailoredDocument> + use<>, ApiError> {
        let me = require_user(ctx).await?;
        let db = state(ctx).db.clone();
        let shown = id.as_str().to_owned();
        let id: i64 = id.parse().map_err(|_| not_found(&shown))?;
        let first = documents::get(&db, me.id, id)
            .await?
            .ok_or_else(|| not_found(&shown))?;
        let current = me.resume_hash.clone();
        let stream = futures::stream::unfold(
            (db, me.id, None::<tailored_document::Model>, Some(first)),
            move |(db, user, last, pending)| {
                let current = current.clone();
                async move {
                    if last
                        .as_ref()
                        .is_some_and(|l| l.status != entity::DocumentStatus::Pending)
                    {
                        return None;
                    }
                    let mut next = pending;
                    loop {
                        if let Some(row) = next.take()
                            && last.as_ref() != Some(&row)
                        {
                            let shown = TailoredDocument {
                                row: row.clone(),
                                current_resume: current.clone(),
                            };
                            return Some((shown, (db, user, Some(row), None)));
                        }
                        tokio::time::sleep(PROGRESS_POLL).await;
                        match documents::get(&db, user, id).await {
                            Ok(Some(row)) => next = Some(row),
                            Ok(None) => return None,
                            Err(e) => {
                                tracing::warn!(document_id = id, error = %e, "progress subscription could not read the document; ending it");
                                return None;
                            }
                        }
                    }
                }
            },
        );
        Ok(stream)
    }
}
