//! Metrics, added up by the recorder's thread from the spans it receives
//! (so the request path pays nothing for them), plus gauges the engine
//! reports (queue depth, open WebSockets) and the process's own figures.
//!
//! Two views: cumulative totals since start for `/metrics` (Prometheus
//! text, [`prometheus`]) and 10-second points for the last hour for
//! `/telemetry/metrics` (stored as [`Point`]s).

pub mod process;
pub mod prometheus;

pub use process::ProcessStats;

use crate::span::{Span, SpanKind, SpanStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The duration histogram's upper bounds, in seconds (Prometheus's
/// defaults with a finer low end: most handlers answer in microseconds).
pub const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    /// Per bucket (not cumulative); the last is `+Inf`.
    pub counts: [u64; BUCKETS.len() + 1],
    pub sum_seconds: f64,
    pub count: u64,
}

impl Histogram {
    pub fn observe(&mut self, seconds: f64) {
        let i = BUCKETS.iter().position(|b| seconds <= *b).unwrap_or(BUCKETS.len());
        self.counts[i] += 1;
        self.sum_seconds += seconds;
        self.count += 1;
    }

    /// The value below which `q` of the observations fall, estimated by
    /// linear interpolation inside a bucket (as Prometheus's
    /// `histogram_quantile` does).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = q * self.count as f64;
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            if c > 0 && (seen + c) as f64 >= rank {
                let lower = if i == 0 { 0.0 } else { BUCKETS[i - 1] };
                let upper = BUCKETS.get(i).copied().unwrap_or(lower);
                let within = (rank - seen as f64) / c as f64;
                return Some(lower + (upper - lower) * within.clamp(0.0, 1.0));
            }
            seen += c;
        }
        BUCKETS.last().copied()
    }

    fn minus(&self, earlier: &Histogram) -> Histogram {
        let mut out = self.clone();
        for (a, b) in out.counts.iter_mut().zip(earlier.counts.iter()) {
            *a = a.saturating_sub(*b);
        }
        out.sum_seconds -= earlier.sum_seconds;
        out.count = out.count.saturating_sub(earlier.count);
        out
    }
}

/// Calls of one handler.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HandlerStats {
    pub ok: u64,
    pub errors: u64,
    pub duration: Histogram,
}

impl HandlerStats {
    fn count(&mut self, span: &Span) {
        match span.status {
            SpanStatus::Ok => self.ok += 1,
            SpanStatus::Error => self.errors += 1,
        }
        self.duration.observe(span.duration_ns as f64 / 1e9);
    }
}

/// Counts by event, then handler id: found by the span's texts, so a pair
/// already counted costs no key built (a `(event, handler)` key cloned two
/// `Arc`s per delivery, and its `entry` two more).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PairCounts(BTreeMap<Arc<str>, BTreeMap<Arc<str>, u64>>);

impl PairCounts {
    pub fn add(&mut self, event: &Arc<str>, handler: &Arc<str>) {
        let handlers = match self.0.get_mut(&**event) {
            Some(h) => h,
            None => self.0.entry(Arc::clone(event)).or_default(),
        };
        match handlers.get_mut(&**handler) {
            Some(n) => *n += 1,
            None => {
                handlers.insert(Arc::clone(handler), 1);
            }
        }
    }

    pub fn get(&self, event: &str, handler: &str) -> u64 {
        self.0.get(event).and_then(|h| h.get(handler)).copied().unwrap_or(0)
    }

    /// `((event, handler), count)`, ordered by event then handler.
    pub fn iter(&self) -> impl Iterator<Item = ((&Arc<str>, &Arc<str>), u64)> {
        self.0
            .iter()
            .flat_map(|(event, handlers)| handlers.iter().map(move |(handler, n)| ((event, handler), *n)))
    }
}

/// Everything counted since the recorder started.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    /// By handler id (its kind, `api`, `event`, `cron`, `ws`, `middleware`,
    /// is [`handler_kind`] of it).
    pub handlers: BTreeMap<Arc<str>, HandlerStats>,
    pub published: BTreeMap<Arc<str>, u64>,
    /// By event, then handler id.
    pub delivered: PairCounts,
    pub failed: PairCounts,
    pub dead_lettered: PairCounts,
    /// Records the recorder could not take (its queue was full).
    pub dropped_spans: u64,
    pub dropped_logs: u64,
    /// Records taken but not stored (the store was not writable).
    pub unstored: u64,
}

impl Totals {
    /// Counts one finished span.
    pub fn add(&mut self, span: &Span) {
        match span.kind {
            SpanKind::Handler => {
                let Some(handler) = &span.handler else { return };
                // Looked up by text, once: a span's `Arc` is often not the
                // one the map holds, and cloning it for `entry` costs more.
                match self.handlers.get_mut(&**handler) {
                    Some(stats) => stats.count(span),
                    None => {
                        let mut stats = HandlerStats::default();
                        stats.count(span);
                        self.handlers.insert(Arc::clone(handler), stats);
                    }
                }
            }
            SpanKind::Publish => {
                if let Some(event) = &span.event {
                    match self.published.get_mut(&**event) {
                        Some(n) => *n += 1,
                        None => {
                            self.published.insert(Arc::clone(event), 1);
                        }
                    }
                }
            }
            SpanKind::Delivery => {
                let (Some(event), Some(handler)) = (&span.event, &span.handler) else {
                    return;
                };
                match span.status {
                    SpanStatus::Ok => self.delivered.add(event, handler),
                    SpanStatus::Error => self.failed.add(event, handler),
                }
                if span.dead_lettered {
                    self.dead_lettered.add(event, handler);
                }
            }
            _ => {}
        }
    }
}

/// `api:CreateUser` → `api`; `event:UserCreated:sendWelcome` → `event`.
pub fn handler_kind(handler: &str) -> &str {
    handler.split_once(':').map_or(handler, |(kind, _)| kind)
}

/// A value the engine reports at a moment (queue depth, open WebSockets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gauge {
    /// A Prometheus metric name (`rohas_queue_depth`).
    pub name: String,
    pub help: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
    /// A count that only grows (shown as a Prometheus `counter`).
    #[serde(default)]
    pub counter: bool,
}

/// One stored point of a 10-second series.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The end of the 10-second window, Unix seconds.
    pub at_s: i64,
    pub name: String,
    /// Canonical JSON of the labels (`{"handler":"api:Health"}`).
    pub labels: String,
    pub value: f64,
}

/// Seconds between two points of a series.
pub const RESOLUTION_S: i64 = 10;

/// The points for one window: what happened since `earlier` (counts,
/// errors, p50/p95/p99 per handler; events), the gauges' latest values and
/// the process's figures.
pub fn window_points(
    at_s: i64,
    now: &Totals,
    earlier: &Totals,
    gauges: &[Gauge],
    process: Option<&ProcessStats>,
) -> Vec<Point> {
    let mut points = Vec::new();
    let mut push = |name: &str, labels: &[(&str, &str)], value: f64| {
        let map: BTreeMap<&str, &str> = labels.iter().copied().collect();
        points.push(Point {
            at_s,
            name: name.to_string(),
            labels: serde_json::to_string(&map).unwrap_or_default(),
            value,
        });
    };
    for (handler, stats) in &now.handlers {
        let kind = handler_kind(handler);
        let before = earlier.handlers.get(handler);
        let calls = stats.ok + stats.errors - before.map_or(0, |b| b.ok + b.errors);
        if calls == 0 {
            continue;
        }
        let labels = [("handler", &**handler), ("kind", kind)];
        push("calls", &labels, calls as f64);
        push(
            "errors",
            &labels,
            (stats.errors - before.map_or(0, |b| b.errors)) as f64,
        );
        let window = before.map_or(stats.duration.clone(), |b| stats.duration.minus(&b.duration));
        for (q, name) in [(0.5, "p50_seconds"), (0.95, "p95_seconds"), (0.99, "p99_seconds")] {
            if let Some(v) = window.quantile(q) {
                push(name, &labels, v);
            }
        }
    }
    for (event, n) in &now.published {
        let d = n - earlier.published.get(event).copied().unwrap_or(0);
        if d > 0 {
            push("events_published", &[("event", event)], d as f64);
        }
    }
    for (name, map, old) in [
        ("events_delivered", &now.delivered, &earlier.delivered),
        ("events_failed", &now.failed, &earlier.failed),
        ("events_dead_lettered", &now.dead_lettered, &earlier.dead_lettered),
    ] {
        for ((event, handler), n) in map.iter() {
            let d = n - old.get(event, handler);
            if d > 0 {
                push(name, &[("event", event), ("handler", handler)], d as f64);
            }
        }
    }
    for g in gauges {
        let labels: Vec<(&str, &str)> = g.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        push(&g.name, &labels, g.value);
    }
    if let Some(p) = process {
        push("process_cpu_seconds_total", &[], p.cpu_seconds);
        push("process_resident_memory_bytes", &[], p.rss_bytes as f64);
        push("process_open_fds", &[], p.open_fds as f64);
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_fall_in_the_right_bucket() {
        let mut h = Histogram::default();
        for _ in 0..90 {
            h.observe(0.0008);
        }
        for _ in 0..10 {
            h.observe(0.2);
        }
        let p50 = h.quantile(0.5).unwrap();
        assert!((0.0005..=0.001).contains(&p50), "{p50}");
        let p99 = h.quantile(0.99).unwrap();
        assert!((0.1..=0.25).contains(&p99), "{p99}");
        assert_eq!(Histogram::default().quantile(0.5), None);
    }

    #[test]
    fn spans_are_counted_by_kind() {
        let mut t = Totals::default();
        let mut call = Span::new(
            "t",
            crate::SpanId::random(),
            None,
            Arc::from("api:A"),
            SpanKind::Handler,
        );
        call.handler = Some(Arc::from("api:A"));
        call.duration_ns = 2_000_000;
        t.add(&call);
        call.failed("boom");
        t.add(&call);
        let mut delivery = Span::new(
            "t",
            crate::SpanId::random(),
            None,
            Arc::from("E → h"),
            SpanKind::Delivery,
        );
        delivery.event = Some(Arc::from("E"));
        delivery.handler = Some(Arc::from("event:E:h"));
        delivery.failed("no");
        delivery.dead_lettered = true;
        t.add(&delivery);
        let stats = &t.handlers["api:A"];
        assert_eq!(handler_kind("api:A"), "api");
        assert_eq!(handler_kind("event:E:h"), "event");
        assert_eq!((stats.ok, stats.errors, stats.duration.count), (1, 1, 2));
        assert_eq!(t.failed.get("E", "event:E:h"), 1);
        assert_eq!(t.dead_lettered.get("E", "event:E:h"), 1);
        assert_eq!(t.delivered.iter().count(), 0);
        // Counted again without a new key; another handler of the event.
        t.add(&delivery);
        delivery.handler = Some(Arc::from("event:E:g"));
        t.add(&delivery);
        let failed: Vec<_> = t
            .failed
            .iter()
            .map(|((e, h), n)| (e.to_string(), h.to_string(), n))
            .collect();
        assert_eq!(
            failed,
            [("E".into(), "event:E:g".into(), 1), ("E".into(), "event:E:h".into(), 2)]
        );
    }
}
