//! The frames between the engine and a Node.js worker (the other half is at
//! the top of `host.mjs`).
//!
//! A frame is a 13-byte header — the length of what follows the length
//! field (u32 LE), a kind (u8) and a call id (u64 LE, 0 when none) — then a
//! body, JSON for most kinds. Kind and id sit in the binary header so
//! neither side parses JSON to route a frame, and a reply's body is exactly
//! what the engine keeps: for [`VALUE`] the handler's return value as JSON
//! text, which becomes the HTTP body unchanged ([`ReturnValue`]), for
//! [`DONE`] and [`FAIL`] the shapes every runtime shares
//! ([`WireSuccess`], [`WireFailure`]), read straight from the bytes into
//! their structs with no `serde_json::Value` tree in between.
//!
//! A call frame carries only what the handler's parameters read ([`Needs`]):
//! `handler()` gets its id and trace id, nothing else.

use crate::signature::{Needs, Part};
use rohas_runtime::reply::{WireFailure, WireSuccess};
use rohas_runtime::{Effects, HandlerError, Invocation, Outcome, ReturnValue};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

pub const HEADER: usize = 13;
/// The length field's own size: the length counts the bytes after it.
const LENGTH: usize = 4;
/// Longer is taken for bytes out of step (stray output on the socket), not
/// for a frame to allocate room for.
const MAX_LENGTH: usize = 1 << 30;

// Engine → worker.
pub const CALL: u8 = 1;
pub const LOAD: u8 = 2;
pub const CANCEL: u8 = 3;

// Worker → engine.
/// Success with no state effects: the body is the return value's JSON.
pub const VALUE: u8 = 10;
/// Success with effects: the body is a [`WireSuccess`].
pub const DONE: u8 = 11;
/// The body is a [`WireFailure`].
pub const FAIL: u8 = 12;
/// `{"errors": [..]}`: the answer to a [`LOAD`].
pub const LOADED: u8 = 13;
/// A [`CANCEL`] arrived (no body).
pub const ACK: u8 = 14;
/// `{"h", "tr", "l", "m", "f"}`: a log line from user code.
pub const LOG: u8 = 15;
/// `{"e", "m"}`: `state.broadcast`.
pub const BROADCAST: u8 = 16;
/// `{"c", "m"}`: `connection.send`.
pub const SEND: u8 = 17;
/// The handler file a worker is about to import (its path as text), so a
/// load that never ends can name the module whose top-level code hangs.
pub const IMPORTING: u8 = 18;

/// One frame from a worker, borrowed from the read buffer.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    pub kind: u8,
    pub id: u64,
    pub body: &'a [u8],
}

/// What [`next`] found at the start of a buffer.
pub enum Next<'a> {
    /// A whole frame and the bytes it took.
    Frame(Frame<'a>, usize),
    /// Not all there yet: at least this many bytes in all are needed.
    Partial(usize),
    /// A length that cannot be: the stream is not in step.
    Broken,
}

/// The first frame in `buffer`.
pub fn next(buffer: &[u8]) -> Next<'_> {
    if buffer.len() < HEADER {
        return Next::Partial(HEADER);
    }
    let length = u32::from_le_bytes(buffer[..LENGTH].try_into().expect("4 bytes")) as usize;
    if !(HEADER - LENGTH..=MAX_LENGTH).contains(&length) {
        return Next::Broken;
    }
    let total = LENGTH + length;
    if buffer.len() < total {
        return Next::Partial(total);
    }
    let frame = Frame {
        kind: buffer[LENGTH],
        id: u64::from_le_bytes(buffer[LENGTH + 1..HEADER].try_into().expect("8 bytes")),
        body: &buffer[HEADER..total],
    };
    Next::Frame(frame, total)
}

/// A frame whose body `write` appends.
fn build(kind: u8, id: u64, capacity: usize, write: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + capacity);
    out.extend_from_slice(&[0; LENGTH]);
    out.push(kind);
    out.extend_from_slice(&id.to_le_bytes());
    write(&mut out);
    let length = (out.len() - LENGTH) as u32;
    out[..LENGTH].copy_from_slice(&length.to_le_bytes());
    out
}

/// A frame without a body.
pub fn empty(kind: u8, id: u64) -> Vec<u8> {
    build(kind, id, 0, |_| {})
}

/// A frame with a JSON body.
pub fn json(kind: u8, id: u64, body: &impl Serialize) -> Vec<u8> {
    build(kind, id, 256, |out| {
        serde_json::to_writer(out, body).expect("frame bodies serialize")
    })
}

/// The body of a call frame. `host.mjs` reads these names.
#[derive(Serialize)]
struct CallBody<'a> {
    /// Handler id.
    h: &'a str,
    /// Trace id.
    tr: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<RequestPart<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<CallContext<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    connection_id: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum RequestPart<'a> {
    Full(&'a Value),
    /// The request the engine wrote as JSON (`Invocation::request_json`).
    Written(&'a RawValue),
    /// An api handler that takes only the body: `{"body": ..}`.
    Body {
        body: Payload<'a>,
    },
}

/// A body or payload: a value, or the JSON bytes the engine passed on
/// unparsed (`Invocation::payload_json`).
#[derive(Serialize)]
#[serde(untagged)]
enum Payload<'a> {
    Value(&'a Value),
    Raw(&'a RawValue),
}

impl<'a> Payload<'a> {
    fn of(call: &'a Invocation) -> Payload<'a> {
        // The engine checked these bytes against the schema.
        match call.payload_json.as_deref().map(serde_json::from_slice::<&RawValue>) {
            Some(Ok(raw)) => Payload::Raw(raw),
            _ => Payload::Value(&call.payload),
        }
    }
}

/// `HandlerContext`, or only its payload for a non-api handler that takes
/// only the body.
#[derive(Serialize)]
struct CallContext<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    handler_name: Option<&'a str>,
    payload: Payload<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query_params: Option<&'a Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a Map<String, Value>>,
}

/// The frame for call `id`, with what `needs` says the handler reads.
pub fn call(id: u64, call: &Invocation, needs: Needs) -> Vec<u8> {
    let request = match needs.request {
        Part::None => None,
        // The engine builds no request object for a handler that reads its
        // body alone (`NodeRuntime::needs`): the body is then the payload.
        Part::Field => Some(match call.request.get("body") {
            Some(body) => RequestPart::Body {
                body: Payload::Value(body),
            },
            None if call.request.is_null() => RequestPart::Body {
                body: Payload::of(call),
            },
            None => RequestPart::Full(&call.request),
        }),
        // An event's request, written by the engine (`request_as_json`).
        Part::Full => Some(
            match call.request_json.as_deref().map(serde_json::from_slice::<&RawValue>) {
                Some(Ok(written)) => RequestPart::Written(written),
                _ => RequestPart::Full(&call.request),
            },
        ),
    };
    let full = needs.context == Part::Full;
    let context = (needs.context != Part::None).then(|| CallContext {
        handler_name: full.then(|| call.handler_name()),
        payload: Payload::of(call),
        query_params: full.then_some(&call.query_params),
        metadata: full.then_some(&call.metadata),
    });
    let body = CallBody {
        h: &call.handler,
        tr: &call.trace_id,
        request,
        context,
        endpoint: call.endpoint.as_deref().filter(|_| needs.endpoint),
        connection_id: call.connection_id.as_deref().filter(|_| needs.connection),
    };
    json(CALL, id, &body)
}

/// A call's result from a [`VALUE`], [`DONE`] or [`FAIL`] frame.
pub fn outcome(frame: Frame<'_>) -> Result<Outcome, HandlerError> {
    let bad = |e: serde_json::Error| HandlerError::Failed {
        message: format!("bad reply from the Node.js worker: {e}"),
        stack: None,
    };
    match frame.kind {
        VALUE => Ok(Outcome {
            value: rohas_runtime::reply::parse::<ReturnValue>(frame.body).map_err(bad)?,
            effects: Effects::default(),
        }),
        DONE => Ok(rohas_runtime::reply::parse::<WireSuccess>(frame.body)
            .map_err(bad)?
            .into_outcome()),
        _ => Err(rohas_runtime::reply::parse::<WireFailure>(frame.body)
            .map_err(bad)?
            .into_error()),
    }
}

/// The body of a [`LOADED`] frame.
#[derive(Deserialize)]
pub struct Loaded {
    #[serde(default)]
    pub errors: Vec<String>,
}

/// The body of a [`LOG`] frame. The wire names are one or two letters:
/// `host.mjs` writes one of these per `console.*` line.
#[derive(Deserialize)]
pub struct Log {
    #[serde(rename = "h", default)]
    pub handler: String,
    #[serde(rename = "tr", default)]
    pub trace_id: String,
    #[serde(rename = "l", default)]
    pub level: String,
    #[serde(rename = "m", default)]
    pub message: String,
    #[serde(rename = "f", default)]
    pub fields: Option<Map<String, Value>>,
}

/// The body of a [`BROADCAST`] frame: `message` to every client of a
/// WebSocket endpoint.
#[derive(Deserialize)]
pub struct Broadcast {
    #[serde(rename = "e", default)]
    pub endpoint: String,
    #[serde(rename = "m", default)]
    pub message: Value,
}

/// The body of a [`SEND`] frame: `message` to one WebSocket connection.
#[derive(Deserialize)]
pub struct SendToConnection {
    #[serde(rename = "c", default)]
    pub connection_id: String,
    #[serde(rename = "m", default)]
    pub message: Value,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rohas_runtime::HandlerKind;
    use serde_json::json;

    fn invocation() -> Invocation {
        let mut metadata = Map::new();
        metadata.insert("headers".into(), json!({"host": "x"}));
        Invocation {
            handler: rohas_runtime::HandlerId::api("CreateUser"),
            kind: HandlerKind::Api,
            trace_id: "t1".into(),
            request: json!({"body": {"name": "a"}, "headers": {"host": "x"}, "query_params": {}}),
            payload: json!({"name": "a"}),
            payload_json: None,
            request_json: None,
            query_params: Map::new(),
            metadata,
            connection_id: Some("c1".into()),
            endpoint: Some("Chat".into()),
            deadline: None,
            needs: rohas_runtime::Needs::ALL,
        }
    }

    fn body_of(bytes: &[u8]) -> (u8, u64, Value) {
        let Next::Frame(frame, used) = next(bytes) else {
            panic!("not one whole frame")
        };
        assert_eq!(used, bytes.len());
        (frame.kind, frame.id, serde_json::from_slice(frame.body).unwrap())
    }

    #[test]
    fn a_call_carries_only_what_the_parameters_read() {
        let call = invocation();
        let (kind, id, none) = body_of(&super::call(7, &call, Needs::default()));
        assert_eq!((kind, id), (CALL, 7));
        assert_eq!(none, json!({"h": "api:CreateUser", "tr": "t1"}));

        let only_body = Needs {
            request: Part::Field,
            ..Needs::default()
        };
        let (_, _, body) = body_of(&super::call(8, &call, only_body));
        assert_eq!(body["request"], json!({"body": {"name": "a"}}));
        assert!(body.get("context").is_none());

        let (_, _, all) = body_of(&super::call(9, &call, Needs::ALL));
        assert_eq!(all["request"], call.request);
        assert_eq!(all["context"]["handler_name"], "CreateUser");
        assert_eq!(all["context"]["metadata"]["headers"]["host"], "x");
        assert_eq!(
            (&all["endpoint"], &all["connection_id"]),
            (&json!("Chat"), &json!("c1"))
        );

        let payload = Needs {
            context: Part::Field,
            ..Needs::default()
        };
        let (_, _, body) = body_of(&super::call(10, &call, payload));
        assert_eq!(body["context"], json!({"payload": {"name": "a"}}));
    }

    #[test]
    fn a_body_alone_comes_from_the_payload_when_no_request_was_built() {
        // What the engine builds for `NodeRuntime::needs` of a body-only
        // handler: no request object; the body as a value, or as the bytes
        // it came in when the schema accepted them unparsed.
        let only_body = Needs {
            request: Part::Field,
            ..Needs::default()
        };
        let mut call = invocation();
        call.request = Value::Null;
        let (_, _, body) = body_of(&super::call(11, &call, only_body));
        assert_eq!(body["request"], json!({"body": {"name": "a"}}));

        call.payload = Value::Null;
        call.payload_json = Some(br#"{"name": "raw"}"#.to_vec());
        let (_, _, body) = body_of(&super::call(12, &call, only_body));
        assert_eq!(body["request"], json!({"body": {"name": "raw"}}));
    }

    #[test]
    fn a_request_the_engine_wrote_goes_as_it_is() {
        let mut call = invocation();
        call.request = Value::Null;
        call.request_json = Some(br#"{"name": "a", "payload": {"name": "a"}}"#.to_vec());
        let (_, _, body) = body_of(&super::call(13, &call, Needs::ALL));
        assert_eq!(body["request"], json!({"name": "a", "payload": {"name": "a"}}));
    }

    #[test]
    fn frames_split_across_reads_wait_for_the_rest() {
        let mut bytes = json(LOADED, 3, &json!({"errors": []}));
        bytes.extend(empty(ACK, 4));
        let Next::Frame(first, used) = next(&bytes) else {
            panic!("first frame")
        };
        assert_eq!((first.kind, first.id), (LOADED, 3));
        assert!(matches!(next(&bytes[used..used + 5]), Next::Partial(HEADER)));
        let Next::Frame(second, rest) = next(&bytes[used..]) else {
            panic!("second frame")
        };
        assert_eq!((second.kind, second.id, second.body.len(), rest), (ACK, 4, 0, HEADER));
        assert!(matches!(next(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), Next::Broken));
    }

    #[test]
    fn replies_decode_without_a_value_tree() {
        let value = Frame {
            kind: VALUE,
            id: 1,
            body: br#"{"status":"ok"}"#,
        };
        assert_eq!(outcome(value).unwrap().value.json(), r#"{"status":"ok"}"#);
        let done = Frame {
            kind: DONE,
            id: 1,
            body: br#"{"value":[1],"triggered":[["A",{"n":1}]],"payloads":{}}"#,
        };
        let done = outcome(done).unwrap();
        assert_eq!(done.value.json(), "[1]");
        assert_eq!(done.effects.triggered[0].event, "A");
        let fail = Frame {
            kind: FAIL,
            id: 1,
            body: br#"{"status":404,"message":"nope","details":null}"#,
        };
        assert!(matches!(outcome(fail), Err(HandlerError::Http { status: 404, .. })));
        let broken = Frame {
            kind: VALUE,
            id: 1,
            body: b"{",
        };
        assert!(matches!(outcome(broken), Err(HandlerError::Failed { .. })));
    }

    /// The bodies exactly as `host.mjs` writes them.
    #[test]
    fn live_call_frames_read_their_short_wire_names() {
        let log: Log = serde_json::from_str(r#"{"h":"api:A","tr":"t1","l":"warn","m":"hi","f":{"k":1}}"#).unwrap();
        assert_eq!(
            (
                log.handler.as_str(),
                log.trace_id.as_str(),
                log.level.as_str(),
                log.message.as_str()
            ),
            ("api:A", "t1", "warn", "hi")
        );
        assert_eq!(log.fields.unwrap()["k"], 1);
        let broadcast: Broadcast = serde_json::from_str(r#"{"e":"Chat","m":{"text":"x"}}"#).unwrap();
        assert_eq!(
            (broadcast.endpoint.as_str(), broadcast.message),
            ("Chat", json!({"text": "x"}))
        );
        let send: SendToConnection = serde_json::from_str(r#"{"c":"c-1","m":[1]}"#).unwrap();
        assert_eq!((send.connection_id.as_str(), send.message), ("c-1", json!([1])));
        let empty: SendToConnection = serde_json::from_str("{}").unwrap();
        assert_eq!((empty.connection_id.as_str(), empty.message), ("", Value::Null));
    }
}
