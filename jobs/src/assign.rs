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
//! 4. **Fallback**: when the LLM is off or fails, the category with the highest keyword score
//!    over the whole resume, else the configured default (`ASSIGN_DEFAULT_CATEGORY`) — FALLBACK,
//!    with the reason kept in `category_error`.

use chrono::Utc;
use entity::{
    AssignmentMethod, AssignmentStatus, CategoryOrigin, CategorySlug, search_category, user,
};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::json;

use crate::catalog::{self, NewCategory};
use crate::llm::{Llm, LlmError, Tool, ToolRequest, str_field, string_list, truncate_chars};
use crate::sources::words;
use crate::{Error, Result};

/// Lines at the top of a resume looked at for its headline.
const HEADLINE_LINES: usize = 3;
/// Longest line (in words) taken as part of the headline: a title, not a sentence.
const HEADLINE_LINE_WORDS: usize = 8;
/// Characters of a resume sent to the LLM.
pub const RESUME_CHARS_FOR_LLM: usize = 12_000;

/// One category's keyword evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeywordScore {
    pub category_id: i64,
    pub slug: String,
    /// Words in the longest keyword phrase found in the headline (0 = none).
    pub headline_specificity: usize,
    /// Σ over keywords found anywhere of words² × occurrences (at most 3 each).
    pub total: usize,
}

/// The keyword verdict for a resume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeywordMatch {
    /// The category the headline decides on, when it does.
    pub confident: Option<i64>,
    /// The category with the highest total, if any keyword was found.
    pub best: Option<i64>,
    /// Every category with evidence, best first.
    pub scores: Vec<KeywordScore>,
}

/// The short lines among the first non-empty lines: where a resume states its title.
fn headline(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .take(HEADLINE_LINES)
        .map(words)
        .filter(|w| w.len() <= HEADLINE_LINE_WORDS)
        .flatten()
        .collect()
}

/// How often `phrase` occurs in `text` as consecutive whole words.
fn occurrences(text: &[String], phrase: &[String]) -> usize {
    if phrase.is_empty() || phrase.len() > text.len() {
        return 0;
    }
    text.windows(phrase.len()).filter(|w| *w == phrase).count()
}

/// Scores every active category's keywords against `resume`; see the module docs.
pub fn keyword_match(resume: &str, categories: &[search_category::Model]) -> KeywordMatch {
    let body = words(resume);
    let head = headline(resume);
    let mut scores: Vec<KeywordScore> = categories
        .iter()
        .filter(|c| c.is_active)
        .filter_map(|c| {
            let mut score = KeywordScore {
                category_id: c.id,
                slug: c.slug.to_string(),
                headline_specificity: 0,
                total: 0,
            };
            for keyword in &c.keywords.0 {
                let phrase = words(keyword);
                let n = phrase.len();
                let found = occurrences(&body, &phrase).min(3);
                score.total += n * n * found;
                if found > 0 && occurrences(&head, &phrase) > 0 {
                    score.headline_specificity = score.headline_specificity.max(n);
                }
            }
            (score.total > 0).then_some(score)
        })
        .collect();
    scores.sort_by(|a, b| {
        (b.headline_specificity, b.total)
            .cmp(&(a.headline_specificity, a.total))
            .then_with(|| a.slug.cmp(&b.slug))
    });
    let confident = match scores.as_slice() {
        [first, rest @ ..]
            if first.headline_specificity > 0
                && rest
                    .iter()
                    .all(|s| s.headline_specificity < first.headline_specificity) =>
        {
            Some(first.category_id)
        }
        _ => None,
    };
    let best = scores
        .iter()
        .max_by(|a, b| a.total.cmp(&b.total).then_with(|| b.slug.cmp(&a.slug)))
        .map(|s| s.category_id);
    KeywordMatch {
        confident,
        best,
        scores,
    }
}

/// Seniority and filler words a generic category slug (and a title comparison) leaves out.
pub const SENIORITY: [&str; 14] = [
    "senior",
    "sr",
    "junior",
    "jr",
    "lead",
    "principal",
    "staff",
    "head",
    "chief",
    "intern",
    "entry",
    "level",
    "associate",
    "i",
];

/// Abbreviations spelled out, so equal roles compare equal.
const EXPANSIONS: [(&str, &str); 14] = [
    ("ml", "machine_learning"),
    ("ai", "artificial_intelligence"),
    ("swe", "software_engineer"),
    ("sde", "software_engineer"),
    ("sre", "site_reliability_engineer"),
    ("eng", "engineer"),
    ("engineering", "engineer"),
    ("dev", "developer"),
    ("developers", "developer"),
    ("engineers", "engineer"),
    ("mgr", "manager"),
    ("pm", "product_manager"),
    ("ux", "user_experience"),
    ("qa", "quality_assurance"),
];

/// A slug's canonical form for deduplication: lowercase words with abbreviations spelled out
/// and seniority words dropped, joined by `_`.
pub fn canonical_slug(text: &str) -> String {
    let lowered = text.to_lowercase();
    let mut parts = Vec::new();
    for word in lowered
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if SENIORITY.contains(&word) {
            continue;
        }
        let word = EXPANSIONS
            .iter()
            .find(|(short, _)| *short == word)
            .map_or(word, |(_, long)| long);
        parts.push(word.to_owned());
    }
    parts.join("_")
}

/// A proposed slug made valid: lowercase ASCII words joined by `_`, seniority dropped, at most
/// 49 characters on a word boundary. `None` when nothing usable is left.
pub fn clean_slug(proposed: &str) -> Option<CategorySlug> {
    let lowered = proposed.to_lowercase();
    let mut slug = String::new();
    for word in lowered
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty() && !SENIORITY.contains(w))
    {
        let next = if slug.is_empty() {
            word.to_owned()
        } else {
            format!("{slug}_{word}")
        };
        if next.len() > 49 {
            break;
        }
        slug = next;
    }
    let start = slug.find(|c: char| c.is_ascii_lowercase())?;
    slug[start..].parse().ok()
}

/// The system prompt for choosing an existing category. Changing it changes behaviour: keep
/// [`ASSIGN_PROMPT_VERSION`] in step.
pub const CHOOSE_SYSTEM: &str = "You assign a job seeker to the job-search category that \
matches the role they are looking for, judged from their resume: their most recent title, \
their stated objective, and the bulk of their experience. Choose exactly one slug from the \
list, or \"none\" when no category is that role (a related field is not enough: a data \
engineer is not a data scientist, a mechanical engineer is not a software engineer). Answer \
only by calling the tool.";

/// The system prompt for proposing a new category.
pub const PROPOSE_SYSTEM: &str = "No existing job-search category fits this job seeker. \
Propose one new, generic category for the role they are looking for: a snake_case slug such \
as \"data_engineer\" or \"registered_nurse\", a short display name, and 3 to 10 lowercase job \
title phrases that identify the role in job listings. Generic means: no seniority (senior, \
lead, junior), no company, no location, no single technology unless the role is named after \
it. Answer only by calling the tool.";

/// Bumped whenever the assignment prompts or tools change meaning.
pub const ASSIGN_PROMPT_VERSION: &str = "assign-v1";

fn choose_tool(slugs: &[String]) -> Tool {
    let mut choices: Vec<serde_json::Value> = slugs.iter().map(|s| json!(s)).collect();
    choices.push(json!("none"));
    Tool {
        name: "choose_category",
        description: "Record the category that fits the resume, or none.",
        schema: json!({
            "type": "object",
            "properties": {
                "slug": {"type": "string", "enum": choices,
                         "description": "One of the listed slugs, or \"none\"."},
                "reason": {"type": "string", "description": "One sentence."}
            },
            "required": ["slug"]
        }),
    }
}

fn propose_tool() -> Tool {
    Tool {
        name: "propose_category",
        description: "Record a new generic job-search category for the resume.",
        schema: json!({
            "type": "object",
            "properties": {
                "slug": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,48}$"},
                "name": {"type": "string", "maxLength": 100},
                "keywords": {"type": "array", "items": {"type": "string"}, "maxItems": 10}
            },
            "required": ["slug", "name", "keywords"]
        }),
    }
}

fn category_lines(categories: &[search_category::Model]) -> String {
    categories
        .iter()
        .map(|c| {
            format!(
                "- {}: {} (titles: {})",
                c.slug,
                c.name,
                c.keywords.0.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The user message for choosing among `categories`.
pub fn choose_prompt(resume: &str, categories: &[search_category::Model]) -> String {
    format!(
        "Categories:\n{}\n\nResume:\n<resume>\n{}\n</resume>",
        category_lines(categories),
        truncate_chars(resume, RESUME_CHARS_FOR_LLM)
    )
}

/// The user message for proposing a category beside `categories`.
pub fn propose_prompt(resume: &str, categories: &[search_category::Model]) -> String {
    format!(
        "Existing categories (none fits):\n{}\n\nResume:\n<resume>\n{}\n</resume>",
        category_lines(categories),
        truncate_chars(resume, RESUME_CHARS_FOR_LLM)
    )
}

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
    /// `ASSIGN_DEFAULT_CATEGORY`: the fallback when no keyword matches at all.
    pub default_category: String,
}

impl Default for AssignConfig {
    fn default() -> Self {
        Self {
            default_category: "software_engineer".into(),
        }
    }
}

/// Decides the category for `resume` (see the module docs). LLM failures become FALLBACK;
/// only database failures are errors.
pub async fn decide(
    db: &DatabaseConnection,
    llm: Option<&dyn Llm>,
    config: &AssignConfig,
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
    let llm_error = match llm {
        None => "the LLM is disabled (BEDROCK_LLM_ENABLED=false)".to_owned(),
        Some(llm) => match ask_llm(db, llm, resume, &categories).await {
            Ok(Ok(decision)) => return Ok(decision),
            Ok(Err(e)) => {
                tracing::warn!(kind = e.kind(), error = %e, "LLM category assignment failed");
                e.to_string()
            }
            Err(e) => return Err(e),
        },
    };
    Ok(fallback(&keywords, &categories, config, llm_error))
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

/// Steps 2 and 3. The outer error is the database's; the inner one the LLM's.
async fn ask_llm(
    db: &DatabaseConnection,
    llm: &dyn Llm,
    resume: &str,
    active: &[search_category::Model],
) -> Result<Result<Decision, LlmError>> {
    let slugs: Vec<String> = active.iter().map(|c| c.slug.to_string()).collect();
    let tool = choose_tool(&slugs);
    let reply = match llm
        .call_tool(ToolRequest {
            system: CHOOSE_SYSTEM,
            prompt: choose_prompt(resume, active),
            tool: &tool,
        })
        .await
    {
        Ok(reply) => reply,
        Err(e) => return Ok(Err(e)),
    };
    log_usage("choose_category", &reply);
    match str_field(&reply.input, "slug") {
        Some("none") => {}
        Some(slug) => {
            return Ok(match active.iter().find(|c| c.slug.as_str() == slug) {
                Some(c) => Ok(Decision::Assigned {
                    category_id: c.id,
                    method: AssignmentMethod::LlmExisting,
                    note: None,
                }),
                None => Err(LlmError::Malformed(format!(
                    "choose_category named {slug:?}, which is not an active category"
                ))),
            });
        }
        None => {
            return Ok(Err(LlmError::Malformed(
                "choose_category gave no slug".into(),
            )));
        }
    }

    let tool = propose_tool();
    let reply = match llm
        .call_tool(ToolRequest {
            system: PROPOSE_SYSTEM,
            prompt: propose_prompt(resume, active),
            tool: &tool,
        })
        .await
    {
        Ok(reply) => reply,
        Err(e) => return Ok(Err(e)),
    };
    log_usage("propose_category", &reply);
    let Some(slug) = str_field(&reply.input, "slug").and_then(clean_slug) else {
        return Ok(Err(LlmError::Malformed(format!(
            "propose_category gave no usable slug: {}",
            truncate_chars(&reply.input.to_string(), 200)
        ))));
    };
    let name = str_field(&reply.input, "name")
        .map(|n| truncate_chars(n, 100))
        .unwrap_or_else(|| slug.as_str().replace('_', " "));
    create_or_reuse(db, slug, name, string_list(&reply.input, "keywords", 10)).await
}

fn log_usage(tool: &str, reply: &crate::llm::ToolReply) {
    tracing::info!(
        tool,
        input_tokens = reply.usage.input_tokens,
        output_tokens = reply.usage.output_tokens,
        latency_ms = reply.latency.as_millis(),
        "LLM category call"
    );
}

/// Reuses a category whose slug or name has the same canonical form (active: LLM_EXISTING;
/// retired: an LLM error, since reviving a retired category is an admin's call); otherwise
/// creates it with origin LLM.
async fn create_or_reuse(
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
    let decision = decide(db, llm, config, &resume).await?;
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
                    Expr::value(AssignmentStatus::Assigned.as_str()),
                )
                .col_expr(user::Column::CategoryMethod, Expr::value(method.as_str()))
                .col_expr(user::Column::CategoryError, Expr::value(note.clone()));
            Outcome::Assigned {
                category_id: *category_id,
            }
        }
        Decision::Failed(message) => {
            update = update
                .col_expr(
                    user::Column::CategoryStatus,
                    Expr::value(AssignmentStatus::Failed.as_str()),
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
mod tests {
    use super::*;
    use entity::StringList;

    fn category(id: i64, slug: &str, keywords: &[&str]) -> search_category::Model {
        let now = Utc::now();
        search_category::Model {
            id,
            slug: slug.parse().expect("slug"),
            name: slug.replace('_', " "),
            search_terms: StringList(vec![]),
            keywords: StringList(keywords.iter().map(|k| (*k).to_owned()).collect()),
            location: None,
            is_active: true,
            origin: CategoryOrigin::Seed,
            created_at: now,
            updated_at: now,
        }
    }

    /// The seeded defaults, as stored.
    fn defaults() -> Vec<search_category::Model> {
        crate::catalog::default_models()
    }

    fn confident_slug(text: &str, categories: &[search_category::Model]) -> Option<String> {
        let m = keyword_match(text, categories);
        m.confident.map(|id| {
            categories
                .iter()
                .find(|c| c.id == id)
                .expect("id")
                .slug
                .to_string()
        })
    }

    #[test]
    fn headlines_decide_the_category_by_the_most_specific_keyword() {
        let cats = defaults();
        let table: [(&str, Option<&str>); 10] = [
            ("Mechanical Engineer", Some("mechanical_engineer")),
            ("Senior Data Engineer", None),
            ("Senior Software Engineer", Some("software_engineer")),
            ("Machine Learning Engineer", Some("data_scientist")),
            ("Backend Developer (Rust, Go)", Some("software_engineer")),
            ("Product Owner", Some("product_manager")),
            ("Mechanical Design Engineer", Some("mechanical_engineer")),
            ("Registered Nurse", None),
            ("Engineer", None),
            // Two categories at the same specificity: not confident.
            ("Software Engineer / Product Manager", None),
        ];
        for (title, expected) in table {
            assert_eq!(
                confident_slug(title, &cats).as_deref(),
                expected,
                "title {title:?}"
            );
        }
    }

    #[test]
    fn a_resume_is_judged_by_its_headline_not_by_a_skill_in_passing() {
        let cats = defaults();
        let resume = "Jane Roe\nSenior Data Engineer\n\nBuilt Spark and Airflow pipelines \
                      feeding the machine learning team; worked with software engineers.";
        let m = keyword_match(resume, &cats);
        assert_eq!(m.confident, None);
        // The fallback still has a best guess from the body.
        assert_eq!(m.best, Some(2));

        let mut with_de = cats.clone();
        with_de.push(category(
            5,
            "data_engineer",
            &["data engineer", "etl developer"],
        ));
        assert_eq!(
            confident_slug(resume, &with_de).as_deref(),
            Some("data_engineer")
        );
    }

    #[test]
    fn inactive_categories_and_partial_words_never_match() {
        let mut cats = defaults();
        cats[2].is_active = false;
        assert_eq!(confident_slug("Mechanical Engineer", &cats), None);
        // "cad" must not match inside "academy".
        let cats = defaults();
        assert_eq!(keyword_match("Academy teacher", &cats).best, None);
    }

    #[test]
    fn slugs_are_cleaned_and_compared_canonically() {
        assert_eq!(
            clean_slug("Senior ML-Engineer").map(|s| s.to_string()),
            Some("ml_engineer".into())
        );
        assert_eq!(
            clean_slug("data engineer").map(|s| s.to_string()),
            Some("data_engineer".into())
        );
        assert_eq!(clean_slug("Senior Lead").map(|s| s.to_string()), None);
        assert_eq!(clean_slug("123"), None);
        assert_eq!(
            canonical_slug("ml_engineer"),
            canonical_slug("machine_learning_engineer")
        );
        assert_eq!(
            canonical_slug("senior_sre"),
            canonical_slug("site_reliability_engineer")
        );
        assert_ne!(
            canonical_slug("data_engineer"),
            canonical_slug("data_scientist")
        );
        assert_eq!(canonical_slug("Software Engineering"), "software_engineer");
    }

    #[test]
    fn long_proposals_are_cut_on_a_word_boundary() {
        let long = "very_long_role_name_that_keeps_going_and_going_beyond_limits";
        let slug = clean_slug(long).expect("a slug");
        assert!(slug.as_str().len() <= 49, "{slug}");
        assert!(!slug.as_str().ends_with('_'));
    }
}
