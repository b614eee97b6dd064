//! One generated Python module being written: its imports, its `__all__`
//! and its body, rendered in the order PEP 8 and isort expect.
//!
//! Records of `generated.models` refer to each other freely (`User.posts:
//! list[Post]`, `Post.author: User | None`), which would be an import cycle.
//! Every models module therefore imports other *records* only after its own
//! classes are defined (a cycle then finds the class already there), and all
//! modules use `from __future__ import annotations`, so no annotation is
//! evaluated while classes are being built.

use super::code::{py_str, Code};
use rohas_schema::model::{NamedKind, Schema};
use std::collections::{BTreeMap, BTreeSet};

/// Imports of one module, grouped as they are written.
#[derive(Default)]
pub struct Imports {
    /// `import dataclasses` and friends.
    pub plain: BTreeSet<&'static str>,
    /// Standard library `from` imports: module → names.
    pub std: BTreeMap<&'static str, BTreeSet<String>>,
    /// `from generated… import …` at the top.
    pub top: BTreeMap<String, BTreeSet<String>>,
    /// `from generated.models… import …` after the classes (models modules).
    pub bottom: BTreeMap<String, BTreeSet<String>>,
}

/// A generated module's text and its `__all__`.
pub struct Rendered {
    pub text: String,
    pub exports: Vec<String>,
}

pub struct Module<'s> {
    pub schema: &'s Schema,
    /// Dotted name, e.g. `generated.models.User`.
    pub name: String,
    /// Classes and aliases this module defines (never imported).
    pub own: BTreeSet<String>,
    pub imports: Imports,
    /// Names for `__all__`.
    pub exports: BTreeSet<String>,
    pub body: Code,
}

impl<'s> Module<'s> {
    pub fn new(schema: &'s Schema, name: impl Into<String>) -> Self {
        Module {
            schema,
            name: name.into(),
            own: BTreeSet::new(),
            imports: Imports::default(),
            exports: BTreeSet::new(),
            body: Code::python(),
        }
    }

    fn in_models(&self) -> bool {
        self.name.starts_with("generated.models.")
    }

    /// `from typing import Any` and similar standard imports.
    pub fn use_std(&mut self, module: &'static str, name: &str) {
        self.imports.std.entry(module).or_default().insert(name.to_string());
    }

    pub fn use_plain(&mut self, module: &'static str) {
        self.imports.plain.insert(module);
    }

    /// A helper of `generated.runtime` (`parse_datetime`, `to_wire` …).
    pub fn use_runtime(&mut self, name: &str) {
        self.use_from("generated.runtime", name);
    }

    /// `from <module> import <name>` at the top.
    pub fn use_from(&mut self, module: &str, name: &str) {
        if module == self.name {
            return;
        }
        self.imports
            .top
            .entry(module.to_string())
            .or_default()
            .insert(name.to_string());
    }

    /// A declared record or enum, imported from its models module. Records go
    /// after the classes in models modules (see the module docs).
    pub fn use_named(&mut self, name: &str, kind: NamedKind) {
        if self.own.contains(name) {
            return;
        }
        let module = format!("generated.models.{name}");
        if module == self.name {
            return;
        }
        let group = if self.in_models() && kind == NamedKind::Record {
            &mut self.imports.bottom
        } else {
            &mut self.imports.top
        };
        group.entry(module).or_default().insert(name.to_string());
    }

    /// The whole file (docstring, imports, `__all__`, body, late imports)
    /// and the names it exports.
    pub fn render(self, doc: &str) -> Rendered {
        let exports = self.exports.iter().cloned().collect();
        Rendered {
            text: self.render_text(doc),
            exports,
        }
    }

    fn render_text(self, doc: &str) -> String {
        let mut out = Code::python();
        out.docstring(&format!(
            "{}\n\nWritten by `rohas codegen` from the schema. Do not edit: every run\nrewrites src/generated/.",
            doc.trim_end()
        ));
        out.blank();
        out.line("from __future__ import annotations");
        out.blank();
        for module in &self.imports.plain {
            out.line(&format!("import {module}"));
        }
        for (module, names) in &self.imports.std {
            out.line(&from_line(module, names));
        }
        out.blank();
        for (module, names) in &self.imports.top {
            out.line(&from_line(module, names));
        }
        out.blank();
        write_all(&mut out, &self.exports);
        out.gap();
        out.raw(&self.body.finish());
        if !self.imports.bottom.is_empty() {
            out.gap();
            out.line("# Records refer to each other: imported once the classes above exist,");
            out.line("# so an import cycle between two models finds what it needs.");
            for (module, names) in &self.imports.bottom {
                out.line(&format!("{}  # noqa: E402", from_line(module, names)));
            }
        }
        out.finish()
    }
}

fn from_line(module: &str, names: &BTreeSet<String>) -> String {
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    format!("from {module} import {}", names.join(", "))
}

/// `__all__`: what `from module import *` and mypy's re-export check see.
fn write_all(out: &mut Code, exports: &BTreeSet<String>) {
    let items: Vec<String> = exports.iter().map(|e| py_str(e)).collect();
    let one_line = format!("__all__ = [{}]", items.join(", "));
    if one_line.len() <= 88 {
        out.line(&one_line);
        return;
    }
    out.open("__all__ = [");
    for item in items {
        out.line(&format!("{item},"));
    }
    out.close("]");
}
