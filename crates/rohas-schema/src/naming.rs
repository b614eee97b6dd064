//! Name conversion and escaping shared by every language generator.
//!
//! The wire format always uses the schema's names; these functions only decide
//! what an identifier looks like *inside* generated code, and escape names that
//! are reserved words there (`class` → `class_` in Python, `r#type` in Rust,
//! `default` stays a property name but not a binding in TypeScript).

/// `createdAt` → `created_at`, `HTTPServer` → `http_server`, `CreateUser` → `create_user`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c == '-' || c == ' ' {
            if !out.ends_with('_') {
                out.push('_');
            }
            continue;
        }
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_uppercase() => next.is_some_and(|n| n.is_lowercase()),
                _ => false,
            };
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `send_welcome_email` → `sendWelcomeEmail`, `CreateUser` → `createUser`.
pub fn camel_case(name: &str) -> String {
    let pascal = pascal_case(name);
    let mut chars = pascal.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `send_welcome_email` → `SendWelcomeEmail`; already-Pascal names are kept.
pub fn pascal_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper_next = true;
    for c in name.chars() {
        if c == '_' || c == '-' || c == ' ' {
            upper_next = true;
        } else if upper_next {
            out.extend(c.to_uppercase());
            upper_next = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Python keywords, soft keywords and names whose shadowing breaks generated code.
pub const PYTHON_RESERVED: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
    "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
    "not", "or", "pass", "raise", "return", "try", "while", "with", "yield", "match", "case", "self", "cls",
];

/// TypeScript/JavaScript reserved words (strict mode), which cannot be bindings.
pub const TYPESCRIPT_RESERVED: &[&str] = &[
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "new",
    "null",
    "return",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "as",
    "implements",
    "interface",
    "let",
    "package",
    "private",
    "protected",
    "public",
    "static",
    "yield",
    "any",
    "boolean",
    "number",
    "string",
    "symbol",
    "type",
    "from",
    "of",
    "await",
    "async",
    "arguments",
    "eval",
];

/// Rust keywords (2021 edition, strict and reserved).
pub const RUST_RESERVED: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for", "if", "impl", "in",
    "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super",
    "trait", "true", "type", "unsafe", "use", "where", "while", "async", "await", "dyn", "abstract", "become", "box",
    "do", "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Keys of a handler's request object besides its path parameters
/// (`{"id": .., "query_params": .., "body": .., "headers": ..}`): a path
/// parameter may not take one (E0014), or one of the two values is lost.
pub const REQUEST_KEYS: &[&str] = &["query_params", "body", "headers"];

/// Names generated Python uses unqualified: every lowercase builtin (a
/// models module imports other records after its classes, so a class
/// named like a builtin would be what an annotation above it means), and
/// what its modules import (`from typing import Any`, `from
/// generated.runtime import to_wire`).
pub const PYTHON_NEEDED: &[&str] = &[
    "abs",
    "aiter",
    "all",
    "anext",
    "any",
    "ascii",
    "bin",
    "bool",
    "breakpoint",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "classmethod",
    "compile",
    "complex",
    "copyright",
    "credits",
    "delattr",
    "dict",
    "dir",
    "divmod",
    "enumerate",
    "eval",
    "exec",
    "exit",
    "filter",
    "float",
    "format",
    "frozenset",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "help",
    "hex",
    "id",
    "input",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "license",
    "list",
    "locals",
    "map",
    "max",
    "memoryview",
    "min",
    "next",
    "object",
    "oct",
    "open",
    "ord",
    "pow",
    "print",
    "property",
    "quit",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "setattr",
    "slice",
    "sorted",
    "staticmethod",
    "str",
    "sum",
    "super",
    "tuple",
    "type",
    "vars",
    "zip",
    "Any",
    "TypeAlias",
    "Literal",
    "overload",
    "Enum",
    "annotations",
    "dataclasses",
    "dataclass",
    "field",
    "datetime",
    "date",
    "to_wire",
    "from_wire",
    "format_datetime",
    "parse_datetime",
    "utc_now",
];

/// Names generated Rust uses unqualified: from the prelude, and the crates
/// its paths start with (`serde::Serialize`, `chrono::Utc`).
pub const RUST_NEEDED: &[&str] = &[
    "str",
    "String",
    "Option",
    "Vec",
    "Box",
    "serde",
    "serde_json",
    "chrono",
    "rohas_runtime",
    "std",
    "core",
];

/// Why `name`, exactly as written, cannot name a declaration, a handler or
/// a middleware: a reserved word of a target ("a reserved word in
/// Python"), or a Python special name (`__init__`: a module so named is
/// its package's own file). These become class, module and function names
/// as written, where no escape keeps the name readable to its users, so
/// the checker refuses them; fields and variants are escaped instead.
pub fn reserved_in(name: &str) -> Option<&'static str> {
    let dunder = name.len() > 4 && name.starts_with("__") && name.ends_with("__");
    if PYTHON_RESERVED.contains(&name) || dunder {
        Some("a reserved word in Python")
    } else if TYPESCRIPT_RESERVED.contains(&name) {
        Some("a reserved word in TypeScript")
    } else if RUST_RESERVED.contains(&name) {
        Some("a reserved word in Rust")
    } else {
        None
    }
}

/// Why `name` cannot name a declared type, api, event, cron or WebSocket:
/// it is reserved ([`reserved_in`]) or the generated code of a target
/// needs it unqualified, and a class or struct of that name would hide
/// it (`model str`, `model Option`).
pub fn unusable_declaration_name(name: &str) -> Option<&'static str> {
    reserved_in(name).or(if PYTHON_NEEDED.contains(&name) {
        Some("a builtin or import generated Python needs")
    } else if RUST_NEEDED.contains(&name) {
        Some("a name generated Rust needs")
    } else {
        None
    })
}

/// A Python identifier for a schema name: `class` → `class_`.
pub fn python_ident(name: &str) -> String {
    if PYTHON_RESERVED.contains(&name) {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

/// A Rust identifier: `type` → `r#type`; the few keywords raw identifiers
/// cannot express (`self`, `Self`, `super`, `crate`) get a trailing underscore.
pub fn rust_ident(name: &str) -> String {
    match name {
        "self" | "Self" | "super" | "crate" | "_" => format!("{name}_"),
        n if RUST_RESERVED.contains(&n) => format!("r#{n}"),
        n => n.to_string(),
    }
}

/// A TypeScript binding name (variables, parameters, functions): `default` → `default_`.
/// Property names never need this: `{ default: string }` is valid TypeScript.
pub fn typescript_ident(name: &str) -> String {
    if TYPESCRIPT_RESERVED.contains(&name) {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

/// True when `name` is a valid identifier in all three targets after the
/// conversions above (ASCII letters, digits and `_`, not starting with a digit).
pub fn is_portable_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_handles_acronyms_and_camel() {
        assert_eq!(snake_case("createdAt"), "created_at");
        assert_eq!(snake_case("CreateUser"), "create_user");
        assert_eq!(snake_case("HTTPServer"), "http_server");
        assert_eq!(snake_case("userID"), "user_id");
        assert_eq!(snake_case("already_snake"), "already_snake");
        assert_eq!(snake_case("v2Name"), "v2_name");
    }

    #[test]
    fn camel_and_pascal() {
        assert_eq!(camel_case("send_welcome_email"), "sendWelcomeEmail");
        assert_eq!(camel_case("CreateUser"), "createUser");
        assert_eq!(pascal_case("daily_cleanup"), "DailyCleanup");
        assert_eq!(pascal_case("UserCreated"), "UserCreated");
    }

    #[test]
    fn escapes_reserved_words() {
        assert_eq!(python_ident("class"), "class_");
        assert_eq!(python_ident("name"), "name");
        assert_eq!(rust_ident("type"), "r#type");
        assert_eq!(rust_ident("self"), "self_");
        assert_eq!(typescript_ident("default"), "default_");
    }
}
