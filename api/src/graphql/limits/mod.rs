//! Measures every operation before async-graphql validates or runs it, so that the work a
//! document causes stays in proportion to its size.
//!
//! async-graphql's own depth and complexity checks, its parse step's recursion check and its
//! validation all walk fragment spreads without memoising: 24 fragments that each spread the
//! previous one twice cost 2^24 field visits before any limit says no, synchronously, where no
//! timeout can stop them. Here the raw text is counted first ([`tokens`]), then the document is
//! parsed once and measured ([`measure`]) with each fragment computed once:
//!
//! - **tokens** (`GRAPHQL_MAX_TOKENS`): lexical tokens of the query text.
//! - **aliases** (`GRAPHQL_MAX_ALIASES`): aliased fields as written, fragments expanded.
//! - **depth** (`GRAPHQL_MAX_DEPTH`): nesting of fields, fragments expanded (introspection's
//!   own nesting aside).
//! - **cost** (`GRAPHQL_MAX_COMPLEXITY`): every field (`__typename` too), fragment spread and
//!   inline fragment costs 1, and a field with a `first` argument multiplies what it selects by
//!   the page size asked for (or by that argument's default), so a page of 100 listings weighs
//!   100 times one listing. Unused fragment definitions are measured too, and an unknown
//!   fragment is refused: nothing validation later expands is left unmeasured.
//! - **sign-ins**: at most one `login` or `register` per operation, so one request cannot try
//!   many passwords.
//!
//! A breach is a `VALIDATION` error on `query` naming the limit and its setting.

mod measure;
mod tokens;

use std::collections::HashMap;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{ErrorExtensionValues, ServerError, ServerResult, Variables};

pub use measure::Measure;
pub use tokens::count_tokens;

use crate::config::GraphqlConfig;
use measure::Meter;

/// Deepest nesting of selections, fragments and spreads, whatever the kind: it bounds the
/// recursion of validation (async-graphql's own parse step, bypassed here, allows 32).
const MAX_NESTING: usize = 32;

/// The limits, with the default page size of every field that takes `first`.
#[derive(Debug, Clone)]
pub struct OperationLimits {
    limits: GraphqlConfig,
    /// Field name → the default of its `first` argument, read from the schema's SDL.
    page_defaults: HashMap<String, u64>,
}

impl OperationLimits {
    /// Limits for the schema whose SDL is `sdl`.
    pub fn new(limits: GraphqlConfig, sdl: &str) -> Self {
        Self {
            limits,
            page_defaults: measure::page_defaults(sdl, crate::graphql::MAX_PAGE as u64),
        }
    }

    /// Checks the raw text, then the parsed document.
    pub fn check_text(&self, query: &str) -> Result<(), String> {
        let max = self.limits.max_tokens;
        if count_tokens(query, max) > max {
            return Err(format!(
                "the operation has more than {max} tokens (GRAPHQL_MAX_TOKENS)"
            ));
        }
        Ok(())
    }

    /// Measures every operation of `doc`, and every fragment definition, each fragment once.
    pub fn check_document(
        &self,
        doc: &ExecutableDocument,
        variables: &Variables,
    ) -> Result<Measure, String> {
        let mut meter = Meter::new(doc, variables, &self.page_defaults);
        let largest_fragment = meter.largest_fragment()?;
        let mut total = Measure::default();
        for (_, operation) in doc.operations.iter() {
            let m = meter.operation(&operation.node)?;
            if operation.node.ty == OperationType::Mutation && m.sign_ins > 1 {
                return Err(format!(
                    "an operation may check a password (login, register, changePassword, deleteAccount) once; this one does it {} times",
                    m.sign_ins
                ));
            }
            total = total.then(m);
        }
        // An unused fragment is validated too: the operations or the largest fragment, whichever
        // weighs more.
        let total = Measure {
            cost: total.cost.max(largest_fragment.cost),
            aliases: total.aliases.max(largest_fragment.aliases),
            depth: total.depth.max(largest_fragment.depth),
            nesting: total.nesting.max(largest_fragment.nesting),
            sign_ins: total.sign_ins,
        };
        let l = &self.limits;
        if total.depth > l.max_depth {
            return Err(format!(
                "the operation is nested too deep: depth {} exceeds {} (GRAPHQL_MAX_DEPTH)",
                total.depth, l.max_depth
            ));
        }
        if total.aliases > l.max_aliases as u64 {
            return Err(format!(
                "the operation has too many aliases: {} exceeds {} (GRAPHQL_MAX_ALIASES)",
                total.aliases, l.max_aliases
            ));
        }
        if total.cost > l.max_complexity as u64 {
            return Err(format!(
                "the operation is too complex: cost {} exceeds {} (GRAPHQL_MAX_COMPLEXITY); ask for smaller pages or fewer fields",
                total.cost, l.max_complexity
            ));
        }
        if total.nesting > MAX_NESTING {
            return Err(format!(
                "the operation nests selections {} deep; at most {MAX_NESTING}",
                total.nesting
            ));
        }
        Ok(total)
    }
}

/// The schema extension that applies [`OperationLimits`] to every request, HTTP and WebSocket.
#[derive(Debug, Clone)]
pub struct LimitsExtension(pub std::sync::Arc<OperationLimits>);

impl ExtensionFactory for LimitsExtension {
    fn create(&self) -> std::sync::Arc<dyn Extension> {
        std::sync::Arc::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Extension for LimitsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        // Parsed here rather than by `next`: async-graphql's own parse step checks recursion
        // depth by walking every fragment spread, which is the exponential expansion itself.
        // The token limit already bounds nesting, and the measure below bounds depth.
        let _ = (ctx, next);
        self.0.check_text(query).map_err(refused)?;
        let doc = async_graphql::parser::parse_query(query).map_err(ServerError::from)?;
        self.0.check_document(&doc, variables).map_err(refused)?;
        Ok(doc)
    }
}

fn refused(message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut ext = ErrorExtensionValues::default();
    ext.set("code", "VALIDATION");
    ext.set("field", "query");
    error.extensions = Some(ext);
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> OperationLimits {
        let sdl = "type Query { jobListings(first: Int = 20, after: String): Conn! me: User }
                   type Conn { edges: [Edge!]! }
                   type Edge { node: L! }
                   type L { id: ID! title: String! }
                   type User { id: ID! }
                   type Mutation { login(email: String!): User register(email: String!): User }";
        OperationLimits::new(
            GraphqlConfig {
                max_depth: 8,
                max_complexity: 5000,
                max_aliases: 15,
                max_tokens: 1000,
                introspection: true,
            },
            sdl,
        )
    }

    fn measure(query: &str, variables: serde_json::Value) -> Result<Measure, String> {
        let doc = async_graphql::parser::parse_query(query).expect("parses");
        limits().check_document(&doc, &Variables::from_json(variables))
    }

    #[test]
    fn fragments_are_measured_once_and_multiplied() {
        let mut q = String::from("query { ...F30 } fragment F0 on Query { me { id } }");
        for i in 1..=30 {
            q.push_str(&format!(
                " fragment F{i} on Query {{ ...F{} ...F{} }}",
                i - 1,
                i - 1
            ));
        }
        let err = measure(&q, serde_json::json!({})).expect_err("2^30 fields");
        assert!(err.contains("too complex"), "{err}");
        let m = limits()
            .check_document(
                &async_graphql::parser::parse_query(
                    "{ ...A } fragment A on Query { ...B ...B } fragment B on Query { me { id } }",
                )
                .expect("parses"),
                &Variables::default(),
            )
            .expect("small");
        // B = me + id; A = two spreads of B; the operation spreads A once.
        assert_eq!((m.cost, m.depth), (1 + 2 * (1 + 2), 2));
    }

    #[test]
    fn spreads_of_unknown_fragments_and_unused_fragments_are_measured_too() {
        let mut unknown = String::from("query { ...F30 } fragment F0 on Query { ...Missing }");
        for i in 1..=30 {
            unknown.push_str(&format!(
                " fragment F{i} on Query {{ ...F{p} ...F{p} }}",
                p = i - 1
            ));
        }
        let err = measure(&unknown, serde_json::json!({})).expect_err("unknown fragment");
        assert!(err.contains("unknown fragment Missing"), "{err}");
        let mut unused = String::from("query { me { id } } fragment F0 on Query { __typename }");
        for i in 1..=30 {
            unused.push_str(&format!(
                " fragment F{i} on Query {{ ...F{p} ...F{p} }}",
                p = i - 1
            ));
        }
        let err = measure(&unused, serde_json::json!({})).expect_err("unused bomb");
        assert!(err.contains("too complex"), "{err}");
        // Spreads cost even when empty-handed: 2^30 spreads of nothing are not free.
        let mut empty =
            String::from("query { ...F30 } fragment F0 on Query { ... on Query { __typename } }");
        for i in 1..=30 {
            empty.push_str(&format!(
                " fragment F{i} on Query {{ ...F{p} ...F{p} }}",
                p = i - 1
            ));
        }
        assert!(measure(&empty, serde_json::json!({})).is_err());
    }

    #[test]
    fn pages_weigh_by_first_from_literals_variables_and_defaults() {
        let q = "query($n: Int) { jobListings(first: $n) { edges { node { id title } } } }";
        assert_eq!(
            measure(q, serde_json::json!({ "n": 100 }))
                .expect("ok")
                .cost,
            1 + 100 * 4
        );
        let q = "{ jobListings { edges { node { id } } } }";
        assert_eq!(
            measure(q, serde_json::json!({})).expect("ok").cost,
            1 + 20 * 3
        );
        // A variable left out takes the operation's default, not the field's.
        let q = "query($n: Int = 100) { jobListings(first: $n) { edges { node { id } } } }";
        assert_eq!(
            measure(q, serde_json::json!({})).expect("ok").cost,
            1 + 100 * 3
        );
        // Aliases inside a page are counted as written, not per item.
        let q = "{ jobListings(first: 100) { edges { node { t: title i: id } } } }";
        assert_eq!(measure(q, serde_json::json!({})).expect("ok").aliases, 2);
        let aliases: String = (0..13)
            .map(|i| format!("a{i}: jobListings(first: 100) {{ edges {{ node {{ id title __typename }} }} }} "))
            .collect();
        let err = measure(&format!("{{ {aliases} }}"), serde_json::json!({})).expect_err("cost");
        assert!(err.contains("too complex"), "{err}");
    }

    #[test]
    fn graphiql_introspection_query_is_within_the_defaults() {
        let query = include_str!("introspection_query.graphql");
        let limits = OperationLimits::new(
            crate::config::GraphqlConfig {
                max_depth: 12,
                max_complexity: 5000,
                max_aliases: 15,
                max_tokens: 1000,
                introspection: true,
            },
            "type Query { a: Int }",
        );
        assert!(
            limits.check_text(query).is_ok(),
            "{} tokens",
            count_tokens(query, 5000)
        );
        let doc = async_graphql::parser::parse_query(query).expect("parses");
        let m = limits
            .check_document(&doc, &Variables::default())
            .expect("within the limits");
        assert!(m.cost < 500, "{m:?}");
    }

    #[test]
    fn aliases_depth_cycles_and_sign_ins_are_refused() {
        let aliases: String = (0..16).map(|i| format!("a{i}: me {{ id }} ")).collect();
        assert!(
            measure(&format!("{{ {aliases} }}"), serde_json::json!({}))
                .expect_err("aliases")
                .contains("aliases")
        );
        let mut nested = String::from("__typename");
        for _ in 0..40 {
            nested = format!("... on __Type {{ {nested} }}");
        }
        assert!(
            measure(
                &format!("{{ __type(name: \"Q\") {{ {nested} }} }}"),
                serde_json::json!({})
            )
            .expect_err("nested")
            .contains("nests selections")
        );
        let deep = "{ jobListings { edges { node { edges { node { edges { node { edges { id } } } } } } } } }";
        assert!(
            measure(deep, serde_json::json!({}))
                .expect_err("deep")
                .contains("nested too deep")
        );
        let cycle = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        assert!(
            measure(cycle, serde_json::json!({}))
                .expect_err("cycle")
                .contains("spreads itself")
        );
        let spray = "mutation { a: login(email: \"a\") { id } ...F } fragment F on Mutation { b: register(email: \"b\") { id } }";
        assert!(
            measure(spray, serde_json::json!({}))
                .expect_err("two sign-ins")
                .contains("once")
        );
        assert!(
            measure(
                "mutation { login(email: \"a\") { id } }",
                serde_json::json!({})
            )
            .is_ok()
        );
    }
}
