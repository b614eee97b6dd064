//! Secrets never leave the process in clear: a project configured with a
//! workbench key, OTLP headers (in the file and in the environment) and a
//! broker URL with a password is served, asked with wrong keys, made to
//! fail its exports, and stopped; then its output, its answers, its
//! telemetry and every file it wrote are searched for the secrets.

mod support;

use std::path::Path;
use support::{request, Server};

/// Each secret is a distinct word, so a find names the one that leaked.
const SECRETS: [&str; 5] = [
    "sk-workbench-7f3a9c",
    "otlp-file-b41e77",
    "otlp-env-c93d05",
    "broker-pw-5e81aa",
    "caller-token-2d6f40",
];

fn leaks(text: &str) -> Vec<&'static str> {
    SECRETS.iter().copied().filter(|s| text.contains(s)).collect()
}

/// Every file under `dir`, read as bytes: the telemetry store and the
/// queue are SQLite files, searched whole.
fn leaks_in_files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().map_while(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                let text = String::from_utf8_lossy(&bytes);
                found.extend(leaks(&text).into_iter().map(|s| format!("{s} in {}", path.display())));
            }
        }
    }
    found
}

#[test]
fn no_secret_appears_in_logs_answers_telemetry_or_files() {
    let (_tmp, root) = support::project("telemetry-python");
    let config = root.join("config/rohas.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[workbench]\napi_key = \"{}\"\n\n\
         [adapter]\nurl = \"amqp://guest:{}@127.0.0.1:5672/%2f\"\n\n\
         [telemetry]\n# Nothing listens there: every export fails and says so.\n\
         otlp_endpoint = \"http://127.0.0.1:9\"\n\n\
         [telemetry.otlp_headers]\nauthorization = \"Bearer {}\"\n",
        SECRETS[0], SECRETS[3], SECRETS[1]
    ));
    std::fs::write(&config, text).unwrap();
    let env_headers = format!("x-api-key={}", SECRETS[2]);
    let mut s = Server::start_with_env(
        &root,
        "dev",
        &[],
        &[
            ("ROHAS_TELEMETRY_OTLP_HEADERS", env_headers.as_str()),
            ("ROHAS_LOG_LEVEL", "trace"),
        ],
    );

    let mut answers = String::new();
    let caller = format!("Bearer {}", SECRETS[4]);
    // The application, with a caller's own token in its headers.
    let (status, body, _) = request("GET", &s.url("/ping"), None, &[("authorization", caller.as_str())]);
    assert_eq!(status, 200, "{body}");
    answers.push_str(&body.to_string());
    // The admin and telemetry APIs, asked by a name other than loopback's
    // (as a rebinding page would), with wrong keys and the caller's token.
    for path in [
        "/_rohas/queues",
        "/_rohas/dead-letters",
        "/telemetry/traces",
        "/telemetry/logs",
        "/metrics",
    ] {
        for auth in [None, Some("Bearer wrong"), Some(caller.as_str())] {
            let mut headers = vec![("host", "rebound.example")];
            headers.extend(auth.map(|a| ("authorization", a)));
            let (status, body, _) = request("GET", &s.url(path), None, &headers);
            assert_eq!(status, 401, "{path} with {auth:?}: {body}");
            answers.push_str(&body.to_string());
        }
        let (status, body, _) = request("GET", &s.url(path), None, &[]);
        assert_eq!(status, 200, "{path} from loopback: {body}");
        answers.push_str(&body.to_string());
    }
    // A failed handler and an event, so errors and deliveries are stored.
    let (status, body, _) = request("POST", &s.url("/signup"), Some(r#"{"name":"ada"}"#), &[]);
    assert!(status < 500, "{body}");
    answers.push_str(&body.to_string());
    let (_, body, _) = request("GET", &s.url("/boom"), None, &[("authorization", caller.as_str())]);
    answers.push_str(&body.to_string());
    // The exporter has tried (and failed) to send.
    s.wait_for_log("127.0.0.1:9");
    assert_eq!(s.terminate().code(), Some(0), "{}", s.log());

    assert_eq!(leaks(&answers), Vec::<&str>::new(), "in the answers: {answers}");
    let log = s.log();
    assert_eq!(leaks(&log), Vec::<&str>::new(), "in the output:\n{log}");
    assert_eq!(leaks_in_files(&root.join(".rohas")), Vec::<String>::new());
    for args in [&["traces", "--json"][..], &["logs", "--json"]] {
        let (code, out, err) = support::rohas_in(&root, args, &[]);
        assert_eq!(code, 0, "rohas {args:?}: {err}");
        assert!(out.len() > 2, "rohas {args:?} found something: {out}");
        assert_eq!(leaks(&(out + &err)), Vec::<&str>::new(), "rohas {args:?}");
    }
}

#[test]
fn an_otlp_endpoint_with_a_password_is_refused_without_repeating_it() {
    let (_tmp, root) = support::project("telemetry-python");
    let endpoint = format!("http://collector:{}@127.0.0.1:4318", SECRETS[1]);
    let said = support::start_error(
        &root,
        &["dev", "--port", "0"],
        &[("ROHAS_TELEMETRY_OTLP_ENDPOINT", endpoint.as_ref())],
    );
    assert!(
        said.contains("otlp_endpoint") && said.contains("otlp_headers"),
        "{said}"
    );
    assert!(said.contains("***@127.0.0.1:4318"), "{said}");
    assert_eq!(leaks(&said), Vec::<&str>::new(), "{said}");
}
