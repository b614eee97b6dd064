//! `rohas traces`, `rohas trace ID` and `rohas logs` through the real
//! binary on a telemetry file written by the telemetry crate itself (no
//! engine runs: the commands read the file), and what they say to bad
//! input, a missing file and a damaged one.

mod support;

use rohas_telemetry::{Level, LogEntry, Options, Span, SpanId, SpanKind, Telemetry};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
/// 2026-06-01T10:00:00Z: fixed times keep the output the same every run.
const T0: u64 = 1_780_308_000_000_000_000;
const MS: u64 = 1_000_000;

/// A project whose `[telemetry] path` is `telemetry-data`, with nothing
/// stored yet.
fn empty_project() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("project");
    std::fs::create_dir_all(root.join("config")).unwrap();
    std::fs::create_dir_all(root.join("schema")).unwrap();
    std::fs::write(
        root.join("config/rohas.toml"),
        "[project]\nname = \"shop\"\nlanguage = \"python\"\n\n[telemetry]\npath = \"telemetry-data\"\n",
    )
    .unwrap();
    (tmp, root)
}

fn span(
    parent: Option<&Span>,
    name: &str,
    kind: SpanKind,
    handler: Option<&str>,
    start_ms: u64,
    duration_ms: u64,
) -> Span {
    let mut s = Span::new(
        TRACE,
        SpanId::random(),
        parent.map(|p| p.span_id),
        Arc::from(name),
        kind,
    );
    s.handler = handler.map(Arc::from);
    s.start_ns = T0 + start_ms * MS;
    s.duration_ns = duration_ms * MS;
    s
}

fn log(source: &str, span: Option<&Span>, at_ms: u64, level: Level, message: &str) -> LogEntry {
    LogEntry {
        time_ns: T0 + at_ms * MS,
        level,
        source: Arc::from(source),
        trace_id: Some(TRACE.into()),
        span_id: span.map(|s| s.span_id),
        message: message.into(),
        fields: Default::default(),
        truncated: false,
    }
}

/// A request that creates a user and publishes `UserCreated`, whose
/// welcome-mail handler fails once and succeeds on the second attempt;
/// and an older, quiet health check.
fn project_with_a_trace() -> (tempfile::TempDir, PathBuf) {
    let (tmp, root) = empty_project();
    let t = Telemetry::start(Options {
        folder: Some(root.join("telemetry-data")),
        // The fixed times are in the past; nothing is old enough to go.
        retention: Duration::from_secs(100 * 365 * 86_400),
        ..Options::default()
    });
    let mut request = span(None, "POST /users", SpanKind::Request, Some("api:CreateUser"), 0, 40);
    request.status_code = Some(201);
    let call = span(
        Some(&request),
        "api:CreateUser",
        SpanKind::Handler,
        Some("api:CreateUser"),
        2,
        30,
    );
    let publish = span(Some(&call), "publish UserCreated", SpanKind::Publish, None, 28, 1);
    let mut first = span(
        Some(&publish),
        "UserCreated → sendWelcome",
        SpanKind::Delivery,
        Some("event:UserCreated:sendWelcome"),
        45,
        20,
    );
    first.attempt = Some(1);
    first.failed("SmtpError: connection refused");
    let first_call = span(
        Some(&first),
        "event:UserCreated:sendWelcome",
        SpanKind::Handler,
        Some("event:UserCreated:sendWelcome"),
        46,
        18,
    );
    let mut second = span(
        Some(&publish),
        "UserCreated → sendWelcome",
        SpanKind::Delivery,
        Some("event:UserCreated:sendWelcome"),
        120,
        30,
    );
    second.attempt = Some(2);
    let second_call = span(
        Some(&second),
        "event:UserCreated:sendWelcome",
        SpanKind::Handler,
        Some("event:UserCreated:sendWelcome"),
        121,
        28,
    );
    let logs = [
        log("api:CreateUser", None, 10, Level::Info, "creating user ada@example.com"),
        log("event:UserCreated:sendWelcome", None, 60, Level::Error, "smtp down"),
        log(
            "engine",
            Some(&first),
            65,
            Level::Warn,
            "retrying UserCreated → sendWelcome in 50ms",
        ),
        log(
            "event:UserCreated:sendWelcome",
            None,
            140,
            Level::Info,
            "welcome mail sent",
        ),
    ];
    for s in [second_call, second, first_call, first, publish, call, request] {
        t.span(s);
    }
    for l in logs {
        t.log(l);
    }
    let mut health = Span::new(
        "health-1",
        SpanId::random(),
        None,
        Arc::from("GET /health"),
        SpanKind::Request,
    );
    health.start_ns = T0 - 60_000 * MS;
    health.duration_ns = 300_000;
    health.status_code = Some(200);
    t.span(health);
    assert!(t.flush(Duration::from_secs(10)));
    t.close();
    (tmp, root)
}

/// `rohas -C root <args>` in UTC, not on a terminal, 100 columns: exit
/// code, stdout, stderr.
fn rohas(root: &Path, args: &[&str]) -> (i32, String, String) {
    support::rohas_in(root, args, &[("TZ", "UTC"), ("COLUMNS", "100")])
}

fn ok(root: &Path, args: &[&str]) -> String {
    let (code, stdout, stderr) = rohas(root, args);
    assert_eq!(code, 0, "rohas {args:?}: {stderr}");
    stdout
}

#[test]
fn traces_lists_newest_first_with_totals() {
    let (_tmp, root) = project_with_a_trace();
    let stdout = ok(&root, &["traces"]);
    insta::assert_snapshot!(stdout, @r"
    TIME                     TRACE                             ROOT         KIND     STATUS  DURATION  SPANS  ERRORS
    2026-06-01 10:00:00.000  4bf92f3577b34da6a3ce929d0e0e4736  POST /users  request  error   150.0ms   7      1
    2026-06-01 09:59:00.000  health-1                          GET /health  request  ok      300.0µs   1      0
    ");
}

#[test]
fn traces_filters_reach_the_store() {
    let (_tmp, root) = project_with_a_trace();
    let errors = ok(&root, &["traces", "--errors"]);
    assert!(errors.contains(TRACE) && !errors.contains("health-1"), "{errors}");
    let by_handler = ok(&root, &["traces", "--handler", "event:UserCreated:sendWelcome"]);
    assert!(
        by_handler.contains(TRACE) && !by_handler.contains("health-1"),
        "{by_handler}"
    );
    let bare = ok(&root, &["traces", "--handler", "sendWelcome"]);
    assert!(
        bare.contains(TRACE) && !bare.contains("health-1"),
        "a handler's own name finds it too: {bare}"
    );
    let slow = ok(&root, &["traces", "--slower-than", "10ms"]);
    assert!(slow.contains(TRACE) && !slow.contains("health-1"), "{slow}");
    let since = ok(&root, &["traces", "--since", "2026-06-01T09:59:30Z"]);
    assert!(since.contains(TRACE) && !since.contains("health-1"), "{since}");
    let limited = ok(&root, &["traces", "--limit", "1"]);
    assert_eq!(limited.lines().count(), 2, "a header and the newest: {limited}");
    assert_eq!(
        ok(&root, &["traces", "--kind", "cron"]),
        "no traces match these filters\n"
    );
    let recent = ok(&root, &["traces", "--since", "10m"]);
    assert_eq!(recent, "no traces match these filters\n", "everything here is older");

    let json: serde_json::Value = serde_json::from_str(&ok(&root, &["traces", "--json"])).unwrap();
    let items = json["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["trace_id"], TRACE);
    assert_eq!(items[0]["root"]["name"], "POST /users");
    assert_eq!(
        (items[0]["spans"].as_u64(), items[0]["errors"].as_u64()),
        (Some(7), Some(1))
    );
    assert!(json["next"].is_null());
}

#[test]
fn trace_draws_a_waterfall_with_attempts_and_logs() {
    let (_tmp, root) = project_with_a_trace();
    let stdout = ok(&root, &["trace", TRACE]);
    for line in stdout.lines() {
        assert!(line.chars().count() <= 100, "wider than 100 columns: {line:?}");
    }
    insta::assert_snapshot!(stdout, @r"
    trace 4bf92f3577b34da6a3ce929d0e0e4736  2026-06-01 10:00:00.000
    POST /users  150.0ms  7 spans, 1 error

    SPAN                                KIND      DURATION  STATUS            0                  150.0ms
    POST /users                         request     40.0ms  ok 201            |██████▍                 |
      api:CreateUser                    handler     30.0ms  ok                |█████▏                  |
        · +10.0ms  INFO   creating user ada@example.com
        publish UserCreated             publish      1.0ms  ok                |    ▋                   |
          UserCreated → sendWelcome     delivery    20.0ms  error, attempt 1  |       ███▍             |
            ! SmtpError: connection refused
            · +65.0ms  WARN   retrying UserCreated → sendWelcome in 50ms
            event:UserCreated:sendWel…  handler     18.0ms  ok                |       ███▎             |
              · +60.0ms  ERROR  smtp down
          UserCreated → sendWelcome     delivery    30.0ms  ok, attempt 2     |                   █████|
            event:UserCreated:sendWel…  handler     28.0ms  ok                |                   ████▉|
              · +140.0ms INFO   welcome mail sent
    ");
}

#[test]
fn trace_json_is_the_span_tree() {
    let (_tmp, root) = project_with_a_trace();
    let json: serde_json::Value = serde_json::from_str(&ok(&root, &["trace", TRACE, "--json"])).unwrap();
    let spans = json["spans"].as_array().unwrap();
    let order: Vec<(&str, u64)> = spans
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["depth"].as_u64().unwrap()))
        .collect();
    assert_eq!(order[0], ("POST /users", 0));
    assert_eq!(order[3], ("UserCreated → sendWelcome", 3));
    assert_eq!(spans[3]["attempt"], 1);
    assert_eq!(json["duration_ns"], 150 * MS);
}

#[test]
fn an_unknown_trace_names_the_id_and_the_way_to_find_one() {
    let (_tmp, root) = project_with_a_trace();
    let (code, stdout, stderr) = rohas(&root, &["trace", "0000feedbeef"]);
    assert_eq!(code, 1);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("no trace `0000feedbeef`"), "{stderr}");
    assert!(stderr.contains("`rohas traces`"), "{stderr}");
}

#[test]
fn logs_print_the_newest_lines_oldest_first() {
    let (_tmp, root) = project_with_a_trace();
    let warn = ok(&root, &["logs", "--level", "warn"]);
    insta::assert_snapshot!(warn, @r"
    2026-06-01 10:00:00.060  ERROR  event:UserCreated:sendWelcome  smtp down  trace=4bf92f3577b34da6a3ce929d0e0e4736
    2026-06-01 10:00:00.065  WARN   engine  retrying UserCreated → sendWelcome in 50ms  trace=4bf92f3577b34da6a3ce929d0e0e4736
    ");
    let all = ok(&root, &["logs"]);
    assert_eq!(all.lines().count(), 4, "{all}");
    assert!(all.lines().next().unwrap().contains("creating user"), "{all}");
    let last_two = ok(&root, &["logs", "--limit", "2"]);
    assert_eq!(last_two.lines().count(), 2, "{last_two}");
    assert!(
        last_two.lines().last().unwrap().contains("welcome mail sent"),
        "{last_two}"
    );
    let bare = ok(&root, &["logs", "--handler", "sendWelcome"]);
    assert_eq!(bare.lines().count(), 2, "a handler's bare name matches its id: {bare}");
    let grep = ok(&root, &["logs", "--grep", "SMTP"]);
    assert_eq!(grep.lines().count(), 1, "{grep}");
    let by_handler = ok(&root, &["logs", "--handler", "engine"]);
    assert!(
        by_handler.contains("retrying") && by_handler.lines().count() == 1,
        "{by_handler}"
    );
    assert_eq!(
        ok(&root, &["logs", "--trace", "health-1"]),
        "no log lines match these filters\n"
    );
    let json: serde_json::Value = serde_json::from_str(&ok(&root, &["logs", "--json", "--level", "error"])).unwrap();
    assert_eq!(json["items"][0]["message"], "smtp down");
}

#[test]
fn bad_flags_say_what_is_accepted() {
    let (_tmp, root) = project_with_a_trace();
    let (code, _, stderr) = rohas(&root, &["logs", "--level", "loud"]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("unknown level `loud`: use one of trace, debug, info, warn, error"),
        "{stderr}"
    );
    let (code, _, stderr) = rohas(&root, &["traces", "--kind", "job"]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("unknown kind `job`: use one of request, middleware, handler"),
        "{stderr}"
    );
    let (code, _, stderr) = rohas(&root, &["traces", "--slower-than", "100"]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("`100` needs a unit") && stderr.contains("e.g. 250ms"),
        "{stderr}"
    );
    let (code, _, stderr) = rohas(&root, &["logs", "--since", "yesterday"]);
    assert_ne!(code, 0);
    assert!(stderr.contains("e.g. 10m, 2h, 1d or 2026-12-05T10:00:00Z"), "{stderr}");
}

#[test]
fn no_telemetry_yet_says_when_it_will_be() {
    let (_tmp, root) = empty_project();
    for args in [&["traces"][..], &["trace", TRACE], &["logs"]] {
        let (code, _, stderr) = rohas(&root, args);
        assert_eq!(code, 1, "{args:?}");
        assert!(stderr.contains("no telemetry yet"), "{stderr}");
        assert!(stderr.contains("once `rohas dev` or `rohas start` runs"), "{stderr}");
        assert!(stderr.contains("telemetry-data/telemetry.db"), "{stderr}");
    }
}

#[test]
fn a_damaged_file_is_named() {
    let (_tmp, root) = empty_project();
    std::fs::create_dir_all(root.join("telemetry-data")).unwrap();
    std::fs::write(
        root.join("telemetry-data/telemetry.db"),
        b"not sqlite at all, a grocery list".repeat(200),
    )
    .unwrap();
    for args in [&["traces"][..], &["trace", TRACE], &["logs"]] {
        let (code, _, stderr) = rohas(&root, args);
        assert_eq!(code, 1, "{args:?}");
        assert!(stderr.contains("telemetry-data/telemetry.db is damaged"), "{stderr}");
        assert!(stderr.contains("moves a damaged file aside"), "{stderr}");
    }
}

#[test]
fn following_needs_a_running_engine() {
    let (_tmp, root) = project_with_a_trace();
    let (code, stdout, stderr) = rohas(&root, &["logs", "-f"]);
    assert_eq!(code, 1);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("start `rohas dev`"), "{stderr}");
}

/// A stand-in for a running engine: it holds the project's queue lock,
/// says where it serves in `engine.json` as `rohas dev` does, and answers
/// the telemetry API with canned JSON. It lets the engine side of the
/// commands (requests, the live stream, Ctrl-C) be tested on its own.
struct FakeEngine {
    _lock: rohas_engine::rohas_events::QueueLock,
    /// The request lines it was sent (`GET /telemetry/logs?… HTTP/1.1`).
    requests: Arc<std::sync::Mutex<Vec<String>>>,
}

impl FakeEngine {
    /// `stream`: the log entries the live stream sends, then it closes
    /// (or, with `hold`, stays open).
    fn start(root: &Path, stored: Vec<LogEntry>, stream: Vec<LogEntry>, hold: bool) -> FakeEngine {
        let dir = root.join(".rohas/queue");
        std::fs::create_dir_all(&dir).unwrap();
        let lock = rohas_engine::rohas_events::QueueLock::acquire(&dir).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        rohas_engine::rohas_events::QueueLock::announce(&dir, &url);
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let (seen, stored, stream) = (seen.clone(), stored.clone(), stream.clone());
                // A thread per connection: the live stream stays open
                // while the stored lines are asked for.
                std::thread::spawn(move || answer(conn, &seen, &stored, &stream, hold));
            }
        });
        FakeEngine { _lock: lock, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// One request: the live stream, a page of stored lines, or a 404 as the
/// telemetry API words it.
fn answer(
    mut conn: std::net::TcpStream,
    seen: &std::sync::Mutex<Vec<String>>,
    stored: &[LogEntry],
    stream: &[LogEntry],
    hold: bool,
) {
    use std::io::{BufRead, BufReader, Write};
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut head = String::new();
    reader.read_line(&mut head).unwrap();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
            break;
        }
    }
    seen.lock().unwrap().push(head.trim().to_string());
    let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
    if path.starts_with("/telemetry/logs/stream") {
        let _ = conn.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n: connected\n\n",
        );
        for entry in stream {
            let _ = write!(conn, "data: {}\n\n", serde_json::to_string(entry).unwrap());
        }
        let _ = conn.flush();
        if hold {
            std::thread::sleep(Duration::from_secs(60));
        }
    } else if path.starts_with("/telemetry/logs") {
        let _ = conn.write_all(json_answer("200 OK", serde_json::json!({ "items": stored, "next": null })).as_bytes());
    } else if path.starts_with("/telemetry/traces/") {
        let id = path.trim_start_matches("/telemetry/traces/");
        let error = serde_json::json!({ "error": format!("no trace {id} in the telemetry store") });
        let _ = conn.write_all(json_answer("404 Not Found", error).as_bytes());
    } else {
        let _ = conn.write_all(json_answer("404 Not Found", serde_json::json!({ "error": "no route" })).as_bytes());
    }
}

fn json_answer(status: &str, body: serde_json::Value) -> String {
    let body = body.to_string();
    let length = body.len();
    format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n{body}")
}

#[test]
fn logs_follow_prints_stored_then_live_lines_once_each() {
    let (_tmp, root) = empty_project();
    let stored = log("engine", None, 1, Level::Warn, "stored line");
    let live = log("api:CreateUser", None, 2, Level::Error, "live line");
    // The stream repeats the newest stored line (written while both were
    // read): it is printed once.
    let engine = FakeEngine::start(&root, vec![stored.clone()], vec![stored, live], false);
    let (code, stdout, stderr) = rohas(&root, &["logs", "-f", "--level", "warn", "--handler", "api:CreateUser"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].contains("WARN   engine  stored line"), "{stdout}");
    assert!(lines[1].contains("ERROR  api:CreateUser  live line"), "{stdout}");
    assert!(stderr.contains("the engine closed the log stream"), "{stderr}");
    let requests = engine.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("GET /telemetry/logs/stream?level=warn&handler=api:CreateUser ")),
        "{requests:?}"
    );
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("GET /telemetry/logs?level=warn&handler=api:CreateUser&limit=50 ")),
        "{requests:?}"
    );
}

#[test]
fn an_unknown_trace_through_the_engine_names_the_id() {
    let (_tmp, root) = empty_project();
    let _engine = FakeEngine::start(&root, vec![], vec![], false);
    let (code, _, stderr) = rohas(&root, &["trace", "cafe"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("no trace `cafe` in the running engine"), "{stderr}");
    assert!(stderr.contains("`rohas traces`"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_ends_logs_follow_quietly() {
    use std::io::{BufRead, BufReader};
    let (_tmp, root) = empty_project();
    let live = log("engine", None, 1, Level::Info, "still here");
    let _engine = FakeEngine::start(&root, vec![], vec![live], true);
    let mut child = Command::new(env!("CARGO_BIN_EXE_rohas"))
        .arg("-C")
        .arg(&root)
        .args(["logs", "-f"])
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("still here"), "{first}");
    let status = Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}
