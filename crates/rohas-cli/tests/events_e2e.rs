//! Events through the real binary on the real queue file: crash safety
//! under `kill -9`, dead letters fixed and replayed with the CLI, graceful
//! shutdown with queued events, and what a damaged or busy queue says.
//! The fixture (`fixtures/events-e2e`, Python handlers) records every
//! handled event as a line in `records.txt`.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::{post, project, Server};

/// `rohas -C root <args>`: exit code, stdout, stderr.
fn rohas(root: &Path, args: &[&str]) -> (i32, String, String) {
    support::rohas_in(root, args, &[])
}

/// The lines of `records.txt` (empty when none yet).
fn records(root: &Path) -> Vec<String> {
    std::fs::read_to_string(root.join("records.txt"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn numbers(lines: &[String], kind: &str) -> BTreeSet<i64> {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix(kind)?.trim().parse().ok())
        .collect()
}

/// Wait (bounded) until `done` holds for the records.
fn wait_for_records(root: &Path, what: &str, done: impl Fn(&[String]) -> bool) {
    let until = Instant::now() + Duration::from_secs(120);
    while Instant::now() < until {
        if done(&records(root)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what}: not within 120 s; {} record lines", records(root).len());
}

fn dead_letters(root: &Path) -> Vec<serde_json::Value> {
    let (code, stdout, stderr) = rohas(root, &["dlq", "list", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str::<Vec<serde_json::Value>>(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// 10,000 events flow from an API (1,000 per request) to a handler that
/// records each and triggers a follow-up event; the engine is killed with
/// SIGKILL at varied moments and restarted. Every event whose publishing
/// request was answered is handled at least once, so is its follow-up, and
/// no follow-up is recorded before its event was (it is published only
/// when the first handler's acknowledgement commits).
#[test]
fn kill_9_loses_no_accepted_event() {
    const BURSTS: i64 = 10;
    const PER_BURST: i64 = 1_000;
    let (_tmp, root) = project("events-e2e");
    let mut accepted: BTreeSet<i64> = BTreeSet::new();
    let mut next_burst = 0;
    // Kill after this many more answered bursts, then a little later.
    let plan: [(i64, u64); 4] = [(1, 0), (2, 30), (3, 5), (2, 80)];
    for (bursts, extra_ms) in plan {
        let mut server = Server::start_in(&root, "dev", &[]);
        for _ in 0..bursts {
            if next_burst == BURSTS {
                break;
            }
            let from = next_burst * PER_BURST;
            let (status, body) = post(
                &server.url("/burst"),
                &format!(r#"{{"from": {from}, "count": {PER_BURST}}}"#),
            );
            assert_eq!(status, 200, "{body}");
            accepted.extend(from..from + PER_BURST);
            next_burst += 1;
        }
        std::thread::sleep(Duration::from_millis(extra_ms));
        server.child.kill().unwrap(); // SIGKILL
        server.child.wait().unwrap();
    }
    let server = Server::start_in(&root, "dev", &[]);
    while next_burst < BURSTS {
        let from = next_burst * PER_BURST;
        let (status, _) = post(
            &server.url("/burst"),
            &format!(r#"{{"from": {from}, "count": {PER_BURST}}}"#),
        );
        assert_eq!(status, 200);
        accepted.extend(from..from + PER_BURST);
        next_burst += 1;
    }
    wait_for_records(&root, "every accepted event and its follow-up handled", |lines| {
        numbers(lines, "step ").is_superset(&accepted) && numbers(lines, "done ").is_superset(&accepted)
    });
    let lines = records(&root);
    let mut first_step: HashMap<i64, usize> = HashMap::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some(n) = line.strip_prefix("step ").and_then(|n| n.parse().ok()) {
            first_step.entry(n).or_insert(i);
        }
        if let Some(n) = line.strip_prefix("done ").and_then(|n| n.parse::<i64>().ok()) {
            let step = first_step.get(&n).copied();
            assert!(
                step.is_some_and(|s| s < i),
                "done {n} recorded before step {n} (line {i})"
            );
        }
    }
    let seen = numbers(&lines, "step ");
    assert!(
        seen.iter().all(|n| (0..BURSTS * PER_BURST).contains(n)),
        "a step nobody published"
    );
    drop(server);
}

/// The flow a user follows: a handler fails, `rohas dev` names the dead
/// letter and the command, the handler is fixed, the dead letter replayed
/// through the running engine, and it succeeds.
#[test]
fn a_dead_letter_is_fixed_and_replayed() {
    let (_tmp, root) = project("events-e2e");
    let server = Server::start_in(&root, "dev", &[]);
    let (code, stdout, stderr) = rohas(&root, &["events", "publish", "Fragile", r#"{"n": 1}"#]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.trim().len(), 32, "prints the message id: {stdout}");
    server.wait_for_log("rohas dlq show");
    assert_eq!(
        server.count_log("attempt 1/2 failed: RuntimeError: fragile 1 is broken"),
        1,
        "{}",
        server.log()
    );
    let dead = dead_letters(&root);
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0]["handler"], "event:Fragile:fragile");
    assert_eq!(dead[0]["attempts"].as_array().unwrap().len(), 2);
    assert_eq!(dead[0]["message"]["id"].as_str(), Some(stdout.trim()));
    let id = dead[0]["id"].as_str().unwrap().to_string();
    assert!(
        server.log().contains(&format!("rohas dlq show {id}")),
        "{}",
        server.log()
    );

    let (code, shown, _) = rohas(&root, &["dlq", "show", &id]);
    assert_eq!(code, 0);
    assert!(shown.contains("fragile 1 is broken"), "{shown}");

    std::fs::write(root.join("fixed"), "").unwrap();
    let (code, out, stderr) = rohas(&root, &["dlq", "replay", &id]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("replayed 1") || out.contains("replayed 1"),
        "{stderr}{out}"
    );
    server.wait_for_log("fragile 1 handled");
    assert!(dead_letters(&root).is_empty());

    let (code, _, stderr) = rohas(&root, &["dlq", "replay", "424242"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("no dead letter with id 424242"), "{stderr}");
}

/// Without an engine, the CLI works on the queue file: a replay waits in
/// the queue for the next start, a purge deletes.
#[test]
fn dead_letters_are_kept_across_restarts_and_handled_without_an_engine() {
    let (_tmp, root) = project("events-e2e");
    let mut server = Server::start_in(&root, "dev", &[]);
    for n in [1, 2] {
        let (code, _, stderr) = rohas(&root, &["events", "publish", "Fragile", &format!(r#"{{"n": {n}}}"#)]);
        assert_eq!(code, 0, "{stderr}");
    }
    server.wait_for_log_count("rohas dlq show", 2);
    assert_eq!(server.terminate().code(), Some(0));

    let dead = dead_letters(&root);
    assert_eq!(dead.len(), 2, "dead letters survive the restart: {dead:?}");
    let by_n = |n: i64| {
        dead.iter()
            .find(|d| d["message"]["payload"]["n"] == n)
            .and_then(|d| d["id"].as_str())
            .unwrap()
            .to_string()
    };
    let (code, _, stderr) = rohas(&root, &["dlq", "purge", &by_n(2)]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = rohas(&root, &["dlq", "replay", &by_n(1)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("no engine is running"), "{stdout}");
    assert!(dead_letters(&root).is_empty());

    std::fs::write(root.join("fixed"), "").unwrap();
    let server = Server::start_in(&root, "dev", &[]);
    server.wait_for_log("fragile 1 handled");
    assert_eq!(server.count_log("fragile 2"), 0, "the purged one is gone");
}

/// An event published while no engine runs waits in the queue; a delayed
/// one is not handled before its time.
#[test]
fn events_published_without_an_engine_wait_for_it() {
    let (_tmp, root) = project("events-e2e");
    let (code, _, stderr) = rohas(&root, &["events", "publish", "Step", r#"{"n": 5}"#]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = rohas(&root, &["events", "publish", "Step", r#"{"n": "five"}"#]);
    assert_eq!(code, 1);
    assert!(stderr.contains("payload.n"), "names the field: {stderr}");
    let (code, _, stderr) = rohas(&root, &["events", "publish", "Nope", "{}"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("no event `Nope`"), "{stderr}");
    assert!(records(&root).is_empty());
    let published = Instant::now();
    let (code, _, stderr) = rohas(&root, &["events", "publish", "--delay", "2s", "Step", r#"{"n": 6}"#]);
    assert_eq!(code, 0, "{stderr}");

    let _server = Server::start_in(&root, "dev", &[]);
    wait_for_records(&root, "the waiting event handled", |lines| {
        numbers(lines, "done ").contains(&5)
    });
    wait_for_records(&root, "the delayed event handled", |lines| {
        numbers(lines, "done ").contains(&6)
    });
    assert!(
        published.elapsed() >= Duration::from_secs(2),
        "the delayed event came early"
    );
}

/// SIGTERM with events queued: they are handled before the engine exits 0.
#[test]
fn graceful_shutdown_finishes_queued_events() {
    let (_tmp, root) = project("events-e2e");
    let mut server = Server::start_in(&root, "dev", &[]);
    let (status, _) = post(&server.url("/slow-burst"), r#"{"from": 0, "count": 40}"#);
    assert_eq!(status, 200);
    assert_eq!(server.terminate().code(), Some(0), "{}", server.log());
    assert_eq!(server.count_log("handled"), 40, "{}", server.log());
}

/// One engine per queue: a second `rohas dev` on the project says so and
/// exits; a damaged queue file is named with what to do.
#[test]
fn a_busy_or_damaged_queue_is_refused_clearly() {
    let (_tmp, root) = project("events-e2e");
    let mut server = Server::start_in(&root, "dev", &[]);
    let stderr = support::start_error(&root, &["dev", "--port", "0"], &[]);
    assert!(
        stderr.contains("another rohas engine is already using the event queue"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("pid {}", server.child.id())), "{stderr}");
    assert_eq!(server.terminate().code(), Some(0));

    let queue = root.join(".rohas/queue");
    for extra in ["queue.db-wal", "queue.db-shm"] {
        let _ = std::fs::remove_file(queue.join(extra));
    }
    std::fs::write(queue.join("queue.db"), b"this is not a queue, it was overwritten").unwrap();
    let stderr = support::start_error(&root, &["dev", "--port", "0"], &[]);
    assert!(stderr.contains("queue.db is damaged"), "{stderr}");
    assert!(stderr.contains("move the file aside"), "{stderr}");
    assert!(queue.join("queue.db").exists(), "the damaged file is kept");
}

/// Messages for a handler the schema no longer has are kept and reported
/// at start, then handled when it comes back.
#[test]
fn messages_of_a_removed_handler_are_kept() {
    let (_tmp, root) = project("events-e2e");
    std::fs::write(root.join("fixed"), "").unwrap();
    let (code, _, stderr) = rohas(&root, &["events", "publish", "Fragile", r#"{"n": 9}"#]);
    assert_eq!(code, 0, "{stderr}");
    let schema = root.join("schema/events.ro");
    let original = std::fs::read_to_string(&schema).unwrap();
    let without = original.replace("  handler: [fragile]\n", "  handler: []\n");
    assert_ne!(without, original);
    std::fs::write(&schema, &without).unwrap();
    let mut server = Server::start_in(&root, "dev", &[]);
    server.wait_for_log("wait for handler event:Fragile:fragile, which the schema no longer has");
    assert_eq!(server.terminate().code(), Some(0));
    std::fs::write(&schema, &original).unwrap();
    let server = Server::start_in(&root, "dev", &[]);
    server.wait_for_log("fragile 9 handled");
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Scratch(std::path::PathBuf);

impl Scratch {
    /// `None` (the test then says why it skips) where mounting is not
    /// allowed, as for a user who is not root.
    fn mount(at: &Path, size: &str) -> Option<Scratch> {
        std::fs::create_dir_all(at).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Scratch(at.to_path_buf()))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fill the filesystem at `dir` until writing fails.
fn fill(dir: &Path) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let block = vec![0u8; 64 * 1024];
    while file.write_all(&block).is_ok() {}
    let small = [0u8; 512];
    while file.write_all(&small).is_ok() {}
    let _ = file.sync_all();
    path
}

/// With the queue's disk full, publishing answers 503 and nothing already
/// accepted is lost: once space is freed everything is handled.
#[test]
fn a_full_disk_answers_503_and_loses_nothing() {
    let (tmp, root) = project("events-e2e");
    let Some(scratch) = Scratch::mount(&tmp.path().join("disk"), "3m") else {
        eprintln!("skipped: cannot mount a scratch tmpfs here (needs root)");
        return;
    };
    let queue = scratch.0.join("queue");
    let config = root.join("config/rohas.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!("\n[adapter]\npath = \"{}\"\n", queue.display()));
    std::fs::write(&config, text).unwrap();

    let server = Server::start_in(&root, "dev", &[]);
    let (status, _) = post(&server.url("/burst"), r#"{"from": 0, "count": 100}"#);
    assert_eq!(status, 200);
    wait_for_records(&root, "the first burst handled", |l| numbers(l, "done ").len() == 100);

    let filler = fill(&scratch.0);
    let mut refused = 0;
    let mut accepted: BTreeSet<i64> = (0..100).collect();
    for i in 1..=20 {
        let (status, body) = post(
            &server.url("/burst"),
            &format!(r#"{{"from": {}, "count": 100}}"#, i * 100),
        );
        match status {
            200 => accepted.extend(i * 100..i * 100 + 100),
            503 => {
                assert!(
                    body["error"]["message"].as_str().unwrap_or("").contains("disk is full"),
                    "{body}"
                );
                refused += 1;
                break;
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(
        refused,
        1,
        "a publish on a full disk was not refused:\n{}",
        server.log()
    );
    std::fs::remove_file(filler).unwrap();
    let (status, _) = post(&server.url("/burst"), r#"{"from": 5000, "count": 100}"#);
    assert_eq!(status, 200, "accepted again once space is free");
    wait_for_records(&root, "everything accepted handled after the disk recovered", |l| {
        let done = numbers(l, "done ");
        accepted.is_subset(&done) && (5000..5100).all(|n| done.contains(&n))
    });
    assert!(!server.log().contains("panicked"), "{}", server.log());
}
