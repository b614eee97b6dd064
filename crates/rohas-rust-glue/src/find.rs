//! Reading handler files: which function of a file a handler spec names
//! (`handler`, `handle_<name>`, `on_message` … in the spec's order), parsed
//! with `syn`, and how each of its parameters is passed.
//!
//! A handler whose file does not parse, or defines none of the names, is
//! not found: the engine reports it (`rohas dev` names the file and the
//! names it looked for) from the list of ids the library serves.

use rohas_runtime::{HandlerId, HandlerSpec};
use std::path::{Path, PathBuf};

/// One handler found in its file.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub id: HandlerId,
    /// The handler file, relative to the project root.
    pub file: PathBuf,
    pub function: String,
    /// Where the function's name is, as `file:line:column`.
    pub at: String,
    pub is_async: bool,
    pub params: Vec<Param>,
}

/// How one parameter is passed.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// `&mut T`: the call's state.
    StateMut,
    /// `&State`: the call's state, shared.
    StateRef,
    /// `T` (or `&T`, borrowed from a local) built by `FromCall`; `label` names
    /// the parameter and where it is declared.
    Extract { label: String, by_ref: bool },
}

/// A parsed handler file.
pub struct Source<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

/// Find `spec`'s function in `source`. `None` when the file does not parse
/// (cargo reports it) or defines none of the names.
pub fn find(spec: &HandlerSpec, source: &Source<'_>) -> Option<Found> {
    let file = syn::parse_file(source.text).ok()?;
    let display = source.path.to_string_lossy().replace('\\', "/");
    for name in &spec.functions {
        for item in &file.items {
            let syn::Item::Fn(function) = item else {
                continue;
            };
            if function.sig.ident != name.as_str() {
                continue;
            }
            let params = function
                .sig
                .inputs
                .iter()
                .filter_map(|input| match input {
                    syn::FnArg::Typed(typed) => Some(param(typed, &display)),
                    syn::FnArg::Receiver(_) => None,
                })
                .collect();
            let start = function.sig.ident.span().start();
            return Some(Found {
                id: spec.id.clone(),
                file: source.path.to_path_buf(),
                function: name.clone(),
                at: format!("{display}:{}:{}", start.line, start.column + 1),
                is_async: function.sig.asyncness.is_some(),
                params,
            });
        }
    }
    None
}

fn param(typed: &syn::PatType, file: &str) -> Param {
    let name = match &*typed.pat {
        syn::Pat::Ident(ident) => ident.ident.to_string(),
        _ => "_".to_string(),
    };
    let at = typed.pat.span_start();
    let label = format!("`{name}` at {file}:{}:{}", at.0, at.1);
    match &*typed.ty {
        syn::Type::Reference(reference) if reference.mutability.is_some() => Param::StateMut,
        syn::Type::Reference(reference) if last_segment(&reference.elem).as_deref() == Some("State") => Param::StateRef,
        syn::Type::Reference(_) => Param::Extract { label, by_ref: true },
        _ => Param::Extract { label, by_ref: false },
    }
}

trait SpanStart {
    fn span_start(&self) -> (usize, usize);
}

impl SpanStart for syn::Pat {
    fn span_start(&self) -> (usize, usize) {
        let start = syn::spanned::Spanned::span(self).start();
        (start.line, start.column + 1)
    }
}

fn last_segment(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rohas_runtime::HandlerKind;

    pub(crate) fn spec(functions: &[&str]) -> HandlerSpec {
        HandlerSpec {
            id: rohas_runtime::HandlerId::api("Health"),
            kind: HandlerKind::Api,
            name: "Health".into(),
            files: vec![PathBuf::from("src/handlers/api/health.rs")],
            functions: functions.iter().map(|s| s.to_string()).collect(),
            request_type: None,
            body_type: None,
            message_type: None,
            event_type: None,
            optional: false,
        }
    }

    #[test]
    fn finds_the_first_named_function_and_reads_its_parameters() {
        let text = "use x::State;\n\npub fn helper() {}\n\npub async fn handle_health(\n    req: HealthRequest,\n    state: &mut State,\n) -> Result<()> { Ok(()) }\n";
        let source = Source {
            path: Path::new("src/handlers/api/health.rs"),
            text,
        };
        let found = find(&spec(&["handler", "handle_health"]), &source).unwrap();
        assert_eq!(found.function, "handle_health");
        assert_eq!(found.at, "src/handlers/api/health.rs:5:14");
        assert!(found.is_async);
        assert_eq!(
            found.params,
            vec![
                Param::Extract {
                    label: "`req` at src/handlers/api/health.rs:6:5".into(),
                    by_ref: false
                },
                Param::StateMut
            ]
        );
        assert!(find(&spec(&["handler"]), &source).is_none());
        let broken = Source {
            path: Path::new("x.rs"),
            text: "pub fn handler( {",
        };
        assert!(find(&spec(&["handler"]), &broken).is_none());
    }

    #[test]
    fn shared_state_and_borrowed_extractors() {
        let text = "pub fn handler(state: &State, context: &HandlerContext) {}";
        let source = Source {
            path: Path::new("a.rs"),
            text,
        };
        let found = find(&spec(&["handler"]), &source).unwrap();
        assert!(!found.is_async);
        assert_eq!(found.params[0], Param::StateRef);
        assert!(matches!(found.params[1], Param::Extract { by_ref: true, .. }));
    }
}
