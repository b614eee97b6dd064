//! What each parameter of a handler asks for, from the type annotations the
//! compiler read (docs/handlers.md, "Parameters"): the same rules as the Python runtime's `host.py`,
//! in order — the annotation's type name, then the parameter's name, then its
//! position (`(request, state)` when nothing says otherwise).
//!
//! [`needs`] then reduces the roles to the parts of a call the worker must be
//! sent: a `handler()` gets nothing, a `handler(input: CreateUserInput)` only
//! the body. Every call frame is encoded, sent and parsed again in the
//! worker, so what no parameter reads is not sent at all.

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

/// How much of one part of a call (the request, or the context) a handler reads.
/// Ordered: a larger part includes the smaller ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Part {
    #[default]
    None,
    /// One field only: the request's `body` (api) or the context's `payload`.
    Field,
    Full,
}

/// The parts of a call the worker needs to build a handler's arguments,
/// mirroring `argumentsFor` in `host.mjs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Needs {
    pub request: Part,
    pub context: Part,
    /// `State` takes the ws endpoint (default target of `broadcast`).
    pub endpoint: bool,
    pub connection: bool,
}

impl Needs {
    /// Everything: for a handler the worker does not know (it answers with
    /// an error, but gets the whole call like before).
    pub const ALL: Needs = Needs {
        request: Part::Full,
        context: Part::Full,
        endpoint: true,
        connection: true,
    };

    /// What the engine must build of an invocation for these needs: an api
    /// body alone (`Part::Field`) is the payload, not the request object.
    pub fn of_invocation(self) -> rohas_runtime::Needs {
        rohas_runtime::Needs {
            request: self.request == Part::Full,
            payload: self.request == Part::Field || self.context != Part::None,
            context: self.context == Part::Full,
        }
    }
}

/// What a handler of `kind` with parameters `roles` reads from a call.
pub fn needs(kind: HandlerKind, roles: &[&str]) -> Needs {
    let mut needs = Needs::default();
    for role in roles {
        match *role {
            "state" => needs.endpoint = true,
            "connection" => needs.connection = true,
            "context" => needs.context = Part::Full,
            // An api body is the request's `body`; other kinds read the payload.
            "body" if kind == HandlerKind::Api => needs.request = needs.request.max(Part::Field),
            "body" => needs.context = needs.context.max(Part::Field),
            // "request", "event", "message": the whole request object.
            _ => needs.request = Part::Full,
        }
    }
    needs
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

    #[test]
    fn needs_follow_the_roles() {
        assert_eq!(needs(HandlerKind::Api, &[]), Needs::default());
        let body = needs(HandlerKind::Api, &["body"]);
        assert_eq!((body.request, body.context), (Part::Field, Part::None));
        let both = needs(HandlerKind::Api, &["body", "request"]);
        assert_eq!(both.request, Part::Full);
        let event = needs(HandlerKind::Event, &["body", "state"]);
        assert_eq!(
            (event.request, event.context, event.endpoint),
            (Part::None, Part::Field, true)
        );
        // What the engine builds: an api body alone is the payload.
        let engine = |n: Needs| n.of_invocation();
        assert_eq!(engine(needs(HandlerKind::Api, &[])), rohas_runtime::Needs::NONE);
        let payload_only = rohas_runtime::Needs {
            payload: true,
            ..rohas_runtime::Needs::NONE
        };
        assert_eq!(engine(body), payload_only);
        assert!(engine(both).request);
        let context = rohas_runtime::Needs {
            request: false,
            ..rohas_runtime::Needs::ALL
        };
        assert_eq!(engine(needs(HandlerKind::Api, &["context"])), context);
        let ws = needs(HandlerKind::WsMessage, &["message", "connection", "context"]);
        assert_eq!(
            ws,
            Needs {
                request: Part::Full,
                context: Part::Full,
                endpoint: false,
                connection: true
            }
        );
    }
}
