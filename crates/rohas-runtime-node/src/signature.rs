//! What each parameter of a handler asks for, from the type annotations the
//! compiler read (SPEC 4): the same rules as the Python runtime's `host.py`,
//! in order — the annotation's type name, then the parameter's name, then its
//! position (`(request, state)` when nothing says otherwise).

use crate::compile::Param;
use rohas_runtime::{HandlerKind, HandlerSpec};

/// The argument for a parameter.
pub fn roles(spec: &HandlerSpec, params: &[Param]) -> Vec<&'static str> {
    let by_type = |name: &str| -> Option<&'static str> {
        match name {
            "State" => return Some("state"),
            "HandlerContext" => return Some("context"),
            "Connection" => return Some("connection"),
            _ => {}
        }
        let named = [
            (&spec.request_type, "request"),
            (&spec.body_type, "body"),
            (&spec.event_type, "event"),
            (&spec.message_type, "message"),
        ];
        if let Some((_, role)) = named.iter().find(|(t, _)| t.as_deref() == Some(name)) {
            return Some(role);
        }
        if is_ws(spec.kind) && name == "WebSocketMessage" {
            return Some("message");
        }
        None
    };
    params
        .iter()
        .enumerate()
        .map(|(index, p)| {
            p.type_name
                .as_deref()
                .and_then(by_type)
                .or_else(|| p.name.as_deref().and_then(by_name))
                .unwrap_or(if index == 0 { primary(spec.kind) } else { "state" })
        })
        .collect()
}

fn is_ws(kind: HandlerKind) -> bool {
    matches!(
        kind,
        HandlerKind::WsConnect | HandlerKind::WsMessage | HandlerKind::WsDisconnect
    )
}

fn primary(kind: HandlerKind) -> &'static str {
    match kind {
        HandlerKind::Api => "request",
        HandlerKind::Event => "event",
        HandlerKind::WsMessage => "message",
        HandlerKind::Cron | HandlerKind::WsConnect | HandlerKind::WsDisconnect | HandlerKind::Middleware => "context",
    }
}

fn by_name(name: &str) -> Option<&'static str> {
    Some(match name {
        "state" => "state",
        "context" | "ctx" => "context",
        "connection" | "conn" | "websocket" | "ws" => "connection",
        "event" => "event",
        "message" | "msg" => "message",
        "req" | "request" => "request",
        "input" | "body" | "payload" => "body",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: HandlerKind) -> HandlerSpec {
        HandlerSpec {
            id: "api:CreateUser".into(),
            kind,
            name: "CreateUser".into(),
            files: vec![],
            functions: vec![],
            request_type: Some("CreateUserRequest".into()),
            body_type: Some("CreateUserInput".into()),
            message_type: None,
            event_type: None,
            optional: false,
        }
    }

    fn p(name: Option<&str>, ty: Option<&str>) -> Param {
        Param {
            name: name.map(Into::into),
            type_name: ty.map(Into::into),
        }
    }

    #[test]
    fn annotation_then_name_then_position() {
        let s = spec(HandlerKind::Api);
        assert_eq!(roles(&s, &[p(Some("x"), Some("CreateUserInput"))]), ["body"]);
        assert_eq!(
            roles(&s, &[p(Some("ctx"), None), p(Some("s"), Some("State"))]),
            ["context", "state"]
        );
        assert_eq!(
            roles(&s, &[p(Some("a"), None), p(Some("b"), None)]),
            ["request", "state"]
        );
        assert_eq!(roles(&s, &[p(Some("state"), None)]), ["state"]);
        let ws = spec(HandlerKind::WsMessage);
        assert_eq!(
            roles(
                &ws,
                &[p(Some("m"), Some("WebSocketMessage")), p(None, Some("HandlerContext"))]
            ),
            ["message", "context"]
        );
    }
}
