//! The telemetry API: `/telemetry/traces`, `/telemetry/traces/{id}`,
//! `/telemetry/logs` (and its live tail, `/telemetry/logs/stream`, as
//! server-sent events), `/telemetry/metrics`, and `/metrics` in the
//! Prometheus text format. The CLI (`rohas traces`, `rohas trace`,
//! `rohas logs`) and the workbench read the same JSON.
//!
//! Open on loopback; from elsewhere it needs the `[workbench] api_key` as a
//! bearer token, as the admin API does (`/metrics` alone can be opened with
//! `[telemetry] metrics_public`). Queries run on the blocking pool: they
//! read SQLite.

use crate::engine::Engine;
use crate::error::ApiError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use rohas_telemetry::{Gauge, LogQuery, MetricsQuery, QueryError, Reader, TraceQuery};
use serde_json::Value;
use std::time::Duration;

pub(crate) const PREFIX: &str = "/telemetry/";
pub(crate) const METRICS: &str = "/metrics";

/// Whether a path is the telemetry API's (a user's own route of the same
/// path wins; the caller checks that).
pub(crate) fn claims(path: &str) -> bool {
    path.starts_with(PREFIX) || path == METRICS
}

pub(crate) async fn answer(engine: Engine, loopback: bool, request: Request) -> Response {
    let trace_id = crate::log::new_trace_id();
    let path = request.uri().path().to_string();
    let shared = &engine.shared;
    let public = path == METRICS && shared.config.telemetry.metrics_public;
    if !public {
        let key = shared.config.workbench.api_key.as_ref();
        if let Err(e) = crate::admin::authorize("the telemetry API", key, loopback, request.headers(), &trace_id) {
            return e.into_response();
        }
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return ApiError::new(
            405,
            format!("{} is not allowed on {path}; use GET", request.method()),
            &trace_id,
        )
        .into_response();
    }
    let query = request.uri().query().unwrap_or("").to_string();
    if path == METRICS {
        return metrics(&engine).await;
    }
    let rest = path.trim_start_matches(PREFIX).trim_end_matches('/');
    let segments: Vec<&str> = rest.split('/').collect();
    let result = match segments.as_slice() {
        ["traces"] => {
            let q = TraceQuery::from_query(&query);
            read(&engine, move |r| r.traces(&q?).map(json)).await
        }
        ["traces", id] => {
            // A client's own `x-trace-id` may hold any character, so the
            // id comes percent-encoded.
            let id = crate::router::percent_decode(id);
            read(&engine, move |r| r.trace(&id).map(json)).await
        }
        ["logs"] => {
            let q = LogQuery::from_query(&query);
            read(&engine, move |r| r.logs(&q?).map(json)).await
        }
        ["logs", "stream"] => return tail(&engine, &query, &trace_id),
        ["metrics"] => {
            let q = MetricsQuery::from_query(&query);
            read(&engine, move |r| r.metrics(&q?)).await
        }
        _ => Err(QueryError::BadRequest(format!(
            "no telemetry route {path}; there are {PREFIX}traces, {PREFIX}traces/ID, {PREFIX}logs, {PREFIX}logs/stream, {PREFIX}metrics and {METRICS}"
        ))),
    };
    match result {
        Ok(value) => (StatusCode::OK, axum::Json(value)).into_response(),
        Err(QueryError::BadRequest(m)) if m.starts_with("no telemetry route") => {
            ApiError::new(404, m, &trace_id).into_response()
        }
        Err(e) => ApiError::new(e.status(), e.to_string(), &trace_id).into_response(),
    }
}

fn json<T: serde::Serialize>(v: T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

async fn read(
    engine: &Engine,
    query: impl FnOnce(&Reader) -> Result<Value, QueryError> + Send + 'static,
) -> Result<Value, QueryError> {
    let Some(reader) = engine.shared.telemetry.reader() else {
        return Err(QueryError::Store {
            path: engine.shared.config.telemetry.path.clone(),
            error: "telemetry is not stored: set [telemetry] enable_traces, enable_logs or enable_metrics".into(),
        });
    };
    let opened = std::time::Instant::now();
    let result = tokio::task::spawn_blocking(move || query(&reader))
        .await
        .unwrap_or_else(|e| Err(QueryError::BadRequest(format!("the query failed: {e}"))));
    if let Err(QueryError::Damaged { .. }) = &result {
        // Pages only reads touch: the writer would never find the damage.
        engine.shared.telemetry.damaged(opened);
    }
    result
}

async fn metrics(engine: &Engine) -> Response {
    let gauges = gauges(engine).await;
    engine.shared.telemetry.gauges(gauges);
    let text = engine.shared.telemetry.prometheus();
    let mut response = Response::new(Body::from(text));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(rohas_telemetry::metrics::prometheus::CONTENT_TYPE),
    );
    response
}

/// What the engine holds now: queue depth per handler, dead letters, open
/// WebSockets, requests in flight, and the runtime's own figures.
pub(crate) async fn gauges(engine: &Engine) -> Vec<Gauge> {
    let shared = &engine.shared;
    let mut out = Vec::new();
    let gauge = |name: &str, help: &str, labels: Vec<(String, String)>, value: f64| Gauge {
        name: name.into(),
        help: help.into(),
        labels,
        value,
        counter: false,
    };
    if let Ok(stats) = shared.bus.adapter.stats().await {
        for s in stats {
            let labels = vec![
                ("event".to_string(), s.event.clone()),
                ("handler".to_string(), s.handler.0.to_string()),
            ];
            out.push(gauge(
                "rohas_queue_depth",
                "Event messages waiting for a handler (due now or delayed).",
                labels.clone(),
                (s.ready + s.delayed) as f64,
            ));
            out.push(gauge(
                "rohas_events_in_flight",
                "Event deliveries running now.",
                labels.clone(),
                s.in_flight as f64,
            ));
            out.push(gauge("rohas_dead_letters", "Dead letters kept.", labels, s.dead as f64));
        }
    }
    out.push(gauge(
        "rohas_websocket_connections",
        "Open WebSocket connections.",
        Vec::new(),
        shared.host.sockets.count() as f64,
    ));
    for g in shared.runtime.gauges() {
        out.push(Gauge {
            counter: g.counter,
            ..gauge(g.name, g.help, Vec::new(), g.value)
        });
    }
    out.push(gauge(
        "rohas_requests_in_flight",
        "HTTP requests and WebSocket messages being handled.",
        Vec::new(),
        shared.in_flight.load(std::sync::atomic::Ordering::Relaxed) as f64,
    ));
    out
}

/// Reports the gauges every 10 seconds, so the stored series have them.
pub(crate) fn start_gauges(engine: &Engine) {
    if !engine.shared.telemetry.spans_on() {
        return;
    }
    let engine = engine.clone();
    tokio::spawn(async move {
        let stop = engine.shared.stop.clone();
        loop {
            let g = gauges(&engine).await;
            engine.shared.telemetry.gauges(g);
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(rohas_telemetry::metrics::RESOLUTION_S as u64)) => {}
                _ = stop.cancelled() => return,
            }
        }
    });
}

/// Live log lines as server-sent events: `data: <LogEntry JSON>` per line,
/// a comment every 15 s to keep the connection open, ended by shutdown.
fn tail(engine: &Engine, query: &str, trace_id: &str) -> Response {
    let q = match LogQuery::from_query(query) {
        Ok(q) => q,
        Err(e) => return ApiError::new(e.status(), e.to_string(), trace_id).into_response(),
    };
    let Some(rx) = engine.shared.telemetry.tail() else {
        return ApiError::new(
            503,
            "logs are not recorded: set [telemetry] enable_logs = true",
            trace_id,
        )
        .into_response();
    };
    let stop = engine.shared.stop.clone();
    let first = futures_util::stream::once(async {
        Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(": connected\n\n"))
    });
    let lines = futures_util::stream::unfold((rx, stop, q), |(mut rx, stop, q)| async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            let text = tokio::select! {
                _ = stop.cancelled() => return None,
                _ = tokio::time::sleep(Duration::from_secs(15)) => ": keep-alive\n\n".to_string(),
                got = rx.recv() => match got {
                    Ok(entry) if q.matches(&entry) => format!("data: {}\n\n", serde_json::to_string(&*entry).unwrap_or_default()),
                    Ok(_) => continue,
                    Err(RecvError::Lagged(n)) => format!(": {n} line(s) skipped (the reader was too slow)\n\n"),
                    Err(RecvError::Closed) => return None,
                },
            };
            return Some((Ok(axum::body::Bytes::from(text)), (rx, stop, q)));
        }
    });
    let mut response = Response::new(Body::from_stream(futures_util::StreamExt::chain(first, lines)));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
