//! What a tailored text may claim: only what the resume says. [`Facts`] holds the resume's
//! words and numbers; [`Facts::unsupported`] lists what a proposed text brings in that the
//! resume does not contain — a number or date, a capitalised name (an employer, a title, a
//! degree, a certification, a month), or a skill of the scorer's lexicon — so the edit can be
//! dropped and the user told why.

use std::collections::HashSet;

use crate::matching::keyword::lexicon::LEXICON;
use crate::roles::{self, ROLE_NOUNS};
use crate::text::{SENIORITY, matches_term, words};

/// The resume's facts, read once per document.
#[derive(Debug, Clone)]
pub struct Facts {
    words: HashSet<String>,
    numbers: HashSet<String>,
    text: String,
    /// Words a cover letter or summary may name without claiming them: the listing's title
    /// and company ("I am applying for the Staff Engineer role at Acme").
    target: HashSet<String>,
}

/// Common capitalised words that claim nothing.
const HARMLESS: &[&str] = &[
    "i",
    "i'm",
    "i've",
    "i'd",
    "i'll",
    "dear",
    "sincerely",
    "regards",
];

/// The numbers in a text: digit runs with their decimal part (`1.5`, `40`, `2019`).
fn numbers(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut run = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let decimal = (c == '.' || c == ',')
            && !run.is_empty()
            && chars.get(i + 1).is_some_and(char::is_ascii_digit);
        if c.is_ascii_digit() || decimal {
            if c != ',' {
                run.push(c);
            }
        } else if !run.is_empty() {
            out.push(std::mem::take(&mut run));
        }
    }
    if !run.is_empty() {
        out.push(run);
    }
    out
}

fn stem(word: &str) -> &str {
    crate::matching::keyword::terms::stem(word)
}

impl Facts {
    /// The facts of `resume`; `target` is the listing's title and company.
    pub fn new(resume: &str, target: &str) -> Self {
        let words_of = |t: &str| -> HashSet<String> {
            words(t)
                .into_iter()
                .flat_map(|w| [stem(&w).to_owned(), w])
                .collect()
        };
        Self {
            words: words_of(resume),
            numbers: numbers(resume).into_iter().collect(),
            text: resume.to_lowercase(),
            target: words_of(target),
        }
    }

    fn known(&self, word: &str, allow_target: bool) -> bool {
        let lowered = word.to_lowercase();
        let stemmed = stem(&lowered);
        self.words.contains(&lowered)
            || self.words.contains(stemmed)
            || allow_target && (self.target.contains(&lowered) || self.target.contains(stemmed))
    }

    /// What `text` states that the resume does not: each number, name or skill once, as
    /// written. `allow_target` lets the listing's title and company words through (a
    /// summary or a letter names the role it is for; a bullet does not).
    pub fn unsupported(&self, text: &str, allow_target: bool) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut push = |s: String| {
            if !out.iter().any(|o| o.eq_ignore_ascii_case(&s)) {
                out.push(s);
            }
        };
        for n in numbers(text) {
            if !self.numbers.contains(&n) {
                push(n);
            }
        }
        let mut sentence_start = true;
        for raw in text.split_whitespace() {
            let token = raw.trim_matches(|c: char| !(c.is_alphanumeric() || c == '+' || c == '#'));
            let ends_sentence = raw.ends_with(['.', '!', '?', ':']);
            if token.is_empty() || token.chars().any(|c| c.is_ascii_digit()) {
                sentence_start = ends_sentence || sentence_start && token.is_empty();
                continue;
            }
            let first_upper = token.chars().next().is_some_and(char::is_uppercase);
            let inner_upper = token.chars().skip(1).any(char::is_uppercase);
            let symbols = token.contains(['+', '#']);
            let lowered = token.to_lowercase();
            // A sentence's first word is capitalised anyway; it is checked when it names a
            // level or a role ("Principal engineer …"), which a verb ("Led …") does not.
            let titled = sentence_start
                && (SENIORITY.contains(&lowered.as_str())
                    || ROLE_NOUNS.contains(&roles::singular(&lowered)));
            let names_something =
                (first_upper && !sentence_start) || inner_upper || symbols || titled;
            if names_something
                && !HARMLESS.contains(&lowered.as_str())
                && token.chars().count() > 1
                && !self.known(token, allow_target)
            {
                // Possessives and hyphenated names are checked by their parts.
                let parts: Vec<&str> = token
                    .split(['-', '/', '\''])
                    .filter(|p| p.chars().count() > 1 && *p != "s")
                    .collect();
                if parts.is_empty() || parts.iter().any(|p| !self.known(p, allow_target)) {
                    push(token.to_owned());
                }
            }
            sentence_start = ends_sentence;
        }
        let lowered = text.to_lowercase();
        for term in LEXICON {
            if matches_term(&lowered, term) && !matches_term(&self.text, term) {
                let allowed = allow_target && words(term).iter().all(|w| self.target.contains(w));
                if !allowed {
                    push((*term).to_owned());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESUME: &str = "Jane Doe\nSenior Engineer, Acme Corp (2019–2024)\n- Built a Rust API serving 2,000 requests/s\n- Cut costs by 30%\nSkills: Rust, PostgreSQL, Docker\nBSc Computer Science";

    #[test]
    fn the_resumes_own_facts_pass() {
        let facts = Facts::new(RESUME, "Backend Engineer Globex");
        for ok in [
            "Built a Rust API at Acme Corp serving 2,000 requests/s.",
            "Cut costs by 30% with PostgreSQL and Docker.",
            "Senior engineer with a BSc in Computer Science, 2019 to 2024.",
        ] {
            assert_eq!(facts.unsupported(ok, false), Vec::<String>::new(), "{ok}");
        }
        assert_eq!(
            facts.unsupported(
                "I am applying for the Backend Engineer role at Globex.",
                true
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn invented_employers_numbers_titles_degrees_and_skills_are_caught() {
        let facts = Facts::new(RESUME, "Backend Engineer Globex");
        assert_eq!(
            facts.unsupported("Led a team of 12 at Google, cutting latency by 45%.", false),
            ["12", "45", "Google"]
        );
        assert_eq!(
            facts.unsupported("Principal Engineer with an MBA and AWS Certified.", false),
            ["Principal", "MBA", "AWS", "Certified"]
        );
        assert_eq!(
            facts.unsupported("Deployed services on kubernetes.", false),
            ["kubernetes"]
        );
        // The listing's company is no employer of a bullet's.
        assert_eq!(
            facts.unsupported("Built the API for Globex.", false),
            ["Globex"]
        );
        assert_eq!(
            facts.unsupported("Started in May 2018.", false),
            ["2018", "May"]
        );
    }
}
