//! `src/generated/testing.rs`: the project's test harness, `Harness`.
//!
//! The harness itself is `rohas_runtime::testing::TestEngine` (a template
//! of the runtime crate); what is written here is the schema's side of it,
//! as a static `Blueprint` (each event's handler ids and triggers, each
//! ws's hooks …, the same ids the engine calls), a typed method per api
//! (`call_create_user(body) -> ApiResult<User>`) and per event
//! (`publish_user_created(payload)`), so a renamed api or a changed body
//! type breaks the test at compile time.

use super::code::Code;
use crate::naming::snake_case;
use rohas_runtime::{HandlerId, HandlerKind};
use rohas_schema::model::{Api, Event, NameRef, Schema, TypeRef};

/// The contents of `src/generated/testing.rs`.
pub fn module(schema: &Schema) -> String {
    let mut code = Code::rust();
    code.line("//! The test harness: call your handlers by their schema names, as the engine");
    code.line("//! does, in a plain `#[test]`. `Harness::new()`, then `call_api`, `publish`,");
    code.line("//! `run_cron`, `middleware`, `ws`, and `clock()` for the fake clock handlers");
    code.line("//! read through `rohas_runtime::now()` and `State::now()`.");
    code.line("//! Compiled for tests only (`cargo test`, `rohas test`).");
    code.line("// Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.");
    code.blank();
    code.line("#![allow(dead_code, unused_imports)]");
    code.blank();
    code.line("pub use rohas_runtime::testing::{");
    code.line("    ApiResult, Clock, Emitted, EventRun, HandlerRun, HarnessError, LogLine, MiddlewareRun, Request,");
    code.line("    TestEngine, WsSession, WsStep,");
    code.line("};");
    code.line("use rohas_runtime::testing::{ApiSpec, Blueprint, CronSpec, EventSpec, WsSpec};");
    code.blank();
    blueprint(&mut code, schema);
    code.blank();
    harness(&mut code, schema);
    code.finish()
}

fn names(refs: &[NameRef]) -> String {
    strings(refs.iter().map(|r| r.name.clone()))
}

/// `&["a", "b"]`.
fn strings(items: impl IntoIterator<Item = String>) -> String {
    let quoted: Vec<String> = items.into_iter().map(|s| format!("{s:?}")).collect();
    format!("&[{}]", quoted.join(", "))
}

fn blueprint(code: &mut Code, schema: &Schema) {
    code.line("/// The schema as the harness runs it: the handler ids the engine calls.");
    code.line("#[rustfmt::skip]");
    code.open("static BLUEPRINT: Blueprint = Blueprint {");
    code.open("apis: &[");
    for api in &schema.apis {
        code.line(&format!(
            "ApiSpec {{ name: {:?}, triggers: {} }},",
            api.name,
            names(&api.triggers)
        ));
    }
    code.close("],");
    code.open("events: &[");
    for event in &schema.events {
        let handlers = strings(
            event
                .handlers
                .iter()
                .map(|h| HandlerId::event(&event.name, &h.name).as_str().to_string()),
        );
        code.open("EventSpec {");
        code.line(&format!("name: {:?},", event.name));
        code.line(&format!("handlers: {handlers},"));
        code.line(&format!("triggers: {},", names(&event.triggers)));
        code.line(&format!(
            "check: Some(rohas_runtime::testing::fits::<crate::generated::events::{0}::{0}>),",
            event.name
        ));
        code.close("},");
    }
    code.close("],");
    code.open("crons: &[");
    for cron in &schema.crons {
        code.line(&format!(
            "CronSpec {{ name: {:?}, schedule: {:?}, triggers: {} }},",
            cron.name,
            cron.schedule,
            names(&cron.triggers)
        ));
    }
    code.close("],");
    code.open("websockets: &[");
    for ws in &schema.websockets {
        let hooks = |kind: HandlerKind, named: &[NameRef]| {
            let ids: Vec<String> = if ws.uses_single_module() {
                vec![HandlerId::ws(kind, &ws.name, None).as_str().to_string()]
            } else {
                named
                    .iter()
                    .map(|n| HandlerId::ws(kind, &ws.name, Some(&n.name)).as_str().to_string())
                    .collect()
            };
            strings(ids)
        };
        code.open("WsSpec {");
        code.line(&format!("name: {:?},", ws.name));
        code.line(&format!("broadcast: {},", ws.broadcast));
        code.line(&format!("triggers: {},", names(&ws.triggers)));
        code.line(&format!(
            "on_connect: {},",
            hooks(HandlerKind::WsConnect, &ws.on_connect)
        ));
        code.line(&format!(
            "on_message: {},",
            hooks(HandlerKind::WsMessage, &ws.on_message)
        ));
        code.line(&format!(
            "on_disconnect: {},",
            hooks(HandlerKind::WsDisconnect, &ws.on_disconnect)
        ));
        code.close("},");
    }
    code.close("],");
    code.line(&format!(
        "middlewares: {},",
        strings(schema.middlewares().into_iter().map(String::from))
    ));
    code.line("register: super::registry::register,");
    code.close("};");
}

fn harness(code: &mut Code, schema: &Schema) {
    code.line("/// Runs this project's handlers as the engine does (see the module docs);");
    code.line("/// every method of [`TestEngine`] is available on it.");
    code.line("pub struct Harness(TestEngine);");
    code.blank();
    code.open("impl Harness {");
    code.line("/// A harness whose clock starts at 2025-01-01T00:00:00Z.");
    code.open("pub fn new() -> Harness {");
    code.line("Harness(TestEngine::new(&BLUEPRINT))");
    code.close("}");
    code.blank();
    code.line("/// A harness whose clock starts at `start`.");
    code.open("pub fn starting_at(start: std::time::SystemTime) -> Harness {");
    code.line("Harness(TestEngine::starting_at(&BLUEPRINT, start))");
    code.close("}");
    for api in &schema.apis {
        typed_api(code, api);
    }
    for event in &schema.events {
        typed_publish(code, event);
    }
    code.close("}");
    code.blank();
    code.open("impl Default for Harness {");
    code.open("fn default() -> Harness {");
    code.line("Harness::new()");
    code.close("}");
    code.close("}");
    code.blank();
    code.open("impl std::ops::Deref for Harness {");
    code.line("type Target = TestEngine;");
    code.blank();
    code.open("fn deref(&self) -> &TestEngine {");
    code.line("&self.0");
    code.close("}");
    code.close("}");
}

/// `call_<api>`: the body alone for an api without path parameters, else
/// the whole `<Api>Request`.
fn typed_api(code: &mut Code, api: &Api) {
    let method = format!("call_{}", snake_case(&api.name));
    // Would shadow `TestEngine::call_api` and `call_api_request`.
    if method == "call_api" || method == "call_api_request" {
        return;
    }
    let module = format!("crate::generated::api::{}", api.name);
    let response = format!("ApiResult<{module}::{}Response>", api.name);
    // Path parameters or a typed query (`query:`): the whole request.
    let has_params = api.path_params().next().is_some() || api.query.is_some();
    let body = match &api.body {
        _ if has_params => None,
        None => Some(None),
        Some(TypeRef::Object(_)) => Some(Some(format!("{module}::{}Body", api.name))),
        Some(TypeRef::Named { name, .. }) => Some(Some(super::types::named_path(name))),
        // Other body shapes: the whole request says the type.
        Some(_) => None,
    };
    code.blank();
    let (params, call) = match body {
        Some(None) => {
            code.line(&format!(
                "/// Calls api `{}` (`{} {}`).",
                api.name,
                api.method.as_str(),
                api.path
            ));
            (Vec::new(), format!("self.0.call_api({:?}, ())", api.name))
        }
        Some(Some(ty)) => {
            code.line(&format!(
                "/// Calls api `{}` (`{} {}`) with `body`.",
                api.name,
                api.method.as_str(),
                api.path
            ));
            (
                vec![format!("body: {ty}")],
                format!("self.0.call_api({:?}, body)", api.name),
            )
        }
        None => {
            code.line(&format!(
                "/// Calls api `{}` (`{} {}`) with its whole request.",
                api.name,
                api.method.as_str(),
                api.path
            ));
            (
                vec![format!("request: {module}::{}Request", api.name)],
                format!("self.0.call_api_request({:?}, request)", api.name),
            )
        }
    };
    let mut all = vec!["&self".to_string()];
    all.extend(params);
    // One line whatever its length, as the registry's glue is written.
    code.line("#[rustfmt::skip]");
    code.open(&format!(
        "pub fn {method}({}) -> Result<{response}, HarnessError> {{",
        all.join(", ")
    ));
    code.line(&call);
    code.close("}");
}

/// `publish_<event>(payload)`, for an event whose payload type has a path
/// (a declared type, an inline object, a primitive); `publish` takes any.
fn typed_publish(code: &mut Code, event: &Event) {
    let ty = match &event.payload {
        Some(TypeRef::Named { name, .. }) => super::types::named_path(name),
        Some(TypeRef::Object(_)) => format!("crate::generated::events::{0}::{0}Payload", event.name),
        Some(TypeRef::Primitive(p)) => super::types::primitive(*p).to_string(),
        _ => return,
    };
    code.blank();
    code.line(&format!(
        "/// Publishes event `{}`: its handlers run, then what they trigger.",
        event.name
    ));
    code.line("#[rustfmt::skip]");
    code.open(&format!(
        "pub fn publish_{}(&self, payload: {ty}) -> Result<EventRun, HarnessError> {{",
        snake_case(&event.name)
    ));
    code.line(&format!("self.0.publish({:?}, payload)", event.name));
    code.close("}");
}
