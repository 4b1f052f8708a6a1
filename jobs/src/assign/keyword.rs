//! Step 1 of assignment: every active category's keywords looked for in the resume as
//! whole-word phrases, the headline (its first short lines) deciding.

use entity::search_category;

use crate::text::words;

/// Lines at the top of a resume looked at for its headline.
const HEADLINE_LINES: usize = 3;
/// Longest line (in words) taken as part of the headline: a title, not a sentence.
const HEADLINE_LINE_WORDS: usize = 8;

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
