//! The AsyncAPI generator: a snapshot of the document for a fixture with
//! every kind of publisher (api, cron, ws, event), checks of its structure,
//! and the AsyncAPI 3.0 rules checked by `@asyncapi/parser` (the official
//! parser and validator) on every schema in the repository that declares
//! events.
//!
//! The parser is looked for in `$ROHAS_ASYNCAPI_MODULES` (a node_modules
//! folder; `scripts/install-checkers.sh` installs one) and run with `node`;
//! when either is missing the test prints why it skips, and passes.

mod common;

use common::{fixture, load};
use rohas_codegen::asyncapi::asyncapi;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn document() -> Value {
    asyncapi(&load(&fixture("python_all.ro")), "All", "1.2.3")
}

#[test]
fn all_publishers() {
    insta::assert_snapshot!(serde_json::to_string_pretty(&document()).unwrap());
}

#[test]
fn one_channel_per_event_and_operations_that_point_into_them() {
    let doc = document();
    assert_eq!(doc["asyncapi"], "3.0.0");
    let schema = load(&fixture("python_all.ro"));
    let channels = doc["channels"].as_object().unwrap();
    assert_eq!(channels.len(), schema.events.len());
    let operations = doc["operations"].as_object().unwrap();
    for (id, op) in operations {
        let channel = op["channel"]["$ref"].as_str().unwrap();
        let event = channel.strip_prefix("#/channels/").expect("a channel ref");
        assert!(channels.contains_key(event), "{id} points at {channel}");
        assert_eq!(
            op["messages"][0]["$ref"],
            format!("#/channels/{event}/messages/{event}"),
            "{id}"
        );
    }
    // Every handler receives, every trigger sends.
    assert_eq!(
        operations["receive.UserCreated.send_welcome_email"]["action"],
        "receive"
    );
    assert_eq!(operations["send.UserCreated.api.CreateUser"]["action"], "send");
    assert_eq!(operations["send.CleanupStarted.cron.DailyCleanup"]["action"], "send");
    assert_eq!(operations["send.Audited.ws.Notifications"]["action"], "send");
    assert_eq!(operations["send.UserRegistered.event.UserCreated"]["action"], "send");
    let handlers: usize = schema.events.iter().map(|e| e.handlers.len()).sum();
    let receives = operations.values().filter(|op| op["action"] == "receive").count();
    assert_eq!(receives, handlers);
    // Payload types are components, as in the OpenAPI document.
    let payload = &doc["components"]["messages"]["UserCreated"]["payload"];
    let name = payload["$ref"]
        .as_str()
        .unwrap()
        .strip_prefix("#/components/schemas/")
        .unwrap();
    assert!(doc["components"]["schemas"].get(name).is_some(), "{payload}");
}

/// Every schema unit in the repository that is valid and declares events:
/// schema folders, and single-file fixtures.
fn schemas_with_events() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if name == "schema" {
                    out.push(path);
                } else if !name.starts_with('.') && name != "target" && name != "node_modules" {
                    walk(&path, out);
                }
            } else if name.ends_with(".ro") && !path.components().any(|c| c.as_os_str() == "schema") {
                out.push(path);
            }
        }
    }
    let mut units = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."), &mut units);
    units.sort();
    units
        .into_iter()
        .filter(|unit| {
            rohas_schema::check_path(unit)
                .ok()
                .and_then(|c| c.schema)
                .is_some_and(|s| !s.events.is_empty())
        })
        .collect()
}

const VALIDATE: &str = r#"
const { Parser } = require('@asyncapi/parser');
const fs = require('fs');
(async () => {
  const parser = new Parser();
  let failed = false;
  for (const file of process.argv.slice(1)) {
    const { document, diagnostics } = await parser.parse(fs.readFileSync(file, 'utf8'));
    // Severity 0 is an error, 1 a warning: both count.
    const problems = diagnostics.filter((d) => d.severity <= 1);
    if (!document || problems.length > 0) {
      failed = true;
      console.log(file);
      for (const d of problems) console.log(`  ${d.code} at ${d.path.join('/')}: ${d.message}`);
    }
  }
  process.exit(failed ? 1 : 0);
})();
"#;

#[test]
fn documents_pass_the_asyncapi_parser() {
    let Some(modules) = std::env::var_os("ROHAS_ASYNCAPI_MODULES").map(PathBuf::from) else {
        eprintln!("skipped: ROHAS_ASYNCAPI_MODULES is not set (scripts/install-checkers.sh installs @asyncapi/parser)");
        return;
    };
    if !modules.join("@asyncapi/parser").is_dir() {
        eprintln!("skipped: {} has no @asyncapi/parser", modules.display());
        return;
    }
    if !Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("skipped: node is not on PATH");
        return;
    }
    let mut units = schemas_with_events();
    assert!(
        units.len() >= 10,
        "expected the examples and fixtures with events, found {units:?}"
    );
    // A schema without events still gives a valid (empty) document.
    units.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../rohas-schema/tests/fixtures/valid/api.ro"));
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, unit) in units.iter().enumerate() {
        let file = dir.path().join(format!("{i}.json"));
        let doc = asyncapi(&load(unit), "t", "0.1.0");
        std::fs::write(&file, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
        files.push(file);
    }
    let out = Command::new("node")
        .args(["-e", VALIDATE])
        .args(&files)
        .env("NODE_PATH", &modules)
        .output()
        .expect("run node");
    let report = String::from_utf8_lossy(&out.stdout);
    let names: String = units
        .iter()
        .enumerate()
        .map(|(i, u)| format!("{i}.json: {}\n", u.display()))
        .collect();
    assert!(
        out.status.success(),
        "not valid AsyncAPI 3.0:\n{report}{}\n{names}",
        String::from_utf8_lossy(&out.stderr)
    );
}
