//! The generated schema types as the compiler read them, reduced to what the
//! worker needs: where a `Date` sits in a value, so it can turn the RFC 3339
//! strings of the JSON wire into `Date`s before a handler sees them (the
//! contract in `generated/runtime.ts`), and whether an api answers anything.
//!
//! A *plan* is JSON the worker walks beside the value: `"d"` a date,
//! `{"a": plan}` every item of an array, `{"o": {field: plan}}` some fields
//! of an object, `{"r": name}` a recursive type described in the plan table.

use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Date,
    Array(Box<Shape>),
    Object(Vec<(String, Shape)>),
    Ref(String),
    Union(Vec<Shape>),
    Void,
    Other,
}

/// Type declarations by name.
#[derive(Debug, Clone, Default)]
pub struct TypeTable {
    pub types: HashMap<String, Shape>,
}

impl TypeTable {
    pub fn insert(&mut self, name: String, shape: Shape) {
        self.types.insert(name, shape);
    }

    pub fn get(&self, name: &str) -> Option<&Shape> {
        self.types.get(name)
    }
}

/// Builds plans against one module's own declarations first (a ws module's
/// `WebSocketMessage`), then every generated declaration.
pub struct Planner<'a> {
    pub local: Option<&'a TypeTable>,
    pub global: &'a TypeTable,
    /// Recursive types met so far, filled as plans refer to them.
    pub recursive: Map<String, Value>,
}

impl<'a> Planner<'a> {
    pub fn new(global: &'a TypeTable) -> Self {
        Planner {
            local: None,
            global,
            recursive: Map::new(),
        }
    }

    fn lookup(&self, name: &str) -> Option<&'a Shape> {
        self.local.and_then(|l| l.get(name)).or_else(|| self.global.get(name))
    }

    /// The plan for type `name`, or `None` when it holds no date.
    pub fn named(&mut self, name: &str) -> Option<Value> {
        let mut stack = Vec::new();
        self.plan(&Shape::Ref(name.to_string()), &mut stack)
    }

    /// The plan for field `field` of type `name`.
    pub fn field(&mut self, name: &str, field: &str) -> Option<Value> {
        let shape = self.lookup(name)?;
        let mut stack = vec![name.to_string()];
        match self.resolve(shape, &mut HashSet::new())? {
            Shape::Object(fields) => {
                let (_, s) = fields.iter().find(|(n, _)| n == field)?;
                self.plan(s, &mut stack)
            }
            _ => None,
        }
    }

    fn resolve(&self, shape: &'a Shape, seen: &mut HashSet<String>) -> Option<&'a Shape> {
        match shape {
            Shape::Ref(n) => {
                if !seen.insert(n.clone()) {
                    return None;
                }
                self.resolve(self.lookup(n)?, seen)
            }
            other => Some(other),
        }
    }

    fn plan(&mut self, shape: &Shape, stack: &mut Vec<String>) -> Option<Value> {
        match shape {
            Shape::Date => Some(json!("d")),
            Shape::Array(item) => self.plan(item, stack).map(|p| json!({ "a": p })),
            Shape::Object(fields) => {
                let mut out = Map::new();
                for (name, s) in fields {
                    if let Some(p) = self.plan(s, stack) {
                        out.insert(name.clone(), p);
                    }
                }
                (!out.is_empty()).then(|| json!({ "o": out }))
            }
            Shape::Union(members) => members.iter().find_map(|m| self.plan(m, stack)),
            Shape::Ref(name) => {
                if stack.contains(name) {
                    // Recursive: describe it once in the table, refer to it by name.
                    if !self.has_dates(shape, &mut HashSet::new()) {
                        return None;
                    }
                    if !self.recursive.contains_key(name) {
                        self.recursive.insert(name.clone(), json!("pending"));
                        let shape = self.lookup(name)?.clone();
                        let mut inner = vec![name.clone()];
                        let plan = self.plan(&shape, &mut inner).unwrap_or(Value::Null);
                        self.recursive.insert(name.clone(), plan);
                    }
                    return Some(json!({ "r": name }));
                }
                let shape = self.lookup(name)?.clone();
                stack.push(name.clone());
                let plan = self.plan(&shape, stack);
                stack.pop();
                plan
            }
            Shape::Void | Shape::Other => None,
        }
    }

    fn has_dates(&self, shape: &Shape, seen: &mut HashSet<String>) -> bool {
        match shape {
            Shape::Date => true,
            Shape::Array(item) => self.has_dates(item, seen),
            Shape::Object(fields) => fields.iter().any(|(_, s)| self.has_dates(s, seen)),
            Shape::Union(members) => members.iter().any(|m| self.has_dates(m, seen)),
            Shape::Ref(name) => seen.insert(name.clone()) && self.lookup(name).is_some_and(|s| self.has_dates(s, seen)),
            Shape::Void | Shape::Other => false,
        }
    }

    /// Whether type `name` is a real answer (declared and not `void`).
    pub fn answers(&self, name: &str) -> bool {
        match self.lookup(name) {
            None => false,
            Some(shape) => !matches!(self.resolve(shape, &mut HashSet::new()), Some(Shape::Void)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_nested_in_arrays_and_recursive_types() {
        let mut t = TypeTable::default();
        t.insert(
            "User".into(),
            Shape::Object(vec![
                ("id".into(), Shape::Other),
                ("createdAt".into(), Shape::Date),
                ("seenAt".into(), Shape::Array(Box::new(Shape::Date))),
                ("bestFriend".into(), Shape::Ref("User".into())),
            ]),
        );
        t.insert("Plain".into(), Shape::Object(vec![("x".into(), Shape::Other)]));
        t.insert("Nothing".into(), Shape::Void);
        let mut p = Planner::new(&t);
        let plan = p.named("User").unwrap();
        assert_eq!(
            plan,
            json!({"o": {"createdAt": "d", "seenAt": {"a": "d"}, "bestFriend": {"r": "User"}}})
        );
        assert_eq!(p.recursive["User"], plan);
        assert_eq!(p.named("Plain"), None);
        assert!(p.answers("User") && !p.answers("Nothing") && !p.answers("Missing"));
    }
}
