//! Typed query parameters (`query:`) end to end, in each language: the
//! `every-input-*` fixtures served by the real `rohas dev`, their
//! `ListItems` (a named `input` with a default, an enum list, a Boolean, a
//! Float and a DateTime) and `SearchItems` (an inline query with a required
//! parameter) asked over real HTTP. The three handlers filter the same made
//! up items, so one table of answers holds for all of them. Rust builds
//! share `$HOME/.cache/rohas-user-target`, as the other Rust tests do.

mod support;

use std::path::PathBuf;
use support::{get, Server};

/// The ids of the items an answer lists.
fn ids(s: &Server, path: &str) -> Vec<i64> {
    let (status, body) = get(&s.url(path));
    assert_eq!(status, 200, "{path}: {body}");
    body.as_array()
        .unwrap_or_else(|| panic!("{path}: not a list: {body}"))
        .iter()
        .map(|item| item["id"].as_i64().expect("an id"))
        .collect()
}

/// The parameter paths a 422 answer names.
fn refused(s: &Server, path: &str) -> Vec<String> {
    let (status, body) = get(&s.url(path));
    assert_eq!(status, 422, "{path}: {body}");
    body["error"]["details"]
        .as_array()
        .unwrap_or_else(|| panic!("{path}: no details: {body}"))
        .iter()
        .map(|p| p["path"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn typed_query_reaches_the_handler(language: &str) {
    let s = Server::start(&format!("every-input-{language}"), &[]);
    // `limit` left out: its @default(3).
    assert_eq!(ids(&s, "/shops/s1/items"), [1, 2, 3], "{language}");
    // A Boolean and a list of enum variants (the parameter repeated).
    assert_eq!(
        ids(&s, "/shops/s1/items?limit=10&inStock=true&sizes=M&sizes=L"),
        [1, 2, 5, 6, 9, 10],
        "{language}"
    );
    // A Float bound, and a DateTime compared as a time.
    assert_eq!(ids(&s, "/shops/s1/items?minPrice=2"), [2, 3], "{language}");
    assert_eq!(
        ids(&s, "/shops/s1/items?limit=12&madeAfter=2026-01-06T00:00:00Z"),
        [10],
        "{language}"
    );
    // An inline query: a required text, a default page, a list.
    assert_eq!(ids(&s, "/shops/s1/search?text=item%201"), [1], "{language}");
    assert_eq!(ids(&s, "/shops/s1/search?text=1&page=4"), [10, 11, 12], "{language}");
    assert_eq!(ids(&s, "/shops/s1/search?text=1&page=4&labels=l11"), [11], "{language}");
    // What the engine refuses before any handler runs.
    assert_eq!(
        refused(&s, "/shops/s1/items?limit=ten&inStock=maybe"),
        ["query.limit", "query.inStock"],
        "{language}"
    );
    assert_eq!(refused(&s, "/shops/s1/items?limit=21"), ["query.limit"], "{language}");
    assert_eq!(
        refused(&s, "/shops/s1/items?sizes=XXL"),
        ["query.sizes[0]"],
        "{language}"
    );
    assert_eq!(refused(&s, "/shops/s1/search?page=2"), ["query.text"], "{language}");
    let (status, body) = get(&s.url("/openapi.json"));
    assert_eq!(status, 200);
    let names: Vec<&str> = body["paths"]["/shops/{shop}/items"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter(|p| p["in"] == "query")
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["limit", "color", "inStock", "minPrice", "sizes", "madeAfter"],
        "{language}"
    );
}

#[test]
fn python_handlers_get_typed_query_parameters() {
    typed_query_reaches_the_handler("python");
}

#[test]
fn typescript_handlers_get_typed_query_parameters() {
    typed_query_reaches_the_handler("typescript");
}

#[test]
fn rust_handlers_get_typed_query_parameters() {
    let dir = std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cache/rohas-user-target"))
        .unwrap_or_else(|| std::env::temp_dir().join("rohas-user-target"));
    std::env::set_var("ROHAS_CARGO_TARGET_DIR", dir);
    typed_query_reaches_the_handler("rust");
}
