//! Method + path → api, with `:param` segments, 404 and 405.
//!
//! Built from the schema and swapped as a whole on reload, so matching
//! needs no locks. Static paths are a hash lookup; paths with parameters are
//! matched segment by segment, literal segments winning over parameters
//! (`/users/me` before `/users/:id`), as in axum and Fastify.

use rohas_schema::model::{HttpMethod, PathSegment, Schema};
use rustc_hash::FxHashMap;

pub enum RouteMatch {
    /// Index into `schema.apis`, and the path parameters by name.
    Found(usize, Vec<(String, String)>),
    /// The path exists with other methods (for the `Allow` header).
    MethodNotAllowed(Vec<HttpMethod>),
    NotFound,
}

pub struct Router {
    /// Paths without parameters: path → (method, api index).
    statics: FxHashMap<String, Vec<(HttpMethod, usize)>>,
    /// Paths with parameters, most literal segments first.
    dynamic: Vec<(Vec<PathSegment>, HttpMethod, usize)>,
}

impl Router {
    pub fn new(schema: &Schema) -> Self {
        let mut statics: FxHashMap<String, Vec<(HttpMethod, usize)>> = FxHashMap::default();
        let mut dynamic = Vec::new();
        for (i, api) in schema.apis.iter().enumerate() {
            if api.segments.iter().all(|s| matches!(s, PathSegment::Literal(_))) {
                statics
                    .entry(normalize(&api.path).to_string())
                    .or_default()
                    .push((api.method, i));
            } else {
                dynamic.push((api.segments.clone(), api.method, i));
            }
        }
        dynamic.sort_by_key(|(segments, _, _)| {
            std::cmp::Reverse(segments.iter().filter(|s| matches!(s, PathSegment::Literal(_))).count())
        });
        Router { statics, dynamic }
    }

    pub fn find(&self, method: &str, path: &str) -> RouteMatch {
        let path = normalize(path);
        let mut allowed = Vec::new();
        if let Some(routes) = self.statics.get(path) {
            for (m, i) in routes {
                if m.as_str() == method || (method == "HEAD" && *m == HttpMethod::Get) {
                    return RouteMatch::Found(*i, Vec::new());
                }
                allowed.push(*m);
            }
        }
        let parts: Vec<&str> = if self.dynamic.is_empty() {
            Vec::new()
        } else {
            path.split('/').skip(1).collect()
        };
        for (segments, m, i) in &self.dynamic {
            let Some(params) = match_segments(segments, &parts) else {
                continue;
            };
            if m.as_str() == method || (method == "HEAD" && *m == HttpMethod::Get) {
                return RouteMatch::Found(*i, params);
            }
            if !allowed.contains(m) {
                allowed.push(*m);
            }
        }
        if allowed.is_empty() {
            RouteMatch::NotFound
        } else {
            RouteMatch::MethodNotAllowed(allowed)
        }
    }
}

/// `/users/` and `/users` are the same route; the root stays `/`.
pub fn normalize(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        "/"
    } else {
        trimmed
    }
}

fn match_segments(segments: &[PathSegment], parts: &[&str]) -> Option<Vec<(String, String)>> {
    if segments.len() != parts.len() {
        return None;
    }
    let mut params = Vec::new();
    for (segment, part) in segments.iter().zip(parts) {
        match segment {
            PathSegment::Literal(l) if l == part => {}
            PathSegment::Literal(_) => return None,
            PathSegment::Param(_) if part.is_empty() => return None,
            PathSegment::Param(name) => params.push((name.clone(), percent_decode(part))),
        }
    }
    Some(params)
}

/// A path segment with its `%XX` escapes decoded (`+` and `&` stay as
/// they are: they mean nothing special in a path).
pub(crate) fn percent_decode(part: &str) -> String {
    let escaped = part.replace('+', "%2B").replace('&', "%26");
    form_urlencoded::parse(format!("x={escaped}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| part.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        let mut sources = rohas_schema::SourceMap::new();
        sources.add(
            "t.ro",
            r#"api A { method: GET path: "/users" }
               api B { method: POST path: "/users" }
               api C { method: GET path: "/users/:id" }
               api D { method: GET path: "/users/me" }
               api E { method: DELETE path: "/users/:id/posts/:post" }"#,
        );
        Router::new(&rohas_schema::check_sources(sources).schema.unwrap())
    }

    #[test]
    fn matches_static_dynamic_and_literal_first() {
        let r = router();
        assert!(matches!(r.find("GET", "/users/"), RouteMatch::Found(0, _)));
        assert!(matches!(r.find("POST", "/users"), RouteMatch::Found(1, _)));
        assert!(matches!(r.find("GET", "/users/me"), RouteMatch::Found(3, _)));
        match r.find("GET", "/users/a%20b") {
            RouteMatch::Found(2, params) => assert_eq!(params, vec![("id".to_string(), "a b".to_string())]),
            _ => panic!("no match"),
        }
        match r.find("DELETE", "/users/7/posts/9") {
            RouteMatch::Found(4, params) => assert_eq!(params.len(), 2),
            _ => panic!("no match"),
        }
    }

    #[test]
    fn path_segments_decode_escapes_and_keep_plus_and_ampersand() {
        assert_eq!(percent_decode("a%20b%2Fc"), "a b/c");
        assert_eq!(percent_decode("a+b&c=d"), "a+b&c=d");
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn wrong_method_and_unknown_path() {
        let r = router();
        match r.find("PUT", "/users") {
            RouteMatch::MethodNotAllowed(m) => assert_eq!(m, vec![HttpMethod::Get, HttpMethod::Post]),
            _ => panic!("expected 405"),
        }
        assert!(matches!(r.find("GET", "/nope"), RouteMatch::NotFound));
        assert!(matches!(r.find("GET", "/users//x"), RouteMatch::NotFound));
    }
}
