//! One generated TypeScript module being written: its type imports, its
//! re-exports and its body.
//!
//! Schema modules hold types only (`import type`, interfaces, aliases), so
//! they cost nothing at run time and may import each other in cycles
//! (`User.posts: Post[]`, `Post.author: User`): type-only imports are erased.
//! Imports are relative to the importing module (`../models/User`), as
//! editors and `tsc` resolve them with standard rules.

use super::code::Code;
use super::types::type_name;
use rohas_schema::model::Schema;
use std::collections::{BTreeMap, BTreeSet};

pub struct Module<'s> {
    pub schema: &'s Schema,
    /// Path inside `src/generated/`, without extension: `models/User`, `api/Health`.
    pub path: String,
    /// Names this module declares (never imported under the same name).
    pub own: BTreeSet<String>,
    /// Module path → exported name → local name (differs when `own` has it).
    imports: BTreeMap<String, BTreeMap<String, String>>,
    /// Imported names the module exports again (a handler imports all an
    /// api needs from the api's module).
    pub reexports: BTreeSet<String>,
    pub body: Code,
}

impl<'s> Module<'s> {
    pub fn new(schema: &'s Schema, path: impl Into<String>) -> Self {
        Module {
            schema,
            path: path.into(),
            own: BTreeSet::new(),
            imports: BTreeMap::new(),
            reexports: BTreeSet::new(),
            body: Code::typescript(),
        }
    }

    /// `import type { name } from "<module>"`; returns the name to use here.
    /// A name this module declares itself is imported under an alias.
    pub fn use_type(&mut self, module: &str, name: &str) -> String {
        if module == self.path {
            return name.to_string();
        }
        if let Some(local) = self.imports.get(module).and_then(|names| names.get(name)) {
            return local.clone();
        }
        let taken: BTreeSet<&String> = self.imports.values().flat_map(|n| n.values()).collect();
        let mut local = name.to_string();
        while self.own.contains(&local) || taken.contains(&local) {
            local.push('_');
        }
        self.imports
            .entry(module.to_string())
            .or_default()
            .insert(name.to_string(), local.clone());
        local
    }

    /// A declared model/input/type/enum, from its models module.
    pub fn use_named(&mut self, name: &str) -> String {
        let module = format!("models/{name}");
        let exported = type_name(name);
        if module == self.path {
            return exported;
        }
        self.use_type(&module, &exported)
    }

    /// Import a declared type and export it again under its own name (unless
    /// this module declares that name itself).
    pub fn reexport_named(&mut self, name: &str) {
        let local = self.use_named(name);
        if local == type_name(name) && !self.own.contains(&local) {
            self.reexports.insert(local);
        }
    }

    /// A global the generated code refers to (`Date`): under `globalThis.`
    /// when the schema declares a type of that name, which would hide it.
    pub fn builtin(&self, name: &str) -> String {
        builtin(self.schema, name)
    }

    /// The whole file: header comment, imports, re-exports, body.
    pub fn render(self, doc: &str) -> String {
        let mut out = Code::typescript();
        out.jsdoc(&format!(
            "{}\n\nWritten by `rohas codegen` from the schema. Do not edit: every run\nrewrites src/generated/.",
            doc.trim_end()
        ));
        out.blank();
        for (module, names) in &self.imports {
            let items: Vec<String> = names
                .iter()
                .map(|(name, local)| {
                    if name == local {
                        name.clone()
                    } else {
                        format!("{name} as {local}")
                    }
                })
                .collect();
            out.line(&format!(
                "import type {{ {} }} from \"{}\";",
                items.join(", "),
                relative(&self.path, module)
            ));
        }
        out.blank();
        if !self.reexports.is_empty() {
            let names: Vec<&str> = self.reexports.iter().map(String::as_str).collect();
            out.line(&format!("export type {{ {} }};", names.join(", ")));
            out.blank();
        }
        out.raw(&self.body.finish());
        out.finish()
    }
}

/// See [`Module::builtin`].
pub fn builtin(schema: &Schema, name: &str) -> String {
    let declared = schema
        .types
        .iter()
        .map(|t| t.name.as_str())
        .chain(schema.enums.iter().map(|e| e.name.as_str()));
    if declared.into_iter().any(|d| type_name(d) == name) {
        format!("globalThis.{name}")
    } else {
        name.to_string()
    }
}

/// The import specifier of generated module `to` from generated module
/// `from` (both paths inside `src/generated/`, without extension).
pub fn relative(from: &str, to: &str) -> String {
    let from_dir: Vec<&str> = from
        .split('/')
        .collect::<Vec<_>>()
        .split_last()
        .map(|(_, d)| d.to_vec())
        .unwrap_or_default();
    let to_parts: Vec<&str> = to.split('/').collect();
    let common = from_dir.iter().zip(&to_parts).take_while(|(a, b)| a == b).count();
    let ups = from_dir.len() - common;
    let rest = to_parts[common..].join("/");
    if ups == 0 {
        format!("./{rest}")
    } else {
        format!("{}{rest}", "../".repeat(ups))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_specifiers() {
        assert_eq!(relative("models/User", "models/Post"), "./Post");
        assert_eq!(
            relative("api/Health", "models/HealthResponse"),
            "../models/HealthResponse"
        );
        assert_eq!(relative("websockets/Chat", "runtime"), "../runtime");
        assert_eq!(relative("state", "runtime"), "./runtime");
    }
}
