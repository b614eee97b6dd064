//! `src/generated/extract.rs`: the `FromCall` extractor of every type the
//! schema generates, so a handler can ask for any of them as a parameter.
//!
//! The list is read back from the generated modules themselves (with `syn`),
//! so it always matches what was generated: `<Api>Request` structs of
//! `api/<Api>.rs` and the event structs of `events/<Event>.rs` are built from
//! the call's request (an event struct read through its `<Event>Wire` form
//! from the payload's fields alone, so the engine need not send `payload`);
//! every other struct or enum (models, inputs, inline bodies, ws messages,
//! payloads) from the body or payload.

use crate::text::Text;
use std::path::Path;

/// The extractor module for the generated files (each a path relative to
/// the project root, `src/generated/…`, and its text).
pub fn module<'a>(files: impl IntoIterator<Item = (&'a Path, &'a str)>) -> String {
    let mut request = Vec::new();
    let mut events = Vec::new();
    let mut payload = Vec::new();
    for (path, contents) in files {
        let Ok(rel) = path.strip_prefix("src/generated") else {
            continue;
        };
        let parts: Vec<&str> = rel.iter().filter_map(|p| p.to_str()).collect();
        let [group, name] = parts.as_slice() else {
            continue;
        };
        if !matches!(*group, "models" | "api" | "events" | "websockets") || *name == "mod.rs" {
            continue;
        }
        let Some(stem) = Path::new(name).file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let Ok(parsed) = syn::parse_file(contents) else {
            continue;
        };
        // An event type read through its wire form (`<Event>Wire`, the
        // payload's fields without `payload`) needs no `payload` sent.
        let wire = format!("{stem}Wire");
        let read_by_fields = *group == "events"
            && parsed
                .items
                .iter()
                .any(|item| matches!(item, syn::Item::Struct(s) if s.ident == wire));
        for item in parsed.items {
            let ident = match item {
                syn::Item::Struct(s) if matches!(s.vis, syn::Visibility::Public(_)) && s.generics.params.is_empty() => {
                    s.ident.to_string()
                }
                syn::Item::Enum(e) if matches!(e.vis, syn::Visibility::Public(_)) && e.generics.params.is_empty() => {
                    e.ident.to_string()
                }
                _ => continue,
            };
            let path = format!("crate::generated::{group}::{stem}::{ident}");
            let from_request =
                (*group == "api" && ident == format!("{stem}Request")) || (*group == "events" && ident == stem);
            if from_request && read_by_fields {
                events.push(path);
            } else if from_request {
                request.push(path);
            } else {
                payload.push(path);
            }
        }
    }
    request.sort();
    events.sort();
    payload.sort();

    let mut code = Text::default();
    code.line("//! Handler parameters of the schema's types (`FromCall`): request and event");
    code.line("//! types are read from the request, the others from the body or payload.");
    code.line("// Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.");
    for (macro_name, types) in [
        ("request_types", &request),
        ("event_types", &events),
        ("payload_types", &payload),
    ] {
        if types.is_empty() {
            continue;
        }
        code.blank();
        code.open(&format!("rohas_runtime::{macro_name}! {{"));
        for ty in types.iter() {
            code.line(&format!("{ty},"));
        }
        code.close("}");
    }
    code.finish()
}
