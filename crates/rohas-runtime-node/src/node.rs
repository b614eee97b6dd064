//! Finding the `node` binary and checking it is recent enough.

use std::path::PathBuf;

/// The oldest Node.js major version the host module supports.
pub const MIN_MAJOR: u32 = 20;

/// `ROHAS_NODE`, else `node` on `PATH`; checked with `node --version`.
pub fn find() -> Result<(PathBuf, String), String> {
    let node = rohas_config::ProcessVar::Node
        .get_os()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("node"));
    let output = std::process::Command::new(&node)
        .arg("--version")
        .output()
        .map_err(|e| {
            format!(
                "TypeScript handlers run on Node.js {MIN_MAJOR} or newer, and `{}` could not be started ({e}): \
             install Node.js {MIN_MAJOR}+ and put `node` on PATH, or set ROHAS_NODE to its path",
                node.display()
            )
        })?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let major = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok());
    match major {
        Some(m) if m >= MIN_MAJOR => Ok((node, version)),
        _ => {
            Err(format!(
            "TypeScript handlers run on Node.js {MIN_MAJOR} or newer, and `{}` is {}: install Node.js {MIN_MAJOR}+ \
             or set ROHAS_NODE to a newer one",
            node.display(),
            if version.is_empty() { "not a working Node.js" } else { &version }
        ))
        }
    }
}
