//! `rohas validate --format json|github`: the machine-readable forms of
//! the diagnostics a user otherwise reads rendered. Snapshots, because the
//! keys and their order are a contract with scripts and CI.

use rohas_schema::report::{github, report};
use std::path::Path;

/// A duplicate name across two files: two labels, a help line, and the
/// paths written relative to the fixture folder.
fn duplicate() -> rohas_schema::report::Report {
    let base = Path::new("tests/fixtures/invalid");
    let checked = rohas_schema::check_path(&base.join("E0004_duplicate_across_files")).unwrap();
    report(&checked.sources, &checked.diagnostics, Some(base))
}

#[test]
fn json_report_of_a_duplicate_across_files() {
    let json = serde_json::to_string_pretty(&duplicate()).unwrap().replace('\\', "/");
    insta::assert_snapshot!("duplicate_json", json);
}

#[test]
fn github_annotations_of_a_duplicate_across_files() {
    insta::assert_snapshot!("duplicate_github", github(&duplicate()).replace('\\', "/"));
}

#[test]
fn a_warning_alone_is_valid() {
    let path = Path::new("tests/fixtures/invalid/W0001_body_on_get.ro");
    let checked = rohas_schema::check_path(path).unwrap();
    let report = report(&checked.sources, &checked.diagnostics, None);
    assert!(report.valid);
    assert_eq!((report.errors, report.warnings), (0, 1));
    assert!(github(&report).starts_with("::warning file=tests/fixtures/invalid/W0001_body_on_get.ro,line="));
}
