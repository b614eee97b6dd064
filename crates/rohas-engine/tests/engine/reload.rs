//! `Engine::reload` swaps the schema under a running server: the next
//! request sees the new routes and checks, and a request already in flight
//! finishes with the schema it started with.

use crate::support::http::{get, post};
use crate::support::{fixture, serve, within, FakeRuntime, Gate};
use serde_json::json;

fn handlers() -> std::sync::Arc<FakeRuntime> {
    let fake = FakeRuntime::new();
    fake.answer("api:Old", json!("old"))
        .answer("api:New", json!("new"))
        .answer("api:Note", json!("noted"));
    fake
}

#[tokio::test]
async fn a_new_route_answers_and_a_removed_one_is_404() {
    let fake = handlers();
    let app = serve(&fixture("reload_before.ro"), &fake).await;
    assert_eq!(get(&app.at("/old")).send().await.status, 200);
    assert_eq!(get(&app.at("/new")).send().await.status, 404);

    app.reload(&fixture("reload_after.ro")).await;
    assert_eq!(get(&app.at("/new")).send().await.json(), json!("new"));
    assert_eq!(get(&app.at("/old")).send().await.status, 404);
    assert_eq!(fake.calls_to("api:Old").len(), 1);
}

#[tokio::test]
async fn bodies_are_checked_against_the_new_schema() {
    let fake = handlers();
    let app = serve(&fixture("reload_before.ro"), &fake).await;
    let note = json!({"text": "milk"});
    assert_eq!(post(&app.at("/notes")).json(&note).send().await.status, 200);

    app.reload(&fixture("reload_after.ro")).await;
    let answer = post(&app.at("/notes")).json(&note).send().await;
    assert_eq!(answer.status, 422);
    assert_eq!(answer.json()["error"]["details"][0]["path"], "body.pinned");
}

#[tokio::test]
async fn a_request_in_flight_during_a_reload_completes() {
    let fake = handlers();
    let gate = Gate::new();
    fake.gated("api:Slow", &gate, json!("slow but sure"));
    let app = serve(&fixture("reload_before.ro"), &fake).await;
    let in_flight = tokio::spawn(get(&app.at("/slow")).send());
    fake.wait_calls("api:Slow", 1).await;

    app.reload(&fixture("reload_after.ro")).await;
    assert_eq!(get(&app.at("/slow")).send().await.status, 404);
    gate.open();
    let answer = within("the request in flight", in_flight).await.expect("request task");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), json!("slow but sure"));
}
