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

/// RFC 3339 allows year 0000 and a leap second (`23:59:60`), which Python's
/// `datetime` cannot hold (its handler failed with a 500), and a time whose
/// UTC year is 10000, which TypeScript and Rust wrote back as
/// `+010000-…`, no longer RFC 3339 (the answer broke its own document).
/// Found probing the every-input fixtures by hand, next to schemathesis,
/// whose date-time generator makes none of them.
#[tokio::test]
async fn a_date_time_no_handler_language_can_hold_is_422() {
    for body_only in [false, true] {
        let fake = FakeRuntime::new();
        fake.answer("api:EchoMoment", json!({"at": "2026-01-01T00:00:00Z"}));
        if body_only {
            fake.set_needs(
                "api:EchoMoment",
                Needs {
                    payload: true,
                    ..Needs::NONE
                },
            );
        }
        let app = serve(&fixture("openapi_conformance.ro"), &fake).await;
        for at in [
            "0000-01-01T00:00:00Z",
            "2016-12-31T23:59:60Z",
            "9999-12-31T23:59:59-05:00",
            "10000-01-01T00:00:00Z",
        ] {
            let answer = post(&app.at("/moments")).json(&json!({ "at": at })).send().await;
            assert_eq!(answer.status, 422, "{at}, body only: {body_only}: {}", answer.body);
            let problem = &answer.json()["error"]["details"][0];
            assert_eq!(problem["path"], "body.at", "{at}: {problem}");
            assert_eq!(
                problem["problem"],
                "expected an RFC 3339 date-time string from year 0001 to 9999, without a leap second, found a string",
                "{at}"
            );
        }
        assert!(fake.calls().is_empty(), "body only: {body_only}");
        for at in [
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "9999-12-31T23:59:59+05:00",
            "2026-12-06T00:30:00.123456789+01:00",
        ] {
            let answer = post(&app.at("/moments")).json(&json!({ "at": at })).send().await;
            assert_eq!(answer.status, 200, "{at}, body only: {body_only}: {}", answer.body);
        }
    }
}
