//! Cron jobs: one task per job, sleeping until the next tick of its schedule
//! (croner; 5 fields, or 6 with seconds; a 7th field, the year, is checked
//! here since croner has none).
//!
//! A run still going when the next tick comes is not started twice: that
//! tick is skipped and logged. After a successful run the job's `triggers`
//! are published (payload: what the handler set, else its return value).

use crate::dispatch::invocation;
use crate::engine::Shared;
use chrono::{DateTime, Datelike, Local, NaiveDate, TimeZone, Utc};
use rohas_runtime::{HandlerId, HandlerKind};
use rohas_schema::model::Years;
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
        let schedule = match croner::Cron::new(&cron.expression()).with_seconds_optional().parse() {
            Ok(s) => s,
            Err(e) => {
                // Validation already rejects these; keep serving the rest.
                shared.log.error(&format!("cron {}: invalid schedule: {e}", cron.name));
                continue;
            }
        };
        let shared = shared.clone();
        let name = cron.name.clone();
        let years = cron.years.clone();
        tasks.push(tokio::spawn(async move {
            let running = Arc::new(AtomicBool::new(false));
            loop {
                let next = if utc {
                    next_tick(&schedule, years.as_ref(), Utc)
                } else {
                    next_tick(&schedule, years.as_ref(), Local)
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

fn next_tick<Tz: TimeZone>(schedule: &croner::Cron, years: Option<&Years>, tz: Tz) -> Option<std::time::Duration> {
    let now: DateTime<Tz> = Utc::now().with_timezone(&tz);
    let next = next_occurrence(schedule, years, &now)?;
    (next.with_timezone(&Utc) - Utc::now())
        .to_std()
        .ok()
        .or(Some(std::time::Duration::ZERO))
}

/// The first tick after `from` in one of `years` (any year when `None`).
/// A tick in a year the schedule skips jumps to the start of the next year
/// it runs in, so a schedule for 2030 costs one search, not one per tick.
fn next_occurrence<Tz: TimeZone>(
    schedule: &croner::Cron,
    years: Option<&Years>,
    from: &DateTime<Tz>,
) -> Option<DateTime<Tz>> {
    let mut from = from.clone();
    // Each pass either returns or moves `from` to a later year.
    for _ in 0..=(Years::LAST - Years::FIRST) {
        let next = schedule.find_next_occurrence(&from, false).ok()?;
        let Some(years) = years else { return Some(next) };
        if years.contains(next.year()) {
            return Some(next);
        }
        let year = years.next_from(next.year() + 1)?;
        let start = NaiveDate::from_ymd_opt(year, 1, 1)?.and_hms_opt(0, 0, 0)?;
        // Just before midnight of 1 January, so a tick at exactly that time counts.
        from = from.timezone().from_local_datetime(&start).earliest()? - chrono::Duration::seconds(1);
    }
    None
}

/// One run of a cron job, as the root span of its own trace.
pub(crate) async fn run(shared: &Arc<Shared>, name: &str) {
    let live = shared.live.load_full();
    let Some(cron) = live.schema.cron(name).cloned() else {
        return;
    };
    let id = HandlerId::cron(name);
    let trace_id = crate::log::new_trace_id();
    let mut span = shared.open_span(&trace_id, None, || Arc::from(format!("cron {name}")), SpanKind::Cron);
    if let Some(open) = &mut span {
        open.span_mut().handler = Some(id.to_arc());
    }
    let span_id = crate::spans::id_of(&span);
    let mut call = invocation(id.clone(), HandlerKind::Cron, &trace_id);
    let now = Utc::now().to_rfc3339();
    call.request = json!({ "name": name, "scheduled_at": now });
    call.metadata
        .insert("schedule".into(), Value::String(cron.schedule.clone()));
    let timeout = shared.timeout(HandlerKind::Cron, cron.timeout);
    let result = shared.call(call, timeout, span_id).await.and_then(|mut outcome| {
        shared.events_to_publish(&live, &cron.triggers, &mut outcome, |o| {
            crate::dispatch::raw_json(o.value.json().to_string())
        })
    });
    // A failed run is an error line and a failed span, with one message.
    let failed = |message: String| {
        shared.log.line(
            crate::log::Level::Error,
            &id,
            Some(&trace_id),
            &message,
            &Default::default(),
        );
        Some(message)
    };
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
                Err(e) => failed(format!("run finished but its events could not be published: {e}")),
            }
        }
        Err(e) => failed(format!("run failed: {e}")),
    };
    shared.close_span(span, |s| {
        if let Some(m) = failure {
            s.failed(m);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn a_year_field_skips_to_the_years_it_names() {
        let schedule = croner::Cron::new("0 0 12 1 * *")
            .with_seconds_optional()
            .parse()
            .unwrap();
        let years = Years {
            ranges: vec![(2030, 2030, 1), (2032, 2099, 2)],
        };
        let from = at(2026, 5, 17, 8, 0);
        assert_eq!(
            next_occurrence(&schedule, Some(&years), &from),
            Some(at(2030, 1, 1, 12, 0))
        );
        assert_eq!(
            next_occurrence(&schedule, Some(&years), &at(2030, 12, 1, 12, 0)),
            Some(at(2032, 1, 1, 12, 0))
        );
        assert_eq!(next_occurrence(&schedule, None, &from), Some(at(2026, 6, 1, 12, 0)));
        // Midnight of 1 January itself is a tick of a schedule that names it.
        let midnight = croner::Cron::new("0 0 1 1 *").with_seconds_optional().parse().unwrap();
        let only = Years {
            ranges: vec![(2031, 2031, 1)],
        };
        assert_eq!(
            next_occurrence(&midnight, Some(&only), &from),
            Some(at(2031, 1, 1, 0, 0))
        );
        // Past the last year: no future run.
        let past = Years {
            ranges: vec![(2020, 2021, 1)],
        };
        assert_eq!(next_occurrence(&schedule, Some(&past), &from), None);
    }
}
