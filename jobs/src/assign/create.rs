//! Creating (or reusing) the category the LLM proposed.

use entity::{AssignmentMethod, CategoryOrigin, CategorySlug};
use sea_orm::DatabaseConnection;

use super::Decision;
use super::slug::canonical_slug;
use crate::catalog::{self, NewCategory};
use crate::llm::LlmError;
use crate::{Error, Result};

/// Reuses a category whose slug or name has the same canonical form (active: LLM_EXISTING;
/// retired: an LLM error, since reviving a retired category is an admin's call); otherwise
/// creates it with origin LLM.
pub(super) async fn create_or_reuse(
    db: &DatabaseConnection,
    slug: CategorySlug,
    name: String,
    keywords: Vec<String>,
) -> Result<Result<Decision, LlmError>> {
    let wanted = canonical_slug(slug.as_str());
    let all = catalog::list(db, true).await?;
    let same = all
        .iter()
        .find(|c| canonical_slug(c.slug.as_str()) == wanted || canonical_slug(&c.name) == wanted);
    if let Some(existing) = same {
        return Ok(if existing.is_active {
            Ok(Decision::Assigned {
                category_id: existing.id,
                method: AssignmentMethod::LlmExisting,
                note: None,
            })
        } else {
            Err(LlmError::Malformed(format!(
                "the proposed category {slug} is the retired category {}",
                existing.slug
            )))
        });
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
    let created = match catalog::add(db, new, CategoryOrigin::Llm).await {
        Ok(created) => created,
        // Another assignment created it a moment ago.
        Err(Error::Conflict(_)) => catalog::find(db, &slug)
            .await?
            .ok_or_else(|| Error::Unexpected(format!("category {slug} vanished")))?,
        Err(Error::Validation(e)) => {
            return Ok(Err(LlmError::Malformed(format!(
                "the proposed category is invalid: {e}"
            ))));
        }
        Err(e) => return Err(e),
    };
    tracing::info!(slug = %created.slug, "created a category proposed by the LLM");
    Ok(Ok(Decision::Assigned {
        category_id: created.id,
        method: AssignmentMethod::LlmNew,
        note: None,
    }))
}
