//! `src/generated/testing.py`: the project's test harness, `Harness`.
//!
//! The machinery is the fixed `harness.py` (`support/`); this module writes
//! what depends on the schema: the handler specs (the same list the engine
//! hands its Python host, so the harness finds the same file and function),
//! the tables the engine routes by (an api's middlewares and `triggers`, an
//! event's `triggers`, a ws's `broadcast`), a decoder per api reading its
//! JSON response back into the generated type, and `Harness` methods whose
//! names are `Literal`s of the schema's names, so mypy flags a typo and
//! `call_api` returns `ApiResult[<Api>Response]`.

use super::code::{py_str, Code};
use crate::handlers::handler_specs;
use rohas_runtime::{HandlerKind, Language};
use rohas_schema::model::{Api, NameRef, NamedKind, Primitive, Schema, TypeRef};
use serde_json::Value;

pub fn testing_module(schema: &Schema) -> String {
    let specs = handler_specs(schema, Language::Python);
    let middlewares: Vec<&str> = specs
        .iter()
        .filter(|s| s.kind == HandlerKind::Middleware)
        .map(|s| s.name.as_str())
        .collect();

    let mut code = Code::python();
    code.docstring(
        "The project's test harness: handlers called by their schema names, as the engine calls them.\n\n\
         ```python\n\
         from generated.testing import Harness\n\n\
         harness = Harness()\n\
         result = harness.call_api(\"CreateUser\", {\"name\": \"Ada\", \"email\": \"ada@example.com\"})\n\
         user = result.unwrap()          # the typed response, or the test fails with the error\n\
         run = harness.run_due()         # the events it caused, delivered to their handlers\n\
         ```\n\n\
         See `generated.harness` for what each result holds and how the harness\n\
         differs from a running engine (no retries; time is `harness.clock`).\n\n\
         Written by `rohas codegen` from the schema. Do not edit: every run\n\
         rewrites src/generated/.",
    );
    code.blank();
    code.line("from __future__ import annotations");
    code.blank();
    code.line("from collections.abc import Mapping");
    code.line("from typing import Any, Literal, overload");
    code.blank();
    for api in &schema.apis {
        code.line(&format!("from generated.api import {} as {}", api.name, alias(api)));
    }
    code.line("from generated.harness import (");
    code.indent();
    for name in EXPORTS {
        code.line(&format!("{name},"));
    }
    code.dedent();
    code.line(")");
    if schema.apis.iter().any(|a| mentions_datetime(a.response.as_ref())) {
        code.line("from generated.runtime import parse_datetime");
    }
    code.blank();
    let mut all: Vec<&str> = EXPORTS.to_vec();
    all.extend(["Harness", "TABLES"]);
    all.sort_unstable();
    code.open("__all__ = [");
    for name in all {
        code.line(&format!("{},", py_str(name)));
    }
    code.close("]");

    for api in &schema.apis {
        code.gap();
        write_decoder(&mut code, api);
    }

    code.gap();
    code.line("TABLES = Tables(");
    code.indent();
    code.open("specs=[");
    for spec in &specs {
        let value = serde_json::to_value(spec).expect("handler specs serialize");
        code.line(&format!("{},", py_literal(&value)));
    }
    code.close("],");
    code.open("apis={");
    for api in &schema.apis {
        let params: Vec<String> = api.path_params().map(py_str).collect();
        // `"query": True` marks an api with typed query parameters (`query:`).
        let query = if api.query.is_some() { ", \"query\": True" } else { "" };
        code.line(&format!(
            "{}: {{\"path\": {}, \"params\": [{}], \"triggers\": {}, \"middlewares\": {}{query}}},",
            py_str(&api.name),
            py_str(&api.path),
            params.join(", "),
            names(&api.triggers),
            names(&api.middlewares),
        ));
    }
    code.close("},");
    code.open("events={");
    for event in &schema.events {
        code.line(&format!(
            "{}: {{\"payload\": {}, \"triggers\": {}}},",
            py_str(&event.name),
            if event.payload.is_some() { "True" } else { "False" },
            names(&event.triggers),
        ));
    }
    code.close("},");
    code.open("crons={");
    for cron in &schema.crons {
        code.line(&format!(
            "{}: {{\"schedule\": {}, \"triggers\": {}}},",
            py_str(&cron.name),
            py_str(&cron.schedule),
            names(&cron.triggers),
        ));
    }
    code.close("},");
    code.open("websockets={");
    for ws in &schema.websockets {
        code.line(&format!(
            "{}: {{\"broadcast\": {}, \"triggers\": {}, \"middlewares\": {}}},",
            py_str(&ws.name),
            if ws.broadcast { "True" } else { "False" },
            names(&ws.triggers),
            names(&ws.middlewares),
        ));
    }
    code.close("},");
    let list: Vec<String> = middlewares.iter().map(|m| py_str(m)).collect();
    code.line(&format!("middlewares=[{}],", list.join(", ")));
    code.open("decoders={");
    for api in &schema.apis {
        code.line(&format!("{}: _decode_{},", py_str(&api.name), api.name));
    }
    code.close("},");
    code.dedent();
    code.line(")");
    code.docstring("The schema as the harness routes by it.");

    code.gap();
    write_harness(&mut code, schema, &middlewares);
    code.finish()
}

const EXPORTS: &[&str] = &[
    "ApiResult",
    "Clock",
    "EventRun",
    "HandlerRun",
    "HarnessBase",
    "HarnessError",
    "LogLine",
    "MiddlewareResult",
    "PendingEvent",
    "Sent",
    "Tables",
    "TriggeredEvent",
    "WsSession",
    "WsStep",
];

fn alias(api: &Api) -> String {
    format!("_api_{}", api.name)
}

fn names(refs: &[NameRef]) -> String {
    let items: Vec<String> = refs.iter().map(|r| py_str(&r.name)).collect();
    format!("[{}]", items.join(", "))
}

fn literal_of<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<String> = names.map(py_str).collect();
    if items.is_empty() {
        // No such handler in the schema: any name is refused at run time.
        "str".into()
    } else {
        format!("Literal[{}]", items.join(", "))
    }
}

fn mentions_datetime(ty: Option<&TypeRef>) -> bool {
    match ty {
        Some(TypeRef::Primitive(Primitive::DateTime)) => true,
        Some(TypeRef::Array(inner) | TypeRef::Optional(inner)) => mentions_datetime(Some(inner)),
        _ => false,
    }
}

/// `_decode_<Api>(data)`: the JSON response as `<Api>Response`.
fn write_decoder(code: &mut Code, api: &Api) {
    let module = alias(api);
    code.open(&format!(
        "def _decode_{}(data: Any) -> {module}.{}Response:",
        api.name, api.name
    ));
    code.docstring(&format!("A JSON response of `{}` as its generated type.", api.name));
    let expr = match &api.response {
        None => "None".to_string(),
        Some(TypeRef::Object(_)) => format!("{module}.{}Response.from_wire(data)", api.name),
        Some(ty) => read(ty, "data", &module, &format!("{}ResponseItem", api.name), 0),
    };
    code.line(&format!("return {expr}"));
    code.dedent();
}

/// JSON `expr` read as `ty`, with the api module's names (`module.User`).
fn read(ty: &TypeRef, expr: &str, module: &str, inline: &str, depth: usize) -> String {
    match ty {
        TypeRef::Primitive(p) => match p {
            Primitive::String => format!("str({expr})"),
            Primitive::Int => format!("int({expr})"),
            Primitive::Float => format!("float({expr})"),
            Primitive::Boolean => format!("bool({expr})"),
            Primitive::DateTime => format!("parse_datetime({expr})"),
            Primitive::Json => expr.to_string(),
        },
        TypeRef::Named {
            name,
            target: NamedKind::Record,
        } => format!("{module}.{name}.from_wire({expr})"),
        TypeRef::Named {
            name,
            target: NamedKind::Enum,
        } => format!("{module}.{name}({expr})"),
        TypeRef::Object(_) => format!("{module}.{inline}.from_wire({expr})"),
        TypeRef::Array(inner) => {
            let item = format!("x{depth}");
            format!(
                "[{} for {item} in {expr}]",
                read(inner, &item, module, inline, depth + 1)
            )
        }
        TypeRef::Optional(inner) => {
            format!(
                "None if {expr} is None else {}",
                read(inner, expr, module, inline, depth)
            )
        }
    }
}

/// The body parameter's annotation: the generated type (or its JSON form)
/// for a record, the Python type of a primitive, else `Any`.
fn body_annotation(api: &Api) -> String {
    let module = alias(api);
    match &api.body {
        None => "None".into(),
        Some(TypeRef::Named {
            name,
            target: NamedKind::Record,
        }) => format!("{module}.{name} | Mapping[str, Any]"),
        Some(TypeRef::Object(_)) => format!("{module}.{}Body | Mapping[str, Any]", api.name),
        Some(TypeRef::Primitive(Primitive::String)) => "str".into(),
        Some(TypeRef::Primitive(Primitive::Int)) => "int".into(),
        Some(TypeRef::Primitive(Primitive::Float)) => "float".into(),
        Some(TypeRef::Primitive(Primitive::Boolean)) => "bool".into(),
        Some(_) => "Any".into(),
    }
}

/// With `query:`, the `query` option's type: the generated `<Api>Query`
/// (or the named record), or its JSON form.
fn query_annotation(api: &Api) -> Option<String> {
    let module = alias(api);
    match &api.query {
        Some(TypeRef::Named { name, .. }) => Some(format!("{module}.{name} | Mapping[str, Any]")),
        Some(_) => Some(format!("{module}.{}Query | Mapping[str, Any]", api.name)),
        None => None,
    }
}

/// The keyword options of `call_api`, its `query` of type `query`.
fn options(query: &str) -> [String; 4] {
    [
        "*".into(),
        "params: Mapping[str, str] | None = None".into(),
        format!("query: {query} = None"),
        "headers: Mapping[str, str] | None = None".into(),
    ]
}

/// `query` of an api without `query:`: the `query_params` mapping.
const QUERY_PARAMS: &str = "Mapping[str, Any] | None";

/// Black's line width.
const WIDTH: usize = 88;

/// `def name(self, <params>) -> returns:`, wrapped as black would, opening its body.
fn open_method(code: &mut Code, name: &str, params: &[String], returns: &str) {
    let mut all = vec!["self".to_string()];
    all.extend(params.iter().cloned());
    let head = format!("def {name}");
    code.open_signature(
        &head,
        &all,
        &format!(" -> {returns}:"),
        WIDTH.saturating_sub(code.columns()),
    );
}

fn write_harness(code: &mut Code, schema: &Schema, middlewares: &[&str]) {
    code.open("class Harness(HarnessBase):");
    code.docstring(
        "Calls this project's handlers through the engine's own dispatch code.\n\n\
         `Harness(now=datetime(...))` starts the fake clock there; `harness.clock.advance(...)`\n\
         moves it. Unknown names raise `HarnessError` listing the known ones.",
    );
    code.blank();
    code.line("TABLES = TABLES");

    // call_api: one overload per api, when there are two or more.
    let overloads = schema.apis.len() >= 2;
    for api in &schema.apis {
        let default = if api.body.is_none() { " = None" } else { "" };
        let mut params = vec![
            format!("name: Literal[{}]", py_str(&api.name)),
            format!("body: {}{default}", body_annotation(api)),
        ];
        let query = query_annotation(api).map_or_else(|| QUERY_PARAMS.to_string(), |q| format!("{q} | None"));
        params.extend(options(&query));
        let returns = format!("ApiResult[{}.{}Response]", alias(api), api.name);
        code.blank();
        if overloads {
            code.line("@overload");
            open_method(code, "call_api", &params, &returns);
            code.line("...");
        } else {
            open_method(code, "call_api", &params, &returns);
            write_call_api_body(code);
        }
        code.dedent();
    }
    if overloads || schema.apis.is_empty() {
        let mut params = vec!["name: str".to_string(), "body: Any = None".to_string()];
        // With typed queries it takes every overload's, the generated query types too.
        let query = if schema.apis.iter().any(|api| api.query.is_some()) {
            "Any"
        } else {
            QUERY_PARAMS
        };
        params.extend(options(query));
        code.blank();
        open_method(code, "call_api", &params, "ApiResult[Any]");
        write_call_api_body(code);
        code.dedent();
    }

    code.blank();
    let event = format!("event: {}", literal_of(schema.events.iter().map(|e| e.name.as_str())));
    open_method(code, "publish", &[event, "payload: Any = None".into()], "EventRun");
    code.docstring(
        "Deliver `event` to each of its handlers, then what they triggered (the event's own\n\
         `triggers` too, once all its handlers succeeded), to any depth; delayed events wait\n\
         in `pending` for `run_due()`.",
    );
    code.line("return self._publish(event, payload)");
    code.dedent();

    code.blank();
    let cron = format!("name: {}", literal_of(schema.crons.iter().map(|c| c.name.as_str())));
    open_method(code, "run_cron", &[cron], "HandlerRun");
    code.docstring("Run cron job `name` once now (`scheduled_at` is the clock's time); what it triggers is queued.");
    code.line("return self._run_cron(name)");
    code.dedent();

    code.blank();
    let middleware = format!("name: {}", literal_of(middlewares.iter().copied()));
    open_method(
        code,
        "middleware",
        &[middleware, "context: Mapping[str, Any] | None = None".into()],
        "MiddlewareResult",
    );
    code.docstring("Run middleware `name` on a context (`payload`, `query_params`, `headers`).");
    code.line("return self._middleware(name, context)");
    code.dedent();

    code.blank();
    let ws = format!(
        "name: {}",
        literal_of(schema.websockets.iter().map(|w| w.name.as_str()))
    );
    open_method(
        code,
        "ws",
        &[
            ws,
            "*".into(),
            "headers: Mapping[str, str] | None = None".into(),
            "connection_id: str | None = None".into(),
        ],
        "WsSession",
    );
    code.docstring("A client of WebSocket `name`: `.connect()`, `.message(...)`, `.disconnect()`.");
    code.line("return self._ws(name, headers=headers, connection_id=connection_id)");
    code.dedent();
    code.dedent();
}

fn write_call_api_body(code: &mut Code) {
    code.docstring(
        "Call api `name` with `body` as the engine would: its middlewares, then its handler.\n\
         The result holds the typed response or the `HttpError`, the events it caused\n\
         (queued for `run_due()`), and its log lines.",
    );
    code.line("return self._call_api(name, body, params=params, query=query, headers=headers)");
}

/// A JSON value as a Python literal.
fn py_literal(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => py_str(s),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(py_literal).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", py_str(k), py_literal(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}
