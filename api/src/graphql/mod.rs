//! The GraphQL API, one module per domain, merged into one schema.
//!
//! - [`context`]: the per-request caller (from `Authorization: Bearer`) and the guards
//!   [`context::require_user`] / [`context::require_admin`].
//! - [`types`]: the object, input and enum types shared by the domains.
//! - [`accounts`]: `me`, `register`, `login`.
//! - [`categories`]: `searchCategories` and the admin mutations on categories.
//! - [`matches`]: `saveResume`, `matchedJobs`, `setMatchStatus`, `jobListings` — what a job
//!   seeker sees.
//! - [`runs`]: `pipelineRun`, `pipelineRuns`, `runPipeline` — collector runs for admins.
//!
//! Resolvers stay thin: find the caller, call one function, convert the result.

pub mod accounts;
pub mod categories;
pub mod context;
pub mod matches;
pub mod runs;
pub mod types;

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
    runs::RunQuery,
);

/// Everything a client can change.
#[derive(MergedObject, Default, Debug)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    accounts::AccountMutation,
    categories::CategoryMutation,
    matches::MatchMutation,
    runs::RunMutation,
);

/// Everything a client can follow live (WebSocket, graphql-transport-ws, on `/graphql/ws`).
#[derive(MergedSubscription, Default, Debug)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(runs::RunSubscription);

/// The served schema.
pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
}

/// The schema with its state and the configured depth and complexity limits.
pub fn build_schema(state: AppState, limits: GraphqlConfig) -> AppSchema {
    builder()
        .data(matches::Loaders::new(state.db.clone()))
        .data(state)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .finish()
}

/// The SDL of the served schema (what `jobcollector schema` prints and `schema.graphql` holds).
pub fn sdl() -> String {
    builder().finish().sdl()
}
