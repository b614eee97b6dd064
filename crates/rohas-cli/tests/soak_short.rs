//! The short variant of `bench/soak/run.py`: 15 seconds of mixed load
//! (requests, events, WebSocket listeners and churn) on the project
//! `rohas init` makes, in Python and TypeScript, through the real binary.
//! It checks what a short run can: every answer is the one its request
//! asks for, every event is delivered, and fds and threads come back to
//! where they were. The 10-minute run per language, which also judges
//! RSS growth, is in bench/README.md.

use std::path::Path;
use std::process::Command;

#[test]
fn a_short_soak_in_python_and_typescript_passes() {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("skipped: python3 is not installed (the soak script is Python)");
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/soak/run.py");
    let out = tempfile::tempdir().unwrap();
    let run = Command::new("python3")
        .arg(&script)
        .args(["--lang", "python", "--lang", "typescript"])
        .args(["--duration", "15", "--warmup", "5", "--interval", "3", "--rate", "200"])
        .args(["--ws-clients", "20", "--no-plot", "--out"])
        .arg(out.path())
        .env("ROHAS_BIN", env!("CARGO_BIN_EXE_rohas"))
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.status.success(), "{said}");
    for lang in ["python", "typescript"] {
        let text = std::fs::read_to_string(out.path().join(format!("{lang}.json"))).unwrap();
        let result: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(result["passed"], true, "{lang}: {}", result["checks"]);
        let kinds = &result["requests_by_kind"];
        for kind in ["health", "create", "unauthorized", "invalid", "missing"] {
            assert!(
                kinds[kind].as_u64().unwrap_or(0) > 0,
                "{lang}: no {kind} request was made: {kinds}"
            );
        }
        assert!(
            result["drained"]["delivered"].as_u64().unwrap_or(0) > 0,
            "{lang}: events were delivered"
        );
        assert!(
            result["websocket"]["received"].as_u64().unwrap_or(0) > 0
                && result["websocket"]["churn_cycles"].as_u64().unwrap_or(0) > 0,
            "{lang}: WebSocket traffic flowed: {}",
            result["websocket"]
        );
    }
}
