//! The OpenAPI generator: a snapshot of the document for a fixture using
//! every construct, checks of its structure (paths, `$ref`s, `required`,
//! wire types, error responses), and the OpenAPI 3.1 rules checked by
//! `openapi-spec-validator` when it is installed.
//!
//! The validator runs in `$ROHAS_TEST_PYTHON`, else `python3`; when that
//! cannot import `openapi_spec_validator` the test prints why it skips, and
//! passes.

mod common;

use common::{fixture, load};
use rohas_codegen::openapi::openapi;
use serde_json::{json, Value};
use std::process::Command;

fn document() -> Value {
    openapi(&load(&fixture("openapi_all.ro")), "All", "1.2.3")
}

fn pretty(doc: &Value) -> String {
    serde_json::to_string_pretty(doc).unwrap()
}

#[test]
fn all_constructs() {
    insta::assert_snapshot!(pretty(&document()));
}

#[test]
fn the_same_schema_gives_the_same_bytes() {
    assert_eq!(pretty(&document()), pretty(&document()));
}

#[test]
fn header_names_the_version_and_title() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "All");
    assert_eq!(doc["info"]["version"], "1.2.3");
}

#[test]
fn paths_use_braces_and_one_template_per_shape() {
    let doc = document();
    let paths: Vec<&str> = doc["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        paths,
        [
            "/",
            "/echo",
            "/fail",
            "/health",
            "/search/users",
            "/users",
            "/users/import",
            "/users/{id}",
            "/users/{userId}/posts/{postId}"
        ]
    );
    let users = &doc["paths"]["/users"];
    assert_eq!(users["post"]["operationId"], "CreateUser");
    assert_eq!(users["get"]["operationId"], "ListUsers");
    // `/users/:userId` (DELETE) shares the template of `/users/:id` (GET).
    let item = &doc["paths"]["/users/{id}"];
    assert_eq!(item["get"]["operationId"], "GetUser");
    assert_eq!(item["delete"]["operationId"], "DeleteUser");
    assert_eq!(item["delete"]["parameters"][0]["name"], "id");
    let update = &doc["paths"]["/users/{userId}/posts/{postId}"]["patch"];
    let names: Vec<&str> = update["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["in"], "path");
            assert_eq!(p["required"], true);
            assert_eq!(p["schema"]["type"], "string");
            p["name"].as_str().unwrap()
        })
        .collect();
    assert_eq!(names, ["userId", "postId"]);
}

#[test]
fn operations_carry_docs_bodies_and_extensions() {
    let doc = document();
    let create = &doc["paths"]["/users"]["post"];
    assert_eq!(create["summary"], "Register a user.");
    assert_eq!(create["description"], "Register a user.\n\n`UserCreated` follows.");
    assert_eq!(
        create["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/CreateUserInput"
    );
    assert_eq!(create["requestBody"]["required"], true);
    assert_eq!(
        create["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/User"
    );
    assert_eq!(create["x-rohas-triggers"], serde_json::json!(["UserCreated"]));
    assert_eq!(create["x-rohas-middlewares"], serde_json::json!(["auth", "rateLimit"]));
    assert_eq!(create["x-rohas-timeout-ms"], 5000);

    let list = &doc["paths"]["/users"]["get"];
    assert_eq!(list["summary"], "Every user, newest first.");
    assert!(list.get("description").is_none(), "one paragraph: summary only");
    assert_eq!(
        list["responses"]["200"]["content"]["application/json"]["schema"]["items"]["$ref"],
        "#/components/schemas/User"
    );

    let delete = &doc["paths"]["/users/{id}"]["delete"];
    assert_eq!(
        delete["responses"]["200"]["content"]["application/json"]["schema"]["type"],
        "null"
    );
    let get = &doc["paths"]["/users/{id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(get["anyOf"][1]["type"], "null", "User? answers null too: {get}");

    let import = &doc["paths"]["/users/import"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(import["type"], "array");
    assert_eq!(import["items"]["$ref"], "#/components/schemas/CreateUserInput");
    let echo = &doc["paths"]["/echo"]["put"]["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(echo, &serde_json::json!({}), "Json is any value");
    let update = &doc["paths"]["/users/{userId}/posts/{postId}"]["patch"];
    let body = &update["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["type"], "object");
    assert_eq!(body["required"], serde_json::json!(["title", "tags"]));
    assert_eq!(body["properties"]["title"]["maxLength"], 200);
    assert_eq!(
        body["properties"]["extra"]["type"],
        serde_json::json!(["object", "null"])
    );
}

#[test]
fn error_answers_match_the_engine() {
    let doc = document();
    let create = &doc["paths"]["/users"]["post"]["responses"];
    for (status, name) in [
        ("400", "BadRequest"),
        ("413", "PayloadTooLarge"),
        ("422", "ValidationFailed"),
        ("500", "HandlerFailed"),
        ("504", "TimedOut"),
        ("default", "HttpError"),
    ] {
        assert_eq!(
            create[status]["$ref"],
            format!("#/components/responses/{name}"),
            "{status}"
        );
    }
    let health = doc["paths"]["/health"]["get"]["responses"].as_object().unwrap();
    let statuses: Vec<&str> = health.keys().map(String::as_str).collect();
    assert_eq!(statuses, ["200", "500", "504", "default"], "no body, no 400/413/422");

    // The project declares `Error`: the shared one steps aside.
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["Error"]["properties"]["code"]["type"], "integer");
    let error = &schemas["RohasError"]["properties"]["error"];
    assert_eq!(error["required"], serde_json::json!(["message", "trace_id"]));
    for key in ["message", "trace_id", "details", "stack"] {
        assert!(error["properties"].get(key).is_some(), "{key}");
    }
    assert_eq!(
        doc["components"]["responses"]["HandlerFailed"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/RohasError"
    );
    let invalid = &schemas["ValidationError"]["properties"]["error"];
    assert_eq!(
        invalid["required"],
        serde_json::json!(["message", "trace_id", "details"])
    );
    assert_eq!(
        invalid["properties"]["details"]["items"]["$ref"],
        "#/components/schemas/ValidationProblem"
    );
    assert_eq!(
        schemas["ValidationProblem"]["required"],
        serde_json::json!(["path", "problem"])
    );
}

#[test]
fn components_hold_what_the_apis_reach_with_wire_types() {
    let doc = document();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let names: Vec<&str> = schemas.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "CreateUserInput",
            "Error",
            "HealthResponse",
            "Post",
            "RohasError",
            "Role",
            "Status",
            "User",
            "ValidationError",
            "ValidationProblem"
        ],
        "AuditEntry (events only) stays out"
    );
    let user = &schemas["User"];
    assert_eq!(user["description"], "A person using the app.");
    assert_eq!(
        user["required"],
        serde_json::json!(["id", "name", "email", "posts", "tags", "extra", "address", "history", "aliases", "seenAt"]),
        "optional and defaulted fields may be left out"
    );
    let p = &user["properties"];
    assert_eq!(
        p["id"],
        serde_json::json!({"type": "integer", "format": "int64", "description": "Database id."})
    );
    assert_eq!(p["name"]["minLength"], 1);
    assert_eq!(p["name"]["maxLength"], 80);
    assert_eq!(p["email"]["pattern"], "^[^@ ]+@[^@ ]+$");
    assert_eq!(p["nickname"]["type"], serde_json::json!(["string", "null"]));
    assert_eq!(p["bio"]["type"], serde_json::json!(["string", "null"]), "@optional");
    assert_eq!(
        p["createdAt"],
        serde_json::json!({"type": "string", "format": "date-time"})
    );
    assert_eq!(p["role"]["$ref"], "#/components/schemas/Role");
    assert_eq!(p["role"]["default"], "MEMBER");
    assert_eq!(p["score"]["default"], 1.5);
    assert_eq!(p["score"]["minimum"], 0);
    assert_eq!(p["score"]["maximum"], 10.5);
    assert_eq!(p["age"]["type"], serde_json::json!(["integer", "null"]));
    assert_eq!(p["age"]["maximum"], 150);
    assert_eq!(p["active"]["default"], true);
    assert_eq!(p["motto"]["default"], "carpe diem");
    assert_eq!(p["posts"]["maxItems"], 100);
    assert_eq!(p["posts"]["items"]["$ref"], "#/components/schemas/Post");
    assert_eq!(p["tags"]["minItems"], 1);
    assert_eq!(p["meta"], serde_json::json!({}));
    assert_eq!(p["extra"], serde_json::json!({}), "Json is any value");
    assert_eq!(p["bestFriend"]["anyOf"][0]["$ref"], "#/components/schemas/User");
    assert_eq!(p["bestFriend"]["anyOf"][1]["type"], "null");
    assert_eq!(p["address"]["required"], serde_json::json!(["street", "city"]));
    assert_eq!(
        p["address"]["properties"]["geo"]["type"],
        serde_json::json!(["object", "null"])
    );
    assert_eq!(p["history"]["items"]["required"], serde_json::json!(["at"]));
    assert_eq!(p["aliases"]["items"]["type"], serde_json::json!(["string", "null"]));
    assert_eq!(p["seenAt"]["items"]["format"], "date-time");

    let role = &schemas["Role"];
    assert_eq!(role["type"], "string");
    assert_eq!(role["enum"], serde_json::json!(["ADMIN", "MEMBER", "GUEST"]));
    assert_eq!(role["description"], "Who may do what.\n\n- `ADMIN`: Everything.");
    assert_eq!(schemas["Status"]["enum"], serde_json::json!(["inProgress", "DONE_NOW"]));
    assert_eq!(
        schemas["CreateUserInput"]["properties"]["name"]["description"],
        "Shown to other users."
    );
}

/// Every `$ref` in `value`.
fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_ref_resolves() {
    for name in ["openapi_all.ro", "python_all.ro", "rust_all.ro", "python_reserved.ro"] {
        let doc = openapi(&load(&fixture(name)), "t", "0");
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(!found.is_empty());
        for r in found {
            let pointer = r
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("{name}: {r} is not local"));
            assert!(doc.pointer(pointer).is_some(), "{name}: {r} does not resolve");
        }
    }
}

#[test]
fn every_api_is_one_operation() {
    for name in ["openapi_all.ro", "python_all.ro", "rust_all.ro"] {
        let schema = load(&fixture(name));
        let doc = openapi(&schema, "t", "0");
        let mut ids: Vec<String> = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .map(|op| op["operationId"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        let mut apis: Vec<String> = schema.apis.iter().map(|a| a.name.clone()).collect();
        apis.sort();
        assert_eq!(ids, apis, "{name}");
    }
}

/// `openapi-spec-validator` (the OpenAPI 3.1 schema and its rules) on the
/// documents of several fixtures.
#[test]
fn documents_pass_openapi_spec_validator() {
    let python = std::env::var_os("ROHAS_TEST_PYTHON").unwrap_or_else(|| "python3".into());
    let probe = Command::new(&python)
        .args(["-c", "import openapi_spec_validator"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!(
            "skipped: {} cannot import openapi_spec_validator (pip install openapi-spec-validator, or set ROHAS_TEST_PYTHON)",
            python.to_string_lossy()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for name in ["openapi_all.ro", "python_all.ro", "rust_all.ro", "python_reserved.ro"] {
        let file = dir.path().join(format!("{name}.json"));
        std::fs::write(&file, pretty(&openapi(&load(&fixture(name)), "t", "0"))).unwrap();
        let out = Command::new(&python)
            .args(["-m", "openapi_spec_validator"])
            .arg(&file)
            .output()
            .expect("run openapi_spec_validator");
        assert!(
            out.status.success(),
            "{name}: the document is not valid OpenAPI 3.1:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `query:` fields are query parameters: required unless optional or
/// defaulted, never nullable (a left-out parameter is absent), with their
/// constraints and docs; a list is the parameter repeated (the default
/// `form` style); a named query record is not a component of its own.
#[test]
fn query_fields_are_query_parameters() {
    let doc = document();
    let list = &doc["paths"]["/users"]["get"];
    assert_eq!(
        list["parameters"],
        json!([
            { "name": "limit", "in": "query", "required": false,
              "schema": { "type": "integer", "format": "int64", "minimum": 1, "maximum": 100 } },
            { "name": "role", "in": "query", "required": false,
              "schema": { "$ref": "#/components/schemas/Role" } },
            { "name": "tag", "in": "query", "required": false,
              "schema": { "type": "array", "items": { "type": "string" }, "maxItems": 5 } },
            { "name": "since", "in": "query", "required": false,
              "schema": { "type": "string", "format": "date-time" } },
        ])
    );
    assert_eq!(
        list["responses"]["422"],
        json!({ "$ref": "#/components/responses/ValidationFailed" })
    );
    let search = &doc["paths"]["/search/users"]["get"]["parameters"];
    assert_eq!(
        search[0],
        json!({ "name": "text", "in": "query", "required": true, "description": "Words the name contains.",
                "schema": { "type": "string", "minLength": 1, "maxLength": 50 } })
    );
    assert_eq!(search[1]["required"], false);
    assert_eq!(search[1]["schema"]["default"], 1);
    assert_eq!(search[2]["schema"], json!({ "type": "boolean", "default": false }));
    assert!(doc["components"]["schemas"].get("UserSearch").is_none());
}
