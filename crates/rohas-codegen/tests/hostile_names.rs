//! Hostile names through the schema checker and all three generators.
//!
//! Names come from every target's keyword list, from builtins a generated
//! name could shadow (`str`, `Object`, `Result`, `__proto__` …), from names
//! that differ only in case or underscores, and from what the lexer may or
//! may not accept (unicode letters, leading digits, very long names). The
//! rule under test: every schema `rohas-schema` accepts generates Python,
//! TypeScript and Rust that `mypy --strict`, `tsc --strict` and `cargo
//! check` accept, with the schema's names on the wire; every schema it
//! refuses gets a diagnostic with a known code at the offending line.
//!
//! Accepted names are batched into few schemas (a fixed table and two seeded
//! mixes), so each checker runs three times in all.

mod common;

use common::checkers::{
    cargo, mypy_strict, python_codegen, rust_codegen, tsc_strict, typescript_codegen, write, TSCONFIG,
};
use rohas_codegen::{python, rust, typescript};
use rohas_schema::naming::{
    pascal_case, snake_case, unusable_declaration_name, PYTHON_NEEDED, PYTHON_RESERVED, REQUEST_KEYS, RUST_NEEDED,
    RUST_RESERVED, TYPESCRIPT_RESERVED,
};
use rohas_schema::{Code, Schema};
use std::collections::HashSet;
use std::path::Path;

/// Builtins and names the generated code or its runtime uses, which a
/// schema name could shadow in one of the targets.
const SHADOWING: &[&str] = &[
    "str",
    "list",
    "dict",
    "int",
    "float",
    "bool",
    "bytes",
    "object",
    "type",
    "print",
    "len",
    "id",
    "Any",
    "Optional",
    "List",
    "Dict",
    "Enum",
    "dataclass",
    "field",
    "datetime",
    "TypeAlias",
    "annotations",
    "Self",
    "self",
    "cls",
    "None",
    "Object",
    "String",
    "Number",
    "Boolean",
    "Array",
    "Date",
    "Promise",
    "Record",
    "Partial",
    "Map",
    "Set",
    "JSON",
    "Error",
    "undefined",
    "NaN",
    "Infinity",
    "constructor",
    "prototype",
    "__proto__",
    "toString",
    "valueOf",
    "hasOwnProperty",
    "Result",
    "Option",
    "Vec",
    "Box",
    "Some",
    "Ok",
    "Err",
    "std",
    "core",
    "serde",
    "Serialize",
    "Deserialize",
    "Value",
    "HashMap",
    "State",
    "HandlerContext",
    "Connection",
    "HttpError",
    "RuntimeError",
    "payload",
    "name",
    "timestamp",
    "trace_id",
    "body",
    "headers",
    "query",
    "request",
    "context",
    "state",
    "data",
    "value",
    "to_wire",
    "from_wire",
    "toWire",
    "fromWire",
    "handler",
    "handle",
    "generated",
    "runtime",
    "models",
    "api",
    "events",
    "__init__",
    "__class__",
    "__dict__",
    "_private",
    "__dunder",
    "_",
    "__",
];

/// Names that differ only in case or underscores.
const LOOKALIKES: &[&str] = &[
    "userId", "user_id", "UserId", "USER_ID", "userID", "user__id", "_user_id", "user_id_",
];

/// Every candidate name, keyword lists first, without repeats.
fn pool() -> Vec<String> {
    let long = format!("a{}", "very_long_name_".repeat(12));
    let mut seen = HashSet::new();
    PYTHON_RESERVED
        .iter()
        .chain(TYPESCRIPT_RESERVED)
        .chain(RUST_RESERVED)
        .chain(SHADOWING)
        .chain(LOOKALIKES)
        .map(|s| s.to_string())
        .chain([long])
        .filter(|n| seen.insert(n.clone()))
        .collect()
}

/// The names declarations, handlers and middlewares take here: each
/// table name with a number glued on (`class1`, `__proto__7`, `userId3`),
/// so case, underscores and keyword stems reach module, file, class and
/// function names. Bare names have their own tests, below.
fn declaration_pool(pool: &[String]) -> Vec<String> {
    spellable(pool)
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{n}{i}"))
        .collect()
}

/// A small deterministic generator (xorshift64*), so a failing seed can be
/// run again exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Names that stay apart after every conversion the generators make: the
/// same key for two names means one of them is left out of a schema that
/// must be accepted (collisions have their own table below).
fn key(name: &str) -> String {
    snake_case(name).trim_matches('_').replace("__", "_").to_lowercase()
}

/// Takes names (in `order`) whose key is new, skipping names made only of
/// `_`, which no target can spell.
fn distinct<'a>(order: impl Iterator<Item = &'a String>, count: usize) -> Vec<String> {
    let mut keys = HashSet::new();
    order
        .filter(|n| !n.chars().all(|c| c == '_'))
        .filter(|n| keys.insert(key(n)))
        .take(count)
        .cloned()
        .collect()
}

/// Every name but those made only of `_`. Enum variants keep their
/// names in every language, so look-alikes (`userId`, `user_id`) may meet.
fn spellable(names: &[String]) -> Vec<String> {
    names.iter().filter(|n| !n.chars().all(|c| c == '_')).cloned().collect()
}

/// The schema's own types (`String`, `Json` …) cannot be declared again.
fn is_declarable(name: &str) -> bool {
    rohas_schema::model::Primitive::from_name(name).is_none()
}

/// Path parameters sit beside the request's own keys on the wire, so
/// those names are refused there (`path_params_named_like_request_keys…`).
fn is_param(name: &str) -> bool {
    !REQUEST_KEYS.contains(&name)
}

/// Where names go in one schema.
struct Plan {
    fields: Vec<String>,
    variants: Vec<String>,
    types: Vec<String>,
    apis: Vec<String>,
    params: Vec<String>,
    events: Vec<String>,
    handlers: Vec<String>,
    middlewares: Vec<String>,
    crons: Vec<String>,
    sockets: Vec<String>,
}

impl Plan {
    /// Every name in every place, in table order.
    fn table(pool: &[String], decl_pool: &[String]) -> Plan {
        let all = distinct(pool.iter(), usize::MAX);
        let decl_all = distinct(decl_pool.iter(), usize::MAX);
        // Declarations share one namespace: each name is used once.
        let declarable: Vec<&String> = decl_all.iter().filter(|n| is_declarable(n)).collect();
        assert!(declarable.len() >= 110, "the table needs 110 declaration names");
        let mut decls = declarable.into_iter().cloned();
        let mut take = |n: usize| decls.by_ref().take(n).collect::<Vec<_>>();
        let types = take(40);
        let apis = take(25);
        let events = take(25);
        let crons = take(10);
        let sockets = take(10);
        Plan {
            fields: all.clone(),
            variants: spellable(pool),
            // Look-alikes meet in one path (`:userId/…/:user_id`): the
            // generated request classes keep them apart.
            params: spellable(pool)
                .into_iter()
                .rev()
                .filter(|n| is_param(n))
                .take(60)
                .collect(),
            handlers: decl_all.iter().rev().take(40).cloned().collect(),
            // Middleware files keep the schema's name, so look-alikes
            // (`userId`, `user_id`, `_user_id`) are files of their own;
            // names equal but for case are refused (below).
            middlewares: LOOKALIKES
                .iter()
                .filter({
                    let mut seen = HashSet::new();
                    move |n| seen.insert(n.to_lowercase())
                })
                .map(|n| n.to_string())
                .chain(decl_all.iter().skip(20).take(12).cloned())
                .collect(),
            types,
            apis,
            events,
            crons,
            sockets,
        }
    }

    /// A seeded mix: names shuffled into places, smaller counts.
    fn mixed(pool: &[String], decl_pool: &[String], seed: u64) -> Plan {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut shuffled = |pool: &[String], n: usize| {
            let mut names = pool.to_vec();
            for i in (1..names.len()).rev() {
                names.swap(i, rng.below(i + 1));
            }
            distinct(names.iter(), n)
        };
        let decls: Vec<String> = shuffled(decl_pool, 200)
            .into_iter()
            .filter(|n| is_declarable(n))
            .take(60)
            .collect();
        Plan {
            fields: shuffled(pool, 80),
            variants: spellable(&shuffled(pool, 60)),
            params: shuffled(pool, 40)
                .into_iter()
                .filter(|n| is_param(n))
                .take(30)
                .collect(),
            handlers: shuffled(decl_pool, 20),
            middlewares: shuffled(decl_pool, 8),
            types: decls[..20].to_vec(),
            apis: decls[20..35].to_vec(),
            events: decls[35..47].to_vec(),
            crons: decls[47..52].to_vec(),
            sockets: decls[52..60].to_vec(),
        }
    }

    /// The schema text. Every type is used by a field, an api, an event and
    /// a ws message, so every generator imports every name.
    fn schema(&self) -> String {
        let mut s = String::new();
        s.push_str("/// Fields named by the hostile table. Unicode in docs: café, 名前, Ünïcode.\nmodel Hostile {\n");
        for (i, f) in self.fields.iter().enumerate() {
            let ty = match i % 5 {
                0 => "String".to_string(),
                1 => "Int?".to_string(),
                2 => "DateTime".to_string(),
                3 => format!("{}?", self.types[i % self.types.len()]),
                _ => format!("{}[]", self.variants_enum()),
            };
            s.push_str(&format!("  /// `{f}` on the wire.\n  {f} {ty}\n"));
        }
        s.push_str("}\n\n");
        s.push_str(&format!("enum {} {{\n", self.variants_enum()));
        for v in &self.variants {
            s.push_str(&format!("  {v}\n"));
        }
        s.push_str("}\n\n");
        for (i, t) in self.types.iter().enumerate() {
            let field = &self.fields[i % self.fields.len()];
            // Every type points at the first one, so names meet across
            // modules without a long chain of boxed types (a 40-type
            // cycle overflows rustc's auto-trait recursion limit).
            let other = &self.types[0];
            s.push_str(&format!(
                "type {t} {{\n  {field}: String\n  next: {other}?\n  all: Hostile[]\n}}\n\n"
            ));
        }
        for (i, e) in self.events.iter().enumerate() {
            let ty = &self.types[i % self.types.len()];
            let h = &self.handlers[i % self.handlers.len()];
            s.push_str(&format!("event {e} {{\n  payload: {ty}\n  handler: [{h}]\n}}\n\n"));
        }
        for (i, a) in self.apis.iter().enumerate() {
            let ty = &self.types[i % self.types.len()];
            let e = &self.events[i % self.events.len()];
            let m = &self.middlewares[i % self.middlewares.len()];
            let p1 = &self.params[(2 * i) % self.params.len()];
            let p2 = &self.params[(2 * i + 1) % self.params.len()];
            let (method, body) = if i % 2 == 0 {
                ("POST", format!("  body: {ty}\n"))
            } else {
                ("GET", String::new())
            };
            s.push_str(&format!(
                "api {a} {{\n  method: {method}\n  path: \"/hostile/r{i}/:{p1}/x/:{p2}\"\n{body}  response: {ty}\n  triggers: [{e}]\n  middlewares: [{m}]\n}}\n\n"
            ));
        }
        for (i, c) in self.crons.iter().enumerate() {
            let e = &self.events[i % self.events.len()];
            s.push_str(&format!(
                "cron {c} {{\n  schedule: \"0 0 * * *\"\n  triggers: [{e}]\n}}\n\n"
            ));
        }
        for (i, w) in self.sockets.iter().enumerate() {
            let ty = &self.types[i % self.types.len()];
            let h = |k: usize| &self.handlers[(i * 3 + k + 7) % self.handlers.len()];
            let m = &self.middlewares[i % self.middlewares.len()];
            s.push_str(&format!(
                "ws {w} {{\n  path: \"/ws/hostile/{i}\"\n  message: {ty}\n  onConnect: [{}]\n  onMessage: [{}]\n  onDisconnect: [{}]\n  middlewares: [{m}]\n}}\n\n",
                h(0),
                h(1),
                h(2)
            ));
        }
        s
    }

    /// The enum's own name: one no table name can take.
    fn variants_enum(&self) -> &'static str {
        "HostileKind"
    }
}

/// What checking a schema text gave: the schema, or the rendered refusal.
enum Outcome {
    Accepted(Box<Schema>),
    Refused(String),
}

/// Checks `text` as `schema/app.ro` of a fresh project. A refusal must be
/// errors only from `codes`, each pointing at a line of `app.ro`.
fn check(text: &str, codes: &[Code]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), Path::new("schema/app.ro"), text);
    let checked = rohas_schema::check_path(&dir.path().join("schema")).expect("schema readable");
    let rendered = checked.render(false);
    if let Some(schema) = checked.schema {
        return Outcome::Accepted(Box::new(schema));
    }
    let errors: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.severity == rohas_schema::Severity::Error)
        .collect();
    assert!(!errors.is_empty(), "refused without an error:\n{rendered}");
    for d in &errors {
        assert!(codes.contains(&d.code), "unexpected {} for\n{text}\n{rendered}", d.code);
        assert!(!d.labels.is_empty(), "{} has no location:\n{rendered}", d.code);
        // A lexer error carries its fix in the message.
        let fix = d.help.is_some() || d.message.contains(": ");
        assert!(fix, "{} says no fix:\n{rendered}", d.code);
    }
    // The rendered form names the file and the line of every error.
    let located = rendered.matches("app.ro:").count();
    assert!(located >= errors.len(), "errors without file:line:\n{rendered}");
    Outcome::Refused(rendered)
}

/// Generates all three languages for an accepted schema and runs each
/// checker on the result; also reads the wire names back from the code.
fn generate_and_check(text: &str, plan: &Plan, label: &str) {
    let schema = match check(text, &[]) {
        Outcome::Accepted(schema) => schema,
        Outcome::Refused(rendered) => panic!("{label} must be accepted:\n{rendered}"),
    };
    wire_names_are_the_schemas(&schema, plan);

    let py = tempfile::tempdir().unwrap();
    write(py.path(), Path::new("schema/app.ro"), text);
    python_codegen(py.path(), &schema);
    mypy_strict(py.path());

    let ts = tempfile::tempdir().unwrap();
    write(ts.path(), Path::new("schema/app.ro"), text);
    write(ts.path(), Path::new("tsconfig.json"), TSCONFIG);
    typescript_codegen(ts.path(), &schema);
    tsc_strict(ts.path(), "tsconfig.json", &[]);

    let rs = tempfile::tempdir().unwrap();
    rohas_codegen::init::init_project(
        rs.path(),
        &format!("rohas-{label}"),
        rohas_runtime::Language::Rust,
        None,
    )
    .unwrap();
    for sub in ["schema", "src/handlers", "src/middlewares"] {
        std::fs::remove_dir_all(rs.path().join(sub)).unwrap();
    }
    write(rs.path(), Path::new("schema/app.ro"), text);
    write(
        rs.path(),
        Path::new("src/tests.rs"),
        "#[test]\nfn the_harness_starts() {\n    let _ = crate::generated::testing::Harness::new();\n}\n",
    );
    rust_codegen(rs.path(), &schema);
    cargo(rs.path(), &["check", "--all-targets", "--quiet"]);
}

/// The JSON keys the generated code reads and writes are the schema's
/// field names and enum values, in every language.
fn wire_names_are_the_schemas(schema: &Schema, plan: &Plan) {
    let model = |files: Vec<rohas_codegen::GeneratedFile>, ext: &str| {
        let path = format!("src/generated/models/Hostile.{ext}");
        files
            .into_iter()
            .find(|f| f.path == Path::new(&path))
            .unwrap_or_else(|| panic!("no {path}"))
            .contents
    };
    let kind = |files: Vec<rohas_codegen::GeneratedFile>, ext: &str| {
        let path = format!("src/generated/models/HostileKind.{ext}");
        files
            .into_iter()
            .find(|f| f.path == Path::new(&path))
            .unwrap_or_else(|| panic!("no {path}"))
            .contents
    };
    let py = model(python::generate(schema), "py");
    let ts = model(typescript::generate(schema), "ts");
    let tmp = tempfile::tempdir().unwrap();
    let rs = model(rust::generate_in(schema, tmp.path()), "rs");
    for f in &plan.fields {
        assert!(
            py.contains(&format!("data[\"{f}\"]")) || py.contains(&format!("data.get(\"{f}\")")),
            "Python reads `{f}`:\n{py}"
        );
        let writes = py.contains(&format!("\"{f}\": ")) || py.contains(&format!("data[\"{f}\"] = "));
        assert!(writes, "Python writes `{f}`:\n{py}");
        let ts_key = ts.contains(&format!("\n  {f}: "))
            || ts.contains(&format!("\n  {f}?: "))
            || ts.contains(&format!("\n  \"{f}\""));
        assert!(ts_key, "TypeScript property `{f}`:\n{ts}");
        let rust_name = rs.contains(&format!("rename = \"{f}\""))
            || rs.contains(&format!("pub {f}: "))
            || rs.contains(&format!("pub r#{f}: "));
        assert!(rust_name, "Rust field for `{f}`:\n{rs}");
    }
    let py = kind(python::generate(schema), "py");
    let ts = kind(typescript::generate(schema), "ts");
    let rs = kind(rust::generate_in(schema, tmp.path()), "rs");
    for v in &plan.variants {
        let quoted = format!("\"{v}\"");
        assert!(
            py.contains(&quoted) && ts.contains(&quoted),
            "enum value `{v}` on the wire"
        );
        assert!(
            rs.contains(&format!("rename = \"{v}\""))
                || rs.contains(&format!("  {v},"))
                || rs.contains(&format!("  r#{v},")),
            "Rust variant `{v}`:\n{rs}"
        );
    }
}

#[test]
fn every_name_in_every_place_type_checks_in_all_three_languages() {
    let pool = pool();
    let plan = Plan::table(&pool, &declaration_pool(&pool));
    generate_and_check(&plan.schema(), &plan, "hostile-table");
}

#[test]
fn seeded_mixes_type_check_in_all_three_languages() {
    let pool = pool();
    for seed in [1, 2] {
        let plan = Plan::mixed(&pool, &declaration_pool(&pool), seed);
        generate_and_check(&plan.schema(), &plan, &format!("hostile-seed-{seed}"));
    }
}

/// Builtins and names the generated code imports as declaration, handler
/// and middleware names, bare (`model Any`, `model Result`, `api State`,
/// `model Object`), and every keyword capitalised (`model Class`, `api
/// Match`, `event Crate`): their module and function names are keywords
/// after conversion (`class`, `match`, `crate`), which the generators
/// must escape.
#[test]
fn bare_builtins_and_capitalised_keywords_as_declaration_names_type_check() {
    let pool = pool();
    let mut seen = HashSet::new();
    let declarations: Vec<String> = pool
        .iter()
        .filter(|n| unusable_declaration_name(n).is_none())
        .cloned()
        .chain(
            pool.iter()
                .map(|n| pascal_case(n))
                .filter(|n| unusable_declaration_name(n).is_none()),
        )
        .filter(|n| seen.insert(n.clone()))
        .collect();
    let plan = Plan::table(&pool, &declarations);
    generate_and_check(&plan.schema(), &plan, "hostile-declarations");
}

/// A keyword of any target, exactly as written, cannot name a declaration,
/// a handler or a middleware, nor can a name the generated code needs
/// unqualified (`str`, `Any`, `Option`) name a declaration: refused at its
/// line, saying which language needs it.
#[test]
fn reserved_words_as_declaration_and_handler_names_are_refused() {
    let reserved = PYTHON_RESERVED
        .iter()
        .chain(TYPESCRIPT_RESERVED)
        .chain(RUST_RESERVED)
        .copied()
        .chain(["__init__", "__class__"]);
    let refused = |text: String| match check(&text, &[Code::E0011]) {
        Outcome::Refused(rendered) => assert!(
            rendered.contains(", where generated code names it") && rendered.contains("help: rename it"),
            "{rendered}"
        ),
        Outcome::Accepted(..) => panic!("accepted a reserved name:\n{text}"),
    };
    for word in reserved {
        refused(format!("model {word} {{\n  a String\n}}\n"));
        refused(format!("event E {{\n  handler: [{word}]\n}}\n"));
        refused(format!(
            "api A {{\n  method: GET\n  path: \"/a\"\n  middlewares: [{word}]\n}}\n"
        ));
    }
    for name in PYTHON_NEEDED.iter().chain(RUST_NEEDED) {
        if rohas_schema::model::Primitive::from_name(name).is_none() {
            refused(format!("model {name} {{\n  a String\n}}\n"));
            refused(format!("event {name} {{\n  handler: [on_it]\n}}\n"));
        }
    }
}

/// Names no target can spell, or that the lexer does not read as one name:
/// refused with a diagnostic at the line.
#[test]
fn unspellable_names_are_refused_at_their_line() {
    let long = "x".repeat(300);
    let cases: Vec<(String, &[Code])> = vec![
        ("model M {\n  café String\n}\n".into(), &[Code::E0001]),
        ("model M {\n  名前 String\n}\n".into(), &[Code::E0001]),
        ("model Ünïcode {\n  a String\n}\n".into(), &[Code::E0001]),
        ("enum E {\n  Ünïcode\n}\n".into(), &[Code::E0001, Code::E0009]),
        ("model M {\n  1st String\n}\n".into(), &[Code::E0001]),
        ("model M {\n  _ String\n}\n".into(), &[Code::E0011]),
        ("model M {\n  __ String\n}\n".into(), &[Code::E0011]),
        (
            "api A {\n  method: GET\n  path: \"/a/:café\"\n}\n".into(),
            &[Code::E0014],
        ),
        (
            "api A {\n  method: GET\n  path: \"/a/:body\"\n}\n".into(),
            &[Code::E0014],
        ),
        (
            "api A {\n  method: GET\n  path: \"/a/:headers\"\n}\n".into(),
            &[Code::E0014],
        ),
        (format!("model {long} {{\n  a String\n}}\n"), &[Code::E0011]),
        (format!("event E {{\n  handler: [{long}]\n}}\n"), &[Code::E0011]),
    ];
    for (text, codes) in cases {
        match check(&text, codes) {
            Outcome::Refused(rendered) => assert!(
                rendered.contains("app.ro:2:") || rendered.contains("app.ro:1:") || rendered.contains("app.ro:3:"),
                "{rendered}"
            ),
            Outcome::Accepted(..) => panic!("accepted:\n{text}"),
        }
    }
}

/// Names that become one after conversion, in each place a name becomes
/// an identifier or a file: refused, naming both.
#[test]
fn names_that_collide_after_conversion_are_refused() {
    let cases: &[&str] = &[
        "model M {\n  userId String\n  user_id String\n}\n",
        "model M {\n  userId String\n  UserId String\n}\n",
        "model User {\n  a String\n}\nmodel user {\n  a String\n}\n",
        "api CreateUser {\n  method: GET\n  path: \"/a\"\n}\napi create_user {\n  method: GET\n  path: \"/b\"\n}\n",
        "event Done {\n  handler: [on_done]\n}\nevent done {\n  handler: [other]\n}\n",
        "event E {\n  handler: [sendMail, send_mail]\n}\n",
        "api A {\n  method: GET\n  path: \"/a\"\n  middlewares: [rateLimit, RateLimit]\n}\n",
    ];
    for text in cases {
        match check(text, &[Code::E0011, Code::E0004]) {
            Outcome::Refused(rendered) => assert!(rendered.contains("help:"), "{rendered}"),
            Outcome::Accepted(..) => panic!("accepted although two names collide:\n{text}"),
        }
    }
}
