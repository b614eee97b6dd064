//! The per-event work, as bench/events/rohas-python/src/tick_counter.py:
//! take the time, count the event, keep its publish-to-handled latency; when
//! a run has seen `expected` events, write its marker (a JSON file named after
//! the run in $BENCH_EVENTS_MARKERS, written under a temporary name and
//! renamed). Deliveries may run on several engine threads: one mutex.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

struct Counter {
    run: String,
    count: i64,
    first_publish: i64,
    latencies: Vec<i64>,
}

static COUNTER: Mutex<Counter> = Mutex::new(Counter {
    run: String::new(),
    count: 0,
    first_publish: 0,
    latencies: Vec::new(),
});

pub fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

pub fn handled(run: &str, expected: i64, t: i64) {
    let now = now_ns();
    let mut c = COUNTER.lock().unwrap_or_else(|e| e.into_inner());
    if c.run != run {
        c.run = run.to_string();
        c.count = 0;
        c.first_publish = t;
        c.latencies = Vec::new();
    }
    c.count += 1;
    if t < c.first_publish {
        c.first_publish = t;
    }
    c.latencies.push(now - t);
    if c.count == expected {
        let latencies = std::mem::take(&mut c.latencies);
        let (count, first) = (c.count, c.first_publish);
        drop(c);
        write_marker(run, count, first, now, latencies);
    }
}

/// Nearest rank, as the Python version.
fn percentile(ordered: &[i64], q: f64) -> i64 {
    let rank = ((ordered.len() as f64) * q).ceil().max(1.0) as usize;
    ordered[rank - 1]
}

fn write_marker(run: &str, count: i64, first_publish: i64, last_handled: i64, mut latencies: Vec<i64>) {
    latencies.sort_unstable();
    let sum: i128 = latencies.iter().map(|&l| l as i128).sum();
    let marker = serde_json::json!({
        "run": run,
        "count": count,
        "first_publish_ns": first_publish,
        "last_handled_ns": last_handled,
        "p50_ns": percentile(&latencies, 0.50),
        "p99_ns": percentile(&latencies, 0.99),
        "max_ns": latencies[latencies.len() - 1],
        "mean_ns": (sum / latencies.len() as i128) as i64,
        "pid": std::process::id(),
    });
    let folder = std::env::var("BENCH_EVENTS_MARKERS").unwrap_or_else(|_| ".".into());
    let tmp = format!("{folder}/.{run}.tmp");
    if std::fs::write(&tmp, marker.to_string()).is_ok() {
        let _ = std::fs::rename(&tmp, format!("{folder}/{run}.json"));
    }
}
