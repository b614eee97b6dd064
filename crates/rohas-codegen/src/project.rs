//! Codegen for one project in one language: which generator runs, and the
//! handler specs its stubs follow. The CLI's `codegen` command and `init`
//! both come through here, so they cannot disagree.

use crate::{handler_specs, python, rust, typescript, GeneratedFile};
use rohas_runtime::{HandlerSpec, Language};
use rohas_schema::Schema;
use std::path::Path;

/// Everything codegen produces for a project, before anything is written.
#[derive(Debug, Clone)]
pub struct ProjectCode {
    /// Files under `src/generated/`.
    pub generated: Vec<GeneratedFile>,
    /// One stub per handler (written only where the handler has no file).
    pub stubs: Vec<GeneratedFile>,
    pub specs: Vec<HandlerSpec>,
}

#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    #[error("code generation for {0} is not built yet")]
    NotBuilt(&'static str),
}

/// The generated code and stubs of `schema` for `lang`, for the project at
/// `root` (handler modules follow the files that exist there).
pub fn project_code(schema: &Schema, lang: Language, root: &Path) -> Result<ProjectCode, CodegenError> {
    let specs = handler_specs(schema, lang);
    let (generated, stubs) = match lang {
        Language::Rust => (rust::generate_in(schema, root), rust::stubs(schema, &specs)),
        Language::Python => (python::generate(schema), python::stubs(schema, &specs)),
        Language::TypeScript => (typescript::generate(schema), typescript::stubs(schema, &specs)),
    };
    Ok(ProjectCode {
        generated,
        stubs,
        specs,
    })
}
