//! Step 4 of assignment, with the LLM off or failing: the role the resume's title names
//! (its headline, else its most recent role) gets a category of its own when no active
//! category's keywords cover it — the title cleaned of seniority words, canonicalized against
//! existing slugs as the LLM's proposals are, origin TITLE, method TITLE. The name is a
//! title, not free text: at most four words of letters, seniority and filler dropped, never a
//! bare "Engineer" or "Manager"; and assignments create at most
//! `ASSIGN_MAX_NEW_CATEGORIES_PER_DAY` categories a day.

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
    "aspiring",
    "experienced",
    "seasoned",
    "passionate",
    "motivated",
    "future",
    "expert",
];

/// Words a category's name does not start with once seniority is gone ("Head of
/// Engineering").
const LEADING: &[&str] = &[
    "of", "the", "and", "a", "an", "for", "in", "at", "to", "with", "&",
];

/// Role nouns too broad to be a category alone ("Staff Engineer" names no field).
const TOO_BROAD: &[&str] = &[
    "engineer",
    "developer",
    "programmer",
    "manager",
    "analyst",
    "consultant",
    "specialist",
    "associate",
    "director",
    "officer",
    "assistant",
    "coordinator",
    "administrator",
    "architect",
    "scientist",
    "researcher",
    "designer",
    "representative",
    "agent",
    "advisor",
    "adviser",
    "technician",
    "technologist",
    "operator",
    "worker",
    "owner",
    "supervisor",
    "intern",
    "student",
    "lead",
    "professional",
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
    let mut kept: Vec<String> = main
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '+' && c != '#'))
        .filter(|w| !w.is_empty())
        .filter(|w| {
            let lower = w.to_lowercase();
            !SENIORITY.contains(&lower.as_str()) && !DROPPED.contains(&lower.as_str())
        })
        .map(display_word)
        .collect();
    while kept
        .first()
        .is_some_and(|w| LEADING.contains(&w.to_lowercase().as_str()))
    {
        kept.remove(0);
    }
    // A name of at most four words of letters (and the & + # . - of "C++", "R&D"): a title,
    // not a sentence, a link or an advertisement.
    let plain = |w: &String| {
        w.chars()
            .all(|c| c.is_alphabetic() || matches!(c, '&' | '+' | '#' | '.' | '-'))
    };
    if kept.is_empty() || kept.len() > 4 || !kept.iter().all(plain) {
        return None;
    }
    let name = kept.join(" ");
    let role = TitleRole::read(&name);
    if !role.names_a_role() {
        return None;
    }
    if let [only] = role.words.as_slice()
        && TOO_BROAD.contains(&only.as_str())
    {
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

/// The active categories one of whose keyword phrases occurs in `name` (whole words,
/// plurals aside).
fn covering(name: &str, categories: &[search_category::Model]) -> Vec<i64> {
    let have: Vec<String> = words(name).iter().map(|w| singular(w).to_owned()).collect();
    categories
        .iter()
        .filter(|c| c.is_active)
        .filter(|c| {
            c.keywords.0.iter().any(|k| {
                let phrase: Vec<String> = words(k).iter().map(|w| singular(w).to_owned()).collect();
                !phrase.is_empty() && have.windows(phrase.len()).any(|w| w == phrase.as_slice())
            })
        })
        .map(|c| c.id)
        .collect()
}

/// What step 4 came to.
#[derive(Debug)]
pub(super) enum ByTitle {
    Decided(Decision),
    /// No role to read, or one several categories cover: on to the fallback.
    NoRole,
    /// A role, but no category for it, and why (a retired category of the same role, the
    /// daily limit): on to the fallback with the reason.
    Refused(String),
}

/// Step 4; see the module docs. A title one active category covers is assigned to it
/// (KEYWORD: its keywords name the role, though the headline alone did not decide).
pub(super) async fn assign_by_title(
    db: &DatabaseConnection,
    resume: &str,
    categories: &[search_category::Model],
    daily_limit: u32,
) -> Result<ByTitle> {
    let Some(wanted) = title_category(resume) else {
        return Ok(ByTitle::NoRole);
    };
    match covering(&wanted.name, categories).as_slice() {
        [] => {}
        [category_id] => {
            return Ok(ByTitle::Decided(Decision::Assigned {
                category_id: *category_id,
                method: AssignmentMethod::Keyword,
                note: None,
            }));
        }
        _ => return Ok(ByTitle::NoRole),
    }
    let slug = wanted.slug.clone();
    let created = create_or_reuse(
        db,
        slug,
        wanted.name,
        wanted.keywords,
        CategoryOrigin::Title,
        daily_limit,
    )
    .await?;
    Ok(match created {
        Created::New(category_id) | Created::Existing(category_id) => {
            ByTitle::Decided(Decision::Assigned {
                category_id,
                method: AssignmentMethod::Title,
                note: None,
            })
        }
        Created::Refused(why) => {
            tracing::info!(slug = %wanted.slug, why, "no category from the resume's title");
            ByTitle::Refused(format!("no category was created from the title: {why}"))
        }
    })
}
