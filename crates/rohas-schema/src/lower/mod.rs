//! Syntax trees of every file → one validated [`Schema`].
//!
//! This is where names get meaning: the one namespace shared by all files is
//! built first (duplicates are reported with both places), then each
//! declaration is lowered, resolving its references against that namespace.
//! Checks that look at the schema as a whole (routes, trigger cycles, events
//! nobody handles) run last, on the lowered declarations.
//!
//! Every problem becomes a [`Diagnostic`]; nothing here returns early on the
//! first error, so a user sees all of them in one run.

mod blocks;
mod graph;
mod query;
mod relations;
mod routes;
mod types;

use crate::ast::{BlockKind, Decl};
use crate::code::Code;
use crate::diagnostic::Diagnostic;
use crate::model::Schema;
use crate::span::{SourceMap, Span};
use std::collections::HashMap;

/// What a declared name is, for "X is an event, not a type" messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeclKind {
    Record,
    Enum,
    Block(BlockKind),
}

impl DeclKind {
    fn describe(self) -> &'static str {
        match self {
            DeclKind::Record => "a type",
            DeclKind::Enum => "an enum",
            DeclKind::Block(BlockKind::Api) => "an api",
            DeclKind::Block(BlockKind::Event) => "an event",
            DeclKind::Block(BlockKind::Cron) => "a cron job",
            DeclKind::Block(BlockKind::Ws) => "a WebSocket endpoint",
        }
    }
}

/// The one namespace of a schema folder: every declared name, its kind and
/// where it was declared first.
pub(crate) struct Names {
    table: HashMap<String, (DeclKind, Span)>,
}

impl Names {
    pub(crate) fn kind(&self, name: &str) -> Option<DeclKind> {
        self.table.get(name).map(|(k, _)| *k)
    }

    pub(crate) fn of_kind(&self, wanted: impl Fn(DeclKind) -> bool) -> impl Iterator<Item = &str> {
        self.table
            .iter()
            .filter(move |(_, (k, _))| wanted(*k))
            .map(|(n, _)| n.as_str())
    }
}

/// Lower every file's declarations. The schema is returned only when no
/// error was found; warnings never block it.
pub fn lower(
    sources: SourceMap,
    files: Vec<Vec<Decl>>,
    mut diagnostics: Vec<Diagnostic>,
) -> (Option<Schema>, Vec<Diagnostic>, SourceMap) {
    let decls: Vec<Decl> = files.into_iter().flatten().collect();
    let names = collect_names(&decls, &mut diagnostics);
    let mut schema = Schema::default();

    for decl in &decls {
        match decl {
            Decl::Record(record) => schema.types.push(types::lower_record(record, &names, &mut diagnostics)),
            Decl::Enum(decl) => schema.enums.push(types::lower_enum(decl, &mut diagnostics)),
            Decl::Block(block) => blocks::lower_block(block, &names, &mut schema, &mut diagnostics),
        }
    }

    relations::check(&schema, &mut diagnostics);
    routes::check(&schema, &mut diagnostics);
    query::check(&schema, &mut diagnostics);
    graph::check(&schema, &mut diagnostics);
    types::check_handler_names(&schema, &mut diagnostics);

    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    schema.sources = sources.clone();
    ((!has_errors).then_some(schema), diagnostics, sources)
}

fn collect_names(decls: &[Decl], diagnostics: &mut Vec<Diagnostic>) -> Names {
    let mut table: HashMap<String, (DeclKind, Span)> = HashMap::new();
    let mut modules: HashMap<String, (String, Span)> = HashMap::new();
    for decl in decls {
        let kind = match decl {
            Decl::Record(_) => DeclKind::Record,
            Decl::Enum(_) => DeclKind::Enum,
            Decl::Block(b) => DeclKind::Block(b.kind),
        };
        let name = decl.name();
        if crate::model::Primitive::from_name(&name.name).is_some() {
            diagnostics.push(
                Diagnostic::error(
                    Code::E0004,
                    format!("`{}` is a built-in type and cannot be declared again", name.name),
                )
                .with_primary(name.span, "built-in type name")
                .with_help("choose another name"),
            );
            continue;
        }
        match table.get(&name.name) {
            Some((first_kind, first)) => diagnostics.push(
                Diagnostic::error(Code::E0004, format!("`{}` is declared twice", name.name))
                    .with_primary(name.span, format!("{} named `{}` again", kind.describe(), name.name))
                    .with_secondary(*first, format!("first declared here as {}", first_kind.describe()))
                    .with_help("all .ro files of a schema folder share one namespace: rename or remove one of them"),
            ),
            None => {
                check_module_name(&mut modules, &name.name, name.span, diagnostics);
                table.insert(name.name.clone(), (kind, name.span));
            }
        }
    }
    Names { table }
}

/// A declaration's module is its name, and Python also imports it under its
/// snake_case name (`generated.models.user` for `User`): two names with one
/// snake_case form (`User` and `user`, `CreateUser` and `create_user`) would
/// be one module there, and one file on a case-insensitive disk.
fn check_module_name(
    modules: &mut HashMap<String, (String, Span)>,
    name: &str,
    at: Span,
    diagnostics: &mut Vec<Diagnostic>,
) {
    types::check_file_name_length(name, at, diagnostics);
    types::check_not_reserved(name, at, types::Named::Declaration, diagnostics);
    let snake = crate::naming::snake_case(name);
    match modules.get(&snake) {
        Some((other, first)) => diagnostics.push(
            Diagnostic::error(
                Code::E0011,
                format!("declarations `{other}` and `{name}` would share the module `{snake}`"),
            )
            .with_primary(at, format!("becomes `{snake}`"))
            .with_secondary(*first, format!("also becomes `{snake}`"))
            .with_help("rename one of them"),
        ),
        None => {
            modules.insert(snake, (name.to_string(), at));
        }
    }
}
