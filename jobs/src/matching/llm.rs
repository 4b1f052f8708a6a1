//! Scoring listings for one resume through the LLM, several per call: the rubric, the forced
//! tool, the prompt (rubric, then the resume as the cacheable prefix, then the listings), the
//! validation of every entry of the answer, and the splitting of a batch that fails as a whole.

use std::collections::HashMap;

use entity::job_listing;
use serde_json::json;

use crate::llm::{Llm, LlmError, Purpose, Tool, ToolRequest, Usage, str_field, string_list};
use crate::text::truncate_chars;

/// Bumped whenever the rubric or the meaning of a score changes: every stored LLM score becomes
/// stale and is redone. (Batching changed how listings are sent, not what a score means.)
pub const MATCH_PROMPT_VERSION: &str = "match-v1";
/// Characters of a listing's description sent to the LLM.
pub const DESCRIPTION_CHARS_FOR_LLM: usize = 6_000;
/// Answer tokens allowed per listing of a batch (a score, a 300-character reason, two short
/// skill lists), and for the answer's frame.
const ANSWER_TOKENS_PER_LISTING: i32 = 320;
const ANSWER_TOKENS_FRAME: i32 = 200;

/// The rubric. Changing it changes scores: bump [`MATCH_PROMPT_VERSION`].
pub const SCORE_SYSTEM: &str = "You are an experienced recruiter. Score how well the \
candidate fits each job listing, from 0 to 100, using only the resume and that listing. \
Rubric: 90-100 meets every core requirement with direct evidence; 70-89 meets most core \
requirements, gaps are minor or learnable; 50-69 related background with clear gaps; 30-49 \
adjacent field, major gaps; 0-29 unrelated. Weigh the role's core skills and seniority over \
nice-to-haves. Judge every listing on its own, never against the others. Each reason (at \
most 300 characters) must cite evidence from the resume. List the listing's skills the \
resume shows (matched_skills) and the important ones it lacks (missing_skills). Answer only \
by calling the tool, with exactly one entry per listing id.";

fn score_tool(count: usize) -> Tool {
    Tool {
        name: "record_matches",
        description: "Record the fit between the resume and each job listing.",
        schema: json!({
            "type": "object",
            "properties": {
                "matches": {
                    "type": "array",
                    "minItems": count,
                    "maxItems": count,
                    "items": {
                        "type": "object",
                        "properties": {
                            "listing_id": {"type": "string"},
                            "score": {"type": "integer", "minimum": 0, "maximum": 100},
                            "reason": {"type": "string", "maxLength": 300},
                            "matched_skills": {"type": "array", "items": {"type": "string"},
                                               "maxItems": 15},
                            "missing_skills": {"type": "array", "items": {"type": "string"},
                                               "maxItems": 15}
                        },
                        "required": ["listing_id", "score", "reason", "matched_skills",
                                     "missing_skills"]
                    }
                }
            },
            "required": ["matches"]
        }),
    }
}

/// The cacheable head of every scoring message for one resume.
pub fn resume_prefix(resume: &str) -> String {
    format!(
        "Candidate resume\n<resume>\n{}\n</resume>",
        truncate_chars(resume, crate::assign::RESUME_CHARS_FOR_LLM)
    )
}

/// The listings of one batch, each under the id the answer must use (`L1`, `L2`, …).
pub fn listings_prompt(listings: &[&job_listing::Model]) -> String {
    let mut out = format!("Job listings to score: {}\n", listings.len());
    for (i, listing) in listings.iter().enumerate() {
        out.push_str(&format!(
            "\n<listing id=\"L{}\">\nTitle: {}\nCompany: {}\nLocation: {}\n{}\n</listing>\n",
            i + 1,
            listing.title,
            listing.company,
            listing.location.as_deref().unwrap_or("not stated"),
            truncate_chars(
                listing.description.as_deref().unwrap_or("(no description)"),
                DESCRIPTION_CHARS_FOR_LLM
            ),
        ));
    }
    out
}

/// A validated LLM score.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmScore {
    pub score: i16,
    pub reason: String,
    pub matched: Vec<String>,
    pub missing: Vec<String>,
    /// This listing's share of the call's tokens.
    pub usage: Usage,
}

/// Reads one entry: the score as a number (or numeric string) clamped to 0–100, a non-empty
/// reason cut to 300 characters, at most 15 skills each.
pub fn parse_score(input: &serde_json::Value, usage: Usage) -> Result<LlmScore, LlmError> {
    let raw = match input.get("score") {
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
    .ok_or_else(|| LlmError::Malformed(format!("no numeric score in {input}")))?;
    let reason = str_field(input, "reason")
        .ok_or_else(|| LlmError::Malformed("the score has no reason".into()))?;
    Ok(LlmScore {
        score: raw.round().clamp(0.0, 100.0) as i16,
        reason: truncate_chars(reason, 300),
        matched: string_list(input, "matched_skills", 15),
        missing: string_list(input, "missing_skills", 15),
        usage,
    })
}

/// `usage` shared out over `n` listings (the remainder to the first).
fn share(usage: Usage, n: usize, index: usize) -> Usage {
    let n = i32::try_from(n.max(1)).unwrap_or(i32::MAX);
    let part = |total: i32| total / n + if index == 0 { total % n } else { 0 };
    Usage {
        input_tokens: part(usage.input_tokens),
        output_tokens: part(usage.output_tokens),
        cache_read_tokens: part(usage.cache_read_tokens),
        cache_write_tokens: part(usage.cache_write_tokens),
    }
}

/// Reads a batch's answer: one result per listing, in order. An entry that is missing or does
/// not validate fails alone; an answer without a `matches` list fails as a whole.
pub fn parse_batch(
    input: &serde_json::Value,
    count: usize,
    usage: Usage,
) -> Result<Vec<Result<LlmScore, LlmError>>, LlmError> {
    let entries = input
        .get("matches")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| LlmError::Malformed("the answer has no list of matches".into()))?;
    let mut by_id: HashMap<String, &serde_json::Value> = HashMap::new();
    for entry in entries {
        if let Some(id) = entry.get("listing_id").and_then(|v| match v {
            serde_json::Value::String(s) => Some(s.trim().trim_matches('"').to_ascii_uppercase()),
            serde_json::Value::Number(n) => Some(format!("L{n}")),
            _ => None,
        }) {
            by_id.entry(id).or_insert(entry);
        }
    }
    Ok((0..count)
        .map(|i| {
            let id = format!("L{}", i + 1);
            match by_id.get(&id) {
                Some(entry) => parse_score(entry, share(usage, count, i)),
                None => Err(LlmError::Malformed(format!(
                    "the answer has no entry for {id}"
                ))),
            }
        })
        .collect())
}

/// Whether a batch that failed as a whole is worth retrying as two smaller ones: the answer
/// was unusable, or the request too large — not when the service is throttling, down or too
/// slow (halves would each wait as long), or the budget is spent.
fn worth_splitting(e: &LlmError) -> bool {
    matches!(
        e,
        LlmError::Malformed(_)
            | LlmError::MissingToolOutput(_)
            | LlmError::Validation(_)
            | LlmError::ContentFiltered(_)
    )
}

/// What scoring one batch did: a result per listing, in order, and the calls it took.
#[derive(Debug)]
pub struct BatchResult {
    pub scores: Vec<Result<LlmScore, LlmError>>,
    pub calls: usize,
}

/// Scores `listings` for one resume: one call; a batch that fails as a whole is split in two
/// and each half tried again (down to single listings) before its listings fall back.
pub async fn score_batch(
    llm: &dyn Llm,
    user_id: Option<i64>,
    prefix: &str,
    listings: &[&job_listing::Model],
) -> BatchResult {
    let mut pending: Vec<&[&job_listing::Model]> = vec![listings];
    let mut results: Vec<(usize, Result<LlmScore, LlmError>)> = Vec::new();
    let mut calls = 0;
    let offset = |part: &[&job_listing::Model]| {
        // Where `part` starts within `listings` (parts are subslices of it).
        (part.as_ptr() as usize - listings.as_ptr() as usize)
            / std::mem::size_of::<&job_listing::Model>()
    };
    while let Some(part) = pending.pop() {
        if part.is_empty() {
            continue;
        }
        let tool = score_tool(part.len());
        let count = i32::try_from(part.len()).unwrap_or(i32::MAX);
        calls += 1;
        let answer = llm
            .call_tool(ToolRequest {
                user_id,
                items: u32::try_from(part.len()).unwrap_or(u32::MAX),
                prefix: Some(prefix.to_owned()),
                max_tokens: Some(ANSWER_TOKENS_FRAME + ANSWER_TOKENS_PER_LISTING * count),
                ..ToolRequest::new(Purpose::Score, SCORE_SYSTEM, &tool, listings_prompt(part))
            })
            .await
            .and_then(|reply| parse_batch(&reply.input, part.len(), reply.usage));
        let start = offset(part);
        match answer {
            Ok(scores) => {
                results.extend(scores.into_iter().enumerate().map(|(i, s)| (start + i, s)));
            }
            Err(e) if part.len() > 1 && worth_splitting(&e) => {
                tracing::warn!(
                    listings = part.len(),
                    kind = e.kind(),
                    error = %e,
                    "LLM batch failed; trying it as two smaller ones"
                );
                let (a, b) = part.split_at(part.len() / 2);
                pending.push(b);
                pending.push(a);
            }
            Err(e) => {
                results.extend((0..part.len()).map(|i| (start + i, Err(e.clone()))));
            }
        }
    }
    results.sort_by_key(|(i, _)| *i);
    BatchResult {
        scores: results.into_iter().map(|(_, s)| s).collect(),
        calls,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llm_scores_are_validated_and_clamped() {
        let usage = Usage::default();
        let s = parse_score(
            &json!({"score": 140.4, "reason": " Strong Rust. ", "matched_skills": ["Rust"],
                    "missing_skills": []}),
            usage,
        )
        .expect("valid");
        assert_eq!((s.score, s.reason.as_str()), (100, "Strong Rust."));
        let s = parse_score(&json!({"score": "-3", "reason": "x"}), usage).expect("valid");
        assert_eq!(s.score, 0);
        assert!(matches!(
            parse_score(&json!({"reason": "no score"}), usage),
            Err(LlmError::Malformed(_))
        ));
        assert!(matches!(
            parse_score(&json!({"score": 50, "reason": "  "}), usage),
            Err(LlmError::Malformed(_))
        ));
        let long = "x".repeat(500);
        let s = parse_score(&json!({"score": 50, "reason": long}), usage).expect("valid");
        assert_eq!(s.reason.chars().count(), 300);
    }

    #[test]
    fn a_batch_answer_is_read_entry_by_entry() {
        let usage = Usage {
            input_tokens: 1_001,
            output_tokens: 300,
            cache_read_tokens: 0,
            cache_write_tokens: 0,
        };
        let answer = json!({"matches": [
            {"listing_id": "L2", "score": 40, "reason": "Some overlap."},
            {"listing_id": "l1", "score": 91, "reason": "Rust for six years."},
            {"listing_id": "L1", "score": 5, "reason": "A second entry for L1 is ignored."},
            {"listing_id": "L3", "reason": "No score."},
            {"listing_id": "L9", "score": 70, "reason": "Not a listing of the batch."}
        ]});
        let scores = parse_batch(&answer, 4, usage).expect("a list");
        assert_eq!(scores.len(), 4);
        assert_eq!(scores[0].as_ref().map(|s| s.score), Ok(91));
        assert_eq!(scores[1].as_ref().map(|s| s.score), Ok(40));
        assert!(
            matches!(scores[2], Err(LlmError::Malformed(_))),
            "L3 has no score"
        );
        assert!(
            matches!(scores[3], Err(LlmError::Malformed(_))),
            "L4 is missing"
        );
        let shares: i32 = scores.iter().flatten().map(|s| s.usage.input_tokens).sum();
        assert_eq!(
            shares,
            1_001 / 4 * 2 + 1_001 % 4,
            "each entry carries its share"
        );
        assert!(matches!(
            parse_batch(&json!({"score": 3}), 2, usage),
            Err(LlmError::Malformed(_))
        ));
    }
}
