//! OTLP export checked by a second, independent receiver: OpenTelemetry's
//! own Python packages (`opentelemetry-proto`'s generated types, and the
//! reference `grpcio` server for gRPC), run from `support/otlp_receiver.py`.
//!
//! The interpreter is `$ROHAS_OTLP_PYTHON` (set by
//! `scripts/install-checkers.sh`), else `python3`; when it lacks those
//! packages the tests skip, saying why.

use rohas_telemetry::{
    Level, LogEntry, Notice, OtlpExporter, OtlpOptions, OtlpProtocol, Sink, Span, SpanId, SpanKind, TraceParent,
};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn python() -> Option<String> {
    let python = std::env::var("ROHAS_OTLP_PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = Command::new(&python)
        .args([
            "-c",
            "import grpc, opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc",
        ])
        .stderr(Stdio::null())
        .status();
    match probe {
        Ok(s) if s.success() => Some(python),
        _ => {
            eprintln!(
                "skipped: `{python}` cannot import grpc and opentelemetry.proto \
                 (run scripts/install-checkers.sh and set ROHAS_OTLP_PYTHON)"
            );
            None
        }
    }
}

/// The receiver, listening; its stdout gives one JSON line per request.
struct PythonReceiver {
    child: Child,
    lines: BufReader<ChildStdout>,
    port: u16,
}

impl PythonReceiver {
    fn start(python: &str, protocol: OtlpProtocol) -> PythonReceiver {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/otlp_receiver.py");
        let which = if protocol == OtlpProtocol::Grpc { "grpc" } else { "http" };
        let mut child = Command::new(python)
            .args([script, which])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the receiver starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        lines.read_line(&mut first).unwrap();
        let port = first
            .trim()
            .strip_prefix("PORT ")
            .expect("PORT <n> first")
            .parse()
            .unwrap();
        PythonReceiver { child, lines, port }
    }

    /// Stops the receiver and returns every request it decoded.
    fn finish(mut self) -> Vec<Value> {
        drop(self.child.stdin.take());
        let mut got = Vec::new();
        for line in (&mut self.lines).lines() {
            let line = line.unwrap();
            if line == "END" {
                break;
            }
            got.push(serde_json::from_str(&line).unwrap());
        }
        let _ = self.child.wait();
        got
    }
}

impl Drop for PythonReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn span(trace: &str, parent: Option<SpanId>, name: &str, kind: SpanKind) -> Span {
    let mut s = Span::new(trace, SpanId::random(), parent, Arc::from(name), kind);
    s.start_ns = rohas_telemetry::now_ns();
    s.duration_ns = 2_000;
    s
}

fn exports_a_trace_and_its_logs_to_the_reference_receiver(protocol: OtlpProtocol) {
    let Some(python) = python() else { return };
    let receiver = PythonReceiver::start(&python, protocol);
    let said = Arc::new(Mutex::new(Vec::<String>::new()));
    let copy = said.clone();
    let notice: Notice = Arc::new(move |m: &str| copy.lock().unwrap().push(m.into()));
    let options = OtlpOptions {
        service_version: Some("2.0.0".into()),
        headers: vec![("x-tenant".into(), "acme".into())],
        timeout: Duration::from_secs(10),
        ..OtlpOptions::new(format!("http://127.0.0.1:{}", receiver.port), protocol, "shop")
    };
    let exporter = OtlpExporter::start(options, notice).unwrap();

    // A client's own trace id (not hex) is hashed, the same on both sides.
    let trace = "req-7f3a";
    let mut request = span(trace, None, "POST /orders", SpanKind::Request);
    request.status_code = Some(500);
    request.failed("handler raised KeyError");
    let mut publish = span(trace, Some(request.span_id), "publish OrderPlaced", SpanKind::Publish);
    publish.event = Some(Arc::from("OrderPlaced"));
    let parent = TraceParent::parse(&TraceParent::format(trace, publish.span_id, true)).unwrap();
    let mut delivery = span(
        &parent.trace_id,
        Some(parent.parent),
        "OrderPlaced → bill",
        SpanKind::Delivery,
    );
    delivery.remote_parent = true;
    delivery.attempt = Some(1);
    delivery.dead_lettered = true;
    delivery.attributes.insert(
        "order".into(),
        json!({"id": 7, "items": ["a", "b"], "paid": false, "total": 9.5}),
    );
    exporter.spans(&Arc::new(vec![request.clone(), publish.clone()]));
    exporter.spans(&Arc::new(vec![delivery.clone()]));
    exporter.logs(&Arc::new(vec![LogEntry {
        time_ns: rohas_telemetry::now_ns(),
        level: Level::Warn,
        source: Arc::from("event:OrderPlaced:bill"),
        trace_id: Some(parent.trace_id.clone()),
        span_id: Some(delivery.span_id),
        message: "card declined".into(),
        fields: [("retry".to_string(), json!(true))].into_iter().collect(),
        truncated: false,
    }]));
    exporter.close();
    let got = receiver.finish();

    let spans: Vec<&Value> = got
        .iter()
        .filter(|r| r["signal"] == "traces")
        .flat_map(|r| r["spans"].as_array().unwrap())
        .collect();
    let by_name = |name: &str| {
        *spans
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {got:#?}"))
    };
    assert_eq!(spans.len(), 3, "{got:#?}");
    let (request_out, publish_out, delivery_out) = (
        by_name("POST /orders"),
        by_name("publish OrderPlaced"),
        by_name("OrderPlaced → bill"),
    );
    let w3c = rohas_telemetry::w3c_trace_id(trace);
    assert!(
        spans.iter().all(|s| s["trace_id"] == w3c.as_str()),
        "one trace: {spans:#?}"
    );
    assert_eq!(request_out["parent_span_id"], "");
    assert_eq!(publish_out["parent_span_id"], request.span_id.to_string());
    assert_eq!(delivery_out["parent_span_id"], publish_out["span_id"]);
    // SERVER 2, PRODUCER 4, CONSUMER 5; STATUS_CODE_ERROR 2.
    assert_eq!(
        (&request_out["kind"], &publish_out["kind"], &delivery_out["kind"]),
        (&json!(2), &json!(4), &json!(5))
    );
    assert_eq!(
        (&request_out["status_code"], &request_out["status_message"]),
        (&json!(2), &json!("handler raised KeyError"))
    );
    assert_eq!(request_out["attributes"]["http.response.status_code"], 500);
    assert_eq!(delivery_out["attributes"]["rohas.dead_lettered"], true);
    assert_eq!(
        delivery_out["attributes"]["order"],
        json!({"id": 7, "items": ["a", "b"], "paid": false, "total": 9.5})
    );
    assert_eq!(request_out["resource"]["service.name"], "shop");
    assert_eq!(request_out["resource"]["service.version"], "2.0.0");
    assert_eq!(request_out["scope"], "rohas");

    let logs: Vec<&Value> = got
        .iter()
        .filter(|r| r["signal"] == "logs")
        .flat_map(|r| r["logs"].as_array().unwrap())
        .collect();
    assert_eq!(logs.len(), 1, "{got:#?}");
    let log = logs[0];
    assert_eq!(
        (&log["severity_number"], &log["severity_text"]),
        (&json!(13), &json!("WARN"))
    );
    assert_eq!(
        (&log["body"], &log["trace_id"], &log["span_id"]),
        (&json!("card declined"), &json!(w3c), &delivery_out["span_id"])
    );
    assert_eq!(
        log["attributes"],
        json!({"rohas.source": "event:OrderPlaced:bill", "retry": true})
    );

    assert!(got.iter().all(|r| r["headers"]["x-tenant"] == "acme"), "{got:#?}");
    assert!(said.lock().unwrap().is_empty(), "{:#?}", said.lock().unwrap());
}

#[test]
fn the_reference_grpc_server_receives_a_trace_and_its_logs() {
    exports_a_trace_and_its_logs_to_the_reference_receiver(OtlpProtocol::Grpc);
}

#[test]
fn the_reference_protobuf_types_read_an_http_export() {
    exports_a_trace_and_its_logs_to_the_reference_receiver(OtlpProtocol::Http);
}
