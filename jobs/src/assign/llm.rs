//! Steps 2 and 3 of assignment: the LLM picks an existing category or proposes a new one,
//! through forced tools. The prompts and tools are here, beside the code that sends them.

use entity::search_category;
use sea_orm::DatabaseConnection;
use serde_json::json;

use super::Decision;
use super::create::{Created, create_or_reuse};
use super::slug::clean_slug;
use crate::Result;
use crate::llm::{Llm, LlmError, Purpose, Tool, ToolRequest, str_field, string_list};
use crate::text::truncate_chars;
use entity::{AssignmentMethod, CategoryOrigin};

/// Characters of a resume sent to the LLM.
pub const RESUME_CHARS_FOR_LLM: usize = 12_000;

/// The system prompt for choosing an existing category. Changing it changes behaviour: keep
/// [`ASSIGN_PROMPT_VERSION`] in step.
pub const CHOOSE_SYSTEM: &str = "You assign a job seeker to the job-search category that \
matches the role they are looking for, judged from their resume: their most recent title, \
their stated objective, and the bulk of their experience. Choose exactly one slug from the \
list, or \"none\" when no category is that role (a related field is not enough: a data \
engineer is not a data scientist, a mechanical engineer is not a software engineer). Answer \
only by calling the tool.";

/// The system prompt for proposing a new category.
pub const PROPOSE_SYSTEM: &str = "No existing job-search category fits this job seeker. \
Propose one new, generic category for the role they are looking for: a snake_case slug such \
as \"data_engineer\" or \"registered_nurse\", a short display name, and 3 to 10 lowercase job \
title phrases that identify the role in job listings. Generic means: no seniority (senior, \
lead, junior), no company, no location, no single technology unless the role is named after \
it. Answer only by calling the tool.";

/// Bumped whenever the assignment prompts or tools change meaning.
pub const ASSIGN_PROMPT_VERSION: &str = "assign-v1";

fn choose_tool(slugs: &[String]) -> Tool {
    let mut choices: Vec<serde_json::Value> = slugs.iter().map(|s| json!(s)).collect();
    choices.push(json!("none"));
    Tool {
        name: "choose_category",
        description: "Record the category that fits the resume, or none.",
        schema: json!({
            "type": "object",
            "properties": {
                "slug": {"type": "string", "enum": choices,
                         "description": "One of the listed slugs, or \"none\"."},
                "reason": {"type": "string", "description": "One sentence."}
            },
            "required": ["slug"]
        }),
    }
}

fn propose_tool() -> Tool {
    Tool {
        name: "propose_category",
        description: "Record a new generic job-search category for the resume.",
        schema: json!({
            "type": "object",
            "properties": {
                "slug": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,48}$"},
                "name": {"type": "string", "maxLength": 100},
                "keywords": {"type": "array", "items": {"type": "string"}, "maxItems": 10}
            },
            "required": ["slug", "name", "keywords"]
        }),
    }
}

fn category_lines(categories: &[search_category::Model]) -> String {
    categories
        .iter()
        .map(|c| {
            format!(
                "- {}: {} (titles: {})",
                c.slug,
                c.name,
                c.keywords.0.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The user message for choosing among `categories`.
pub fn choose_prompt(resume: &str, categories: &[search_category::Model]) -> String {
    format!(
        "Categories:\n{}\n\nResume:\n<resume>\n{}\n</resume>",
        category_lines(categories),
        truncate_chars(resume, RESUME_CHARS_FOR_LLM)
    )
}

/// The user message for proposing a category beside `categories`.
pub fn propose_prompt(resume: &str, categories: &[search_category::Model]) -> String {
    format!(
        "Existing categories (none fits):\n{}\n\nResume:\n<resume>\n{}\n</resume>",
        category_lines(categories),
        truncate_chars(resume, RESUME_CHARS_FOR_LLM)
    )
}

/// What the LLM came to.
#[derive(Debug)]
pub(super) enum LlmVerdict {
    Decided(Decision),
    /// No existing category fits, and creating one is off (`ASSIGN_CREATE_CATEGORIES`).
    NoneFits,
    Failed(LlmError),
}

/// Steps 2 and 3 (step 3 only when `create`, within `daily_limit` new categories a day).
/// The error is the database's.
pub(super) async fn ask_llm(
    db: &DatabaseConnection,
    llm: &dyn Llm,
    user_id: Option<i64>,
    resume: &str,
    active: &[search_category::Model],
    create: bool,
    daily_limit: u32,
) -> Result<LlmVerdict> {
    let slugs: Vec<String> = active.iter().map(|c| c.slug.to_string()).collect();
    let tool = choose_tool(&slugs);
    let reply = match llm
        .call_tool(ToolRequest {
            user_id,
            ..ToolRequest::new(
                Purpose::Assign,
                CHOOSE_SYSTEM,
                &tool,
                choose_prompt(resume, active),
            )
        })
        .await
    {
        Ok(reply) => reply,
        Err(e) => return Ok(LlmVerdict::Failed(e)),
    };
    log_usage("choose_category", &reply);
    match str_field(&reply.input, "slug") {
        Some("none") if !create => return Ok(LlmVerdict::NoneFits),
        Some("none") => {}
        Some(slug) => {
            return Ok(match active.iter().find(|c| c.slug.as_str() == slug) {
                Some(c) => LlmVerdict::Decided(Decision::Assigned {
                    category_id: c.id,
                    method: AssignmentMethod::LlmExisting,
                    note: None,
                }),
                None => LlmVerdict::Failed(LlmError::Malformed(format!(
                    "choose_category named {slug:?}, which is not an active category"
                ))),
            });
        }
        None => {
            return Ok(LlmVerdict::Failed(LlmError::Malformed(
                "choose_category gave no slug".into(),
            )));
        }
    }

    let tool = propose_tool();
    let reply = match llm
        .call_tool(ToolRequest {
            user_id,
            ..ToolRequest::new(
                Purpose::Assign,
                PROPOSE_SYSTEM,
                &tool,
                propose_prompt(resume, active),
            )
        })
        .await
    {
        Ok(reply) => reply,
        Err(e) => return Ok(LlmVerdict::Failed(e)),
    };
    log_usage("propose_category", &reply);
    let Some(slug) = str_field(&reply.input, "slug").and_then(clean_slug) else {
        return Ok(LlmVerdict::Failed(LlmError::Malformed(format!(
            "propose_category gave no usable slug: {}",
            truncate_chars(&reply.input.to_string(), 200)
        ))));
    };
    let name = str_field(&reply.input, "name")
        .map(|n| truncate_chars(n, 100))
        .unwrap_or_else(|| slug.as_str().replace('_', " "));
    let keywords = string_list(&reply.input, "keywords", 10);
    Ok(
        match create_or_reuse(db, slug, name, keywords, CategoryOrigin::Llm, daily_limit).await? {
            Created::New(category_id) => LlmVerdict::Decided(Decision::Assigned {
                category_id,
                method: AssignmentMethod::LlmNew,
                note: None,
            }),
            Created::Existing(category_id) => LlmVerdict::Decided(Decision::Assigned {
                category_id,
                method: AssignmentMethod::LlmExisting,
                note: None,
            }),
            Created::Refused(why) => {
                LlmVerdict::Failed(LlmError::Malformed(format!("propose_category: {why}")))
            }
        },
    )
}

fn log_usage(tool: &str, reply: &crate::llm::ToolReply) {
    tracing::info!(
        tool,
        input_tokens = reply.usage.input_tokens,
        output_tokens = reply.usage.output_tokens,
        latency_ms = reply.latency.as_millis(),
        "LLM category call"
    );
}
