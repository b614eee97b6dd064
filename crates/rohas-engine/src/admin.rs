//! The admin API under `/_rohas/`: dead letters (list, show, replay,
//! purge), publishing an event, and queue depth per handler. The CLI uses
//! it when an engine runs; the workbench will read the same JSON.
//!
//! Open on loopback; from any other address it requires `Authorization:
//! Bearer <[workbench] api_key>`, and with no key configured it is closed.
//! Lists are pages: `?limit=&after=`, answered with `{"items", "next"}`.

use crate::engine::Engine;
use crate::error::ApiError;
use axum::extract::Request;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use rohas_events::{DeadLetterId, DeadLetterQuery, Selection};
use serde::Deserialize;
use serde_json::{json, Value};

pub(crate) const PREFIX: &str = "/_rohas/";

/// Bodies larger than this are refused (a payload has its own limit).
const MAX_BODY: usize = 16 * 1024 * 1024;

pub(crate) async fn answer(engine: Engine, loopback: bool, request: Request) -> Response {
    let trace_id = crate::log::new_trace_id();
    let key = engine.shared.config.workbench.api_key.as_ref();
    if let Err(e) = authorize("the admin API", key, loopback, request.headers(), &trace_id) {
        return e.into_response();
    }
    let method = request.method().clone();
    let path = request
        .uri()
        .path()
        .trim_start_matches(PREFIX)
        .trim_end_matches('/')
        .to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    let timeout = std::time::Duration::from_millis(engine.shared.config.server.body_read_timeout_ms);
    let body = match crate::body::read(request.into_body(), MAX_BODY, timeout).await {
        Ok(b) => b,
        Err(e) => return e.into_response(&trace_id),
    };
    let segments: Vec<&str> = path.split('/').collect();
    let result = match (&method, segments.as_slice()) {
        (&Method::GET, ["dead-letters"]) => list(&engine, &query).await,
        (&Method::GET, ["dead-letters", id]) => show(&engine, id).await,
        (&Method::POST, ["dead-letters", "replay"]) => replay(&engine, &body).await,
        (&Method::POST, ["dead-letters", "purge"]) => purge(&engine, &body).await,
        (&Method::POST, ["events", name]) => publish(&engine, name, &body).await,
        (&Method::GET, ["queues"]) => queues(&engine).await,
        _ => Err(ApiError::new(
            404,
            format!("no admin route for {method} {PREFIX}{path}"),
            "",
        )),
    };
    match result {
        Ok((status, value)) => (status, axum::Json(value)).into_response(),
        Err(mut e) => {
            e.trace_id = trace_id;
            e.into_response()
        }
    }
}

type Answer = Result<(StatusCode, Value), ApiError>;

/// Refuses requests from web pages of other origins (`origin.rs`), then
/// lets loopback clients in; anyone else needs the `[workbench] api_key`
/// as a bearer token (and with no key configured, nobody else gets in).
/// `what` names the API in the refusal.
pub(crate) fn authorize(
    what: &str,
    key: Option<&rohas_config::Secret>,
    loopback: bool,
    headers: &axum::http::HeaderMap,
    trace_id: &str,
) -> Result<(), ApiError> {
    if let Some(origin) = crate::origin::foreign(headers) {
        return Err(ApiError::new(
            403,
            format!(
                "{what} does not answer web pages of other origins (Origin: {origin}); \
                 use the rohas CLI, or a client that sends no Origin header"
            ),
            trace_id,
        ));
    }
    // DNS rebinding: a page of evil.example whose name was made to point
    // at 127.0.0.1 is "same origin" as far as `Origin` and `Host` go. A
    // loopback client that names the server by another name needs the key.
    if loopback && crate::origin::loopback_host(headers) {
        return Ok(());
    }
    let Some(key) = key.map(rohas_config::Secret::expose).filter(|k| !k.is_empty()) else {
        if loopback {
            return Err(ApiError::new(
                403,
                format!(
                    "{what} answers loopback clients that name it 127.0.0.1, [::1] or localhost; \
                     use one of those, or set [workbench] api_key and send it as a bearer token"
                ),
                trace_id,
            ));
        }
        return Err(ApiError::new(
            403,
            format!("{what} answers loopback clients only; set [workbench] api_key to reach it from elsewhere"),
            trace_id,
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if constant_time_eq(given.as_bytes(), key.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::new(
            401,
            format!("{what} needs `Authorization: Bearer <[workbench] api_key>`"),
            trace_id,
        ))
    }
}

/// Compares without stopping at the first difference, so the time taken
/// says nothing about how much of a guessed key was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        diff |= (*x ^ b.get(i).copied().unwrap_or(0)) as usize;
    }
    diff == 0
}

fn adapter_error(e: rohas_events::AdapterError) -> ApiError {
    ApiError::new(e.status(), e.to_string(), "")
}

fn body<'a, T: Deserialize<'a>>(bytes: &'a [u8], what: &str) -> Result<T, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::new(400, format!("{what}: {}", crate::nesting::describe(&e)), ""))
}

async fn list(engine: &Engine, query: &str) -> Answer {
    let mut q = DeadLetterQuery::default();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "event" => q.event = Some(value.into_owned()),
            "handler" => q.handler = Some(value.into_owned()),
            "after" => q.after = Some(value.into_owned()),
            "limit" => {
                q.limit = Some(value.parse().map_err(|_| {
                    ApiError::new(
                        400,
                        format!(
                            "limit must be a number from 1 to {}, got {value:?}",
                            DeadLetterQuery::MAX_LIMIT
                        ),
                        "",
                    )
                })?)
            }
            other => {
                return Err(ApiError::new(
                    400,
                    format!("unknown parameter `{other}`: use event, handler, limit or after"),
                    "",
                ))
            }
        }
    }
    let page = engine.adapter().dead_letters(q).await.map_err(adapter_error)?;
    Ok((StatusCode::OK, serde_json::to_value(page).unwrap_or_default()))
}

async fn show(engine: &Engine, id: &str) -> Answer {
    match engine
        .adapter()
        .dead_letter(DeadLetterId(id.to_string()))
        .await
        .map_err(adapter_error)?
    {
        Some(dead) => Ok((StatusCode::OK, serde_json::to_value(dead).unwrap_or_default())),
        None => Err(ApiError::new(
            404,
            format!("no dead letter {id}: list them with `rohas dlq list`"),
            "",
        )),
    }
}

fn refuse_while_stopping(engine: &Engine) -> Result<(), ApiError> {
    if engine.shared.stop.is_cancelled() {
        return Err(ApiError::new(
            503,
            "the engine is shutting down; try again once it has stopped (the CLI then works on the queue directly) or restarted",
            "",
        ));
    }
    Ok(())
}

async fn replay(engine: &Engine, bytes: &[u8]) -> Answer {
    refuse_while_stopping(engine)?;
    let selection: Selection = body(bytes, "expected {\"ids\": [...]} or {\"all\": true, \"event\"?: name}")?;
    let done = engine.adapter().replay(selection).await.map_err(adapter_error)?;
    Ok((StatusCode::OK, serde_json::to_value(done).unwrap_or_default()))
}

async fn purge(engine: &Engine, bytes: &[u8]) -> Answer {
    let selection: Selection = body(bytes, "expected {\"ids\": [...]} or {\"all\": true, \"event\"?: name}")?;
    let purged = engine.adapter().purge(selection).await.map_err(adapter_error)?;
    Ok((StatusCode::OK, json!({ "purged": purged })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Publish {
    #[serde(default)]
    payload: Value,
    /// Deliver no earlier than this many milliseconds from now.
    #[serde(default)]
    delay_ms: Option<u64>,
}

async fn publish(engine: &Engine, name: &str, bytes: &[u8]) -> Answer {
    refuse_while_stopping(engine)?;
    let request: Publish = body(bytes, "expected {\"payload\": ..., \"delay_ms\"?: n}")?;
    let shared = &engine.shared;
    let live = shared.live.load_full();
    if let Err(unknown) = crate::publishing::known_event(&live.schema, name) {
        return Err(ApiError::new(404, unknown, ""));
    }
    let mut payload = crate::dispatch::raw_value(&request.payload);
    match shared.check_payload(&live, name, &mut payload) {
        Ok(()) => {}
        Err(problem) => {
            let status = if problem.contains("max_payload_bytes") {
                413
            } else {
                422
            };
            return Err(ApiError::new(status, problem, ""));
        }
    };
    // Published as the root `publish` span of a new trace, so its
    // deliveries (every attempt) are one trace.
    let trace_id = crate::log::new_trace_id();
    let event = rohas_runtime::TriggeredEvent {
        delay: request.delay_ms.map(std::time::Duration::from_millis),
        ..rohas_runtime::TriggeredEvent::json(name, payload)
    };
    let checked = crate::dispatch::CheckedEvents {
        events: vec![event],
        schema: live.generation,
    };
    let (messages, spans) = shared.messages(checked, &trace_id, "admin", None);
    let id = messages[0].id.clone();
    let published = engine.adapter().publish(messages).await;
    shared.published(spans, published.as_ref().err());
    published.map_err(adapter_error)?;
    Ok((StatusCode::ACCEPTED, json!({ "id": id })))
}

async fn queues(engine: &Engine) -> Answer {
    let stats = engine.adapter().stats().await.map_err(adapter_error)?;
    Ok((
        StatusCode::OK,
        json!({ "adapter": engine.adapter().kind(), "subscriptions": stats }),
    ))
}

#[cfg(test)]
mod tests {
    use axum::http::{header, HeaderMap, HeaderValue};

    fn bearer(token: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
        );
        headers
    }

    #[test]
    fn off_loopback_the_key_is_required() {
        let none = HeaderMap::new();
        assert!(
            super::authorize("the admin API", None, true, &none, "t").is_ok(),
            "loopback is open"
        );
        let closed = super::authorize("the admin API", None, false, &bearer("x"), "t")
            .err()
            .unwrap();
        assert_eq!(closed.status.as_u16(), 403, "no key configured: closed");
        assert_eq!(
            super::authorize(
                "the admin API",
                Some(&rohas_config::Secret::new("k3y")),
                false,
                &none,
                "t"
            )
            .err()
            .unwrap()
            .status
            .as_u16(),
            401
        );
        assert_eq!(
            super::authorize(
                "the admin API",
                Some(&rohas_config::Secret::new("k3y")),
                false,
                &bearer("k3Y"),
                "t"
            )
            .err()
            .unwrap()
            .status
            .as_u16(),
            401
        );
        assert!(super::authorize(
            "the admin API",
            Some(&rohas_config::Secret::new("k3y")),
            false,
            &bearer("k3y"),
            "t"
        )
        .is_ok());
        let message = super::authorize(
            "the admin API",
            Some(&rohas_config::Secret::new("k3y")),
            false,
            &bearer("guess"),
            "t",
        )
        .err()
        .unwrap()
        .message;
        assert!(!message.contains("k3y"), "the key never appears in an answer");
    }

    #[test]
    fn keys_compare_whole() {
        assert!(super::constant_time_eq(b"secret", b"secret"));
        assert!(!super::constant_time_eq(b"secret", b"secreT"));
        assert!(!super::constant_time_eq(b"secret", b"secret2"));
        assert!(!super::constant_time_eq(b"", b"x"));
    }
}
