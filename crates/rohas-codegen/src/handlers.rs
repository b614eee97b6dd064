//! Where every handler lives (the table in docs/handlers.md): one list, used by the
//! stub writer to know which files to create and by the engine to know what
//! to load. Keeping both on this one function is what makes "a missing
//! handler names the file `rohas codegen` would create" true.

use crate::naming::{camel_case, snake_case};
use rohas_runtime::{HandlerId, HandlerKind, HandlerSpec, Language};
use rohas_schema::model::{NameRef, Schema, TypeRef};
use std::path::PathBuf;

/// Every handler the schema asks for, in schema order: apis, event handlers,
/// crons, ws handlers, middlewares.
pub fn handler_specs(schema: &Schema, lang: Language) -> Vec<HandlerSpec> {
    let ext = lang.extension();
    let mut specs = Vec::new();

    for api in &schema.apis {
        let snake = snake_case(&api.name);
        specs.push(HandlerSpec {
            id: HandlerId::api(&api.name),
            kind: HandlerKind::Api,
            name: api.name.clone(),
            files: vec![file("api", &snake, ext), file("api", &api.name, ext)],
            functions: functions(lang, "handler", &format!("handle_{snake}")),
            request_type: Some(format!("{}Request", api.name)),
            body_type: api.body.as_ref().and_then(named),
            message_type: None,
            event_type: None,
            optional: false,
        });
    }

    for event in &schema.events {
        for h in &event.handlers {
            let snake = snake_case(&h.name);
            specs.push(HandlerSpec {
                id: HandlerId::event(&event.name, &h.name),
                kind: HandlerKind::Event,
                name: h.name.clone(),
                files: vec![file("events", &h.name, ext)],
                // The handler's own name last: upstream rohas's stubs define
                // `async def send_welcome_email(event)`.
                functions: {
                    let mut names = functions(lang, "handler", &format!("handle_{snake}"));
                    names.push(ident(lang, &snake));
                    names
                },
                request_type: None,
                body_type: event.payload.as_ref().and_then(named),
                message_type: None,
                event_type: Some(event.name.clone()),
                optional: false,
            });
        }
    }

    for cron in &schema.crons {
        // `handler: daily_cleanup` (upstream rohas's spelling) names the
        // file and function stem; without it the cron's own name does.
        let snake = snake_case(cron.handler.as_ref().map_or(&cron.name, |h| &h.name));
        let mut files = vec![file("cron", &snake, ext)];
        if cron.handler.is_none() {
            files.push(file("cron", &cron.name, ext));
        }
        specs.push(HandlerSpec {
            id: HandlerId::cron(&cron.name),
            kind: HandlerKind::Cron,
            name: cron.name.clone(),
            files,
            functions: functions(lang, "handler", &format!("handle_{snake}")),
            request_type: None,
            body_type: None,
            message_type: None,
            event_type: None,
            optional: false,
        });
    }

    for ws in &schema.websockets {
        let message_type = Some(
            ws.message
                .as_ref()
                .and_then(named)
                .unwrap_or_else(|| "WebSocketMessage".into()),
        );
        let phases = [
            (HandlerKind::WsConnect, &ws.on_connect, "on_connect"),
            (HandlerKind::WsMessage, &ws.on_message, "on_message"),
            (HandlerKind::WsDisconnect, &ws.on_disconnect, "on_disconnect"),
        ];
        if ws.uses_single_module() {
            // One module holds the three functions; each is optional.
            let snake = snake_case(&ws.name);
            for (kind, _, function) in phases {
                specs.push(HandlerSpec {
                    id: HandlerId::ws(kind, &ws.name, None),
                    kind,
                    name: ws.name.clone(),
                    files: vec![file("websockets", &snake, ext), file("websockets", &ws.name, ext)],
                    functions: vec![ident(lang, function)],
                    request_type: None,
                    body_type: None,
                    message_type: message_type.clone(),
                    event_type: None,
                    optional: true,
                });
            }
        } else {
            for (kind, list, _) in phases {
                for h in list.iter() {
                    specs.push(ws_handler(kind, &ws.name, h, lang, message_type.clone()));
                }
            }
        }
    }

    for name in schema.middlewares() {
        let snake = snake_case(name);
        specs.push(HandlerSpec {
            id: HandlerId::middleware(name),
            kind: HandlerKind::Middleware,
            name: name.to_string(),
            files: vec![PathBuf::from(format!("src/middlewares/{name}.{ext}"))],
            functions: functions(lang, "handler", &format!("{snake}_middleware")),
            request_type: None,
            body_type: None,
            message_type: None,
            event_type: None,
            optional: false,
        });
    }
    specs
}

fn ws_handler(kind: HandlerKind, ws: &str, h: &NameRef, lang: Language, message_type: Option<String>) -> HandlerSpec {
    HandlerSpec {
        id: HandlerId::ws(kind, ws, Some(&h.name)),
        kind,
        name: h.name.clone(),
        files: vec![file("websockets", &h.name, lang.extension())],
        functions: functions(lang, "handler", &snake_case(&h.name)),
        request_type: None,
        body_type: None,
        message_type,
        event_type: None,
        optional: false,
    }
}

fn file(folder: &str, stem: &str, ext: &str) -> PathBuf {
    PathBuf::from(format!("src/handlers/{folder}/{stem}.{ext}"))
}

/// `handler` first, then the named form in the language's convention.
fn functions(lang: Language, first: &str, snake: &str) -> Vec<String> {
    let mut out = vec![first.to_string(), ident(lang, snake)];
    out.dedup();
    out
}

fn ident(lang: Language, snake: &str) -> String {
    match lang {
        Language::TypeScript => camel_case(snake),
        Language::Python | Language::Rust => snake.to_string(),
    }
}

fn named(ty: &TypeRef) -> Option<String> {
    match ty {
        TypeRef::Named { name, .. } => Some(name.clone()),
        _ => None,
    }
}
