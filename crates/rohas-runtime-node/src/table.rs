//! The handler table workers load: for every handler the schema names, the
//! emitted module to import, the export to call, what each parameter gets,
//! and where its inputs hold dates. Missing files and functions are found
//! here, from the compiler's view of the sources, before any worker starts.
//! The engine keeps, beside the JSON the workers load, what each handler's
//! parameters read ([`Needs`]), so it sends each call only that, and what
//! the engine must build of an invocation for it (the shared rule).

use crate::build::Builder;
use crate::signature::{self, Needs};
use crate::types::Planner;
use rohas_runtime::{HandlerKind, HandlerSpec, LoadError};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A handler table: what the workers load, and what the engine sends per call.
#[derive(Debug, Default)]
pub struct Table {
    /// The `load` message's body (see `load` in `host.mjs`).
    pub json: Value,
    /// By handler id.
    pub needs: HashMap<String, Needs>,
    /// What the engine builds of an invocation, by handler id
    /// ([`rohas_runtime::Needs::of_roles`]).
    pub invocation: HashMap<String, rohas_runtime::Needs>,
}

impl Table {
    /// What a call to `handler` must carry; all of it for an unknown handler.
    pub fn needs(&self, handler: &str) -> Needs {
        self.needs.get(handler).copied().unwrap_or(Needs::ALL)
    }

    /// What the engine must build for each handler of this table.
    pub fn invocation_needs(&self) -> impl Iterator<Item = (String, rohas_runtime::Needs)> + '_ {
        self.invocation.iter().map(|(id, needs)| (id.clone(), *needs))
    }
}

pub fn handler_table(
    project: &Path,
    builder: &Builder,
    specs: &[HandlerSpec],
    dev: bool,
) -> Result<Table, Vec<LoadError>> {
    let global = builder.generated_types();
    let mut planner = Planner::new(&global);
    let mut handlers = Vec::new();
    let mut needs = HashMap::new();
    let mut invocation = HashMap::new();
    let mut errors = Vec::new();
    for spec in specs {
        let file = match spec.source_file(project) {
            Ok(file) => file,
            Err(missing) => {
                if !spec.optional {
                    errors.push(missing);
                }
                continue;
            }
        };
        let exports = builder.exports(file);
        let found = exports.and_then(|e| {
            spec.functions
                .iter()
                .find_map(|name| e.functions.get(name).map(|p| (name.clone(), Some(p.clone()))))
                .or_else(|| {
                    spec.functions
                        .iter()
                        .find(|name| e.values.contains(*name))
                        .map(|name| (name.clone(), None))
                })
        });
        let Some((export, params)) = found else {
            if !spec.optional {
                errors.push(LoadError::no_function(spec, file));
            }
            continue;
        };
        let roles = match &params {
            Some(p) => signature::roles(spec, p),
            // Not a plain function (`export const handler = wrap(…)`): the default order.
            None => signature::roles(spec, &[Default::default(), Default::default()]),
        };
        let (plans, answers) = plans(&mut planner, builder, spec);
        needs.insert(spec.id.to_string(), signature::needs(spec.kind, &roles));
        invocation.insert(
            spec.id.to_string(),
            rohas_runtime::Needs::of_roles(roles.iter().copied()),
        );
        handlers.push(json!({
            "id": spec.id,
            "name": spec.name,
            "kind": spec.kind.as_str(),
            "file": file.display().to_string(),
            "url": file_url(&builder.output_of(file)),
            "export": export,
            "roles": roles,
            "plans": plans,
            "answers": answers,
        }));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let generated = |name: &str| {
        let path = builder.output_of(&PathBuf::from("src/generated").join(name));
        path.is_file().then(|| file_url(&path))
    };
    let json = json!({
        "handlers": handlers,
        "recursive": planner.recursive,
        "state_url": generated("state.ts"),
        "runtime_url": generated("runtime.ts"),
        "dev": dev,
    });
    Ok(Table {
        json,
        needs,
        invocation,
    })
}

/// Date plans for the handler's inputs, and whether it must answer something.
fn plans<'a>(planner: &mut Planner<'a>, builder: &'a Builder, spec: &HandlerSpec) -> (Value, bool) {
    let mut plans = Map::new();
    let ws_name = spec.id.scope().to_string();
    let mut answers = false;
    match spec.kind {
        HandlerKind::Api => {
            planner.local = builder.module_types(&PathBuf::from(format!("generated/api/{}.ts", spec.name)));
            if let Some(body) = &spec.body_type {
                if let Some(p) = planner.named(body) {
                    plans.insert("body".into(), p);
                }
            }
            // The typed query (`query:`): the `query` member of the request
            // interface, `<Api>Query` or the named record.
            if let Some(p) = planner.field(&format!("{}Request", spec.name), "query") {
                plans.insert("query".into(), p);
            }
            answers = planner.answers(&format!("{}Response", spec.name));
        }
        HandlerKind::Event => {
            if let Some(event) = &spec.event_type {
                planner.local = builder.module_types(&PathBuf::from(format!("generated/events/{event}.ts")));
                if let Some(p) = planner.named(event) {
                    plans.insert("event".into(), p);
                }
                if let Some(p) = planner.field(event, "payload") {
                    plans.insert("body".into(), p);
                }
            }
        }
        HandlerKind::WsMessage => {
            planner.local = builder.module_types(&PathBuf::from(format!("generated/websockets/{ws_name}.ts")));
            if let Some(p) = planner.named("WebSocketMessage") {
                plans.insert("message".into(), p);
            }
        }
        _ => {}
    }
    planner.local = None;
    (Value::Object(plans), answers)
}

fn file_url(path: &Path) -> String {
    let mut url = String::from("file://");
    for byte in path.to_string_lossy().bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => url.push(byte as char),
            other => url.push_str(&format!("%{other:02X}")),
        }
    }
    url
}
