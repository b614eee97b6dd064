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
//! src/generated/state.py                    State and Logger
//! src/generated/runtime.py                  HandlerContext, HttpError, NonRetryableError, Connection, Host, to_wire …
//! ```
//!
//! Generated code uses the standard library only, targets Python 3.10+
//! (`kw_only` dataclasses, `X | None`), and passes `mypy --strict`.
//! `runtime.py` and `state.py` are fixed files (`support/`); their module
//! docstrings are the contract with the engine's Python runtime.

mod classes;
mod code;
mod declarations;
mod events;
mod module;
mod stubs;
mod types;

pub use stubs::stubs;

use crate::GeneratedFile;
use rohas_schema::model::Schema;
use std::path::Path;

const RUNTIME_PY: &str = include_str!("support/runtime.py");
const STATE_PY: &str = include_str!("support/state.py");

/// Everything under `src/generated/`.
pub fn generate(schema: &Schema) -> Vec<GeneratedFile> {
    let base = Path::new("src/generated");
    let mut files = Vec::new();
    let mut add = |rel: String, contents: String| {
        files.push(GeneratedFile::new(base.join(rel), contents));
    };

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
        add(
            format!("models/{}.py", decl.name),
            declarations::record_module(schema, decl),
        );
    }
    for decl in &schema.enums {
        add(
            format!("models/{}.py", decl.name),
            declarations::enum_module(schema, decl),
        );
    }
    add(
        "api/__init__.py".into(),
        package_doc("One module per api: its request and response types."),
    );
    for api in &schema.apis {
        add(format!("api/{}.py", api.name), declarations::api_module(schema, api));
    }
    add(
        "events/__init__.py".into(),
        package_doc("One module per event: the type its handlers receive."),
    );
    for event in &schema.events {
        add(format!("events/{}.py", event.name), events::event_module(schema, event));
    }
    add(
        "websockets/__init__.py".into(),
        package_doc("One module per WebSocket endpoint: its message and connection types."),
    );
    for ws in &schema.websockets {
        add(
            format!("websockets/{}.py", ws.name),
            declarations::websocket_module(schema, ws),
        );
    }
    add("runtime.py".into(), RUNTIME_PY.to_string());
    add("state.py".into(), STATE_PY.to_string());
    files
}

fn package_doc(doc: &str) -> String {
    let mut code = code::Code::python();
    code.docstring(doc);
    code.finish()
}
