//! The GraphQL API, one module per domain, merged into one schema.
//!
//! - [`context`]: the per-request caller (from `Authorization: Bearer`), its address, and the
//!   [`context::Access`] guard (`User`, `Admin`) that every field needing a caller carries,
//!   decided before the resolver runs; [`context::require_user`] gives a resolver its caller.
//! - [`types`]: the object, input and enum types shared by the domains.
//! - [`accounts`]: `me`, `register`, `login`, `changePassword`, `signOutEverywhere`,
//!   `deleteAccount`.
//! - [`preferences`]: `User.preferences` and `updatePreferences`.
//! - [`categories`]: `searchCategories` and the admin mutations on categories.
//! - [`listings`]: `jobListings` and the `JobListing` type, with the per-request batch loaders.
//! - [`matches`]: `saveResume`, `matchedJobs`, `setMatchStatus` — what a job seeker sees of
//!   their matches.
//! - [`cursor`]: the opaque keyset cursors of both lists.
//! - [`runs`]: `pipelineRun`, `pipelineRuns`, `runPipeline` and the `pipelineRunProgress`
//!   subscription — collector runs for admins.
//! - [`documents`]: `tailorDocument`, `tailoredDocument(s)` and the
//!   `tailoredDocumentProgress` subscription — resumes and cover letters tailored to a listing,
//!   with signed download links.
//! - [`health`]: `sourceHealth` — how each job source has fared across runs, for admins.
//! - [`usage`]: `llmUsage` — the LLM's calls, tokens and estimated cost, for admins.
//! - [`limits`]: every operation measured (tokens, aliases, depth, cost, sign-ins) before it
//!   is validated or run.
//!
//! Resolvers stay thin: find the caller, call one function, convert the result.

pub mod accounts;
pub mod categories;
pub mod context;
pub mod cursor;
pub mod documents;
pub mod health;
pub mod limits;
pub mod listings;
pub mod matches;
pub mod preferences;
pub mod runs;
pub mod types;
pub mod usage;

use async_graphql::{MergedObject, MergedSubscription, Schema, SchemaBuilder};

use crate::config::GraphqlConfig;
use crate::state::AppState;

/// Everything a client can read.
#[derive(MergedObject, Default, Debug)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    accounts::AccountQuery,
    categories::CategoryQuery,
    matches::MatchQuery,
    listings::ListingQuery,
    runs::RunQuery,
    health::HealthQuery,
    documents::DocumentQuery,
    usage::UsageQuery,
);

/// Everything a client can change.
#[derive(MergedObject, Default, Debug)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    accounts::AccountMutation,
    categories::CategoryMutation,
    matches::MatchMutation,
    runs::RunMutation,
    documents::DocumentMutation,
    preferences::PreferencesMutation,
);

/// Everything a client can follow live (WebSocket, graphql-transport-ws, on `/graphql/ws`).
#[derive(MergedSubscription, Default, Debug)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(runs::RunSubscription, documents::DocumentSubscription);

/// The served schema.
pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
}

/// The largest page any list field serves (`first` at most this).
pub const MAX_PAGE: i32 = 100;

/// The schema with its state, every operation measured against `limits` before it is
/// validated, and introspection and field suggestions as `GRAPHQL_INTROSPECTION` says.
pub fn build_schema(state: AppState, limits: GraphqlConfig) -> AppSchema {
    let measured = limits::OperationLimits::new(limits, &sdl());
    let mut schema = builder()
        .data(listings::Loaders::new(state.db.clone()))
        .data(state)
        .extension(limits::LimitsExtension(std::sync::Arc::new(measured)));
    if !limits.introspection {
        schema = schema.disable_introspection().disable_suggestions();
    }
    schema.finish()
}

/// The SDL of the served schema (what `jobcollector schema` prints and `schema.graphql` holds).
pub fn sdl() -> String {
    builder().finish().sdl()
}
