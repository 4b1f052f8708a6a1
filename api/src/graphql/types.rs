//! GraphQL object, input and enum types. Doc comments here are the schema's descriptions.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{search_category, user};

use super::MAX_PAGE;
use super::context::state;
use crate::error::{ApiError, ApiResult};

/// What a user may do.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::Role")]
pub enum Role {
    /// A job seeker.
    User,
    /// Curates search categories and triggers runs.
    Admin,
}

/// Where a user's category assignment stands.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::AssignmentStatus")]
pub enum AssignmentStatus {
    /// No resume saved yet.
    None,
    /// A resume was saved and its category is being chosen.
    Pending,
    /// The category is chosen.
    Assigned,
    /// Choosing failed; see `error`.
    Failed,
}

/// Where a resume's text came from.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::ResumeSource")]
pub enum ResumeSource {
    /// Pasted with `saveResume`.
    Text,
    /// Read from an uploaded PDF's text layer.
    Pdf,
    /// Read from an uploaded Word document.
    Docx,
    /// Read from an uploaded Markdown file.
    Markdown,
}

/// How a user's category was chosen.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::AssignmentMethod")]
pub enum AssignmentMethod {
    /// The resume's words matched a category's keywords.
    Keyword,
    /// The LLM picked an existing category.
    LlmExisting,
    /// The LLM proposed a new category, which was created.
    LlmNew,
    /// With the LLM off or failing, the role the resume's title names was used: a category
    /// created for it, or the existing one of the same role.
    Title,
    /// No role could be read (and the LLM was off or failed): the best keyword match over the
    /// whole resume, or the default category.
    Fallback,
}

/// Who created a search category.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::CategoryOrigin")]
pub enum CategoryOrigin {
    /// One of the defaults every installation starts with.
    Seed,
    /// Added by an admin.
    Admin,
    /// Proposed by the LLM while assigning a user.
    Llm,
    /// Created from a resume's title while assigning a user with the LLM off or failing.
    Title,
}

/// A search category: what the collector searches for, and what users are assigned to.
#[derive(Debug, Clone)]
pub struct SearchCategory(pub search_category::Model);

/// A search category.
#[Object]
impl SearchCategory {
    /// Opaque identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Stable identifier: lowercase letters, digits and underscores, starting with a letter.
    async fn slug(&self) -> &str {
        self.0.slug.as_str()
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Queries sent to search sources.
    async fn search_terms(&self) -> &[String] {
        &self.0.search_terms.0
    }
    /// Words that assign resumes and company-board listings to this category.
    async fn keywords(&self) -> &[String] {
        &self.0.keywords.0
    }
    /// Location passed to search sources, if any.
    async fn location(&self) -> Option<&str> {
        self.0.location.as_deref()
    }
    /// Retired categories are inactive: kept for history, neither collected nor assigned.
    async fn is_active(&self) -> bool {
        self.0.is_active
    }
    /// Who created it.
    async fn origin(&self) -> CategoryOrigin {
        self.0.origin.into()
    }
}

/// An account.
#[derive(Debug, Clone)]
pub struct User {
    pub row: user::Model,
    /// A webhook signing secret made by the mutation that answers with this user: shown in
    /// `preferences.alertWebhookSecret` this once.
    pub new_webhook_secret: Option<String>,
}

impl From<user::Model> for User {
    fn from(row: user::Model) -> Self {
        Self {
            row,
            new_webhook_secret: None,
        }
    }
}

/// An account.
#[Object]
impl User {
    /// Opaque identifier.
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }
    /// Lowercased email address.
    async fn email(&self) -> &str {
        self.row.email.as_str()
    }
    /// USER, or ADMIN for accounts that curate categories and trigger runs.
    async fn role(&self) -> Role {
        self.row.role.into()
    }
    /// When the resume was last saved; null before the first.
    async fn resume_updated_at(&self) -> Option<DateTime<Utc>> {
        self.row.resume_updated_at
    }
    /// The user's search category and how far its assignment has got.
    async fn category_assignment(&self) -> CategoryAssignment {
        CategoryAssignment::of(&self.row)
    }
    /// What the user wants of a listing (`updatePreferences`); only its owner sees them
    /// (anyone else sees the defaults).
    async fn preferences(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<crate::graphql::preferences::Preferences> {
        crate::graphql::preferences::of(ctx, &self.row, self.new_webhook_secret.clone()).await
    }
    /// The resume as it was read, and the file it was read from; null before the first.
    /// Only its owner sees it.
    async fn resume(&self, ctx: &Context<'_>) -> ApiResult<Option<Resume>> {
        let viewer = crate::graphql::context::current_user(ctx).await?;
        if viewer.is_none_or(|v| v.id != self.row.id) {
            return Ok(None);
        }
        let (Some(text), Some(updated_at)) = (&self.row.resume_text, self.row.resume_updated_at)
        else {
            return Ok(None);
        };
        let file = jobs::resume::file_info(&state(ctx).db, self.row.id).await?;
        Ok(Some(Resume {
            text: text.clone(),
            source: file
                .as_ref()
                .map_or(ResumeSource::Text, |f| f.source.into()),
            file_name: file.as_ref().map(|f| f.file_name.clone()),
            content_type: file.as_ref().map(|f| f.content_type.clone()),
            size_bytes: file.as_ref().map(|f| f.size_bytes),
            pages: file.as_ref().and_then(|f| f.pages),
            warnings: file.map(|f| f.warnings).unwrap_or_default(),
            updated_at,
        }))
    }
}

/// A user's resume: the text the assignment and scoring read, and where it came from.
#[derive(SimpleObject, Debug, Clone)]
pub struct Resume {
    /// The text as read (and cleaned) from the file, or as pasted.
    pub text: String,
    pub source: ResumeSource,
    /// The uploaded file's name; null for pasted text. Download it from `GET /files/resume`.
    pub file_name: Option<String>,
    /// The media type of the file, as read from its bytes.
    pub content_type: Option<String>,
    pub size_bytes: Option<i32>,
    /// Pages of a PDF or DOCX.
    pub pages: Option<i32>,
    /// What the reading could not do well (images not read, …).
    pub warnings: Vec<String>,
    pub updated_at: DateTime<Utc>,
}

/// The state of a user's category assignment, for showing "assigning your category…".
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct CategoryAssignment {
    /// NONE before the first resume, PENDING while choosing, then ASSIGNED or FAILED.
    pub status: AssignmentStatus,
    /// How the category was chosen, once it is.
    pub method: Option<AssignmentMethod>,
    /// When the category was chosen.
    pub assigned_at: Option<DateTime<Utc>>,
    /// Why the assignment failed or fell back, if it did.
    pub error: Option<String>,
    #[graphql(skip)]
    pub category_id: Option<i64>,
}

impl CategoryAssignment {
    /// The assignment state recorded on a user row.
    pub fn of(user: &user::Model) -> Self {
        Self {
            status: user.category_status.into(),
            method: user.category_method.map(Into::into),
            assigned_at: user.category_assigned_at,
            error: user.category_error.clone(),
            category_id: user.search_category_id,
        }
    }
}

#[ComplexObject]
impl CategoryAssignment {
    /// The assigned category; null until one is chosen.
    async fn category(&self, ctx: &Context<'_>) -> ApiResult<Option<SearchCategory>> {
        let Some(id) = self.category_id else {
            return Ok(None);
        };
        let found = jobs::catalog::by_id(&state(ctx).db, id).await?;
        Ok(found.map(SearchCategory))
    }
}

/// A token and the account it signs in.
#[derive(SimpleObject, Debug)]
pub struct AuthPayload {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// The signed-in account.
    pub user: User,
}

/// A new search category. Search terms default to the name; keywords to the lowercased name.
#[derive(InputObject, Debug)]
pub struct AddSearchCategoryInput {
    /// `^[a-z][a-z0-9_]{1,48}$`, unique.
    pub slug: String,
    /// Display name, 1 to 200 characters.
    pub name: String,
    /// Up to 50 queries, each at most 100 characters.
    pub search_terms: Option<Vec<String>>,
    /// Up to 50 keywords, each at most 100 characters.
    pub keywords: Option<Vec<String>>,
    /// Location passed to search sources, at most 200 characters.
    pub location: Option<String>,
}

/// Changes to a search category; omitted fields stay as they are.
#[derive(InputObject, Debug)]
pub struct UpdateSearchCategoryInput {
    /// New display name, 1 to 200 characters.
    pub name: Option<String>,
    /// Replaces the search terms (up to 50, each at most 100 characters).
    pub search_terms: Option<Vec<String>>,
    /// Replaces the keywords (up to 50, each at most 100 characters).
    pub keywords: Option<Vec<String>>,
    /// An empty string clears the location.
    pub location: Option<String>,
    /// `false` retires the category, `true` brings it back.
    pub is_active: Option<bool>,
}

/// Where a page ends.
#[derive(SimpleObject, Debug, Clone)]
pub struct PageInfo {
    pub has_next_page: bool,
    /// Pass as `after` for the next page.
    pub end_cursor: Option<String>,
}

/// A page size from `first` (default 20): 1 to [`MAX_PAGE`], else VALIDATION.
pub fn page_size(first: Option<i32>) -> ApiResult<u64> {
    let first = first.unwrap_or(20);
    if !(1..=MAX_PAGE).contains(&first) {
        return Err(ApiError::Validation {
            field: "first",
            message: format!("must be between 1 and {MAX_PAGE}"),
        });
    }
    Ok(first as u64)
}
