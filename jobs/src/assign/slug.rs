//! Category slugs from free text: a proposed slug made valid ([`clean_slug`]) and the
//! canonical form two slugs or names are compared in ([`canonical_slug`]).

use entity::CategorySlug;

use crate::text::SENIORITY;

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
