//! TypeScript handler stubs: written once, where no handler file exists, then
//! the user's. Each passes `tsc --strict`, returns a valid placeholder and
//! follows the style of the documented examples
//! (`export async function handler(...): Promise<...>`),
//! importing generated code relative to its own folder
//! (`"../../generated/api/Health"` from `src/handlers/api/`).

use super::code::{prop_name, ts_str, Code};
use super::module::builtin;
use super::types::type_name;
use crate::GeneratedFile;
use rohas_runtime::{HandlerKind, HandlerSpec};
use rohas_schema::model::{Field, NamedKind, Primitive, Schema, TypeRef};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One stub per spec, at `spec.files[0]`. Specs sharing a file (the three
/// functions of a single-module ws, or one event handler serving two events)
/// get the same, complete contents.
pub fn stubs(schema: &Schema, specs: &[HandlerSpec]) -> Vec<GeneratedFile> {
    specs
        .iter()
        .filter_map(|spec| {
            let path = spec.files.first()?;
            let sharing: Vec<&HandlerSpec> = specs.iter().filter(|s| s.files.first() == Some(path)).collect();
            Some(GeneratedFile::new(path.clone(), stub(schema, spec, &sharing, path)))
        })
        .collect()
}

fn stub(schema: &Schema, spec: &HandlerSpec, sharing: &[&HandlerSpec], path: &Path) -> String {
    let function = spec.functions.first().map(String::as_str).unwrap_or("handler");
    let mut file = StubFile::new(schema, path);
    match spec.kind {
        HandlerKind::Api => api_stub(&mut file, spec, function),
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

/// A stub being written: its header, imports and functions.
struct StubFile<'s> {
    schema: &'s Schema,
    /// `../../generated/`: from the stub's folder to `src/generated/`.
    generated: String,
    doc: String,
    /// Generated module → (type-only names, value names).
    imports: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>,
    body: Code,
}

impl<'s> StubFile<'s> {
    fn new(schema: &'s Schema, path: &Path) -> Self {
        // Folders between `src/` and the stub: `src/handlers/api/x.ts` is two deep.
        let depth = path
            .parent()
            .map(|p| p.components().count())
            .unwrap_or(1)
            .saturating_sub(1);
        let generated = if depth == 0 {
            "./generated/".to_string()
        } else {
            format!("{}generated/", "../".repeat(depth))
        };
        StubFile {
            schema,
            generated,
            doc: String::new(),
            imports: BTreeMap::new(),
            body: Code::typescript(),
        }
    }

    /// `import type { name }` from generated module `module` (`api/Health`).
    fn import_type(&mut self, module: &str, name: &str) {
        self.imports
            .entry(module.to_string())
            .or_default()
            .0
            .insert(name.to_string());
    }

    /// `import { name }`: a value (a class the stub constructs).
    fn import_value(&mut self, module: &str, name: &str) {
        self.imports
            .entry(module.to_string())
            .or_default()
            .1
            .insert(name.to_string());
    }

    fn promise(&self, of: &str) -> String {
        format!("{}<{of}>", builtin(self.schema, "Promise"))
    }

    /// `export async function name(params): Promise<ret> {`, wrapped one
    /// parameter per line when long. Callers put the blank line (and any
    /// doc comment) before it.
    fn signature(&mut self, function: &str, params: &[String], ret: &str) {
        let ret = self.promise(ret);
        self.body.open_signature(
            &format!("export async function {function}"),
            params,
            &format!(": {ret} {{"),
            100,
        );
    }

    fn render(self) -> String {
        let mut out = Code::typescript();
        out.comment(&format!(
            "{}\n\nWritten once by `rohas codegen` as a starting point; this file is yours\nand codegen never overwrites it.",
            self.doc
        ));
        out.blank();
        for (module, (types, values)) in &self.imports {
            let from = format!("{}{module}", self.generated);
            let types: Vec<&String> = types.iter().filter(|t| !values.contains(*t)).collect();
            let line = if values.is_empty() {
                let names: Vec<&str> = types.iter().map(|s| s.as_str()).collect();
                format!("import type {{ {} }} from \"{from}\";", names.join(", "))
            } else {
                let mut names: Vec<String> = values.iter().cloned().collect();
                names.extend(types.iter().map(|t| format!("type {t}")));
                format!("import {{ {} }} from \"{from}\";", names.join(", "))
            };
            out.line(&line);
        }
        out.blank();
        out.raw(&self.body.finish());
        out.finish()
    }
}

fn api_stub(file: &mut StubFile<'_>, spec: &HandlerSpec, function: &str) {
    let name = &spec.name;
    let schema = file.schema;
    let api = schema.api(name);
    file.doc = match api {
        Some(a) => format!("`{} {}` (api `{name}`).", a.method.as_str(), a.path),
        None => format!("api `{name}`."),
    };
    let module = format!("api/{name}");
    let request = format!("{name}Request");
    let response = format!("{name}Response");
    file.import_type(&module, &request);
    file.import_type("state", "State");
    let response_ty = api.and_then(|a| a.response.as_ref());
    let ret = if response_ty.is_some() {
        file.import_type(&module, &response);
        response.clone()
    } else {
        "void".to_string()
    };
    file.body.blank();
    file.signature(function, &[format!("req: {request}"), "state: State".into()], &ret);
    file.body.line(&format!(
        "state.logger.info({}, {{ query: req.queryParams }});",
        ts_str(&format!("{name} called"))
    ));
    if let Some(ty) = response_ty {
        let mut placeholders = Placeholders {
            schema,
            visiting: Vec::new(),
        };
        let value = match ty {
            TypeRef::Primitive(Primitive::Json) => Some("{}".to_string()),
            other => placeholders.value(other, 1),
        };
        match value {
            Some(value) => {
                file.body.line("// Replace the placeholder with your response.");
                file.body.line(&format!("return {value};"));
            }
            None => {
                file.import_value("runtime", "HttpError");
                file.body.line(&format!(
                    "throw new HttpError(501, {});",
                    ts_str(&format!("{name} is not written yet: edit this handler"))
                ));
            }
        }
    }
    file.body.close("}");
}

/// Builds the smallest valid value of a type: required fields only.
struct Placeholders<'s> {
    schema: &'s Schema,
    /// Records being built, to stop at a record that requires itself.
    visiting: Vec<String>,
}

impl Placeholders<'_> {
    fn value(&mut self, ty: &TypeRef, depth: usize) -> Option<String> {
        Some(match ty {
            TypeRef::Primitive(Primitive::String) => "\"\"".into(),
            TypeRef::Primitive(Primitive::Int | Primitive::Float) => "0".into(),
            TypeRef::Primitive(Primitive::Boolean) => "false".into(),
            TypeRef::Primitive(Primitive::Json) => "null".into(),
            TypeRef::Primitive(Primitive::DateTime) => format!("new {}()", builtin(self.schema, "Date")),
            TypeRef::Array(_) => "[]".into(),
            TypeRef::Optional(_) => "null".into(),
            TypeRef::Named {
                name,
                target: NamedKind::Enum,
            } => ts_str(&self.schema.enum_decl(name)?.variants.first()?.name),
            TypeRef::Named {
                name,
                target: NamedKind::Record,
            } => {
                if self.visiting.contains(name) {
                    return None;
                }
                let decl = self.schema.type_decl(name)?;
                self.visiting.push(name.clone());
                let value = self.object(&decl.fields, depth);
                self.visiting.pop();
                value?
            }
            TypeRef::Object(fields) => return self.object(fields, depth),
        })
    }

    /// `{ required: …, … }`, one property per line when it is long.
    fn object(&mut self, fields: &[Field], depth: usize) -> Option<String> {
        let mut props = Vec::new();
        for field in fields {
            if field.optional || field.attribute("default").is_some() {
                continue;
            }
            let value = self.value(&field.ty, depth + 1)?;
            props.push(format!("{}: {value}", prop_name(&field.name)));
        }
        if props.is_empty() {
            return Some("{}".into());
        }
        let one_line = format!("{{ {} }}", props.join(", "));
        if one_line.len() + depth * 2 <= 80 && !one_line.contains('\n') {
            return Some(one_line);
        }
        let indent = "  ".repeat(depth + 1);
        let close = "  ".repeat(depth);
        let lines: Vec<String> = props.iter().map(|p| format!("{indent}{p},")).collect();
        Some(format!("{{\n{}\n{close}}}", lines.join("\n")))
    }
}

fn event_stub(file: &mut StubFile<'_>, spec: &HandlerSpec, sharing: &[&HandlerSpec], function: &str) {
    let events: Vec<&str> = sharing.iter().filter_map(|s| s.event_type.as_deref()).collect();
    let single = events.windows(2).all(|w| w[0] == w[1]);
    file.import_type("state", "State");
    match (spec.event_type.as_deref(), single) {
        (Some(event), true) => {
            file.doc = format!("Event handler `{}` for `{event}`.", spec.name);
            let ty = type_name(event);
            file.import_type(&format!("events/{event}"), &ty);
            file.body.blank();
            file.signature(function, &[format!("event: {ty}"), "state: State".into()], "void");
            file.body.line(&format!(
                "state.logger.info({}, {{ event }});",
                ts_str(&format!("{event} received"))
            ));
        }
        _ => {
            // One function serving events of different types takes the
            // context, whose payload is plain JSON.
            let listed: Vec<String> = events.iter().map(|e| format!("`{e}`")).collect();
            file.doc = format!("Event handler `{}` for {}.", spec.name, listed.join(", "));
            file.import_type("runtime", "HandlerContext");
            file.body.blank();
            file.signature(function, &context_params(), "void");
            file.body
                .line("state.logger.info(\"event received\", { payload: context.payload });");
        }
    }
    file.body.close("}");
}

fn cron_stub(file: &mut StubFile<'_>, spec: &HandlerSpec, function: &str) {
    file.doc = format!("Cron job `{}`.", spec.name);
    file.import_type("state", "State");
    file.body.blank();
    file.signature(function, &["state: State".into()], "void");
    file.body.line(&format!(
        "state.logger.info({});",
        ts_str(&format!("{} ran", spec.name))
    ));
    file.body.close("}");
}

fn connection_log(file: &mut StubFile<'_>, what: &str) {
    file.body.line(&format!(
        "state.logger.info({}, {{ connection: context.metadata.connection_id }});",
        ts_str(what)
    ));
}

fn context_params() -> Vec<String> {
    vec!["context: HandlerContext".into(), "state: State".into()]
}

/// The three functions of a ws with no handler lists, in one module.
fn ws_module_stub(file: &mut StubFile<'_>, spec: &HandlerSpec) {
    let ws = &spec.name;
    file.doc = format!("WebSocket `{ws}`: connect, message, disconnect.");
    file.import_type("runtime", "HandlerContext");
    file.import_type("state", "State");
    file.import_type(&format!("websockets/{ws}"), "WebSocketMessage");
    file.body.blank();
    file.signature("onConnect", &context_params(), "void");
    connection_log(file, &format!("client connected to {ws}"));
    file.body.close("}");
    message_function(file, "onMessage");
    file.body.blank();
    file.signature("onDisconnect", &context_params(), "void");
    connection_log(file, &format!("client left {ws}"));
    file.body.close("}");
}

/// `onMessage(message, state): Promise<WebSocketMessage>`, echoing the message.
fn message_function(file: &mut StubFile<'_>, function: &str) {
    file.body.blank();
    file.body
        .jsdoc("The returned message goes back to the client (or to every client\nwhen the ws has `broadcast: true`).");
    file.signature(
        function,
        &["message: WebSocketMessage".into(), "state: State".into()],
        "WebSocketMessage",
    );
    file.body.line("state.logger.info(\"message received\", { message });");
    file.body.line("return message;");
    file.body.close("}");
}

fn ws_context_stub(file: &mut StubFile<'_>, spec: &HandlerSpec, function: &str) {
    let phase = if spec.kind == HandlerKind::WsConnect {
        "connected"
    } else {
        "disconnected"
    };
    file.doc = format!("WebSocket handler `{}` (client {phase}).", spec.name);
    file.import_type("runtime", "HandlerContext");
    file.import_type("state", "State");
    file.body.blank();
    file.signature(function, &context_params(), "void");
    connection_log(file, &format!("client {phase}"));
    file.body.close("}");
}

fn ws_message_stub(file: &mut StubFile<'_>, spec: &HandlerSpec, sharing: &[&HandlerSpec], function: &str) {
    let endpoint = spec.id.scope();
    let same_type = sharing.iter().all(|s| s.message_type == spec.message_type);
    file.doc = format!("WebSocket message handler `{}`.", spec.name);
    file.import_type("state", "State");
    if same_type && !endpoint.is_empty() {
        file.import_type(&format!("websockets/{endpoint}"), "WebSocketMessage");
        message_function(file, function);
    } else {
        file.import_type("runtime", "HandlerContext");
        file.body.blank();
        file.signature(function, &context_params(), "void");
        file.body
            .line("state.logger.info(\"message received\", { payload: context.payload });");
        file.body.close("}");
    }
}

fn middleware_stub(file: &mut StubFile<'_>, spec: &HandlerSpec, function: &str) {
    file.doc = format!("Middleware `{}`.", spec.name);
    file.import_type("runtime", "HandlerContext");
    file.import_type("state", "State");
    file.body.blank();
    file.body.jsdoc(
        "Runs before every api or ws that lists it. Return nothing to let the call\nthrough, a changed context (`{ ...context, payload }`) to continue with it,\nor throw `new HttpError(401, \"…\")` (from generated/runtime) to reject it.",
    );
    file.signature(function, &context_params(), "HandlerContext | undefined");
    file.body.line(&format!(
        "state.logger.debug({}, {{ handler: context.handler_name }});",
        ts_str(&format!("{} checks a call", spec.name))
    ));
    file.body.line("return undefined;");
    file.body.close("}");
}
