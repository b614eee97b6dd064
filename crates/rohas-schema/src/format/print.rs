//! The bracket tree → formatted text.
//!
//! The layout, in the house style of the examples:
//! - a declaration body has one member per line, indented two spaces; a
//!   blank line separates declarations, and at most one blank line (as
//!   written) separates members;
//! - the fields of a record or of a multi-line inline object are aligned in
//!   columns (name, type, attributes), as `prisma format` does;
//! - an inline object or list stays on one line unless its author broke the
//!   line right after the opening bracket or a `//` comment needs one;
//! - commas separating members are dropped (the line break separates them);
//!   commas inside lists and attribute arguments (`[a, b]`,
//!   `@relation({ fields: [a], references: [id] })`) are kept as written,
//!   as the parser needs them there;
//! - a model attribute (`@@index([a, b])`) is a member: it gets a line of
//!   its own;
//! - every comment stays where it was: on its own line, or after code on
//!   the same line.
//!
//! Pieces it has no rule for are spaced as in the source, so a construct
//! added to the language later survives formatting unchanged.

use super::elements::{Class, Element};
use super::tree::{Group, Hints, Node};

const INDENT: &str = "  ";

/// What goes between two pieces on a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sep {
    None,
    Space,
    /// The line must end (after a `//` comment), or the author ended it
    /// inside a member (before a comment); the next line is indented once more.
    Newline,
}

/// How the children of a group split into lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// The file, a declaration body or a multi-line inline object: one
    /// member per line.
    Body,
    /// A multi-line `[ … ]`, `( … )` or attribute argument `{ … }`: a new
    /// line after each comma, and the commas kept.
    List,
}

/// One line of a body or list: a member (or a comment on its own line) and
/// the comments after it on the same line.
struct Row<'n, 'a> {
    items: Vec<&'n Node<'a>>,
    trailing: Vec<&'n Node<'a>>,
    blank_before: bool,
}

pub(super) struct Printer<'h> {
    pub hints: &'h Hints,
}

impl Printer<'_> {
    /// The whole file: its top-level rows, then one final line break.
    pub fn file(&self, nodes: &[Node<'_>]) -> String {
        let rows = self.rows(nodes, Layout::Body);
        let mut out = self.render_rows(&rows, 0, Layout::Body, true);
        if !out.is_empty() {
            out.push('\n');
        }
        out
    }

    /// Split a group's children into rows.
    fn rows<'n, 'a>(&self, nodes: &'n [Node<'a>], layout: Layout) -> Vec<Row<'n, 'a>> {
        let mut rows: Vec<Row<'n, 'a>> = Vec::new();
        // Where the member being printed ends: a line break before that
        // offset continues it rather than starting a new row.
        let mut member_end = 0;
        // The current row's line was ended by a `//` comment.
        let mut closed = false;
        for node in nodes {
            let start = node.start();
            let newlines = node.newlines_before();
            let inside = layout == Layout::Body && start < member_end;
            let is_comment = matches!(node, Node::Leaf(e) if e.is_comment());
            if let Some(row) = rows.last_mut() {
                if is_comment && newlines == 0 && !inside && !closed && !row.items.is_empty() {
                    row.trailing.push(node);
                    closed = node.last().ends_line();
                    continue;
                }
            }
            let after_comma = layout == Layout::List
                && rows
                    .last()
                    .and_then(|r| r.items.last())
                    .is_some_and(|n| n.leaf_class() == Some(Class::Comma));
            let member = match layout {
                Layout::Body => self.hints.member_end(start),
                Layout::List => None,
            };
            let new_row = rows.is_empty() || (!inside && (closed || newlines > 0 || member.is_some() || after_comma));
            if new_row {
                rows.push(Row {
                    items: Vec::new(),
                    trailing: Vec::new(),
                    blank_before: newlines >= 2 && !rows.is_empty(),
                });
            }
            if let Some(end) = member.filter(|_| !inside) {
                member_end = end;
            }
            let row = rows.last_mut().expect("a row was pushed");
            // A comment that looked trailing is followed by more of the
            // same row: keep the order.
            let trailing = std::mem::take(&mut row.trailing);
            row.items.extend(trailing);
            row.items.push(node);
            closed = node.last().ends_line();
        }
        if layout == Layout::Body {
            for row in &mut rows {
                strip_separators(&mut row.items);
                // A comment between a member and its dropped comma trails it.
                while row.items.len() > 1 {
                    match row.items.last() {
                        Some(Node::Leaf(e)) if e.is_comment() && e.newlines_before == 0 => {
                            let comment = row.items.pop().expect("checked");
                            row.trailing.insert(0, comment);
                        }
                        _ => break,
                    }
                }
            }
            rows.retain(|row| !row.items.is_empty() || !row.trailing.is_empty());
        }
        rows
    }

    /// Rows as lines at `indent`, joined by line breaks (no final one).
    fn render_rows(&self, rows: &[Row<'_, '_>], indent: usize, layout: Layout, top: bool) -> String {
        let columns = match layout {
            Layout::Body => self.columns(rows, indent),
            Layout::List => vec![None; rows.len()],
        };
        let pad = INDENT.repeat(indent);
        let mut out = String::new();
        let mut after_declaration = false;
        for (i, (row, aligned)) in rows.iter().zip(columns).enumerate() {
            if i > 0 {
                out.push('\n');
                if row.blank_before || (top && after_declaration) {
                    out.push('\n');
                }
            }
            out.push_str(&pad);
            let mut line = aligned.unwrap_or_else(|| self.inline(&row.items, indent, top));
            for comment in &row.trailing {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(&comment.first().printed());
            }
            out.push_str(&line);
            after_declaration = matches!(row.items.last(), Some(Node::Group(g)) if g.bracket() == "{");
        }
        out
    }

    /// The field rows of a body, aligned in columns; `None` for the other
    /// rows (and for fields too odd to align, such as one with a comment
    /// between its name and type).
    fn columns(&self, rows: &[Row<'_, '_>], indent: usize) -> Vec<Option<String>> {
        let parts: Vec<Option<[String; 3]>> = rows.iter().map(|row| self.field_parts(row, indent)).collect();
        let name_width = parts.iter().flatten().map(|[n, _, _]| width(n)).max().unwrap_or(0);
        let type_width = parts
            .iter()
            .flatten()
            .filter(|[_, t, rest]| !rest.is_empty() && !t.contains('\n'))
            .map(|[_, t, _]| width(t))
            .max()
            .unwrap_or(0);
        parts
            .into_iter()
            .map(|parts| {
                let [name, ty, rest] = parts?;
                let mut line = format!("{name}{} {ty}", " ".repeat(name_width - width(&name)));
                if !rest.is_empty() {
                    if !ty.contains('\n') {
                        line.push_str(&" ".repeat(type_width.saturating_sub(width(&ty))));
                    }
                    line.push(' ');
                    line.push_str(&rest);
                }
                Some(line)
            })
            .collect()
    }

    /// A field row as `[name, type, attributes…]`, each printed inline.
    fn field_parts(&self, row: &Row<'_, '_>, indent: usize) -> Option<[String; 3]> {
        let first = row.items.first()?;
        let (ty_start, ty_end) = self.hints.field_type(first.start())?;
        let split = |from: usize, to: usize| -> Vec<&Node<'_>> {
            row.items
                .iter()
                .copied()
                .filter(|n| (from..to).contains(&n.start()))
                .collect()
        };
        let name = split(0, ty_start);
        let ty = split(ty_start, ty_end);
        let rest = split(ty_end, usize::MAX);
        let spaced = |a: &[&Node<'_>], b: &[&Node<'_>]| match (a.last(), b.first()) {
            (Some(x), Some(y)) => sep(x, y) == Sep::Space,
            _ => true,
        };
        if name.is_empty() || ty.is_empty() || !spaced(&name, &ty) || !spaced(&ty, &rest) {
            return None;
        }
        Some([
            self.inline(&name, indent, false),
            self.inline(&ty, indent, false),
            self.inline(&rest, indent, false),
        ])
    }

    /// Nodes on one line with the spacing rules of [`sep`]. `bodies`: a
    /// `{ … }` here is a declaration body, always one member per line.
    fn inline(&self, items: &[&Node<'_>], indent: usize, bodies: bool) -> String {
        let mut out = String::new();
        let mut prev: Option<&Node<'_>> = None;
        for node in items {
            if let Some(prev) = prev {
                match sep(prev, node) {
                    Sep::None => {}
                    Sep::Space => out.push(' '),
                    Sep::Newline => {
                        out.push('\n');
                        out.push_str(&INDENT.repeat(indent + 1));
                    }
                }
            }
            match node {
                Node::Leaf(element) => out.push_str(&element.printed()),
                Node::Group(group) => out.push_str(&self.group(group, indent, bodies)),
            }
            prev = Some(node);
        }
        out
    }

    fn group(&self, group: &Group<'_>, indent: usize, body: bool) -> String {
        let open = group.open.text;
        let close = group.close.as_ref().map_or("", |c| c.text);
        let brace = open == "{";
        if group.children.is_empty() {
            return format!("{open}{close}");
        }
        let forced = group
            .children
            .iter()
            .any(|c| matches!(c, Node::Leaf(e) if e.ends_line()));
        let multiline = (body && brace) || forced || group.children[0].newlines_before() > 0;
        if !multiline {
            let children: Vec<&Node<'_>> = group.children.iter().collect();
            let inner = self.inline(&children, indent, false);
            return if brace {
                format!("{{ {inner} }}")
            } else {
                format!("{open}{inner}{close}")
            };
        }
        // Comments on the opening bracket's line stay there.
        let mut head = String::new();
        let mut rest = &group.children[..];
        while let Some((Node::Leaf(e), tail)) = rest.split_first() {
            if !e.is_comment() || e.newlines_before > 0 {
                break;
            }
            head.push(' ');
            head.push_str(&e.printed());
            rest = tail;
            if e.ends_line() {
                break;
            }
        }
        // An attribute's `{ fields: [a], references: [id] }` needs its
        // commas: it is laid out as a list, not as a body.
        let layout = if brace && !self.hints.is_argument_object(group.open.start) {
            Layout::Body
        } else {
            Layout::List
        };
        let rows = self.rows(rest, layout);
        let inner = self.render_rows(&rows, indent + 1, layout, false);
        let pad = INDENT.repeat(indent);
        if inner.is_empty() {
            format!("{open}{head}\n{pad}{close}")
        } else {
            format!("{open}{head}\n{inner}\n{pad}{close}")
        }
    }
}

/// Spacing between two neighbours on a line.
fn sep(prev: &Node<'_>, next: &Node<'_>) -> Sep {
    let a: &Element<'_> = prev.last();
    let b: &Element<'_> = next.first();
    if a.ends_line() {
        return Sep::Newline;
    }
    if b.is_comment() || a.class == Class::BlockComment {
        return if b.newlines_before > 0 {
            Sep::Newline
        } else {
            Sep::Space
        };
    }
    let as_written = if b.start > a.end { Sep::Space } else { Sep::None };
    match (a.class, b.class) {
        (_, Class::Comma | Class::Colon | Class::Question) => Sep::None,
        (Class::At, _) => Sep::None,
        (Class::Comma | Class::Colon, _) => Sep::Space,
        (Class::Other | Class::Open, _) | (_, Class::Other | Class::Close) => as_written,
        _ => match next {
            Node::Group(group) => match group.bracket() {
                // `@default(now)`: arguments hug the attribute name.
                "(" if a.class == Class::Word => Sep::None,
                "(" => as_written,
                // `String[]`, `{ … }[]`, `Int?[]`: array suffixes hug the type.
                "[" if matches!(a.class, Class::Word | Class::Close | Class::Question) => {
                    if group.children.is_empty() {
                        Sep::None
                    } else {
                        as_written
                    }
                }
                _ => Sep::Space,
            },
            Node::Leaf(_) => Sep::Space,
        },
    }
}

/// Separators at either end of a member: the line break separates members.
fn strip_separators(items: &mut Vec<&Node<'_>>) {
    let is_comma = |n: &&Node<'_>| n.leaf_class() == Some(Class::Comma);
    while items.last().is_some_and(is_comma) {
        items.pop();
    }
    let leading = items.iter().take_while(|n| is_comma(n)).count();
    items.drain(..leading);
}

fn width(text: &str) -> usize {
    text.chars().count()
}
