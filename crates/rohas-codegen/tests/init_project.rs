//! `rohas init`'s template: the project layout of docs/README.md for each language, a config
//! the config loader accepts as written, and refusal to write over files.

use rohas_codegen::init::{init_project, package_name, InitError};
use rohas_runtime::Language;
use std::path::Path;

const COMMON_FILES: &[&str] = &[
    "config/rohas.toml",
    "schema/models/user.ro",
    "schema/api/health.ro",
    "schema/api/users.ro",
    "schema/events/user_created.ro",
    "schema/cron/cleanup.ro",
    "schema/websockets/chat.ro",
    "README.md",
    ".gitignore",
];

fn handler_files(ext: &str) -> Vec<String> {
    [
        "src/handlers/api/health",
        "src/handlers/api/create_user",
        "src/handlers/events/send_welcome_email",
        "src/handlers/cron/daily_cleanup",
        "src/handlers/websockets/chat",
        "src/middlewares/auth",
    ]
    .iter()
    .map(|f| format!("{f}.{ext}"))
    .collect()
}

fn assert_files(root: &Path, files: &[&str]) {
    for f in files {
        assert!(root.join(f).is_file(), "missing {f}");
    }
}

fn read(root: &Path, file: &str) -> String {
    std::fs::read_to_string(root.join(file)).unwrap()
}

#[test]
fn python_project() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("My App");
    let report = init_project(&root, "My App", Language::Python, None).unwrap();
    assert_eq!(report.example, "hello");
    assert_files(&root, COMMON_FILES);
    assert_files(&root, &["pyproject.toml", "requirements.txt"]);
    for f in handler_files("py") {
        assert!(root.join(&f).is_file(), "missing {f}");
    }
    assert!(read(&root, "pyproject.toml").contains("name = \"my-app\""));
    assert!(read(&root, "pyproject.toml").contains("strict = true"));
    assert!(read(&root, ".gitignore").contains(".rohas/"));
    assert!(read(&root, ".gitignore").contains(".venv/"));
    assert!(read(&root, "README.md").starts_with("# My App\n"));
    assert!(report.next_steps.iter().any(|s| s.contains("pip install")));
    assert!(report.files.iter().all(|f| root.join(f).is_file()));
}

#[test]
fn typescript_project() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("shop");
    init_project(&root, "shop", Language::TypeScript, Some("hello")).unwrap();
    assert_files(&root, COMMON_FILES);
    assert_files(&root, &["package.json", "tsconfig.json"]);
    for f in handler_files("ts") {
        assert!(root.join(&f).is_file(), "missing {f}");
    }
    let tsconfig: serde_json::Value = serde_json::from_str(&read(&root, "tsconfig.json")).unwrap();
    assert_eq!(tsconfig["compilerOptions"]["strict"], true);
    let package: serde_json::Value = serde_json::from_str(&read(&root, "package.json")).unwrap();
    assert_eq!(package["name"], "shop");
    // Handlers import generated code relative to their own folder.
    assert!(read(&root, "src/handlers/api/health.ts").contains("\"../../generated/api/Health\""));
    assert!(read(&root, "src/middlewares/auth.ts").contains("\"../generated/runtime\""));
}

#[test]
fn rust_project() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("fn");
    init_project(&root, "fn", Language::Rust, None).unwrap();
    assert_files(&root, COMMON_FILES);
    assert_files(&root, &["Cargo.toml", "src/lib.rs"]);
    for f in handler_files("rs") {
        assert!(root.join(&f).is_file(), "missing {f}");
    }
    let cargo = read(&root, "Cargo.toml");
    // `fn` is a Rust keyword: the package gets a name Cargo accepts.
    assert!(cargo.contains("name = \"fn-app\""), "{cargo}");
    assert!(cargo.contains("crate-type = [\"cdylib\"]"));
    assert!(cargo.contains("rohas-runtime = { path = \"src/generated/rohas-runtime\" }"));
    assert!(read(&root, "src/lib.rs").contains("pub mod generated;"));
}

#[test]
fn config_loads_as_written_with_no_warnings() {
    for lang in [Language::Python, Language::TypeScript, Language::Rust] {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("app");
        init_project(&root, "app", lang, None).unwrap();
        let loaded = rohas_config::load_file(
            Some(&root.join("config/rohas.toml")),
            Some(&read(&root, "config/rohas.toml")),
            Vec::new(),
        )
        .unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        assert_eq!(loaded.config.project.name, "app");
        assert_eq!(loaded.config.project.language.as_deref(), Some(lang.as_str()));
        assert_eq!(loaded.config.server.port, 3000);
    }
}

#[test]
fn an_empty_existing_folder_is_fine() {
    let tmp = tempfile::tempdir().unwrap();
    init_project(tmp.path(), "here", Language::Python, None).unwrap();
    assert!(tmp.path().join("config/rohas.toml").is_file());
}

#[test]
fn refuses_a_non_empty_folder_and_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
    let err = init_project(tmp.path(), "x", Language::Rust, None).unwrap_err();
    assert!(matches!(err, InitError::NotEmpty { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("not empty"), "{message}");
    assert!(message.contains("notes.txt"), "{message}");
    assert!(message.contains("choose a new folder name"), "{message}");
    // Nothing was written next to the user's file.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    assert_eq!(std::fs::read_to_string(tmp.path().join("notes.txt")).unwrap(), "mine");
}

#[test]
fn refuses_a_file_and_an_unknown_example() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("app");
    std::fs::write(&file, "").unwrap();
    let err = init_project(&file, "app", Language::Python, None).unwrap_err();
    assert!(err.to_string().contains("is a file"), "{err}");

    let err = init_project(&tmp.path().join("new"), "new", Language::Python, Some("nope")).unwrap_err();
    assert_eq!(err.to_string(), "unknown example `nope`; available: hello");
    assert!(!tmp.path().join("new").exists(), "nothing created on error");
}

#[test]
fn package_names_every_registry_accepts() {
    assert_eq!(package_name("My App").unwrap(), "my-app");
    assert_eq!(package_name("demo").unwrap(), "demo");
    assert_eq!(package_name("2fast").unwrap(), "app-2fast");
    assert_eq!(package_name("__x__").unwrap(), "x");
    assert_eq!(package_name("test").unwrap(), "test-app");
    assert_eq!(package_name("rohas-runtime").unwrap(), "rohas-runtime-app");
    assert!(matches!(package_name("ü!").unwrap_err(), InitError::InvalidName { .. }));
}

#[test]
fn refuses_names_that_break_project_files() {
    let tmp = tempfile::tempdir().unwrap();
    let err = init_project(&tmp.path().join("a"), "a\"b", Language::Rust, None).unwrap_err();
    assert!(matches!(err, InitError::InvalidName { .. }), "{err:?}");
}
