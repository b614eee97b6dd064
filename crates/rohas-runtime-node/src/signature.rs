//! What each parameter of a handler asks for, from the type annotations the
//! compiler read (docs/handlers.md, "Parameters"): the same rules as the Python runtime's `host.py`,
//! in order — the annotation's type name, then the parameter's name, then its
//! position (`(request, state)` when nothing says otherwise).
//!
//! [`needs`] then reduces the roles to the parts of a call the worker must be
//! sent: a `handler()` gets nothing, a `handler(input: CreateUserInput)` only
//! the body. Every call frame is encoded, sent and parsed again in the
//! worker, so what no parameter reads is not sent at all. (What the engine
//! builds of an invocation is the shared rule, [`rohas_runtime::Needs::of_roles`];
//! this one is finer, down to the frame's fields.)

use crate::compile::Param;
use rohas_runtime::{HandlerKind, HandlerSpec, ParamRole};

/// The argument for a parameter.
pub fn roles(spec: &HandlerSpec, params: &[Param]) -> Vec<ParamRole> {
    let by_type = |name: &str| -> Option<ParamRole> {
        match name {
            "State" => return Some(ParamRole::State),
            "HandlerContext" => return Some(ParamRole::Context),
            "Connection" => return Some(ParamRole::Connection),
            _ => {}
        }
        let named = [
            (&spec.request_type, ParamRole::Request),
            (&spec.body_type, ParamRole::Body),
            (&spec.event_type, ParamRole::Event),
            (&spec.message_type, ParamRole::Message),
        ];
        if let Some((_, role)) = named.iter().find(|(t, _)| t.as_deref() == Some(name)) {
            return Some(*role);
        }
        if is_ws(spec.kind) && name == "WebSocketMessage" {
            return Some(ParamRole::Message);
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
                .unwrap_or(if index == 0 {
                    primary(spec.kind)
                } else {
                    ParamRole::State
                })
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
}

/// What a handler of `kind` with parameters `roles` reads from a call.
pub fn needs(kind: HandlerKind, roles: &[ParamRole]) -> Needs {
    let mut needs = Needs::default();
    for role in roles {
        match role {
            ParamRole::State => needs.endpoint = true,
            ParamRole::Connection => needs.connection = true,
            ParamRole::Context => needs.context = Part::Full,
            // An api body is the request's `body`; other kinds read the payload.
            ParamRole::Body if kind == HandlerKind::Api => needs.request = needs.request.max(Part::Field),
            ParamRole::Body => needs.context = needs.context.max(Part::Field),
            ParamRole::Request | ParamRole::Event | ParamRole::TypedEvent | ParamRole::Message => {
                needs.request = Part::Full
            }
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

fn primary(kind: HandlerKind) -> ParamRole {
    match kind {
        HandlerKind::Api => ParamRole::Request,
        HandlerKind::Event => ParamRole::Event,
        HandlerKind::WsMessage => ParamRole::Message,
        HandlerKind::Cron | HandlerKind::WsConnect | HandlerKind::WsDisconnect | HandlerKind::Middleware => {
            ParamRole::Context
        }
    }
}

fn by_name(name: &str) -> Option<ParamRole> {
    Some(match name {
        "state" => ParamRole::State,
        "context" | "ctx" => ParamRole::Context,
        "connection" | "conn" | "websocket" | "ws" => ParamRole::Connection,
        "event" => ParamRole::Event,
        "message" | "msg" => ParamRole::Message,
        "req" | "request" => ParamRole::Request,
        "input" | "body" | "payload" => ParamRole::Body,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rohas_runtime::ParamRole::{Body, Connection, Context, Message, Request, State};

    fn spec(kind: HandlerKind) -> HandlerSpec {
        HandlerSpec {
            id: rohas_runtime::HandlerId::api("CreateUser"),
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
        assert_eq!(roles(&s, &[p(Some("x"), Some("CreateUserInput"))]), [Body]);
        assert_eq!(
            roles(&s, &[p(Some("ctx"), None), p(Some("s"), Some("State"))]),
            [Context, State]
        );
        assert_eq!(roles(&s, &[p(Some("a"), None), p(Some("b"), None)]), [Request, State]);
        assert_eq!(roles(&s, &[p(Some("state"), None)]), [State]);
        let ws = spec(HandlerKind::WsMessage);
        assert_eq!(
            roles(
                &ws,
                &[p(Some("m"), Some("WebSocketMessage")), p(None, Some("HandlerContext"))]
            ),
            [Message, Context]
        );
    }

    #[test]
    fn needs_follow_the_roles() {
        assert_eq!(needs(HandlerKind::Api, &[]), Needs::default());
        let body = needs(HandlerKind::Api, &[Body]);
        assert_eq!((body.request, body.context), (Part::Field, Part::None));
        let both = needs(HandlerKind::Api, &[Body, Request]);
        assert_eq!(both.request, Part::Full);
        let event = needs(HandlerKind::Event, &[Body, State]);
        assert_eq!(
            (event.request, event.context, event.endpoint),
            (Part::None, Part::Field, true)
        );
        // What the engine builds (the shared rule): a body alone is the
        // payload, for an api and an event alike.
        let engine = |roles: &[ParamRole]| rohas_runtime::Needs::of_roles(roles.iter().copied());
        assert_eq!(engine(&[]), rohas_runtime::Needs::NONE);
        let payload_only = rohas_runtime::Needs {
            payload: true,
            ..rohas_runtime::Needs::NONE
        };
        assert_eq!(engine(&[Body]), payload_only);
        assert_eq!(engine(&[Body, State]), payload_only);
        assert!(engine(&[Body, Request]).request);
        let context = rohas_runtime::Needs {
            request: false,
            event_fields: false,
            event_payload: false,
            ..rohas_runtime::Needs::ALL
        };
        assert_eq!(engine(&[Context]), context);
        let ws = needs(HandlerKind::WsMessage, &[Message, Connection, Context]);
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
