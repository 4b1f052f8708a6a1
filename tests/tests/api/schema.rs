//! The checked-in schema.graphql is exactly what the server serves.

use std::path::PathBuf;

#[test]
fn schema_graphql_matches_the_served_schema() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    let served = api::graphql::sdl();
    if checked_in != served {
        let diff = line_diff(&checked_in, &served);
        panic!(
            "schema.graphql is out of date with the code.\n{diff}\nRegenerate it with:\n    cargo run -q -- schema > schema.graphql\n"
        );
    }
}

/// A minimal line diff: lines only in the file (-) and only in the served schema (+).
fn line_diff(old: &str, new: &str) -> String {
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    let mut out = String::new();
    for l in old_lines.iter().filter(|l| !new_lines.contains(l)) {
        out.push_str(&format!("- {l}\n"));
    }
    for l in new_lines.iter().filter(|l| !old_lines.contains(l)) {
        out.push_str(&format!("+ {l}\n"));
    }
    if out.is_empty() {
        out.push_str("(same lines in another order)\n");
    }
    out
}

#[test]
fn the_contract_names_of_the_design_are_served() {
    let sdl = api::graphql::sdl();
    for name in [
        "type AuthPayload",
        "type User",
        "type CategoryAssignment",
        "type SearchCategory",
        "input AddSearchCategoryInput",
        "input UpdateSearchCategoryInput",
        "enum Role",
        "enum AssignmentStatus",
        "enum AssignmentMethod",
        "enum CategoryOrigin",
        "searchCategories(includeInactive: Boolean = false): [SearchCategory!]!",
        "register(email: String!, password: String!): AuthPayload!",
        "login(email: String!, password: String!): AuthPayload!",
        "addSearchCategory(input: AddSearchCategoryInput!): SearchCategory!",
        "updateSearchCategory(slug: String!, input: UpdateSearchCategoryInput!): SearchCategory!",
        "removeSearchCategory(slug: String!): SearchCategory!",
        "me: User",
        "pipelineRun(id: ID!): PipelineRun",
        "pipelineRuns(first: Int = 20): [PipelineRun!]!",
        "type PipelineRun",
        "type RunError",
        "enum RunTrigger",
        "enum RunStatus",
        "runPipeline: PipelineRun!",
        "pipelineRunProgress(id: ID!): PipelineRun!",
        "matchedJobs(first: Int = 20, after: String, minScore: Int, status: MatchStatus, sort: MatchSort = SCORE_DESC, includeClosed: Boolean = false, remote: Boolean, location: String, minSalary: Float, excludeStatus: [MatchStatus!]): MatchedJobs!",
        "updatePreferences(input: PreferencesInput!): User!",
        "changePassword(currentPassword: String!, newPassword: String!): AuthPayload!",
        "signOutEverywhere: Boolean!",
        "deleteAccount(password: String!): Boolean!",
        "llmUsage(since: DateTime, until: DateTime): LlmUsage!",
        "preferences: Preferences!",
        "jobListings(categorySlug: String, postedWithinHours: Int, search: String, first: Int = 20, after: String): JobListingConnection!",
        "saveResume(text: String!): User!",
        "setMatchStatus(jobListingId: ID!, status: MatchStatus!): Match!",
        "type Match",
        "type MatchedJobs",
        "type JobListing",
        "type JobPosting",
        "postings: [JobPosting!]!",
        "closedAt: DateTime",
        "lastSeenAt: DateTime!",
        "enum MatchStatus",
        "enum MatchSort",
        "enum ScoreMethod",
    ] {
        assert!(sdl.contains(name), "the schema lacks `{name}`");
    }
}
