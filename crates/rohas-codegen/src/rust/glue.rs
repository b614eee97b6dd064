//! `src/generated/registry.rs`: the glue that lets the engine call the user's
//! Rust handlers through the library's C ABI, with no registration code
//! written by hand.
//!
//! Each handler file is parsed with `syn` to find the function a spec names
//! (`handler`, `handle_<name>`, `on_message` … in the spec's order) and read
//! its parameter list. For every parameter the glue asks the call for a
//! value with `call.extract(..)`, whose type Rust infers from the handler's
//! signature, so the `FromCall` extractor of that type builds it (as axum
//! does); `&mut State` and `&State` are passed as the call's state. A
//! parameter type no extractor serves fails to compile on the line calling
//! that handler, with the handler's file and parameter in the line itself.
//!
//! Handlers whose file is missing or that define none of the names are left
//! out: the engine reports them (`rohas dev` names the file and the names it
//! looked for) from the list of ids the library serves.

use super::code::Code;
use super::handler_modules::{module_path, Layout};
use rohas_runtime::{HandlerId, HandlerSpec};
use std::collections::BTreeSet;
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

/// The contents of `src/generated/registry.rs` for the handlers found.
pub fn registry(found: &[Found], layout: &Layout) -> String {
    let mut code = Code::rust();
    code.line("//! The handlers this library serves: each function the schema names, found in");
    code.line("//! your handler files by `rohas codegen` (and by `rohas dev` before each build),");
    code.line("//! called with the parameters its signature asks for (`FromCall` extractors).");
    code.line("//! The C ABI the engine loads the library through is exported here.");
    code.line("// Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.");
    code.blank();
    code.line("#![allow(clippy::all, unused_mut, unreachable_code, unused_variables)]");
    code.blank();
    code.line("use rohas_runtime::call::{Call, HandlerFuture};");
    code.line("use rohas_runtime::Registry;");
    code.blank();
    code.line("rohas_runtime::export_handlers!(register);");
    code.blank();

    let mut names = BTreeSet::new();
    let mut entries = Vec::new();
    for handler in found {
        let Some(module) = module_path(layout, &handler.file) else {
            continue;
        };
        let mut name = glue_name(&handler.id);
        let mut n = 2;
        while !names.insert(name.clone()) {
            name = format!("{}_{n}", glue_name(&handler.id));
            n += 1;
        }
        entries.push((handler, module, name));
    }

    code.line("/// Every handler found, by the id the engine calls it with.");
    code.line("#[rustfmt::skip]");
    code.open("pub fn register(registry: &mut Registry) {");
    for (handler, _, name) in &entries {
        code.line(&format!("registry.add({:?}, {name}, {name}_needs());", handler.id));
    }
    if entries.is_empty() {
        code.line("let _ = registry;");
    }
    code.close("}");

    for (handler, module, name) in &entries {
        code.blank();
        let file = handler.file.to_string_lossy().replace('\\', "/");
        code.line(&format!("/// `{}`: `{}` in {file}.", handler.id, handler.function));
        code.line("#[rustfmt::skip]");
        code.open(&format!("fn {name}(call: Call) -> HandlerFuture {{"));
        code.open("Box::pin(async move {");
        // A handler that takes no state asked for no events: none is built.
        let takes_state = handler
            .params
            .iter()
            .any(|p| matches!(p, Param::StateMut | Param::StateRef));
        if takes_state {
            code.line("let mut state = call.state();");
        }
        let mut args = Vec::new();
        for (i, param) in handler.params.iter().enumerate() {
            match param {
                Param::StateMut => args.push("&mut state".to_string()),
                Param::StateRef => args.push("&state".to_string()),
                Param::Extract { label, by_ref } => {
                    code.line(&format!("let p{i} = call.extract({label:?})?;"));
                    args.push(if *by_ref { format!("&p{i}") } else { format!("p{i}") });
                }
            }
        }
        // The location comment lets `rohas dev` point compile errors on this
        // line at the handler itself.
        let call = format!("{module}::{}({})", handler.function, args.join(", "));
        if handler.is_async {
            code.line(&format!("let returned = {call}.await; // handler at {}", handler.at));
        } else if takes_state {
            // A plain function runs on the blocking pool, with the state moved in and back.
            code.open("let (returned, state) = rohas_runtime::abi::blocking(move || {");
            code.line("let mut state = state;");
            code.line(&format!("let returned = {call}; // handler at {}", handler.at));
            code.line("(returned, state)");
            code.close("})");
            code.line(".await?;");
        } else {
            code.open("let returned = rohas_runtime::abi::blocking(move || {");
            code.line(&format!("{call} // handler at {}", handler.at));
            code.close("})");
            code.line(".await?;");
        }
        if takes_state {
            code.line(&format!("call.finish(returned, state) // handler at {}", handler.at));
        } else {
            code.line(&format!("call.reply(returned) // handler at {}", handler.at));
        }
        code.close("})");
        code.close("}");
        needs_probe(&mut code, handler, module, name);
    }
    code.finish()
}

/// `fn <name>_needs() -> u32`: the parts of a call the handler's parameters
/// read, the sum of their extractors' `FromCall::NEEDS`. Each parameter's
/// type is inferred from a call to the handler inside a closure that is
/// never run (the other arguments are `unreachable!()`).
fn needs_probe(code: &mut Code, handler: &Found, module: &str, name: &str) {
    code.blank();
    code.line(&format!("/// What `{}`'s parameters read of a call.", handler.id));
    code.line("#[rustfmt::skip]");
    code.open(&format!("fn {name}_needs() -> u32 {{"));
    code.line("let mut needs = 0;");
    for (i, param) in handler.params.iter().enumerate() {
        let Param::Extract { by_ref, .. } = param else {
            continue;
        };
        let args: Vec<String> = (0..handler.params.len())
            .map(|j| match (j == i, by_ref) {
                (true, true) => format!("&p{i}"),
                (true, false) => format!("p{i}"),
                (false, _) => "unreachable!()".to_string(),
            })
            .collect();
        code.line(&format!(
            "needs |= rohas_runtime::call::needs_of(|p{i}| {{ let _ = {module}::{}({}); }});",
            handler.function,
            args.join(", ")
        ));
    }
    code.line("needs");
    code.close("}");
}

/// `api:CreateUser` → `api_createuser`, `ws_message:Chat:on_message` → `ws_message_chat_on_message`.
fn glue_name(id: &str) -> String {
    let mut name: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name.insert_str(0, "h_");
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use rohas_runtime::HandlerKind;

    fn spec(functions: &[&str]) -> HandlerSpec {
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

    /// The registry's text for `text` as the handler file of `api:Health`.
    fn glue_for(text: &str) -> String {
        let spec = spec(&["handler"]);
        let path = Path::new("src/handlers/api/health.rs");
        let found = find(&spec, &Source { path, text }).unwrap();
        let layout = crate::rust::handler_modules::layout(&[spec], &|_| Some(path.to_path_buf()));
        registry(&[found], &layout)
    }

    #[test]
    fn a_state_is_built_only_for_a_handler_that_takes_one() {
        let with_state = glue_for("pub async fn handler(state: &mut State) -> Result<()> { Ok(()) }");
        assert!(with_state.contains("let mut state = call.state();"), "{with_state}");
        assert!(with_state.contains("call.finish(returned, state)"), "{with_state}");

        for text in [
            "pub async fn handler() -> Result<()> { Ok(()) }",
            "pub fn handler(req: HealthRequest) -> Result<()> { Ok(()) }",
        ] {
            let glue = glue_for(text);
            assert!(!glue.contains("call.state()"), "{glue}");
            assert!(glue.contains("call.reply(returned)"), "{glue}");
        }
        let blocking = glue_for("pub fn handler() -> Result<()> { Ok(()) }");
        assert!(
            blocking.contains("let returned = rohas_runtime::abi::blocking(move || {"),
            "{blocking}"
        );
    }

    #[test]
    fn glue_names_are_identifiers() {
        assert_eq!(glue_name("api:CreateUser"), "api_createuser");
        assert_eq!(glue_name("ws_message:Chat:on_message"), "ws_message_chat_on_message");
    }
}
