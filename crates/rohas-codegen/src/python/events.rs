//! `generated.events.<Name>`: the event class handlers receive.
//!
//! The payload's fields sit at the top level (handlers read `event.user_id`),
//! with the attribute names they have on the payload type, beside `payload`
//! (always the whole payload) and the metadata `name`, `timestamp` and
//! `trace_id`, each only when no payload field has that name (a payload field
//! wins, as in the Rust output). `from_payload` builds an event from a
//! payload (tests; `from_wire` uses it too).

use super::code::py_str;
use super::declarations::reexport;
use super::module::{Module, Rendered};
use super::types::{attr_names, inline_name, Member, MemberType};
use rohas_schema::model::{Event, Field, NamedKind, Primitive, Schema, TypeRef};
use std::collections::HashSet;

/// The payload's fields, when it is an object (named record or inline).
fn payload_fields<'s>(schema: &'s Schema, event: &'s Event) -> Option<(&'s [Field], String)> {
    match &event.payload {
        Some(TypeRef::Object(fields)) => Some((fields, format!("{}Payload", event.name))),
        Some(TypeRef::Named {
            name,
            target: NamedKind::Record,
        }) => schema.type_decl(name).map(|d| (d.fields.as_slice(), name.clone())),
        _ => None,
    }
}

pub fn event_module(schema: &Schema, event: &Event) -> Rendered {
    let payload_name = format!("{}Payload", event.name);
    let mut module = Module::new(schema, format!("generated.events.{}", event.name));
    module.own.insert(event.name.clone());
    if matches!(event.payload, Some(TypeRef::Object(_))) {
        module.own.insert(payload_name.clone());
    }
    reexport(&mut module, event.payload.iter());
    module.use_plain("dataclasses");
    module.use_std("typing", "Any");
    module.use_std("datetime", "datetime");
    module.use_runtime("format_datetime");
    module.use_runtime("parse_datetime");
    module.use_runtime("utc_now");

    module.body.line(&format!("NAME = {}", py_str(&event.name)));
    module.body.docstring("The event name on the bus.");
    module.exports.insert("NAME".into());
    module.body.gap();

    // The payload type: a declared type, or a dataclass for an inline object.
    let mut pending = Vec::new();
    let payload_type = match &event.payload {
        Some(ty) => module.annotation(
            ty,
            &payload_name,
            &mut pending,
            &format!("The payload of event `{}`.", event.name),
        ),
        None => "Any".to_string(),
    };
    let payload_from = match &event.payload {
        Some(TypeRef::Primitive(Primitive::Json)) | None => "data.get(\"payload\")".to_string(),
        Some(ty) => module.read_expr(ty, "data[\"payload\"]", &payload_name, 0),
    };
    module.write_inline(pending);
    module.body.gap();

    // The payload's fields at top level (`event.user_id`), with the same
    // attribute names as on the payload type; then `payload`, then metadata
    // that no payload field already names.
    let fields = payload_fields(schema, event);
    let mut top: Vec<Member<'_>> = Vec::new();
    let mut copied: Vec<(String, String)> = Vec::new();
    if let Some((fields, owner)) = &fields {
        let owner_module = match &event.payload {
            Some(TypeRef::Named { name, .. }) => format!("generated.models.{name}"),
            _ => module.name.clone(),
        };
        let payload_attrs = attr_names(schema, fields.iter().map(|f| f.name.as_str()), &mut HashSet::new());
        for (field, attr) in fields.iter().zip(payload_attrs) {
            if attr == "payload" || field.name == "payload" {
                continue;
            }
            // Inline objects of the payload already have classes on the
            // payload's module: refer to those.
            let context = inline_name(schema, owner, &field.name);
            let mut ignored = Vec::new();
            let mut annotation = module.annotation(&field.ty, &context, &mut ignored, "");
            if !ignored.is_empty() {
                module.use_from(&owner_module, &context);
            }
            if field.optional {
                annotation.push_str(" | None");
            }
            copied.push((attr.clone(), attr.clone()));
            top.push(Member {
                wire: field.name.clone(),
                doc: field.doc.clone(),
                ty: MemberType::Raw {
                    annotation,
                    default: field.optional.then(|| "None".to_string()),
                    from: String::new(),
                    to: String::new(),
                },
                attr,
            });
        }
    }
    let taken_wire: HashSet<&str> = fields
        .iter()
        .flat_map(|(f, _)| f.iter().map(|f| f.name.as_str()))
        .collect();
    let mut taken_attrs: HashSet<String> = top.iter().map(|m| m.attr.clone()).collect();
    let payload_attr = attr_names(schema, ["payload"], &mut taken_attrs).remove(0);
    top.push(Member {
        wire: "payload".into(),
        attr: payload_attr.clone(),
        doc: Some("The whole payload.".into()),
        ty: MemberType::Raw {
            annotation: payload_type.clone(),
            default: event.payload.is_none().then(|| "None".to_string()),
            from: String::new(),
            to: String::new(),
        },
    });
    // The attribute may be `payload_` (a declared type named `payload`).
    let own_payload = format!("self.{payload_attr}");
    let payload_to = match &event.payload {
        Some(ty) => module.wire_expr(ty, &own_payload, 0),
        None => {
            module.use_runtime("to_wire");
            format!("to_wire({own_payload})")
        }
    };
    let name_lit = py_str(&event.name);
    let mut metadata: Vec<(&str, String)> = Vec::new();
    for (wire, annotation, default, doc) in [
        ("name", "str", name_lit.clone(), "The event name."),
        (
            "timestamp",
            "datetime",
            "dataclasses.field(default_factory=utc_now)".to_string(),
            "When the event was published.",
        ),
        (
            "trace_id",
            "str",
            "\"\"".to_string(),
            "The trace this event belongs to.",
        ),
    ] {
        if taken_wire.contains(wire) {
            continue;
        }
        let attr = attr_names(schema, [wire], &mut taken_attrs).remove(0);
        metadata.push((wire, attr.clone()));
        top.push(Member {
            wire: wire.into(),
            attr,
            doc: Some(doc.into()),
            ty: MemberType::Raw {
                annotation: annotation.into(),
                default: Some(default),
                from: String::new(),
                to: String::new(),
            },
        });
    }

    let doc = event.doc.clone().unwrap_or_else(|| {
        format!(
            "Event `{}` as its handlers receive it: the payload's fields, the whole payload, and metadata.",
            event.name
        )
    });
    let name = event.name.clone();
    let mut ignored = Vec::new();
    module.class_head(&name, Some(&doc), &top, &mut ignored);
    module.body.blank();

    // from_payload: the event for a payload (tests, and from_wire below).
    let meta_params: Vec<String> = metadata
        .iter()
        .filter(|(wire, _)| *wire != "name")
        .map(|(wire, attr)| match *wire {
            "timestamp" => format!("{attr}: datetime | None = None"),
            _ => format!("{attr}: str = \"\""),
        })
        .collect();
    let payload_param = if event.payload.is_none() {
        format!("{payload_attr}: {payload_type} = None")
    } else {
        format!("{payload_attr}: {payload_type}")
    };
    let mut params = vec!["cls".to_string(), payload_param];
    if !meta_params.is_empty() {
        params.push("*".into());
        params.extend(meta_params);
    }
    let code = &mut module.body;
    code.line("@classmethod");
    code.open(&format!("def from_payload({}) -> {name}:", params.join(", ")));
    code.docstring(&format!(
        "The `{name}` event carrying `{payload_attr}` (its fields copied to the top level)."
    ));
    code.open("return cls(");
    for (attr, source) in &copied {
        code.line(&format!("{attr}={payload_attr}.{source},"));
    }
    code.line(&format!("{payload_attr}={payload_attr},"));
    for (wire, attr) in &metadata {
        match *wire {
            "timestamp" => code.line(&format!("{attr}={attr} if {attr} is not None else utc_now(),")),
            "trace_id" => code.line(&format!("{attr}={attr},")),
            _ => {}
        }
    }
    code.close(")");
    code.dedent();
    code.blank();

    code.line("@classmethod");
    code.open(&format!("def from_wire(cls, data: dict[str, Any]) -> {name}:"));
    code.docstring(
        "Build the event from the bus message `{<payload fields>, \"payload\", \"name\", \"timestamp\", \"trace_id\"}`.",
    );
    code.open("return cls.from_payload(");
    code.line(&format!("{payload_from},"));
    for (wire, attr) in &metadata {
        match *wire {
            "timestamp" => code.line(&format!(
                "{attr}=parse_datetime(data[\"timestamp\"]) if \"timestamp\" in data else None,"
            )),
            "trace_id" => code.line(&format!("{attr}=str(data.get(\"trace_id\", \"\")),")),
            _ => {}
        }
    }
    code.close(")");
    code.dedent();
    code.blank();

    code.open("def to_wire(self) -> dict[str, Any]:");
    code.docstring("The bus message: the payload's fields, `payload`, and the metadata.");
    code.line(&format!("payload = {payload_to}"));
    if fields.is_some() {
        code.line("data: dict[str, Any] = dict(payload)");
    } else {
        code.line("data: dict[str, Any] = {}");
    }
    code.line("data[\"payload\"] = payload");
    for (wire, attr) in &metadata {
        let value = if *wire == "timestamp" {
            format!("format_datetime(self.{attr})")
        } else {
            format!("self.{attr}")
        };
        code.line(&format!("data[{}] = {value}", py_str(wire)));
    }
    code.line("return data");
    code.dedent();
    code.dedent();

    let mut doc = format!("event `{}`.", event.name);
    if let Some(d) = &event.doc {
        doc.push_str("\n\n");
        doc.push_str(d.trim());
    }
    module.render(&doc)
}
