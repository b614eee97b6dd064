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
//! out (`find.rs`).

use crate::find::{Found, Param};
use crate::modules::{module_path, Layout};
use crate::text::Text;
use std::collections::BTreeSet;

/// The contents of `src/generated/registry.rs` for the handlers found.
pub fn registry(found: &[Found], layout: &Layout) -> String {
    let mut code = Text::default();
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
fn needs_probe(code: &mut Text, handler: &Found, module: &str, name: &str) {
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
    use crate::find::tests::spec;
    use crate::find::{find, Source};
    use std::path::Path;

    /// The registry's text for `text` as the handler file of `api:Health`.
    fn glue_for(text: &str) -> String {
        let spec = spec(&["handler"]);
        let path = Path::new("src/handlers/api/health.rs");
        let found = find(&spec, &Source { path, text }).unwrap();
        let layout = crate::modules::layout(&[spec], &|_| Some(path.to_path_buf()));
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
