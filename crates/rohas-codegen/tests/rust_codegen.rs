//! Snapshots of the generated Rust for fixture schemas, and the properties
//! codegen promises (deterministic output, handler modules that follow the
//! files on disk).

mod common;

use rohas_codegen::{handler_specs, rust, GeneratedFile};
use rohas_runtime::Language;
use rohas_schema::Schema;
use std::path::Path;

fn load(name: &str) -> Schema {
    common::load(&common::fixture(name))
}

/// All files in one text, runtime crate left out (it is a fixed template).
fn render(files: &[GeneratedFile]) -> String {
    let mut out = String::new();
    for f in files {
        let path = f.path.to_string_lossy().replace('\\', "/");
        if path.contains("rohas-runtime/") {
            continue;
        }
        out.push_str(&format!("==> {path} <==\n{}\n", f.contents));
    }
    out
}

#[test]
fn all_constructs() {
    let schema = load("rust_all.ro");
    insta::assert_snapshot!(render(&rust::generate(&schema)));
}

#[test]
fn all_constructs_stubs() {
    let schema = load("rust_all.ro");
    let specs = handler_specs(&schema, Language::Rust);
    let mut stubs = rust::stubs(&schema, &specs);
    assert_eq!(stubs.len(), specs.len(), "one stub per spec");
    stubs.dedup_by(|a, b| a.path == b.path);
    insta::assert_snapshot!(render(&stubs));
}

#[test]
fn reserved_words() {
    let schema = load("rust_reserved.ro");
    let files = rust::generate(&schema);
    let text = render(&files);
    assert!(text.contains("pub r#type: String,"));
    assert!(text.contains("#[serde(rename = \"self\")]\n    pub self_: String,"));
    insta::assert_snapshot!(text);
}

#[test]
fn output_is_deterministic() {
    let schema = load("rust_all.ro");
    assert_eq!(rust::generate(&schema), rust::generate(&schema));
}

#[test]
fn runtime_crate_is_written_into_the_project() {
    let schema = load("rust_seed.ro");
    let files = rust::generate(&schema);
    let cargo = files
        .iter()
        .find(|f| f.path == Path::new("src/generated/rohas-runtime/Cargo.toml"))
        .expect("runtime Cargo.toml");
    assert!(cargo.contents.contains("name = \"rohas-runtime\""));
    assert!(!cargo.contents.contains("{{"), "placeholders filled");
    assert!(files
        .iter()
        .any(|f| f.path == Path::new("src/generated/rohas-runtime/src/lib.rs")));
}

#[test]
fn handler_modules_follow_the_files_on_disk() {
    let schema = load("rust_seed.ro");
    let project = tempfile::tempdir().unwrap();
    // The user named the api file after the declaration, not in snake_case.
    let custom = project.path().join("src/handlers/api/CreateUser.rs");
    std::fs::create_dir_all(custom.parent().unwrap()).unwrap();
    std::fs::write(&custom, "").unwrap();

    let files = rust::generate_in(&schema, project.path());
    let api = files
        .iter()
        .find(|f| f.path == Path::new("src/generated/handlers/api.rs"))
        .unwrap();
    assert!(
        api.contents
            .contains("#[path = \"../../handlers/api/CreateUser.rs\"]\npub mod create_user;"),
        "{}",
        api.contents
    );
    assert!(api
        .contents
        .contains("#[path = \"../../handlers/api/health.rs\"]\npub mod health;"));
}
