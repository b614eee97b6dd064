//! `api`, `event`, `cron` and `ws` blocks: `key: value` properties → model.
//!
//! Each block kind has a fixed table of properties. Unknown keys get the
//! nearest known key as a suggestion (`onConect` → `onConnect`), so a typo in
//! a handler list never silently drops handlers.

use super::types::{check_identifier, resolve};
use super::{DeclKind, Names};
use crate::ast::{BlockDecl, BlockKind, Ident, Property, TypeExpr, Value};
use crate::code::Code;
use crate::diagnostic::Diagnostic;
use crate::model::{Api, Cron, Event, HttpMethod, NameRef, Schema, TypeRef, WebSocket};
use crate::naming::is_portable_identifier;
use crate::span::Span;
use crate::suggest::did_you_mean;
use std::collections::HashMap;
use std::time::Duration;

const API_KEYS: &[&str] = &[
    "method",
    "path",
    "query",
    "body",
    "response",
    "triggers",
    "middlewares",
    "timeout",
];
const EVENT_KEYS: &[&str] = &["payload", "handler", "triggers", "retries", "timeout", "type"];
const CRON_KEYS: &[&str] = &["schedule", "handler", "triggers", "timeout"];
const WS_KEYS: &[&str] = &[
    "path",
    "message",
    "onConnect",
    "onMessage",
    "onDisconnect",
    "triggers",
    "broadcast",
    "middlewares",
    "timeout",
];

/// The properties of one block, checked for unknown and repeated keys.
struct Props<'a> {
    block: &'a BlockDecl,
    map: HashMap<&'a str, &'a Property>,
    names: &'a Names,
}

pub(super) fn lower_block(block: &BlockDecl, names: &Names, schema: &mut Schema, diags: &mut Vec<Diagnostic>) {
    let known = match block.kind {
        BlockKind::Api => API_KEYS,
        BlockKind::Event => EVENT_KEYS,
        BlockKind::Cron => CRON_KEYS,
        BlockKind::Ws => WS_KEYS,
    };
    let mut map: HashMap<&str, &Property> = HashMap::new();
    for prop in &block.properties {
        let key = prop.key.name.as_str();
        if !known.contains(&key) {
            let mut diag = Diagnostic::error(
                Code::E0007,
                format!("`{}` blocks have no property `{key}`", block.kind.keyword()),
            )
            .with_primary(prop.key.span, "unknown property");
            diag = match did_you_mean(key, known.iter().copied()) {
                Some(s) => diag.with_help(format!("did you mean `{s}`?")),
                None => diag.with_help(format!("known properties: {}", known.join(", "))),
            };
            diags.push(diag);
            continue;
        }
        if let Some(first) = map.get(key) {
            diags.push(
                Diagnostic::error(Code::E0018, format!("property `{key}` is set twice"))
                    .with_primary(prop.key.span, "set again here")
                    .with_secondary(first.key.span, "first set here"),
            );
            continue;
        }
        map.insert(key, prop);
    }
    let props = Props { block, map, names };
    let name = block.name.name.clone();
    let doc = block.doc.clone();
    let span = block.span;
    match block.kind {
        BlockKind::Api => {
            let (path, segments) = match props.string("path", diags) {
                Ok(Some((path, at))) => {
                    let segments = super::routes::parse_path(&path, at, diags);
                    // `/users/{id}` is stored as `/users/:id`, so generated
                    // code, the OpenAPI document and logs show one spelling.
                    let path = if segments.is_empty() {
                        path
                    } else {
                        super::routes::canonical_path(&segments)
                    };
                    (path, segments)
                }
                Ok(None) => {
                    props.missing("path", "path: \"/users/:id\"", diags);
                    (String::new(), Vec::new())
                }
                Err(()) => (String::new(), Vec::new()),
            };
            let method = props.method(diags);
            schema.apis.push(Api {
                name,
                method,
                path,
                segments,
                query: props.type_ref("query", diags),
                body: props.type_ref("body", diags),
                response: props.type_ref("response", diags),
                triggers: props.events("triggers", diags),
                middlewares: props.names("middlewares", "middleware", diags),
                timeout: props.duration(diags),
                doc,
                span,
            });
        }
        BlockKind::Event => schema.events.push(Event {
            name,
            payload: props.type_ref("payload", diags),
            handlers: props.names("handler", "handler", diags),
            triggers: props.events("triggers", diags),
            retries: props.retries(diags),
            broker: props.broker(diags),
            timeout: props.duration(diags),
            doc,
            span,
        }),
        BlockKind::Cron => {
            let (schedule, years) = match props.string("schedule", diags) {
                Ok(Some((schedule, at))) => {
                    let years = super::routes::check_cron(&schedule, at, diags);
                    (schedule, years)
                }
                Ok(None) => {
                    props.missing("schedule", "schedule: \"0 0 * * *\"", diags);
                    (String::new(), None)
                }
                Err(()) => (String::new(), None),
            };
            schema.crons.push(Cron {
                name,
                schedule,
                years,
                handler: props.single_name("handler", diags),
                triggers: props.events("triggers", diags),
                timeout: props.duration(diags),
                doc,
                span,
            });
        }
        BlockKind::Ws => {
            let path = match props.string("path", diags) {
                Ok(Some((path, at))) => {
                    super::routes::parse_path(&path, at, diags);
                    path
                }
                Ok(None) => {
                    props.missing("path", "path: \"/ws/chat\"", diags);
                    String::new()
                }
                Err(()) => String::new(),
            };
            schema.websockets.push(WebSocket {
                name,
                path,
                message: props.type_ref("message", diags),
                on_connect: props.names("onConnect", "handler", diags),
                on_message: props.names("onMessage", "handler", diags),
                on_disconnect: props.names("onDisconnect", "handler", diags),
                triggers: props.events("triggers", diags),
                broadcast: props.boolean("broadcast", diags),
                middlewares: props.names("middlewares", "middleware", diags),
                timeout: props.duration(diags),
                doc,
                span,
            });
        }
    }
}

impl Props<'_> {
    fn get(&self, key: &str) -> Option<&Property> {
        self.map.get(key).copied()
    }

    fn wrong(&self, prop: &Property, expected: &str, example: &str, diags: &mut Vec<Diagnostic>) {
        diags.push(
            Diagnostic::error(
                Code::E0009,
                format!(
                    "`{}` must be {expected}, found {}",
                    prop.key.name,
                    prop.value.describe()
                ),
            )
            .with_primary(prop.value.span(), format!("expected {expected}"))
            .with_help(format!("for example `{}: {example}`", prop.key.name)),
        );
    }

    fn missing(&self, key: &str, example: &str, diags: &mut Vec<Diagnostic>) {
        let block = self.block;
        diags.push(
            Diagnostic::error(
                Code::E0008,
                format!("{} `{}` has no `{key}`", block.kind.keyword(), block.name.name),
            )
            .with_primary(block.name.span, format!("`{key}` is required"))
            .with_help(format!("add `{example}`")),
        );
    }

    /// `Ok(None)` when the key is absent; `Err(())` when it holds something
    /// other than a string (already reported).
    fn string(&self, key: &str, diags: &mut Vec<Diagnostic>) -> Result<Option<(String, Span)>, ()> {
        let Some(prop) = self.get(key) else { return Ok(None) };
        match &prop.value {
            Value::Str(s, span) => Ok(Some((s.clone(), *span))),
            _ => {
                self.wrong(prop, "a string", "\"…\"", diags);
                Err(())
            }
        }
    }

    fn method(&self, diags: &mut Vec<Diagnostic>) -> HttpMethod {
        let Some(prop) = self.get("method") else {
            self.missing("method", "method: GET", diags);
            return HttpMethod::Get;
        };
        let word = match &prop.value {
            Value::Type(TypeExpr::Name(ident)) => Some(ident.name.as_str()),
            Value::Str(s, _) => Some(s.as_str()),
            _ => None,
        };
        let method = match word {
            Some("GET") => Some(HttpMethod::Get),
            Some("POST") => Some(HttpMethod::Post),
            Some("PUT") => Some(HttpMethod::Put),
            Some("PATCH") => Some(HttpMethod::Patch),
            Some("DELETE") => Some(HttpMethod::Delete),
            _ => None,
        };
        method.unwrap_or_else(|| {
            const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];
            let mut diag = Diagnostic::error(Code::E0009, "`method` must be GET, POST, PUT, PATCH or DELETE")
                .with_primary(prop.value.span(), "unknown HTTP method");
            let upper = word.map(str::to_uppercase).unwrap_or_default();
            if let Some(s) =
                did_you_mean(&upper, METHODS.iter().copied()).or(METHODS.iter().copied().find(|m| *m == upper))
            {
                diag = diag.with_help(format!("did you mean `{s}`?"));
            }
            diags.push(diag);
            HttpMethod::Get
        })
    }

    fn type_ref(&self, key: &str, diags: &mut Vec<Diagnostic>) -> Option<TypeRef> {
        let prop = self.get(key)?;
        match &prop.value {
            Value::Type(expr) => Some(resolve(expr, self.names, diags)),
            _ => {
                self.wrong(prop, "a type", "User, User[] or { id: Int }", diags);
                None
            }
        }
    }

    /// `[a, b]`, or a single name.
    fn name_list(&self, key: &str, diags: &mut Vec<Diagnostic>) -> Vec<Ident> {
        let Some(prop) = self.get(key) else { return Vec::new() };
        let items: Vec<&Value> = match &prop.value {
            Value::List(items, _) => items.iter().collect(),
            single @ (Value::Type(TypeExpr::Name(_)) | Value::Str(..)) => vec![single],
            _ => {
                self.wrong(prop, "a list of names", "[first, second]", diags);
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for item in items {
            match item {
                Value::Type(TypeExpr::Name(ident)) => out.push(ident.clone()),
                // `["auth"]`: upstream rohas quotes names in some lists.
                Value::Str(name, span) if is_portable_identifier(name) => out.push(Ident {
                    name: name.clone(),
                    span: *span,
                }),
                Value::Str(name, span) => diags.push(
                    Diagnostic::error(Code::E0009, format!("`{key}` lists names, and \"{name}\" is not one"))
                        .with_primary(*span, "not a name")
                        .with_help("a name is letters, digits and `_`, not starting with a digit, e.g. `rate_limit`"),
                ),
                other => diags.push(
                    Diagnostic::error(Code::E0009, format!("`{key}` lists names, found {}", other.describe()))
                        .with_primary(other.span(), "expected a name")
                        .with_help(format!("for example `{key}: [first, second]`")),
                ),
            }
        }
        out
    }

    fn names(&self, key: &str, what: &str, diags: &mut Vec<Diagnostic>) -> Vec<NameRef> {
        let mut seen: HashMap<String, Span> = HashMap::new();
        let mut out = Vec::new();
        for ident in self.name_list(key, diags) {
            check_identifier(&ident, what, diags);
            if let Some(first) = seen.get(&ident.name) {
                diags.push(
                    Diagnostic::error(
                        Code::E0010,
                        format!("{what} `{}` is listed twice in `{key}`", ident.name),
                    )
                    .with_primary(ident.span, "listed again here")
                    .with_secondary(*first, "first listed here"),
                );
                continue;
            }
            seen.insert(ident.name.clone(), ident.span);
            out.push(NameRef {
                name: ident.name,
                span: ident.span,
            });
        }
        out
    }

    fn events(&self, key: &str, diags: &mut Vec<Diagnostic>) -> Vec<NameRef> {
        let refs = self.names(key, "event", diags);
        for r in &refs {
            match self.names.kind(&r.name) {
                Some(DeclKind::Block(BlockKind::Event)) => {}
                Some(other) => diags.push(
                    Diagnostic::error(
                        Code::E0006,
                        format!("`{}` is {}, not an event", r.name, other.describe()),
                    )
                    .with_primary(r.span, "not an event")
                    .with_help("`triggers` lists events declared with `event`"),
                ),
                None => {
                    let events = self.names.of_kind(|k| k == DeclKind::Block(BlockKind::Event));
                    let mut diag = Diagnostic::error(Code::E0006, format!("unknown event `{}`", r.name))
                        .with_primary(r.span, "no event with this name");
                    diag = match did_you_mean(&r.name, events) {
                        Some(s) => diag.with_help(format!("did you mean `{s}`?")),
                        None => diag.with_help(format!("declare it: `event {} {{ payload: Json }}`", r.name)),
                    };
                    diags.push(diag);
                }
            }
        }
        refs
    }

    /// One name (`handler: daily_cleanup`; a list of exactly one is fine too).
    fn single_name(&self, key: &str, diags: &mut Vec<Diagnostic>) -> Option<NameRef> {
        let prop = self.get(key)?;
        let mut names = self.names(key, "handler", diags);
        if names.len() > 1 {
            diags.push(
                Diagnostic::error(
                    Code::E0009,
                    format!("a {} runs one handler, but `{key}` lists {}", self.block.kind.keyword(), names.len()),
                )
                .with_primary(prop.value.span(), "more than one handler")
                .with_help(format!(
                    "keep one, e.g. `{key}: {}`; to run several handlers, trigger an event and give the event a handler list",
                    names[0].name
                )),
            );
            return None;
        }
        names.pop()
    }

    /// `type: sqs` / `type: eventbridge` on an event: accepted, and warned
    /// about, since this version delivers every event through the project's
    /// adapter.
    fn broker(&self, diags: &mut Vec<Diagnostic>) -> Option<NameRef> {
        let prop = self.get("type")?;
        let (word, span) = match &prop.value {
            Value::Type(TypeExpr::Name(ident)) => (ident.name.as_str(), ident.span),
            Value::Str(s, span) => (s.as_str(), *span),
            _ => ("", prop.value.span()),
        };
        let broker = match word.to_ascii_lowercase().as_str() {
            "sqs" => "sqs",
            "eventbridge" => "eventbridge",
            _ => {
                let mut diag = Diagnostic::error(Code::E0009, "an event's `type` must be `sqs` or `eventbridge`")
                    .with_primary(prop.value.span(), "unknown event type");
                diag = match did_you_mean(&word.to_ascii_lowercase(), ["sqs", "eventbridge"]) {
                    Some(s) => diag.with_help(format!("did you mean `{s}`?")),
                    None => diag.with_help(
                        "`type` names the AWS service upstream rohas routes the event through; remove it to use the project's adapter",
                    ),
                };
                diags.push(diag);
                return None;
            }
        };
        let service = if broker == "sqs" { "SQS" } else { "EventBridge" };
        diags.push(
            Diagnostic::warning(
                Code::W0004,
                format!(
                    "event `{}` asks for `type: {broker}`, but this version of rohas does not deliver events through {service}",
                    self.block.name.name
                ),
            )
            .with_primary(span, format!("not sent to {service}"))
            .with_help(
                "the event is delivered through the project's `[adapter]` (the local durable queue by default), \
                 like every other event; remove `type` to silence this warning",
            ),
        );
        Some(NameRef {
            name: broker.to_string(),
            span,
        })
    }

    fn duration(&self, diags: &mut Vec<Diagnostic>) -> Option<Duration> {
        let prop = self.get("timeout")?;
        let parsed = match &prop.value {
            Value::Duration { value, unit, .. } => match unit.as_str() {
                "ms" => Some(Duration::from_millis(*value)),
                "s" => Some(Duration::from_secs(*value)),
                "m" => value.checked_mul(60).map(Duration::from_secs),
                _ => None,
            },
            _ => None,
        };
        match parsed {
            Some(d) if !d.is_zero() => Some(d),
            _ => {
                diags.push(
                    Diagnostic::error(Code::E0009, "`timeout` must be a positive duration in ms, s or m")
                        .with_primary(prop.value.span(), "not a duration")
                        .with_help("for example `timeout: 5s` or `timeout: 500ms`"),
                );
                None
            }
        }
    }

    fn retries(&self, diags: &mut Vec<Diagnostic>) -> Option<u32> {
        let prop = self.get("retries")?;
        match &prop.value {
            Value::Int(n, _) if (1..=100).contains(n) => Some(*n as u32),
            _ => {
                diags.push(
                    Diagnostic::error(
                        Code::E0009,
                        "`retries` must be a whole number of delivery attempts from 1 to 100",
                    )
                    .with_primary(prop.value.span(), "not a number of attempts")
                    .with_help("for example `retries: 5`"),
                );
                None
            }
        }
    }

    fn boolean(&self, key: &str, diags: &mut Vec<Diagnostic>) -> bool {
        let Some(prop) = self.get(key) else { return false };
        match &prop.value {
            Value::Type(TypeExpr::Name(ident)) if ident.name == "true" => true,
            Value::Type(TypeExpr::Name(ident)) if ident.name == "false" => false,
            _ => {
                self.wrong(prop, "true or false", "true", diags);
                false
            }
        }
    }
}
