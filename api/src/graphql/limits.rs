//! Measures every operation before async-graphql validates or runs it, so that no document can
//! make the server do work out of proportion to its size.
//!
//! async-graphql's own depth and complexity checks run after fragments are expanded: 24
//! fragments that each spread the previous one twice cost 2^24 field visits before the limit
//! says no. Here the raw text is counted first (tokens, stopping at the limit), then the parsed
//! document is measured with each fragment's figures computed once and multiplied, saturating:
//!
//! - **tokens** (`GRAPHQL_MAX_TOKENS`): lexical tokens of the query text.
//! - **aliases** (`GRAPHQL_MAX_ALIASES`): aliased fields, as expanded.
//! - **depth** (`GRAPHQL_MAX_DEPTH`): nesting of fields, as expanded (introspection's own
//!   nesting aside: GraphiQL asks for `ofType` nine deep).
//! - **cost** (`GRAPHQL_MAX_COMPLEXITY`): every field (`__typename` too) costs 1, and a field
//!   with a `first` argument multiplies what it selects by the page size asked for (or by that
//!   argument's default), so a page of 100 listings weighs 100 times one listing.
//! - **sign-ins**: at most one `login` or `register` per operation, so one request cannot try
//!   many passwords.
//!
//! A breach is a `VALIDATION` error on `query` naming the limit and its setting. The document is
//! parsed here, once, so that async-graphql's own parse step (whose recursion check also walks
//! every spread) never sees an unmeasured document.

use std::collections::HashMap;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{
    ExecutableDocument, Field, OperationType, Selection, SelectionSet, TypeKind,
    TypeSystemDefinition,
};
use async_graphql::{ErrorExtensionValues, Name, ServerError, ServerResult, Value, Variables};

use crate::config::GraphqlConfig;

/// Root mutations that check a password: one per operation.
const SIGN_IN_FIELDS: &[&str] = &["login", "register"];

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
            page_defaults: page_defaults(sdl),
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

    /// Measures every operation of `doc`, each fragment once.
    pub fn check_document(
        &self,
        doc: &ExecutableDocument,
        variables: &Variables,
    ) -> Result<Measure, String> {
        let mut meter = Meter {
            doc,
            variables,
            page_defaults: &self.page_defaults,
            fragments: HashMap::new(),
            visiting: Vec::new(),
        };
        let mut total = Measure::default();
        for (_, operation) in doc.operations.iter() {
            let m = meter.selection_set(&operation.node.selection_set.node)?;
            if operation.node.ty == OperationType::Mutation && m.sign_ins > 1 {
                return Err(format!(
                    "an operation may sign in or register once; this one does it {} times",
                    m.sign_ins
                ));
            }
            total = total.then(m);
        }
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
        Ok(total)
    }
}

/// What an operation (or a fragment) amounts to once expanded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Measure {
    pub cost: u64,
    pub aliases: u64,
    pub depth: usize,
    /// `login` / `register` fields at the root.
    pub sign_ins: u64,
}

impl Measure {
    /// Both, one after the other (saturating).
    fn then(self, other: Self) -> Self {
        Self {
            cost: self.cost.saturating_add(other.cost),
            aliases: self.aliases.saturating_add(other.aliases),
            depth: self.depth.max(other.depth),
            sign_ins: self.sign_ins.saturating_add(other.sign_ins),
        }
    }
}

struct Meter<'a> {
    doc: &'a ExecutableDocument,
    variables: &'a Variables,
    page_defaults: &'a HashMap<String, u64>,
    /// Each fragment measured once.
    fragments: HashMap<Name, Measure>,
    /// Fragments being measured, to refuse cycles instead of recursing forever.
    visiting: Vec<Name>,
}

impl Meter<'_> {
    fn selection_set(&mut self, set: &SelectionSet) -> Result<Measure, String> {
        let mut total = Measure::default();
        for item in &set.items {
            let m = match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let inner = self.selection_set(&field.selection_set.node)?;
                    let times = self.page_size(field);
                    // Introspection nests `ofType` a dozen deep by design (GraphiQL's query is
                    // 15 deep); its depth is not counted, its cost and aliases are.
                    let introspection = matches!(field.name.node.as_str(), "__schema" | "__type");
                    Measure {
                        cost: inner.cost.saturating_mul(times).saturating_add(1),
                        aliases: inner
                            .aliases
                            .saturating_mul(times)
                            .saturating_add(u64::from(field.alias.is_some())),
                        depth: if introspection { 1 } else { inner.depth + 1 },
                        sign_ins: u64::from(SIGN_IN_FIELDS.contains(&field.name.node.as_str())),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(&spread.node.fragment_name.node)?
                }
                Selection::InlineFragment(inline) => {
                    self.selection_set(&inline.node.selection_set.node)?
                }
            };
            total = total.then(m);
        }
        Ok(total)
    }

    fn fragment(&mut self, name: &Name) -> Result<Measure, String> {
        if let Some(m) = self.fragments.get(name) {
            return Ok(*m);
        }
        if self.visiting.contains(name) {
            return Err(format!("the fragment {name} spreads itself"));
        }
        let Some(fragment) = self.doc.fragments.get(name) else {
            // Validation reports the unknown fragment; it adds nothing here.
            return Ok(Measure::default());
        };
        self.visiting.push(name.clone());
        let measured = self.selection_set(&fragment.node.selection_set.node);
        self.visiting.pop();
        let m = measured?;
        self.fragments.insert(name.clone(), m);
        Ok(m)
    }

    /// How many times a field's selection counts: its `first` (literal or variable), else the
    /// argument's default; 1 for fields without one.
    fn page_size(&self, field: &Field) -> u64 {
        let Some(&default) = self.page_defaults.get(field.name.node.as_str()) else {
            return 1;
        };
        let given = field
            .arguments
            .iter()
            .find(|(name, _)| name.node.as_str() == "first")
            .and_then(|(_, value)| {
                value
                    .node
                    .clone()
                    .into_const_with(|name| self.variables.get(&name).cloned().ok_or(()))
                    .ok()
            });
        match given {
            Some(Value::Number(n)) => n.as_u64().unwrap_or(1).max(1),
            _ => default.max(1),
        }
    }
}

/// Field name → default page size, for every field of the schema with a `first` argument.
fn page_defaults(sdl: &str) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    let Ok(doc) = async_graphql::parser::parse_schema(sdl) else {
        return out;
    };
    for definition in doc.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let fields = match ty.node.kind {
            TypeKind::Object(o) => o.fields,
            TypeKind::Interface(i) => i.fields,
            _ => continue,
        };
        for field in fields {
            let Some(first) = field
                .node
                .arguments
                .iter()
                .find(|a| a.node.name.node.as_str() == "first")
            else {
                continue;
            };
            let default = first
                .node
                .default_value
                .as_ref()
                .and_then(|v| match &v.node {
                    Value::Number(n) => n.as_u64(),
                    _ => None,
                })
                .unwrap_or(crate::graphql::MAX_PAGE as u64);
            let entry = out.entry(field.node.name.node.to_string()).or_insert(0);
            *entry = (*entry).max(default);
        }
    }
    out
}

/// The lexical tokens of a GraphQL document (punctuators, names, numbers, strings; whitespace,
/// commas and comments are not tokens), counted up to `limit + 1`.
pub fn count_tokens(query: &str, limit: usize) -> usize {
    let bytes = query.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i < bytes.len() && n <= limit {
        let b = bytes[i];
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 3;
                n += 1;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                n += 1;
            }
            b'.' if bytes[i..].starts_with(b"...") => {
                i += 3;
                n += 1;
            }
            b if b.is_ascii_digit() || b == b'-' => {
                // A number: digits, sign, point, exponent.
                i += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || b".+-".contains(&bytes[i]))
                {
                    i += 1;
                }
                n += 1;
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                n += 1;
            }
            _ => {
                // A punctuator, or a character the parser will refuse: one token each.
                i += query[i..].chars().next().map_or(1, char::len_utf8);
                n += 1;
            }
        }
    }
    n
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
    fn tokens_are_counted_like_a_lexer_and_counting_stops_past_the_limit() {
        assert_eq!(count_tokens("{ me { id } }", 100), 6);
        assert_eq!(
            count_tokens(
                "query Q($a: Int = 1) { x(a: $a, s: \"a b\") ...F } # note",
                100
            ),
            24
        );
        assert_eq!(count_tokens("{id...F}", 10), 5);
        assert_eq!(count_tokens("\"\"\"block \\\"\"\" string\"\"\" x", 10), 2);
        assert_eq!(count_tokens(&"a ".repeat(1_000_000), 10), 11);
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
        assert_eq!((m.cost, m.depth), (4, 2));
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
