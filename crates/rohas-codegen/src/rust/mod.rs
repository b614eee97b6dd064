//! Rust output: the `src/generated/` module tree, the thin `rohas-runtime`
//! crate written into the project, and handler stubs.
//!
//! Layout of what [`generate`] returns (paths relative to the project root):
//!
//! ```text
//! src/generated/mod.rs                    pub mod api; events; websockets; models; state; runtime; handlers
//! src/generated/models/<Name>.rs          one struct or enum per model/input/type/enum
//! src/generated/api/<Name>.rs             <Name>Request, <Name>Response, re-exported body/response types
//! src/generated/events/<Name>.rs          the event type (payload fields at top level + payload + metadata)
//! src/generated/websockets/<Name>.rs      message type (also as WebSocketMessage), Connection
//! src/generated/state.rs                  re-exports State, Logger, Connection … from rohas-runtime
//! src/generated/runtime.rs                re-exports HandlerContext, HttpError, Result, RuntimeError
//! src/generated/handlers/{mod,api,events,cron,websockets,middlewares}.rs
//!                                         `#[path]` declarations of the user's handler files
//! src/generated/rohas-runtime/{Cargo.toml,src/lib.rs}
//!                                         the thin runtime crate the project depends on by path
//! ```
//!
//! Modules are named exactly like the declarations (`generated::api::Health`),
//! as the seed's imports require; the lints about those names are allowed on
//! the generated modules only, never on the handler modules, so the user's
//! own code is still checked by clippy.

mod code;
mod declarations;
mod handler_modules;
mod stubs;
mod types;

pub use stubs::stubs;

use crate::GeneratedFile;
use code::Code;
use rohas_runtime::{HandlerSpec, Language};
use rohas_schema::model::Schema;
use std::path::{Path, PathBuf};

/// Version written into the thin runtime crate's `Cargo.toml`.
pub const RUNTIME_VERSION: &str = env!("CARGO_PKG_VERSION");

const RUNTIME_CARGO_TOML: &str = include_str!("../../templates/rust/runtime/Cargo.toml.tmpl");
const RUNTIME_LIB_RS: &str = include_str!("../../templates/rust/runtime/lib.rs");

/// Lints the schema's naming trips in generated modules (module `Health`,
/// variant names, docs written for people rather than rustdoc). Set as inner
/// attributes of the generated groups only: handler modules stay linted.
const GENERATED_ALLOWS: &[&str] = &[
    "non_snake_case",
    "non_camel_case_types",
    "clippy::upper_case_acronyms",
    "clippy::enum_variant_names",
    "clippy::doc_lazy_continuation",
    "clippy::tabs_in_doc_comments",
];

/// Everything under `src/generated/`, with each handler module pointing at
/// the handler's preferred file (`spec.files[0]`, where a stub goes).
pub fn generate(schema: &Schema) -> Vec<GeneratedFile> {
    let specs = crate::handler_specs(schema, Language::Rust);
    generate_with(schema, &specs, &|spec| spec.files.first().cloned())
}

/// Like [`generate`], for a project on disk: each handler module points at
/// the first candidate file that exists (`CreateUser.rs` when the user chose
/// that name), else at `spec.files[0]`. Use this when writing a project.
pub fn generate_in(schema: &Schema, project_root: &Path) -> Vec<GeneratedFile> {
    let specs = crate::handler_specs(schema, Language::Rust);
    let root = project_root.to_path_buf();
    generate_with(schema, &specs, &move |spec| resolve_existing(&root, spec))
}

fn resolve_existing(root: &Path, spec: &HandlerSpec) -> Option<PathBuf> {
    spec.files
        .iter()
        .find(|f| root.join(f).is_file())
        .or_else(|| spec.files.first())
        .cloned()
}

fn generate_with(
    schema: &Schema,
    specs: &[HandlerSpec],
    resolve: &dyn Fn(&HandlerSpec) -> Option<PathBuf>,
) -> Vec<GeneratedFile> {
    let mut files = Vec::new();
    let base = Path::new("src/generated");
    let mut add = |rel: String, mut contents: String| {
        if !contents.ends_with('\n') {
            contents.push('\n');
        }
        files.push(GeneratedFile::new(base.join(rel), contents));
    };

    add("mod.rs".into(), root_module());

    let mut models = Vec::new();
    for decl in &schema.types {
        add(
            format!("models/{}.rs", decl.name),
            declarations::record_module(schema, decl),
        );
        models.push(decl.name.as_str());
    }
    for decl in &schema.enums {
        add(
            format!("models/{}.rs", decl.name),
            declarations::enum_module(schema, decl),
        );
        models.push(decl.name.as_str());
    }
    add(
        "models/mod.rs".into(),
        group_module(
            "Models, inputs, types and enums of the schema, one module each.",
            &mut models,
        ),
    );

    for api in &schema.apis {
        add(
            format!("api/{}.rs", api.name),
            declarations::api_module(schema, api),
        );
    }
    let mut apis: Vec<&str> = schema.apis.iter().map(|a| a.name.as_str()).collect();
    add(
        "api/mod.rs".into(),
        group_module(
            "One module per api: its request and response types.",
            &mut apis,
        ),
    );

    for event in &schema.events {
        add(
            format!("events/{}.rs", event.name),
            declarations::event_module(schema, event),
        );
    }
    let mut events: Vec<&str> = schema.events.iter().map(|e| e.name.as_str()).collect();
    add(
        "events/mod.rs".into(),
        group_module(
            "One module per event: the type its handlers receive.",
            &mut events,
        ),
    );

    for ws in &schema.websockets {
        add(
            format!("websockets/{}.rs", ws.name),
            declarations::websocket_module(schema, ws),
        );
    }
    let mut sockets: Vec<&str> = schema.websockets.iter().map(|w| w.name.as_str()).collect();
    add(
        "websockets/mod.rs".into(),
        group_module(
            "One module per WebSocket endpoint: its message and connection types.",
            &mut sockets,
        ),
    );

    add("state.rs".into(), STATE_MODULE.trim_end().to_string());
    add("runtime.rs".into(), RUNTIME_MODULE.trim_end().to_string());

    for (name, contents) in handler_modules::files(specs, resolve) {
        add(format!("handlers/{name}"), contents);
    }

    files.push(GeneratedFile::new(
        base.join("rohas-runtime/Cargo.toml"),
        RUNTIME_CARGO_TOML.replace("{{version}}", RUNTIME_VERSION),
    ));
    files.push(GeneratedFile::new(
        base.join("rohas-runtime/src/lib.rs"),
        RUNTIME_LIB_RS,
    ));
    files
}

fn root_module() -> String {
    let mut code = Code::new();
    code.line("//! Types generated from the schema (`rohas codegen`), and the declarations");
    code.line("//! of your handler files. Do not edit: every run rewrites src/generated/.");
    code.line("//! Your `src/lib.rs` declares it with `pub mod generated;`.");
    code.blank();
    code.line("pub mod api;");
    code.line("pub mod events;");
    code.line(
        "/// Your handler files (`src/handlers/…`, `src/middlewares/…`), linted as your code.",
    );
    code.line("pub mod handlers;");
    code.line("pub mod models;");
    code.line("pub mod runtime;");
    code.line("pub mod state;");
    code.line("pub mod websockets;");
    code.finish()
}

/// A group's `mod.rs`: one module per declaration, sorted as rustfmt sorts.
fn group_module(doc: &str, names: &mut [&str]) -> String {
    names.sort_unstable();
    let mut code = Code::new();
    code.line(&format!("//! {doc}"));
    code.line("// Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.");
    code.blank();
    code.open("#![allow(");
    // rustfmt's layout: one per line, no trailing comma in attributes.
    code.line(&GENERATED_ALLOWS.join(",\n    "));
    code.close(")]");
    if !names.is_empty() {
        code.blank();
    }
    for name in names.iter() {
        code.line(&format!("pub mod {name};"));
    }
    code.finish()
}

const STATE_MODULE: &str = r#"//! `State`: what a handler uses to log, trigger events and broadcast.
// Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.

pub use rohas_runtime::{Connection, Effects, Level, Logger, State};
"#;

const RUNTIME_MODULE: &str = r#"//! `HandlerContext`, `HttpError`, `Result` and `RuntimeError`.
// Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.

pub use rohas_runtime::{HandlerContext, HttpError, Result, RuntimeError};
"#;
