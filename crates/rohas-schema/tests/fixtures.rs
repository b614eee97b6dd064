//! Every fixture under `tests/fixtures/`: valid ones check clean, invalid
//! ones produce the diagnostic their name starts with (`E0005_…` → E0005),
//! and the rendered text a user reads is snapshotted.
//!
//! Paths are relative to the crate so the snapshots do not depend on where
//! the repository is checked out.

use std::path::{Path, PathBuf};

fn entries(dir: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(Path::new("tests/fixtures").join(dir))
        .expect("fixture folder")
        .map(|e| e.expect("entry").path())
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no fixtures in {dir}");
    out
}

#[test]
fn valid_fixtures_have_no_diagnostics() {
    for path in entries("valid") {
        let checked = rohas_schema::check_path(&path).expect("readable");
        assert!(
            checked.diagnostics.is_empty(),
            "{} should be clean:\n{}",
            path.display(),
            checked.render(false)
        );
        let schema = checked.schema.expect("a valid schema has a model");
        let declared = schema.types.len()
            + schema.enums.len()
            + schema.apis.len()
            + schema.events.len()
            + schema.crons.len()
            + schema.websockets.len();
        assert!(declared > 0, "{} declares nothing", path.display());
    }
}

#[test]
fn invalid_fixtures_report_their_code_and_match_snapshots() {
    for path in entries("invalid") {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let code = &name[..5];
        let checked = rohas_schema::check_path(&path).expect("readable");
        assert!(
            checked.diagnostics.iter().any(|d| d.code == code),
            "{} should report {code}, got:\n{}",
            path.display(),
            checked.render(false)
        );
        // Errors block the model; warnings alone never do.
        assert_eq!(checked.schema.is_none(), code.starts_with('E'), "{}", path.display());
        // Every diagnostic points somewhere, with the caret on the primary label.
        for d in &checked.diagnostics {
            assert!(d.labels.iter().any(|l| l.primary), "{name}: {d:?} has no primary label");
        }
        let rendered = checked.render(false).replace('\\', "/");
        insta::assert_snapshot!(name, rendered);
    }
}

#[test]
fn a_missing_folder_is_a_load_error_naming_it() {
    let err = rohas_schema::check_path(Path::new("tests/fixtures/no-such-folder")).unwrap_err();
    assert!(
        err.to_string().contains("tests/fixtures/no-such-folder does not exist"),
        "{err}"
    );
}

#[test]
fn a_folder_without_ro_files_is_a_load_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = rohas_schema::check_path(dir.path()).unwrap_err();
    assert!(err.to_string().contains("has no .ro files"), "{err}");
}

#[test]
fn a_ten_megabyte_schema_checks_without_trouble() {
    let mut text = String::with_capacity(11 << 20);
    let mut i = 0;
    while text.len() < 10 << 20 {
        text.push_str(&format!(
            "/// Type {i}\ntype T{i} {{\n  id: Int @id\n  name: String\n  tags: String[]\n  nested: {{ a: Int, b: String? }}\n}}\n\n"
        ));
        i += 1;
    }
    let mut sources = rohas_schema::SourceMap::new();
    sources.add("big.ro", text);
    let checked = rohas_schema::check_sources(sources);
    assert!(checked.diagnostics.is_empty(), "{}", checked.render(false));
    assert_eq!(checked.schema.unwrap().types.len(), i);
}
