//! `rohas list-handlers` and `rohas list-events`: what the schema asks for,
//! and where it lives, without starting anything.

use crate::output::Output;
use crate::project;
use rohas_runtime::{HandlerKind, HandlerSpec, Language};
use rohas_schema::model::{NameRef, Schema, TypeRef};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// A .ro file, a schema folder, or a project folder (default: the current project's schema/).
    pub path: Option<PathBuf>,
    /// Handler language, when the project does not say (python, typescript, rust);
    /// without one, list-handlers shows the files of every language.
    #[arg(long)]
    pub lang: Option<String>,
}

pub fn handlers(args: Args, out: &Output) -> anyhow::Result<ExitCode> {
    let path = project::schema_path(args.path.as_deref())?;
    let schema = project::load_schema(&path, out)?;
    // A bare schema folder (no project around it) still lists its
    // handlers: files are then what codegen would create, with no status.
    let root = project::find_root(&path).or_else(|| project::current_root().ok());
    let lang = match (&root, args.lang.as_deref()) {
        (_, Some(name)) => Some(project::parse_language(name)?),
        (Some(root), None) => project::language_if_known(root, None)?,
        (None, None) => None,
    };
    let Some(lang) = lang else {
        out.warn(
            "no handler language (no --lang, config/rohas.toml or project files): listing the files of each language",
        );
        return every_language(&schema);
    };
    let specs = rohas_codegen::handler_specs(&schema, lang);
    let Some(root) = root else {
        let rows: Vec<[String; 4]> = specs
            .iter()
            .map(|spec| {
                [
                    spec.kind.to_string(),
                    spec.name.clone(),
                    trigger(&schema, spec),
                    location(spec, None),
                ]
            })
            .collect();
        print_table(["KIND", "NAME", "ON", "FILE :: FUNCTION"], &rows);
        return Ok(ExitCode::SUCCESS);
    };

    let rows: Vec<[String; 5]> = specs
        .iter()
        .map(|spec| {
            let existing = spec.files.iter().find(|f| root.join(f).is_file());
            let status = match (existing, spec.optional) {
                (Some(_), _) => "ok",
                (None, true) => "optional",
                (None, false) => "missing",
            };
            [
                spec.kind.to_string(),
                spec.name.clone(),
                trigger(&schema, spec),
                location(spec, existing),
                status.into(),
            ]
        })
        .collect();
    print_table(["KIND", "NAME", "ON", "FILE :: FUNCTION", "STATUS"], &rows);
    let missing = rows.iter().filter(|r| r[4] == "missing").count();
    if missing > 0 {
        out.warn(&format!(
            "{missing} handler file(s) missing: run `rohas codegen` to create stubs"
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// No language known: each handler once per language, with the file and
/// functions that language looks for.
fn every_language(schema: &Schema) -> anyhow::Result<ExitCode> {
    let langs = [Language::Python, Language::TypeScript, Language::Rust];
    let specs: Vec<Vec<HandlerSpec>> = langs
        .iter()
        .map(|lang| rohas_codegen::handler_specs(schema, *lang))
        .collect();
    let mut rows: Vec<[String; 5]> = Vec::new();
    // Every language lists the same handlers in the same (schema) order.
    for i in 0..specs[0].len() {
        for (lang, specs) in langs.iter().zip(&specs) {
            let Some(spec) = specs.get(i) else { continue };
            rows.push([
                spec.kind.to_string(),
                spec.name.clone(),
                trigger(schema, spec),
                lang.as_str().to_string(),
                location(spec, None),
            ]);
        }
    }
    print_table(["KIND", "NAME", "ON", "LANG", "FILE :: FUNCTION"], &rows);
    Ok(ExitCode::SUCCESS)
}

/// `src/handlers/api/health.py :: handler | handle_health`: the file found
/// (else the one codegen would create) and the functions looked for.
fn location(spec: &HandlerSpec, existing: Option<&PathBuf>) -> String {
    let file = existing
        .or(spec.files.first())
        .map(|f| f.display().to_string())
        .unwrap_or_default();
    format!("{file} :: {}", spec.functions.join(" | "))
}

/// What makes the handler run: an api's method and path, the event
/// handled, a cron schedule, a WebSocket path, or the apis and ws
/// endpoints a middleware guards.
fn trigger(schema: &Schema, spec: &HandlerSpec) -> String {
    let declaration = spec.id.scope();
    let found = match spec.kind {
        HandlerKind::Api => schema
            .api(declaration)
            .map(|a| format!("{} {}", a.method.as_str(), a.path)),
        HandlerKind::Event => spec.event_type.clone(),
        HandlerKind::Cron => schema.cron(declaration).map(|c| c.schedule.clone()),
        HandlerKind::WsConnect | HandlerKind::WsMessage | HandlerKind::WsDisconnect => {
            schema.websocket(declaration).map(|w| w.path.clone())
        }
        HandlerKind::Middleware => {
            let users: Vec<&str> = schema
                .apis
                .iter()
                .filter(|a| a.middlewares.iter().any(|m| m.name == declaration))
                .map(|a| a.name.as_str())
                .chain(
                    schema
                        .websockets
                        .iter()
                        .filter(|w| w.middlewares.iter().any(|m| m.name == declaration))
                        .map(|w| w.name.as_str()),
                )
                .collect();
            (!users.is_empty()).then(|| users.join(", "))
        }
    };
    found.unwrap_or_else(|| "-".into())
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
