//! The glue between a Rust project's handler files and the engine, which
//! the project compiles into its handler library:
//! `src/generated/handlers/*.rs` declares each handler file as a module
//! (`modules.rs`), `src/generated/registry.rs` calls each handler the
//! schema names with the parameters its signature asks for (`find.rs`
//! reads the handler files with `syn`, `registry.rs` writes the calls), and
//! `src/generated/extract.rs` lets handlers ask for the schema's types
//! (`extract.rs`).
//!
//! Two writers share it: `rohas codegen`, with the rest of
//! `src/generated/`, and the Rust runtime before each build
//! ([`handler_glue`]), because a renamed function or a new parameter needs
//! new glue while `rohas dev` reruns codegen only for schema changes. So it
//! knows the handler specs and the files, never the schema's declarations
//! or cargo.

mod extract;
mod find;
mod modules;
mod registry;
mod text;

pub use extract::module as extractors;
pub use find::{find, Found, Param, Source};

use rohas_runtime::HandlerSpec;
use std::path::{Path, PathBuf};

/// A file of the glue, relative to the project root (`src/generated/registry.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlueFile {
    pub path: PathBuf,
    pub contents: String,
}

/// The glue for `specs` with each spec's handler file at the path `resolve`
/// picks, read by `read` (`None`: no such file): the handler module files,
/// then `registry.rs`, and the handlers found.
pub fn glue(
    specs: &[HandlerSpec],
    resolve: &dyn Fn(&HandlerSpec) -> Option<PathBuf>,
    read: &dyn Fn(&Path) -> Option<String>,
) -> (Vec<GlueFile>, Vec<Found>) {
    let base = Path::new("src/generated");
    let mut files: Vec<GlueFile> = modules::files(specs, resolve)
        .into_iter()
        .map(|(name, contents)| GlueFile {
            path: base.join("handlers").join(name),
            contents,
        })
        .collect();
    let found = find_handlers(specs, resolve, read);
    files.push(GlueFile {
        path: base.join("registry.rs"),
        contents: registry::registry(&found, &modules::layout(specs, resolve)),
    });
    (files, found)
}

/// What the Rust runtime writes again before each build, from the handler
/// files on disk: `src/generated/handlers/*.rs` (which files are compiled)
/// and `src/generated/registry.rs` (which functions are called, and how).
pub struct HandlerGlue {
    pub files: Vec<GlueFile>,
    /// The handlers found, one per spec whose file defines a function it names.
    pub found: Vec<Found>,
    /// Handler files that do not parse: cargo reports why when it builds.
    pub unparsable: Vec<PathBuf>,
}

/// [`HandlerGlue`] for the project at `project_root`.
pub fn handler_glue(specs: &[HandlerSpec], project_root: &Path) -> HandlerGlue {
    let root = project_root.to_path_buf();
    let resolve = move |spec: &HandlerSpec| resolve_existing(&root, spec);
    let read = |path: &Path| std::fs::read_to_string(project_root.join(path)).ok();
    let (files, found) = glue(specs, &resolve, &read);
    let mut unparsable: Vec<PathBuf> = specs
        .iter()
        .filter_map(&resolve)
        .filter(|path| read(path).is_some_and(|text| syn::parse_file(&text).is_err()))
        .collect();
    unparsable.sort();
    unparsable.dedup();
    HandlerGlue {
        files,
        found,
        unparsable,
    }
}

/// The handler file of `spec` in the project at `root`: the first candidate
/// that exists (`CreateUser.rs` when the user chose that name), else the
/// first candidate, where a stub goes.
pub fn resolve_existing(root: &Path, spec: &HandlerSpec) -> Option<PathBuf> {
    spec.files
        .iter()
        .find(|f| root.join(f).is_file())
        .or_else(|| spec.files.first())
        .cloned()
}

fn find_handlers(
    specs: &[HandlerSpec],
    resolve: &dyn Fn(&HandlerSpec) -> Option<PathBuf>,
    read: &dyn Fn(&Path) -> Option<String>,
) -> Vec<Found> {
    specs
        .iter()
        .filter_map(|spec| {
            let path = resolve(spec)?;
            let text = read(&path)?;
            find(
                spec,
                &Source {
                    path: &path,
                    text: &text,
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rohas_runtime::{HandlerId, HandlerKind};

    fn api(name: &str, file: &str) -> HandlerSpec {
        HandlerSpec {
            id: HandlerId::api(name),
            kind: HandlerKind::Api,
            name: name.into(),
            files: vec![PathBuf::from(file)],
            functions: vec!["handler".into()],
            request_type: None,
            body_type: None,
            message_type: None,
            event_type: None,
            optional: false,
        }
    }

    #[test]
    fn the_runtime_glue_follows_the_handler_files_on_disk() {
        let project = tempfile::tempdir().unwrap();
        let write = |rel: &str, text: &str| {
            let path = project.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(
            "src/handlers/api/health.rs",
            "pub async fn handler() -> Result<()> { Ok(()) }\n",
        );
        write("src/handlers/api/broken.rs", "pub fn handler( {\n");
        let specs = [
            api("Health", "src/handlers/api/health.rs"),
            api("Broken", "src/handlers/api/broken.rs"),
            api("Missing", "src/handlers/api/missing.rs"),
        ];
        let glue = handler_glue(&specs, project.path());

        let found: Vec<&str> = glue.found.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(found, ["api:Health"]);
        assert_eq!(glue.unparsable, [PathBuf::from("src/handlers/api/broken.rs")]);
        let paths: Vec<&Path> = glue.files.iter().map(|f| f.path.as_path()).collect();
        assert_eq!(paths.last(), Some(&Path::new("src/generated/registry.rs")));
        assert!(paths.contains(&Path::new("src/generated/handlers/api.rs")), "{paths:?}");
        let registry = &glue.files.last().unwrap().contents;
        assert!(
            registry.contains("crate::generated::handlers::api::health::handler()"),
            "{registry}"
        );
        assert!(!registry.contains("broken::handler"), "{registry}");
    }
}
