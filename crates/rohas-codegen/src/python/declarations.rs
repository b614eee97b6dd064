//! One module per declaration: `generated.models.<Name>`,
//! `generated.api.<Name>` and `generated.websockets.<Name>` (events are in
//! `events.rs`), named exactly like the schema so a handler's
//! `from generated.api.Health import HealthResponse` resolves.

use super::code::py_str;
use super::module::{Module, Rendered};
use super::types::{attr_names, schema_members, Inline, Member, MemberType};
use rohas_schema::model::{Api, EnumDecl, NamedKind, Primitive, Schema, TypeDecl, TypeKind, TypeRef, WebSocket};
use std::collections::{BTreeSet, HashSet};

pub fn record_module(schema: &Schema, decl: &TypeDecl) -> Rendered {
    let keyword = match decl.kind {
        TypeKind::Model => "model",
        TypeKind::Input => "input",
        TypeKind::Type => "type",
    };
    let mut module = Module::new(schema, format!("generated.models.{}", decl.name));
    let members = schema_members(schema, &decl.name, &decl.fields, &mut HashSet::new());
    let doc = decl
        .doc
        .clone()
        .unwrap_or_else(|| format!("`{keyword} {}` from the schema.", decl.name));
    module.write_record(&decl.name, Some(&doc), members);
    module.render(&format!("`{keyword} {}` from the schema.", decl.name))
}

pub fn enum_module(schema: &Schema, decl: &EnumDecl) -> Rendered {
    let mut module = Module::new(schema, format!("generated.models.{}", decl.name));
    module.write_enum(decl);
    module.render(&format!("`enum {}` from the schema.", decl.name))
}

/// Declared names a type mentions, with their kind.
fn collect_named(ty: &TypeRef, out: &mut BTreeSet<(String, bool)>) {
    match ty {
        TypeRef::Named { name, target } => {
            out.insert((name.clone(), *target == NamedKind::Record));
        }
        TypeRef::Array(inner) | TypeRef::Optional(inner) => collect_named(inner, out),
        TypeRef::Object(fields) => fields.iter().for_each(|f| collect_named(&f.ty, out)),
        TypeRef::Primitive(_) => {}
    }
}

/// Import and re-export every declared type `types` mention, so a handler
/// imports all it needs from one module.
pub(super) fn reexport<'a>(module: &mut Module<'_>, types: impl IntoIterator<Item = &'a TypeRef>) {
    let mut named = BTreeSet::new();
    for ty in types {
        collect_named(ty, &mut named);
    }
    for (name, record) in named {
        let kind = if record { NamedKind::Record } else { NamedKind::Enum };
        module.use_named(&name, kind);
        module.exports.insert(name);
    }
}

/// `Name: TypeAlias = <annotation>` (or the class itself for inline objects).
fn alias_or_class(module: &mut Module<'_>, name: &str, ty: Option<&TypeRef>, doc: &str, fallback: &str) {
    match ty {
        Some(TypeRef::Named { name: target, .. }) if target == name => {}
        Some(TypeRef::Object(fields)) => {
            let members = schema_members(module.schema, name, fields, &mut HashSet::new());
            module.write_record(name, Some(doc), members);
        }
        Some(ty) => {
            let mut inline: Vec<Inline<'_>> = Vec::new();
            let item = format!("{name}Item");
            let annotation = module.annotation(ty, &item, &mut inline, doc);
            // Inline classes first: the alias is evaluated when the module loads.
            if !inline.is_empty() {
                module.write_inline(inline);
                module.body.gap();
            }
            module.use_std("typing", "TypeAlias");
            module.own.insert(name.to_string());
            module.exports.insert(name.to_string());
            module.body.line(&format!("{name}: TypeAlias = {annotation}"));
            module.body.docstring(doc);
        }
        None => {
            module.use_std("typing", "TypeAlias");
            module.own.insert(name.to_string());
            module.exports.insert(name.to_string());
            module.body.line(&format!("{name}: TypeAlias = {fallback}"));
            module.body.docstring(doc);
        }
    }
}

pub fn api_module(schema: &Schema, api: &Api) -> Rendered {
    let request = format!("{}Request", api.name);
    let response = format!("{}Response", api.name);
    let body_name = format!("{}Body", api.name);
    let query_name = format!("{}Query", api.name);
    let mut module = Module::new(schema, format!("generated.api.{}", api.name));
    module.own.insert(request.clone());
    if !matches!(&api.response, Some(TypeRef::Named { name, .. }) if *name == response) {
        module.own.insert(response.clone());
    }
    if matches!(api.body, Some(TypeRef::Object(_))) {
        module.own.insert(body_name.clone());
    }
    if matches!(api.query, Some(TypeRef::Object(_))) {
        module.own.insert(query_name.clone());
    }
    reexport(&mut module, api.query.iter().chain(&api.body).chain(&api.response));

    let code = &mut module.body;
    code.line(&format!("METHOD = {}", py_str(api.method.as_str())));
    code.docstring(&format!("HTTP method of `{}`.", api.name));
    code.line(&format!("PATH = {}", py_str(&api.path)));
    code.docstring(&format!(
        "Route of `{}`; `:name` segments are path parameters.",
        api.name
    ));
    module.exports.insert("METHOD".into());
    module.exports.insert("PATH".into());
    module.body.gap();

    // The request: path parameters, then the typed query (with `query:`),
    // query_params, body and headers. The fixed names win: a parameter whose
    // attribute would meet one gets another (`_2`); the names themselves are
    // refused as parameters (E0014).
    module.use_std("typing", "Any");
    module.use_plain("dataclasses");
    let mut taken: HashSet<String> = ["query_params", "body", "headers"]
        .into_iter()
        .map(String::from)
        .collect();
    if api.query.is_some() {
        taken.insert("query".into());
    }
    let params: Vec<&str> = api.path_params().collect();
    let attrs = attr_names(schema, params.iter().copied(), &mut taken);
    let mut members: Vec<Member<'_>> = params
        .iter()
        .zip(attrs)
        .map(|(param, attr)| Member {
            wire: param.to_string(),
            doc: Some(format!("Path parameter `:{param}`.")),
            ty: MemberType::Raw {
                annotation: "str".into(),
                default: None,
                from: format!("str(data[{}])", py_str(param)),
                to: format!("self.{attr}"),
            },
            attr,
        })
        .collect();
    let mut pending = Vec::new();
    if let Some(query) = &api.query {
        // A record, read like a body record: `@default`s and DateTime
        // parsing are the same; a parameter the client left out is absent.
        let annotation = module.annotation(
            query,
            &query_name,
            &mut pending,
            &format!("The typed query parameters of `{}`.", api.name),
        );
        let from = module.read_expr(query, "data[\"query\"]", &query_name, 0);
        let to = module.wire_expr(query, "self.query", 0);
        members.push(Member {
            wire: "query".into(),
            attr: "query".into(),
            doc: Some("The typed query parameters (`query:`), coerced by the engine.".into()),
            ty: MemberType::Raw {
                annotation,
                default: None,
                from,
                to,
            },
        });
    }
    members.push(Member {
        wire: "query_params".into(),
        attr: "query_params".into(),
        doc: Some("URL query parameters.".into()),
        ty: MemberType::Raw {
            annotation: "dict[str, Any]".into(),
            default: Some("dataclasses.field(default_factory=dict)".into()),
            from: "dict(data.get(\"query_params\") or {})".into(),
            to: "dict(self.query_params)".into(),
        },
    });
    if let Some(body) = &api.body {
        let annotation = module.annotation(
            body,
            &body_name,
            &mut pending,
            &format!("The request body of `{}`.", api.name),
        );
        let from = match body {
            TypeRef::Primitive(Primitive::Json) => "data.get(\"body\")".to_string(),
            other => module.read_expr(other, "data[\"body\"]", &body_name, 0),
        };
        let to = module.wire_expr(body, "self.body", 0);
        members.push(Member {
            wire: "body".into(),
            attr: "body".into(),
            doc: Some("The parsed request body.".into()),
            ty: MemberType::Raw {
                annotation,
                default: None,
                from,
                to,
            },
        });
    }
    members.push(Member {
        wire: "headers".into(),
        attr: "headers".into(),
        doc: Some("Request headers, lower-case names.".into()),
        ty: MemberType::Raw {
            annotation: "dict[str, str]".into(),
            default: Some("dataclasses.field(default_factory=dict)".into()),
            from: "{str(k): str(v) for k, v in (data.get(\"headers\") or {}).items()}".into(),
            to: "dict(self.headers)".into(),
        },
    });
    let mut head_inline = Vec::new();
    let wire = module.class_head(
        &request,
        Some(&format!(
            "The request handed to the `{}` handler: path parameters, query, body, headers.",
            api.name
        )),
        &members,
        &mut head_inline,
    );
    module.body.blank();
    module.wire_methods(&request, &wire);
    module.body.dedent();
    module.write_inline(pending);

    module.body.gap();
    alias_or_class(
        &mut module,
        &response,
        api.response.as_ref(),
        &format!("What `{}` answers with.", api.name),
        "None",
    );

    let mut doc = format!("api `{}`: `{} {}`.", api.name, api.method.as_str(), api.path);
    if let Some(d) = &api.doc {
        doc.push_str("\n\n");
        doc.push_str(d.trim());
    }
    module.render(&doc)
}

pub fn websocket_module(schema: &Schema, ws: &WebSocket) -> Rendered {
    let message_name = format!("{}Message", ws.name);
    let mut module = Module::new(schema, format!("generated.websockets.{}", ws.name));
    if matches!(ws.message, Some(TypeRef::Object(_))) {
        module.own.insert(message_name.clone());
    }
    if !matches!(&ws.message, Some(TypeRef::Named { name, .. }) if name == "WebSocketMessage") {
        module.own.insert("WebSocketMessage".into());
    }
    reexport(&mut module, ws.message.iter());
    module.use_runtime("Connection");
    module.exports.insert("Connection".into());

    module.body.line(&format!("PATH = {}", py_str(&ws.path)));
    module
        .body
        .docstring(&format!("Path clients connect to for `{}`.", ws.name));
    module.exports.insert("PATH".into());
    module.body.gap();

    let alias_doc = "The message type, under the name every ws module shares.";
    match &ws.message {
        Some(TypeRef::Named { name, .. }) => {
            if name != "WebSocketMessage" {
                module.body.line(&format!("WebSocketMessage = {name}"));
                module.body.docstring(alias_doc);
                module.exports.insert("WebSocketMessage".into());
            }
        }
        Some(TypeRef::Object(fields)) => {
            let members = schema_members(schema, &message_name, fields, &mut HashSet::new());
            module.write_record(&message_name, Some(&format!("A message on ws `{}`.", ws.name)), members);
            module.body.gap();
            module.body.line(&format!("WebSocketMessage = {message_name}"));
            module.body.docstring(alias_doc);
            module.exports.insert("WebSocketMessage".into());
        }
        other => {
            alias_or_class(
                &mut module,
                "WebSocketMessage",
                other.as_ref(),
                &format!("A message on ws `{}`.", ws.name),
                "Any",
            );
            if other.is_none() {
                module.use_std("typing", "Any");
            }
        }
    }

    let mut doc = format!("ws `{}` at `{}`.", ws.name, ws.path);
    if let Some(d) = &ws.doc {
        doc.push_str("\n\n");
        doc.push_str(d.trim());
    }
    module.render(&doc)
}
