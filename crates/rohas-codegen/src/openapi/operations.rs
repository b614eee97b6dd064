//! `paths`: one operation per api, keyed by its route with `:name` written
//! `{name}`.
//!
//! OpenAPI forbids two path templates that differ only in parameter names
//! (`/users/{id}` and `/users/{userId}`), which the schema allows for
//! different methods. Such apis share the first template seen, and a later
//! api's parameters take that template's names by position: the URL a
//! client builds is the same either way.

use super::errors::{self, response_ref};
use super::schemas::{parameter_schema, type_schema};
use rohas_schema::model::{Api, PathSegment, Schema};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub(crate) fn paths(schema: &Schema) -> Value {
    // Template shape (parameters blanked) → the parameter names of the first api with it.
    let mut names_by_shape: HashMap<Vec<Option<&str>>, Vec<&str>> = HashMap::new();
    let mut paths = Map::new();
    for api in &schema.apis {
        let shape: Vec<Option<&str>> = api
            .segments
            .iter()
            .filter_map(|s| match s {
                PathSegment::Literal(l) if l.is_empty() => None,
                PathSegment::Literal(l) => Some(Some(l.as_str())),
                PathSegment::Param(_) => Some(None),
            })
            .collect();
        let params = names_by_shape
            .entry(shape.clone())
            .or_insert_with(|| api.path_params().collect())
            .clone();
        let mut next = params.iter();
        let template: Vec<String> = shape
            .iter()
            .map(|s| match s {
                Some(literal) => (*literal).to_string(),
                None => format!("{{{}}}", next.next().copied().unwrap_or_default()),
            })
            .collect();
        let key = format!("/{}", template.join("/"));
        let item = paths.entry(key).or_insert_with(|| json!({}));
        item[api.method.as_str().to_ascii_lowercase()] = operation(schema, api, &params);
    }
    Value::Object(paths)
}

fn operation(schema: &Schema, api: &Api, params: &[&str]) -> Value {
    let mut op = Map::new();
    op.insert("operationId".into(), json!(api.name));
    super::doc_fields(api.doc.as_deref(), &mut op);
    let mut parameters: Vec<Value> = params
        .iter()
        .map(|name| {
            json!({
                "name": name,
                "in": "path",
                "required": true,
                "schema": { "type": "string" },
            })
        })
        .collect();
    // One parameter per `query:` field; a list is the parameter repeated
    // (`?tag=a&tag=b`, OpenAPI's default `form` style with `explode`).
    for field in api.query_fields(schema) {
        let mut parameter = Map::new();
        parameter.insert("name".into(), json!(field.name));
        parameter.insert("in".into(), json!("query"));
        let required = !field.optional && field.attribute("default").is_none();
        parameter.insert("required".into(), json!(required));
        if let Some(doc) = super::description(field.doc.as_deref()) {
            parameter.insert("description".into(), json!(doc));
        }
        parameter.insert("schema".into(), parameter_schema(field));
        parameters.push(Value::Object(parameter));
    }
    if !parameters.is_empty() {
        op.insert("parameters".into(), Value::Array(parameters));
    }
    if let Some(body) = &api.body {
        op.insert(
            "requestBody".into(),
            json!({
                "required": true,
                "content": { "application/json": { "schema": type_schema(body) } },
            }),
        );
    }
    op.insert("responses".into(), responses(api));
    if !api.triggers.is_empty() {
        let events: Vec<&str> = api.triggers.iter().map(|t| t.name.as_str()).collect();
        op.insert("x-rohas-triggers".into(), json!(events));
    }
    if !api.middlewares.is_empty() {
        let middlewares: Vec<&str> = api.middlewares.iter().map(|m| m.name.as_str()).collect();
        op.insert("x-rohas-middlewares".into(), json!(middlewares));
    }
    if let Some(timeout) = api.timeout {
        op.insert("x-rohas-timeout-ms".into(), json!(timeout.as_millis() as u64));
    }
    Value::Object(op)
}

fn responses(api: &Api) -> Value {
    let (description, schema) = match &api.response {
        Some(ty) => ("The handler's answer.", type_schema(ty)),
        None => (
            "Done; the api declares no response, so the body is `null`.",
            json!({ "type": "null" }),
        ),
    };
    let mut out = Map::new();
    out.insert(
        "200".into(),
        json!({
            "description": description,
            "headers": errors::trace_header(),
            "content": { "application/json": { "schema": schema } },
        }),
    );
    if api.body.is_some() {
        out.insert("400".into(), response_ref(errors::BAD_REQUEST));
        out.insert("413".into(), response_ref(errors::PAYLOAD_TOO_LARGE));
    }
    if api.body.is_some() || api.query.is_some() {
        out.insert("422".into(), response_ref(errors::VALIDATION_FAILED));
    }
    out.insert("500".into(), response_ref(errors::HANDLER_FAILED));
    out.insert("504".into(), response_ref(errors::TIMED_OUT));
    out.insert("default".into(), response_ref(errors::HTTP_ERROR));
    Value::Object(out)
}
