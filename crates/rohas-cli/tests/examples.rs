//! The example projects in `examples/` serve as their READMEs say, through
//! the real `rohas dev`. (`examples/python-hello` is covered in
//! `python_e2e.rs`; `examples/rust-hello` is what `rohas init --lang rust`
//! creates, which `rust_e2e.rs` serves.)

mod support;

use support::{scenarios, Server};

#[test]
fn the_typescript_example_serves_health_and_users() {
    if std::process::Command::new("node").arg("--version").output().is_err() {
        eprintln!("skipped: no `node` on PATH (the TypeScript runtime needs Node.js 20+)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("typescript-hello");
    support::copy_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/typescript-hello"),
        &root,
    );
    let s = Server::start_in(&root, "dev", &[]);
    scenarios::a_starter_project_serves(&s);
}
