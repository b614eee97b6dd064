//! `rohas codegen --openapi` and `--asyncapi` through the real binary: the
//! documents of `examples/python-hello` on stdout (and nothing else there),
//! titled from the project config; an invalid schema prints diagnostics and
//! no document; `rohas dev` serves both.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn rohas(args: &[&str], cwd: &Path) -> (i32, String, String) {
    support::rohas_at(cwd, args, &["ROHAS_PROJECT_NAME", "ROHAS_PROJECT_VERSION"])
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "generated" || name == "__pycache__" || name == ".rohas" {
            continue;
        }
        let target = to.join(&name);
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A copy of `examples/python-hello` in a temporary folder.
fn example() -> (tempfile::TempDir, PathBuf) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/python-hello");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("python-hello");
    copy_dir(&source, &root);
    (tmp, root)
}

#[test]
fn prints_the_document_of_the_example() {
    let (_tmp, root) = example();
    let (code, stdout, stderr) = rohas(&["codegen", "--openapi"], &root);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{stdout}"));
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "python-hello");
    assert_eq!(doc["info"]["version"], "0.1.0");

    let paths: Vec<&str> = doc["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(paths, ["/health", "/users"]);
    assert_eq!(doc["paths"]["/health"]["get"]["operationId"], "Health");
    assert_eq!(
        doc["paths"]["/health"]["get"]["summary"],
        "Liveness probe: answers while the engine runs."
    );
    let create = &doc["paths"]["/users"]["post"];
    assert_eq!(create["operationId"], "CreateUser");
    assert_eq!(
        create["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/CreateUserInput"
    );
    assert_eq!(
        create["responses"]["422"]["$ref"],
        "#/components/responses/ValidationFailed"
    );
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["CreateUserInput"]["properties"]["email"]["pattern"],
        "^[^@ ]+@[^@ ]+$"
    );
    assert_eq!(schemas["User"]["properties"]["createdAt"]["format"], "date-time");
    assert!(
        schemas.get("ChatMessage").is_none(),
        "WebSocket messages are not HTTP APIs"
    );
    assert!(schemas.get("Error").is_some());

    // Nothing is generated: --openapi only prints.
    assert!(!root.join("src/generated").exists());
}

#[test]
fn config_names_the_document_and_a_bare_schema_uses_the_folder() {
    let (tmp, root) = example();
    let config = std::fs::read_to_string(root.join("config/rohas.toml")).unwrap();
    let config = config
        .replace("name = \"python-hello\"", "name = \"hello-api\"")
        .replace("version = \"0.1.0\"", "version = \"2.0.0\"");
    std::fs::write(root.join("config/rohas.toml"), config).unwrap();
    let (code, stdout, stderr) = rohas(&["codegen", "--openapi"], &root);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["info"]["title"], "hello-api");
    assert_eq!(doc["info"]["version"], "2.0.0");

    // A schema folder outside any project: no config, so the folder names it.
    let bare = tmp.path().join("bare-api");
    copy_dir(&root.join("schema"), &bare.join("defs"));
    let (code, stdout, stderr) = rohas(&["codegen", "--openapi", "--schema", "defs"], &bare);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["info"]["title"], "bare-api");
    assert_eq!(doc["info"]["version"], "0.1.0");
    assert!(doc["paths"].get("/users").is_some());
}

#[test]
fn an_invalid_schema_prints_diagnostics_and_no_document() {
    let (_tmp, root) = example();
    std::fs::write(
        root.join("schema/api/broken.ro"),
        "api Broken {\n  method: GET\n  path: \"/broken\"\n  response: Missing\n}\n",
    )
    .unwrap();
    let (code, stdout, stderr) = rohas(&["codegen", "--openapi"], &root);
    assert_ne!(code, 0);
    assert!(stdout.trim().is_empty(), "no document on stdout:\n{stdout}");
    assert!(stderr.contains("Missing"), "{stderr}");
    assert!(stderr.contains("broken.ro"), "{stderr}");
}

/// Kills the server when the test ends, even on a failed assertion.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn asyncapi_prints_the_events_of_the_example() {
    let (_tmp, root) = example();
    let (code, stdout, stderr) = rohas(&["codegen", "--asyncapi"], &root);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{stdout}"));
    assert_eq!(doc["asyncapi"], "3.0.0");
    assert_eq!(doc["info"]["title"], "python-hello");
    assert_eq!(doc["channels"]["UserCreated"]["address"], "UserCreated");
    let operations = doc["operations"].as_object().unwrap();
    assert_eq!(operations["send.UserCreated.api.CreateUser"]["action"], "send");
    assert_eq!(
        operations["receive.UserCreated.send_welcome_email"]["action"],
        "receive"
    );
    assert_eq!(
        doc["components"]["messages"]["UserCreated"]["payload"]["$ref"],
        "#/components/schemas/User"
    );
    assert!(!root.join("src/generated").exists(), "--asyncapi only prints");

    let (code, _, stderr) = rohas(&["codegen", "--asyncapi", "--openapi"], &root);
    assert_eq!(code, 2, "one document at a time: {stderr}");
}

/// `rohas dev` serves the same documents on `GET /openapi.json` and
/// `GET /asyncapi.json`. It needs the Python runtime (embedded CPython);
/// when that cannot start the test prints why it skips, and passes.
#[test]
fn dev_serves_the_documents_on_openapi_and_asyncapi_json() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let (_tmp, root) = example();
    let (code, printed, stderr) = rohas(&["codegen", "--openapi"], &root);
    assert_eq!(code, 0, "{stderr}");
    let (code, printed_events, stderr) = rohas(&["codegen", "--asyncapi"], &root);
    assert_eq!(code, 0, "{stderr}");
    let mut server = Running(
        Command::new(env!("CARGO_BIN_EXE_rohas"))
            .args(["dev", "--port", "0", "--watch", "false"])
            .current_dir(&root)
            .env("NO_COLOR", "1")
            .env_remove("ROHAS_SCHEMA_PATH")
            .env_remove("ROHAS_CONFIG_PATH")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run rohas dev"),
    );
    let stderr = server.0.stderr.take().unwrap();
    let errors = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let mut base = None;
    let mut log = String::new();
    let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap_or_default();
        log.push_str(&line);
        log.push('\n');
        if let Some(address) = line.split("Rohas ready on ").nth(1) {
            base = Some(address.trim().to_string());
            break;
        }
    }
    // Keep reading, so the server never writes into a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    let Some(base) = base else {
        // stdout closed: the server stopped before it was ready.
        let errors = errors.join().unwrap_or_default();
        if errors.contains("Python") || errors.contains("libpython") {
            eprintln!("skipped: the Python runtime cannot start here:\n{errors}");
            return;
        }
        panic!("rohas dev stopped before it was ready:\n{log}{errors}");
    };
    let served: Value = ureq::get(&format!("{base}/openapi.json"))
        .call()
        .expect("GET /openapi.json")
        .into_json()
        .expect("JSON document");
    let printed: Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(served, printed, "the served document is the printed one");
    let served: Value = ureq::get(&format!("{base}/asyncapi.json"))
        .call()
        .expect("GET /asyncapi.json")
        .into_json()
        .expect("JSON document");
    let printed: Value = serde_json::from_str(&printed_events).unwrap();
    assert_eq!(served, printed, "the served AsyncAPI document is the printed one");
}
