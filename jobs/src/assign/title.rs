//! Step 4 of assignment, with the LLM off or failing: the role the resume's title names
//! (its headline, else its most recent role) gets a category of its own when no active
//! category's keywords cover it — the title cleaned of seniority words, canonicalized against
//! existing slugs as the LLM's proposals are, origin TITLE, method TITLE.

use entity::{AssignmentMethod, CategoryOrigin, CategorySlug, search_category};
use sea_orm::DatabaseConnection;

use super::Decision;
use super::create::{Created, create_or_reuse};
use super::slug::clean_slug;
use crate::Result;
use crate::roles::{self, ROLE_NOUNS, SPECIALTIES, TitleRole, singular};
use crate::text::{SENIORITY, words};

/// Words a category's name leaves out of a title, beside [`SENIORITY`].
const DROPPED: &[&str] = &[
    "ii",
    "iii",
    "iv",
    "new",
    "grad",
    "graduate",
    "mid",
    "remote",
    "hybrid",
    "contract",
    "freelance",
    "sr.",
    "jr.",
];

/// The category a resume's title asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleCategory {
    /// Display name: the title without seniority ("Registered Nurse").
    pub name: String,
    pub slug: CategorySlug,
    /// Title phrases that identify the role: the name, and a known specialty's titles.
    pub keywords: Vec<String>,
}

/// The role the resume's first title names, cleaned for a category; `None` when no title
/// names a role ("Curriculum Vitae", a name alone) or nothing is left once cleaned.
pub fn title_category(resume: &str) -> Option<TitleCategory> {
    let title = roles::resume_titles(resume).into_iter().next()?;
    // "Software Engineer, Backend" is a software engineer's category.
    let main = title.split(',').next().unwrap_or(&title);
    let kept: Vec<String> = main
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '+' && c != '#'))
        .filter(|w| !w.is_empty())
        .filter(|w| {
            let lower = w.to_lowercase();
            !SENIORITY.contains(&lower.as_str()) && !DROPPED.contains(&lower.as_str())
        })
        .map(display_word)
        .collect();
    if kept.is_empty() || kept.len() > 5 {
        return None;
    }
    let name = kept.join(" ");
    let role = TitleRole::read(&name);
    if !role.names_a_role() {
        return None;
    }
    let slug = clean_slug(&name)?;
    let mut keywords = vec![name.to_lowercase()];
    for i in &role.specialties {
        for pattern in SPECIALTIES[*i].patterns {
            let last = pattern.split(' ').next_back().unwrap_or_default();
            if pattern.contains(' ')
                && ROLE_NOUNS.contains(&last)
                && !keywords.iter().any(|k| k == pattern)
            {
                keywords.push((*pattern).to_owned());
            }
        }
    }
    keywords.truncate(10);
    Some(TitleCategory {
        name,
        slug,
        keywords,
    })
}

/// A word as a category name shows it: acronyms kept, shouting and lowercase title-cased.
fn display_word(word: &str) -> String {
    let letters: Vec<char> = word.chars().filter(|c| c.is_alphabetic()).collect();
    let all_upper = letters.iter().all(|c| c.is_uppercase());
    if all_upper && letters.len() <= 4 {
        return word.to_owned(); // RN, QA, iOS-like acronyms
    }
    let lower = word.to_lowercase();
    if lower == "ios" {
        return "iOS".to_owned();
    }
    let mut chars = lower.chars();
    chars
        .next()
        .map(|f| f.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Whether an active category's keyword phrase occurs in `name` (whole words, plurals aside).
fn covered(name: &str, categories: &[search_category::Model]) -> bool {
    let have: Vec<String> = words(name).iter().map(|w| singular(w).to_owned()).collect();
    categories.iter().filter(|c| c.is_active).any(|c| {
        c.keywords.0.iter().any(|k| {
            let phrase: Vec<String> = words(k).iter().map(|w| singular(w).to_owned()).collect();
            !phrase.is_empty() && have.windows(phrase.len()).any(|w| w == phrase.as_slice())
        })
    })
}

/// Step 4; `None` to go on to the fallback (no role read, a role a category covers, or a
/// retired category of the same role).
pub(super) async fn assign_by_title(
    db: &DatabaseConnection,
    resume: &str,
    categories: &[search_category::Model],
) -> Result<Option<Decision>> {
    let Some(wanted) = title_category(resume) else {
        return Ok(None);
    };
    if covered(&wanted.name, categories) {
        return Ok(None);
    }
    let slug = wanted.slug.clone();
    Ok(
        match create_or_reuse(
            db,
            slug,
            wanted.name,
            wanted.keywords,
            CategoryOrigin::Title,
        )
        .await?
        {
            Created::New(category_id) | Created::Existing(category_id) => {
                Some(Decision::Assigned {
                    category_id,
                    method: AssignmentMethod::Title,
                    note: None,
                })
            }
            Created::Refused(why) => {
                tracing::info!(slug = %wanted.slug, why, "no category from the resume's title");
                None
            }
        },
    )
}
