//! JSON nested too deeply, named in words a client can act on.
//!
//! serde_json stops past 127 levels of arrays and objects inside each other
//! (its recursion limit). That limit is what keeps a body of 100,000 `[`
//! from overflowing the stack of the thread parsing it, so it must stay on
//! (serde_json's `unbounded_depth` feature would remove it): the engine's
//! tests send such bodies to every kind of endpoint. Its error reads
//! "recursion limit exceeded", which tells a client nothing about its
//! input; [`describe`] says what is wrong instead.

/// Arrays and objects serde_json parses inside each other.
pub(crate) const MAX_DEPTH: usize = 127;

/// Whether `e` is serde_json's recursion limit.
pub(crate) fn too_deep(e: &serde_json::Error) -> bool {
    e.to_string().starts_with("recursion limit exceeded")
}

/// A parse error as the client should read it.
pub(crate) fn describe(e: &serde_json::Error) -> String {
    if too_deep(e) {
        format!(
            "arrays and objects are nested more than {MAX_DEPTH} levels deep (line {}, column {})",
            e.line(),
            e.column()
        )
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_named_with_its_depth_and_other_errors_pass_through() {
        let within = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(serde_json::from_str::<serde_json::Value>(&within).is_ok());
        let deep = "[".repeat(MAX_DEPTH + 1);
        let e = serde_json::from_str::<serde_json::Value>(&deep).unwrap_err();
        assert!(too_deep(&e), "{e}");
        assert_eq!(
            describe(&e),
            format!(
                "arrays and objects are nested more than {MAX_DEPTH} levels deep (line 1, column {})",
                MAX_DEPTH + 1
            )
        );

        let e = serde_json::from_str::<serde_json::Value>("{name: 1}").unwrap_err();
        assert!(!too_deep(&e));
        assert_eq!(describe(&e), e.to_string());
    }
}
