//! `rohas traces`, `rohas trace` and `rohas logs -f` against a real
//! `rohas dev` serving the events fixture (`fixtures/events-e2e`, Python
//! handlers): a request that publishes an event, an event whose handler
//! fails and is retried, and a handler's log line arriving live.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{post, Server};

/// `rohas -C root <args>`, 120 columns: exit code, stdout, stderr.
fn rohas(root: &Path, args: &[&str]) -> (i32, String, String) {
    support::rohas_in(root, args, &[("COLUMNS", "120")])
}

/// The engine writes telemetry in batches: ask until `found` picks
/// something out of `rohas traces --json`, or fail after 30 s.
fn wait_for_trace(root: &Path, args: &[&str], found: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let until = Instant::now() + Duration::from_secs(30);
    let mut last = String::new();
    while Instant::now() < until {
        let mut all = vec!["traces", "--json"];
        all.extend_from_slice(args);
        let (code, stdout, stderr) = rohas(root, &all);
        assert_eq!(code, 0, "{stderr}");
        let page: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        if let Some(t) = page["items"].as_array().unwrap().iter().find(|t| found(t)) {
            return t.clone();
        }
        last = stdout;
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no such trace within 30 s; last answer:\n{last}");
}

/// Until the trace's last attempt is stored as dead-lettered (30 s).
fn wait_for_dead_letter(root: &Path, trace_id: &str) {
    let until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < until {
        let (code, stdout, stderr) = rohas(root, &["trace", trace_id, "--json"]);
        assert_eq!(code, 0, "{stderr}");
        let tree: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        if tree["spans"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["dead_lettered"] == true)
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("trace {trace_id} has no dead-lettered delivery within 30 s");
}

#[test]
fn a_running_engine_serves_traces_and_live_logs() {
    let server = Server::start("events-e2e", &[]);
    let root = server.root.clone();

    // A request that publishes Step (whose handler triggers Done).
    let (status, _) = post(&server.url("/burst"), r#"{"from": 1, "count": 1}"#);
    assert_eq!(status, 200);
    let burst = wait_for_trace(&root, &["--kind", "request"], |t| {
        t["root"]["name"].as_str().unwrap_or("").contains("/burst")
    });
    let id = burst["trace_id"].as_str().unwrap().to_string();
    let (code, stdout, stderr) = rohas(&root, &["trace", &id]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with(&format!("trace {id}")), "{stdout}");
    assert!(stdout.contains("request") && stdout.contains("/burst"), "{stdout}");
    assert!(stdout.lines().all(|l| l.chars().count() <= 120), "{stdout}");

    // An event whose handler fails on every attempt: an error trace.
    let (code, _, stderr) = rohas(&root, &["events", "publish", "Fragile", r#"{"n": 1}"#]);
    assert_eq!(code, 0, "{stderr}");
    let failed = wait_for_trace(&root, &["--errors"], |t| t["errors"].as_u64() >= Some(1));
    let failed_id = failed["trace_id"].as_str().unwrap();
    wait_for_dead_letter(&root, failed_id);
    // Each attempt of a message published through the admin API is a root
    // of the trace: the table still shows the trace once.
    let (code, table, stderr) = rohas(&root, &["traces", "--errors"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(table.matches(failed_id).count(), 1, "{table}");
    let (code, stdout, stderr) = rohas(&root, &["trace", failed_id]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("error, attempt 1"), "{stdout}");
    assert!(stdout.contains("fragile 1 is broken"), "{stdout}");

    // logs -f receives a handler's line as it is written.
    let mut follow = Command::new(env!("CARGO_BIN_EXE_rohas"))
        .arg("-C")
        .arg(&root)
        .args(["logs", "-f", "--limit", "0", "--grep", "handled"])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = follow.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // Nothing says when the stream is open, and a line written before
    // that is not streamed: publish until one comes.
    std::fs::write(root.join("fixed"), "").unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    let mut n = 2;
    let line = loop {
        assert!(Instant::now() < until, "no live line within 30 s:\n{}", server.log());
        let (code, _, stderr) = rohas(&root, &["events", "publish", "Fragile", &format!(r#"{{"n": {n}}}"#)]);
        assert_eq!(code, 0, "{stderr}");
        n += 1;
        if let Ok(line) = rx.recv_timeout(Duration::from_secs(2)) {
            break line;
        }
    };
    assert!(
        line.contains("INFO") && line.contains("fragile") && line.contains("handled"),
        "{line}"
    );
    let _ = Command::new("kill").arg("-INT").arg(follow.id().to_string()).status();
    let out = follow.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}
