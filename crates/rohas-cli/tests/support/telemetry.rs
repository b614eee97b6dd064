//! What the telemetry tests share: polling until the background writer
//! has stored something, reading a trace's spans from the API, the
//! Prometheus text (our reading and `prometheus_client`'s), and an OTLP
//! receiver built on OpenTelemetry's own Python packages.

use super::{get, Server};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long anything written by the telemetry thread may take to show.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// Polls `probe` until it gives a value, failing after `deadline` with
/// `what` and the last thing seen.
pub fn wait_for<T>(what: &str, deadline: Duration, mut probe: impl FnMut() -> Result<T, String>) -> T {
    let until = Instant::now() + deadline;
    loop {
        match probe() {
            Ok(value) => return value,
            Err(last) if Instant::now() > until => panic!("{what}: not within {deadline:?}; last seen: {last}"),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// The value of a response header.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} header in {headers:?}"))
}

/// `00-<trace>-<span>-<flags>` → (trace, span).
pub fn traceparent_parts(tp: &str) -> (String, String) {
    let parts: Vec<&str> = tp.split('-').collect();
    assert_eq!(parts.len(), 4, "{tp}");
    assert_eq!(parts[0], "00", "{tp}");
    (parts[1].to_string(), parts[2].to_string())
}

/// `GET /telemetry/traces/{id}`: the tree, once stored.
pub fn trace(s: &Server, id: &str) -> Result<Value, String> {
    match get(&s.url(&format!("/telemetry/traces/{id}"))) {
        (200, tree) => Ok(tree),
        (status, body) => Err(format!("{status}: {body}")),
    }
}

pub fn spans(tree: &Value) -> &Vec<Value> {
    tree["spans"].as_array().expect("spans")
}

/// The spans of `tree` that match every `(key, value)` of `fields`.
pub fn find<'a>(tree: &'a Value, fields: &[(&str, Value)]) -> Vec<&'a Value> {
    spans(tree)
        .iter()
        .filter(|s| fields.iter().all(|(k, v)| &s[*k] == v))
        .collect()
}

/// The one span of `tree` matching `fields`.
pub fn one<'a>(tree: &'a Value, fields: &[(&str, Value)]) -> &'a Value {
    let found = find(tree, fields);
    assert_eq!(found.len(), 1, "one span with {fields:?} in {tree:#}");
    found[0]
}

pub fn messages(span: &Value) -> Vec<String> {
    span["logs"]
        .as_array()
        .map(|logs| {
            logs.iter()
                .filter_map(|l| l["message"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// `child` is a child of `parent`, one level deeper in the waterfall.
pub fn assert_child(child: &Value, parent: &Value) {
    assert_eq!(child["parent_id"], parent["span_id"], "{child:#} under {parent:#}");
    assert_eq!(n(&child["depth"]), n(&parent["depth"]) + 1, "{child:#}");
}

/// `child` ran while `parent` did (it is synchronous work of the parent).
pub fn assert_within(child: &Value, parent: &Value) {
    let (cs, cd) = (n(&child["start_ns"]), n(&child["duration_ns"]));
    let (ps, pd) = (n(&parent["start_ns"]), n(&parent["duration_ns"]));
    assert!(
        ps <= cs && cs + cd <= ps + pd,
        "{} ({cs}+{cd}) is not within {} ({ps}+{pd})",
        child["name"],
        parent["name"]
    );
}

/// Every span of the trace: its trace id, a duration > 0.
pub fn assert_all_spans(tree: &Value, trace_id: &str) {
    for s in spans(tree) {
        assert_eq!(s["trace_id"], trace_id, "{s:#}");
        assert!(n(&s["duration_ns"]) > 0, "{s:#}");
        assert!(n(&s["start_ns"]) > 0, "{s:#}");
    }
}

pub fn lobby(s: &Server) -> super::scenarios::Socket {
    let ws = s.base.replace("http://", "ws://");
    let (client, _) = tungstenite::connect(format!("{ws}/ws/lobby")).expect("the lobby connects");
    if let tungstenite::stream::MaybeTlsStream::Plain(tcp) = client.get_ref() {
        tcp.set_read_timeout(Some(DEADLINE)).unwrap();
    }
    client
}

/// A sample expected in `/metrics`: its name, some of its labels, its value.
pub type Expected = (&'static str, &'static [(&'static str, &'static str)], f64);

/// The value of the first sample `name{…}` whose labels include `labels`.
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (series_name, rest) = series.split_once('{').unwrap_or((series, "}"));
        if series_name != name {
            return None;
        }
        let rest = rest.strip_suffix('}')?;
        let has = |(k, v): &(&str, &str)| rest.split(',').any(|pair| pair == format!("{k}=\"{v}\""));
        labels.iter().all(has).then(|| value.parse().ok())?
    })
}

/// Families parsed by `prometheus_client`'s `text_string_to_metric_families`
/// (`$ROHAS_PROMETHEUS_PYTHON`, from scripts/install-checkers.sh): `None`,
/// saying why, when that Python lacks it.
pub fn prometheus_parse(text: &str) -> Option<Vec<Value>> {
    let python = std::env::var("ROHAS_PROMETHEUS_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type, "samples": [
        {"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]})
print(json.dumps(out))
"#;
    let probe = Command::new(&python)
        .args(["-c", "import prometheus_client.parser"])
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!(
            "skipped the Prometheus parser check: `{python}` cannot import prometheus_client \
             (run scripts/install-checkers.sh and set ROHAS_PROMETHEUS_PYTHON)"
        );
        return None;
    }
    let mut child = Command::new(&python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "prometheus_client refused /metrics: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

pub fn otlp_python() -> Option<String> {
    let python = std::env::var("ROHAS_OTLP_PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = Command::new(&python)
        .args([
            "-c",
            "import grpc, opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc",
        ])
        .stderr(Stdio::null())
        .status();
    if probe.is_ok_and(|s| s.success()) {
        Some(python)
    } else {
        eprintln!(
            "skipped: `{python}` cannot import grpc and opentelemetry.proto \
             (run scripts/install-checkers.sh and set ROHAS_OTLP_PYTHON)"
        );
        None
    }
}

/// `rohas-telemetry/tests/support/otlp_receiver.py`, its decoded requests
/// collected as they come.
pub struct Receiver {
    child: Child,
    pub port: u16,
    got: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    pub fn start(python: &str, protocol: &str) -> Receiver {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../rohas-telemetry/tests/support/otlp_receiver.py"
        );
        let mut child = Command::new(python)
            .args([script, protocol])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the receiver starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("PORT <n>").unwrap();
        let port = first.strip_prefix("PORT ").expect("PORT <n> first").parse().unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let sink = got.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    sink.lock().unwrap().push(v);
                }
            }
        });
        Receiver { child, port, got }
    }

    fn records(&self, signal: &str, key: &str, trace_id: &str) -> Vec<Value> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r["signal"] == signal)
            .flat_map(|r| r[key].as_array().cloned().unwrap_or_default())
            .filter(|x| x["trace_id"] == trace_id)
            .collect()
    }

    pub fn spans(&self, trace_id: &str) -> Vec<Value> {
        self.records("traces", "spans", trace_id)
    }

    pub fn logs(&self, trace_id: &str) -> Vec<Value> {
        self.records("logs", "logs", trace_id)
    }

    pub fn stop(mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
