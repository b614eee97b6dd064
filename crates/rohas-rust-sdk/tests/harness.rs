//! The Rust test harness (`rohas_runtime::testing`), driven through handlers
//! written as the generated glue writes them (`fn(Call) -> HandlerFuture`),
//! so event fan-out, cycles, the fake clock, WebSockets and middlewares are
//! checked without building a project. `crates/rohas-cli/tests/rust_harness_e2e.rs`
//! runs it on a real project's generated glue.

use rohas_rust_sdk::call::{Call, HandlerFuture, Registry};
use rohas_rust_sdk::testing::{
    rfc3339, ApiSpec, Blueprint, CronSpec, EventSpec, HarnessError, Request, TestEngine, WsSpec,
};
use rohas_rust_sdk::{Connection, Level, RuntimeError};
use serde_json::{json, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn create_user(call: Call) -> HandlerFuture {
    Box::pin(async move {
        let mut state = call.state();
        let body: Value = call.extract("body")?;
        state.logger().info(&format!("creating {}", body["name"]));
        let returned = state
            .trigger_event_after(
                "Reminder",
                json!({"name": body["name"]}),
                Duration::from_secs(3600),
            )
            .map(|()| json!({"id": 7, "name": body["name"]}));
        call.finish(returned, state)
    })
}

fn taken(call: Call) -> HandlerFuture {
    Box::pin(async move { call.reply(Err::<(), _>(RuntimeError::http(409, "name taken"))) })
}

fn boom(call: Call) -> HandlerFuture {
    Box::pin(async move {
        if call.trace_id().len() < 1000 {
            panic!("kaboom");
        }
        call.reply(Ok::<(), RuntimeError>(()))
    })
}

fn no_id(call: Call) -> HandlerFuture {
    Box::pin(async move { call.reply(Ok::<_, RuntimeError>(json!({"name": "x"}))) })
}

fn welcome(call: Call) -> HandlerFuture {
    Box::pin(async move {
        let mut state = call.state();
        let event: Value = call.extract("event")?;
        state.logger().info("welcome");
        let returned = state.trigger_event("EmailSent", json!({"to": event["name"]}));
        call.finish(returned, state)
    })
}

fn audit(call: Call) -> HandlerFuture {
    Box::pin(async move {
        // Reads the event object: payload fields, `payload`, `name`, `timestamp`.
        let state = call.state();
        let event = call.request().clone();
        state.logger().info(&format!(
            "audit {} at {}",
            event["name"], event["timestamp"]
        ));
        call.finish(Ok::<(), RuntimeError>(()), state)
    })
}

fn fails_for_good(call: Call) -> HandlerFuture {
    Box::pin(async move { call.reply(Err::<(), _>(RuntimeError::non_retryable("bad order"))) })
}

fn ok(call: Call) -> HandlerFuture {
    Box::pin(async move { call.reply(Ok::<(), RuntimeError>(())) })
}

fn ping(call: Call) -> HandlerFuture {
    Box::pin(async move {
        let mut state = call.state();
        let returned = state.trigger_event("Ping", json!({}));
        call.finish(returned, state)
    })
}

fn remind(call: Call) -> HandlerFuture {
    Box::pin(async move {
        let state = call.state();
        state
            .logger()
            .info(&format!("reminded at {}", rfc3339(state.now())));
        call.finish(Ok::<(), RuntimeError>(()), state)
    })
}

fn nightly(call: Call) -> HandlerFuture {
    Box::pin(async move {
        let request = call.request().clone();
        // The free function reads the same clock as `State::now`.
        let now = rfc3339(rohas_rust_sdk::now());
        call.reply(Ok::<_, RuntimeError>(
            json!({"scheduled_at": request["scheduled_at"], "now": now}),
        ))
    })
}

fn auth(call: Call) -> HandlerFuture {
    Box::pin(async move {
        let context: rohas_rust_sdk::HandlerContext = call.extract("context")?;
        let returned = match context.header("authorization") {
            Some(_) => Ok(Some(json!({"headers": {"x-user": "ada"}}))),
            None => Err(RuntimeError::http(401, "no token")),
        };
        call.reply(returned)
    })
}

fn chat_connect(call: Call) -> HandlerFuture {
    Box::pin(async move {
        let connection: Connection = call.extract("connection")?;
        call.reply(connection.send(json!({"hello": connection.id()})))
    })
}

fn chat_message(call: Call) -> HandlerFuture {
    Box::pin(async move {
        let message: Value = call.extract("message")?;
        call.reply(Ok::<_, RuntimeError>(json!({"echo": message["text"]})))
    })
}

fn register(registry: &mut Registry) {
    registry.add("api:CreateUser", create_user, 7);
    registry.add("api:Taken", taken, 0);
    registry.add("api:Boom", boom, 0);
    registry.add("api:NoId", no_id, 0);
    registry.add("event:UserCreated:welcome", welcome, 7);
    registry.add("event:UserCreated:audit", audit, 7);
    registry.add("event:EmailSent:count", ok, 0);
    registry.add("event:Audited:store", ok, 0);
    registry.add("event:Order:fails", fails_for_good, 0);
    registry.add("event:Ping:again", ping, 0);
    registry.add("event:Reminder:remind", remind, 0);
    registry.add("cron:Nightly", nightly, 7);
    registry.add("middleware:auth", auth, 7);
    registry.add("ws_connect:Chat", chat_connect, 0);
    registry.add("ws_message:Chat", chat_message, 7);
}

static BLUEPRINT: Blueprint = Blueprint {
    apis: &[
        ApiSpec {
            name: "CreateUser",
            triggers: &["UserCreated"],
        },
        ApiSpec {
            name: "Taken",
            triggers: &[],
        },
        ApiSpec {
            name: "Boom",
            triggers: &[],
        },
        ApiSpec {
            name: "NoId",
            triggers: &["UserCreated"],
        },
        ApiSpec {
            name: "Unserved",
            triggers: &[],
        },
    ],
    events: &[
        EventSpec {
            name: "UserCreated",
            handlers: &["event:UserCreated:welcome", "event:UserCreated:audit"],
            triggers: &["Audited"],
            check: Some(|event| match event["id"].is_i64() {
                true => Ok(()),
                false => Err("missing field `id`".into()),
            }),
        },
        EventSpec {
            name: "EmailSent",
            handlers: &["event:EmailSent:count"],
            triggers: &[],
            check: None,
        },
        EventSpec {
            name: "Audited",
            handlers: &["event:Audited:store"],
            triggers: &[],
            check: None,
        },
        EventSpec {
            name: "Order",
            handlers: &["event:Order:fails"],
            triggers: &["Audited"],
            check: None,
        },
        EventSpec {
            name: "Ping",
            handlers: &["event:Ping:again"],
            triggers: &[],
            check: None,
        },
        EventSpec {
            name: "Reminder",
            handlers: &["event:Reminder:remind"],
            triggers: &[],
            check: None,
        },
    ],
    crons: &[CronSpec {
        name: "Nightly",
        schedule: "0 0 * * *",
        triggers: &["Audited"],
    }],
    websockets: &[WsSpec {
        name: "Chat",
        broadcast: true,
        triggers: &[],
        on_connect: &["ws_connect:Chat"],
        on_message: &["ws_message:Chat"],
        on_disconnect: &["ws_disconnect:Chat"],
    }],
    middlewares: &["auth"],
    register,
};

fn harness() -> TestEngine {
    TestEngine::new(&BLUEPRINT)
}

#[test]
fn an_api_call_gives_the_typed_value_its_events_and_its_logs() {
    let h = harness();
    let result = h
        .call_api::<Value>("CreateUser", json!({"name": "ada"}))
        .unwrap();
    assert_eq!(result.value(), &json!({"id": 7, "name": "ada"}));
    // The api's `triggers` first, with the return value as payload, then the
    // delayed `trigger_event_after`.
    let events: Vec<(&str, Option<Duration>)> = result
        .events
        .iter()
        .map(|e| (e.event.as_str(), e.delay))
        .collect();
    assert_eq!(
        events,
        [
            ("UserCreated", None),
            ("Reminder", Some(Duration::from_secs(3600)))
        ]
    );
    assert_eq!(result.events[0].payload, json!({"id": 7, "name": "ada"}));
    assert_eq!(result.logs.len(), 1);
    assert_eq!(
        (result.logs[0].level, result.logs[0].message.as_str()),
        (Level::Info, "creating \"ada\"")
    );
}

#[test]
fn failures_are_http_errors_and_publish_nothing() {
    let h = harness();
    let taken = h.call_api::<Value>("Taken", ()).unwrap();
    let error = taken.error().expect("refused");
    assert_eq!((error.status, error.message.as_str()), (409, "name taken"));
    let boom = h.call_api::<Value>("Boom", ()).unwrap();
    let error = boom.error().expect("failed");
    assert_eq!(error.status, 500);
    assert!(
        error.message.contains("handler panicked: kaboom"),
        "{error:?}"
    );
    assert!(boom.events.is_empty());
}

#[test]
fn unknown_names_list_the_known_ones() {
    let h = harness();
    let error = h.call_api::<Value>("CreateUsr", ()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "no api `CreateUsr` in the schema; known: CreateUser, Taken, Boom, NoId, Unserved"
    );
    let error = h.publish("UserCreatd", json!({})).unwrap_err();
    assert!(
        error.to_string().contains("no event `UserCreatd`"),
        "{error}"
    );
    assert!(matches!(
        h.run_cron("Daily"),
        Err(HarnessError::Unknown { kind: "cron", .. })
    ));
    assert!(matches!(
        h.ws("Chatt"),
        Err(HarnessError::Unknown { kind: "ws", .. })
    ));
    let missing = h.call_api::<Value>("Unserved", ()).unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("handler `api:Unserved` is not in the library"),
        "{missing}"
    );
}

#[test]
fn publish_runs_every_subscriber_then_what_they_triggered() {
    let h = harness();
    let run = h
        .publish("UserCreated", json!({"id": 1, "name": "ada"}))
        .unwrap();
    assert_eq!(
        run.handlers(),
        [
            "event:UserCreated:welcome",
            "event:UserCreated:audit",
            "event:EmailSent:count",
            "event:Audited:store"
        ]
    );
    assert_eq!(run.events(), ["UserCreated", "EmailSent", "Audited"]);
    assert!(run.all_ok());
    assert_eq!(
        run.run("welcome").unwrap().triggered[0].payload,
        json!({"to": "ada"})
    );
    // The event's own trigger carries its payload.
    assert_eq!(run.published[2].payload, json!({"id": 1, "name": "ada"}));
    // The event object: a payload field (`name`) wins over the event's name.
    let audit = &run.run("audit").unwrap().logs[0].message;
    assert_eq!(audit, "audit \"ada\" at \"2025-01-01T00:00:00.000Z\"");
}

#[test]
fn a_failed_handler_stops_its_events_and_the_join() {
    let h = harness();
    let run = h.publish("Order", json!({})).unwrap();
    assert_eq!(run.handlers(), ["event:Order:fails"]);
    let failed = &run.runs[0];
    assert_eq!(failed.result.as_ref().unwrap_err().message, "bad order");
    assert!(!failed.retryable);
    assert_eq!(run.events(), ["Order"], "no `Audited`: a handler failed");
}

#[test]
fn a_payload_that_does_not_fit_its_event_fails_the_publisher() {
    let h = harness();
    let result = h.call_api::<Value>("NoId", ()).unwrap();
    let error = result.error().expect("the engine refuses to publish it");
    assert_eq!(
        (error.status, error.message.as_str()),
        (
            500,
            "invalid payload for event `UserCreated`: missing field `id`"
        )
    );
    assert!(result.events.is_empty());
}

#[test]
fn a_cycle_is_reported_with_its_chain() {
    let h = harness();
    let error = h.publish("Ping", json!({})).unwrap_err();
    let HarnessError::TooDeep { chain } = &error else {
        panic!("{error}");
    };
    assert!(
        chain.len() > 32 && chain.iter().all(|e| e == "Ping"),
        "{chain:?}"
    );
    assert!(error.to_string().contains("Ping -> Ping"), "{error}");
}

#[test]
fn delayed_events_wait_for_the_clock() {
    let h = harness();
    h.call_api::<Value>("CreateUser", json!({"name": "ada"}))
        .unwrap();
    assert_eq!(h.scheduled().len(), 1);
    assert!(h.run_due().unwrap().runs.is_empty(), "not due yet");
    h.clock().advance(Duration::from_secs(3599));
    assert!(h.run_due().unwrap().runs.is_empty(), "still a second early");
    h.clock().advance(Duration::from_secs(1));
    let run = h.run_due().unwrap();
    assert_eq!(run.handlers(), ["event:Reminder:remind"]);
    assert_eq!(
        run.runs[0].logs[0].message,
        "reminded at 2025-01-01T01:00:00.000Z"
    );
    assert!(h.scheduled().is_empty());
}

#[test]
fn cron_runs_on_the_fake_clock_and_publishes_its_triggers() {
    let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let h = TestEngine::starting_at(&BLUEPRINT, start);
    let run = h.run_cron("Nightly").unwrap();
    let value = run.result.clone().unwrap();
    assert_eq!(value["scheduled_at"], "2023-11-14T22:13:20.000Z");
    assert_eq!(value["now"], "2023-11-14T22:13:20.000Z");
    assert_eq!(run.triggered[0].event, "Audited");
    assert_eq!(h.clock().now(), start);
    assert!(SystemTime::now() > start);
}

#[test]
fn a_middleware_refuses_or_changes_the_request() {
    let h = harness();
    let refused = h.middleware("auth", Request::new()).unwrap();
    assert_eq!(refused.refused().map(|e| e.status), Some(401));
    let allowed = h
        .middleware("auth", Request::new().header("Authorization", "Bearer t"))
        .unwrap();
    assert!(allowed.allowed());
    let request = allowed.result.unwrap();
    assert_eq!(
        request.headers["x-user"], "ada",
        "the returned context replaces the headers"
    );
    assert!(matches!(
        h.middleware("cors", Request::new()),
        Err(HarnessError::Unknown { .. })
    ));
}

#[test]
fn a_ws_session_connects_exchanges_and_disconnects() {
    let h = harness();
    let chat = h.ws("Chat").unwrap();
    let connected = chat.connect().unwrap();
    assert_eq!(connected.sent, [json!({"hello": chat.connection_id()})]);
    let step = chat.message(json!({"text": "hi"})).unwrap();
    assert_eq!(
        step.broadcast,
        [json!({"echo": "hi"})],
        "broadcast: true sends the reply to all"
    );
    assert!(step.sent.is_empty());
    // No `on_disconnect` function: the engine skips a missing hook.
    assert!(chat.disconnect().unwrap().runs.is_empty());
}

#[test]
fn clock_formats_dates_as_the_engine_does() {
    assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    assert_eq!(
        rfc3339(UNIX_EPOCH + Duration::from_millis(951_782_400_123)),
        "2000-02-29T00:00:00.123Z"
    );
    assert_eq!(
        rfc3339(UNIX_EPOCH + Duration::from_secs(4_107_542_399)),
        "2100-02-28T23:59:59.000Z"
    );
}
