//! Cron: a schedule runs its handler on every tick; a tick that comes while
//! the previous run is still going is skipped (and logged); a run's
//! triggers are published; a failed run does not stop the schedule.
//! The schedule ticks every second, so these tests take a second or two.

use crate::support::events::{listen, published};
use crate::support::{eventually, fixture, serve, FakeRuntime, Gate};
use rohas_runtime::HandlerKind;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[tokio::test]
async fn an_every_second_schedule_runs_the_handler() {
    let fake = FakeRuntime::new();
    fake.answer("cron:Every", json!({"n": 1}));
    listen(&fake, "Ticked", "note");
    let _app = serve(&fixture("cron.ro"), &fake).await;
    let calls = fake.wait_calls("cron:Every", 2).await;
    for call in &calls {
        assert_eq!(call.kind, HandlerKind::Cron);
        assert_eq!(call.request["name"], "Every");
        assert!(call.request["scheduled_at"].is_string(), "{}", call.request);
        assert_eq!(call.metadata["schedule"], "* * * * * *");
    }
    assert_ne!(calls[0].trace_id, calls[1].trace_id);
}

#[tokio::test]
async fn a_tick_during_a_run_is_skipped() {
    let fake = FakeRuntime::new();
    let gate = Gate::new();
    fake.gated("cron:Every", &gate, json!({"n": 1}));
    listen(&fake, "Ticked", "note");
    let app = serve(&fixture("cron.ro"), &fake).await;
    fake.wait_calls("cron:Every", 1).await;
    eventually("a skipped tick", || {
        (!app
            .logged("cron Every: previous run still going, tick skipped")
            .is_empty())
        .then_some(())
    })
    .await;
    assert_eq!(fake.calls_to("cron:Every").len(), 1);
    // Once the run ends, the next tick runs again.
    gate.open();
    fake.wait_calls("cron:Every", 2).await;
}

#[tokio::test]
async fn a_runs_triggers_are_published_with_its_return_value() {
    let fake = FakeRuntime::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    fake.on_call("cron:Every", move |_| {
        crate::support::ok(json!({"n": counter.fetch_add(1, Ordering::SeqCst) + 1}))
    });
    listen(&fake, "Ticked", "note");
    let _app = serve(&fixture("cron.ro"), &fake).await;
    let payloads = published(&fake, "Ticked", "note", 1).await;
    assert_eq!(payloads[0], json!({"n": 1}));
    let run = &fake.calls_to("cron:Every")[0];
    assert_eq!(fake.calls_to("event:Ticked:note")[0].trace_id, run.trace_id);
}

#[tokio::test]
async fn a_failed_run_is_logged_and_the_schedule_goes_on() {
    let fake = FakeRuntime::new();
    fake.fail("cron:Every", crate::support::failed("no database"));
    let app = serve(&fixture("cron.ro"), &fake).await;
    fake.wait_calls("cron:Every", 2).await;
    assert!(
        !app.logged("ERROR cron:Every").is_empty() && !app.logged("run failed: no database").is_empty(),
        "{:#?}",
        app.log.lines()
    );
}

/// A runtime that panics (the real ones catch their handlers' panics)
/// should cost one run, not the schedule.
#[tokio::test]
async fn a_panicking_run_does_not_stop_the_schedule() {
    let fake = FakeRuntime::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    fake.on("cron:Every", move |_, _| {
        let first = counter.fetch_add(1, Ordering::SeqCst) == 0;
        async move {
            if first {
                panic!("the runtime has a bug");
            }
            crate::support::ok(json!({"n": 2}))
        }
    });
    listen(&fake, "Ticked", "note");
    let _app = serve(&fixture("cron.ro"), &fake).await;
    fake.wait_calls("cron:Every", 2).await;
}
