//! Upstream rohas's module names, as aliases of ours.
//!
//! Upstream rohas writes one module per declaration named in snake_case
//! (`generated/api/create_order.py`) and puts inputs in a `generated/dto`
//! package; its handlers import from there. Ours are named exactly like the
//! declaration (`generated/api/CreateOrder.py`), as the reference examples
//! import them. So that an upstream project's handlers run unmodified, each
//! declaration also gets a module under its snake_case name that re-exports
//! everything the real module exports (the classes are the same objects),
//! and every `input` is re-exported from `generated.dto` and from
//! `generated.dto.<snake_name>`.
//!
//! An alias is a package (`api/health/__init__.py`), never a file beside the
//! real module: `health.py` and `Health.py` are one file on a
//! case-insensitive file system (macOS, Windows), while a folder `health`
//! and a file `Health.py` are two, and Python's import system, which
//! compares names case-sensitively, tells `generated.api.health` from
//! `generated.api.Health` there too. No alias is written where the snake
//! name is the declaration's own name, nor where two declarations of one
//! folder share a snake name (which one would be a guess).

use super::module::Module;
use rohas_schema::model::Schema;
use rohas_schema::naming::snake_case;
use std::collections::HashMap;

/// One generated module of a declaration.
pub(super) struct Canonical<'a> {
    /// `models`, `api`, `events` or `websockets`.
    group: &'static str,
    name: &'a str,
    exports: Vec<String>,
    /// An `input` declaration, also aliased under `generated.dto`.
    input: bool,
}

impl<'a> Canonical<'a> {
    pub(super) fn new(group: &'static str, name: &'a str, exports: Vec<String>, input: bool) -> Self {
        Canonical {
            group,
            name,
            exports,
            input,
        }
    }
}

/// Alias modules, as (path under `src/generated/`, contents).
pub(super) fn aliases(schema: &Schema, canonical: &[Canonical<'_>]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    // How many declarations of each folder become each snake name.
    let mut taken: HashMap<(&str, String), usize> = HashMap::new();
    for c in canonical {
        *taken.entry((c.group, snake_case(c.name))).or_default() += 1;
    }
    for c in canonical {
        let snake = snake_case(c.name);
        if snake == c.name || taken[&(c.group, snake.clone())] > 1 {
            continue;
        }
        out.push(alias(schema, c, c.group, &snake));
    }

    let inputs: Vec<&Canonical<'_>> = canonical.iter().filter(|c| c.input).collect();
    const DTO_DOC: &str = "Every `input` of the schema, where upstream rohas puts them (`generated.dto`).\n\n\
                           The classes are those of `generated.models`; each input also has a module here\n\
                           under its snake_case name (`generated.dto.create_order_input`).";
    if inputs.is_empty() {
        out.push(("dto/__init__.py".into(), super::package_doc(DTO_DOC)));
        return out;
    }
    let mut package = Module::new(schema, "generated.dto");
    for c in &inputs {
        for name in &c.exports {
            package.use_from(&format!("generated.{}.{}", c.group, c.name), name);
            package.exports.insert(name.clone());
        }
    }
    out.push(("dto/__init__.py".into(), package.render(DTO_DOC).text));
    let mut dto_taken: HashMap<String, usize> = HashMap::new();
    for c in &inputs {
        *dto_taken.entry(snake_case(c.name)).or_default() += 1;
    }
    for c in inputs {
        let snake = snake_case(c.name);
        if dto_taken[&snake] == 1 {
            out.push(alias(schema, c, "dto", &snake));
        }
    }
    out
}

/// `<folder>/<snake>/__init__.py`: everything `c`'s module exports.
fn alias(schema: &Schema, c: &Canonical<'_>, folder: &str, snake: &str) -> (String, String) {
    let real = format!("generated.{}.{}", c.group, c.name);
    let mut module = Module::new(schema, format!("generated.{folder}.{snake}"));
    for name in &c.exports {
        module.use_from(&real, name);
        module.exports.insert(name.clone());
    }
    let doc = format!(
        "Upstream rohas's name for `{real}`.\n\n\
         The same classes, re-exported, so that handlers written for upstream rohas\n\
         (`from generated.{folder}.{snake} import …`) run unchanged."
    );
    (format!("{folder}/{snake}/__init__.py"), module.render(&doc).text)
}
