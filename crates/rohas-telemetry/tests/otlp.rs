//! OTLP export over real sockets: a receiver started in the test
//! (`support/receiver.rs`, HTTP/1.1 or HTTP/2) decodes what arrives with
//! the official OpenTelemetry types.

#[path = "support/receiver.rs"]
mod receiver;

use opentelemetry_proto::tonic::common::v1::{any_value::Value, KeyValue};
use opentelemetry_proto::tonic::logs::v1::SeverityNumber;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind as OtlpKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use receiver::{Answer, Receiver};
use rohas_telemetry::otlp::OtlpStats;
use rohas_telemetry::{
    Level, LogEntry, Notice, Options, OtlpExporter, OtlpOptions, OtlpProtocol, Sink, Span, SpanId, SpanKind, Telemetry,
    TraceParent,
};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn notices() -> (Notice, Arc<Mutex<Vec<String>>>) {
    let said = Arc::new(Mutex::new(Vec::new()));
    let copy = said.clone();
    (Arc::new(move |m: &str| copy.lock().unwrap().push(m.to_string())), said)
}

fn options(endpoint: String, protocol: OtlpProtocol, service: &str) -> OtlpOptions {
    OtlpOptions {
        service_version: Some("1.2.3".into()),
        headers: vec![("Authorization".into(), "Bearer t0ken".into())],
        timeout: Duration::from_secs(5),
        ..OtlpOptions::new(endpoint, protocol, service)
    }
}

/// An engine that records nothing locally and exports everything.
fn engine(
    receiver: &Receiver,
    protocol: OtlpProtocol,
    service: &str,
) -> (Telemetry, OtlpStats, Arc<Mutex<Vec<String>>>) {
    let (notice, said) = notices();
    let exporter = OtlpExporter::start(options(receiver.endpoint(), protocol, service), notice.clone()).unwrap();
    let stats = exporter.stats();
    let telemetry = Telemetry::start(Options {
        sinks: vec![Box::new(exporter)],
        notice,
        ..Options::default()
    });
    (telemetry, stats, said)
}

fn span(trace: &str, parent: Option<SpanId>, name: &str, kind: SpanKind) -> Span {
    let mut s = Span::new(trace, SpanId::random(), parent, Arc::from(name), kind);
    s.start_ns = rohas_telemetry::now_ns();
    s.duration_ns = 1_000_000;
    s
}

fn log(level: Level, source: &str, trace: Option<&Span>, message: &str) -> LogEntry {
    LogEntry {
        time_ns: rohas_telemetry::now_ns(),
        level,
        source: Arc::from(source),
        trace_id: trace.map(|s| s.trace_id.to_string()),
        span_id: trace.map(|s| s.span_id),
        message: message.into(),
        fields: Default::default(),
        truncated: false,
    }
}

fn attr<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attributes.iter().find(|a| a.key == key)?.value.as_ref()?.value.as_ref()
}

fn text(s: &str) -> Value {
    Value::StringValue(s.into())
}

/// A request publishes an event in one engine; another engine delivers
/// it (the `traceparent` travels with the message). Both export; the
/// receiver sees one trace.
fn a_trace_across_an_event_hop_arrives_whole(protocol: OtlpProtocol) {
    let receiver = Receiver::start(protocol);
    let (api, api_stats, api_said) = engine(&receiver, protocol, "shop");
    let (worker, worker_stats, worker_said) = engine(&receiver, protocol, "mailer");

    let trace = rohas_telemetry::new_trace_id();
    let mut request = span(&trace, None, "POST /users", SpanKind::Request);
    request.status_code = Some(201);
    request.handler = Some(Arc::from("api:CreateUser"));
    request.attributes.insert("http.request.method".into(), json!("POST"));
    let call = span(&trace, Some(request.span_id), "api:CreateUser", SpanKind::Handler);
    let mut publish = span(&trace, Some(request.span_id), "publish UserCreated", SpanKind::Publish);
    publish.event = Some(Arc::from("UserCreated"));
    publish.message_id = Some("m-1".into());
    api.log(log(Level::Info, "api:CreateUser", Some(&call), "creating user"));
    for s in [call.clone(), publish.clone(), request.clone()] {
        api.span(s);
    }

    // The hop: only the header crosses.
    let header = TraceParent::format(&trace, publish.span_id, true);
    let parent = TraceParent::parse(&header).unwrap();
    let mut delivery = span(
        &parent.trace_id,
        Some(parent.parent),
        "UserCreated → welcome",
        SpanKind::Delivery,
    );
    delivery.remote_parent = true;
    delivery.event = Some(Arc::from("UserCreated"));
    delivery.message_id = Some("m-1".into());
    delivery.attempt = Some(2);
    delivery.handler = Some(Arc::from("event:UserCreated:welcome"));
    delivery.failed("smtp down");
    let mut failure = log(Level::Error, "event:UserCreated:welcome", Some(&delivery), "smtp down");
    failure.fields.insert("to".into(), json!("ada@example.com"));
    worker.log(failure);
    worker.span(delivery.clone());

    // Closing the recorder closes its sinks, which send what is left.
    api.close();
    worker.close();

    let spans = receiver.spans();
    let find = |name: &str| {
        spans
            .iter()
            .find(|(_, s)| s.name == name)
            .unwrap_or_else(|| panic!("{name} exported: {spans:#?}"))
    };
    let (shop, request_out) = find("POST /users");
    let (_, call_out) = find("api:CreateUser");
    let (_, publish_out) = find("publish UserCreated");
    let (mailer, delivery_out) = find("UserCreated → welcome");
    assert_eq!(spans.len(), 4);

    let trace_bytes = rohas_telemetry::trace_id_bytes(&trace).to_vec();
    assert!(spans.iter().all(|(_, s)| s.trace_id == trace_bytes), "one trace");
    assert!(request_out.parent_span_id.is_empty());
    assert_eq!(call_out.parent_span_id, request.span_id.to_bytes());
    assert_eq!(publish_out.parent_span_id, request.span_id.to_bytes());
    assert_eq!(
        delivery_out.parent_span_id, publish_out.span_id,
        "the delivery hangs under its publish"
    );
    assert_eq!(delivery_out.flags & 0x300, 0x300, "its parent is marked remote");

    let kinds: Vec<i32> = [request_out, call_out, publish_out, delivery_out]
        .iter()
        .map(|s| s.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            OtlpKind::Server,
            OtlpKind::Internal,
            OtlpKind::Producer,
            OtlpKind::Consumer
        ]
        .map(|k| k as i32)
    );
    let status = delivery_out.status.clone().unwrap();
    assert_eq!(
        (status.code, status.message.as_str()),
        (StatusCode::Error as i32, "smtp down")
    );
    assert_eq!(
        request_out.status.clone().unwrap_or_default().code,
        StatusCode::Unset as i32
    );
    assert_eq!(
        request_out.end_time_unix_nano - request_out.start_time_unix_nano,
        1_000_000
    );

    assert_eq!(
        attr(&request_out.attributes, "http.response.status_code"),
        Some(&Value::IntValue(201))
    );
    assert_eq!(
        attr(&request_out.attributes, "rohas.handler"),
        Some(&text("api:CreateUser"))
    );
    assert_eq!(
        attr(&request_out.attributes, "http.request.method"),
        Some(&text("POST"))
    );
    assert_eq!(attr(&request_out.attributes, "rohas.span.kind"), Some(&text("request")));
    assert_eq!(
        attr(&publish_out.attributes, "messaging.destination.name"),
        Some(&text("UserCreated"))
    );
    assert_eq!(
        attr(&publish_out.attributes, "messaging.operation.type"),
        Some(&text("send"))
    );
    assert_eq!(
        attr(&delivery_out.attributes, "messaging.message.id"),
        Some(&text("m-1"))
    );
    assert_eq!(
        attr(&delivery_out.attributes, "rohas.delivery.attempt"),
        Some(&Value::IntValue(2))
    );

    assert_eq!(attr(&shop.attributes, "service.name"), Some(&text("shop")));
    assert_eq!(attr(&mailer.attributes, "service.name"), Some(&text("mailer")));
    assert_eq!(attr(&shop.attributes, "service.version"), Some(&text("1.2.3")));
    assert_eq!(attr(&shop.attributes, "telemetry.sdk.name"), Some(&text("rohas")));
    assert_eq!(attr(&shop.attributes, "telemetry.sdk.language"), Some(&text("rust")));

    let logs = receiver.logs();
    assert_eq!(logs.len(), 2);
    let (_, info) = logs
        .iter()
        .find(|(_, l)| l.severity_number == SeverityNumber::Info as i32)
        .unwrap();
    assert_eq!(
        info.body.as_ref().and_then(|b| b.value.clone()),
        Some(text("creating user"))
    );
    assert_eq!(
        (info.trace_id.clone(), info.span_id.clone()),
        (trace_bytes.clone(), call.span_id.to_bytes().to_vec())
    );
    assert_eq!(attr(&info.attributes, "rohas.source"), Some(&text("api:CreateUser")));
    let (resource, error) = logs
        .iter()
        .find(|(_, l)| l.severity_number == SeverityNumber::Error as i32)
        .unwrap();
    assert_eq!(error.severity_text, "ERROR");
    assert_eq!(
        (error.trace_id.clone(), error.span_id.clone()),
        (trace_bytes, delivery_out.span_id.clone())
    );
    assert_eq!(attr(&error.attributes, "to"), Some(&text("ada@example.com")));
    assert_eq!(attr(&resource.attributes, "service.name"), Some(&text("mailer")));

    let requests = receiver.requests();
    for got in &requests {
        assert_eq!(got.headers["authorization"], "Bearer t0ken", "{}", got.path);
        match protocol {
            OtlpProtocol::Http => {
                assert_eq!(got.headers["content-type"], "application/x-protobuf");
                assert!(["/v1/traces", "/v1/logs"].contains(&got.path.as_str()), "{}", got.path);
            }
            OtlpProtocol::Grpc => {
                assert_eq!(got.headers["content-type"], "application/grpc");
                assert_eq!(got.headers["te"], "trailers");
                assert!(
                    [
                        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                        "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
                    ]
                    .contains(&got.path.as_str()),
                    "{}",
                    got.path
                );
            }
        }
    }
    let (a, w) = (api_stats.counts(), worker_stats.counts());
    assert_eq!(
        (a.exported_spans, a.exported_logs, a.dropped_spans, a.failed_requests),
        (3, 1, 0, 0)
    );
    assert_eq!((w.exported_spans, w.exported_logs, w.dropped_logs), (1, 1, 0));
    assert!(api_said.lock().unwrap().is_empty() && worker_said.lock().unwrap().is_empty());
}

#[test]
fn a_trace_across_an_event_hop_arrives_whole_over_http() {
    a_trace_across_an_event_hop_arrives_whole(OtlpProtocol::Http);
}

#[test]
fn a_trace_across_an_event_hop_arrives_whole_over_grpc() {
    a_trace_across_an_event_hop_arrives_whole(OtlpProtocol::Grpc);
}

#[test]
fn an_unreachable_receiver_is_said_once_and_never_holds_up_recording() {
    // A port nobody listens on: connections are refused at once.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (notice, said) = notices();
    let exporter = OtlpExporter::start(
        options(format!("http://127.0.0.1:{port}"), OtlpProtocol::Http, "shop"),
        notice,
    )
    .unwrap();
    let stats = exporter.stats();
    let trace = rohas_telemetry::new_trace_id();
    // Far more batches than the queue holds: each call only queues or drops.
    for i in 0..1000 {
        exporter.spans(&Arc::new(vec![span(
            &trace,
            None,
            &format!("GET /{i}"),
            SpanKind::Request,
        )]));
    }
    exporter.logs(&Arc::new(vec![log(Level::Info, "engine", None, "hello")]));
    exporter.close();

    let counts = stats.counts();
    assert_eq!((counts.exported_spans, counts.dropped_spans), (0, 1000), "{counts:?}");
    assert_eq!(counts.dropped_logs, 1);
    assert!(counts.failed_requests >= 4, "retried: {counts:?}");
    let said = said.lock().unwrap().clone();
    let unreachable: Vec<&String> = said.iter().filter(|m| m.contains("cannot reach")).collect();
    assert_eq!(unreachable.len(), 1, "said once: {said:#?}");
    assert!(
        unreachable[0].contains(&format!("http://127.0.0.1:{port}")),
        "{}",
        unreachable[0]
    );
    assert!(unreachable[0].to_lowercase().contains("refused"), "{}", unreachable[0]);
    assert!(said.len() <= 2, "at most one more, that the queue was full: {said:#?}");
}

fn one_span_against(protocol: OtlpProtocol, answers: Vec<Answer>) -> (Receiver, OtlpStats, Vec<String>) {
    let receiver = Receiver::start(protocol);
    receiver.answer_next(answers);
    let (notice, said) = notices();
    let exporter = OtlpExporter::start(options(receiver.endpoint(), protocol, "shop"), notice).unwrap();
    let stats = exporter.stats();
    exporter.spans(&Arc::new(vec![span(
        &rohas_telemetry::new_trace_id(),
        None,
        "GET /",
        SpanKind::Request,
    )]));
    exporter.close();
    let said = said.lock().unwrap().clone();
    (receiver, stats, said)
}

#[test]
fn a_refused_batch_is_not_sent_again() {
    for (protocol, answer, reason) in [
        (
            OtlpProtocol::Http,
            Answer::Http(400, "bad span"),
            "400 Bad Request: bad span",
        ),
        (
            OtlpProtocol::Http,
            Answer::Http(500, "oops"),
            "500 Internal Server Error: oops",
        ),
        (
            OtlpProtocol::Grpc,
            Answer::Grpc(3, "bad span"),
            "gRPC status 3 (INVALID_ARGUMENT): bad span",
        ),
        (
            OtlpProtocol::Grpc,
            Answer::Grpc(16, "who are you"),
            "gRPC status 16 (UNAUTHENTICATED): who are you",
        ),
    ] {
        let (receiver, stats, said) = one_span_against(protocol, vec![answer]);
        assert_eq!(receiver.requests().len(), 1, "{reason}: sent once");
        let counts = stats.counts();
        assert_eq!(
            (counts.exported_spans, counts.dropped_spans, counts.failed_requests),
            (0, 1, 1),
            "{reason}"
        );
        assert_eq!(said.len(), 1, "{said:#?}");
        assert!(
            said[0].contains("refused a batch of spans") && said[0].contains(reason),
            "{}",
            said[0]
        );
    }
}

#[test]
fn spans_a_receiver_kept_only_in_part_are_counted_as_dropped() {
    for protocol in [OtlpProtocol::Http, OtlpProtocol::Grpc] {
        let receiver = Receiver::start(protocol);
        receiver.answer_next([Answer::Partial(2, "spans too old")]);
        let (notice, said) = notices();
        let exporter = OtlpExporter::start(options(receiver.endpoint(), protocol, "shop"), notice).unwrap();
        let stats = exporter.stats();
        let trace = rohas_telemetry::new_trace_id();
        let spans = (0..5)
            .map(|i| span(&trace, None, &format!("GET /{i}"), SpanKind::Request))
            .collect();
        exporter.spans(&Arc::new(spans));
        exporter.close();
        let counts = stats.counts();
        assert_eq!(
            (counts.exported_spans, counts.dropped_spans, counts.failed_requests),
            (3, 2, 0),
            "{protocol:?}"
        );
        let said = said.lock().unwrap().clone();
        assert_eq!(said.len(), 1, "{said:#?}");
        assert!(
            said[0].contains("kept only part of a batch of spans (2 rejected: spans too old)"),
            "{}",
            said[0]
        );
    }
}

#[test]
fn a_busy_receiver_is_tried_again_and_its_return_is_said() {
    for (protocol, answers) in [
        (
            OtlpProtocol::Http,
            vec![Answer::Http(503, "restarting"), Answer::Http(429, "slow down")],
        ),
        (
            OtlpProtocol::Grpc,
            vec![Answer::Grpc(14, "restarting"), Answer::Grpc(8, "slow down")],
        ),
    ] {
        let (receiver, stats, said) = one_span_against(protocol, answers);
        assert_eq!(receiver.requests().len(), 3, "{protocol:?}: two retries");
        assert_eq!(receiver.spans().len(), 3, "the same span each time");
        let counts = stats.counts();
        assert_eq!(
            (counts.exported_spans, counts.dropped_spans, counts.failed_requests),
            (1, 0, 2),
            "{protocol:?}"
        );
        assert_eq!(said.len(), 2, "{said:#?}");
        assert!(
            said[0].contains("does not take data now") && said[0].contains("restarting"),
            "{}",
            said[0]
        );
        assert!(said[1].contains("answers again"), "{}", said[1]);
    }
}

#[test]
fn a_receiver_that_restarts_is_found_again_without_a_word() {
    for protocol in [OtlpProtocol::Http, OtlpProtocol::Grpc] {
        let first = Receiver::start(protocol);
        let (notice, said) = notices();
        let exporter = OtlpExporter::start(options(first.endpoint(), protocol, "shop"), notice).unwrap();
        let stats = exporter.stats();
        let trace = rohas_telemetry::new_trace_id();
        exporter.spans(&Arc::new(vec![span(&trace, None, "GET /a", SpanKind::Request)]));
        wait_until(|| stats.counts().exported_spans == 1);
        // The restart closes the kept-alive connection under the exporter.
        let addr = first.addr;
        drop(first);
        let second = Receiver::start_at(protocol, addr);
        exporter.spans(&Arc::new(vec![span(&trace, None, "GET /b", SpanKind::Request)]));
        exporter.close();
        let names: Vec<String> = second.spans().into_iter().map(|(_, s)| s.name).collect();
        assert_eq!(names, ["GET /b"], "{protocol:?}");
        assert_eq!(stats.counts().exported_spans, 2);
        assert!(
            said.lock().unwrap().is_empty(),
            "{protocol:?}: {:#?}",
            said.lock().unwrap()
        );
    }
}

#[test]
fn what_waits_for_a_receiver_that_never_answers_is_bounded() {
    // Connections are taken (by the kernel) but never answered.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (notice, said) = notices();
    let mut o = options(
        format!("http://{}", silent.local_addr().unwrap()),
        OtlpProtocol::Http,
        "shop",
    );
    o.timeout = Duration::from_secs(3600);
    let exporter = OtlpExporter::start(o, notice).unwrap();
    let stats = exporter.stats();
    // Five of the recorder's largest batches: the first is stuck in
    // flight, three wait, and the fifth is over what the exporter holds.
    let trace = rohas_telemetry::new_trace_id();
    for _ in 0..5 {
        let batch: Vec<Span> = (0..8000)
            .map(|_| span(&trace, None, "GET /", SpanKind::Request))
            .collect();
        exporter.spans(&Arc::new(batch));
    }
    assert_eq!(stats.counts().dropped_spans, 8000, "the fifth batch, at once");
    exporter.close();
    // Counted before close returned: the thread ended at the deadline,
    // the request in flight abandoned.
    assert_eq!(stats.counts().dropped_spans, 40_000);
    let said = said.lock().unwrap().clone();
    assert_eq!(said.len(), 1, "{said:#?}");
    assert!(said[0].contains("cannot keep up"), "{}", said[0]);
}

#[test]
fn a_batch_too_large_for_one_request_is_split() {
    let receiver = Receiver::start(OtlpProtocol::Http);
    let (notice, said) = notices();
    let exporter = OtlpExporter::start(options(receiver.endpoint(), OtlpProtocol::Http, "shop"), notice).unwrap();
    let stats = exporter.stats();
    let trace = rohas_telemetry::new_trace_id();
    // 512 spans of about 8 KiB: over the 3 MiB a request may carry.
    let big = "x".repeat(rohas_telemetry::MAX_VALUE);
    let spans: Vec<Span> = (0..512)
        .map(|i| {
            let mut s = span(&trace, None, &format!("GET /{i}"), SpanKind::Request);
            for k in ["a", "b", "c", "d"] {
                s.attributes.insert(k.into(), json!(big));
            }
            s
        })
        .collect();
    exporter.spans(&Arc::new(spans));
    exporter.close();
    let requests = receiver.requests();
    assert_eq!(requests.len(), 2, "two halves");
    assert!(requests.iter().all(|r| r.body.len() < 3 * 1024 * 1024));
    assert_eq!(receiver.spans().len(), 512);
    assert_eq!(stats.counts().exported_spans, 512);
    assert!(said.lock().unwrap().is_empty());
}

/// Waits (up to 10 s) for something the exporter's thread does.
fn wait_until(done: impl Fn() -> bool) {
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(std::time::Instant::now() < until, "not done within 10 s");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn bad_settings_are_refused_at_start() {
    let (notice, _) = notices();
    let start = |endpoint: &str, headers: Vec<(String, rohas_telemetry::otlp::Secret)>| {
        let mut o = options(endpoint.into(), OtlpProtocol::Http, "shop");
        o.headers = headers;
        OtlpExporter::start(o, notice.clone())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    assert!(start("https://otlp.example.com", vec![]).contains("no TLS library"));
    assert!(start("localhost:4318", vec![]).contains("http://"));
    assert!(
        start("http://localhost:4318", vec![("x-key".into(), "a\u{7f}b".into())]).contains("otlp_headers: `x-key`")
    );
}
