//! `generated/events/<Name>`: the type event handlers receive.
//!
//! The payload's fields sit at the top level (handlers read `event.userId`),
//! beside `payload` (always the whole payload) and the metadata `name`,
//! `timestamp` and `trace_id`, each only when no payload field has that
//! name: this is the engine's event object exactly (a payload field wins,
//! `payload` is always the whole payload).

use super::declarations::reexport;
use super::module::Module;
use super::types::{field_property, inline_name, type_name};
use rohas_schema::model::{Event, Field, NamedKind, Schema, TypeRef};
use std::collections::HashSet;

/// The payload's fields when it is an object, with the name their inline
/// types hang from and the module that declares those.
fn payload_fields<'s>(schema: &'s Schema, event: &'s Event) -> Option<(&'s [Field], String, String)> {
    match &event.payload {
        Some(TypeRef::Object(fields)) => Some((
            fields,
            format!("{}Payload", event.name),
            format!("events/{}", event.name),
        )),
        Some(TypeRef::Named {
            name,
            target: NamedKind::Record,
        }) => schema
            .type_decl(name)
            .map(|d| (d.fields.as_slice(), type_name(name), format!("models/{name}"))),
        _ => None,
    }
}

pub fn event_module(schema: &Schema, event: &Event) -> String {
    let name = type_name(&event.name);
    let payload_name = format!("{}Payload", event.name);
    let mut module = Module::new(schema, format!("events/{}", event.name));
    module.own.insert(name.clone());
    if matches!(event.payload, Some(TypeRef::Object(_))) {
        module.own.insert(payload_name.clone());
    }
    reexport(&mut module, event.payload.iter());

    // The payload type: a declared type, or an interface for an inline object.
    let mut pending = Vec::new();
    let payload_type = match &event.payload {
        Some(ty) => module.type_expr(
            ty,
            &payload_name,
            &mut pending,
            &format!("The payload of event `{}`.", event.name),
        ),
        None => "unknown".to_string(),
    };

    // The payload's fields at top level, with the types they have on the
    // payload type (its inline interfaces come from the payload's module).
    let fields = payload_fields(schema, event);
    let mut members: Vec<(Option<String>, String)> = Vec::new();
    if let Some((fields, owner, owner_module)) = &fields {
        for field in fields.iter().filter(|f| f.name != "payload") {
            let context = inline_name(schema, owner, &field.name);
            let mut inline = Vec::new();
            let mut ty = module.type_expr(&field.ty, &context, &mut inline, "");
            if !inline.is_empty() && *owner_module != module.path {
                let local = module.use_type(owner_module, &context);
                ty = ty.replacen(&context, &local, 1);
            }
            members.push((field.doc.clone(), field_property(field, &ty)));
        }
    }
    let taken: HashSet<&str> = fields
        .iter()
        .flat_map(|(f, _, _)| f.iter().map(|f| f.name.as_str()))
        .collect();
    members.push((Some("The whole payload.".into()), format!("payload: {payload_type};")));
    let date = module.builtin("Date");
    for (wire, ty, doc) in [
        ("name", "string", "The event name."),
        ("timestamp", date.as_str(), "When the event was published."),
        ("trace_id", "string", "The trace this event belongs to."),
    ] {
        if !taken.contains(wire) {
            members.push((Some(doc.into()), format!("{wire}: {ty};")));
        }
    }

    let doc = event.doc.clone().unwrap_or_else(|| {
        format!(
            "Event `{}` as its handlers receive it: the payload's fields, the whole payload, and metadata.",
            event.name
        )
    });
    let code = &mut module.body;
    code.jsdoc(&doc);
    code.open(&format!("export interface {name} {{"));
    for (doc, line) in members {
        if let Some(doc) = doc {
            code.jsdoc(&doc);
        }
        code.line(&line);
    }
    code.close("}");
    module.write_inline(pending);

    let mut doc = format!("event `{}`.", event.name);
    if let Some(d) = &event.doc {
        doc.push_str("\n\n");
        doc.push_str(d.trim());
    }
    module.render(&doc)
}
