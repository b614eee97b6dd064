//! `rohas start` serves only code generated from the schema it serves: a
//! schema changed without `rohas codegen` stops it with an error naming
//! `rohas codegen`; after codegen it serves. (`rohas dev` regenerates by
//! itself.) Uses the Python fixture: the check is the same for every
//! language.

mod support;

use std::path::Path;
use std::process::Command;

fn codegen(root: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_rohas"))
        .arg("-C")
        .arg(root)
        .arg("codegen")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn start_refuses_generated_code_older_than_the_schema() {
    let (_tmp, root) = support::project("python-e2e");
    codegen(&root);
    let models = root.join("schema/models.ro");
    let mut schema = std::fs::read_to_string(&models).unwrap();
    schema.push_str("\ntype Added {\n  note: String\n}\n");
    std::fs::write(&models, schema).unwrap();

    let stderr = support::start_error(&root, &["start", "--port", "0"], &[]);
    assert!(
        stderr.contains("src/generated/ is out of date with the schema"),
        "{stderr}"
    );
    assert!(stderr.contains("run `rohas codegen`"), "{stderr}");

    codegen(&root);
    let mut server = support::Server::start_in(&root, "start", &[]);
    let (status, _) = support::get(&server.url("/openapi.json"));
    assert_eq!(status, 200);
    assert!(server.terminate().success(), "{}", server.log());
}

#[test]
fn a_hand_edited_generated_file_is_out_of_date_too() {
    let (_tmp, root) = support::project("python-e2e");
    codegen(&root);
    let generated = walk(&root.join("src/generated"));
    let edited = generated
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "py"))
        .expect("a generated Python file");
    let mut text = std::fs::read_to_string(edited).unwrap();
    text.push_str("\n# edited by hand\n");
    std::fs::write(edited, text).unwrap();
    let stderr = support::start_error(&root, &["start", "--port", "0"], &[]);
    assert!(
        stderr.contains("out of date") && stderr.contains("rohas codegen"),
        "{stderr}"
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}
