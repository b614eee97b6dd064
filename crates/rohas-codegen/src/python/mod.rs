//! Python output: the `src/generated/` package and handler stubs.
//!
//! Layout of what [`generate`] returns (paths relative to the project root):
//!
//! ```text
//! src/generated/__init__.py                 package marker (one per folder below too)
//! src/generated/models/<Name>.py            one dataclass or `(str, Enum)` per model/input/type/enum
//! src/generated/api/<Name>.py               <Name>Request, <Name>Response, re-exported body/response types
//! src/generated/events/<Name>.py            the event class (payload fields at top level + payload + metadata)
//! src/generated/websockets/<Name>.py        message type (also as WebSocketMessage), Connection
//! src/generated/<group>/<snake_name>/       upstream rohas's module names, re-exporting the above
//! src/generated/dto/<snake_name>/           every `input`, under upstream's `generated.dto`
//! src/generated/state.py                    State and Logger
//! src/generated/runtime.py                  HandlerContext, HttpError, NonRetryableError, Connection, Host, to_wire …
//! src/generated/dispatch.py                 how handlers are loaded, bound and answered (also in the engine)
//! src/generated/harness.py                  the test harness's machinery
//! src/generated/testing.py                  `Harness`: the schema's tables and typed methods
//! ```
//!
//! Generated code uses the standard library only, targets Python 3.10+
//! (`kw_only` dataclasses, `X | None`), and passes `mypy --strict`.
//! `runtime.py`, `state.py`, `dispatch.py` and `harness.py` are fixed files
//! (`support/`); the module docstrings of the first three are the contract
//! with the engine's Python runtime, which compiles `dispatch.py` in.

mod classes;
mod code;
mod declarations;
mod events;
mod module;
mod stubs;
mod testing;
mod types;
mod upstream;

pub use stubs::stubs;

use crate::GeneratedFile;
use rohas_schema::model::{Schema, TypeKind};
use std::path::Path;
use upstream::Canonical;

const RUNTIME_PY: &str = include_str!("support/runtime.py");
const STATE_PY: &str = include_str!("support/state.py");
/// How handlers are loaded, bound and answered: written into every project
/// as `generated/dispatch.py` and compiled into the engine's Python host.
pub const DISPATCH_PY: &str = include_str!("support/dispatch.py");
const HARNESS_PY: &str = include_str!("support/harness.py");

/// Everything under `src/generated/`.
pub fn generate(schema: &Schema) -> Vec<GeneratedFile> {
    let base = Path::new("src/generated");
    let mut files = Vec::new();
    let mut add = |rel: String, contents: String| {
        files.push(GeneratedFile::new(base.join(rel), contents));
    };
    // Every module of a declaration, for the upstream-style aliases.
    let mut canonical: Vec<Canonical<'_>> = Vec::new();

    add(
        "__init__.py".into(),
        package_doc(
            "Types generated from the schema (`rohas codegen`), and the classes handlers use.\n\n\
             Do not edit: every run rewrites src/generated/.",
        ),
    );
    add(
        "models/__init__.py".into(),
        package_doc("Models, inputs, types and enums of the schema, one module each."),
    );
    for decl in &schema.types {
        let module = declarations::record_module(schema, decl);
        add(format!("models/{}.py", decl.name), module.text);
        let input = decl.kind == TypeKind::Input;
        canonical.push(Canonical::new("models", &decl.name, module.exports, input));
    }
    for decl in &schema.enums {
        let module = declarations::enum_module(schema, decl);
        add(format!("models/{}.py", decl.name), module.text);
        canonical.push(Canonical::new("models", &decl.name, module.exports, false));
    }
    add(
        "api/__init__.py".into(),
        package_doc("One module per api: its request and response types."),
    );
    for api in &schema.apis {
        let module = declarations::api_module(schema, api);
        add(format!("api/{}.py", api.name), module.text);
        canonical.push(Canonical::new("api", &api.name, module.exports, false));
    }
    add(
        "events/__init__.py".into(),
        package_doc("One module per event: the type its handlers receive."),
    );
    for event in &schema.events {
        let module = events::event_module(schema, event);
        add(format!("events/{}.py", event.name), module.text);
        canonical.push(Canonical::new("events", &event.name, module.exports, false));
    }
    add(
        "websockets/__init__.py".into(),
        package_doc("One module per WebSocket endpoint: its message and connection types."),
    );
    for ws in &schema.websockets {
        let module = declarations::websocket_module(schema, ws);
        add(format!("websockets/{}.py", ws.name), module.text);
        canonical.push(Canonical::new("websockets", &ws.name, module.exports, false));
    }
    for (rel, contents) in upstream::aliases(schema, &canonical) {
        add(rel, contents);
    }
    add("runtime.py".into(), RUNTIME_PY.to_string());
    add("state.py".into(), STATE_PY.to_string());
    add("dispatch.py".into(), DISPATCH_PY.to_string());
    add("harness.py".into(), HARNESS_PY.to_string());
    add("testing.py".into(), testing::testing_module(schema));
    files
}

pub(super) fn package_doc(doc: &str) -> String {
    let mut code = code::Code::python();
    code.docstring(doc);
    code.finish()
}
