//! One module per declaration: `models::<Name>`, `api::<Name>`,
//! `events::<Name>`, `websockets::<Name>`, named exactly like the schema so
//! a handler's `use crate::generated::api::Health::HealthResponse` resolves.

use super::code::{doc_lines, module_doc, Code};
use super::types::{named_path, StructDef, StructField, TypeShape, TypeWriter};
use crate::naming::pascal_case;
use rohas_schema::model::{Api, Event, NamedKind, Schema, TypeDecl, TypeKind, TypeRef, WebSocket};
use std::collections::BTreeSet;

const HEADER: &str = "// Written by `rohas codegen` from the schema. Do not edit: every run rewrites src/generated/.";

/// The Rust type of `ty`, an inline record or a type holding some, named
/// `name`, after writing the structs it needs into `code`: the record's
/// own (with `doc`, when given) and any nested inline ones.
fn write_inline(writer: &TypeWriter<'_>, code: &mut Code, ty: &TypeRef, name: &str, doc: Option<String>) -> String {
    let mut extra = Vec::new();
    let rust = writer.rust_type(ty, name, &mut extra);
    for mut def in extra {
        if def.name == name && doc.is_some() {
            def.doc = doc.clone();
        }
        writer.write_struct(code, def);
        code.blank();
    }
    rust
}

pub fn record_module(schema: &Schema, decl: &TypeDecl) -> String {
    let mut code = Code::rust();
    let keyword = match decl.kind {
        TypeKind::Model => "model",
        TypeKind::Input => "input",
        TypeKind::Type => "type",
    };
    code.line(&format!("//! `{keyword} {}` from the schema.", decl.name));
    code.line(HEADER);
    code.blank();
    let writer = TypeWriter::new(schema, Some(&decl.name));
    writer.write_struct(
        &mut code,
        StructDef::new(
            decl.name.clone(),
            decl.doc.clone(),
            decl.fields.iter().map(StructField::from_schema).collect(),
        ),
    );
    code.finish()
}

pub fn enum_module(schema: &Schema, decl: &rohas_schema::model::EnumDecl) -> String {
    let mut code = Code::rust();
    code.line(&format!("//! `enum {}` from the schema.", decl.name));
    code.line(HEADER);
    code.blank();
    TypeWriter::new(schema, None).write_enum(&mut code, decl);
    code.finish()
}

pub fn api_module(schema: &Schema, api: &Api) -> String {
    let writer = TypeWriter::new(schema, None);
    let request = format!("{}Request", api.name);
    let response = format!("{}Response", api.name);
    let body_name = format!("{}Body", api.name);
    let query_name = format!("{}Query", api.name);

    let mut code = Code::rust();
    code.line(&format!(
        "//! api `{}`: `{} {}`.",
        api.name,
        api.method.as_str(),
        api.path
    ));
    if let Some(doc) = &api.doc {
        code.line("//!");
        module_doc(&mut code, Some(doc));
    }
    code.line(HEADER);
    code.blank();

    // Re-export the named types the request and response use, so a handler
    // imports everything from its api module.
    let mut named = BTreeSet::new();
    for ty in api.query.iter().chain(&api.body).chain(&api.response) {
        collect_named(ty, &mut named);
    }
    let mut generated: BTreeSet<&str> = [request.as_str()].into();
    if matches!(api.body, Some(TypeRef::Object(_))) {
        generated.insert(&body_name);
    }
    if matches!(api.query, Some(TypeRef::Object(_))) {
        generated.insert(&query_name);
    }
    if matches!(api.response, Some(TypeRef::Object(_))) {
        generated.insert(&response);
    }
    reexports(&mut code, &named, &generated);

    code.line(&format!("/// HTTP method of `{}`.", api.name));
    code.line(&format!("pub const METHOD: &str = {:?};", api.method.as_str()));
    code.line(&format!(
        "/// Route of `{}`; `:name` segments are path parameters.",
        api.name
    ));
    code.line(&format!("pub const PATH: &str = {:?};", api.path));
    code.blank();

    let mut fields: Vec<StructField<'_>> = Vec::new();
    // The typed query first: its field is `query` whatever the path
    // parameters are called (a `:Query` one becomes `query_2`).
    if let Some(query) = &api.query {
        // A record, deserialised like a body record (defaults included); a
        // parameter the client left out is absent from the wire object.
        let doc = format!("The typed query parameters of `{}`.", api.name);
        let ty = write_inline(&writer, &mut code, query, &query_name, Some(doc));
        let mut field = StructField::raw(
            "query",
            ty,
            "The typed query parameters (`query:`), coerced by the engine.",
        );
        field.serde_default = false;
        fields.push(field);
    }
    fields.extend(
        api.path_params()
            .map(|p| StructField::raw(p, "String", &format!("Path parameter `:{p}`."))),
    );
    fields.push(StructField::raw(
        "query_params",
        "serde_json::Map<String, serde_json::Value>",
        "URL query parameters.",
    ));
    if let Some(body) = &api.body {
        let ty = match body {
            TypeRef::Object(_) => write_inline(&writer, &mut code, body, &body_name, None),
            other => writer.rust_type(other, &body_name, &mut Vec::new()),
        };
        let mut field = StructField::raw("body", ty, "The parsed request body.");
        field.serde_default = false;
        fields.push(field);
    }
    fields.push(StructField::raw(
        "headers",
        "serde_json::Map<String, serde_json::Value>",
        "Request headers, lower-case names.",
    ));
    writer.write_struct(
        &mut code,
        StructDef::new(
            request,
            Some(format!(
                "The request handed to the `{}` handler: path parameters, query, body, headers.",
                api.name
            )),
            fields,
        ),
    );
    code.blank();

    let response_doc = format!("What `{}` answers with.", api.name);
    match &api.response {
        Some(TypeRef::Named { name, .. }) if *name == response => {}
        Some(ty @ TypeRef::Object(_)) => {
            write_inline(&writer, &mut code, ty, &response, Some(response_doc.clone()));
        }
        Some(ty) => {
            let rust = writer.rust_type(ty, &response, &mut Vec::new());
            doc_lines(&mut code, Some(&response_doc));
            code.line(&format!("pub type {response} = {rust};"));
        }
        None => {
            code.line(&format!(
                "/// `{}` has no response type: the handler returns nothing.",
                api.name
            ));
            code.line(&format!("pub type {response} = ();"));
        }
    }
    code.finish()
}

pub fn event_module(schema: &Schema, event: &Event) -> String {
    let writer = TypeWriter::new(schema, None);
    let mut code = Code::rust();
    code.line(&format!("//! event `{}`.", event.name));
    if let Some(doc) = &event.doc {
        code.line("//!");
        module_doc(&mut code, Some(doc));
    }
    code.line(HEADER);
    code.blank();

    let mut named = BTreeSet::new();
    if let Some(payload) = &event.payload {
        collect_named(payload, &mut named);
    }
    let payload_name = format!("{}Payload", event.name);
    let mut generated: BTreeSet<&str> = [event.name.as_str()].into();
    if matches!(event.payload, Some(TypeRef::Object(_))) {
        generated.insert(&payload_name);
    }
    reexports(&mut code, &named, &generated);

    // The payload's fields sit at the top level (`event.user_id`), beside the
    // whole payload and the event metadata. A payload field wins over a
    // metadata field of the same name; `payload` is always the whole payload.
    let payload_fields: Vec<&rohas_schema::model::Field> = match &event.payload {
        Some(TypeRef::Object(fields)) => fields.iter().collect(),
        Some(TypeRef::Named {
            name,
            target: NamedKind::Record,
        }) => schema
            .type_decl(name)
            .map(|d| d.fields.iter().collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let payload_type = match &event.payload {
        Some(ty @ TypeRef::Object(_)) => {
            let doc = format!("The payload of event `{}`.", event.name);
            write_inline(&writer, &mut code, ty, &payload_name, Some(doc))
        }
        Some(ty) => writer.rust_type(ty, &payload_name, &mut Vec::new()),
        None => "serde_json::Value".to_string(),
    };

    let mut fields: Vec<StructField<'_>> = payload_fields
        .iter()
        .filter(|f| f.name != "payload")
        .map(|f| {
            // Inline objects inside the payload already have structs (named
            // after the payload type); the top-level copies refer to those.
            let (prefix, owner) = match &event.payload {
                Some(TypeRef::Named { name, .. }) => (format!("crate::generated::models::{name}::"), name.clone()),
                _ => (String::new(), payload_name.clone()),
            };
            let mut field = StructField::from_schema(f);
            field.ty = TypeShape::Shared {
                ty: &f.ty,
                prefix,
                context: format!("{owner}{}", pascal_case(&f.name)),
            };
            field
        })
        .collect();
    let taken: BTreeSet<&str> = payload_fields.iter().map(|f| f.name.as_str()).collect();
    fields.push(StructField::raw("payload", payload_type.clone(), "The whole payload."));
    for (wire, ty, doc) in [
        ("name", "String", "The event name."),
        (
            "timestamp",
            "chrono::DateTime<chrono::Utc>",
            "When the event was published.",
        ),
        ("trace_id", "String", "The trace this event belongs to."),
    ] {
        if !taken.contains(wire) {
            let mut field = StructField::raw(wire, ty, doc);
            if wire == "timestamp" {
                // Read without chrono's general parser (`events/mod.rs`).
                field.deserialize_with = Some("super::event_timestamp");
            }
            fields.push(field);
        }
    }
    let doc = match &event.doc {
        Some(d) => d.clone(),
        None => format!(
            "Event `{}` as its handlers receive it: the payload's fields, the whole payload, and metadata.",
            event.name
        ),
    };
    let wire = wire_form(&writer, event, &payload_fields, &payload_type);
    let wire_name = format!("{}Wire", event.name);
    let mut def = StructDef::new(event.name.clone(), Some(doc), fields);
    let idents = super::types::struct_idents(&def.fields);
    // The wire form leaves `payload` out: serde skips it unread.
    let wire_def = wire.is_some().then(|| {
        let fields = def
            .fields
            .iter()
            .filter(|f| f.wire != "payload")
            .map(|f| StructField { doc: None, ..f.clone() })
            .collect();
        let mut wire_def = StructDef::new(wire_name.clone(), None, fields);
        wire_def.read_only = true;
        wire_def
    });
    if wire_def.is_some() {
        def.read_from = Some(wire_name.clone());
    }
    writer.write_struct(&mut code, def);
    if let (Some(payload_struct), Some(wire_def)) = (wire, wire_def) {
        // The engine sends the payload's fields and the whole payload: the
        // fields are read once, and `payload` is made from them.
        code.blank();
        code.line(&format!(
            "/// `{}` as the engine sends it, read without its `payload` (made from its fields).",
            event.name
        ));
        writer.write_struct(&mut code, wire_def);
        code.blank();
        code.open(&format!("impl From<{wire_name}> for {} {{", event.name));
        // Some fields are `Copy`, some not: each is cloned alike.
        code.line("#[allow(clippy::clone_on_copy)]");
        code.open(&format!("fn from(wire: {wire_name}) -> Self {{"));
        code.open(&format!("{} {{", event.name));
        let payload_count = payload_fields.len();
        code.open(&format!("payload: {payload_struct} {{"));
        for ident in &idents[..payload_count] {
            code.line(&format!("{ident}: wire.{ident}.clone(),"));
        }
        code.close("},");
        for ident in idents.iter().filter(|i| i.as_str() != "payload") {
            code.line(&format!("{ident}: wire.{ident},"));
        }
        code.close("}");
        code.close("}");
        code.close("}");
    }
    code.blank();
    code.line("/// The event name on the bus.");
    code.line(&format!("pub const NAME: &str = {:?};", event.name));
    code.finish()
}

pub fn websocket_module(schema: &Schema, ws: &WebSocket) -> String {
    let writer = TypeWriter::new(schema, None);
    let message_name = format!("{}Message", ws.name);
    let mut code = Code::rust();
    code.line(&format!("//! ws `{}` at `{}`.", ws.name, ws.path));
    if let Some(doc) = &ws.doc {
        code.line("//!");
        module_doc(&mut code, Some(doc));
    }
    code.line(HEADER);
    code.blank();

    let mut named = BTreeSet::new();
    if let Some(message) = &ws.message {
        collect_named(message, &mut named);
    }
    let generated: BTreeSet<&str> = match ws.message {
        Some(TypeRef::Object(_)) => [message_name.as_str(), "WebSocketMessage"].into(),
        Some(TypeRef::Named { .. }) => BTreeSet::new(),
        _ => ["WebSocketMessage"].into(),
    };
    reexports(&mut code, &named, &generated);
    code.line("/// One client connection: its id and `send`.");
    code.line("pub use rohas_runtime::Connection;");
    code.blank();
    code.line(&format!("/// Path clients connect to for `{}`.", ws.name));
    code.line(&format!("pub const PATH: &str = {:?};", ws.path));
    code.blank();

    match &ws.message {
        Some(TypeRef::Named { name, .. }) => {
            if name != "WebSocketMessage" {
                code.line("/// The message type, under the name every ws module shares.");
                code.line(&format!("pub use {} as WebSocketMessage;", named_path(name)));
            }
        }
        Some(ty @ TypeRef::Object(_)) => {
            let doc = format!("A message on ws `{}`.", ws.name);
            write_inline(&writer, &mut code, ty, &message_name, Some(doc));
            code.line("/// The message type, under the name every ws module shares.");
            code.line(&format!("pub use self::{message_name} as WebSocketMessage;"));
        }
        Some(ty) => {
            let rust = writer.rust_type(ty, &message_name, &mut Vec::new());
            code.line(&format!("/// A message on ws `{}`.", ws.name));
            code.line(&format!("pub type WebSocketMessage = {rust};"));
        }
        None => {
            code.line(&format!(
                "/// ws `{}` declares no message type: any JSON value.",
                ws.name
            ));
            code.line("pub type WebSocketMessage = serde_json::Value;");
        }
    }
    code.finish()
}

/// `pub use` lines for declared types, skipping names the module defines.
fn reexports(code: &mut Code, named: &BTreeSet<String>, defined: &BTreeSet<&str>) {
    let mut any = false;
    for name in named {
        if !defined.contains(name.as_str()) {
            code.line(&format!("pub use {};", named_path(name)));
            any = true;
        }
    }
    if any {
        code.blank();
    }
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

/// The payload struct an event's handlers can have rebuilt from the
/// payload's top-level fields, or `None` when they cannot: a payload that
/// is not a record, a payload with a field named `payload` (the top-level
/// `payload` is the whole payload), or a record whose struct boxes a field
/// the top-level copy does not (a record containing itself).
fn wire_form(
    writer: &TypeWriter<'_>,
    event: &Event,
    payload_fields: &[&rohas_schema::model::Field],
    payload_type: &str,
) -> Option<String> {
    if payload_fields.is_empty() || payload_fields.iter().any(|f| f.name == "payload") {
        return None;
    }
    match &event.payload {
        Some(TypeRef::Object(_)) => Some(payload_type.to_string()),
        Some(TypeRef::Named {
            name,
            target: NamedKind::Record,
        }) => {
            let own = TypeWriter::new(writer.schema(), Some(name));
            let same = payload_fields
                .iter()
                .all(|f| own.rust_type(&f.ty, "", &mut Vec::new()) == writer.rust_type(&f.ty, "", &mut Vec::new()));
            same.then(|| payload_type.to_string())
        }
        _ => None,
    }
}
