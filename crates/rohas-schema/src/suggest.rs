//! "did you mean `User`?": the nearest known name to a misspelled one.

/// The candidate closest to `name`, when it is close enough to be a likely
/// typo (edit distance at most a third of the name, at least 1; or the same
/// name in another case).
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| {
            let distance = if c.to_lowercase() == lower {
                0
            } else {
                strsim::damerau_levenshtein(name, c)
            };
            (distance, c)
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn finds_near_names_only() {
        let known = ["User", "Post", "CreateUserInput"];
        assert_eq!(did_you_mean("Usr", known), Some("User"));
        assert_eq!(did_you_mean("user", known), Some("User"));
        assert_eq!(did_you_mean("CreateUserInpt", known), Some("CreateUserInput"));
        assert_eq!(did_you_mean("Banana", known), None);
    }
}
