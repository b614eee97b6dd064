//! The Prometheus text exposition format (version 0.0.4) of the totals:
//! names and labels by Prometheus's conventions (`_total` counters,
//! `_seconds` histograms, snake_case labels `handler`, `kind`, `status`).

use super::{Gauge, ProcessStats, Totals, BUCKETS};
use std::fmt::Write;

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub fn render(totals: &Totals, gauges: &[Gauge], process: Option<&ProcessStats>) -> String {
    let mut out = String::with_capacity(4096);
    family(
        &mut out,
        "rohas_handler_calls_total",
        "counter",
        "Handler calls, by handler, kind and status.",
    );
    for (handler, s) in &totals.handlers {
        let kind = super::handler_kind(handler);
        for (status, n) in [("ok", s.ok), ("error", s.errors)] {
            sample(
                &mut out,
                "rohas_handler_calls_total",
                &[("handler", handler), ("kind", kind), ("status", status)],
                n as f64,
            );
        }
    }
    family(
        &mut out,
        "rohas_handler_duration_seconds",
        "histogram",
        "How long handler calls took.",
    );
    for (handler, s) in &totals.handlers {
        let kind = super::handler_kind(handler);
        let mut cumulative = 0;
        for (i, n) in s.duration.counts.iter().enumerate() {
            cumulative += n;
            let le = BUCKETS.get(i).map_or_else(|| "+Inf".to_string(), |b| b.to_string());
            sample(
                &mut out,
                "rohas_handler_duration_seconds_bucket",
                &[("handler", handler), ("kind", kind), ("le", &le)],
                cumulative as f64,
            );
        }
        sample(
            &mut out,
            "rohas_handler_duration_seconds_sum",
            &[("handler", handler), ("kind", kind)],
            s.duration.sum_seconds,
        );
        sample(
            &mut out,
            "rohas_handler_duration_seconds_count",
            &[("handler", handler), ("kind", kind)],
            s.duration.count as f64,
        );
    }
    family(
        &mut out,
        "rohas_events_published_total",
        "counter",
        "Event messages published, by event.",
    );
    for (event, n) in &totals.published {
        sample(&mut out, "rohas_events_published_total", &[("event", event)], *n as f64);
    }
    for (name, help, map) in [
        (
            "rohas_events_delivered_total",
            "Event deliveries that succeeded, by event and handler.",
            &totals.delivered,
        ),
        (
            "rohas_events_failed_total",
            "Event delivery attempts that failed, by event and handler.",
            &totals.failed,
        ),
        (
            "rohas_events_dead_lettered_total",
            "Event messages kept as dead letters, by event and handler.",
            &totals.dead_lettered,
        ),
    ] {
        family(&mut out, name, "counter", help);
        for ((event, handler), n) in map.iter() {
            sample(&mut out, name, &[("event", event), ("handler", handler)], n as f64);
        }
    }
    family(
        &mut out,
        "rohas_telemetry_dropped_total",
        "counter",
        "Telemetry records dropped because the recorder's queue was full.",
    );
    sample(
        &mut out,
        "rohas_telemetry_dropped_total",
        &[("record", "span")],
        totals.dropped_spans as f64,
    );
    sample(
        &mut out,
        "rohas_telemetry_dropped_total",
        &[("record", "log")],
        totals.dropped_logs as f64,
    );
    family(
        &mut out,
        "rohas_telemetry_unstored_total",
        "counter",
        "Telemetry records not stored because the store could not be written.",
    );
    sample(&mut out, "rohas_telemetry_unstored_total", &[], totals.unstored as f64);
    // A family's samples must be one group: the engine reports its gauges
    // per handler (depth, in flight, dead letters, then the next handler),
    // so they are gathered by name, in the order names first appear.
    let mut names: Vec<&str> = Vec::new();
    for g in gauges {
        if !names.contains(&g.name.as_str()) {
            names.push(&g.name);
        }
    }
    for name in names {
        let mut of_name = gauges.iter().filter(|g| g.name == name).peekable();
        if let Some(first) = of_name.peek() {
            family(
                &mut out,
                name,
                if first.counter { "counter" } else { "gauge" },
                &first.help,
            );
        }
        for g in of_name {
            let labels: Vec<(&str, &str)> = g.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            sample(&mut out, name, &labels, g.value);
        }
    }
    if let Some(p) = process {
        family(
            &mut out,
            "process_cpu_seconds_total",
            "counter",
            "Total user and system CPU time spent in seconds.",
        );
        sample(&mut out, "process_cpu_seconds_total", &[], p.cpu_seconds);
        family(
            &mut out,
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
        );
        sample(&mut out, "process_resident_memory_bytes", &[], p.rss_bytes as f64);
        family(
            &mut out,
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
        );
        sample(&mut out, "process_open_fds", &[], p.open_fds as f64);
        if let Some(max) = p.max_fds {
            family(
                &mut out,
                "process_max_fds",
                "gauge",
                "Maximum number of open file descriptors.",
            );
            sample(&mut out, "process_max_fds", &[], max as f64);
        }
        family(
            &mut out,
            "process_threads",
            "gauge",
            "Number of OS threads in the process.",
        );
        sample(&mut out, "process_threads", &[], p.threads as f64);
    }
    out
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {}", help.replace('\\', "\\\\").replace('\n', "\\n"));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape(v));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {}", number(value));
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::{Span, SpanKind};
    use std::sync::Arc;

    #[test]
    fn handler_calls_render_with_escaped_labels_and_cumulative_buckets() {
        let mut totals = Totals::default();
        let mut span = Span::new("t", crate::SpanId::random(), None, Arc::from("x"), SpanKind::Handler);
        span.handler = Some(Arc::from("api:Say\"hi\""));
        span.duration_ns = 3_000_000;
        totals.add(&span);
        totals.add(&span);
        let text = render(&totals, &[], None);
        assert!(
            text.contains(r#"rohas_handler_calls_total{handler="api:Say\"hi\"",kind="api",status="ok"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"rohas_handler_duration_seconds_bucket{handler="api:Say\"hi\"",kind="api",le="0.0025"} 0"#),
            "{text}"
        );
        assert!(
            text.contains(r#"rohas_handler_duration_seconds_bucket{handler="api:Say\"hi\"",kind="api",le="0.005"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"rohas_handler_duration_seconds_bucket{handler="api:Say\"hi\"",kind="api",le="+Inf"} 2"#),
            "{text}"
        );
        assert!(text.contains("# TYPE rohas_handler_duration_seconds histogram"));
    }

    #[test]
    fn gauges_reported_per_handler_render_one_group_per_name() {
        let gauge = |name: &str, handler: &str| Gauge {
            name: name.into(),
            help: format!("{name} help"),
            labels: vec![("handler".into(), handler.into())],
            value: 1.0,
            counter: false,
        };
        let gauges = [
            gauge("rohas_queue_depth", "a"),
            gauge("rohas_dead_letters", "a"),
            gauge("rohas_queue_depth", "b"),
            gauge("rohas_dead_letters", "b"),
        ];
        let text = render(&Totals::default(), &gauges, None);
        let at = |line: &str| text.find(line).unwrap_or_else(|| panic!("no {line:?} in {text}"));
        assert_eq!(text.matches("# TYPE rohas_queue_depth gauge").count(), 1, "{text}");
        assert!(
            at(r#"rohas_queue_depth{handler="b"}"#) < at("# TYPE rohas_dead_letters gauge"),
            "{text}"
        );
        assert!(
            at(r#"rohas_dead_letters{handler="a"}"#) < at(r#"rohas_dead_letters{handler="b"}"#),
            "{text}"
        );
    }
}
