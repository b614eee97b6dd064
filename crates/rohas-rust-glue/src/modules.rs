//! `src/generated/handlers/`: the module declarations of the user's handler files.
//!
//! Rust only compiles files some `mod` names. Handler files live under
//! `src/handlers/…` and `src/middlewares/`, which belong to the user, so a
//! `src/handlers/mod.rs` would be a user file to keep in sync by hand.
//! Instead the generated tree declares each handler file with
//! `#[path = "../../handlers/api/health.rs"] pub mod health;`: adding an api
//! to the schema and running codegen is all it takes, and the handler is
//! reachable as `crate::generated::handlers::api::health` (where the Rust
//! runtime's registration glue will find it). The user's `src/lib.rs` only
//! says `pub mod generated;`.

use crate::text::Text;
use rohas_runtime::HandlerSpec;
use rohas_schema::naming::{rust_ident, snake_case};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// The groups, in the order `handlers/mod.rs` declares them.
pub const GROUPS: &[&str] = &["api", "cron", "events", "middlewares", "websockets"];

/// group → module name → file path relative to `src/`.
pub type Layout = BTreeMap<&'static str, BTreeMap<String, PathBuf>>;

/// The module path of a handler file (`src/handlers/api/health.rs`) in
/// `layout`: `crate::generated::handlers::api::health`.
pub fn module_path(layout: &Layout, file: &Path) -> Option<String> {
    let (group, rel) = group_of(file)?;
    let (name, _) = layout.get(group)?.iter().find(|(_, p)| **p == rel)?;
    Some(format!("crate::generated::handlers::{group}::{name}"))
}

/// Which module each handler file becomes, for the paths `resolve` picks.
pub fn layout(specs: &[HandlerSpec], resolve: &dyn Fn(&HandlerSpec) -> Option<PathBuf>) -> Layout {
    let mut groups: Layout = BTreeMap::new();
    for spec in specs {
        let Some(path) = resolve(spec) else { continue };
        let Some((group, rel)) = group_of(&path) else {
            continue;
        };
        let stem = rel.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        let modules = groups.entry(group).or_default();
        let already = modules.values().any(|p| p == &rel);
        if !already {
            let mut name = rust_ident(&snake_case(&stem));
            let mut n = 2;
            while modules.contains_key(&name) {
                name = format!("{}_{n}", snake_case(&stem));
                n += 1;
            }
            modules.insert(name, rel);
        }
    }
    groups
}

/// `handlers/mod.rs` and one file per group, for handler files at the paths
/// `resolve` picks for each spec.
pub fn files(specs: &[HandlerSpec], resolve: &dyn Fn(&HandlerSpec) -> Option<PathBuf>) -> Vec<(String, String)> {
    let groups = layout(specs, resolve);
    let mut out = Vec::new();
    let mut root = Text::default();
    root.line("//! Your handler files, declared here so you never list them by hand:");
    root.line("//! each file the schema names under `src/handlers/` or `src/middlewares/`");
    root.line("//! is a module below (`crate::generated::handlers::api::health`).");
    root.line("// Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.");
    root.blank();
    for group in GROUPS {
        root.line(&format!("pub mod {group};"));
    }
    out.push(("mod.rs".to_string(), root.finish()));

    for group in GROUPS {
        let mut code = Text::default();
        let folder = if *group == "middlewares" {
            "src/middlewares/".to_string()
        } else {
            format!("src/handlers/{group}/")
        };
        code.line(&format!("//! Handler files under `{folder}`."));
        code.line("// Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.");
        if let Some(modules) = groups.get(group) {
            for (name, rel) in modules {
                code.blank();
                let rel = rel.to_string_lossy().replace('\\', "/");
                code.line(&format!("#[path = \"../../{rel}\"]"));
                code.line(&format!("pub mod {name};"));
            }
        }
        out.push((format!("{group}.rs"), code.finish()));
    }
    out
}

/// `src/handlers/api/health.rs` → (`api`, `handlers/api/health.rs`);
/// `src/middlewares/auth.rs` → (`middlewares`, `middlewares/auth.rs`).
fn group_of(path: &Path) -> Option<(&'static str, PathBuf)> {
    let parts: Vec<&str> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    let rel: PathBuf = parts.iter().skip(1).collect();
    match parts.as_slice() {
        ["src", "handlers", group, _file] => GROUPS.iter().find(|g| *g == group).map(|g| (*g, rel)),
        ["src", "middlewares", _file] => Some(("middlewares", rel)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_come_from_the_handler_folder() {
        assert_eq!(
            group_of(Path::new("src/handlers/api/health.rs")),
            Some(("api", PathBuf::from("handlers/api/health.rs")))
        );
        assert_eq!(
            group_of(Path::new("src/middlewares/auth.rs")),
            Some(("middlewares", PathBuf::from("middlewares/auth.rs")))
        );
        assert_eq!(group_of(Path::new("src/other/x.rs")), None);
        assert_eq!(group_of(Path::new("src/handlers/unknown/x.rs")), None);
    }
}
