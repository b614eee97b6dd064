//! Real `cargo clippy -- -D warnings` and `cargo build` on generated Rust
//! projects: every construct with stubs, reserved words, every complete
//! reference handler example placed as a handler, and the project `rohas init --lang rust`
//! creates; and `cargo test` of the generated harness sending a typed query.
//! Builds share `$HOME/.cache/rohas-user-target`, so crates.io
//! dependencies compile once.

mod common;

use common::checkers::{cargo, rust_codegen, write};
use common::{fixture, load};
use rohas_codegen::init::init_project;
use rohas_runtime::Language;
use std::path::Path;

/// A Rust project from `rohas init`, with its schema replaced by `schema`
/// (a fixture file) when given, then codegen: `src/generated/` in full, and
/// stubs for every handler that has no file.
fn project(name: &str, schema: Option<&str>, handlers: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    init_project(dir.path(), name, Language::Rust, None).unwrap();
    if let Some(file) = schema {
        for sub in ["schema", "src/handlers", "src/middlewares"] {
            std::fs::remove_dir_all(dir.path().join(sub)).unwrap();
        }
        let text = std::fs::read_to_string(fixture(file)).unwrap();
        write(dir.path(), Path::new("schema/app.ro"), &text);
        // The init tests name the init schema's handlers; this one only
        // needs the generated harness to compile for the fixture's schema.
        write(dir.path(), Path::new("src/tests.rs"), HARNESS_COMPILES);
    }
    for (path, contents) in handlers {
        write(dir.path(), Path::new(path), contents);
    }
    let schema = load(&dir.path().join("schema"));
    rust_codegen(dir.path(), &schema);
    dir
}

/// `src/tests.rs` for a fixture schema: the generated harness compiles and starts.
const HARNESS_COMPILES: &str =
    "#[test]\nfn the_harness_starts() {\n    let _ = crate::generated::testing::Harness::new();\n}\n";

/// Clippy on the tests too: `src/generated/testing.rs` is compiled for tests only.
fn clippy_and_build(dir: &Path) {
    cargo(dir, &["clippy", "--all-targets", "--quiet", "--", "-D", "warnings"]);
    cargo(dir, &["build", "--quiet"]);
}

/// Generated code, stubs and templates are written the way rustfmt would,
/// so `cargo fmt` in a project never rewrites them.
fn rustfmt_clean(dir: &Path) {
    cargo(dir, &["fmt", "--check"]);
}

#[test]
fn every_construct_with_stubs_passes_clippy_and_builds() {
    let dir = project("rohas-all-constructs", Some("rust_all.ro"), &[]);
    assert!(dir.path().join("src/handlers/websockets/chat.rs").is_file());
    assert!(dir.path().join("src/middlewares/rateLimit.rs").is_file());
    clippy_and_build(dir.path());
    rustfmt_clean(dir.path());
}

/// A handler reading the typed query (`query:`) of `ListItems`.
const LIST_ITEMS: &str = r#"use crate::generated::api::ListItems::{ListItemsRequest, ListItemsResponse};
use rohas_runtime::Result;

pub async fn handler(req: ListItemsRequest) -> Result<ListItemsResponse> {
    Ok(serde_json::json!({
        "limit": req.query.limit,
        "in_stock": req.query.in_stock,
        "year": req.query.after.map(|a| a.format("%Y").to_string()),
        "raw": req.query_params,
    }))
}
"#;

/// The generated harness sends the typed query as the engine does, and its
/// strings as `query_params`; an event's payload comes out whole.
const HARNESS_QUERY: &str = r#"use crate::generated::api::ListItems::{ListItemsQuery, ListItemsRequest};

#[test]
fn the_harness_sends_a_typed_query() {
    let h = crate::generated::testing::Harness::new();
    let after = chrono::DateTime::parse_from_rfc3339("2024-05-01T00:00:00Z").unwrap().with_timezone(&chrono::Utc);
    let request = ListItemsRequest {
        shop: "s1".into(),
        query: ListItemsQuery { limit: 3, in_stock: Some(false), tag: Some(vec!["a".into(), "b".into()]), after: Some(after), ..Default::default() },
        ..Default::default()
    };
    let value = h.call_list_items(request).unwrap().value().clone();
    let raw = serde_json::json!({"limit": "3", "inStock": "false", "tag": "b", "after": "2024-05-01T00:00:00Z"});
    assert_eq!(value, serde_json::json!({"limit": 3, "in_stock": false, "year": "2024", "raw": raw}));
}

/// An event reads its fields once and makes `payload` from them: both
/// agree with what the engine sent.
#[test]
fn an_event_has_its_fields_and_its_payload() {
    use crate::generated::events::UserRegistered::UserRegistered;
    let payload = serde_json::json!({"userId": 7, "name": "Ada", "source": {"kind": "web"}});
    let request = rohas_runtime::testing::shapes::event_request("UserRegistered", &payload, "2024-05-01T00:00:00.250Z", "t1");
    let event: UserRegistered = serde_json::from_value(request).unwrap();
    assert_eq!((event.user_id, event.name.as_str(), event.source.kind.as_str()), (7, "Ada", "web"));
    assert_eq!(serde_json::to_value(&event.payload).unwrap(), payload);
    assert_eq!((event.trace_id.as_str(), event.timestamp.timestamp_millis()), ("t1", 1_714_521_600_250));
}
"#;

#[test]
fn the_rust_harness_sends_a_typed_query() {
    let handlers = [
        ("src/handlers/api/list_items.rs", LIST_ITEMS),
        ("src/tests.rs", HARNESS_QUERY),
    ];
    let dir = project("rohas-typed-query", Some("rust_all.ro"), &handlers);
    cargo(dir.path(), &["test", "--quiet"]);
}

#[test]
fn reserved_words_compile() {
    let dir = project("rohas-reserved", Some("rust_reserved.ro"), &[]);
    clippy_and_build(dir.path());
    rustfmt_clean(dir.path());
}

#[test]
fn seed_examples_pass_clippy_and_build() {
    let seed = fixture("seed_rust");
    let read = |f: &str| std::fs::read_to_string(seed.join(f)).unwrap();
    let handlers = [
        ("src/handlers/api/health.rs", read("health.rs")),
        ("src/handlers/api/create_user.rs", read("create_user.rs")),
        ("src/handlers/api/context.rs", read("context.rs")),
        ("src/handlers/api/failing.rs", read("failing.rs")),
        ("src/handlers/api/converting.rs", read("converting.rs")),
        (
            "src/handlers/events/send_welcome_email.rs",
            read("send_welcome_email.rs"),
        ),
        ("src/handlers/cron/daily_cleanup.rs", read("daily_cleanup.rs")),
        ("src/handlers/websockets/chat.rs", read("chat.rs")),
    ];
    let handlers: Vec<(&str, &str)> = handlers.iter().map(|(p, c)| (*p, c.as_str())).collect();
    let dir = project("rohas-seed", Some("rust_seed.ro"), &handlers);
    // The reference files are used as they are, not replaced by stubs.
    let health = std::fs::read_to_string(dir.path().join("src/handlers/api/health.rs")).unwrap();
    assert!(health.contains("pub async fn handle_health("));
    clippy_and_build(dir.path());
}

#[test]
fn the_init_project_passes_clippy_and_builds() {
    let dir = project("rohas-init-rust", None, &[]);
    let handlers = std::fs::read_to_string(dir.path().join("src/generated/handlers/api.rs")).unwrap();
    assert!(handlers.contains("pub mod create_user;") && handlers.contains("pub mod health;"));
    clippy_and_build(dir.path());
    rustfmt_clean(dir.path());
}

/// The reference "Dependencies" example (`reqwest::get(..).await?`) builds: `?`
/// turns any error type into `RuntimeError`. Only built, not linted: its
/// `use reqwest;` is a clippy style warning, kept as the example wrote it.
#[test]
fn seed_dependency_example_builds() {
    let seed = fixture("seed_rust/dependency.rs");
    let handler = std::fs::read_to_string(seed).unwrap();
    let dir = project(
        "rohas-seed-deps",
        Some("rust_seed.ro"),
        &[("src/handlers/api/converting.rs", &handler)],
    );
    let manifest = dir.path().join("Cargo.toml");
    let cargo_toml = std::fs::read_to_string(&manifest).unwrap().replace(
        "[dependencies]\n",
        "[dependencies]\nreqwest = { version = \"0.11\", features = [\"json\"] }\ntokio = { version = \"1\", features = [\"full\"] }\n",
    );
    std::fs::write(&manifest, cargo_toml).unwrap();
    cargo(dir.path(), &["build", "--quiet"]);
}
