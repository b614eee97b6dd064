//! Python handler stubs: written once, where no handler file exists, then
//! the user's. Each passes `mypy --strict`, returns a valid placeholder and
//! follows the style of the documented examples
//! (`async def handler(...) -> ...:`).

use super::code::{py_str, Code};
use super::module::Module;
use super::types::{inline_name, member_names};
use crate::GeneratedFile;
use rohas_runtime::{HandlerKind, HandlerSpec};
use rohas_schema::model::{Field, NamedKind, Primitive, Schema, TypeRef};
use std::collections::{BTreeMap, BTreeSet};

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
    let mut file = StubFile {
        doc: String::new(),
        std: BTreeMap::new(),
        generated: BTreeMap::new(),
        bound: BTreeMap::new(),
        body: Code::python(),
    };
    match spec.kind {
        HandlerKind::Api => api_stub(&mut file, schema, spec, function),
        HandlerKind::Event => event_stub(&mut file, spec, sharing, function),
        HandlerKind::Cron => cron_stub(&mut file, spec, function),
        HandlerKind::WsConnect | HandlerKind::WsMessage | HandlerKind::WsDisconnect if spec.optional => {
            ws_module_stub(&mut file, spec)
        }
        HandlerKind::WsConnect | HandlerKind::WsDisconnect => ws_context_stub(&mut file, spec, function),
        HandlerKind::WsMessage => ws_message_stub(&mut file, spec, sharing, function),
        HandlerKind::Middleware => middleware_stub(&mut file, spec, function),
    }
    file.render()
}

/// A stub being written: its docstring, imports and functions.
struct StubFile {
    doc: String,
    std: BTreeMap<String, BTreeSet<String>>,
    generated: BTreeMap<String, BTreeSet<String>>,
    /// Each name bound by an import: the imported name and where it is from.
    bound: BTreeMap<String, (String, String)>,
    body: Code,
}

/// Where an imported name lives: the modules generated for the schema's
/// declarations all hand out the same classes, any other module its own.
fn origin(module: &str) -> String {
    let schema = [
        "generated.api.",
        "generated.models.",
        "generated.events.",
        "generated.websockets.",
    ];
    if schema.iter().any(|p| module.starts_with(p)) {
        "schema".into()
    } else {
        module.into()
    }
}

impl StubFile {
    /// Imports `name` from `module` and returns the name to use for it here.
    /// A module generated for the schema re-exports the declarations it
    /// uses, so a declaration is imported once, from whichever module came
    /// first. A declaration named like a runtime name (a model `State`
    /// beside the handler's `State`) is another object: it is imported
    /// under another name (`State as State_`).
    fn import(&mut self, module: &str, name: &str) -> String {
        let origin = origin(module);
        if let Some((local, _)) = self.bound.iter().find(|(_, (n, o))| n == name && *o == origin) {
            return local.clone();
        }
        let mut local = name.to_string();
        while self.bound.contains_key(&local) {
            local.push('_');
        }
        let entry = if local == name {
            local.clone()
        } else {
            format!("{name} as {local}")
        };
        self.bound.insert(local.clone(), (name.to_string(), origin));
        let group = if module.starts_with("generated") {
            &mut self.generated
        } else {
            &mut self.std
        };
        group.entry(module.to_string()).or_default().insert(entry);
        local
    }

    /// `async def name(params) -> ret:`, wrapped one parameter per line when long.
    fn signature(&mut self, function: &str, params: &[String], ret: &str) {
        self.body.gap();
        self.body
            .open_signature(&format!("async def {function}"), params, &format!(" -> {ret}:"), 88);
    }

    fn render(self) -> String {
        let mut out = Code::python();
        out.docstring(&format!(
            "{}\n\nWritten once by `rohas codegen` as a starting point; this file is yours\nand codegen never overwrites it.",
            self.doc
        ));
        out.blank();
        for (module, names) in &self.std {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            out.line(&format!("from {module} import {}", names.join(", ")));
        }
        out.blank();
        for (module, names) in &self.generated {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            out.line(&format!("from {module} import {}", names.join(", ")));
        }
        out.gap();
        out.raw(&self.body.finish());
        out.finish()
    }
}

fn api_stub(file: &mut StubFile, schema: &Schema, spec: &HandlerSpec, function: &str) {
    let name = &spec.name;
    let api = schema.api(name);
    file.doc = match api {
        Some(a) => format!("`{} {}` (api `{name}`).", a.method.as_str(), a.path),
        None => format!("api `{name}`."),
    };
    let module = format!("generated.api.{name}");
    let request = format!("{name}Request");
    let response = format!("{name}Response");
    file.import(&module, &request);
    file.import("generated.state", "State");
    let response_ty = api.and_then(|a| a.response.as_ref());
    let ret = if response_ty.is_some() {
        file.import(&module, &response);
        response.clone()
    } else {
        "None".to_string()
    };
    file.signature(function, &[format!("req: {request}"), "state: State".into()], &ret);
    file.body.line(&format!(
        "state.logger.info({}, request=req.to_wire())",
        py_str(&format!("{name} called"))
    ));
    let Some(ty) = response_ty else {
        file.body.dedent();
        return;
    };
    // Imports the placeholder needs count only if a placeholder exists.
    let imports_before = (file.std.clone(), file.generated.clone(), file.bound.clone());
    let mut placeholders = Placeholders {
        schema,
        file,
        visiting: Vec::new(),
    };
    // The api's own inline response and body classes live in its module.
    let value = match ty {
        TypeRef::Primitive(Primitive::Json) => Some("{}".to_string()),
        TypeRef::Object(fields) => placeholders.object(&response, &module, fields, 1),
        other => placeholders.value(other, &format!("{response}Item"), &module, 1),
    };
    let file = placeholders.file;
    match value {
        Some(value) => {
            file.body.line("# Replace the placeholder with your response.");
            file.body.line(&format!("return {value}"));
        }
        None => {
            (file.std, file.generated, file.bound) = imports_before;
            file.import("generated.runtime", "HttpError");
            file.body.line(&format!(
                "raise HttpError(501, {})",
                py_str(&format!("{name} is not written yet: edit this handler"))
            ));
        }
    }
    file.body.dedent();
}

/// Builds the smallest valid value of a type: required fields only.
struct Placeholders<'s, 'f> {
    schema: &'s Schema,
    file: &'f mut StubFile,
    /// Records being built, to stop at a record that requires itself.
    visiting: Vec<String>,
}

impl Placeholders<'_, '_> {
    /// `context`/`module`: the class name and module of an inline object here.
    fn value(&mut self, ty: &TypeRef, context: &str, module: &str, depth: usize) -> Option<String> {
        Some(match ty {
            TypeRef::Primitive(Primitive::String) => "\"\"".into(),
            TypeRef::Primitive(Primitive::Int) => "0".into(),
            TypeRef::Primitive(Primitive::Float) => "0.0".into(),
            TypeRef::Primitive(Primitive::Boolean) => "False".into(),
            TypeRef::Primitive(Primitive::Json) => "None".into(),
            TypeRef::Primitive(Primitive::DateTime) => {
                self.file.import("datetime", "datetime");
                self.file.import("datetime", "timezone");
                "datetime.now(timezone.utc)".into()
            }
            TypeRef::Array(_) => "[]".into(),
            TypeRef::Optional(_) => "None".into(),
            TypeRef::Named {
                name,
                target: NamedKind::Enum,
            } => {
                let decl = self.schema.enum_decl(name)?;
                let first = member_names(decl).into_iter().next()?;
                let local = self.file.import(&format!("generated.models.{name}"), name);
                format!("{local}.{first}")
            }
            TypeRef::Named {
                name,
                target: NamedKind::Record,
            } => {
                if self.visiting.contains(name) {
                    return None;
                }
                let decl = self.schema.type_decl(name)?;
                self.visiting.push(name.clone());
                let module = format!("generated.models.{name}");
                let value = self.object(name, &module, &decl.fields, depth);
                self.visiting.pop();
                value?
            }
            TypeRef::Object(fields) => return self.object(context, module, fields, depth),
        })
    }

    /// `Class(required=…, …)`, one argument per line when it is long.
    fn object(&mut self, class: &str, module: &str, fields: &[Field], depth: usize) -> Option<String> {
        let local = self.file.import(module, class);
        let mut scratch = Module::new(self.schema, "stub");
        let mut args = Vec::new();
        for field in fields {
            let defaulted = field
                .attribute("default")
                .and_then(|a| a.args.first())
                .and_then(|lit| scratch.default_value(&field.ty, lit))
                .is_some();
            if field.optional || defaulted {
                continue;
            }
            let context = inline_name(self.schema, class, &field.name);
            let value = self.value(&field.ty, &context, module, depth + 1)?;
            let attr = super::types::attr_names(
                self.schema,
                fields.iter().map(|f| f.name.as_str()),
                &mut Default::default(),
            )
            .into_iter()
            .zip(fields)
            .find(|(_, f)| f.name == field.name)
            .map(|(a, _)| a)?;
            args.push(format!("{attr}={value}"));
        }
        let one_line = format!("{local}({})", args.join(", "));
        if one_line.len() + depth * 4 <= 80 || args.is_empty() {
            return Some(one_line);
        }
        let indent = "    ".repeat(depth + 1);
        let close = "    ".repeat(depth);
        let lines: Vec<String> = args.iter().map(|a| format!("{indent}{a},")).collect();
        Some(format!("{local}(\n{}\n{close})", lines.join("\n")))
    }
}

fn event_stub(file: &mut StubFile, spec: &HandlerSpec, sharing: &[&HandlerSpec], function: &str) {
    let events: Vec<&str> = sharing.iter().filter_map(|s| s.event_type.as_deref()).collect();
    let single = events.windows(2).all(|w| w[0] == w[1]);
    file.import("generated.state", "State");
    match (spec.event_type.as_deref(), single) {
        (Some(event), true) => {
            file.doc = format!("Event handler `{}` for `{event}`.", spec.name);
            let local = file.import(&format!("generated.events.{event}"), event);
            file.signature(function, &[format!("event: {local}"), "state: State".into()], "None");
            file.body.line(&format!(
                "state.logger.info({}, event=event.to_wire())",
                py_str(&format!("{event} received"))
            ));
        }
        _ => {
            // One function serving events of different types takes the
            // context, whose payload is plain JSON.
            let listed: Vec<String> = events.iter().map(|e| format!("`{e}`")).collect();
            file.doc = format!("Event handler `{}` for {}.", spec.name, listed.join(", "));
            file.import("generated.runtime", "HandlerContext");
            file.signature(
                function,
                &["context: HandlerContext".into(), "state: State".into()],
                "None",
            );
            file.body
                .line("state.logger.info(\"event received\", payload=context.payload)");
        }
    }
    file.body.dedent();
}

fn cron_stub(file: &mut StubFile, spec: &HandlerSpec, function: &str) {
    file.doc = format!("Cron job `{}`.", spec.name);
    file.import("generated.state", "State");
    file.signature(function, &["state: State".into()], "None");
    file.body
        .line(&format!("state.logger.info({})", py_str(&format!("{} ran", spec.name))));
    file.body.dedent();
}

fn connection_log(file: &mut StubFile, what: &str) {
    file.body.line(&format!(
        "state.logger.info({}, connection=context.metadata.get(\"connection_id\"))",
        py_str(what)
    ));
}

fn context_params() -> Vec<String> {
    vec!["context: HandlerContext".into(), "state: State".into()]
}

/// The three functions of a ws with no handler lists, in one module.
fn ws_module_stub(file: &mut StubFile, spec: &HandlerSpec) {
    let ws = &spec.name;
    file.doc = format!("WebSocket `{ws}`: connect, message, disconnect.");
    file.import("generated.runtime", "HandlerContext");
    file.import("generated.state", "State");
    file.import(&format!("generated.websockets.{ws}"), "WebSocketMessage");
    file.signature("on_connect", &context_params(), "None");
    connection_log(file, &format!("client connected to {ws}"));
    file.body.dedent();
    message_function(file, "on_message");
    file.signature("on_disconnect", &context_params(), "None");
    connection_log(file, &format!("client left {ws}"));
    file.body.dedent();
}

/// `on_message(message, state) -> WebSocketMessage`, echoing the message.
fn message_function(file: &mut StubFile, function: &str) {
    file.signature(
        function,
        &["message: WebSocketMessage".into(), "state: State".into()],
        "WebSocketMessage",
    );
    file.body.docstring(
        "The returned message goes back to the client (or to every client\nwhen the ws has `broadcast: true`).",
    );
    file.body
        .line("state.logger.info(\"message received\", message=message)");
    file.body.line("return message");
    file.body.dedent();
}

fn ws_context_stub(file: &mut StubFile, spec: &HandlerSpec, function: &str) {
    let phase = if spec.kind == HandlerKind::WsConnect {
        "connected"
    } else {
        "disconnected"
    };
    file.doc = format!("WebSocket handler `{}` (client {phase}).", spec.name);
    file.import("generated.runtime", "HandlerContext");
    file.import("generated.state", "State");
    file.signature(function, &context_params(), "None");
    connection_log(file, &format!("client {phase}"));
    file.body.dedent();
}

fn ws_message_stub(file: &mut StubFile, spec: &HandlerSpec, sharing: &[&HandlerSpec], function: &str) {
    let endpoint = spec.id.scope();
    let same_type = sharing.iter().all(|s| s.message_type == spec.message_type);
    file.doc = format!("WebSocket message handler `{}`.", spec.name);
    file.import("generated.state", "State");
    if same_type && !endpoint.is_empty() {
        file.import(&format!("generated.websockets.{endpoint}"), "WebSocketMessage");
        message_function(file, function);
    } else {
        file.import("generated.runtime", "HandlerContext");
        file.signature(function, &context_params(), "None");
        file.body
            .line("state.logger.info(\"message received\", payload=context.payload)");
        file.body.dedent();
    }
}

fn middleware_stub(file: &mut StubFile, spec: &HandlerSpec, function: &str) {
    file.doc = format!("Middleware `{}`.", spec.name);
    file.import("generated.runtime", "HandlerContext");
    file.import("generated.state", "State");
    file.signature(function, &context_params(), "HandlerContext | None");
    file.body.docstring(
        "Runs before every api or ws that lists it. Return None to let the call\nthrough, a changed `context` to continue with it, or raise\n`HttpError(401, \"…\")` (from generated.runtime) to reject it.",
    );
    file.body.line(&format!(
        "state.logger.debug({}, handler=context.handler_name)",
        py_str(&format!("{} checks a call", spec.name))
    ));
    file.body.line("return None");
    file.body.dedent();
}
