//! `src/generated/testing.ts`: the testing harness typed with the project's
//! names. The machinery is the fixed `harness.ts` (`support/`); this module
//! writes what depends on the schema: the name → request/response, payload
//! and message types tests are checked against (`callApi("CreateUser", …)`
//! takes a `CreateUserRequest`'s body and returns a `CreateUserResponse`),
//! and the plan the harness plays the engine by (each event's handlers and
//! `triggers`, each WebSocket's hooks), with handler ids written by
//! `HandlerId`, as the engine names them.

use super::code::{prop_name, ts_str, Code};
use super::types::type_name;
use crate::handlers::handler_specs;
use rohas_runtime::{HandlerId, HandlerKind, Language};
use rohas_schema::model::{NameRef, Schema};

pub fn testing_module(schema: &Schema) -> String {
    let mut code = Code::typescript();
    code.line("/**");
    for line in [
        " * The testing harness for this project's schema: call handlers by their",
        " * schema names with typed inputs, publish events and see every handler",
        " * that ran, drive WebSockets, run cron jobs on a fake clock.",
        " *",
        " *   const harness = new Harness();",
        " *   const created = await harness.callApi(\"CreateUser\", { body: { … } });",
        " *   const run = await harness.runDue(); // the events it caused, to any depth",
        " *",
        " * Run the tests with `rohas test`: it builds the handlers as the engine",
        " * does, and the harness calls them through the engine's own dispatch code",
        " * (`harness.ts` says how).",
        " *",
        " * Written by `rohas codegen` from the schema. Do not edit: every run",
        " * rewrites src/generated/.",
        " */",
    ] {
        code.line(line);
    }
    code.blank();
    for api in &schema.apis {
        code.line(&format!(
            "import type * as api_{} from {};",
            api.name,
            ts_str(&format!("./api/{}", api.name))
        ));
    }
    for event in &schema.events {
        code.line(&format!(
            "import type * as event_{} from {};",
            event.name,
            ts_str(&format!("./events/{}", event.name))
        ));
    }
    for ws in &schema.websockets {
        code.line(&format!(
            "import type * as ws_{} from {};",
            ws.name,
            ts_str(&format!("./websockets/{}", ws.name))
        ));
    }
    code.line("import { HarnessCore } from \"./harness\";");
    code.line("import type { HarnessOptions, SchemaPlan } from \"./harness\";");
    code.blank();
    code.line("export { ApiResult, CallResult, EventRun, FakeClock } from \"./harness\";");
    code.line("export type {");
    code.line("  ApiInput,");
    code.line("  Broadcast,");
    code.line("  Duration,");
    code.line("  HandlerRun,");
    code.line("  HarnessOptions,");
    code.line("  LogLine,");
    code.line("  MiddlewareInput,");
    code.line("  MiddlewareResult,");
    code.line("  PublishedEvent,");
    code.line("  WsSession,");
    code.line("} from \"./harness\";");
    code.blank();

    code.jsdoc("Each api's request (what `callApi` takes) and response (its result's `value`).");
    code.open("export type Apis = {");
    for api in &schema.apis {
        code.line(&format!(
            "{}: {{ request: api_{n}.{n}Request; response: api_{n}.{n}Response }};",
            prop_name(&api.name),
            n = api.name
        ));
    }
    code.close("};");
    code.blank();
    code.jsdoc("Each event's payload (what `publish` takes).");
    code.open("export type Events = {");
    for event in &schema.events {
        code.line(&format!(
            "{}: event_{}.{}[\"payload\"];",
            prop_name(&event.name),
            event.name,
            type_name(&event.name)
        ));
    }
    code.close("};");
    code.blank();
    code.jsdoc("Each WebSocket endpoint's message type.");
    code.open("export type WebSockets = {");
    for ws in &schema.websockets {
        code.line(&format!("{}: ws_{}.WebSocketMessage;", prop_name(&ws.name), ws.name));
    }
    code.close("};");
    code.blank();
    let specs = handler_specs(schema, Language::TypeScript);
    let middlewares: Vec<&str> = specs
        .iter()
        .filter(|s| s.kind == HandlerKind::Middleware)
        .map(|s| s.name.as_str())
        .collect();
    let union = |names: Vec<String>| {
        if names.is_empty() {
            "never".to_string()
        } else {
            names.join(" | ")
        }
    };
    code.jsdoc("The cron jobs' names.");
    code.line(&format!(
        "export type CronName = {};",
        union(schema.crons.iter().map(|c| ts_str(&c.name)).collect())
    ));
    code.jsdoc("The middlewares' names.");
    code.line(&format!(
        "export type MiddlewareName = {};",
        union(middlewares.iter().map(|m| ts_str(m)).collect())
    ));
    code.blank();

    code.jsdoc("What the engine does around the handlers, read from the schema.");
    code.open("const PLAN: SchemaPlan = {");
    code.open("apis: {");
    for api in &schema.apis {
        // `query: true` marks an api with typed query parameters (`query:`).
        let query = if api.query.is_some() { ", query: true" } else { "" };
        code.line(&format!(
            "{}: {{ id: {}, triggers: {}{query} }},",
            prop_name(&api.name),
            ts_str(HandlerId::api(&api.name).as_str()),
            names(&api.triggers)
        ));
    }
    code.close("},");
    code.open("events: {");
    for event in &schema.events {
        let handlers: Vec<String> = event
            .handlers
            .iter()
            .map(|h| ts_str(HandlerId::event(&event.name, &h.name).as_str()))
            .collect();
        code.open(&format!("{}: {{", prop_name(&event.name)));
        code.line(&format!("handlers: [{}],", handlers.join(", ")));
        code.line(&format!("triggers: {},", names(&event.triggers)));
        code.close("},");
    }
    code.close("},");
    code.open("crons: {");
    for cron in &schema.crons {
        code.line(&format!(
            "{}: {{ id: {}, schedule: {}, triggers: {} }},",
            prop_name(&cron.name),
            ts_str(HandlerId::cron(&cron.name).as_str()),
            ts_str(&cron.schedule),
            names(&cron.triggers)
        ));
    }
    code.close("},");
    code.open("websockets: {");
    for ws in &schema.websockets {
        let hooks = |kind: HandlerKind, named: &[NameRef]| {
            let ids: Vec<String> = if ws.uses_single_module() {
                vec![ts_str(HandlerId::ws(kind, &ws.name, None).as_str())]
            } else {
                named
                    .iter()
                    .map(|n| ts_str(HandlerId::ws(kind, &ws.name, Some(&n.name)).as_str()))
                    .collect()
            };
            format!("[{}]", ids.join(", "))
        };
        code.open(&format!("{}: {{", prop_name(&ws.name)));
        code.line(&format!("connect: {},", hooks(HandlerKind::WsConnect, &ws.on_connect)));
        code.line(&format!("message: {},", hooks(HandlerKind::WsMessage, &ws.on_message)));
        code.line(&format!(
            "disconnect: {},",
            hooks(HandlerKind::WsDisconnect, &ws.on_disconnect)
        ));
        code.line(&format!("triggers: {},", names(&ws.triggers)));
        code.line(&format!("broadcast: {},", ws.broadcast));
        code.close("},");
    }
    code.close("},");
    code.open("middlewares: {");
    for m in &middlewares {
        code.line(&format!(
            "{}: {{ id: {} }},",
            prop_name(m),
            ts_str(HandlerId::middleware(m).as_str())
        ));
    }
    code.close("},");
    code.close("};");
    code.blank();

    code.jsdoc(
        "The harness for this schema: `callApi`, `publish`, `runDue`, `runCron`, `middleware`, `ws` and `clock`.",
    );
    code.open("export class Harness extends HarnessCore<Apis, Events, WebSockets, CronName, MiddlewareName> {");
    code.open("constructor(options: HarnessOptions = {}) {");
    code.line("super(PLAN, options);");
    code.close("}");
    code.close("}");
    code.finish()
}

fn names(refs: &[NameRef]) -> String {
    let quoted: Vec<String> = refs.iter().map(|r| ts_str(&r.name)).collect();
    format!("[{}]", quoted.join(", "))
}
