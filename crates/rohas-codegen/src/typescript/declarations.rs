//! One module per declaration: `generated/models/<Name>`,
//! `generated/api/<Name>` and `generated/websockets/<Name>` (events are in
//! `events.rs`), named exactly like the schema so a handler's
//! `import { HealthResponse } from "../../generated/api/Health"` resolves.

use super::module::Module;
use super::types::{type_name, Inline};
use rohas_schema::model::{Api, EnumDecl, Schema, TypeDecl, TypeKind, TypeRef, WebSocket};
use std::collections::BTreeSet;

pub fn record_module(schema: &Schema, decl: &TypeDecl) -> String {
    let keyword = match decl.kind {
        TypeKind::Model => "model",
        TypeKind::Input => "input",
        TypeKind::Type => "type",
    };
    let mut module = Module::new(schema, format!("models/{}", decl.name));
    let name = type_name(&decl.name);
    module.own.insert(name.clone());
    let doc = decl
        .doc
        .clone()
        .unwrap_or_else(|| format!("`{keyword} {}` from the schema.", decl.name));
    module.write_interface(&name, &doc, &decl.fields);
    module.render(&format!("`{keyword} {}` from the schema.", decl.name))
}

pub fn enum_module(schema: &Schema, decl: &EnumDecl) -> String {
    let mut module = Module::new(schema, format!("models/{}", decl.name));
    module.write_enum(decl);
    module.render(&format!("`enum {}` from the schema.", decl.name))
}

/// Declared names a type mentions.
fn collect_named(ty: &TypeRef, out: &mut BTreeSet<String>) {
    match ty {
        TypeRef::Named { name, .. } => {
            out.insert(name.clone());
        }
        TypeRef::Array(inner) | TypeRef::Optional(inner) => collect_named(inner, out),
        TypeRef::Object(fields) => fields.iter().for_each(|f| collect_named(&f.ty, out)),
        TypeRef::Primitive(_) => {}
    }
}

/// Import and re-export every declared type `types` mention, so a handler
/// imports all it needs from one module (`import { CreateUserInput, User }
/// from "../../generated/api/CreateUser"`).
pub(super) fn reexport<'a>(module: &mut Module<'_>, types: impl IntoIterator<Item = &'a TypeRef>) {
    let mut named = BTreeSet::new();
    for ty in types {
        collect_named(ty, &mut named);
    }
    for name in named {
        module.reexport_named(&name);
    }
}

/// `export type Name = …;`, or an interface for an inline object; nothing
/// when `ty` is the declared type of that very name (re-exported instead).
fn alias_or_interface(module: &mut Module<'_>, name: &str, ty: Option<&TypeRef>, doc: &str, fallback: &str) {
    match ty {
        Some(TypeRef::Named { name: target, .. }) if type_name(target) == name => {}
        Some(TypeRef::Object(fields)) => {
            module.body.blank();
            module.write_interface(name, doc, fields);
        }
        Some(ty) => {
            let mut inline: Vec<Inline<'_>> = Vec::new();
            let item_doc = format!("An item of `{name}`.");
            let expr = module.type_expr(ty, &format!("{name}Item"), &mut inline, &item_doc);
            module.body.blank();
            module.body.jsdoc(doc);
            module.body.line(&format!("export type {name} = {expr};"));
            module.write_inline(inline);
        }
        None => {
            module.body.blank();
            module.body.jsdoc(doc);
            module.body.line(&format!("export type {name} = {fallback};"));
        }
    }
}

/// The request object's own `queryParams` (the engine's `query_params`):
/// a path parameter of that name is not on the request, only in
/// `context.metadata.path_params`. (`body`, `headers` and `query_params`
/// themselves are refused as parameters by the schema, E0014.)
const REQUEST_KEYS: &[&str] = &["queryParams"];

pub fn api_module(schema: &Schema, api: &Api) -> String {
    let request = format!("{}Request", api.name);
    let response = format!("{}Response", api.name);
    let body_name = format!("{}Body", api.name);
    let query_name = format!("{}Query", api.name);
    let mut module = Module::new(schema, format!("api/{}", api.name));
    module.own.insert(request.clone());
    if !matches!(&api.response, Some(TypeRef::Named { name, .. }) if type_name(name) == response) {
        module.own.insert(response.clone());
    }
    if matches!(api.body, Some(TypeRef::Object(_))) {
        module.own.insert(body_name.clone());
    }
    if matches!(api.query, Some(TypeRef::Object(_))) {
        module.own.insert(query_name.clone());
    }
    reexport(&mut module, api.query.iter().chain(&api.body).chain(&api.response));

    let mut pending = Vec::new();
    let query = api.query.as_ref().map(|ty| {
        module.type_expr(
            ty,
            &query_name,
            &mut pending,
            &format!("The typed query parameters of `{}`.", api.name),
        )
    });
    let body = api.body.as_ref().map(|ty| {
        module.type_expr(
            ty,
            &body_name,
            &mut pending,
            &format!("The request body of `{}`.", api.name),
        )
    });
    let code = &mut module.body;
    code.jsdoc(&format!(
        "The request handed to the `{}` handler: path parameters, query, body, headers.",
        api.name
    ));
    code.open(&format!("export interface {request} {{"));
    for param in api.path_params() {
        if REQUEST_KEYS.contains(&param) {
            continue;
        }
        code.jsdoc(&format!("Path parameter `:{param}`."));
        code.line(&super::types::property(param, "string", false));
    }
    if let Some(query) = &query {
        code.jsdoc("The typed query parameters (`query:`), coerced by the engine.");
        code.line(&format!("query: {query};"));
    }
    code.jsdoc("URL query parameters.");
    code.line("queryParams: { [name: string]: string };");
    if let Some(body) = &body {
        code.jsdoc("The parsed request body.");
        code.line(&format!("body: {body};"));
    }
    code.jsdoc("Request headers, lower-case names.");
    code.line("headers: { [name: string]: string };");
    code.close("}");
    module.write_inline(pending);

    alias_or_interface(
        &mut module,
        &response,
        api.response.as_ref(),
        &format!("What `{}` answers with.", api.name),
        "void",
    );

    let mut doc = format!("api `{}`: `{} {}`.", api.name, api.method.as_str(), api.path);
    if let Some(d) = &api.doc {
        doc.push_str("\n\n");
        doc.push_str(d.trim());
    }
    module.render(&doc)
}

pub fn websocket_module(schema: &Schema, ws: &WebSocket) -> String {
    let message_name = format!("{}Message", ws.name);
    let mut module = Module::new(schema, format!("websockets/{}", ws.name));
    if matches!(ws.message, Some(TypeRef::Object(_))) {
        module.own.insert(message_name.clone());
    }
    if !matches!(&ws.message, Some(TypeRef::Named { name, .. }) if type_name(name) == "WebSocketMessage") {
        module.own.insert("WebSocketMessage".into());
    }
    reexport(&mut module, ws.message.iter());
    let connection = module.use_type("runtime", "Connection");
    if connection == "Connection" {
        module.reexports.insert(connection);
    }

    let alias_doc = "The message type, under the name every ws module shares.";
    match &ws.message {
        Some(TypeRef::Named { name, .. }) => {
            let local = module.use_named(name);
            if type_name(name) != "WebSocketMessage" {
                module.body.jsdoc(alias_doc);
                module.body.line(&format!("export type WebSocketMessage = {local};"));
            }
        }
        Some(TypeRef::Object(fields)) => {
            module.write_interface(&message_name, &format!("A message on ws `{}`.", ws.name), fields);
            module.body.blank();
            module.body.jsdoc(alias_doc);
            module
                .body
                .line(&format!("export type WebSocketMessage = {message_name};"));
        }
        other => alias_or_interface(
            &mut module,
            "WebSocketMessage",
            other.as_ref(),
            &format!("A message on ws `{}`.", ws.name),
            "unknown",
        ),
    }

    let mut doc = format!("ws `{}` at `{}`.", ws.name, ws.path);
    if let Some(d) = &ws.doc {
        doc.push_str("\n\n");
        doc.push_str(d.trim());
    }
    module.render(&doc)
}
