//! Cron jobs: one task per job, sleeping until the next tick of its schedule
//! (croner; 5 fields, or 6 with seconds).
//!
//! A run still going when the next tick comes is not started twice: that
//! tick is skipped and logged. After a successful run the job's `triggers`
//! are published (payload: what the handler set, else its return value).

use crate::dispatch::invocation;
use crate::engine::Shared;
use chrono::{DateTime, Local, TimeZone, Utc};
use rohas_runtime::HandlerKind;
use rohas_telemetry::SpanKind;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::task::JoinHandle;

pub(crate) fn start_all(shared: &Arc<Shared>) -> Vec<JoinHandle<()>> {
    let live = shared.live.load();
    let utc = match shared.config.cron.timezone.as_deref() {
        None => false,
        Some(tz) if tz.eq_ignore_ascii_case("utc") => true,
        Some(other) => {
            shared.log.warn(&format!(
                "[cron] timezone = \"{other}\" is not supported yet; using the system time zone (set \"UTC\" or leave it unset)"
            ));
            false
        }
    };
    let mut tasks = Vec::new();
    for cron in &live.schema.crons {
        let schedule = match croner::Cron::new(&cron.schedule).with_seconds_optional().parse() {
            Ok(s) => s,
            Err(e) => {
                // Validation already rejects these; keep serving the rest.
                shared.log.error(&format!("cron {}: invalid schedule: {e}", cron.name));
                continue;
            }
        };
        let shared = shared.clone();
        let name = cron.name.clone();
        tasks.push(tokio::spawn(async move {
            let running = Arc::new(AtomicBool::new(false));
            loop {
                let next = if utc {
                    next_tick(&schedule, Utc)
                } else {
                    next_tick(&schedule, Local)
                };
                let Some(wait) = next else {
                    shared.log.warn(&format!("cron {name}: schedule has no future run"));
                    return;
                };
                // Shutdown: no new run starts; one already running finishes
                // (the drain waits for it).
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shared.stop.cancelled() => return,
                }
                let tick = rohas_events::Millis::now();
                match shared.bus.adapter.cron_lease(&name, tick).await {
                    Ok(true) => {}
                    Ok(false) => continue, // another engine runs this tick
                    Err(e) => {
                        shared.log.warn(&format!("cron {name}: tick skipped, no lease: {e}"));
                        continue;
                    }
                }
                if running.swap(true, Ordering::SeqCst) {
                    shared
                        .log
                        .warn(&format!("cron {name}: previous run still going, tick skipped"));
                    continue;
                }
                let (shared, name, running) = (shared.clone(), name.clone(), running.clone());
                tokio::spawn(async move {
                    // Cleared however the run ends, a panic included, so
                    // one bad run never stops the schedule.
                    let _clear = ClearOnDrop(running);
                    let _counted = crate::http::InFlight::enter(&shared);
                    run(&shared, &name).await;
                });
            }
        }));
    }
    tasks
}

struct ClearOnDrop(Arc<AtomicBool>);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

fn next_tick<Tz: TimeZone>(schedule: &croner::Cron, tz: Tz) -> Option<std::time::Duration> {
    let now: DateTime<Tz> = Utc::now().with_timezone(&tz);
    let next = schedule.find_next_occurrence(&now, false).ok()?;
    (next.with_timezone(&Utc) - Utc::now())
        .to_std()
        .ok()
        .or(Some(std::time::Duration::ZERO))
}

/// One run of a cron job, as the root span of its own trace.
pub(crate) async fn run(shared: &Arc<Shared>, name: &str) {
    let live = shared.live.load_full();
    let Some(cron) = live.schema.cron(name).cloned() else {
        return;
    };
    let id = format!("cron:{name}");
    let trace_id = crate::log::new_trace_id();
    let mut span = shared.open_span(&trace_id, None, || Arc::from(format!("cron {name}")), SpanKind::Cron);
    if let Some(open) = &mut span {
        open.span_mut().handler = Some(Arc::from(id.as_str()));
    }
    let span_id = crate::spans::id_of(&span);
    let mut call = invocation(id.as_str(), HandlerKind::Cron, &trace_id);
    let now = Utc::now().to_rfc3339();
    call.request = json!({ "name": name, "scheduled_at": now });
    call.metadata
        .insert("schedule".into(), Value::String(cron.schedule.clone()));
    let timeout = shared.timeout(HandlerKind::Cron, cron.timeout);
    let result = shared
        .call(call, timeout, span_id)
        .await
        .and_then(|outcome| shared.events_to_publish(&live, &cron.triggers, &outcome, || outcome.value.to_value()));
    let failure = match result {
        Ok(events) => {
            shared.log.line(
                crate::log::Level::Debug,
                &id,
                Some(&trace_id),
                "run finished",
                &Default::default(),
            );
            match shared.publish(events, &trace_id, &id, span_id).await {
                Ok(()) => None,
                Err(e) => {
                    let message = format!("run finished but its events could not be published: {e}");
                    shared.log.line(
                        crate::log::Level::Error,
                        &id,
                        Some(&trace_id),
                        &message,
                        &Default::default(),
                    );
                    Some(message)
                }
            }
        }
        Err(e) => {
            let message = format!("run failed: {e}");
            shared.log.line(
                crate::log::Level::Error,
                &id,
                Some(&trace_id),
                &message,
                &Default::default(),
            );
            Some(message)
        }
    };
    shared.close_span(span, |s| {
        if let Some(m) = failure {
            s.failed(m);
        }
    });
}
