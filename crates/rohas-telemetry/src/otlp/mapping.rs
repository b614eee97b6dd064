//! Rohas spans and log lines as OTLP messages.
//!
//! Attribute names follow OpenTelemetry's semantic conventions where one
//! exists (`http.response.status_code`, `messaging.destination.name`,
//! `messaging.message.id`); the rest are under `rohas.`. The Rohas kind
//! (`request`, `middleware`, `cron` …) is kept as `rohas.span.kind`,
//! since OTLP's five kinds cannot tell most of them apart.

use crate::log::{Level, LogEntry};
use crate::span::{Span, SpanKind, SpanStatus};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    self as otlp, span::SpanKind as OtlpKind, status::StatusCode, ResourceSpans, ScopeSpans,
};
use serde_json::Value;

/// The W3C "sampled" trace flag: only sampled traces reach an exporter.
const SAMPLED: u32 = 0x01;
/// OTLP span flags: whether the parent is remote is known (bit 8) and
/// its value (bit 9).
const HAS_IS_REMOTE: u32 = 0x100;
const IS_REMOTE: u32 = 0x200;

/// The resource every batch carries: who sent it.
pub fn resource(service_name: &str, service_version: Option<&str>) -> Resource {
    let mut attributes = vec![kv("service.name", string(service_name))];
    if let Some(v) = service_version {
        attributes.push(kv("service.version", string(v)));
    }
    attributes.push(kv("telemetry.sdk.name", string("rohas")));
    attributes.push(kv("telemetry.sdk.language", string("rust")));
    attributes.push(kv("telemetry.sdk.version", string(env!("CARGO_PKG_VERSION"))));
    Resource {
        attributes,
        ..Resource::default()
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: "rohas".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        ..InstrumentationScope::default()
    }
}

pub fn traces_request(resource: &Resource, spans: &[&Span]) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource.clone()),
            scope_spans: vec![ScopeSpans {
                scope: Some(scope()),
                spans: spans.iter().map(|s| span(s)).collect(),
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

pub fn logs_request(resource: &Resource, logs: &[&LogEntry]) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(resource.clone()),
            scope_logs: vec![ScopeLogs {
                scope: Some(scope()),
                log_records: logs.iter().map(|l| log_record(l)).collect(),
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// The OTLP kind: the edges of the process are SERVER (an HTTP request
/// answered), PRODUCER (an event published) and CONSUMER (an event
/// delivered); the rest happens inside.
pub fn kind(kind: SpanKind) -> OtlpKind {
    match kind {
        SpanKind::Request => OtlpKind::Server,
        SpanKind::Publish => OtlpKind::Producer,
        SpanKind::Delivery => OtlpKind::Consumer,
        SpanKind::Middleware
        | SpanKind::Handler
        | SpanKind::Cron
        | SpanKind::WsConnect
        | SpanKind::WsMessage
        | SpanKind::WsDisconnect => OtlpKind::Internal,
    }
}

pub fn span(s: &Span) -> otlp::Span {
    let mut attributes = vec![kv("rohas.span.kind", string(s.kind.as_str()))];
    if let Some(h) = &s.handler {
        attributes.push(kv("rohas.handler", string(h)));
    }
    if let Some(code) = s.status_code {
        attributes.push(kv("http.response.status_code", int(i64::from(code))));
    }
    if let Some(event) = &s.event {
        attributes.push(kv("messaging.destination.name", string(event)));
        match s.kind {
            SpanKind::Publish => attributes.push(kv("messaging.operation.type", string("send"))),
            SpanKind::Delivery => attributes.push(kv("messaging.operation.type", string("process"))),
            _ => {}
        }
    }
    if let Some(id) = &s.message_id {
        attributes.push(kv("messaging.message.id", string(id)));
    }
    if let Some(attempt) = s.attempt {
        attributes.push(kv("rohas.delivery.attempt", int(i64::from(attempt))));
    }
    if s.dead_lettered {
        attributes.push(kv(
            "rohas.dead_lettered",
            AnyValue {
                value: Some(any_value::Value::BoolValue(true)),
            },
        ));
    }
    for (k, v) in s.attributes.iter() {
        // A typed field set above wins over a free attribute of the same name.
        if !attributes.iter().any(|a| &a.key == k) {
            attributes.push(kv(k, any(v)));
        }
    }
    let status = match s.status {
        SpanStatus::Ok => otlp::Status::default(),
        SpanStatus::Error => otlp::Status {
            code: StatusCode::Error as i32,
            message: s.error.clone().unwrap_or_default(),
        },
    };
    let parent = s.parent_id.map(|p| p.to_bytes().to_vec()).unwrap_or_default();
    let remote = if s.parent_id.is_some() && s.remote_parent {
        IS_REMOTE
    } else {
        0
    };
    otlp::Span {
        trace_id: crate::trace_id_bytes(&s.trace_id).to_vec(),
        span_id: s.span_id.to_bytes().to_vec(),
        parent_span_id: parent,
        flags: SAMPLED | HAS_IS_REMOTE | remote,
        name: s.name.to_string(),
        kind: kind(s.kind) as i32,
        start_time_unix_nano: s.start_ns,
        end_time_unix_nano: s.end_ns(),
        attributes,
        status: Some(status),
        ..otlp::Span::default()
    }
}

/// OTLP's severity numbers: the first of each range (TRACE 1, DEBUG 5,
/// INFO 9, WARN 13, ERROR 17).
pub fn severity(level: Level) -> (SeverityNumber, &'static str) {
    match level {
        Level::Trace => (SeverityNumber::Trace, "TRACE"),
        Level::Debug => (SeverityNumber::Debug, "DEBUG"),
        Level::Info => (SeverityNumber::Info, "INFO"),
        Level::Warn => (SeverityNumber::Warn, "WARN"),
        Level::Error => (SeverityNumber::Error, "ERROR"),
    }
}

pub fn log_record(l: &LogEntry) -> LogRecord {
    let (number, text) = severity(l.level);
    let mut attributes = vec![kv("rohas.source", string(&l.source))];
    if l.truncated {
        attributes.push(kv(
            "rohas.truncated",
            AnyValue {
                value: Some(any_value::Value::BoolValue(true)),
            },
        ));
    }
    for (k, v) in &l.fields {
        if !attributes.iter().any(|a| &a.key == k) {
            attributes.push(kv(k, any(v)));
        }
    }
    let trace_id = l
        .trace_id
        .as_deref()
        .map(|t| crate::trace_id_bytes(t).to_vec())
        .unwrap_or_default();
    LogRecord {
        time_unix_nano: l.time_ns,
        observed_time_unix_nano: l.time_ns,
        severity_number: number as i32,
        severity_text: text.into(),
        body: Some(string(&l.message)),
        attributes,
        flags: if trace_id.is_empty() { 0 } else { SAMPLED },
        trace_id,
        span_id: l.span_id.map(|s| s.to_bytes().to_vec()).unwrap_or_default(),
        ..LogRecord::default()
    }
}

fn kv(key: &str, value: AnyValue) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(value),
        ..KeyValue::default()
    }
}

fn string(s: &str) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(s.to_string())),
    }
}

fn int(i: i64) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::IntValue(i)),
    }
}

/// A JSON value as an OTLP value: numbers stay numbers (an integer past
/// `i64` becomes a double), arrays and objects nest, `null` is empty.
fn any(v: &Value) -> AnyValue {
    let value = match v {
        Value::Null => None,
        Value::Bool(b) => Some(any_value::Value::BoolValue(*b)),
        Value::Number(n) => Some(match n.as_i64() {
            Some(i) => any_value::Value::IntValue(i),
            None => any_value::Value::DoubleValue(n.as_f64().unwrap_or(f64::NAN)),
        }),
        Value::String(s) => Some(any_value::Value::StringValue(s.clone())),
        Value::Array(items) => Some(any_value::Value::ArrayValue(ArrayValue {
            values: items.iter().map(any).collect(),
        })),
        Value::Object(map) => Some(any_value::Value::KvlistValue(KeyValueList {
            values: map.iter().map(|(k, v)| kv(k, any(v))).collect(),
        })),
    };
    AnyValue { value }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SpanId;
    use serde_json::json;
    use std::sync::Arc;

    fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
        attrs
            .iter()
            .find(|a| a.key == key)
            .and_then(|a| a.value.as_ref())
            .and_then(|v| v.value.as_ref())
    }

    #[test]
    fn a_failed_delivery_keeps_its_parent_status_and_attributes() {
        let parent = SpanId::random();
        let mut s = Span::new(
            "req-7f3a",
            SpanId::random(),
            Some(parent),
            Arc::from("UserCreated → welcome"),
            SpanKind::Delivery,
        );
        s.start_ns = 1_000;
        s.duration_ns = 500;
        s.event = Some(Arc::from("UserCreated"));
        s.attempt = Some(3);
        s.dead_lettered = true;
        s.message_id = Some("m-1".into());
        s.attributes
            .insert("rohas.handler".into(), json!("ignored: the typed field wins"));
        s.handler = Some(Arc::from("event:UserCreated:welcome"));
        s.attributes.insert("big".into(), json!(u64::MAX));
        s.attributes.insert("nested".into(), json!({"a": [1, "x", null]}));
        s.failed("smtp down");
        let o = span(&s);
        assert_eq!(o.trace_id, crate::trace_id_bytes("req-7f3a").to_vec());
        assert_eq!(o.parent_span_id, parent.to_bytes().to_vec());
        assert_eq!(
            (o.kind, o.start_time_unix_nano, o.end_time_unix_nano),
            (OtlpKind::Consumer as i32, 1_000, 1_500)
        );
        assert_eq!(
            o.status,
            Some(otlp::Status {
                code: StatusCode::Error as i32,
                message: "smtp down".into()
            })
        );
        assert_eq!(o.flags, SAMPLED | HAS_IS_REMOTE);
        assert_eq!(
            attr(&o.attributes, "rohas.delivery.attempt"),
            Some(&any_value::Value::IntValue(3))
        );
        assert_eq!(
            attr(&o.attributes, "rohas.dead_lettered"),
            Some(&any_value::Value::BoolValue(true))
        );
        assert_eq!(
            attr(&o.attributes, "messaging.operation.type"),
            Some(&any_value::Value::StringValue("process".into()))
        );
        assert_eq!(
            attr(&o.attributes, "rohas.handler"),
            Some(&any_value::Value::StringValue("event:UserCreated:welcome".into()))
        );
        assert_eq!(o.attributes.iter().filter(|a| a.key == "rohas.handler").count(), 1);
        assert!(matches!(
            attr(&o.attributes, "big"),
            Some(any_value::Value::DoubleValue(_))
        ));
        let Some(any_value::Value::KvlistValue(nested)) = attr(&o.attributes, "nested") else {
            panic!("nested kept as a map")
        };
        let Some(any_value::Value::ArrayValue(list)) = attr(&nested.values, "a") else {
            panic!("a list")
        };
        assert_eq!(list.values.len(), 3);
        assert_eq!(list.values[2].value, None);
    }

    #[test]
    fn a_root_with_a_remote_parent_says_so() {
        let mut s = Span::new(
            "4bf92f3577b34da6a3ce929d0e0e4736",
            SpanId::random(),
            SpanId::from_u64(7),
            Arc::from("GET /"),
            SpanKind::Request,
        );
        s.remote_parent = true;
        s.status_code = Some(200);
        let o = span(&s);
        assert_eq!(o.flags, SAMPLED | HAS_IS_REMOTE | IS_REMOTE);
        assert_eq!(o.kind, OtlpKind::Server as i32);
        assert_eq!(
            o.status,
            Some(otlp::Status::default()),
            "ok spans leave the status unset"
        );
        assert_eq!(
            attr(&o.attributes, "http.response.status_code"),
            Some(&any_value::Value::IntValue(200))
        );
    }

    #[test]
    fn a_log_line_without_a_trace_has_no_ids() {
        let l = LogEntry {
            time_ns: 42,
            level: Level::Warn,
            source: Arc::from("engine"),
            trace_id: None,
            span_id: None,
            message: "slow".into(),
            fields: Default::default(),
            truncated: false,
        };
        let r = log_record(&l);
        assert!(r.trace_id.is_empty() && r.span_id.is_empty());
        assert_eq!(
            (r.severity_number, r.severity_text.as_str()),
            (SeverityNumber::Warn as i32, "WARN")
        );
        assert_eq!(
            attr(&r.attributes, "rohas.source"),
            Some(&any_value::Value::StringValue("engine".into()))
        );
    }
}
