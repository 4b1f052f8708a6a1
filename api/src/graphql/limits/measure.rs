//! What a parsed document amounts to once its fragments are expanded, computed without
//! expanding them: each fragment is measured once per operation and its figures multiplied
//! (saturating) wherever it is spread.
//!
//! Every field costs 1 and every fragment spread or inline fragment costs 1 too, so the work of
//! any later walk that expands spreads (async-graphql's validation does, without memoising) is
//! bounded by the cost. A field with a `first` argument counts what it selects `first` times.

use std::collections::HashMap;

use async_graphql::parser::types::{
    ExecutableDocument, Field, OperationDefinition, Selection, SelectionSet, TypeKind,
    TypeSystemDefinition,
};
use async_graphql::{Name, Value, Variables};

/// Root mutations that check a password: one per operation.
const SIGN_IN_FIELDS: &[&str] = &["login", "register", "changePassword", "deleteAccount"];

/// What an operation (or a fragment) amounts to once expanded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Measure {
    pub cost: u64,
    /// Aliased fields as written, each spread of a fragment counting its aliases again.
    pub aliases: u64,
    pub depth: usize,
    /// Nesting of selection sets, spreads and fragments included and nothing exempt: what a
    /// recursive walk of the document goes through.
    pub nesting: usize,
    /// `login` / `register` / `changePassword` / `deleteAccount` fields at the root.
    pub sign_ins: u64,
}

impl Measure {
    /// Both, one after the other (saturating).
    pub fn then(self, other: Self) -> Self {
        Self {
            cost: self.cost.saturating_add(other.cost),
            aliases: self.aliases.saturating_add(other.aliases),
            depth: self.depth.max(other.depth),
            nesting: self.nesting.max(other.nesting),
            sign_ins: self.sign_ins.saturating_add(other.sign_ins),
        }
    }
}

/// Measures the operations and fragments of one document.
pub struct Meter<'a> {
    doc: &'a ExecutableDocument,
    variables: &'a Variables,
    page_defaults: &'a HashMap<String, u64>,
    /// The defaults of the operation being measured (`query($n: Int = 100)`).
    variable_defaults: HashMap<Name, Value>,
    /// Each fragment measured once (per operation: page sizes may come from its variables).
    fragments: HashMap<Name, Measure>,
    /// Fragments being measured, to refuse cycles instead of recursing forever.
    visiting: Vec<Name>,
}

impl<'a> Meter<'a> {
    pub fn new(
        doc: &'a ExecutableDocument,
        variables: &'a Variables,
        page_defaults: &'a HashMap<String, u64>,
    ) -> Self {
        Self {
            doc,
            variables,
            page_defaults,
            variable_defaults: HashMap::new(),
            fragments: HashMap::new(),
            visiting: Vec::new(),
        }
    }

    /// One operation, with its variables' defaults.
    pub fn operation(&mut self, operation: &OperationDefinition) -> Result<Measure, String> {
        self.fragments.clear();
        self.variable_defaults = operation
            .variable_definitions
            .iter()
            .filter_map(|v| {
                let default = v.node.default_value.as_ref()?;
                Some((v.node.name.node.clone(), default.node.clone()))
            })
            .collect();
        self.selection_set(&operation.selection_set.node)
    }

    /// The largest fragment definition on its own (by cost), used or not: validation walks
    /// every definition, so an unused one must be measured too.
    pub fn largest_fragment(&mut self) -> Result<Measure, String> {
        self.fragments.clear();
        self.variable_defaults.clear();
        let mut largest = Measure::default();
        for name in self.doc.fragments.keys() {
            let m = self.fragment(name)?;
            if m.cost >= largest.cost {
                largest = m;
            }
        }
        Ok(largest)
    }

    fn selection_set(&mut self, set: &SelectionSet) -> Result<Measure, String> {
        let mut total = Measure::default();
        for item in &set.items {
            let m = match &item.node {
                Selection::Field(field) => self.field(&field.node)?,
                Selection::FragmentSpread(spread) => {
                    let inner = self.fragment(&spread.node.fragment_name.node)?;
                    Measure {
                        cost: inner.cost.saturating_add(1),
                        nesting: inner.nesting + 1,
                        ..inner
                    }
                }
                Selection::InlineFragment(inline) => {
                    let inner = self.selection_set(&inline.node.selection_set.node)?;
                    Measure {
                        cost: inner.cost.saturating_add(1),
                        nesting: inner.nesting + 1,
                        ..inner
                    }
                }
            };
            total = total.then(m);
        }
        Ok(total)
    }

    fn field(&mut self, field: &Field) -> Result<Measure, String> {
        let inner = self.selection_set(&field.selection_set.node)?;
        let times = self.page_size(field);
        // Introspection nests `ofType` by design (GraphiQL's query is 15 deep): its depth is
        // not counted; its cost and aliases are.
        let introspection = matches!(field.name.node.as_str(), "__schema" | "__type");
        Ok(Measure {
            cost: inner.cost.saturating_mul(times).saturating_add(1),
            aliases: inner
                .aliases
                .saturating_add(u64::from(field.alias.is_some())),
            depth: if introspection { 1 } else { inner.depth + 1 },
            nesting: inner.nesting + 1,
            sign_ins: u64::from(SIGN_IN_FIELDS.contains(&field.name.node.as_str())),
        })
    }

    fn fragment(&mut self, name: &Name) -> Result<Measure, String> {
        if let Some(m) = self.fragments.get(name) {
            return Ok(*m);
        }
        if self.visiting.contains(name) {
            return Err(format!("the fragment {name} spreads itself"));
        }
        let Some(fragment) = self.doc.fragments.get(name) else {
            // Refused here rather than left to validation, which would expand every spread of
            // it before saying so.
            return Err(format!("unknown fragment {name}"));
        };
        self.visiting.push(name.clone());
        let measured = self.selection_set(&fragment.node.selection_set.node);
        self.visiting.pop();
        let mut m = measured?;
        if fragment.node.type_condition.node.on.node.starts_with("__") {
            // A fragment on an introspection type (`on __Type`): introspection's nesting.
            m.depth = 0;
        }
        self.fragments.insert(name.clone(), m);
        Ok(m)
    }

    /// How many times a field's selection counts: its `first` (a literal, a variable, or that
    /// variable's default), else the argument's default; 1 for fields without one.
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
                    .into_const_with(|name| {
                        self.variables
                            .get(&name)
                            .or_else(|| self.variable_defaults.get(&name))
                            .cloned()
                            .ok_or(())
                    })
                    .ok()
            });
        match given {
            Some(Value::Number(n)) => n.as_u64().unwrap_or(1).max(1),
            _ => default.max(1),
        }
    }
}

/// Field name → default page size, for every field of the schema with a `first` argument (read
/// once at start from the schema's own SDL; names with a `first` are unique in this schema).
pub fn page_defaults(sdl: &str, max_page: u64) -> HashMap<String, u64> {
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
                .unwrap_or(max_page);
            let entry = out.entry(field.node.name.node.to_string()).or_insert(0);
            *entry = (*entry).max(default);
        }
    }
    out
}
