//! The key that names one handler everywhere: `api:CreateUser`,
//! `event:UserCreated:sendWelcome`, `ws_message:Chat:on_message`.
//!
//! The same text crosses every boundary (the Python host, the Node.js
//! worker frames, the Rust C ABI, log lines, spans, dead letters, the admin
//! API), so it is written in exactly one place: the constructors below.
//! Everything else builds an id through them, reads its parts through
//! [`HandlerId::parse`] and its accessors, and hands the text on unchanged.
//!
//! The engine clones an id for every call, so the text sits behind an
//! `Arc<str>`: a clone is a reference-count increment, and an id turns into
//! the `Arc<str>` a span or a subscription keeps without copying.

use crate::handler::HandlerKind;
use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// One handler's id: its kind, then the schema names that place it, joined
/// by `:`.
///
/// | kind | text |
/// |---|---|
/// | api | `api:<api>` |
/// | event | `event:<event>:<handler>` |
/// | cron | `cron:<cron>` |
/// | middleware | `middleware:<middleware>` |
/// | ws (one module) | `ws_connect:<ws>`, `ws_message:<ws>`, `ws_disconnect:<ws>` |
/// | ws (named handler) | `ws_message:<ws>:<handler>` (and the other two hooks) |
///
/// Equality, order and hashing are those of the text, so a map keyed by
/// `HandlerId` is looked up with a `&str`.
#[derive(Clone)]
pub struct HandlerId {
    /// Known from the constructor (or the prefix, when parsed); kept so
    /// [`HandlerId::kind`] does not parse.
    kind: HandlerKind,
    text: Arc<str>,
}

impl HandlerId {
    /// `api:<name>`.
    pub fn api(name: &str) -> HandlerId {
        HandlerId::join(HandlerKind::Api, name, None)
    }

    /// `event:<event>:<handler>`: one handler of one event, also the id of
    /// its subscription on the event bus.
    pub fn event(event: &str, handler: &str) -> HandlerId {
        HandlerId::join(HandlerKind::Event, event, Some(handler))
    }

    /// `cron:<name>`.
    pub fn cron(name: &str) -> HandlerId {
        HandlerId::join(HandlerKind::Cron, name, None)
    }

    /// `middleware:<name>`.
    pub fn middleware(name: &str) -> HandlerId {
        HandlerId::join(HandlerKind::Middleware, name, None)
    }

    /// A WebSocket hook of endpoint `ws`: `<kind>:<ws>` for the function of
    /// a single module, `<kind>:<ws>:<handler>` for a named handler. `kind`
    /// is one of the three ws kinds.
    pub fn ws(kind: HandlerKind, ws: &str, handler: Option<&str>) -> HandlerId {
        debug_assert!(
            matches!(
                kind,
                HandlerKind::WsConnect | HandlerKind::WsMessage | HandlerKind::WsDisconnect
            ),
            "HandlerId::ws with {kind}"
        );
        HandlerId::join(kind, ws, handler)
    }

    /// The one place the textual form is written.
    fn join(kind: HandlerKind, scope: &str, handler: Option<&str>) -> HandlerId {
        let text = match handler {
            Some(handler) => format!("{}:{scope}:{handler}", kind.as_str()),
            None => format!("{}:{scope}", kind.as_str()),
        };
        HandlerId {
            kind,
            text: text.into(),
        }
    }

    /// An id read back from its text (a subscription, a wire frame): `None`
    /// unless it has a known kind and the parts that kind has.
    pub fn parse(text: &str) -> Option<HandlerId> {
        HandlerId::parse_shared(Arc::from(text))
    }

    /// [`HandlerId::parse`] for text already shared (a `SubscriptionId`'s):
    /// keeps the same allocation.
    pub fn parse_shared(text: Arc<str>) -> Option<HandlerId> {
        let (prefix, rest) = text.split_once(':')?;
        let kind = kind_of(prefix)?;
        let mut parts = rest.split(':');
        parts.next().filter(|scope| !scope.is_empty())?;
        let handler = parts.next();
        let shape_fits = match kind {
            HandlerKind::Api | HandlerKind::Cron | HandlerKind::Middleware => handler.is_none(),
            HandlerKind::Event => handler.is_some_and(|h| !h.is_empty()),
            HandlerKind::WsConnect | HandlerKind::WsMessage | HandlerKind::WsDisconnect => {
                handler.is_none_or(|h| !h.is_empty())
            }
        };
        (shape_fits && parts.next().is_none()).then_some(HandlerId { kind, text })
    }

    pub fn kind(&self) -> HandlerKind {
        self.kind
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The name after the kind: the api, event, cron, middleware or ws
    /// endpoint (`event:UserCreated:sendWelcome` → `UserCreated`).
    pub fn scope(&self) -> &str {
        self.parts().0
    }

    /// The handler's own name, as `HandlerContext.handler_name` gives it:
    /// the last part (`api:CreateUser` → `CreateUser`,
    /// `ws_message:Chat:on_message` → `on_message`).
    pub fn name(&self) -> &str {
        let (scope, handler) = self.parts();
        handler.unwrap_or(scope)
    }

    /// The named handler inside the scope, for an event handler and a ws
    /// endpoint's named handler (`event:UserCreated:sendWelcome` →
    /// `sendWelcome`); `None` for the other ids.
    pub fn handler(&self) -> Option<&str> {
        self.parts().1
    }

    fn parts(&self) -> (&str, Option<&str>) {
        // Every id is `<kind>:<scope>` or `<kind>:<scope>:<handler>`, and
        // the kind has no `:`.
        let rest = &self.text[self.kind.as_str().len() + 1..];
        match rest.split_once(':') {
            Some((scope, handler)) => (scope, Some(handler)),
            None => (rest, None),
        }
    }

    /// The shared text, for what keeps an id as a plain `Arc<str>` (a span,
    /// an event-bus subscription).
    pub fn to_arc(&self) -> Arc<str> {
        Arc::clone(&self.text)
    }
}

/// The kind a prefix names.
fn kind_of(prefix: &str) -> Option<HandlerKind> {
    [
        HandlerKind::Api,
        HandlerKind::Event,
        HandlerKind::Cron,
        HandlerKind::WsConnect,
        HandlerKind::WsMessage,
        HandlerKind::WsDisconnect,
        HandlerKind::Middleware,
    ]
    .into_iter()
    .find(|kind| kind.as_str() == prefix)
}

impl fmt::Display for HandlerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for HandlerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.text, f)
    }
}

impl std::ops::Deref for HandlerId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text
    }
}

impl AsRef<str> for HandlerId {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl Borrow<str> for HandlerId {
    fn borrow(&self) -> &str {
        &self.text
    }
}

impl PartialEq for HandlerId {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for HandlerId {}

impl PartialEq<str> for HandlerId {
    fn eq(&self, other: &str) -> bool {
        &*self.text == other
    }
}

impl PartialEq<&str> for HandlerId {
    fn eq(&self, other: &&str) -> bool {
        &*self.text == *other
    }
}

impl PartialEq<String> for HandlerId {
    fn eq(&self, other: &String) -> bool {
        *self.text == **other
    }
}

impl PartialOrd for HandlerId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for HandlerId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.text.cmp(&other.text)
    }
}

impl Hash for HandlerId {
    /// As the text hashes, which [`Borrow<str>`] requires.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl From<HandlerId> for Arc<str> {
    fn from(id: HandlerId) -> Self {
        id.text
    }
}

impl From<&HandlerId> for Arc<str> {
    fn from(id: &HandlerId) -> Self {
        id.to_arc()
    }
}

impl From<HandlerId> for String {
    fn from(id: HandlerId) -> Self {
        id.text.to_string()
    }
}

/// The error of reading an id that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a handler id (`api:<name>`, `event:<event>:<handler>`, `ws_message:<ws>`, …)")]
pub struct NotAHandlerId(pub String);

impl std::str::FromStr for HandlerId {
    type Err = NotAHandlerId;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        HandlerId::parse(text).ok_or_else(|| NotAHandlerId(text.to_string()))
    }
}

impl serde::Serialize for HandlerId {
    /// The plain text, as every wire has it.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for HandlerId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_form() -> Vec<(HandlerId, &'static str)> {
        vec![
            (HandlerId::api("CreateUser"), "api:CreateUser"),
            (
                HandlerId::event("UserCreated", "sendWelcome"),
                "event:UserCreated:sendWelcome",
            ),
            (HandlerId::cron("Cleanup"), "cron:Cleanup"),
            (HandlerId::middleware("auth"), "middleware:auth"),
            (HandlerId::ws(HandlerKind::WsConnect, "Chat", None), "ws_connect:Chat"),
            (HandlerId::ws(HandlerKind::WsMessage, "Chat", None), "ws_message:Chat"),
            (
                HandlerId::ws(HandlerKind::WsDisconnect, "Chat", None),
                "ws_disconnect:Chat",
            ),
            (
                HandlerId::ws(HandlerKind::WsMessage, "Chat", Some("on_message")),
                "ws_message:Chat:on_message",
            ),
            (
                HandlerId::ws(HandlerKind::WsConnect, "Chat", Some("greet")),
                "ws_connect:Chat:greet",
            ),
            (
                HandlerId::ws(HandlerKind::WsDisconnect, "Chat", Some("bye")),
                "ws_disconnect:Chat:bye",
            ),
        ]
    }

    #[test]
    fn each_constructor_writes_the_text_every_wire_has() {
        for (id, text) in every_form() {
            assert_eq!((id.as_str(), id.to_string()), (text, text.to_string()));
        }
    }

    #[test]
    fn parsing_gives_back_the_same_id() {
        for (id, text) in every_form() {
            let parsed = HandlerId::parse(text).expect(text);
            assert_eq!(parsed, id);
            assert_eq!(parsed.kind(), id.kind());
            assert_eq!((parsed.scope(), parsed.handler()), (id.scope(), id.handler()));
        }
    }

    #[test]
    fn the_parts_of_an_id() {
        let event = HandlerId::event("UserCreated", "sendWelcome");
        assert_eq!(
            (event.kind(), event.scope(), event.handler(), event.name()),
            (HandlerKind::Event, "UserCreated", Some("sendWelcome"), "sendWelcome")
        );
        let api = HandlerId::api("CreateUser");
        assert_eq!(
            (api.kind(), api.scope(), api.handler(), api.name()),
            (HandlerKind::Api, "CreateUser", None, "CreateUser")
        );
        let ws = HandlerId::ws(HandlerKind::WsMessage, "Chat", Some("on_message"));
        assert_eq!(
            (ws.kind(), ws.scope(), ws.name()),
            (HandlerKind::WsMessage, "Chat", "on_message")
        );
    }

    #[test]
    fn text_that_is_not_an_id_does_not_parse() {
        for text in [
            "",
            "api",
            "api:",
            "api:A:B",
            "event:UserCreated",
            "event:UserCreated:",
            "event:A:b:c",
            "cron:A:b",
            "middleware:a:b",
            "ws_message:",
            "ws_message:Chat:",
            "ws_message:Chat:a:b",
            "job:Cleanup",
            "CreateUser",
        ] {
            assert_eq!(HandlerId::parse(text), None, "{text}");
            assert!(text.parse::<HandlerId>().is_err(), "{text}");
        }
    }

    #[test]
    fn serde_is_the_plain_text() {
        let id = HandlerId::event("UserCreated", "sendWelcome");
        let json = serde_json::to_string(&id).expect("serialize");
        assert_eq!(json, r#""event:UserCreated:sendWelcome""#);
        let back: HandlerId = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, id);
        assert!(serde_json::from_str::<HandlerId>(r#""nope""#).is_err());
    }

    #[test]
    fn a_map_keyed_by_id_is_looked_up_with_the_text() {
        let ids: std::collections::HashMap<HandlerId, u8> = [(HandlerId::cron("Cleanup"), 1)].into();
        assert_eq!(ids.get("cron:Cleanup"), Some(&1));
        assert_eq!(HandlerId::cron("Cleanup"), "cron:Cleanup");
    }

    #[test]
    fn a_clone_and_its_arc_share_the_text() {
        let id = HandlerId::api("CreateUser");
        let shared: Arc<str> = id.to_arc();
        assert!(std::ptr::eq(shared.as_ptr(), id.clone().as_str().as_ptr()));
        let back = HandlerId::parse_shared(Arc::clone(&shared)).expect("an id");
        assert!(std::ptr::eq(back.as_str().as_ptr(), shared.as_ptr()));
    }
}
