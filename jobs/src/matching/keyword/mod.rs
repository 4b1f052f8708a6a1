//! The deterministic keyword scorer: what a fresh install shows (the LLM is off by default)
//! and what every LLM failure falls back to. A lexical ranker that stands on its own, for any
//! profession, calibrated to the LLM rubric's bands so that a fallback score means what an
//! LLM score means (90+ meets every core requirement; 70–89 most; 50–69 related with clear
//! gaps; 30–49 adjacent; under 30 unrelated).
//!
//! For a (resume, listing) pair:
//! 1. **Terms** ([`listing`], [`corpus`]): every word and adjacent word pair of the listing,
//!    weighted BM25-style — inverse document frequency over the category's stored listings
//!    (words most listings share weigh near nothing) times saturated term frequency, where
//!    each occurrence counts by its section: requirements 1.5, the role 1.0, untitled intro
//!    0.7, "nice to have" 0.45, "about us" 0.1, benefits 0.05, equal-opportunity 0.02; a
//!    sentence three stored listings share verbatim (a blurb) weighs 5%. Lexicon skills
//!    ([`lexicon`]) weigh 1.5×. **Coverage** is the weight of the terms the resume has over
//!    the weight of all of them.
//! 2. **Role** ([`crate::roles`]): the listing's title against the resume's titles (headline
//!    and past roles, most recent first, each older one worth 10% less): 1 for the same
//!    specialty or the same words, 0.55 for a neighbour of the same family (analytics
//!    engineer for data engineer), 0.9 for a neighbour the listing says it welcomes; a
//!    generic "software engineer" opening 0.85 for a development specialist and a generic
//!    resume 0.5 for a development opening, 0.3 between the generic and other specialties,
//!    0.05 across families; for titles the table does not know (nurse, accountant) the share
//!    of the title's words the resume's title has, the head noun 0.4 and its qualifiers 0.6
//!    (halved when only one side is a known specialty). A people-manager opening for
//!    someone who never managed halves it; an individual-contributor opening for a current
//!    manager keeps 60%.
//! 3. **Fit** = 0.6 × role + 0.4 × min(1, coverage / [`FULL_COVERAGE`]); score = 100 × fit.
//! 4. **Level** both ways (intern … principal; from the listing's title words, else its
//!    required years as a floor; from the resume's current title, else enrollment, "new
//!    grad" or its years): one level off takes 8%; two or more cap the score at 25.
//! 5. **Hard requirements** ([`requirements`]) the listing states as required and the resume
//!    does not show — a security clearance, a language at a level, a PhD, current
//!    enrollment, a licence — cap the score at 25. Requirements the resume meets raise
//!    nothing.
//!
//! The reason names the evidence: the role comparison, the level, the matched and missing
//! terms, the cap. Deterministic: the same inputs give the same score and reason.
//!
//! - [`terms`]: words, stems, stopwords and term ids.
//! - [`corpus`]: document frequencies of terms and sentences.
//! - [`listing`]: a listing's sections, terms, role, level and requirements.
//! - [`resume`]: a resume's terms, titles, level and what it shows.
//! - [`requirements`]: hard requirements and whether a resume meets them.
//! - [`lexicon`]: the skills lexicon (a boost, and the names of matched/missing skills).

pub mod corpus;
pub mod lexicon;
pub mod listing;
pub mod requirements;
pub mod resume;
pub mod terms;

use std::sync::OnceLock;

pub use corpus::Corpus;
pub use lexicon::LEXICON;
pub use listing::{Listing, ListingLevel};
pub use resume::Resume;

use crate::roles::{Level, TitleRole};
use crate::text::truncate_chars;
use terms::{IdMap, phrase_id};

/// The coverage at which the terms part of the fit is full: a resume rarely holds more than
/// half the weight of a listing's words, even for the right job.
pub const FULL_COVERAGE: f32 = 0.3;
/// Share of the fit the role carries; the terms carry the rest.
const ROLE_SHARE: f64 = 0.6;
/// What an older title is worth beside the one before it.
const OLDER_TITLE: f64 = 0.9;
/// The role part for a neighbour the listing says it welcomes.
const ACCEPTED: f64 = 0.9;
/// What one level off keeps.
const ONE_LEVEL_OFF: f64 = 0.92;
/// The cap for two levels off, or a hard requirement the resume lacks.
const CAP: i16 = 25;

/// A keyword score with its explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct KeywordScore {
    pub score: i16,
    pub reason: String,
    pub matched: Vec<String>,
    pub missing: Vec<String>,
}

/// The lexicon's phrases by term id, built once.
pub(crate) fn lexicon_ids() -> &'static IdMap<&'static str> {
    static IDS: OnceLock<IdMap<&'static str>> = OnceLock::new();
    IDS.get_or_init(|| {
        LEXICON
            .iter()
            .filter_map(|t| phrase_id(t).map(|id| (id, *t)))
            .collect()
    })
}

/// Scores the text `resume` against a listing (prepares both each time; use [`Resume`],
/// [`Listing`] and [`score_listing`] for many pairs).
pub fn score_text(
    corpus: &Corpus,
    resume: &str,
    title: &str,
    description: &str,
    current_year: i32,
) -> KeywordScore {
    score(
        corpus,
        &Resume::new(resume, current_year),
        title,
        description,
    )
}

/// Scores a prepared resume against a listing's text.
pub fn score(corpus: &Corpus, resume: &Resume, title: &str, description: &str) -> KeywordScore {
    score_listing(resume, &Listing::new(corpus, title, description))
}

/// The share of the listing's term weight the resume holds.
fn coverage(listing: &Listing, resume: &Resume) -> f32 {
    let covered: f32 = listing
        .terms
        .iter()
        .filter(|(id, _)| resume.terms.contains(id))
        .map(|(_, w)| w)
        .sum();
    if listing.total > 0.0 {
        covered / listing.total
    } else {
        0.0
    }
}

/// How the listing's role compares with the resume's, with a phrase for the reason.
fn role_fit(listing: &Listing, resume: &Resume) -> (f64, String) {
    let wanted = &listing.title;
    let mut best = 0.0;
    let mut against: Option<&TitleRole> = None;
    let mut worth = 1.0;
    for title in &resume.titles {
        let mut s = wanted.similarity(title);
        if title
            .specialties
            .iter()
            .any(|t| listing.accepts.contains(t))
        {
            s = s.max(ACCEPTED);
        }
        let s = s * worth;
        if s > best {
            best = s;
            against = Some(title);
        }
        worth *= OLDER_TITLE;
    }
    if resume.titles.is_empty() && !wanted.words.is_empty() {
        // No title to read: the title's words anywhere in the resume, at most half.
        let found = wanted
            .words
            .iter()
            .filter(|w| resume.words.contains(&terms::hash_word(w)))
            .count();
        best = 0.5 * found as f64 / wanted.words.len() as f64;
    }
    let mut phrase = match against {
        Some(_) if best >= 0.95 => format!("same role ({})", wanted.describe()),
        Some(t) if best >= 0.4 => {
            format!("related role ({} vs {})", wanted.describe(), t.describe())
        }
        Some(t) => format!("different role ({} vs {})", wanted.describe(), t.describe()),
        None if resume.titles.is_empty() => "no title in the resume".to_owned(),
        None => format!(
            "different role ({} vs {})",
            wanted.describe(),
            resume.titles[0].describe()
        ),
    };
    if wanted.manager && !resume.managed {
        best *= 0.5;
        phrase.push_str(", a manager's role and the resume shows no managing");
    } else if !wanted.manager && resume.manager {
        best *= 0.6;
        phrase.push_str(", an individual contributor's role for a manager");
    }
    (best, phrase)
}

/// How far apart the levels are, `None` when the resume's is unknown; an unstated listing
/// level reads as anything from entry to staff.
fn level_gap(listing: Option<ListingLevel>, resume: Option<Level>) -> Option<u8> {
    let resume = resume?;
    Some(match listing {
        Some(l) => l.gap(resume),
        None if resume < Level::Entry => Level::Entry.distance(resume),
        None if resume > Level::Staff => Level::Staff.distance(resume),
        None => 0,
    })
}

/// Scores a prepared resume against a prepared listing; see the module docs.
pub fn score_listing(resume: &Resume, listing: &Listing) -> KeywordScore {
    if resume.empty {
        return KeywordScore {
            score: 0,
            reason: "resume empty".into(),
            matched: vec![],
            missing: vec![],
        };
    }
    // 1: coverage.
    let coverage = coverage(listing, resume);
    let terms_part = f64::from((coverage / FULL_COVERAGE).min(1.0));
    // 2–3: role and fit.
    let (role, role_phrase) = role_fit(listing, resume);
    let fit = ROLE_SHARE * role + (1.0 - ROLE_SHARE) * terms_part;
    let mut score = (fit * 100.0).round().clamp(0.0, 100.0);
    let mut caps: Vec<String> = Vec::new();
    // 4: level.
    let level_phrase = match (listing.level, resume.level) {
        (Some(l), Some(r)) => format!("{} listing, {} resume", l.level.name(), r.name()),
        (None, Some(r)) => format!("{} resume", r.name()),
        (Some(l), None) => format!("{} listing", l.level.name()),
        (None, None) => String::new(),
    };
    match level_gap(listing.level, resume.level) {
        Some(1) => score *= ONE_LEVEL_OFF,
        Some(gap) if gap >= 2 => caps.push(format!("levels too far apart ({level_phrase})")),
        _ => {}
    }
    let mut score = score.round() as i16;
    // 5: hard requirements.
    for blocker in &listing.blockers {
        if !resume.shown.meets(blocker) {
            caps.push(format!(
                "requires {}, which the resume does not show",
                blocker.describe()
            ));
        }
    }
    if !caps.is_empty() {
        score = score.min(CAP);
    }

    let (matched, missing) = evidence(listing, resume);
    let mut reason = String::new();
    if !caps.is_empty() {
        reason.push_str(&format!("Capped: {}. ", caps.join("; ")));
    }
    let mut first = role_phrase;
    if let Some(c) = first.get_mut(0..1) {
        c.make_ascii_uppercase();
    }
    reason.push_str(&first);
    if !level_phrase.is_empty() && caps.iter().all(|c| !c.starts_with("levels")) {
        reason.push_str(&format!("; {level_phrase}"));
    }
    reason.push_str(&format!(
        "; covers {:.0}% of the listing's weighted terms{}{}.",
        coverage * 100.0,
        list_part(": ", &matched),
        list_part("; missing ", &missing)
    ));
    KeywordScore {
        score,
        reason: truncate_chars(&reason, 300),
        matched: matched.into_iter().take(15).collect(),
        missing: missing.into_iter().take(15).collect(),
    }
}

/// The skills matched and missing, heaviest first: the lexicon's, else the listing's
/// heaviest requirement terms.
fn evidence(listing: &Listing, resume: &Resume) -> (Vec<String>, Vec<String>) {
    let mut matched = Vec::new();
    let mut missing = Vec::new();
    if listing.skills.is_empty() {
        for (id, surface) in &listing.key_terms {
            if resume.terms.contains(id) {
                matched.push(surface.clone());
            } else {
                missing.push(surface.clone());
            }
        }
    } else {
        for (skill, id) in &listing.skills {
            if resume.terms.contains(id) {
                matched.push((*skill).to_owned());
            } else {
                missing.push((*skill).to_owned());
            }
        }
    }
    (matched, missing)
}

fn list_part(prefix: &str, items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let shown: Vec<&str> = items.iter().take(5).map(String::as_str).collect();
    let more = if items.len() > 5 { ", …" } else { "" };
    format!("{prefix}{}{more}", shown.join(", "))
}

#[cfg(test)]
mod tests;
