//! Typed query parameters (`query:`): what reaches the handler, 422 naming
//! each parameter, and apis without `query:` left as they were.

use crate::support::http::{get, post};
use crate::support::{fixture, serve, FakeRuntime};
use serde_json::json;

fn items() -> std::sync::Arc<FakeRuntime> {
    let fake = FakeRuntime::new();
    fake.answer("api:ListItems", json!([]))
        .answer("api:Search", json!([]))
        .answer("api:Plain", json!("ok"));
    fake
}

#[tokio::test]
async fn declared_parameters_reach_the_handler_typed_beside_the_raw_strings() {
    let fake = items();
    let app = serve(&fixture("query.ro"), &fake).await;
    let answer = get(&app.at("/items?limit=3&color=GREEN&inStock=true&tag=a&tag=b&other=x"))
        .send()
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let call = fake.only_call("api:ListItems");
    assert_eq!(
        call.request["query"],
        json!({ "limit": 3, "color": "GREEN", "inStock": true, "tag": ["a", "b"] })
    );
    // The raw map is unchanged: text, every parameter, a repeated one's last value.
    assert_eq!(call.request["query_params"]["limit"], "3");
    assert_eq!(call.request["query_params"]["other"], "x");
    assert_eq!(call.request["query_params"]["tag"], "b");
    // A context handler finds the typed query in its metadata.
    assert_eq!(call.metadata["query"]["limit"], 3);
}

#[tokio::test]
async fn left_out_parameters_are_absent_for_generated_code_to_default() {
    let fake = items();
    let app = serve(&fixture("query.ro"), &fake).await;
    let answer = get(&app.at("/items")).send().await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(fake.only_call("api:ListItems").request["query"], json!({}));

    let answer = post(&app.at("/search?text=rust"))
        .json(&json!({"note": "n"}))
        .send()
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let call = fake.only_call("api:Search");
    assert_eq!(call.request["query"], json!({ "text": "rust" }));
    assert_eq!(call.request["body"], json!({ "note": "n" }));
}

#[tokio::test]
async fn parameters_not_of_their_type_are_422_naming_each_one() {
    let fake = items();
    let app = serve(&fixture("query.ro"), &fake).await;
    let answer = get(&app.at("/items?limit=many&color=BLUE&inStock=1")).send().await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert_eq!(answer.error_message(), "query parameters do not match the schema");
    let details = answer.json()["error"]["details"].clone();
    let paths: Vec<&str> = details
        .as_array()
        .expect("details is a list of problems")
        .iter()
        .map(|p| p["path"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(paths, ["query.limit", "query.inStock"], "{details}");

    // Read, then judged by the validator: bounds and enum variants.
    let answer = get(&app.at("/items?limit=21&color=BLUE")).send().await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    let details = answer.json()["error"]["details"].clone();
    assert_eq!(details[0]["path"], "query.limit", "{details}");
    assert_eq!(details[1]["path"], "query.color", "{details}");
    assert!(fake.calls().is_empty(), "no handler ran");
}

#[tokio::test]
async fn a_missing_required_parameter_is_422_before_the_body_is_read() {
    let fake = items();
    let app = serve(&fixture("query.ro"), &fake).await;
    let answer = post(&app.at("/search?page=2")).body("not json").send().await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert_eq!(answer.json()["error"]["details"][0]["path"], "query.text");
    assert_eq!(
        answer.json()["error"]["details"][0]["problem"],
        "required query parameter is missing"
    );
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn an_api_without_query_has_no_typed_query() {
    let fake = items();
    let app = serve(&fixture("query.ro"), &fake).await;
    let answer = get(&app.at("/plain?limit=many")).send().await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let call = fake.only_call("api:Plain");
    assert!(call.request.get("query").is_none(), "{}", call.request);
    assert_eq!(call.request["query_params"]["limit"], "many");
}
