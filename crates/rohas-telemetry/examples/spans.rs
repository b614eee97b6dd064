//! What recording and storing spans costs, without a server around it:
//! a request span and its handler span, `N` times (as `/health` makes
//! them), into a store in a temporary folder, then a flush. Prints the
//! process's CPU time per span (recording thread and writer together).
//! `cargo run --release -p rohas-telemetry --example spans [N]`.

use rohas_telemetry::{new_trace_id_at, Options, Span, SpanId, SpanKind, Telemetry, Timer};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// CPU time of this process's threads so far, in nanoseconds (Linux:
/// each thread's `schedstat`; the writer thread included).
fn cpu_seconds() -> f64 {
    let tasks = std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten();
    let ns: u64 = tasks
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()))
        .sum();
    ns as f64 / 1e9
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(500_000);
    let dir = tempfile::tempdir().unwrap();
    let telemetry = Telemetry::start(Options {
        folder: Some(dir.path().to_path_buf()),
        ..Options::default()
    });
    let request: Arc<str> = Arc::from("GET /health");
    let handler: Arc<str> = Arc::from("api:Health");
    let started = Instant::now();
    let cpu = cpu_seconds();
    for i in 0..n {
        // As the engine does: one clock read for the request's start and
        // its new trace id.
        let timer = Timer::start();
        let trace_id = new_trace_id_at(timer.start_ns());
        let root = SpanId::random();
        let mut call = Span::new(
            trace_id.as_str(),
            SpanId::random(),
            Some(root),
            Arc::clone(&handler),
            SpanKind::Handler,
        );
        call.handler = Some(Arc::clone(&handler));
        Timer::start().stop(&mut call);
        telemetry.span(call);
        let mut span = Span::new(trace_id, root, None, Arc::clone(&request), SpanKind::Request);
        span.status_code = Some(200);
        timer.stop(&mut span);
        telemetry.span(span);
        // Paced a little, as requests come: the writer's batches stay
        // the size a busy server gives it.
        if i % 1000 == 999 {
            std::thread::sleep(Duration::from_micros(500));
        }
    }
    telemetry.flush(Duration::from_secs(60));
    let cpu = cpu_seconds() - cpu;
    let spans = 2 * n;
    let bytes: u64 = std::fs::read_dir(dir.path())
        .map(|d| d.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum())
        .unwrap_or(0);
    // Spans the recorder had no room for (a cheaper run that drops is no gain).
    let dropped = telemetry
        .prometheus()
        .lines()
        .find(|l| l.starts_with("rohas_telemetry_dropped_total{record=\"span\"}"))
        .and_then(|l| l.split_whitespace().last().map(str::to_string))
        .unwrap_or_default();
    println!(
        "{spans} spans in {:.2} s: {:.0} ns CPU per span, {:.0} bytes stored per span, {dropped} dropped",
        started.elapsed().as_secs_f64(),
        cpu / spans as f64 * 1e9,
        bytes as f64 / spans as f64
    );
}
