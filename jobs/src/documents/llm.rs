//! Tailoring through the LLM: the versioned prompts, the forced tools, and the checking of
//! every proposed edit against the resume. The model sees the resume with an id on every
//! bullet and answers with structured edits (a summary for the role, bullets by id in the
//! order that fits and reworded, the resume's skills ordered, or a letter's paragraphs with
//! the bullets each cites). The document is then rebuilt from the resume's own structure, so
//! employers, titles and dates stay as written; a text that states a number, a name or a skill
//! the resume does not contain is dropped and named in a warning.

use std::collections::HashMap;

use entity::tailored_document::DocumentChange;
use serde_json::json;

use super::content::{Content, Letter, ResumeDoc, Summary};
use super::facts::Facts;
use super::keyword::{self, join_list};
use super::{Tailored, Target};
use crate::llm::{Llm, LlmError, Purpose, Tool, ToolRequest, Usage, str_field, string_list};
use crate::text::truncate_chars;

/// Characters of a listing's description sent to the LLM.
const DESCRIPTION_CHARS: usize = 6_000;
const SUMMARY_CHARS: usize = 600;
const BULLET_CHARS: usize = 400;
const PARAGRAPH_CHARS: usize = 1_500;
const MAX_PARAGRAPHS: usize = 6;
/// Output tokens a tailoring may use: a reworded resume is longer than a score.
const TAILOR_MAX_TOKENS: i32 = 4_096;

/// The rules both prompts share. Changing them changes documents: bump
/// [`super::TAILOR_PROMPT_VERSION`].
const HONESTY: &str = "Use only facts the resume states. Never add an employer, job title, \
date, degree, certification, number or skill that the resume does not contain, and never \
make a number bigger. Skills the listing asks for that the resume lacks go in missing_skills, \
never into the text. Write in the language of the listing. Answer only by calling the tool.";

pub fn resume_system() -> String {
    format!(
        "You tailor a candidate's resume to one job listing. Propose: a summary of at most three \
         sentences for this role; the resume's bullets, by id, in the order that fits the listing \
         best (within their entry), each reworded only to put its relevant facts first; the \
         resume's skills, most relevant first; and for each change why it helps. {HONESTY}"
    )
}

pub fn letter_system() -> String {
    format!(
        "You write a cover letter for a candidate applying to one job listing: two to four \
         paragraphs (no greeting, no sign-off), each citing by id the resume bullets it relies \
         on. {HONESTY}"
    )
}

fn resume_tool() -> Tool {
    Tool {
        name: "tailor_resume",
        description: "Record the edits that tailor the resume to the listing.",
        schema: json!({
            "type": "object",
            "properties": {
                "summary": {
                    "type": "object",
                    "properties": {
                        "text": {"type": "string", "maxLength": SUMMARY_CHARS},
                        "why": {"type": "string"}
                    },
                    "required": ["text", "why"]
                },
                "bullets": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string"},
                            "text": {"type": "string", "maxLength": BULLET_CHARS},
                            "why": {"type": "string"}
                        },
                        "required": ["id", "text"]
                    }
                },
                "skills": {"type": "array", "items": {"type": "string"}},
                "missing_skills": {"type": "array", "items": {"type": "string"}, "maxItems": 15}
            },
            "required": ["summary", "bullets", "skills", "missing_skills"]
        }),
    }
}

fn letter_tool() -> Tool {
    Tool {
        name: "write_cover_letter",
        description: "Record the cover letter's paragraphs and the evidence each cites.",
        schema: json!({
            "type": "object",
            "properties": {
                "paragraphs": {
                    "type": "array",
                    "maxItems": MAX_PARAGRAPHS,
                    "items": {
                        "type": "object",
                        "properties": {
                            "text": {"type": "string", "maxLength": PARAGRAPH_CHARS},
                            "evidence": {"type": "array", "items": {"type": "string"}}
                        },
                        "required": ["text", "evidence"]
                    }
                },
                "missing_skills": {"type": "array", "items": {"type": "string"}, "maxItems": 15}
            },
            "required": ["paragraphs", "missing_skills"]
        }),
    }
}

/// The resume as the model sees it: every bullet with an id (`B1`, `B2`, …).
fn resume_for_prompt(resume: &ResumeDoc) -> (String, HashMap<String, (usize, usize, usize)>) {
    let mut out = String::new();
    let mut ids = HashMap::new();
    out.push_str(&resume.name);
    out.push('\n');
    for line in &resume.contact {
        out.push_str(line);
        out.push('\n');
    }
    if let Some(s) = &resume.summary {
        out.push_str(&format!("\n{}\n{}\n", s.heading, s.text));
    }
    let mut n = 0;
    for (si, section) in resume.sections.iter().enumerate() {
        out.push_str(&format!("\n{}\n", section.heading));
        for (ei, entry) in section.entries.iter().enumerate() {
            if section.skills {
                let label = entry
                    .lines
                    .first()
                    .map(|l| format!("{l}: "))
                    .unwrap_or_default();
                out.push_str(&format!("{label}{}\n", entry.bullets.join(", ")));
                continue;
            }
            for line in &entry.lines {
                out.push_str(line);
                out.push('\n');
            }
            for (bi, bullet) in entry.bullets.iter().enumerate() {
                n += 1;
                let id = format!("B{n}");
                out.push_str(&format!("  [{id}] {bullet}\n"));
                ids.insert(id, (si, ei, bi));
            }
        }
    }
    (out, ids)
}

/// The user message: the listing and the resume with its bullet ids.
pub fn prompt(resume: &ResumeDoc, target: &Target<'_>) -> String {
    let (text, _) = resume_for_prompt(resume);
    format!(
        "Job listing\nTitle: {}\nCompany: {}\n<listing>\n{}\n</listing>\n\nCandidate resume\n<resume>\n{}</resume>",
        target.title,
        target.company,
        truncate_chars(target.description, DESCRIPTION_CHARS),
        truncate_chars(&text, crate::assign::RESUME_CHARS_FOR_LLM),
    )
}

fn dropped(what: &str, claims: &[String]) -> String {
    let quoted: Vec<String> = claims.iter().map(|c| format!("\"{c}\"")).collect();
    format!(
        "Dropped {what}: it states {}, which the resume does not contain.",
        join_list(&quoted)
    )
}

/// Normalises an id the model wrote ("b3", "[B3]").
fn id_of(raw: &str) -> String {
    raw.trim().trim_matches(['[', ']']).to_uppercase()
}

/// Applies the model's resume edits to `resume`, keeping only what the resume supports.
pub fn apply_resume(
    resume: &ResumeDoc,
    target: &Target<'_>,
    facts: &Facts,
    input: &serde_json::Value,
) -> Result<Tailored, LlmError> {
    let (_, ids) = resume_for_prompt(resume);
    let bullets = input
        .get("bullets")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| LlmError::Malformed("the edits have no bullets list".into()))?;
    let summary = input
        .get("summary")
        .and_then(|s| str_field(s, "text").map(|t| (t, str_field(s, "why"))))
        .ok_or_else(|| LlmError::Malformed("the edits have no summary".into()))?;
    let mut doc = resume.clone();
    let mut changes = Vec::new();
    let mut warnings = Vec::new();

    let (heading, before) = match &resume.summary {
        Some(s) => (s.heading.clone(), Some(s.text.clone())),
        None => ("Summary".to_owned(), None),
    };
    let text = truncate_chars(summary.0, SUMMARY_CHARS);
    let claims = facts.unsupported(&text, true);
    let (text, why) = if claims.is_empty() {
        (
            text,
            summary.1.unwrap_or("A summary for this role.").to_owned(),
        )
    } else {
        warnings.push(dropped("the proposed summary", &claims));
        let fallback = keyword::tailor_resume(resume, target);
        let Content::Resume(kept) = fallback.content else {
            return Err(LlmError::Malformed("the fallback is not a resume".into()));
        };
        let text = kept.summary.map(|s| s.text).unwrap_or_default();
        (
            text,
            "The proposed summary was dropped; this one names the role and the matched skills."
                .to_owned(),
        )
    };
    changes.push(DocumentChange {
        section: heading.clone(),
        before,
        after: text.clone(),
        why,
    });
    doc.summary = Some(Summary { heading, text });

    // Bullets: the model's order within each entry, its wording where the resume supports it.
    let mut rank: HashMap<(usize, usize, usize), usize> = HashMap::new();
    let mut texts: HashMap<(usize, usize, usize), String> = HashMap::new();
    for (position, item) in bullets.iter().enumerate() {
        let Some(id) = item
            .get("id")
            .and_then(serde_json::Value::as_str)
            .map(id_of)
        else {
            continue;
        };
        let Some(&place) = ids.get(&id) else {
            warnings.push(format!(
                "Ignored an edit of {id}: the resume has no such bullet."
            ));
            continue;
        };
        rank.entry(place).or_insert(position);
        let Some(new) = str_field(item, "text").map(|t| truncate_chars(t, BULLET_CHARS)) else {
            continue;
        };
        let (si, ei, bi) = place;
        let original = &resume.sections[si].entries[ei].bullets[bi];
        if new == *original {
            continue;
        }
        let claims = facts.unsupported(&new, false);
        if claims.is_empty() {
            changes.push(DocumentChange {
                section: resume.place(si, ei),
                before: Some(original.clone()),
                after: new.clone(),
                why: str_field(item, "why")
                    .unwrap_or("Reworded for this role.")
                    .to_owned(),
            });
            texts.insert(place, new);
        } else {
            warnings.push(dropped(
                &format!("the rewording of \"{original}\""),
                &claims,
            ));
        }
    }
    for (si, section) in doc.sections.iter_mut().enumerate() {
        if section.skills {
            continue;
        }
        for (ei, entry) in section.entries.iter_mut().enumerate() {
            let mut order: Vec<usize> = (0..entry.bullets.len()).collect();
            order.sort_by_key(|&bi| rank.get(&(si, ei, bi)).copied().unwrap_or(usize::MAX));
            let moved = order.iter().enumerate().any(|(i, &bi)| i != bi);
            entry.bullets = order
                .iter()
                .map(|&bi| {
                    texts
                        .get(&(si, ei, bi))
                        .cloned()
                        .unwrap_or_else(|| entry.bullets[bi].clone())
                })
                .collect();
            if moved {
                let originals = &resume.sections[si].entries[ei].bullets;
                changes.push(DocumentChange {
                    section: resume.place(si, ei),
                    before: Some(originals.join(" | ")),
                    after: order
                        .iter()
                        .map(|&bi| originals[bi].as_str())
                        .collect::<Vec<_>>()
                        .join(" | "),
                    why: "Puts the bullets closest to the listing first.".into(),
                });
            }
        }
    }

    // Skills: the model's order; a skill the resume does not list is dropped.
    let proposed = string_list(input, "skills", 200);
    let mut skill_rank: HashMap<String, usize> = HashMap::new();
    let known: Vec<String> = resume.skills().map(str::to_lowercase).collect();
    for (i, skill) in proposed.iter().enumerate() {
        let lowered = skill.to_lowercase();
        if known.contains(&lowered) {
            skill_rank.entry(lowered).or_insert(i);
        } else {
            warnings.push(format!(
                "Dropped the skill \"{skill}\": the resume does not list it."
            ));
        }
    }
    for (si, section) in doc.sections.iter_mut().enumerate() {
        if !section.skills {
            continue;
        }
        for (ei, entry) in section.entries.iter_mut().enumerate() {
            let before = entry.bullets.clone();
            entry.bullets.sort_by_key(|s| {
                skill_rank
                    .get(&s.to_lowercase())
                    .copied()
                    .unwrap_or(usize::MAX)
            });
            if before != entry.bullets {
                changes.push(DocumentChange {
                    section: resume.place(si, ei),
                    before: Some(before.join(" | ")),
                    after: entry.bullets.join(" | "),
                    why: "Puts the skills the listing asks for first.".into(),
                });
            }
        }
    }
    Ok(Tailored {
        content: Content::Resume(doc),
        changes,
        warnings,
        suggestions: missing(input, target),
    })
}

/// The listing's skills the model found missing (or, when it names none, the scorer's).
fn missing(input: &serde_json::Value, target: &Target<'_>) -> Vec<String> {
    let named = string_list(input, "missing_skills", 15);
    let skills = if named.is_empty() {
        target.missing.clone()
    } else {
        named
    };
    keyword::suggestions_for(&skills)
}

/// Applies the model's letter, keeping only paragraphs the resume supports.
pub fn apply_letter(
    resume: &ResumeDoc,
    target: &Target<'_>,
    facts: &Facts,
    input: &serde_json::Value,
) -> Result<Tailored, LlmError> {
    let (_, ids) = resume_for_prompt(resume);
    let items = input
        .get("paragraphs")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| LlmError::Malformed("the letter has no paragraphs".into()))?;
    let mut paragraphs = Vec::new();
    let mut changes = Vec::new();
    let mut warnings = Vec::new();
    for item in items.iter().take(MAX_PARAGRAPHS) {
        let Some(text) = str_field(item, "text").map(|t| truncate_chars(t, PARAGRAPH_CHARS)) else {
            continue;
        };
        let claims = facts.unsupported(&text, true);
        if !claims.is_empty() {
            warnings.push(dropped(
                &format!("paragraph {}", paragraphs.len() + 1 + warnings.len()),
                &claims,
            ));
            continue;
        }
        let cited: Vec<&str> = item
            .get("evidence")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_str)
            .filter_map(|id| ids.get(&id_of(id)))
            .map(|&(si, ei, bi)| resume.sections[si].entries[ei].bullets[bi].as_str())
            .collect();
        let why = if cited.is_empty() {
            "Cites no bullet of the resume.".to_owned()
        } else {
            format!("Cites: {}", cited.join(" | "))
        };
        paragraphs.push(text.clone());
        changes.push(DocumentChange {
            section: format!("Paragraph {}", paragraphs.len()),
            before: None,
            after: text,
            why,
        });
    }
    if paragraphs.is_empty() {
        return Err(LlmError::Malformed(format!(
            "no paragraph of the letter was usable ({})",
            if warnings.is_empty() {
                "none given".to_owned()
            } else {
                warnings.join(" ")
            }
        )));
    }
    Ok(Tailored {
        content: Content::CoverLetter(Letter {
            name: resume.name.clone(),
            contact: resume.contact.clone(),
            subject: format!("{} — {}", target.title, target.company),
            greeting: format!("Dear {} hiring team,", target.company),
            paragraphs,
            closing: "Sincerely,".into(),
        }),
        changes,
        warnings,
        suggestions: missing(input, target),
    })
}

/// Tailors through the LLM: one call, its answer checked and applied.
pub async fn tailor(
    llm: &dyn Llm,
    user_id: Option<i64>,
    kind: entity::DocumentKind,
    resume: &ResumeDoc,
    target: &Target<'_>,
    facts: &Facts,
) -> Result<(Tailored, Usage), LlmError> {
    let (system, tool) = match kind {
        entity::DocumentKind::Resume => (resume_system(), resume_tool()),
        entity::DocumentKind::CoverLetter => (letter_system(), letter_tool()),
    };
    let reply = llm
        .call_tool(ToolRequest {
            user_id,
            max_tokens: Some(TAILOR_MAX_TOKENS),
            ..ToolRequest::new(Purpose::Tailor, &system, &tool, prompt(resume, target))
        })
        .await?;
    let tailored = match kind {
        entity::DocumentKind::Resume => apply_resume(resume, target, facts, &reply.input)?,
        entity::DocumentKind::CoverLetter => apply_letter(resume, target, facts, &reply.input)?,
    };
    Ok((tailored, reply.usage))
}
