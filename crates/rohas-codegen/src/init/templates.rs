//! The project templates, embedded in the binary from
//! `crates/rohas-codegen/templates/` so `rohas init` works anywhere.
//!
//! Files are real files in that folder (editable, reviewable, and the Rust
//! ones are compiled by the tests); `{{placeholder}}`s are filled in by
//! [`super::init_project`].

use rohas_runtime::Language;

/// One template file: where it goes in the new project, and its text.
pub struct Template {
    pub path: &'static str,
    pub contents: &'static str,
}

macro_rules! template {
    ($path:literal => $file:literal) => {
        Template {
            path: $path,
            contents: include_str!(concat!("../../templates/", $file)),
        }
    };
}

/// Files every project gets, whatever its language.
pub const COMMON: &[Template] = &[
    template!("config/rohas.toml" => "common/config/rohas.toml"),
    template!("schema/models/user.ro" => "common/schema/models/user.ro"),
    template!("schema/api/health.ro" => "common/schema/api/health.ro"),
    template!("schema/api/users.ro" => "common/schema/api/users.ro"),
    template!("schema/events/user_created.ro" => "common/schema/events/user_created.ro"),
    template!("schema/cron/cleanup.ro" => "common/schema/cron/cleanup.ro"),
    template!("schema/websockets/chat.ro" => "common/schema/websockets/chat.ro"),
    template!("README.md" => "common/README.md"),
];

/// The first lines of `.gitignore`; the language adds its own.
pub const GITIGNORE: &str = include_str!("../../templates/common/gitignore");

pub const PYTHON: &[Template] = &[
    template!("pyproject.toml" => "python/pyproject.toml"),
    template!("requirements.txt" => "python/requirements.txt"),
    template!("src/handlers/api/health.py" => "python/src/handlers/api/health.py"),
    template!("src/handlers/api/create_user.py" => "python/src/handlers/api/create_user.py"),
    template!("src/handlers/events/send_welcome_email.py" => "python/src/handlers/events/send_welcome_email.py"),
    template!("src/handlers/cron/daily_cleanup.py" => "python/src/handlers/cron/daily_cleanup.py"),
    template!("src/handlers/websockets/chat.py" => "python/src/handlers/websockets/chat.py"),
    template!("src/middlewares/auth.py" => "python/src/middlewares/auth.py"),
    template!("tests/test_handlers.py" => "python/tests/test_handlers.py"),
];

pub const TYPESCRIPT: &[Template] = &[
    template!("package.json" => "typescript/package.json"),
    template!("tsconfig.json" => "typescript/tsconfig.json"),
    template!("src/handlers/api/health.ts" => "typescript/src/handlers/api/health.ts"),
    template!("src/handlers/api/create_user.ts" => "typescript/src/handlers/api/create_user.ts"),
    template!("src/handlers/events/send_welcome_email.ts" => "typescript/src/handlers/events/send_welcome_email.ts"),
    template!("src/handlers/cron/daily_cleanup.ts" => "typescript/src/handlers/cron/daily_cleanup.ts"),
    template!("src/handlers/websockets/chat.ts" => "typescript/src/handlers/websockets/chat.ts"),
    template!("src/middlewares/auth.ts" => "typescript/src/middlewares/auth.ts"),
    template!("tests/handlers.test.ts" => "typescript/tests/handlers.test.ts"),
];

pub const RUST: &[Template] = &[
    template!("Cargo.toml" => "rust/Cargo.toml.tmpl"),
    template!("src/lib.rs" => "rust/src/lib.rs"),
    template!("src/handlers/api/health.rs" => "rust/src/handlers/api/health.rs"),
    template!("src/handlers/api/create_user.rs" => "rust/src/handlers/api/create_user.rs"),
    template!("src/handlers/events/send_welcome_email.rs" => "rust/src/handlers/events/send_welcome_email.rs"),
    template!("src/handlers/cron/daily_cleanup.rs" => "rust/src/handlers/cron/daily_cleanup.rs"),
    template!("src/handlers/websockets/chat.rs" => "rust/src/handlers/websockets/chat.rs"),
    template!("src/middlewares/auth.rs" => "rust/src/middlewares/auth.rs"),
    template!("src/tests.rs" => "rust/src/tests.rs"),
];

/// The language's own files.
pub fn for_language(lang: Language) -> &'static [Template] {
    match lang {
        Language::Python => PYTHON,
        Language::TypeScript => TYPESCRIPT,
        Language::Rust => RUST,
    }
}

/// The language's `.gitignore` lines.
pub fn gitignore(lang: Language) -> &'static str {
    match lang {
        Language::Python => include_str!("../../templates/python/gitignore"),
        Language::TypeScript => include_str!("../../templates/typescript/gitignore"),
        Language::Rust => include_str!("../../templates/rust/gitignore"),
    }
}

/// README lines: how to get ready to run, and how to type-check.
pub fn readme_parts(lang: Language) -> (&'static str, &'static str, &'static str) {
    match lang {
        Language::Python => (
            "Python",
            "python -m venv .venv && .venv/bin/pip install -r requirements.txt\n",
            "## Check it\n\n`rohas test` runs `tests/` (a test per handler kind to start from: each calls\nthe handler as a plain function with generated types and a `State` whose host\nrecords what it logs). `mypy` (strict, configured in `pyproject.toml`) checks\nthe handlers and tests against the generated types: `pip install mypy && mypy`.",
        ),
        Language::TypeScript => (
            "TypeScript",
            "npm install\n",
            "## Check it\n\n`rohas test` (or `npm test`) runs `tests/` with vitest (a test per handler kind to\nstart from: each calls the handler as a plain function with generated types and a\n`State` whose host records what it logs).\n`npm run typecheck` runs `tsc --noEmit` in strict mode against the generated types.\n`src/generated/` is not committed (see `.gitignore`): `rohas dev` and `rohas codegen`\nwrite it, so after a fresh clone run `rohas codegen` before type-checking.\nHandlers import generated code relative to their own file\n(`\"../../generated/api/Health\"` from `src/handlers/api/`).",
        ),
        Language::Rust => (
            "Rust",
            "",
            "## Check it\n\n`rohas test` runs `src/tests.rs` (a test per handler kind to start from: each\ncalls the handler as a plain function with generated types and a `State` whose\nhost records what it logs). `cargo clippy -- -D warnings` checks the handlers and the generated code.\nThe crate is a `cdylib` that `rohas dev` builds and loads; `src/lib.rs` only\ndeclares `generated`, which declares your handler files for you.",
        ),
    }
}

/// Examples `--example` accepts; the first is the default.
pub const EXAMPLES: &[&str] = &["hello"];
