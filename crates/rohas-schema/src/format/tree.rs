//! Pieces → a tree of bracket groups, and what the syntax tree says about
//! where members start.
//!
//! The printer lays out brackets, not grammar rules: a `{ … }`, `[ … ]` or
//! `( … )` is a [`Group`] whatever construct it belongs to. What only the
//! grammar knows (this name starts a field, this newline sits inside a
//! property's value) comes from the parser's AST as byte offsets in
//! [`Hints`]. A construct the AST does not describe still prints, laid out
//! by the line breaks its author wrote.

use super::elements::{Class, Element};
use crate::ast::{AttrArg, AttributeExpr, Decl, FieldDecl, TypeExpr, Value};
use std::collections::{HashMap, HashSet};

#[derive(Debug)]
pub(super) enum Node<'a> {
    Leaf(Element<'a>),
    Group(Group<'a>),
}

#[derive(Debug)]
pub(super) struct Group<'a> {
    pub open: Element<'a>,
    pub children: Vec<Node<'a>>,
    /// Missing only when the file ends inside the group.
    pub close: Option<Element<'a>>,
}

impl<'a> Node<'a> {
    pub fn first(&self) -> &Element<'a> {
        match self {
            Node::Leaf(e) => e,
            Node::Group(g) => &g.open,
        }
    }

    pub fn last(&self) -> &Element<'a> {
        match self {
            Node::Leaf(e) => e,
            Node::Group(g) => g.close.as_ref().unwrap_or(&g.open),
        }
    }

    pub fn start(&self) -> usize {
        self.first().start
    }

    pub fn newlines_before(&self) -> usize {
        self.first().newlines_before
    }

    pub fn leaf_class(&self) -> Option<Class> {
        match self {
            Node::Leaf(e) => Some(e.class),
            Node::Group(_) => None,
        }
    }
}

impl Group<'_> {
    pub fn bracket(&self) -> &str {
        self.open.text
    }
}

/// Nest the pieces by their brackets. A closing bracket with no group open
/// stays a plain piece.
pub(super) fn nest(elements: Vec<Element<'_>>) -> Vec<Node<'_>> {
    let mut stack: Vec<(Element<'_>, Vec<Node<'_>>)> = Vec::new();
    let mut top = Vec::new();
    for element in elements {
        match element.class {
            Class::Open => stack.push((element, Vec::new())),
            Class::Close if !stack.is_empty() => {
                let (open, children) = stack.pop().expect("checked non-empty");
                let group = Node::Group(Group {
                    open,
                    children,
                    close: Some(element),
                });
                push(&mut stack, &mut top, group);
            }
            _ => push(&mut stack, &mut top, Node::Leaf(element)),
        }
    }
    while let Some((open, children)) = stack.pop() {
        let group = Node::Group(Group {
            open,
            children,
            close: None,
        });
        push(&mut stack, &mut top, group);
    }
    top
}

fn push<'a>(stack: &mut [(Element<'a>, Vec<Node<'a>>)], top: &mut Vec<Node<'a>>, node: Node<'a>) {
    match stack.last_mut() {
        Some((_, children)) => children.push(node),
        None => top.push(node),
    }
}

/// Byte offsets the AST knows about.
#[derive(Debug, Default)]
pub(super) struct Hints {
    /// Where a declaration, field, property or enum variant starts → where
    /// it ends. A line break before the end (`triggers:` then `[A]` on the
    /// next line) does not end the member.
    members: HashMap<usize, usize>,
    /// A field's name offset → its type's byte range.
    field_types: HashMap<usize, (usize, usize)>,
    /// Where a `{ key: value, … }` attribute argument opens. Unlike a
    /// declaration body or an inline type, its commas are required.
    argument_objects: HashSet<usize>,
}

impl Hints {
    pub fn new(decls: &[Decl]) -> Hints {
        let mut collector = Collector::default();
        for decl in decls {
            collector.decl(decl);
        }
        collector.hints
    }

    /// The end of the member starting at `offset`, if one does.
    pub fn member_end(&self, offset: usize) -> Option<usize> {
        self.members.get(&offset).copied()
    }

    pub fn field_type(&self, name_offset: usize) -> Option<(usize, usize)> {
        self.field_types.get(&name_offset).copied()
    }

    /// Whether the `{` at `offset` opens an attribute argument, whose items
    /// the parser reads only when commas separate them.
    pub fn is_argument_object(&self, offset: usize) -> bool {
        self.argument_objects.contains(&offset)
    }
}

#[derive(Default)]
struct Collector {
    hints: Hints,
}

impl Collector {
    fn member(&mut self, start: u32, end: u32) {
        let end = end as usize;
        let known = self.hints.members.entry(start as usize).or_insert(end);
        *known = (*known).max(end);
    }

    fn decl(&mut self, decl: &Decl) {
        match decl {
            Decl::Record(record) => {
                self.member(record.span.start, record.span.end);
                self.fields(&record.fields);
                // `@@index([a])`: a member of its own, even when written on
                // a field's line.
                for attribute in &record.attributes {
                    self.member(attribute.span.start, attribute.span.end);
                    self.attribute(attribute);
                }
            }
            Decl::Enum(decl) => {
                self.member(decl.span.start, decl.span.end);
                for (variant, _) in &decl.variants {
                    self.member(variant.span.start, variant.span.end);
                }
            }
            Decl::Block(block) => {
                self.member(block.span.start, block.span.end);
                for property in &block.properties {
                    self.member(property.span.start, property.span.end);
                    self.value(&property.value);
                }
            }
            // A declaration added to the language later prints as written.
            #[allow(unreachable_patterns)]
            _ => {}
        }
    }

    fn fields(&mut self, fields: &[FieldDecl]) {
        for field in fields {
            self.member(field.span.start, field.span.end);
            let ty = field.ty.span();
            self.hints
                .field_types
                .insert(field.name.span.start as usize, (ty.start as usize, ty.end as usize));
            self.type_expr(&field.ty);
            field.attributes.iter().for_each(|a| self.attribute(a));
        }
    }

    fn attribute(&mut self, attribute: &AttributeExpr) {
        attribute.args.iter().for_each(|arg| self.argument(arg));
    }

    fn argument(&mut self, arg: &AttrArg) {
        match arg {
            AttrArg::Value(..) => {}
            AttrArg::List(items, _) => items.iter().for_each(|item| self.argument(item)),
            AttrArg::Named(_, value) => self.argument(value),
            AttrArg::Object(items, span) => {
                self.hints.argument_objects.insert(span.start as usize);
                items.iter().for_each(|item| self.argument(item));
            }
        }
    }

    fn type_expr(&mut self, ty: &TypeExpr) {
        match ty {
            TypeExpr::Name(_) => {}
            TypeExpr::Array(inner, _) | TypeExpr::Optional(inner, _) => self.type_expr(inner),
            TypeExpr::Object(fields, _) => self.fields(fields),
            // A type form added to the language later prints as written.
            #[allow(unreachable_patterns)]
            _ => {}
        }
    }

    fn value(&mut self, value: &Value) {
        match value {
            Value::Type(ty) => self.type_expr(ty),
            Value::List(items, _) => items.iter().for_each(|item| self.value(item)),
            _ => {}
        }
    }
}
