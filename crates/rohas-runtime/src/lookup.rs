//! Finding a handler's code, and the two load errors every runtime reports
//! alike when it is not there.
//!
//! Each runtime looks for a handler's file before it compiles, builds or
//! imports anything, and names the functions it looked for when the file
//! lacks them. The messages are what a user reads after a typo, so they are
//! written once: the file candidates come from [`HandlerSpec::files`], the
//! function names from [`HandlerSpec::functions`].

use crate::{HandlerSpec, LoadError};
use std::path::{Path, PathBuf};

impl HandlerSpec {
    /// The first candidate file that exists under `project`, or
    /// [`LoadError::Missing`]. (An optional handler's absence is not an
    /// error: the caller checks [`HandlerSpec::optional`].)
    pub fn source_file(&self, project: &Path) -> Result<&PathBuf, LoadError> {
        self.files
            .iter()
            .find(|file| project.join(file).is_file())
            .ok_or_else(|| LoadError::missing(self))
    }
}

impl LoadError {
    /// No candidate file of `spec` exists.
    pub fn missing(spec: &HandlerSpec) -> LoadError {
        LoadError::Missing {
            handler: spec.id.to_string(),
            kind: spec.kind,
            looked_for: spec.files.clone(),
        }
    }

    /// `file` (relative to the project) defines none of `spec`'s function
    /// names.
    pub fn no_function(spec: &HandlerSpec, file: &Path) -> LoadError {
        LoadError::NoFunction {
            handler: spec.id.to_string(),
            file: file.to_path_buf(),
            // The message wraps this in backticks: "`handler` or `handle_x`".
            expected: spec.functions.join("` or `"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HandlerKind;

    fn spec() -> HandlerSpec {
        HandlerSpec {
            id: crate::HandlerId::api("Version"),
            kind: HandlerKind::Api,
            name: "Version".into(),
            files: vec![
                "src/handlers/api/version.py".into(),
                "src/handlers/api/Version.py".into(),
            ],
            functions: vec!["handler".into(), "handle_version".into()],
            request_type: None,
            body_type: None,
            message_type: None,
            event_type: None,
            optional: false,
        }
    }

    #[test]
    fn the_first_existing_candidate_is_the_source() {
        let project = std::env::temp_dir().join(format!("rohas-lookup-{}", std::process::id()));
        let dir = project.join("src/handlers/api");
        std::fs::create_dir_all(&dir).expect("temp dir");
        let missing = spec().source_file(&project).map(|_| ()).map_err(|e| e.to_string());
        assert_eq!(
            missing,
            Err(
                "handler `api:Version` (api) not found: looked for src/handlers/api/version.py, \
                 src/handlers/api/Version.py; run `rohas codegen` to create a stub"
                    .to_string()
            )
        );
        std::fs::write(dir.join("Version.py"), "").expect("write");
        let spec = spec();
        let found = spec.source_file(&project).map_err(|e| e.to_string());
        assert_eq!(found, Ok(&PathBuf::from("src/handlers/api/Version.py")));
        let _ = std::fs::remove_dir_all(&project);
    }

    #[test]
    fn a_missing_function_names_every_candidate() {
        let error = LoadError::no_function(&spec(), Path::new("src/handlers/api/version.py"));
        assert_eq!(
            error.to_string(),
            "src/handlers/api/version.py: no function `handler` or `handle_version` for handler `api:Version`"
        );
    }
}
