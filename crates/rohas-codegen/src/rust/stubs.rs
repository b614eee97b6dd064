//! Rust handler stubs: written once, where no handler file exists, then the
//! user's. Each compiles, passes clippy, returns a valid placeholder and
//! follows the style of the documented examples
//! (`pub async fn handler(..) -> Result<..>`).

use super::code::Code;
use crate::GeneratedFile;
use rohas_runtime::{HandlerKind, HandlerSpec};
use rohas_schema::model::Schema;

/// One stub per spec, at `spec.files[0]`. Specs sharing a file (the three
/// functions of a single-module ws, or one event handler serving two events)
/// get the same, complete contents.
pub fn stubs(schema: &Schema, specs: &[HandlerSpec]) -> Vec<GeneratedFile> {
    specs
        .iter()
        .filter_map(|spec| {
            let path = spec.files.first()?;
            let sharing: Vec<&HandlerSpec> = specs.iter().filter(|s| s.files.first() == Some(path)).collect();
            Some(GeneratedFile::new(path.clone(), stub(schema, spec, &sharing)))
        })
        .collect()
}

fn stub(schema: &Schema, spec: &HandlerSpec, sharing: &[&HandlerSpec]) -> String {
    let function = spec.functions.first().map(String::as_str).unwrap_or("handler");
    match spec.kind {
        HandlerKind::Api => api_stub(schema, spec, function),
        HandlerKind::Event => event_stub(spec, sharing, function),
        HandlerKind::Cron => cron_stub(spec, function),
        HandlerKind::WsConnect | HandlerKind::WsMessage | HandlerKind::WsDisconnect if spec.optional => {
            ws_module_stub(spec)
        }
        HandlerKind::WsConnect | HandlerKind::WsDisconnect => ws_context_stub(spec, function),
        HandlerKind::WsMessage => ws_message_stub(spec, sharing, function),
        HandlerKind::Middleware => middleware_stub(spec, function),
    }
}

fn header(code: &mut Code, what: &str) {
    code.line(&format!("//! {what}"));
    code.line("//!");
    code.line("//! Written once by `rohas codegen` as a starting point; this file is yours");
    code.line("//! and codegen never overwrites it.");
    code.blank();
}

/// `pub async fn name(params) -> ret {` on one line when it fits in
/// rustfmt's 100 columns, else one parameter per line, as rustfmt writes it.
fn signature(code: &mut Code, function: &str, params: &[&str], ret: &str) {
    code.open_signature(
        &format!("pub async fn {function}"),
        params,
        &format!(" -> {ret} {{"),
        100,
    );
}

/// A log line built in a local first, so the statement stays short.
fn log(code: &mut Code, level: &str, format_args: &str) {
    code.line(&format!("let line = format!({format_args});"));
    code.line(&format!("state.logger().{level}(&line);"));
}

fn uses(code: &mut Code, lines: &[String]) {
    let mut lines = lines.to_vec();
    lines.sort();
    for l in lines {
        code.line(&l);
    }
    code.blank();
}

fn api_stub(schema: &Schema, spec: &HandlerSpec, function: &str) -> String {
    let api = schema.api(&spec.name);
    let route = api
        .map(|a| format!("`{} {}`", a.method.as_str(), a.path))
        .unwrap_or_default();
    let has_response = api.is_some_and(|a| a.response.is_some());
    let name = &spec.name;
    let mut code = Code::rust();
    header(&mut code, &format!("{route} (api `{name}`)."));
    uses(
        &mut code,
        &[
            format!("use crate::generated::api::{name}::{{{name}Request, {name}Response}};"),
            "use crate::generated::state::State;".into(),
            "use rohas_runtime::Result;".into(),
        ],
    );
    signature(
        &mut code,
        function,
        &[&format!("req: {name}Request"), "state: &mut State"],
        &format!("Result<{name}Response>"),
    );
    log(&mut code, "info", &format!("\"{name} called: {{req:?}}\""));
    if has_response {
        code.line("// Replace the placeholder with your response.");
        code.line(&format!("Ok({name}Response::default())"));
    } else {
        code.line("Ok(())");
    }
    code.close("}");
    code.finish()
}

fn event_stub(spec: &HandlerSpec, sharing: &[&HandlerSpec], function: &str) -> String {
    let events: Vec<&str> = sharing.iter().filter_map(|s| s.event_type.as_deref()).collect();
    let mut code = Code::rust();
    let single = events.windows(2).all(|w| w[0] == w[1]);
    match (spec.event_type.as_deref(), single) {
        (Some(event), true) => {
            header(&mut code, &format!("Event handler `{}` for `{event}`.", spec.name));
            uses(
                &mut code,
                &[
                    format!("use crate::generated::events::{event}::{event};"),
                    "use crate::generated::state::State;".into(),
                    "use rohas_runtime::Result;".into(),
                ],
            );
            signature(
                &mut code,
                function,
                &[&format!("event: {event}"), "state: &mut State"],
                "Result<()>",
            );
            log(&mut code, "info", &format!("\"{event} received: {{event:?}}\""));
        }
        _ => {
            // One function serving events of different types takes the
            // context, whose payload is plain JSON.
            let listed: Vec<String> = events.iter().map(|e| format!("`{e}`")).collect();
            header(
                &mut code,
                &format!("Event handler `{}` for {}.", spec.name, listed.join(", ")),
            );
            uses(
                &mut code,
                &[
                    "use crate::generated::runtime::HandlerContext;".into(),
                    "use crate::generated::state::State;".into(),
                    "use rohas_runtime::Result;".into(),
                ],
            );
            signature(
                &mut code,
                function,
                &["context: HandlerContext", "state: &mut State"],
                "Result<()>",
            );
            log(&mut code, "info", "\"event received: {}\", context.payload");
        }
    }
    code.line("Ok(())");
    code.close("}");
    code.finish()
}

fn cron_stub(spec: &HandlerSpec, function: &str) -> String {
    let mut code = Code::rust();
    header(&mut code, &format!("Cron job `{}`.", spec.name));
    uses(
        &mut code,
        &[
            "use crate::generated::state::State;".into(),
            "use rohas_runtime::Result;".into(),
        ],
    );
    signature(&mut code, function, &["state: &mut State"], "Result<()>");
    code.line(&format!("state.logger().info(\"{} ran\");", spec.name));
    code.line("Ok(())");
    code.close("}");
    code.finish()
}

fn connection_log(code: &mut Code, what: &str) {
    code.line("let connection = context.metadata_str(\"connection_id\").unwrap_or(\"?\");");
    log(code, "info", &format!("\"client {{connection}} {what}\""));
}

/// The three functions of a ws with no handler lists, in one module.
fn ws_module_stub(spec: &HandlerSpec) -> String {
    let ws = &spec.name;
    let mut code = Code::rust();
    header(&mut code, &format!("WebSocket `{ws}`: connect, message, disconnect."));
    uses(
        &mut code,
        &[
            "use crate::generated::runtime::HandlerContext;".into(),
            "use crate::generated::state::State;".into(),
            format!("use crate::generated::websockets::{ws}::WebSocketMessage;"),
            "use rohas_runtime::Result;".into(),
        ],
    );
    let context_params = ["context: HandlerContext", "state: &mut State"];
    signature(&mut code, "on_connect", &context_params, "Result<()>");
    connection_log(&mut code, &format!("connected to {ws}"));
    code.line("Ok(())");
    code.close("}");
    code.blank();
    code.line("/// The returned message goes back to the client (or to every client");
    code.line("/// when the ws has `broadcast: true`).");
    signature(
        &mut code,
        "on_message",
        &["message: WebSocketMessage", "state: &mut State"],
        "Result<WebSocketMessage>",
    );
    log(&mut code, "info", &format!("\"message on {ws}: {{message:?}}\""));
    code.line("Ok(message)");
    code.close("}");
    code.blank();
    signature(&mut code, "on_disconnect", &context_params, "Result<()>");
    connection_log(&mut code, &format!("left {ws}"));
    code.line("Ok(())");
    code.close("}");
    code.finish()
}

fn ws_context_stub(spec: &HandlerSpec, function: &str) -> String {
    let phase = if spec.kind == HandlerKind::WsConnect {
        "connected"
    } else {
        "disconnected"
    };
    let mut code = Code::rust();
    header(
        &mut code,
        &format!("WebSocket handler `{}` (client {phase}).", spec.name),
    );
    uses(
        &mut code,
        &[
            "use crate::generated::runtime::HandlerContext;".into(),
            "use crate::generated::state::State;".into(),
            "use rohas_runtime::Result;".into(),
        ],
    );
    signature(
        &mut code,
        function,
        &["context: HandlerContext", "state: &mut State"],
        "Result<()>",
    );
    connection_log(&mut code, phase);
    code.line("Ok(())");
    code.close("}");
    code.finish()
}

fn ws_message_stub(spec: &HandlerSpec, sharing: &[&HandlerSpec], function: &str) -> String {
    let endpoint = spec.id.scope();
    let same_type = sharing.iter().all(|s| s.message_type == spec.message_type);
    let mut code = Code::rust();
    header(&mut code, &format!("WebSocket message handler `{}`.", spec.name));
    if same_type && !endpoint.is_empty() {
        uses(
            &mut code,
            &[
                "use crate::generated::state::State;".into(),
                format!("use crate::generated::websockets::{endpoint}::WebSocketMessage;"),
                "use rohas_runtime::Result;".into(),
            ],
        );
        code.line("/// The returned message goes back to the client (or to every client");
        code.line("/// when the ws has `broadcast: true`).");
        signature(
            &mut code,
            function,
            &["message: WebSocketMessage", "state: &mut State"],
            "Result<WebSocketMessage>",
        );
        log(&mut code, "info", "\"message: {message:?}\"");
        code.line("Ok(message)");
    } else {
        uses(
            &mut code,
            &[
                "use crate::generated::runtime::HandlerContext;".into(),
                "use crate::generated::state::State;".into(),
                "use rohas_runtime::Result;".into(),
            ],
        );
        signature(
            &mut code,
            function,
            &["context: HandlerContext", "state: &mut State"],
            "Result<()>",
        );
        log(&mut code, "info", "\"message: {}\", context.payload");
        code.line("Ok(())");
    }
    code.close("}");
    code.finish()
}

fn middleware_stub(spec: &HandlerSpec, function: &str) -> String {
    let mut code = Code::rust();
    header(&mut code, &format!("Middleware `{}`.", spec.name));
    uses(
        &mut code,
        &[
            "use crate::generated::runtime::{HandlerContext, Result};".into(),
            "use crate::generated::state::State;".into(),
        ],
    );
    code.line("/// Runs before every api or ws that lists it. Return `Ok(None)` to let the");
    code.line("/// call through, `Ok(Some(context))` to continue with a changed context, or");
    code.line("/// `Err(HttpError::new(401, \"…\").into())` to reject it.");
    signature(
        &mut code,
        function,
        &["context: HandlerContext", "state: &mut State"],
        "Result<Option<HandlerContext>>",
    );
    log(
        &mut code,
        "debug",
        &format!("\"{} checks {{}}\", context.handler_name", spec.name),
    );
    code.line("Ok(None)");
    code.close("}");
    code.finish()
}
