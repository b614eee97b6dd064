//! Route paths, route collisions and cron schedules.
//!
//! Two routes collide when they have the same method and the same shape:
//! `/users/:id` and `/users/:userId` are one route to a router, so they are
//! an error here, not a surprise at run time. WebSocket paths collide with
//! API paths of any method, since the upgrade request is a GET on that path.

use crate::code::Code;
use crate::diagnostic::Diagnostic;
use crate::model::{PathSegment, Schema, Years};
use crate::naming::{is_portable_identifier, REQUEST_KEYS};
use crate::span::Span;
use std::collections::HashMap;

/// Split a route path into segments, reporting anything malformed. The span
/// is the string literal's, quotes included.
pub(super) fn parse_path(path: &str, at: Span, diags: &mut Vec<Diagnostic>) -> Vec<PathSegment> {
    let mut fail = |problem: String, help: &str| {
        diags.push(
            Diagnostic::error(Code::E0014, format!("malformed path `{path}`: {problem}"))
                .with_primary(at, problem)
                .with_help(help.to_string()),
        );
    };
    if !path.starts_with('/') {
        fail("a path must start with `/`".into(), "for example `\"/users/:id\"`");
        return Vec::new();
    }
    if path == "/" {
        return Vec::new();
    }
    let mut segments = Vec::new();
    let mut params: Vec<&str> = Vec::new();
    for segment in path[1..].split('/') {
        if segment.is_empty() {
            fail("empty segment (`//` or a trailing `/`)".into(), "remove the extra `/`");
            return Vec::new();
        }
        // `{id}` is upstream rohas's (and OpenAPI's) spelling of `:id`.
        let braced = segment.strip_prefix('{').and_then(|rest| rest.strip_suffix('}'));
        if segment.contains(['{', '}']) && braced.is_none_or(|inner| inner.contains(['{', '}'])) {
            fail(
                format!("`{segment}` is not a valid path parameter"),
                "a parameter is a whole segment, written `{id}` or `:id`",
            );
            return Vec::new();
        }
        if let Some(param) = segment.strip_prefix(':').or(braced) {
            if !is_portable_identifier(param) {
                fail(
                    format!("`{segment}` is not a valid path parameter"),
                    "a parameter is `:` followed by a name of letters, digits and `_`, like `:id`",
                );
                return Vec::new();
            }
            if params.contains(&param) {
                fail(
                    format!("parameter `:{param}` appears twice"),
                    "give each parameter its own name",
                );
                return Vec::new();
            }
            // A handler's request carries path parameters beside these
            // keys (`{"id": .., "body": .., "headers": ..}`): one of two
            // values of the same key would be lost.
            if REQUEST_KEYS.contains(&param) {
                fail(
                    format!("parameter `:{param}` has the name of the request's own `{param}`"),
                    &format!("rename the parameter, e.g. `:{param}_id`"),
                );
                return Vec::new();
            }
            params.push(param);
            segments.push(PathSegment::Param(param.to_string()));
        } else if let Some(bad) = segment
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-_.~".contains(*c)))
        {
            fail(
                format!("`{}` is not allowed in a path", bad.escape_debug()),
                "use letters, digits, `-`, `_`, `.` and `~`; query parameters are not part of the path",
            );
            return Vec::new();
        } else {
            segments.push(PathSegment::Literal(segment.to_string()));
        }
    }
    segments
}

/// The path with every parameter written `:name`.
pub(super) fn canonical_path(segments: &[PathSegment]) -> String {
    let mut out = String::new();
    for s in segments {
        out.push('/');
        match s {
            PathSegment::Literal(l) => out.push_str(l),
            PathSegment::Param(p) => {
                out.push(':');
                out.push_str(p);
            }
        }
    }
    out
}

/// A 5-field or 6-field (leading seconds) cron expression that croner
/// accepts, or 7 fields: seconds first and a year last (upstream rohas's
/// form). Returns the years of a 7-field schedule (`None`: every year).
pub(super) fn check_cron(schedule: &str, at: Span, diags: &mut Vec<Diagnostic>) -> Option<Years> {
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    let mut years = None;
    let problem = if !(5..=7).contains(&fields.len()) {
        Some(format!(
            "it has {} field(s); a schedule has 5 (minute hour day month weekday), 6 (with leading seconds) or 7 (seconds first, year last)",
            fields.len()
        ))
    } else {
        let (expression, year) = match fields.len() {
            7 => (fields[..6].join(" "), Some(fields[6])),
            _ => (schedule.to_string(), None),
        };
        let parsed = croner::Cron::new(&expression)
            .with_seconds_optional()
            .parse()
            .err()
            .map(|e| e.to_string());
        match (parsed, year) {
            (Some(problem), _) => Some(problem),
            (None, Some(year)) => match parse_years(year) {
                Ok(y) => {
                    years = y;
                    None
                }
                Err(problem) => Some(problem),
            },
            (None, None) => None,
        }
    };
    if let Some(problem) = problem {
        diags.push(
            Diagnostic::error(Code::E0015, format!("invalid cron schedule `{schedule}`"))
                .with_primary(at, problem)
                .with_help("for example \"0 0 * * *\" (daily at midnight) or \"*/10 * * * * *\" (every 10 seconds)"),
        );
    }
    years
}

/// The year field: `*`, `2026`, `2026-2030`, `*/2`, `2026-2040/2`, or a
/// comma-separated list of these. `Ok(None)` means every year.
fn parse_years(field: &str) -> Result<Option<Years>, String> {
    let bad = |why: &str| format!("the year field `{field}` is invalid: {why}");
    let year = |text: &str| -> Result<i32, String> {
        match text.parse::<i32>() {
            Ok(y) if (Years::FIRST..=Years::LAST).contains(&y) => Ok(y),
            _ => Err(bad(&format!(
                "`{text}` is not a year from {} to {}",
                Years::FIRST,
                Years::LAST
            ))),
        }
    };
    let mut ranges = Vec::new();
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => match step.parse::<u32>() {
                Ok(n) if n > 0 => (range, n),
                _ => return Err(bad(&format!("`{step}` is not a step (a whole number from 1)"))),
            },
            None => (part, 1),
        };
        let (first, last) = match range {
            "*" if field == "*" => return Ok(None),
            "*" => (Years::FIRST, Years::LAST),
            _ => match range.split_once('-') {
                Some((a, b)) => (year(a)?, year(b)?),
                None if step > 1 => (year(range)?, Years::LAST),
                None => {
                    let y = year(range)?;
                    (y, y)
                }
            },
        };
        if first > last {
            return Err(bad(&format!("the range `{range}` ends before it starts")));
        }
        ranges.push((first, last, step));
    }
    Ok(Some(Years { ranges }))
}

/// The span of `api Name` at the top of a declaration, for labels that
/// concern the whole declaration.
pub(super) fn header(keyword: &str, name: &str, decl: Span) -> Span {
    let end = (decl.start as usize + keyword.len() + 1 + name.len()).min(decl.end as usize);
    Span::new(decl.file, decl.start as usize, end)
}

/// One route shape: literal segments kept, parameters reduced to `:`.
fn shape(segments: &[PathSegment]) -> String {
    let mut out = String::new();
    for s in segments {
        out.push('/');
        match s {
            PathSegment::Literal(l) => out.push_str(l),
            PathSegment::Param(_) => out.push(':'),
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

pub(super) fn check(schema: &Schema, diags: &mut Vec<Diagnostic>) {
    let mut routes: HashMap<(String, &str), (&str, Span)> = HashMap::new();
    let mut api_shapes: HashMap<String, (&str, Span)> = HashMap::new();
    for api in &schema.apis {
        if api.path.is_empty() || (api.segments.is_empty() && api.path != "/") {
            continue; // path missing or malformed: already reported
        }
        let key = (shape(&api.segments), api.method.as_str());
        let here = header("api", &api.name, api.span);
        if let Some((other, span)) = routes.get(&key) {
            diags.push(
                Diagnostic::error(
                    Code::E0012,
                    format!(
                        "apis `{other}` and `{}` have the same route {} {}",
                        api.name, key.1, key.0
                    ),
                )
                .with_primary(here, format!("{} {}", key.1, api.path))
                .with_secondary(*span, "same route here")
                .with_help("path parameters match any value, so `/users/:id` and `/users/:name` are the same route"),
            );
        } else {
            routes.insert(key.clone(), (&api.name, here));
            api_shapes.entry(key.0).or_insert((&api.name, here));
        }
        if matches!(
            api.method,
            crate::model::HttpMethod::Get | crate::model::HttpMethod::Delete
        ) && api.body.is_some()
        {
            diags.push(
                Diagnostic::warning(
                    Code::W0001,
                    format!("api `{}` is {} but has a `body`", api.name, api.method.as_str()),
                )
                .with_primary(here, "clients and proxies may drop the body of this method")
                .with_help("use POST, PUT or PATCH, or move the data into path or query parameters"),
            );
        }
    }
    let mut ws_paths: HashMap<String, (&str, Span)> = HashMap::new();
    for ws in &schema.websockets {
        if !ws.path.starts_with('/') {
            continue;
        }
        let mut ignored = Vec::new();
        let segments = parse_path(&ws.path, ws.span, &mut ignored);
        if !ignored.is_empty() {
            continue;
        }
        let key = shape(&segments);
        let here = header("ws", &ws.name, ws.span);
        if let Some((api, span)) = api_shapes.get(&key) {
            diags.push(
                Diagnostic::error(
                    Code::E0013,
                    format!("WebSocket `{}` uses the path of api `{api}`", ws.name),
                )
                .with_primary(here, format!("path {}", ws.path))
                .with_secondary(*span, "this api has the same path")
                .with_help("give the WebSocket endpoint its own path, e.g. under `/ws/`"),
            );
        }
        if let Some((other, span)) = ws_paths.get(&key) {
            diags.push(
                Diagnostic::error(
                    Code::E0012,
                    format!("WebSockets `{other}` and `{}` have the same path", ws.name),
                )
                .with_primary(here, format!("path {}", ws.path))
                .with_secondary(*span, "same path here"),
            );
        } else {
            ws_paths.insert(key, (&ws.name, here));
        }
    }
}
