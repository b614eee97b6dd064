//! TypeScript output: `src/generated/` and handler stubs.
//!
//! Layout of what [`generate`] returns (paths relative to the project root):
//!
//! ```text
//! src/generated/models/<Name>.ts        one interface (model/input/type) or string union (enum)
//! src/generated/api/<Name>.ts           <Name>Request, <Name>Response, re-exported body/response types
//! src/generated/events/<Name>.ts        the event type (payload fields at top level + payload + metadata)
//! src/generated/websockets/<Name>.ts    message type (also as WebSocketMessage), Connection
//! src/generated/state.ts                State (logger, triggerEvent, setPayload, broadcast)
//! src/generated/runtime.ts              HandlerContext, HttpError, NonRetryableError, Connection, Logger, Host, toWire
//! src/generated/harness.ts              the testing harness's machinery (fixed)
//! src/generated/testing.ts              Harness, typed with the schema's names (for tests)
//! ```
//!
//! Schema modules hold interfaces and string unions only, so they cost
//! nothing at run time; `runtime.ts`, `state.ts` and `harness.ts` are fixed
//! files (`support/`) whose header comments are the contract with the
//! engine's TypeScript runtime. Everything passes `tsc --noEmit --strict` with
//! `isolatedModules`, and uses only syntax that type stripping removes.

mod code;
mod declarations;
mod events;
mod module;
mod stubs;
mod testing;
mod types;

pub use stubs::stubs;

use crate::GeneratedFile;
use rohas_schema::model::Schema;
use std::path::Path;

const RUNTIME_TS: &str = include_str!("support/runtime.ts");
const STATE_TS: &str = include_str!("support/state.ts");
const HARNESS_TS: &str = include_str!("support/harness.ts");

/// Everything under `src/generated/`.
pub fn generate(schema: &Schema) -> Vec<GeneratedFile> {
    let base = Path::new("src/generated");
    let mut files = Vec::new();
    let mut add = |rel: String, contents: String| {
        files.push(GeneratedFile::new(base.join(rel), contents));
    };
    for decl in &schema.types {
        add(
            format!("models/{}.ts", decl.name),
            declarations::record_module(schema, decl),
        );
    }
    for decl in &schema.enums {
        add(
            format!("models/{}.ts", decl.name),
            declarations::enum_module(schema, decl),
        );
    }
    for api in &schema.apis {
        add(format!("api/{}.ts", api.name), declarations::api_module(schema, api));
    }
    for event in &schema.events {
        add(format!("events/{}.ts", event.name), events::event_module(schema, event));
    }
    for ws in &schema.websockets {
        add(
            format!("websockets/{}.ts", ws.name),
            declarations::websocket_module(schema, ws),
        );
    }
    add("runtime.ts".into(), RUNTIME_TS.to_string());
    add("state.ts".into(), STATE_TS.to_string());
    add("harness.ts".into(), HARNESS_TS.to_string());
    add("testing.ts".into(), testing::testing_module(schema));
    files
}
