//! Assigning a user to a search category from their resume.
//!
//! 1. **Keywords** ([`keyword_match`]): every active category's keywords are looked for as
//!    whole-word phrases. The resume's headline (its first short lines) decides: the category whose
//!    longest keyword phrase found there is strictly longer than every other category's wins
//!    (so "Machine Learning Engineer" is data_scientist through its three-word keyword, and a
//!    "Senior Data Engineer" headline matches nothing, since no category has "engineer"
//!    alone). That is method KEYWORD.
//! 2. **LLM, existing** ([`choose_prompt`]): the model picks one of the active slugs, or
//!    "none" — LLM_EXISTING.
//! 3. **LLM, new** ([`propose_prompt`]): the model proposes a generic slug and name; the slug is
//!    cleaned (seniority words dropped) and compared with every existing category in a
//!    canonical form ([`canonical_slug`]: `ml_engineer` and `machine_learning_engineer` are the
//!    same), then created with origin LLM — LLM_NEW (or LLM_EXISTING when it turned out to
//!    exist).
//! 4. **Title** ([`title`]): when the LLM is off or fails, a role named by the resume's title (headline, else the most recent role) that
//!    no active category's keywords cover gets a category of its own: the title cleaned of
//!    seniority words, canonicalized against existing slugs like step 3, origin TITLE —
//!    method TITLE. "Senior Data Engineer" makes (or reuses) `data_engineer`; "Registered
//!    Nurse" makes `registered_nurse`.
//! 5. **Fallback**: the category with the highest keyword score over the whole resume, else
//!    the configured default (`ASSIGN_DEFAULT_CATEGORY`) — FALLBACK, with the reason kept in
//!    `category_error`. Only a resume whose role cannot be read ends here without a keyword.
//!
//! Steps 3 and 4 create categories, at most `ASSIGN_MAX_NEW_CATEGORIES_PER_DAY` (20) in 24
//! hours together; `ASSIGN_CREATE_CATEGORIES=false` turns both off (the LLM still picks
//! among existing ones).
//!
//! - [`keyword`]: step 1, keywords in the headline.
//! - [`llm`]: steps 2 and 3, the prompts, tools and dialogue with the LLM.
//! - [`slug`]: cleaning and canonicalizing slugs.
//! - [`title`]: step 4, the category a resume's title names.
//! - `create`: creating (or reusing) the category steps 3 and 4 ask for.
//! - this file: [`decide`] (the steps in order, with the fallback) and [`run`] (the
//!   `AssignCategory` job: decide, then record the state if the resume is still the one judged).

mod create;
pub mod keyword;
pub mod llm;
pub mod slug;
pub mod title;

use chrono::Utc;
use entity::{AssignmentMethod, AssignmentStatus, search_category, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

pub use keyword::{KeywordMatch, KeywordScore, keyword_match};
pub use llm::{
    ASSIGN_PROMPT_VERSION, CHOOSE_SYSTEM, PROPOSE_SYSTEM, RESUME_CHARS_FOR_LLM, choose_prompt,
    propose_prompt,
};
pub use slug::{canonical_slug, clean_slug};
pub use title::{TitleCategory, title_category};

use crate::Result;
use crate::catalog;
use crate::llm::Llm;
use llm::LlmVerdict;

/// What the assignment decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Assigned {
        category_id: i64,
        method: AssignmentMethod,
        /// Why it fell back, for FALLBACK.
        note: Option<String>,
    },
    Failed(String),
}

/// How assignment is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignConfig {
    /// `ASSIGN_DEFAULT_CATEGORY`: the fallback when no role can be read and no keyword
    /// matches.
    pub default_category: String,
    /// `ASSIGN_CREATE_CATEGORIES`: whether assignment may create categories (steps 3 and 4).
    pub create_categories: bool,
    /// `ASSIGN_MAX_NEW_CATEGORIES_PER_DAY`: how many categories steps 3 and 4 may create in
    /// 24 hours, together.
    pub max_new_per_day: u32,
}

impl Default for AssignConfig {
    fn default() -> Self {
        Self {
            default_category: "software_engineer".into(),
            create_categories: true,
            max_new_per_day: 20,
        }
    }
}

/// Decides the category for `resume` (see the module docs). LLM failures become FALLBACK;
/// only database failures are errors.
pub async fn decide(
    db: &DatabaseConnection,
    llm: Option<&dyn Llm>,
    config: &AssignConfig,
    user_id: Option<i64>,
    resume: &str,
) -> Result<Decision> {
    let categories = catalog::list(db, false).await?;
    let keywords = keyword_match(resume, &categories);
    if let Some(category_id) = keywords.confident {
        return Ok(Decision::Assigned {
            category_id,
            method: AssignmentMethod::Keyword,
            note: None,
        });
    }
    let reason = match llm {
        None => "the LLM is disabled (BEDROCK_LLM_ENABLED=false)".to_owned(),
        Some(llm) => {
            let verdict = llm::ask_llm(
                db,
                llm,
                user_id,
                resume,
                &categories,
                config.create_categories,
                config.max_new_per_day,
            )
            .await?;
            match verdict {
                LlmVerdict::Decided(decision) => return Ok(decision),
                LlmVerdict::NoneFits => "the LLM found no fitting category and \
                                         ASSIGN_CREATE_CATEGORIES is off"
                    .to_owned(),
                LlmVerdict::Failed(e) => {
                    tracing::warn!(kind = e.kind(), error = %e, "LLM category assignment failed");
                    e.to_string()
                }
            }
        }
    };
    let mut reason = reason;
    if config.create_categories {
        match title::assign_by_title(db, resume, &categories, config.max_new_per_day).await? {
            title::ByTitle::Decided(decision) => {
                tracing::info!(reason, "category assigned from the resume's title");
                return Ok(decision);
            }
            title::ByTitle::Refused(why) => reason = format!("{reason}; {why}"),
            title::ByTitle::NoRole => {}
        }
    }
    Ok(fallback(&keywords, &categories, config, reason))
}

fn fallback(
    keywords: &KeywordMatch,
    categories: &[search_category::Model],
    config: &AssignConfig,
    reason: String,
) -> Decision {
    if let Some(category_id) = keywords.best {
        return Decision::Assigned {
            category_id,
            method: AssignmentMethod::Fallback,
            note: Some(format!("{reason}; chose the best keyword match")),
        };
    }
    match categories
        .iter()
        .find(|c| c.slug.as_str() == config.default_category)
    {
        Some(default) => Decision::Assigned {
            category_id: default.id,
            method: AssignmentMethod::Fallback,
            note: Some(format!(
                "{reason}; no keyword matched, so the default category {} was chosen",
                default.slug
            )),
        },
        None => Decision::Failed(format!(
            "{reason}; no keyword matched and the default category {} is not active",
            config.default_category
        )),
    }
}

/// What an assignment job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The user's category is set; matching should follow.
    Assigned { category_id: i64 },
    /// Nothing fitted; the user's state is FAILED.
    Failed,
    /// The user is gone or saved a newer resume; nothing was changed.
    Stale,
}

/// The `AssignCategory` job: decides and records the category for the resume with
/// `resume_hash`. A job for an older resume, or a second delivery after the state was
/// recorded, changes nothing.
pub async fn run(
    db: &DatabaseConnection,
    llm: Option<&dyn Llm>,
    config: &AssignConfig,
    user_id: i64,
    resume_hash: &str,
) -> Result<Outcome> {
    let Some(user) = user::Entity::find_by_id(user_id).one(db).await? else {
        return Ok(Outcome::Stale);
    };
    if user.resume_hash.as_deref() != Some(resume_hash) {
        return Ok(Outcome::Stale);
    }
    if user.category_status != AssignmentStatus::Pending {
        return Ok(match (user.category_status, user.search_category_id) {
            (AssignmentStatus::Assigned, Some(category_id)) => Outcome::Assigned { category_id },
            _ => Outcome::Stale,
        });
    }
    let resume = user.resume_text.unwrap_or_default();
    let decision = decide(db, llm, config, Some(user_id), &resume).await?;
    let now = Utc::now();
    let mut update = user::Entity::update_many()
        .col_expr(user::Column::CategoryAssignedAt, Expr::value(now))
        .col_expr(user::Column::UpdatedAt, Expr::value(now));
    let outcome = match &decision {
        Decision::Assigned {
            category_id,
            method,
            note,
        } => {
            update = update
                .col_expr(user::Column::SearchCategoryId, Expr::value(*category_id))
                .col_expr(
                    user::Column::CategoryStatus,
                    Expr::value(AssignmentStatus::Assigned),
                )
                .col_expr(user::Column::CategoryMethod, Expr::value(*method))
                .col_expr(user::Column::CategoryError, Expr::value(note.clone()));
            Outcome::Assigned {
                category_id: *category_id,
            }
        }
        Decision::Failed(message) => {
            update = update
                .col_expr(
                    user::Column::CategoryStatus,
                    Expr::value(AssignmentStatus::Failed),
                )
                .col_expr(user::Column::CategoryMethod, Expr::value(None::<String>))
                .col_expr(user::Column::CategoryError, Expr::value(message.clone()));
            Outcome::Failed
        }
    };
    // Only if the resume is still the one judged: a newer save wins.
    let written = update
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::ResumeHash.eq(resume_hash))
        .filter(user::Column::CategoryStatus.eq(AssignmentStatus::Pending))
        .exec(db)
        .await?;
    if written.rows_affected == 0 {
        return Ok(Outcome::Stale);
    }
    tracing::info!(user_id, ?decision, "category assignment recorded");
    Ok(outcome)
}

#[cfg(test)]
mod tests;
