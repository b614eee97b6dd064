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
//! src/generated/registry.rs               the handlers found (syn) and the glue calling them,
//!                                         plus the C ABI exports (`rohas-rust-glue`)
//! src/generated/extract.rs                `FromCall` for every generated type (`rohas-rust-glue`)
//! src/generated/capture.rs                `println!` & co. shadowed to log through the engine
//! src/generated/testing.rs                the test harness's schema side and typed calls (`testing.rs`)
//! src/generated/rohas-runtime/{Cargo.toml,src/{lib,abi,call,capture,testing}.rs, src/testing/}
//!                                         the thin runtime crate the project depends on by path
//!                                         (`rohas-rust-sdk`, written as it is)
//! ```
//!
//! Modules are named exactly like the declarations (`generated::api::Health`),
//! as handlers import them; the lints about those names are allowed on
//! the generated modules only, never on the handler modules, so the user's
//! own code is still checked by clippy.

mod code;
mod declarations;
mod stubs;
mod testing;
mod types;

pub use stubs::stubs;

use crate::GeneratedFile;
use code::Code;
use rohas_runtime::{HandlerSpec, Language};
use rohas_rust_glue::resolve_existing;
use rohas_schema::model::Schema;
use std::path::{Path, PathBuf};

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
/// The glue finds handlers in the stubs codegen would write.
pub fn generate(schema: &Schema) -> Vec<GeneratedFile> {
    let specs = crate::handler_specs(schema, Language::Rust);
    let stubs = stubs(schema, &specs);
    let read = |path: &Path| stubs.iter().find(|s| s.path == path).map(|s| s.contents.clone());
    generate_with(schema, &specs, &|spec| spec.files.first().cloned(), &read)
}

/// Like [`generate`], for a project on disk: each handler module points at
/// the first candidate file that exists (`CreateUser.rs` when the user chose
/// that name), else at `spec.files[0]`. Use this when writing a project.
/// The glue reads each handler file, or the stub codegen writes where
/// there is none.
pub fn generate_in(schema: &Schema, project_root: &Path) -> Vec<GeneratedFile> {
    let specs = crate::handler_specs(schema, Language::Rust);
    let root = project_root.to_path_buf();
    let stubs = stubs(schema, &specs);
    let read = |path: &Path| {
        std::fs::read_to_string(project_root.join(path))
            .ok()
            .or_else(|| stubs.iter().find(|s| s.path == path).map(|s| s.contents.clone()))
    };
    generate_with(schema, &specs, &move |spec| resolve_existing(&root, spec), &read)
}

fn with_newline(mut contents: String) -> String {
    if !contents.ends_with('\n') {
        contents.push('\n');
    }
    contents
}

fn generate_with(
    schema: &Schema,
    specs: &[HandlerSpec],
    resolve: &dyn Fn(&HandlerSpec) -> Option<PathBuf>,
    read: &dyn Fn(&Path) -> Option<String>,
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
        add(format!("api/{}.rs", api.name), declarations::api_module(schema, api));
    }
    let mut apis: Vec<&str> = schema.apis.iter().map(|a| a.name.as_str()).collect();
    add(
        "api/mod.rs".into(),
        group_module("One module per api: its request and response types.", &mut apis),
    );

    for event in &schema.events {
        add(
            format!("events/{}.rs", event.name),
            declarations::event_module(schema, event),
        );
    }
    let mut events: Vec<&str> = schema.events.iter().map(|e| e.name.as_str()).collect();
    let mut events_module = group_module("One module per event: the type its handlers receive.", &mut events);
    if !events.is_empty() {
        events_module.push('\n');
        events_module.push_str(EVENT_TIMESTAMP);
    }
    add("events/mod.rs".into(), events_module);

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

    let (glue, _) = rohas_rust_glue::glue(specs, resolve, read);
    files.extend(
        glue.into_iter()
            .map(|file| GeneratedFile::new(file.path, file.contents)),
    );
    let extractors = rohas_rust_glue::extractors(files.iter().map(|f| (f.path.as_path(), f.contents.as_str())));
    files.push(GeneratedFile::new(base.join("extract.rs"), extractors));

    // The runtime crate, as the SDK crate builds and tests it.
    let runtime = base.join("rohas-runtime");
    files.push(GeneratedFile::new(
        runtime.join("Cargo.toml"),
        rohas_rust_sdk::sources::manifest(),
    ));
    for file in rohas_rust_sdk::sources::FILES {
        files.push(GeneratedFile::new(runtime.join(file.path), file.text));
    }
    files.push(GeneratedFile::new(base.join("capture.rs"), CAPTURE_MODULE));
    files.push(GeneratedFile::new(
        base.join("testing.rs"),
        with_newline(testing::module(schema)),
    ));
    files
}

fn root_module() -> String {
    let mut code = Code::rust();
    code.line("//! Types generated from the schema (`rohas codegen`), and the declarations");
    code.line("//! of your handler files. Do not edit: every run rewrites src/generated/.");
    code.line("//! Your `src/lib.rs` declares it with `pub mod generated;`.");
    code.blank();
    code.line("pub mod api;");
    code.line("/// `println!` and friends in your handlers go to the Rohas log (declared");
    code.line("/// before `handlers` so its macros shadow std's there).");
    code.line("#[macro_use]");
    code.line("mod capture;");
    code.line("pub mod events;");
    code.line("/// `FromCall` for the schema's types, so handlers can ask for them.");
    code.line("mod extract;");
    code.line("/// Your handler files (`src/handlers/…`, `src/middlewares/…`), linted as your code.");
    code.line("pub mod handlers;");
    code.line("pub mod models;");
    code.line("/// The handlers the engine calls, and the C ABI it loads this library through.");
    code.line("pub mod registry;");
    code.line("pub mod runtime;");
    code.line("pub mod state;");
    code.line("/// The test harness (`Harness`): your handlers run as the engine runs them.");
    code.line("#[cfg(test)]");
    code.line("pub mod testing;");
    code.line("pub mod websockets;");
    code.finish()
}

/// A group's `mod.rs`: one module per declaration, sorted as rustfmt sorts.
fn group_module(doc: &str, names: &mut [&str]) -> String {
    names.sort_unstable();
    let mut code = Code::rust();
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

/// How the event types read `timestamp` (`declarations::event_module`):
/// the engine's own shape without chrono's general parser, which was a
/// tenth of a small event handler's work.
const EVENT_TIMESTAMP: &str = r#"/// Reads an event's `timestamp`: the shape the engine writes without
/// chrono's general parser (`rohas_runtime::time`), any other RFC 3339
/// text with it.
#[allow(dead_code)]
pub(crate) fn event_timestamp<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<chrono::DateTime<chrono::Utc>, D::Error> {
    struct Text;
    impl serde::de::Visitor<'_> for Text {
        type Value = chrono::DateTime<chrono::Utc>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an RFC 3339 time")
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
            let fast = rohas_runtime::time::engine_timestamp(text);
            match fast.and_then(|(s, ns)| chrono::DateTime::from_timestamp(s, ns)) {
                Some(time) => Ok(time),
                None => text
                    .parse::<chrono::DateTime<chrono::FixedOffset>>()
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .map_err(E::custom),
            }
        }
    }
    deserializer.deserialize_str(Text)
}
"#;

const CAPTURE_MODULE: &str = r#"//! `println!`, `print!`, `eprintln!` and `eprint!` in your handler files: while
//! a handler runs, each call is a log record tagged with the handler and trace
//! id (stderr at `warn`); elsewhere they print as usual.
// Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.

#![allow(unused_macros)]

macro_rules! println {
    () => {
        rohas_runtime::capture::line(false, String::new())
    };
    ($($arg:tt)*) => {
        rohas_runtime::capture::line(false, format!($($arg)*))
    };
}

macro_rules! print {
    ($($arg:tt)*) => {
        rohas_runtime::capture::text(false, format!($($arg)*))
    };
}

macro_rules! eprintln {
    () => {
        rohas_runtime::capture::line(true, String::new())
    };
    ($($arg:tt)*) => {
        rohas_runtime::capture::line(true, format!($($arg)*))
    };
}

macro_rules! eprint {
    ($($arg:tt)*) => {
        rohas_runtime::capture::text(true, format!($($arg)*))
    };
}
"#;

const STATE_MODULE: &str = r#"//! `State`: what a handler uses to log, trigger events and broadcast.
// Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.

pub use rohas_runtime::{Connection, Effects, Level, Logger, State};
"#;

const RUNTIME_MODULE: &str = r#"//! `HandlerContext`, `HttpError`, `Result` and `RuntimeError`.
// Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.

pub use rohas_runtime::{HandlerContext, HttpError, Result, RuntimeError};
"#;
