//! Creating (or reusing) a category an assignment asks for: the one the LLM proposed
//! (origin LLM) or the one the resume's title names (origin TITLE).

use entity::{CategoryOrigin, CategorySlug};
use sea_orm::DatabaseConnection;

use super::slug::canonical_slug;
use crate::catalog::{self, NewCategory};
use crate::{Error, Result};

/// What asking for a category came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Created {
    /// A new category.
    New(i64),
    /// An active category with the same canonical slug or name.
    Existing(i64),
    /// Not created, and why: the same role is a retired category (reviving one is an admin's
    /// call), or the proposal is not a valid category.
    Refused(String),
}

/// Reuses a category whose slug or name has the same canonical form; otherwise creates it
/// with `origin`, the name first among its keywords and its search term — unless
/// assignments created `daily_limit` categories in the last 24 hours already (every new
/// category is searched on every board in every run, so a flood of resumes must not make
/// hundreds).
pub(super) async fn create_or_reuse(
    db: &DatabaseConnection,
    slug: CategorySlug,
    name: String,
    keywords: Vec<String>,
    origin: CategoryOrigin,
    daily_limit: u32,
) -> Result<Created> {
    let wanted = canonical_slug(slug.as_str());
    let all = catalog::list(db, true).await?;
    let same = all
        .iter()
        .find(|c| canonical_slug(c.slug.as_str()) == wanted || canonical_slug(&c.name) == wanted);
    if let Some(existing) = same {
        return Ok(if existing.is_active {
            Created::Existing(existing.id)
        } else {
            Created::Refused(format!(
                "the category {slug} would be the retired category {}",
                existing.slug
            ))
        });
    }
    let since = chrono::Utc::now() - chrono::Duration::hours(24);
    if catalog::created_by_assignment_since(db, since).await? >= u64::from(daily_limit) {
        tracing::warn!(%slug, daily_limit, "not creating a category: the daily limit is reached");
        return Ok(Created::Refused(format!(
            "{daily_limit} categories were created by assignments in the last 24 hours \
             (ASSIGN_MAX_NEW_CATEGORIES_PER_DAY)"
        )));
    }
    let mut keywords: Vec<String> = keywords
        .into_iter()
        .map(|k| k.to_lowercase())
        .filter(|k| k.chars().count() <= catalog::MAX_ITEM_LEN)
        .collect();
    let lowered = name.to_lowercase();
    if !keywords.contains(&lowered) {
        keywords.insert(0, lowered);
    }
    let new = NewCategory {
        slug: slug.to_string(),
        name: name.clone(),
        search_terms: Some(vec![name]),
        keywords: Some(keywords),
        location: None,
    };
    let created = match catalog::add(db, new, origin).await {
        Ok(created) => created,
        // Another assignment created it a moment ago.
        Err(Error::Conflict(_)) => catalog::find(db, &slug)
            .await?
            .ok_or_else(|| Error::Unexpected(format!("category {slug} vanished")))?,
        Err(Error::Validation(e)) => {
            return Ok(Created::Refused(format!("the category is invalid: {e}")));
        }
        Err(e) => return Err(e),
    };
    tracing::info!(slug = %created.slug, origin = origin.as_str(), "created a category for an assignment");
    Ok(Created::New(created.id))
}
