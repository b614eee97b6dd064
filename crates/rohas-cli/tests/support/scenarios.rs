//! What every language's fixture project must do alike, written once.
//!
//! `python-e2e`, `typescript-e2e` and `rust-e2e` implement the same schema
//! apis (the reference examples, `/private` behind a bearer-token middleware,
//! an event chain, a delayed and a non-retryable event, a `room` and the
//! reference `chat` WebSocket) in their own
//! language; the starter projects (`rohas init`, `examples/*-hello`) share
//! theirs. Each e2e file calls these checks on its own server and adds what
//! is particular to its runtime.
//!
//! "Reference examples" are handlers written the way docs/handlers.md shows
//! them (`handler()`, `handler(input, state)`, `handler(context)`,
//! `handler(event, state)`, a one-module chat WebSocket …): the `seed_*`
//! checks make sure each of those forms keeps working as written.

use super::{get, post, request, Server};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The reference `Health` (status, timestamp, a generated trace id header) and
/// `CreateUser` (the returned `created_at` goes out as `createdAt`, RFC 3339).
pub fn seed_health_and_create_user(s: &Server) {
    let (status, body, headers) = request("GET", &s.url("/health"), None, &[]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ok");
    assert!(body["timestamp"].as_str().is_some_and(|t| t.contains('T')), "{body}");
    assert!(
        headers.iter().any(|(k, v)| k == "x-trace-id" && v.len() == 32),
        "{headers:?}"
    );

    let (status, body) = post(&s.url("/users"), r#"{"name":"Ada","email":"ada@example.com"}"#);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], 1);
    assert_eq!(body["name"], "Ada");
    assert!(body["createdAt"].as_str().is_some_and(|t| t.contains('T')), "{body}");
}

/// A body that is not JSON is a 400; one without a required field a 422
/// naming it; both before any handler runs.
pub fn bad_bodies_are_400_and_422(s: &Server) {
    let (status, body) = post(&s.url("/users"), "{not json");
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("not valid JSON"),
        "{body}"
    );
    assert!(body["error"]["trace_id"].as_str().is_some(), "{body}");
    let (status, body) = post(&s.url("/users"), r#"{"name":"Ada"}"#);
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["details"][0]["path"], "body.email", "{body}");
    assert_eq!(body["error"]["details"][0]["problem"], "required field is missing");
}

/// The reference context example (returns nothing: JSON null), and a context
/// handler that echoes its query, path parameters and the client's trace id.
pub fn context_handlers_get_query_path_params_and_trace_id(s: &Server) {
    assert_eq!(get(&s.url("/context?x=1")), (200, Value::Null));
    let (status, body, _) = request(
        "GET",
        &s.url("/echo/ada?lang=en"),
        None,
        &[("x-trace-id", "trace-from-client")],
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["query"], json!({"lang": "en"}));
    assert_eq!(body["path"], json!({"name": "ada"}));
    assert_eq!(body["trace_id"], "trace-from-client");
}

/// The reference error-handling example on its happy path, and an HTTP error
/// that keeps its status and message.
pub fn seed_errors_keep_their_status(s: &Server) {
    assert_eq!(get(&s.url("/failing")), (200, json!({"success": true})));
    let (status, body) = get(&s.url("/teapot"));
    assert_eq!(status, 418, "{body}");
    assert_eq!(body["error"]["message"], "short and stout");
}

/// `/private`'s middleware rejects a request without the bearer token (401
/// with its message) and lets one with it through.
pub fn the_middleware_needs_the_token(s: &Server) {
    let (status, body) = get(&s.url("/private"));
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["message"], "missing or wrong bearer token");
    let (status, body, _) = request(
        "GET",
        &s.url("/private"),
        None,
        &[("authorization", "Bearer let-me-in")],
    );
    assert_eq!((status, body), (200, json!({"secret": 42})));
}

/// A middleware that returns a changed context changes what the handler sees.
pub fn a_middleware_changes_the_context(s: &Server) {
    let (status, body) = get(&s.url("/tagged?x=1"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"query": {"x": "1", "tagged": "yes"}, "tag": "from-middleware"})
    );
}

/// CreateUser → UserRegistered (payload: the returned user) → audit_user
/// (which logs `audit_line`) → (all handlers done) AuditDone → finish_audit;
/// then Signup, whose `handler(req, state)` sets UserCreated's payload, and
/// the reference event handler logs its `user_id`.
pub fn events_chain_from_api_through_handlers(s: &Server, audit_line: &str) {
    let (status, _) = post(&s.url("/users"), r#"{"name":"Grace","email":"grace@example.com"}"#);
    assert_eq!(status, 200);
    s.wait_for_log(audit_line);
    s.wait_for_log("audit done for grace@example.com");

    let (status, body) = post(&s.url("/signup"), r#"{"name":"Lin","email":"lin@example.com"}"#);
    assert_eq!((status, body), (200, json!({"ok": true, "name": "Lin"})));
    s.wait_for_log("User created: 7");
}

/// `POST /remind` triggers `Reminder` with a one-second delay, and its
/// handler logs `reminder delivered: stretch`: the line appears, and no
/// earlier than a second after the request. `POST /orders` publishes
/// `OrderPlaced`, whose handler fails with the language's non-retryable
/// error although the event allows five attempts: the admin API lists it as
/// a dead letter after exactly one attempt.
pub fn delayed_and_non_retryable_events(s: &Server) {
    let line = "reminder delivered: stretch";
    assert_eq!(s.count_log(line), 0, "{}", s.log());
    // The delay counts from the handler's success, which comes before the
    // client reads the answer: measured from the answer's arrival, a correct
    // engine could look a few milliseconds early. From the moment the
    // request left, the bound holds for any correct engine and still fails
    // one that delivers at once or reads the delay in the wrong unit.
    let sent = Instant::now();
    let (status, body, _) = request("POST", &s.url("/remind"), None, &[]);
    let answered = sent.elapsed();
    assert_eq!((status, &body), (200, &json!({"scheduled": true})), "{}", s.log());
    s.wait_for_log(line);
    let seen = sent.elapsed();
    assert!(
        seen >= Duration::from_secs(1),
        "the delayed event ran {seen:?} after the request was sent (answered after {answered:?}), before its 1 s delay:\n{}",
        s.log()
    );
    assert_eq!(s.count_log(line), 1, "delivered once:\n{}", s.log());

    let (status, body, _) = request("POST", &s.url("/orders"), None, &[]);
    assert_eq!((status, &body), (200, &json!({"orderId": 7})), "{}", s.log());
    let letter = dead_letter(s, "OrderPlaced");
    assert!(
        letter["handler"].as_str().is_some_and(|h| h.contains("reject_order")),
        "{letter}"
    );
    assert!(letter["id"].is_string() || letter["id"].is_number(), "{letter}");
    assert!(letter["dead_at"].as_str().is_some_and(|t| t.contains('T')), "{letter}");
    assert!(
        contains_value(&letter["message"], &json!({"orderId": 7})),
        "the dead letter keeps the message and its payload: {letter}"
    );
    let attempts = letter["attempts"].as_array().unwrap_or_else(|| panic!("{letter}"));
    assert_eq!(attempts.len(), 1, "one attempt, no retries: {letter}");
    assert_eq!(attempts[0]["attempt"], 1, "{letter}");
    assert!(
        attempts[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("order 7 cannot be fulfilled")),
        "{letter}"
    );
    assert!(
        attempts[0]["trace_id"].as_str().is_some_and(|t| !t.is_empty()),
        "{letter}"
    );
    assert!(attempts[0]["at"].as_str().is_some_and(|t| t.contains('T')), "{letter}");
}

/// The dead letter of `event` from `GET /_rohas/dead-letters`, waiting up
/// to 20 s for it (it is written once the handler gives up).
fn dead_letter(s: &Server, event: &str) -> Value {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = get(&s.url("/_rohas/dead-letters"));
        if status == 200 {
            let items = body["items"].as_array().unwrap_or_else(|| panic!("no `items`: {body}"));
            let mut ours = items.iter().filter(|item| item["event"] == event);
            if let Some(letter) = ours.next() {
                assert!(ours.next().is_none(), "one dead letter for {event}: {body}");
                return letter.clone();
            }
        }
        if Instant::now() > until {
            panic!(
                "no dead letter for {event} within 20 s; last answer {status} {body}:\n{}",
                s.log()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether `expected` is `value` or an object or array nested in it: the
/// payload's place inside a dead letter's message is the engine's choice.
fn contains_value(value: &Value, expected: &Value) -> bool {
    value == expected
        || match value {
            Value::Object(fields) => fields.values().any(|v| contains_value(v, expected)),
            Value::Array(items) => items.iter().any(|v| contains_value(v, expected)),
            _ => false,
        }
}

pub type Socket = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

/// The `room` endpoint: `on_connect` rejects a client without a name (403);
/// a message is uppercased and broadcast to every client. Returns the two
/// clients, still connected, for more.
pub fn room_rejects_then_broadcasts(s: &Server) -> (Socket, Socket) {
    let ws_base = s.base.replace("http://", "ws://");
    match tungstenite::connect(format!("{ws_base}/ws/room")) {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status().as_u16(), 403),
        other => panic!("expected a 403 rejection, got {other:?}"),
    }
    let (mut a, _) = tungstenite::connect(format!("{ws_base}/ws/room?name=a")).expect("a connects");
    let (mut b, _) = tungstenite::connect(format!("{ws_base}/ws/room?name=b")).expect("b connects");
    a.send(tungstenite::Message::text(r#"{"user":"a","text":"hello"}"#))
        .unwrap();
    for client in [&mut a, &mut b] {
        assert_eq!(read_json(client), json!({"user": "a", "text": "HELLO"}));
    }
    (a, b)
}

/// The next frame of `client`, as JSON.
pub fn read_json(client: &mut Socket) -> Value {
    serde_json::from_str(client.read().unwrap().to_text().unwrap()).unwrap()
}

/// The reference chat module as written: connect, a message, disconnect.
pub fn seed_chat(s: &Server) {
    let ws_base = s.base.replace("http://", "ws://");
    let (mut c, _) = tungstenite::connect(format!("{ws_base}/ws/chat")).expect("chat connects");
    s.wait_for_log("Client connected");
    c.send(tungstenite::Message::text(r#"{"user":"c","text":"hi"}"#))
        .unwrap();
    c.close(None).unwrap();
    s.wait_for_log("Client disconnected");
}

/// A starter project (`rohas init`, `examples/*-hello`): health, `/users`
/// behind the `Bearer demo` middleware, and the welcome email its event
/// handler logs.
pub fn a_starter_project_serves(s: &Server) {
    let (status, body) = get(&s.url("/health"));
    assert_eq!((status, &body["status"]), (200, &json!("ok")), "{body}");
    let input = r#"{"name":"Ada","email":"ada@example.com"}"#;
    let (status, body) = post(&s.url("/users"), input);
    assert_eq!(status, 401, "{body}");
    let (status, body, _) = request(
        "POST",
        &s.url("/users"),
        Some(input),
        &[("authorization", "Bearer demo")],
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["email"], "ada@example.com");
    s.wait_for_log("sending a welcome email to ada@example.com");
}

/// SIGTERM while a `GET path` is in flight (its handler has logged
/// `started`): the request gets `expected` and `rohas` exits cleanly.
pub fn shutdown_finishes_a_request_in_flight(s: &mut Server, path: &str, started: &str, expected: Value) {
    let url = s.url(path);
    let before = s.count_log(started);
    let in_flight = std::thread::spawn(move || get(&url));
    // Not a fixed pause: on a busy machine the request may take a while to
    // reach the handler, and a SIGTERM before that would refuse it.
    s.wait_for_log_count(started, before + 1);
    let status = s.terminate();
    assert!(status.success(), "exit status {status:?}:\n{}", s.log());
    assert_eq!(in_flight.join().unwrap(), (200, expected));
}

/// Four calls of the fixture's blocking `/blocking` handler at once, while
/// `/health` still answers.
pub fn blocking_handlers_do_not_stall_others(s: &Server) {
    let url = s.url("/blocking");
    let slow: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || get(&url))
        })
        .collect();
    assert_eq!(get(&s.url("/health")).0, 200);
    for t in slow {
        assert_eq!(t.join().unwrap(), (200, json!({"slept": true})));
    }
}

/// Under `rohas dev`, a new api saved into the schema gets its handler stub
/// (`src/handlers/api/ping.<extension>`) and its route.
pub fn a_new_api_in_the_schema_is_served(s: &Server, extension: &str) {
    std::fs::write(
        s.root.join("schema/extra.ro"),
        "api Ping {\n  method: GET\n  path: \"/ping\"\n  response: Json\n}\n",
    )
    .unwrap();
    s.wait_for_log("schema reloaded");
    assert!(s.root.join(format!("src/handlers/api/ping.{extension}")).is_file());
    assert_eq!(get(&s.url("/ping")).0, 200);
}
