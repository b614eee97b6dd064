//! Configured values that must never be printed: the workbench key, OTLP
//! headers, passwords in broker URLs.
//!
//! A `Secret` has no `Display`, so `format!("{}", secret)` does not compile,
//! and its `Debug` prints `***`, so a `{config:?}` in a log line or a panic
//! message shows that a value is set but not what it is. The one way to the
//! text is [`Secret::expose`], which is easy to find in review.
//! [`BrokerOptions`] does the same for the broker keys of `[adapter]`, whose
//! URLs carry passwords (`amqp://user:password@host`).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;

/// What every hidden value prints as.
pub const HIDDEN: &str = "***";

/// A configured value that never appears in logs, errors or pages.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the one place that sends or compares it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret(value.to_string())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({HIDDEN})")
    }
}

/// The broker's own keys of `[adapter]` (`url`, `stream`, …), kept as
/// written. Reads like the map it holds; prints with passwords hidden.
#[derive(Clone, Default, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct BrokerOptions(BTreeMap<String, toml::Value>);

impl BrokerOptions {
    pub fn new(options: BTreeMap<String, toml::Value>) -> BrokerOptions {
        BrokerOptions(options)
    }
}

impl Deref for BrokerOptions {
    type Target = BTreeMap<String, toml::Value>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl fmt::Debug for BrokerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (key, value) in &self.0 {
            match value.as_str() {
                Some(_) if is_secret_key(key) => map.entry(key, &HIDDEN),
                Some(text) => map.entry(key, &without_credentials(text)),
                None => map.entry(key, value),
            };
        }
        map.finish()
    }
}

/// Whether a key's value is a secret by its name alone (`password`,
/// `api_key`, `sasl_password`, `secret_access_key`, `token` …).
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "secret", "token", "api_key", "apikey", "credential"]
        .iter()
        .any(|word| key.contains(word))
}

/// `text` with the user information of a URL's authority (`user:password@`)
/// replaced by `***`; anything that is not such a URL unchanged.
pub fn without_credentials(text: &str) -> String {
    let Some(scheme_end) = text.find("://") else {
        return text.to_string();
    };
    let start = scheme_end + 3;
    let authority_end = text[start..].find(['/', '?', '#']).map_or(text.len(), |at| start + at);
    match text[start..authority_end].rfind('@') {
        Some(at) => format!("{}{HIDDEN}{}", &text[..start], &text[start + at..]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_prints_as_stars() {
        let secret = Secret::new("sk-live-4242");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(format!("{:?}", Some(&secret)), "Some(Secret(***))");
        assert_eq!(secret.expose(), "sk-live-4242");
    }

    #[test]
    fn broker_options_print_without_passwords() {
        let options = BrokerOptions::new(BTreeMap::from([
            (
                "url".into(),
                toml::Value::from("amqp://guest:hunter2@127.0.0.1:5672/%2f"),
            ),
            ("sasl_password".into(), toml::Value::from("hunter3")),
            ("stream".into(), toml::Value::from("events")),
            ("partitions".into(), toml::Value::from(3)),
        ]));
        let shown = format!("{options:?}");
        assert!(!shown.contains("hunter"), "{shown}");
        assert!(shown.contains("amqp://***@127.0.0.1:5672/%2f"), "{shown}");
        assert!(shown.contains("\"events\"") && shown.contains('3'), "{shown}");
        assert_eq!(options["stream"].as_str(), Some("events"));
    }

    #[test]
    fn only_the_authority_of_a_url_is_masked() {
        assert_eq!(without_credentials("nats://a:b@h:4222"), "nats://***@h:4222");
        assert_eq!(without_credentials("redis://:pw@h/0"), "redis://***@h/0");
        assert_eq!(without_credentials("http://h/path@x?q=a@b"), "http://h/path@x?q=a@b");
        assert_eq!(without_credentials("not a url"), "not a url");
    }
}
