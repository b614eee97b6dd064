//! The error answers of the engine (`rohas-engine`'s `error.rs`;
//! docs/handlers.md, "Errors"): every one is `{"error": {"message", "trace_id", "details"?,
//! "stack"?}}` with an `x-trace-id` header. A 422 for a body that does not
//! match the schema lists each problem in `details` as `{"path", "problem"}`
//! (`path` like `body.tags[2]`).
//!
//! The schemas are called `Error`, `ValidationError` and `ValidationProblem`
//! unless the project declares a type or enum of that name; then `Rohas` is
//! put in front until the name is free, so user types are never replaced.

use rohas_schema::model::Schema;
use serde_json::{json, Map, Value};

/// The component names the error schemas got in this document.
pub(crate) struct ErrorNames {
    pub error: String,
    pub validation_error: String,
    pub validation_problem: String,
}

impl ErrorNames {
    pub fn avoiding(schema: &Schema) -> Self {
        let free = |base: &str| {
            let mut name = base.to_string();
            while schema.type_decl(&name).is_some() || schema.enum_decl(&name).is_some() {
                name = format!("Rohas{name}");
            }
            name
        };
        ErrorNames {
            error: free("Error"),
            validation_error: free("ValidationError"),
            validation_problem: free("ValidationProblem"),
        }
    }
}

/// The names of the shared responses in `components/responses`.
pub(crate) const BAD_REQUEST: &str = "BadRequest";
pub(crate) const PAYLOAD_TOO_LARGE: &str = "PayloadTooLarge";
pub(crate) const VALIDATION_FAILED: &str = "ValidationFailed";
pub(crate) const HANDLER_FAILED: &str = "HandlerFailed";
pub(crate) const TIMED_OUT: &str = "TimedOut";
pub(crate) const HTTP_ERROR: &str = "HttpError";

pub(crate) fn response_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/responses/{name}") })
}

fn body(message: &str, details: Value, required: &[&str]) -> Value {
    json!({
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": required,
                "properties": {
                    "message": { "type": "string", "description": message },
                    "trace_id": {
                        "type": "string",
                        "description": "The request's trace id, also in the `x-trace-id` header.",
                    },
                    "details": details,
                    "stack": {
                        "type": "string",
                        "description": "The handler's stack, mapped to its source lines: only under `rohas dev`.",
                    },
                },
            },
        },
    })
}

/// `Error`, `ValidationError` and `ValidationProblem` into `components/schemas`.
pub(crate) fn add_schemas(names: &ErrorNames, schemas: &mut Map<String, Value>) {
    let mut error = body(
        "What went wrong, for people.",
        json!({ "description": "More about the error: the problems of a rejected body, or what an `HttpError` carried." }),
        &["message", "trace_id"],
    );
    error["description"] = json!("The body of every error answer of the engine.");
    schemas.insert(names.error.clone(), error);

    let mut validation = body(
        "What went wrong, for people.",
        json!({
            "type": "array",
            "items": { "$ref": format!("#/components/schemas/{}", names.validation_problem) },
            "description": "Every problem found in the body.",
        }),
        &["message", "trace_id", "details"],
    );
    validation["description"] = json!("A request body that does not match the schema (422).");
    schemas.insert(names.validation_error.clone(), validation);

    schemas.insert(
        names.validation_problem.clone(),
        json!({
            "type": "object",
            "description": "One field that does not match the schema.",
            "required": ["path", "problem"],
            "properties": {
                "path": {
                    "type": "string",
                    "description": "Where in the request, e.g. `body.tags[2]` or `body.address.city`.",
                },
                "problem": { "type": "string", "description": "What is wrong, e.g. `required field is missing`." },
            },
        }),
    );
}

/// `components/headers`: the trace id every answer carries.
pub(crate) fn headers() -> Value {
    json!({
        "TraceId": {
            "description": "The trace id of the request: the one sent in `x-trace-id`, or a new one.",
            "schema": { "type": "string" },
        }
    })
}

/// `{"x-trace-id": <TraceId>}` for a response's `headers`.
pub(crate) fn trace_header() -> Value {
    json!({ "x-trace-id": { "$ref": "#/components/headers/TraceId" } })
}

/// `components/responses`: the error answers operations refer to.
pub(crate) fn responses(names: &ErrorNames) -> Map<String, Value> {
    let answer = |description: &str, schema: &str| {
        json!({
            "description": description,
            "headers": trace_header(),
            "content": {
                "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } }
            },
        })
    };
    let e = &names.error;
    let mut out = Map::new();
    out.insert(BAD_REQUEST.into(), answer("The request body is not valid JSON.", e));
    out.insert(
        PAYLOAD_TOO_LARGE.into(),
        answer("The request body is larger than `[server] max_body_bytes`.", e),
    );
    out.insert(
        VALIDATION_FAILED.into(),
        answer(
            "The request body is missing or does not match the schema, or a query parameter is missing or not of its type; `details` lists each problem.",
            &names.validation_error,
        ),
    );
    out.insert(
        HANDLER_FAILED.into(),
        answer("The handler failed (an exception or `Err` other than `HttpError`).", e),
    );
    out.insert(
        TIMED_OUT.into(),
        answer(
            "The handler did not finish within its timeout (the schema's `timeout:`, else `[runtime.timeouts] api`, default 30 s).",
            e,
        ),
    );
    out.insert(
        HTTP_ERROR.into(),
        answer(
            "An `HttpError(status, message)` raised by the handler or a middleware: that status and message.",
            e,
        ),
    );
    out
}
