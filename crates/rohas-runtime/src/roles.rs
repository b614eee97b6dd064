//! What a handler's parameters are, and which parts of an [`Invocation`]
//! that makes it read.
//!
//! The Python host and the TypeScript compiler read each handler's
//! signature and give every parameter a role (docs/handlers.md,
//! "Parameters"); the engine builds only what those roles read
//! ([`crate::Runtime::needs`]). The rule from roles to [`Needs`] is written
//! here once, so the two runtimes cannot disagree about what a handler gets.
//! (The Rust library reports its handlers' needs itself.)
//!
//! [`Invocation`]: crate::Invocation

use crate::Needs;
use serde::Serialize;

/// What one parameter of a handler receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamRole {
    /// The whole request object: an api's request (path parameters, query,
    /// body, headers), a middleware's context.
    Request,
    /// The body of an api call, or the payload of any other call.
    Body,
    /// An event handler's event (the payload's fields, `name`, …).
    Event,
    /// An event handler's event read by its generated class, which takes
    /// the payload from `payload` (the Python host): the payload's fields
    /// at the top level are not needed.
    TypedEvent,
    /// A ws handler's message.
    Message,
    /// `HandlerContext`.
    Context,
    /// `State`.
    State,
    /// A ws `Connection`.
    Connection,
}

impl ParamRole {
    /// The role a host named. An unknown name reads as [`ParamRole::Request`],
    /// the role that reads the most, so a newer host's role is never starved.
    pub fn parse(name: &str) -> ParamRole {
        match name {
            "body" => ParamRole::Body,
            "event" => ParamRole::Event,
            "typed_event" => ParamRole::TypedEvent,
            "message" => ParamRole::Message,
            "context" => ParamRole::Context,
            "state" => ParamRole::State,
            "connection" => ParamRole::Connection,
            _ => ParamRole::Request,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ParamRole::Request => "request",
            ParamRole::Body => "body",
            ParamRole::Event => "event",
            ParamRole::TypedEvent => "typed_event",
            ParamRole::Message => "message",
            ParamRole::Context => "context",
            ParamRole::State => "state",
            ParamRole::Connection => "connection",
        }
    }
}

impl Needs {
    /// What the engine must build for a handler whose parameters take
    /// `roles`.
    ///
    /// A `body` parameter reads [`Invocation::payload`] whatever the
    /// handler's kind: docs/handlers.md defines it as "the parsed request
    /// body, or the event payload", and that is what `payload` holds (for
    /// an event the event object also carries it whole, as its `payload`
    /// field, which is where the Python host used to take it from). The
    /// Python runtime asked for the whole request for every kind but api,
    /// the Node runtime for the payload: the Node rule is the right one,
    /// since the request object costs the engine an event object built
    /// (fields spread, name, timestamp, trace id) only to read one value it
    /// already holds, and a body read alone may be sent as the bytes it
    /// came in. So the rule needs no handler kind.
    ///
    /// A `context` reads the query parameters and metadata, and the payload
    /// it carries; `state` and `connection` read nothing the engine builds
    /// (the trace id, the ws endpoint and connection id always travel).
    ///
    /// [`Invocation::payload`]: crate::Invocation::payload
    pub fn of_roles(roles: impl IntoIterator<Item = ParamRole>) -> Needs {
        let mut needs = Needs::NONE;
        for role in roles {
            match role {
                ParamRole::State | ParamRole::Connection => {}
                ParamRole::Body => needs.payload = true,
                ParamRole::Context => {
                    needs.context = true;
                    needs.payload = true;
                }
                ParamRole::Request | ParamRole::Event | ParamRole::Message => {
                    needs.request = true;
                    needs.event_fields = true;
                    needs.event_payload = true;
                }
                ParamRole::TypedEvent => {
                    needs.request = true;
                    needs.event_payload = true;
                }
            }
        }
        needs
    }
}

#[cfg(test)]
mod tests {
    use super::ParamRole::{self, *};
    use crate::Needs;

    const PAYLOAD: Needs = Needs {
        payload: true,
        ..Needs::NONE
    };
    const REQUEST: Needs = Needs {
        request: true,
        event_fields: true,
        event_payload: true,
        ..Needs::NONE
    };

    fn of(roles: &[ParamRole]) -> Needs {
        Needs::of_roles(roles.iter().copied())
    }

    #[test]
    fn roles_say_what_the_engine_builds() {
        assert_eq!(of(&[]), Needs::NONE);
        assert_eq!(of(&[State]), Needs::NONE);
        assert_eq!(of(&[Connection, State]), Needs::NONE);
        assert_eq!(of(&[Request, State]), REQUEST);
        assert_eq!(of(&[Event]), REQUEST);
        assert_eq!(of(&[Message]), REQUEST);
        let typed = Needs {
            request: true,
            event_payload: true,
            ..Needs::NONE
        };
        assert_eq!(of(&[TypedEvent, State]), typed);
        assert_eq!(of(&[TypedEvent, Request]), REQUEST);
        let context = Needs {
            request: false,
            event_fields: false,
            event_payload: false,
            ..Needs::ALL
        };
        assert_eq!(of(&[Context]), context);
        let both = Needs {
            context: false,
            ..Needs::ALL
        };
        assert_eq!(of(&[Body, Request]), both);
        assert_eq!(of(&[Message, Connection, Context]), Needs::ALL);
    }

    /// An api's `(input: CreateUserInput, state)` and an event handler's
    /// `(payload: UserCreated, state)` alike read the payload alone.
    #[test]
    fn a_body_is_the_payload_alone() {
        assert_eq!(of(&[Body]), PAYLOAD);
        assert_eq!(of(&[Body, State]), PAYLOAD);
        assert_eq!(of(&[State, Body, Connection]), PAYLOAD);
    }

    #[test]
    fn role_names_read_back_and_unknown_ones_read_the_request() {
        for role in [Request, Body, Event, TypedEvent, Message, Context, State, Connection] {
            assert_eq!(ParamRole::parse(role.as_str()), role);
            assert_eq!(serde_json::to_value(role).ok(), Some(serde_json::json!(role.as_str())));
        }
        assert_eq!(ParamRole::parse("something new"), Request);
    }
}
