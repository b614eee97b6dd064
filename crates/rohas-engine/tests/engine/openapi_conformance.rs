//! Requests with which schemathesis (`bench/attack/schemathesis.py`) found
//! the engine answering against its own `/openapi.json`, one test each,
//! checked on both body paths: the full check (`validate.rs`) and the one
//! read straight from the bytes for a handler that reads its body alone
//! (`validate_stream.rs`).

use crate::support::http::post;
use crate::support::{fixture, serve, FakeRuntime};
use rohas_runtime::Needs;
use serde_json::json;
use std::sync::Arc;

/// The fake runtime, its handler reading the whole request or the body alone.
fn orders(body_only: bool) -> Arc<FakeRuntime> {
    let fake = FakeRuntime::new();
    fake.answer("api:PlaceOrder", json!({"placed": true}));
    if body_only {
        fake.set_needs(
            "api:PlaceOrder",
            Needs {
                payload: true,
                ..Needs::NONE
            },
        );
    }
    fake
}

/// `@default` lets a field be left out, and the document says only that
/// (the field is not required, its type has no `null`). A `null` there
/// reached Python and Rust handlers, whose generated types take a missing
/// field as the default but cannot hold `null`: a 500.
#[tokio::test]
async fn null_for_a_field_with_a_default_is_422_naming_the_field() {
    for body_only in [false, true] {
        let fake = orders(body_only);
        let app = serve(&fixture("openapi_conformance.ro"), &fake).await;
        let answer = post(&app.at("/orders"))
            .json(&json!({"name": "Ada", "priority": null}))
            .send()
            .await;
        assert_eq!(answer.status, 422, "body only: {body_only}: {}", answer.body);
        let details = &answer.json()["error"]["details"];
        assert_eq!(details[0]["path"], "body.priority", "{details}");
        assert_eq!(
            details[0]["problem"], "expected one of LOW, NORMAL, HIGH, found null",
            "{details}"
        );
        assert!(fake.calls().is_empty(), "body only: {body_only}");

        // Left out it is fine, and so is `null` for an optional field.
        let answer = post(&app.at("/orders"))
            .json(&json!({"name": "Ada", "note": null}))
            .send()
            .await;
        assert_eq!(answer.status, 200, "body only: {body_only}: {}", answer.body);
        assert_eq!(fake.calls().len(), 1);
    }
}
