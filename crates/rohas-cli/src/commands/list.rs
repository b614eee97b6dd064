//! `rohas list-handlers` and `rohas list-events`: what the schema asks for,
//! and where it lives, without starting anything.

use crate::output::Output;
use crate::project;
use rohas_schema::model::{NameRef, Schema, TypeRef};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// A .ro file, a schema folder, or a project folder (default: the current project's schema/).
    pub path: Option<PathBuf>,
    /// Handler language, when the project does not say (python, typescript, rust).
    #[arg(long)]
    pub lang: Option<String>,
}

pub fn handlers(args: Args, out: &Output) -> anyhow::Result<ExitCode> {
    let path = project::schema_path(args.path.as_deref())?;
    let schema = project::load_schema(&path, out)?;
    let root = project_root_of(&path)?;
    let lang = project::language(&root, args.lang.as_deref())?;
    let specs = rohas_codegen::handler_specs(&schema, lang);

    let rows: Vec<[String; 4]> = specs
        .iter()
        .map(|spec| {
            let existing = spec.files.iter().find(|f| root.join(f).is_file());
            let file = existing.unwrap_or(&spec.files[0]).display().to_string();
            let status = match (existing, spec.optional) {
                (Some(_), _) => "ok",
                (None, true) => "optional",
                (None, false) => "missing",
            };
            [
                spec.kind.to_string(),
                spec.name.clone(),
                format!("{file} :: {}", spec.functions.join(" | ")),
                status.into(),
            ]
        })
        .collect();
    print_table(["KIND", "NAME", "FILE :: FUNCTION", "STATUS"], &rows);
    let missing = rows.iter().filter(|r| r[3] == "missing").count();
    if missing > 0 {
        out.warn(&format!(
            "{missing} handler file(s) missing: run `rohas codegen` to create stubs"
        ));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn events(args: Args, out: &Output) -> anyhow::Result<ExitCode> {
    let path = project::schema_path(args.path.as_deref())?;
    let schema = project::load_schema(&path, out)?;
    let rows: Vec<[String; 5]> = schema
        .events
        .iter()
        .map(|e| {
            [
                e.name.clone(),
                e.payload.as_ref().map_or_else(|| "-".into(), type_name),
                names(&e.handlers),
                names(&e.triggers),
                publishers(&schema, &e.name),
            ]
        })
        .collect();
    print_table(["EVENT", "PAYLOAD", "HANDLERS", "TRIGGERS", "PUBLISHED BY"], &rows);
    Ok(ExitCode::SUCCESS)
}

fn project_root_of(schema_path: &Path) -> anyhow::Result<PathBuf> {
    match project::find_root(schema_path) {
        Some(root) => Ok(root),
        None => project::current_root(),
    }
}

/// Every api, cron, ws and event whose `triggers` list `event`.
fn publishers(schema: &Schema, event: &str) -> String {
    let lists = schema
        .apis
        .iter()
        .map(|a| (format!("api {}", a.name), &a.triggers))
        .chain(schema.crons.iter().map(|c| (format!("cron {}", c.name), &c.triggers)))
        .chain(
            schema
                .websockets
                .iter()
                .map(|w| (format!("ws {}", w.name), &w.triggers)),
        )
        .chain(schema.events.iter().map(|e| (format!("event {}", e.name), &e.triggers)));
    let who: Vec<String> = lists
        .filter(|(_, t)| t.iter().any(|r| r.name == event))
        .map(|(w, _)| w)
        .collect();
    if who.is_empty() {
        "-".into()
    } else {
        who.join(", ")
    }
}

fn names(refs: &[NameRef]) -> String {
    if refs.is_empty() {
        "-".into()
    } else {
        refs.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// The type as a user would write it in the schema.
fn type_name(ty: &TypeRef) -> String {
    match ty {
        TypeRef::Primitive(p) => p.name().to_string(),
        TypeRef::Named { name, .. } => name.clone(),
        TypeRef::Array(inner) => format!("{}[]", type_name(inner)),
        TypeRef::Optional(inner) => format!("{}?", type_name(inner)),
        TypeRef::Object(fields) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|f| format!("{}: {}{}", f.name, type_name(&f.ty), if f.optional { "?" } else { "" }))
                .collect();
            format!("{{ {} }}", inner.join(", "))
        }
    }
}

fn print_table<const N: usize>(headers: [&str; N], rows: &[[String; N]]) {
    let mut widths = headers.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        crate::output::stdout_line(padded.join("  ").trim_end());
    };
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}
