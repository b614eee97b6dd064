//! Telemetry through the real binary on real projects, checked against
//! docs/telemetry.md: a request, the event it publishes, the event that
//! event's handler triggers and the WebSocket broadcast at the end are one
//! trace with the documented parent links, attempts, durations and logs
//! (Python and TypeScript); a failed delivery and its retry are two
//! `delivery` spans; `/metrics` counts what happened and parses with
//! Prometheus's own Python parser; OTLP reaches a receiver built on
//! OpenTelemetry's own protobuf types; a damaged store never stops the
//! engine; `traceparent` is honoured and a malformed one ignored; huge
//! and flooding logs; the telemetry API off loopback.
//!
//! The fixtures (`fixtures/telemetry-python`, `fixtures/telemetry-typescript`)
//! chain `POST /signup` → `UserSignedUp` → `welcome` (triggers
//! `WelcomeSent`) → `announce` (broadcasts to `/ws/lobby`); a name starting
//! with `flaky` fails `announce`'s first attempt.
//!
//! Telemetry is written by a background thread in batches and metrics are
//! added up there too: every check polls until what it expects is there,
//! with generous deadlines, and no check is on timing beyond "> 0" and
//! ordering.

mod support;

use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;
use support::telemetry::*;
use support::{get, request, Server};

/// The whole chain, in one project's language: one trace from the request
/// to the broadcast, a failed delivery and its retry in another, then the
/// metrics that counted them, read with Prometheus's parser too.
fn a_request_its_events_and_the_broadcast_are_one_trace(fixture: &str) {
    let s = Server::start(fixture, &[]);
    let mut client = lobby(&s);

    // request → handler; request → publish → delivery → handler, publish → delivery → handler.
    let (status, body, headers) = request("POST", &s.url("/signup"), Some(r#"{"name":"ada"}"#), &[]);
    assert_eq!(status, 200, "{body}");
    let trace_id = header(&headers, "x-trace-id").to_string();
    let (tp_trace, tp_span) = traceparent_parts(header(&headers, "traceparent"));
    assert_eq!(tp_trace, trace_id);
    assert_eq!(
        support::scenarios::read_json(&mut client),
        json!({"user": "rohas", "text": "welcome ada"})
    );
    let tree = wait_for("the chain's trace with every handler's log", DEADLINE, || {
        let tree = trace(&s, &trace_id)?;
        let logged = |handler: &str, line: &str| {
            find(&tree, &[("kind", json!("handler")), ("handler", json!(handler))])
                .iter()
                .any(|h| messages(h).iter().any(|m| m == line))
        };
        // A delivery's span ends after its handler's (once acknowledged).
        if spans(&tree).len() >= 8
            && logged("api:Signup", "signup ada")
            && logged("event:UserSignedUp:welcome", "welcome ada")
            && logged("event:WelcomeSent:announce", "announce ada")
        {
            Ok(tree)
        } else {
            Err(format!("{tree:#}"))
        }
    });
    assert_eq!(spans(&tree).len(), 8, "{tree:#}");
    assert_all_spans(&tree, &trace_id);

    let root = &spans(&tree)[0];
    assert_eq!(root["kind"], "request");
    assert_eq!(root["name"], "POST /signup");
    assert_eq!(root["parent_id"], Value::Null);
    assert_eq!(root["depth"], 0);
    assert_eq!(root["status_code"], 200);
    assert_eq!(
        root["span_id"],
        tp_span.as_str(),
        "the answer's traceparent is the request span"
    );

    let api = one(&tree, &[("kind", json!("handler")), ("handler", json!("api:Signup"))]);
    assert_child(api, root);
    assert_within(api, root);
    assert_eq!(messages(api), ["signup ada"]);

    let (delivery_1, welcome) = event_hop(&tree, root, "UserSignedUp", "welcome");
    assert_eq!(messages(welcome), ["welcome ada"]);
    // The second hop hangs off the first delivery, whose handler published it.
    let (_, announce) = event_hop(&tree, delivery_1, "WelcomeSent", "announce");
    assert_eq!(messages(announce), ["announce ada"]);
    assert_eq!(announce["logs"][0]["fields"]["attempt"], 1);
    assert_eq!(announce["logs"][0]["trace_id"], trace_id.as_str());

    // Every span of the trace comes before its children (waterfall order).
    let order: HashMap<&str, usize> = spans(&tree)
        .iter()
        .enumerate()
        .map(|(i, s)| (s["span_id"].as_str().unwrap(), i))
        .collect();
    for (i, s) in spans(&tree).iter().enumerate().skip(1) {
        assert!(order[s["parent_id"].as_str().unwrap()] < i, "{tree:#}");
    }

    // A failed delivery and its retry: two `delivery` spans of one trace.
    let (status, body, headers) = request("POST", &s.url("/signup"), Some(r#"{"name":"flaky-bo"}"#), &[]);
    assert_eq!(status, 200, "{body}");
    let flaky_id = header(&headers, "x-trace-id").to_string();
    assert_eq!(
        support::scenarios::read_json(&mut client),
        json!({"user": "rohas", "text": "welcome flaky-bo"}),
        "the retry broadcasts"
    );
    let tree = wait_for("both attempts with their logs", DEADLINE, || {
        let tree = trace(&s, &flaky_id)?;
        let handlers = find(
            &tree,
            &[
                ("kind", json!("handler")),
                ("handler", json!("event:WelcomeSent:announce")),
            ],
        );
        if spans(&tree).len() >= 10
            && handlers.len() == 2
            && handlers.iter().all(|h| messages(h) == ["announce flaky-bo"])
        {
            Ok(tree)
        } else {
            Err(format!("{tree:#}"))
        }
    });
    assert_all_spans(&tree, &flaky_id);
    let publish = one(&tree, &[("kind", json!("publish")), ("event", json!("WelcomeSent"))]);
    let first = one(
        &tree,
        &[
            ("kind", json!("delivery")),
            ("event", json!("WelcomeSent")),
            ("attempt", json!(1)),
        ],
    );
    let second = one(
        &tree,
        &[
            ("kind", json!("delivery")),
            ("event", json!("WelcomeSent")),
            ("attempt", json!(2)),
        ],
    );
    for (delivery, status) in [(first, "error"), (second, "ok")] {
        assert_child(delivery, publish);
        assert_eq!(delivery["status"], status, "{delivery:#}");
        assert_eq!(delivery["message_id"], publish["message_id"], "one message, retried");
        let handler = spans(&tree)
            .iter()
            .find(|h| h["parent_id"] == delivery["span_id"] && h["kind"] == "handler")
            .unwrap_or_else(|| panic!("no handler under {delivery:#}"));
        assert_eq!(handler["status"], status, "{handler:#}");
        assert_within(handler, delivery);
        assert_eq!(
            handler["logs"][0]["fields"]["attempt"], delivery["attempt"],
            "{handler:#}"
        );
    }
    assert!(
        first["error"]
            .as_str()
            .unwrap_or("")
            .contains("announce flaky-bo failed on attempt 1"),
        "{first:#}"
    );
    assert!(n(&second["start_ns"]) >= n(&first["start_ns"]) + n(&first["duration_ns"]));
    assert_eq!(second["error"], Value::Null);

    // The trace list: newest first, with its totals and filters.
    let (status, list) = get(&s.url("/telemetry/traces?status=error"));
    assert_eq!(status, 200, "{list}");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "only the flaky trace failed: {list:#}");
    assert_eq!(items[0]["trace_id"], flaky_id.as_str());
    assert_eq!(items[0]["spans"], 10);
    assert_eq!(items[0]["errors"], 2, "the failed delivery and its handler");
    let (_, list) = get(&s.url("/telemetry/traces?handler=event:WelcomeSent:announce&kind=request"));
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["trace_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [flaky_id.as_str(), trace_id.as_str()], "newest first");

    // The lobby's connection is a trace of its own; its hook's captured
    // `print` / `console.log` line shows under its handler's span.
    let connect = wait_for("the connection's trace with its printed line", DEADLINE, || {
        let (_, list) = get(&s.url("/telemetry/traces?kind=ws_connect"));
        let id = list["items"][0]["trace_id"]
            .as_str()
            .ok_or(format!("{list:#}"))?
            .to_string();
        let tree = trace(&s, &id)?;
        let printed = spans(&tree)
            .iter()
            .any(|sp| messages(sp).iter().any(|m| m == "joined the lobby"));
        printed.then_some(tree.clone()).ok_or(format!("{tree:#}"))
    });
    assert_eq!(spans(&connect)[0]["kind"], "ws_connect", "{connect:#}");
    assert_eq!(spans(&connect)[0]["parent_id"], Value::Null);
    let hook = spans(&connect).iter().find(|sp| !messages(sp).is_empty()).unwrap();
    assert_eq!(hook["kind"], "handler", "{connect:#}");
    assert_child(hook, &spans(&connect)[0]);

    // The metrics count what happened (added up by the telemetry thread).
    let expected: &[Expected] = &[
        (
            "rohas_handler_calls_total",
            &[("handler", "api:Signup"), ("kind", "api"), ("status", "ok")],
            2.0,
        ),
        (
            "rohas_handler_calls_total",
            &[("handler", "api:Signup"), ("status", "error")],
            0.0,
        ),
        (
            "rohas_handler_calls_total",
            &[
                ("handler", "event:UserSignedUp:welcome"),
                ("kind", "event"),
                ("status", "ok"),
            ],
            2.0,
        ),
        (
            "rohas_handler_calls_total",
            &[("handler", "event:WelcomeSent:announce"), ("status", "ok")],
            2.0,
        ),
        (
            "rohas_handler_calls_total",
            &[("handler", "event:WelcomeSent:announce"), ("status", "error")],
            1.0,
        ),
        (
            "rohas_handler_duration_seconds_count",
            &[("handler", "event:WelcomeSent:announce")],
            3.0,
        ),
        ("rohas_events_published_total", &[("event", "UserSignedUp")], 2.0),
        ("rohas_events_published_total", &[("event", "WelcomeSent")], 2.0),
        (
            "rohas_events_delivered_total",
            &[("event", "WelcomeSent"), ("handler", "event:WelcomeSent:announce")],
            2.0,
        ),
        (
            "rohas_events_failed_total",
            &[("event", "WelcomeSent"), ("handler", "event:WelcomeSent:announce")],
            1.0,
        ),
        (
            "rohas_queue_depth",
            &[("event", "WelcomeSent"), ("handler", "event:WelcomeSent:announce")],
            0.0,
        ),
        ("rohas_websocket_connections", &[], 1.0),
    ];
    let text = wait_for("the metrics to count the two signups", DEADLINE, || {
        let (status, text) = get(&s.url("/metrics"));
        let text = text.as_str().unwrap_or_default().to_string();
        let all = status == 200
            && expected
                .iter()
                .all(|(name, labels, value)| sample(&text, name, labels) == Some(*value));
        if all {
            Ok(text)
        } else {
            Err(text)
        }
    });
    assert_eq!(
        sample(&text, "rohas_events_failed_total", &[("event", "UserSignedUp")]),
        None,
        "nothing failed there:\n{text}"
    );
    assert_eq!(sample(&text, "rohas_events_dead_lettered_total", &[]), None, "{text}");

    // And Prometheus's own parser reads the same numbers.
    if let Some(families) = prometheus_parse(&text) {
        let names: Vec<&str> = families.iter().map(|f| f["name"].as_str().unwrap()).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "a family twice: {names:?}\n{text}");
        let family = |name: &str| {
            families
                .iter()
                .find(|f| f["name"] == name)
                .unwrap_or_else(|| panic!("no family {name}: {names:?}"))
        };
        for (name, kind) in [
            ("rohas_handler_calls", "counter"),
            ("rohas_handler_duration_seconds", "histogram"),
            ("rohas_events_published", "counter"),
            ("rohas_events_failed", "counter"),
            ("rohas_telemetry_dropped", "counter"),
            ("rohas_queue_depth", "gauge"),
            ("rohas_dead_letters", "gauge"),
            ("rohas_websocket_connections", "gauge"),
            ("process_resident_memory_bytes", "gauge"),
        ] {
            assert_eq!(family(name)["type"], kind, "{name}");
        }
        assert!(
            families.iter().all(|f| f["type"] != "unknown"),
            "untyped families: {families:#?}"
        );
        for (name, labels, value) in expected {
            let found = families.iter().flat_map(|f| f["samples"].as_array().unwrap()).any(|x| {
                x["name"] == *name
                    && labels.iter().all(|(k, v)| x["labels"][*k] == *v)
                    && x["value"].as_f64() == Some(*value)
            });
            assert!(found, "{name}{labels:?} = {value} in the parsed families");
        }
    }
    drop(client);
}

/// One event hop under `parent`: its `publish` span (a child within the
/// parent's time), the `delivery` to `handler` under it (first attempt, ok,
/// the same message id, not before the publish), and the handler call
/// under the delivery. Returns (delivery, handler call).
fn event_hop<'a>(tree: &'a Value, parent: &Value, event: &str, handler: &str) -> (&'a Value, &'a Value) {
    let publish = one(tree, &[("kind", json!("publish")), ("event", json!(event))]);
    assert_child(publish, parent);
    assert_within(publish, parent);
    let delivery = one(tree, &[("kind", json!("delivery")), ("event", json!(event))]);
    let handler_id = format!("event:{event}:{handler}");
    assert_child(delivery, publish);
    assert_eq!(delivery["name"], format!("{event} → {handler}"));
    assert_eq!(delivery["handler"], handler_id.as_str());
    assert_eq!(delivery["attempt"], 1);
    assert_eq!(delivery["status"], "ok");
    assert_eq!(delivery["message_id"], publish["message_id"]);
    assert!(n(&delivery["start_ns"]) >= n(&publish["start_ns"]));
    let call = one(tree, &[("kind", json!("handler")), ("handler", json!(handler_id))]);
    assert_child(call, delivery);
    assert_within(call, delivery);
    (delivery, call)
}

#[test]
fn python_a_request_its_events_and_the_broadcast_are_one_trace() {
    a_request_its_events_and_the_broadcast_are_one_trace("telemetry-python");
}

#[test]
fn typescript_a_request_its_events_and_the_broadcast_are_one_trace() {
    a_request_its_events_and_the_broadcast_are_one_trace("telemetry-typescript");
}

/// A valid incoming `traceparent` continues the caller's trace (its span
/// is the request span's remote parent); a malformed or hostile one is
/// ignored: a new trace, and the request still answered.
#[test]
fn an_incoming_traceparent_is_honoured_and_a_malformed_one_ignored() {
    let s = Server::start("telemetry-python", &[]);
    let caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let (status, body, headers) = request(
        "GET",
        &s.url("/ping"),
        None,
        &[("traceparent", &format!("00-{caller_trace}-{caller_span}-01"))],
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["trace_id"], caller_trace, "the handler is in the caller's trace");
    assert_eq!(header(&headers, "x-trace-id"), caller_trace);
    let (tp_trace, tp_span) = traceparent_parts(header(&headers, "traceparent"));
    assert_eq!(tp_trace, caller_trace);
    assert_ne!(tp_span, caller_span, "the answer names our span, not the caller's");
    let tree = wait_for("the continued trace", DEADLINE, || {
        let tree = trace(&s, caller_trace)?;
        (spans(&tree).len() == 2)
            .then_some(tree.clone())
            .ok_or(format!("{tree:#}"))
    });
    let root = &spans(&tree)[0];
    assert_eq!(root["kind"], "request");
    assert_eq!(root["parent_id"], caller_span);
    assert_eq!(root["remote_parent"], true);
    assert_eq!(root["span_id"], tp_span.as_str());
    assert_eq!(root["depth"], 0, "shown as the root of what this engine holds");
    assert_child(&spans(&tree)[1], root);

    // Without a traceparent, a client's own `x-trace-id` is the trace id
    // as given, whatever it holds; the API takes it percent-encoded.
    let own = "order 7/b&c+d";
    let (status, body, headers) = request("GET", &s.url("/ping"), None, &[("x-trace-id", own)]);
    assert_eq!(status, 200, "{body}");
    assert_eq!((header(&headers, "x-trace-id"), &body["trace_id"]), (own, &json!(own)));
    let (tp_trace, _) = traceparent_parts(header(&headers, "traceparent"));
    assert!(
        tp_trace.len() == 32 && tp_trace.bytes().all(|b| b.is_ascii_hexdigit()),
        "{tp_trace}"
    );
    let tree = wait_for("the trace under the client's own id", DEADLINE, || {
        trace(&s, "order%207%2Fb%26c%2Bd")
    });
    assert_eq!(spans(&tree)[0]["trace_id"], own);

    let long = format!("00-{}-{caller_span}-01", "a".repeat(4000));
    let hostile = [
        "garbage",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00--00f067aa0ba902b7-01",
        "'; DROP TABLE spans; --",
        &long,
    ];
    let mut seen = Vec::new();
    for tp in hostile {
        let (status, body, headers) = request("GET", &s.url("/ping"), None, &[("traceparent", tp)]);
        assert_eq!(status, 200, "{tp}: {body}");
        let trace_id = header(&headers, "x-trace-id").to_string();
        assert_ne!(trace_id, caller_trace, "{tp} was honoured");
        assert_eq!(body["trace_id"], trace_id.as_str());
        let (tp_trace, _) = traceparent_parts(header(&headers, "traceparent"));
        assert_eq!(tp_trace, trace_id, "{tp}");
        assert!(!seen.contains(&trace_id), "a new trace each time");
        seen.push(trace_id);
    }
    for trace_id in &seen {
        let tree = wait_for("a new trace for a malformed traceparent", DEADLINE, || {
            trace(&s, trace_id)
        });
        let root = &spans(&tree)[0];
        assert_eq!(
            (&root["kind"], &root["parent_id"]),
            (&json!("request"), &Value::Null),
            "{tree:#}"
        );
        assert_eq!(root["remote_parent"], Value::Null, "{tree:#}");
    }
    assert_eq!(get(&s.url("/telemetry/traces")).0, 200, "the store took every one");
}

/// A trace once its `request` span is stored too: the handler's span can
/// be written in an earlier batch than the request's.
fn with_request_span(tree: Result<Value, String>) -> Result<Value, String> {
    let tree = tree?;
    if find(&tree, &[("kind", json!("request"))]).is_empty() {
        return Err(format!("no request span yet: {tree}"));
    }
    Ok(tree)
}

/// A 4xx `HttpError` is an answer, not a failure; an exception is a 500
/// and an error (its events unpublished); a `NonRetryableError` delivery
/// is an error, dead-lettered at once. The metrics agree.
#[test]
fn failures_are_recorded_as_the_docs_say() {
    let s = Server::start("telemetry-python", &[]);
    let mut ids = HashMap::new();
    for (method, path, expected) in [("GET", "/refuse", 409), ("GET", "/boom", 500), ("POST", "/doom", 200)] {
        let body = (method == "POST").then_some("{}");
        let (status, answer, headers) = request(method, &s.url(path), body, &[]);
        assert_eq!(status, expected, "{path}: {answer}");
        ids.insert(path, header(&headers, "x-trace-id").to_string());
    }

    let tree = wait_for("the refused request", DEADLINE, || {
        with_request_span(trace(&s, &ids["/refuse"]))
    });
    for kind in ["request", "handler"] {
        let span = one(&tree, &[("kind", json!(kind))]);
        assert_eq!(
            (&span["status"], &span["status_code"]),
            (&json!("ok"), &json!(409)),
            "{span:#}"
        );
    }

    let tree = wait_for("the failed request", DEADLINE, || {
        with_request_span(trace(&s, &ids["/boom"]))
    });
    let root = one(&tree, &[("kind", json!("request"))]);
    assert_eq!(
        (&root["status"], &root["status_code"]),
        (&json!("error"), &json!(500)),
        "{root:#}"
    );
    let handler = one(&tree, &[("kind", json!("handler"))]);
    assert_eq!(handler["status"], "error");
    assert!(
        handler["error"].as_str().unwrap_or("").contains("RuntimeError: boom"),
        "{handler:#}"
    );
    assert!(
        find(&tree, &[("kind", json!("publish"))]).is_empty(),
        "a failed handler publishes nothing"
    );

    let tree = wait_for("the dead-lettered delivery", DEADLINE, || {
        let tree = trace(&s, &ids["/doom"])?;
        (spans(&tree).len() == 5)
            .then_some(tree.clone())
            .ok_or(format!("{tree:#}"))
    });
    let delivery = one(&tree, &[("kind", json!("delivery"))]);
    assert_eq!(delivery["status"], "error");
    assert_eq!(delivery["dead_lettered"], true, "{delivery:#}");
    assert_eq!(delivery["attempt"], 1, "no retry for a NonRetryableError");
    assert!(
        delivery["error"].as_str().unwrap_or("").contains("doomed 1"),
        "{delivery:#}"
    );

    let expected: &[Expected] = &[
        (
            "rohas_handler_calls_total",
            &[("handler", "api:Refuse"), ("status", "ok")],
            1.0,
        ),
        (
            "rohas_handler_calls_total",
            &[("handler", "api:Refuse"), ("status", "error")],
            0.0,
        ),
        (
            "rohas_handler_calls_total",
            &[("handler", "api:Boom"), ("status", "error")],
            1.0,
        ),
        (
            "rohas_handler_calls_total",
            &[("handler", "event:Doomed:give_up"), ("status", "error")],
            1.0,
        ),
        ("rohas_events_published_total", &[("event", "Doomed")], 1.0),
        ("rohas_events_failed_total", &[("event", "Doomed")], 1.0),
        (
            "rohas_events_dead_lettered_total",
            &[("event", "Doomed"), ("handler", "event:Doomed:give_up")],
            1.0,
        ),
        (
            "rohas_dead_letters",
            &[("event", "Doomed"), ("handler", "event:Doomed:give_up")],
            1.0,
        ),
    ];
    wait_for("the metrics to count the failures", DEADLINE, || {
        let (_, text) = get(&s.url("/metrics"));
        let text = text.as_str().unwrap_or_default().to_string();
        expected
            .iter()
            .all(|(name, labels, value)| sample(&text, name, labels) == Some(*value))
            .then_some(())
            .ok_or(text)
    });
}

/// `sample_ratio = 0` stores no trace, yet the metrics count every call.
#[test]
fn sampled_out_traces_are_not_stored_but_counted() {
    let (_tmp, root) = support::project("telemetry-python");
    let s = Server::start_with_env(&root, "dev", &[], &[("ROHAS_TELEMETRY_SAMPLE_RATIO", "0")]);
    let (status, body) = support::post(&s.url("/signup"), r#"{"name":"ada"}"#);
    assert_eq!(status, 200, "{body}");
    let counted: &[Expected] = &[
        (
            "rohas_handler_calls_total",
            &[("handler", "event:WelcomeSent:announce"), ("status", "ok")],
            1.0,
        ),
        ("rohas_events_published_total", &[("event", "WelcomeSent")], 1.0),
    ];
    wait_for("the metrics to count the chain", DEADLINE, || {
        let (_, text) = get(&s.url("/metrics"));
        let text = text.as_str().unwrap_or_default().to_string();
        counted
            .iter()
            .all(|(name, labels, value)| sample(&text, name, labels) == Some(*value))
            .then_some(())
            .ok_or(text)
    });
    // Counted by the same batch that would have stored the spans.
    let (status, list) = get(&s.url("/telemetry/traces"));
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["items"], json!([]), "{list:#}");
}

/// An OTLP receiver built on OpenTelemetry's own Python packages (the
/// telemetry crate's `tests/support/otlp_receiver.py`) gets the chain's
/// spans and logs: names, kinds, the parent links across an event hop,
/// and the project as `service.name`.
#[test]
fn otlp_export_reaches_a_real_receiver() {
    let Some(python) = otlp_python() else { return };
    for protocol in ["http", "grpc"] {
        let receiver = Receiver::start(&python, protocol);
        let (_tmp, root) = support::project("telemetry-python");
        let endpoint = format!("http://127.0.0.1:{}", receiver.port);
        let mut s = if protocol == "grpc" {
            // From the config file, as a user writes it.
            let config = root.join("config/rohas.toml");
            let mut text = std::fs::read_to_string(&config).unwrap();
            text.push_str(&format!(
                "\n[telemetry]\notlp_endpoint = \"{endpoint}\"\notlp_protocol = \"grpc\"\n"
            ));
            std::fs::write(&config, text).unwrap();
            Server::start_in(&root, "dev", &[])
        } else {
            Server::start_with_env(&root, "dev", &[], &[("ROHAS_TELEMETRY_OTLP_ENDPOINT", &endpoint)])
        };
        let (status, body, headers) = request("POST", &s.url("/signup"), Some(r#"{"name":"ada"}"#), &[]);
        assert_eq!(status, 200, "{body}");
        let trace_id = header(&headers, "x-trace-id").to_string();
        let tree = wait_for("the local trace", DEADLINE, || {
            let tree = trace(&s, &trace_id)?;
            (spans(&tree).len() == 8)
                .then_some(tree.clone())
                .ok_or(format!("{tree:#}"))
        });
        if protocol == "grpc" {
            // Stopped at once: what is still queued for export is sent
            // before the process exits.
            assert_eq!(s.terminate().code(), Some(0), "{}", s.log());
        }

        let exported = wait_for(&format!("the chain's 8 spans over OTLP ({protocol})"), DEADLINE, || {
            let spans = receiver.spans(&trace_id);
            let logs = receiver.logs(&trace_id);
            (spans.len() >= 8 && logs.len() >= 3)
                .then(|| (spans.clone(), logs.clone()))
                .ok_or(format!("{} spans, {} logs", spans.len(), logs.len()))
        });
        let (spans_out, logs_out) = exported;
        assert_eq!(spans_out.len(), 8, "{spans_out:#?}");
        let by_name = |name: &str| {
            spans_out
                .iter()
                .find(|s| s["name"] == name)
                .unwrap_or_else(|| panic!("no span {name}: {spans_out:#?}"))
        };
        let request_span = by_name("POST /signup");
        let publish = by_name("publish UserSignedUp");
        let delivery = by_name("UserSignedUp → welcome");
        let publish_2 = by_name("publish WelcomeSent");
        let delivery_2 = by_name("WelcomeSent → announce");
        // SpanKind: SERVER 2, PRODUCER 4, CONSUMER 5.
        assert_eq!(
            (&request_span["kind"], &request_span["parent_span_id"]),
            (&json!(2), &json!(""))
        );
        assert_eq!(publish["kind"], 4);
        assert_eq!(delivery["kind"], 5);
        assert_eq!(publish["parent_span_id"], request_span["span_id"]);
        assert_eq!(delivery["parent_span_id"], publish["span_id"], "the hop keeps the link");
        assert_eq!(publish_2["parent_span_id"], delivery["span_id"]);
        assert_eq!(delivery_2["parent_span_id"], publish_2["span_id"], "and the second hop");
        assert_eq!(delivery["attributes"]["messaging.destination.name"], "UserSignedUp");
        assert_eq!(delivery["attributes"]["messaging.operation.type"], "process");
        assert_eq!(delivery["attributes"]["rohas.delivery.attempt"], 1);
        assert_eq!(request_span["attributes"]["http.response.status_code"], 200);
        for span in &spans_out {
            assert_eq!(span["resource"]["service.name"], "telemetry-python", "{span:#}");
            assert_eq!(span["resource"]["service.version"], "1.2.3", "{span:#}");
            assert_eq!(span["resource"]["telemetry.sdk.name"], "rohas", "{span:#}");
            assert!(n(&span["end"]) > n(&span["start"]), "{span:#}");
        }
        // The same spans as the local store's.
        let mut local: Vec<&str> = spans(&tree).iter().map(|s| s["span_id"].as_str().unwrap()).collect();
        let mut remote: Vec<&str> = spans_out.iter().map(|s| s["span_id"].as_str().unwrap()).collect();
        local.sort();
        remote.sort();
        assert_eq!(local, remote);

        let signup_log = logs_out
            .iter()
            .find(|l| l["body"] == "signup ada")
            .unwrap_or_else(|| panic!("no signup log: {logs_out:#?}"));
        assert_eq!(signup_log["severity_text"], "INFO");
        assert_eq!(signup_log["severity_number"], 9);
        assert_eq!(signup_log["resource"]["service.name"], "telemetry-python");
        assert!(signup_log["attributes"]["rohas.source"].is_string(), "{signup_log:#}");
        drop(s);
        receiver.stop();
    }
}

/// Garbage where the store should be, then a store damaged past its first
/// pages: the engine starts, says once which file it moved aside, and
/// records new traces.
#[test]
fn a_damaged_store_never_stops_the_engine() {
    let (_tmp, root) = support::project("telemetry-python");
    let folder = root.join(".rohas/telemetry");
    std::fs::create_dir_all(&folder).unwrap();
    let file = folder.join("telemetry.db");
    let garbage = b"not a database; a cat walked over the keyboard ".repeat(500);
    std::fs::write(&file, &garbage).unwrap();

    let mut s = Server::start_in(&root, "dev", &[]);
    signup_is_recorded(&s, "first");
    assert_moved_aside_once(&s, &file);
    let aside = damaged_files(&folder);
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(std::fs::read(&aside[0]).unwrap(), garbage, "kept as it was");
    assert_eq!(s.terminate().code(), Some(0));

    // A real store, with one page garbled that opening does not read and
    // the next write does: the first page of the logs' trace index.
    let (page, size): (i64, i64) = {
        let conn = rusqlite::Connection::open(&file).unwrap();
        // Everything into the main file first: a page still in the WAL
        // would hide the garbled one.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        conn.query_row(
            "SELECT rootpage, (SELECT page_size FROM pragma_page_size) FROM sqlite_schema WHERE name = 'logs_by_trace'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    let mut bytes = std::fs::read(&file).unwrap();
    let at = usize::try_from((page - 1) * size).unwrap();
    for (i, b) in bytes[at..at + usize::try_from(size).unwrap()].iter_mut().enumerate() {
        *b = (i * 31 + 7) as u8;
    }
    std::fs::write(&file, &bytes).unwrap();

    let s = Server::start_in(&root, "dev", &[]);
    signup_is_recorded(&s, "second");
    assert_moved_aside_once(&s, &file);
    assert_eq!(damaged_files(&folder).len(), 2);
    assert!(!s.log().contains("panicked"), "{}", s.log());
}

/// Damage in old pages that only a query reads (a leaf of the logs table
/// in the middle of the file): the query answers 503 saying the store is
/// damaged, the engine moves the file aside, says so once, and goes on.
#[test]
fn damage_only_a_query_reads_is_found_by_the_query() {
    let (_tmp, root) = support::project("telemetry-python");
    let mut s = Server::start_in(&root, "dev", &[]);
    let (status, body, headers) = request("POST", &s.url("/flood"), Some(r#"{"lines": 20000}"#), &[]);
    assert_eq!(status, 200, "{body}");
    let flood = header(&headers, "x-trace-id").to_string();
    wait_for("the flood stored", DEADLINE, || {
        let n = count_logs(&s, &flood);
        (n == 20_000).then_some(()).ok_or(format!("{n} lines"))
    });
    assert_eq!(s.terminate().code(), Some(0));

    let file = root.join(".rohas/telemetry/telemetry.db");
    let (page, size): (i64, i64) = {
        let conn = rusqlite::Connection::open(&file).unwrap();
        // Everything into the main file first: a page still in the WAL
        // would hide the garbled one.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        conn.query_row(
            "SELECT pageno, (SELECT page_size FROM pragma_page_size) FROM dbstat
             WHERE name = 'logs' AND pagetype = 'leaf' ORDER BY pageno
             LIMIT 1 OFFSET (SELECT count(*) / 2 FROM dbstat WHERE name = 'logs' AND pagetype = 'leaf')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    let mut bytes = std::fs::read(&file).unwrap();
    let at = usize::try_from((page - 1) * size).unwrap();
    for (i, b) in bytes[at..at + usize::try_from(size).unwrap()].iter_mut().enumerate() {
        *b = (i * 31 + 7) as u8;
    }
    std::fs::write(&file, &bytes).unwrap();

    let s = Server::start_in(&root, "dev", &[]);
    // Read every page of the logs, as a user scrolling back does.
    let mut after = String::new();
    let refused = loop {
        let (status, page) = get(&s.url(&format!("/telemetry/logs?limit=1000{after}")));
        match (status, page["next"].as_str()) {
            (200, Some(next)) => after = format!("&after={next}"),
            (200, None) => panic!("every page read, no damage found:\n{}", s.log()),
            _ => break (status, page),
        }
    };
    assert_eq!(refused.0, 503, "{}", refused.1);
    let message = refused.1["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("is damaged"), "{message}");
    s.wait_for_log("was damaged; moved it to");
    assert_moved_aside_once(&s, &file);
    signup_is_recorded(&s, "afterwards");
    assert_eq!(get(&s.url("/telemetry/logs")).0, 200);
    assert_eq!(damaged_files(&root.join(".rohas/telemetry")).len(), 1);
}

fn damaged_files(folder: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(folder)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("telemetry.db.damaged-"))
        // Its segments went aside beside it, as `<name>.spans/`.
        .filter(|p| p.is_file())
        .collect()
}

/// A signup answers 200 and its trace, with its logs, is stored.
fn signup_is_recorded(s: &Server, name: &str) {
    let (status, body, headers) = request("POST", &s.url("/signup"), Some(&format!(r#"{{"name":"{name}"}}"#)), &[]);
    assert_eq!(status, 200, "{body}");
    let trace_id = header(&headers, "x-trace-id").to_string();
    wait_for("the new trace stored after the damage", DEADLINE, || {
        let tree = trace(s, &trace_id)?;
        let logged = spans(&tree)
            .iter()
            .any(|sp| messages(sp).contains(&format!("announce {name}")));
        (spans(&tree).len() == 8 && logged)
            .then_some(())
            .ok_or(format!("{tree:#}\n{}", s.log()))
    });
}

/// The engine said once, as a warning, which file it moved where.
fn assert_moved_aside_once(s: &Server, file: &std::path::Path) {
    let said: Vec<String> = s
        .lines
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("was damaged; moved it to"))
        .cloned()
        .collect();
    assert_eq!(said.len(), 1, "{}", s.log());
    assert!(said[0].contains("WARN"), "{}", said[0]);
    assert!(said[0].contains(&file.display().to_string()), "{}", said[0]);
    assert!(said[0].contains("telemetry.db.damaged-"), "{}", said[0]);
}

/// SIGTERM right after a request: its trace, with the events it caused
/// (graceful shutdown finishes them), is in the store once `rohas` has
/// exited, and the file opens with any SQLite client.
#[test]
fn shutdown_writes_what_is_queued() {
    let (_tmp, root) = support::project("telemetry-python");
    let mut s = Server::start_in(&root, "dev", &[]);
    let (status, body, headers) = request("POST", &s.url("/signup"), Some(r#"{"name":"last"}"#), &[]);
    assert_eq!(status, 200, "{body}");
    let trace_id = header(&headers, "x-trace-id").to_string();
    assert_eq!(s.terminate().code(), Some(0), "{}", s.log());

    // Any SQLite client opens it; spans are kept in blocks, read back
    // through the store's reader.
    let conn = rusqlite::Connection::open(root.join(".rohas/telemetry/telemetry.db")).unwrap();
    let stored: i64 = conn
        .query_row("SELECT coalesce(sum(spans), 0) FROM span_blocks", [], |r| r.get(0))
        .unwrap();
    assert!(stored >= 8, "{stored} spans stored");
    let logs: i64 = conn
        .query_row("SELECT count(*) FROM logs WHERE trace_id = ?1", [&trace_id], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(logs, 3, "each handler's line");
    let tree = rohas_telemetry::Reader::in_folder(&root.join(".rohas/telemetry"))
        .trace(&trace_id)
        .unwrap();
    assert_eq!(tree.spans.len(), 8, "the request and both event hops");
}

/// A 1 MB message and a 1 MB field are stored cut to 8 KiB and 2 KiB,
/// marked with how much was cut.
#[test]
fn a_huge_log_value_is_stored_cut_and_marked() {
    let s = Server::start("telemetry-python", &[]);
    let (status, body, headers) = request("GET", &s.url("/huge"), None, &[]);
    assert_eq!(status, 200, "{body}");
    let trace_id = header(&headers, "x-trace-id").to_string();
    let line = wait_for("the huge line stored", DEADLINE, || {
        let (_, page) = get(&s.url(&format!("/telemetry/logs?trace={trace_id}")));
        page["items"]
            .as_array()
            .and_then(|items| items.first().cloned())
            .ok_or(format!("{page}"))
    });
    assert_eq!(line["truncated"], true, "marked");
    for (value, char, limit) in [
        (line["message"].as_str().unwrap(), 'm', 8 * 1024),
        (line["fields"]["blob"].as_str().unwrap(), 'f', 2 * 1024),
    ] {
        let (kept, marker) = value
            .split_once('…')
            .unwrap_or_else(|| panic!("no marker: {}", &value[value.len() - 50..]));
        assert!(
            kept.chars().all(|c| c == char) && kept.len() <= limit,
            "{} kept",
            kept.len()
        );
        let cut: usize = marker
            .strip_prefix("[truncated ")
            .and_then(|m| m.strip_suffix(" bytes]"))
            .and_then(|m| m.parse().ok())
            .unwrap_or_else(|| panic!("marker {marker:?}"));
        assert_eq!(kept.len() + cut, 1_000_000, "says how much was cut");
    }
    // Shown in its trace, under its handler's span.
    let tree = wait_for("the trace", DEADLINE, || trace(&s, &trace_id));
    let handler = one(&tree, &[("kind", json!("handler")), ("handler", json!("api:Huge"))]);
    assert_eq!(handler["logs"][0]["truncated"], true);
}

/// 100,000 log lines from one handler, as fast as it can write them, while
/// other requests come in: every request is answered, the engine stays up,
/// and every line is either stored or counted as dropped.
#[test]
fn a_log_flood_never_fails_requests() {
    const LINES: u64 = 100_000;
    let mut s = Server::start("telemetry-python", &[]);
    let pings = {
        let url = s.url("/ping");
        std::thread::spawn(move || (0..50).map(|_| get(&url).0).collect::<Vec<u16>>())
    };
    let (status, body, headers) = request("POST", &s.url("/flood"), Some(&format!(r#"{{"lines": {LINES}}}"#)), &[]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["logged"], LINES);
    let flood_trace = header(&headers, "x-trace-id").to_string();
    assert!(pings.join().unwrap().iter().all(|&st| st == 200));
    assert_eq!(get(&s.url("/ping")).0, 200);
    assert!(s.child.try_wait().unwrap().is_none(), "rohas exited:\n{}", s.log());

    let (stored, dropped) = wait_for(
        "every line stored or counted as dropped",
        Duration::from_secs(180),
        || {
            let stored = count_logs(&s, &flood_trace);
            let (_, text) = get(&s.url("/metrics"));
            let dropped = sample(
                text.as_str().unwrap_or(""),
                "rohas_telemetry_dropped_total",
                &[("record", "log")],
            )
            .ok_or("no rohas_telemetry_dropped_total")? as u64;
            (stored + dropped >= LINES)
                .then_some((stored, dropped))
                .ok_or(format!("{stored} stored, {dropped} dropped"))
        },
    );
    assert!(stored <= LINES, "{stored} stored");
    eprintln!("{stored} lines stored, {dropped} dropped");
    assert_eq!(get(&s.url("/ping")).0, 200);
    assert!(s.child.try_wait().unwrap().is_none(), "rohas exited:\n{}", s.log());
}

/// The stored log lines of a trace, counted page by page.
fn count_logs(s: &Server, trace_id: &str) -> u64 {
    let mut count = 0;
    let mut after = String::new();
    loop {
        let (status, page) = get(&s.url(&format!("/telemetry/logs?trace={trace_id}&limit=1000{after}")));
        assert_eq!(status, 200, "{page}");
        count += page["items"].as_array().map_or(0, Vec::len) as u64;
        match page["next"].as_str() {
            Some(next) => after = format!("&after={next}"),
            None => return count,
        }
    }
}

/// From an address that is not loopback (this machine's own outward
/// address), the telemetry API is closed without `[workbench] api_key`
/// (403), refuses a wrong key (401) and answers the right one; loopback
/// needs no key; `metrics_public` opens `/metrics` and nothing else.
/// Skipped where the machine has no such address.
#[test]
fn the_telemetry_api_off_loopback_needs_the_key() {
    let Some(outward) = outward_address() else {
        eprintln!("skipped: this machine has no address other than loopback");
        return;
    };
    for (key, metrics_public) in [(None, false), (Some("s3cret"), false), (None, true)] {
        let (_tmp, root) = support::project("telemetry-python");
        let config = root.join("config/rohas.toml");
        let mut text = std::fs::read_to_string(&config).unwrap();
        if let Some(key) = key {
            text.push_str(&format!("\n[workbench]\napi_key = \"{key}\"\n"));
        }
        text.push_str(&format!("\n[telemetry]\nmetrics_public = {metrics_public}\n"));
        std::fs::write(&config, text).unwrap();
        let s = Server::start_with_env(&root, "dev", &[], &[("ROHAS_SERVER_HOST", "0.0.0.0")]);
        let port = s.base.rsplit(':').next().unwrap().to_string();
        let remote = |path: &str, auth: Option<&str>| {
            let url = format!("http://{outward}:{port}{path}");
            let headers: Vec<(&str, String)> = auth
                .map(|a| ("authorization", format!("Bearer {a}")))
                .into_iter()
                .collect();
            let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            request("GET", &url, None, &headers)
        };
        let local = format!("http://127.0.0.1:{port}");
        assert_eq!(
            get(&format!("{local}/telemetry/traces")).0,
            200,
            "loopback needs no key"
        );
        assert_eq!(remote("/ping", None).0, 200, "the application itself is open");
        for path in ["/telemetry/traces", "/telemetry/logs", "/metrics"] {
            match key {
                // `metrics_public` opens `/metrics` alone, to anyone.
                None if metrics_public && path == "/metrics" => {
                    let (status, text, _) = remote(path, None);
                    assert_eq!(status, 200, "{text}");
                    assert!(
                        text.as_str().unwrap_or("").contains("rohas_handler_calls_total"),
                        "{text}"
                    );
                }
                None => {
                    let (status, body, _) = remote(path, None);
                    assert_eq!(status, 403, "{path}: {body}");
                    assert!(
                        body["error"]["message"].as_str().unwrap_or("").contains("api_key"),
                        "{body}"
                    );
                    assert_eq!(remote(path, Some("guess")).0, 403, "{path}: no key, no way in");
                }
                Some(key) => {
                    assert_eq!(remote(path, None).0, 401, "{path}");
                    assert_eq!(remote(path, Some("wrong")).0, 401, "{path}");
                    assert_eq!(remote(path, Some(key)).0, 200, "{path}");
                }
            }
        }
    }
}

/// The address this machine would send from to the outside (nothing is
/// sent: connecting a UDP socket only picks the route).
fn outward_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("203.0.113.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}
