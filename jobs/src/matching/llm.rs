//! Scoring one (resume, listing) pair through the LLM: the rubric, the forced tool, the
//! prompt, and the validation of its answer.

use entity::job_listing;
use serde_json::json;

use crate::Result;
use crate::llm::{Llm, LlmError, Purpose, Tool, ToolRequest, Usage, str_field, string_list};
use crate::text::truncate_chars;

/// Bumped whenever the scoring prompt or tool changes meaning: every stored LLM score becomes
/// stale and is redone.
pub const MATCH_PROMPT_VERSION: &str = "match-v1";
/// Characters of a listing's description sent to the LLM.
const DESCRIPTION_CHARS_FOR_LLM: usize = 6_000;

/// The rubric. Changing it changes scores: bump [`MATCH_PROMPT_VERSION`].
pub const SCORE_SYSTEM: &str = "You are an experienced recruiter. Score how well the \
candidate fits the job listing, from 0 to 100, using only the resume and the listing. \
Rubric: 90-100 meets every core requirement with direct evidence; 70-89 meets most core \
requirements, gaps are minor or learnable; 50-69 related background with clear gaps; 30-49 \
adjacent field, major gaps; 0-29 unrelated. Weigh the role's core skills and seniority over \
nice-to-haves. The reason (at most 300 characters) must cite evidence from the resume. List \
the listing's skills the resume shows (matched_skills) and the important ones it lacks \
(missing_skills). Answer only by calling the tool.";

fn score_tool() -> Tool {
    Tool {
        name: "record_match",
        description: "Record the fit between the resume and the job listing.",
        schema: json!({
            "type": "object",
            "properties": {
                "score": {"type": "integer", "minimum": 0, "maximum": 100},
                "reason": {"type": "string", "maxLength": 300},
                "matched_skills": {"type": "array", "items": {"type": "string"}, "maxItems": 15},
                "missing_skills": {"type": "array", "items": {"type": "string"}, "maxItems": 15}
            },
            "required": ["score", "reason", "matched_skills", "missing_skills"]
        }),
    }
}

/// The user message for one pair: the listing and the resume, nothing else about the user.
pub fn score_prompt(resume: &str, listing: &job_listing::Model) -> String {
    format!(
        "Job listing\nTitle: {}\nCompany: {}\nLocation: {}\n<listing>\n{}\n</listing>\n\n\
         Candidate resume\n<resume>\n{}\n</resume>",
        listing.title,
        listing.company,
        listing.location.as_deref().unwrap_or("not stated"),
        truncate_chars(
            listing.description.as_deref().unwrap_or("(no description)"),
            DESCRIPTION_CHARS_FOR_LLM
        ),
        truncate_chars(resume, crate::assign::RESUME_CHARS_FOR_LLM),
    )
}

/// A validated LLM score.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmScore {
    pub score: i16,
    pub reason: String,
    pub matched: Vec<String>,
    pub missing: Vec<String>,
    pub usage: Usage,
}

/// Reads the tool's arguments: the score as a number (or numeric string) clamped to 0–100,
/// a non-empty reason cut to 300 characters, at most 15 skills each.
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

/// Scores one pair through the LLM.
pub async fn llm_score(
    llm: &dyn Llm,
    resume: &str,
    listing: &job_listing::Model,
) -> Result<LlmScore, LlmError> {
    let tool = score_tool();
    let reply = llm
        .call_tool(ToolRequest::new(
            Purpose::Score,
            SCORE_SYSTEM,
            &tool,
            score_prompt(resume, listing),
        ))
        .await?;
    parse_score(&reply.input, reply.usage)
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
}
