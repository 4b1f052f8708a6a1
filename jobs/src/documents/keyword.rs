//! The deterministic tailoring, used without the LLM or when it fails: the resume's sections
//! as written, each entry's bullets and each group's skills most relevant to the listing
//! first, a summary line naming the role and the skills the listing asks for that the resume
//! shows, and the ones it lacks as suggestions (never as claims). For a cover letter: the
//! role, the resume's most relevant bullets quoted as evidence, and a closing.

use std::collections::HashMap;

use entity::tailored_document::DocumentChange;

use super::content::{Content, Letter, ResumeDoc, Summary};
use super::{Tailored, Target};
use crate::matching::keyword::terms::for_each_word;
use crate::text::matches_term;

/// How much each of the listing's words says about the role: title words weigh more.
#[derive(Debug, Clone)]
pub struct Relevance {
    weights: HashMap<String, f32>,
    skills: Vec<String>,
}

impl Relevance {
    pub fn new(target: &Target<'_>) -> Self {
        let mut weights: HashMap<String, f32> = HashMap::new();
        for (text, weight) in [(target.description, 1.0_f32), (target.title, 3.0)] {
            for_each_word(&text.to_lowercase(), |w| {
                if !w.stopword && w.stem.chars().count() > 1 {
                    let e = weights.entry(w.stem.to_owned()).or_default();
                    *e = e.max(weight);
                }
            });
        }
        Self {
            weights,
            skills: target.matched.clone(),
        }
    }

    /// The relevance of a bullet or a skill: its distinct words the listing uses, weighed, and
    /// the matched skills it names.
    pub fn of(&self, text: &str) -> f32 {
        let mut seen: Vec<String> = Vec::new();
        let mut score = 0.0;
        for_each_word(&text.to_lowercase(), |w| {
            if !seen.iter().any(|s| s == w.stem) {
                seen.push(w.stem.to_owned());
                score += self.weights.get(w.stem).copied().unwrap_or(0.0);
            }
        });
        score + 4.0 * self.skills.iter().filter(|s| matches_term(text, s)).count() as f32
    }
}

/// A stable sort of `items` by relevance, most relevant first; returns whether it moved any.
fn by_relevance(items: &mut [String], relevance: &Relevance) -> bool {
    let before = items.to_vec();
    items.sort_by(|a, b| relevance.of(b).total_cmp(&relevance.of(a)));
    before != items
}

/// "Rust, SQL and Docker".
pub fn join_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The summary line: the role, and the matched skills the resume shows.
fn summary_line(target: &Target<'_>) -> String {
    let shown: Vec<String> = target.matched.iter().take(5).cloned().collect();
    if shown.is_empty() {
        format!(
            "Applying for the {} role at {}.",
            target.title, target.company
        )
    } else {
        format!(
            "Applying for the {} role at {}, with experience in {}.",
            target.title,
            target.company,
            join_list(&shown)
        )
    }
}

fn suggestions(target: &Target<'_>) -> Vec<String> {
    suggestions_for(&target.missing)
}

/// What the user is told about skills the listing asks for and the resume lacks.
pub fn suggestions_for(missing: &[String]) -> Vec<String> {
    missing
        .iter()
        .map(|s| {
            format!(
                "The listing asks for {s}, which your resume does not show: add it only if you have it."
            )
        })
        .collect()
}

/// The deterministic tailoring of a resume.
pub fn tailor_resume(resume: &ResumeDoc, target: &Target<'_>) -> Tailored {
    let relevance = Relevance::new(target);
    let mut doc = resume.clone();
    let mut changes = Vec::new();
    let line = summary_line(target);
    let (heading, before, after) = match &resume.summary {
        Some(s) => (
            s.heading.clone(),
            Some(s.text.clone()),
            format!("{line} {}", s.text),
        ),
        None => ("Summary".to_owned(), None, line),
    };
    changes.push(DocumentChange {
        section: heading.clone(),
        before,
        after: after.clone(),
        why: "Names the role and the listing's skills that the resume shows.".into(),
    });
    doc.summary = Some(Summary {
        heading,
        text: after,
    });
    for (si, section) in doc.sections.iter_mut().enumerate() {
        for (ei, entry) in section.entries.iter_mut().enumerate() {
            let original = entry.bullets.clone();
            if !by_relevance(&mut entry.bullets, &relevance) {
                continue;
            }
            let place = resume.place(si, ei);
            let what = if section.skills { "skills" } else { "bullets" };
            changes.push(DocumentChange {
                section: place,
                before: Some(original.join(" | ")),
                after: entry.bullets.join(" | "),
                why: format!("Puts the {what} closest to the listing first."),
            });
        }
    }
    Tailored {
        content: Content::Resume(doc),
        changes,
        warnings: Vec::new(),
        suggestions: suggestions(target),
    }
}

/// A bullet as the middle of a sentence: its first letter lowered unless it starts a name
/// or an acronym, its final stop dropped.
fn as_clause(bullet: &str) -> String {
    let trimmed = bullet.trim().trim_end_matches(['.', ';']);
    let mut chars = trimmed.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if first.is_uppercase() && second.is_lowercase() => {
            let rest: String = trimmed.chars().skip(1).collect();
            format!("{}{rest}", first.to_lowercase())
        }
        _ => trimmed.to_owned(),
    }
}

/// The deterministic cover letter.
pub fn tailor_letter(resume: &ResumeDoc, target: &Target<'_>) -> Tailored {
    let relevance = Relevance::new(target);
    let mut ranked: Vec<(f32, usize, &str)> = resume
        .bullets()
        .enumerate()
        .map(|(i, (_, b))| (relevance.of(b), i, b))
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let evidence: Vec<&str> = ranked.iter().take(3).map(|(_, _, b)| *b).collect();
    let mut paragraphs =
        vec![summary_line(target).replacen("Applying for", "I am writing to apply for", 1)];
    let mut changes = vec![DocumentChange {
        section: "Paragraph 1".into(),
        before: None,
        after: paragraphs[0].clone(),
        why: "Names the role and the listing's skills that the resume shows.".into(),
    }];
    if !evidence.is_empty() {
        let clauses: Vec<String> = evidence.iter().map(|b| as_clause(b)).collect();
        let text = match clauses.split_last() {
            Some((last, [])) => format!("In my work so far I {last}."),
            Some((last, rest)) => {
                format!("In my work so far I {}; and {last}.", rest.join("; "))
            }
            None => String::new(),
        };
        changes.push(DocumentChange {
            section: "Paragraph 2".into(),
            before: None,
            after: text.clone(),
            why: format!(
                "Cites the resume's bullets closest to the listing: {}",
                evidence.join(" | ")
            ),
        });
        paragraphs.push(text);
    }
    paragraphs.push(format!(
        "I would welcome the chance to discuss how I could contribute to {}. Thank you for your time and consideration.",
        target.company
    ));
    Tailored {
        content: Content::CoverLetter(Letter {
            name: resume.name.clone(),
            contact: resume.contact.clone(),
            subject: format!("{} — {}", target.title, target.company),
            greeting: format!("Dear {} hiring team,", target.company),
            paragraphs,
            closing: "Sincerely,".into(),
        }),
        changes,
        warnings: Vec::new(),
        suggestions: suggestions(target),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target<'static> {
        Target {
            title: "Senior Rust Engineer",
            company: "Globex",
            description: "We build payment APIs in Rust on PostgreSQL. You will own services and on-call.",
            matched: vec!["Rust".into(), "PostgreSQL".into()],
            missing: vec!["Kafka".into()],
        }
    }

    const RESUME: &str = "Jane Doe\njane@example.com\n\nExperience\nEngineer, Acme (2019–2024)\n\
        - Organised the office move\n- Built payment APIs in Rust on PostgreSQL\n- Ran on-call for services\n\n\
        Skills\nExcel, Rust, Figma, PostgreSQL\n";

    #[test]
    fn relevant_bullets_and_skills_come_first_and_every_move_is_a_change() {
        let t = tailor_resume(&ResumeDoc::parse(RESUME), &target());
        let Content::Resume(doc) = &t.content else {
            panic!("a resume")
        };
        assert_eq!(
            doc.sections[0].entries[0].bullets,
            [
                "Built payment APIs in Rust on PostgreSQL",
                "Ran on-call for services",
                "Organised the office move"
            ]
        );
        assert_eq!(
            doc.sections[1].entries[0].bullets,
            ["Rust", "PostgreSQL", "Excel", "Figma"]
        );
        let summary = doc.summary.as_ref().expect("a summary");
        assert_eq!(
            summary.text,
            "Applying for the Senior Rust Engineer role at Globex, with experience in Rust and PostgreSQL."
        );
        assert_eq!(t.changes.len(), 3, "{:?}", t.changes);
        assert_eq!(
            t.changes[1].section,
            "Experience — Engineer, Acme (2019–2024)"
        );
        assert!(t.suggestions[0].contains("Kafka"), "{:?}", t.suggestions);
        // The summary claims only what the resume shows.
        let facts = super::super::facts::Facts::new(RESUME, "Senior Rust Engineer Globex");
        assert_eq!(facts.unsupported(&summary.text, true), Vec::<String>::new());
    }

    #[test]
    fn the_letter_cites_the_most_relevant_bullets() {
        let t = tailor_letter(&ResumeDoc::parse(RESUME), &target());
        let Content::CoverLetter(letter) = &t.content else {
            panic!("a letter")
        };
        assert_eq!(letter.paragraphs.len(), 3);
        assert!(
            letter.paragraphs[1]
                .starts_with("In my work so far I built payment APIs in Rust on PostgreSQL; "),
            "{}",
            letter.paragraphs[1]
        );
        assert!(letter.greeting.contains("Globex"));
        let facts = super::super::facts::Facts::new(RESUME, "Senior Rust Engineer Globex");
        for p in &letter.paragraphs {
            assert_eq!(facts.unsupported(p, true), Vec::<String>::new(), "{p}");
        }
    }
}
