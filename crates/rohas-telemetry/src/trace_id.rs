//! [`TraceId`]: the trace id a span carries, held without a heap
//! allocation.
//!
//! Every span holds its trace's id and a request makes at least two: as a
//! `String` each span cost an allocation on the request path and a free on
//! the writer's thread (together about a third of what recording a span
//! cost the request). The engine's own ids are 32 hex digits and most
//! clients' `x-trace-id`s are shorter, so up to [`INLINE`] bytes are kept
//! in the value itself and copied with it; a longer id (a client's, up to
//! the 64 bytes the engine accepts) is shared behind an `Arc`.
//!
//! It dereferences to `str`: what reads a trace id (the store's trace
//! ranges, the API, OTLP) reads the same text as before.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// Longest trace id kept inline: the engine's (and W3C's) 32 hex digits.
pub const INLINE: usize = 32;

/// A trace id: any short text (see `ids.rs`), usually 32 hex digits.
#[derive(Clone)]
pub struct TraceId(Repr);

#[derive(Clone)]
enum Repr {
    /// `bytes[..len]` is the id's UTF-8 text, copied whole from a `str`
    /// (`as_str` relies on it).
    Inline {
        len: u8,
        bytes: [u8; INLINE],
    },
    Shared(Arc<str>),
}

impl TraceId {
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // SAFETY: `bytes[..len]` is valid UTF-8. The one place that
            // writes an `Inline` (`From<&str>`) copies a whole `&str` into
            // it, the fields are private, and nothing changes them after.
            // Why not `from_utf8`: the writer reads a span's trace id
            // several times (trace ranges, the string table) and checking
            // 32 bytes each time was 7 % of its work (`examples/spans`).
            Repr::Inline { len, bytes } => unsafe { std::str::from_utf8_unchecked(&bytes[..usize::from(*len)]) },
            Repr::Shared(s) => s,
        }
    }
}

impl From<&str> for TraceId {
    fn from(s: &str) -> TraceId {
        if s.len() <= INLINE {
            let mut bytes = [0u8; INLINE];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            TraceId(Repr::Inline {
                len: s.len() as u8,
                bytes,
            })
        } else {
            TraceId(Repr::Shared(Arc::from(s)))
        }
    }
}

impl From<&String> for TraceId {
    fn from(s: &String) -> TraceId {
        TraceId::from(s.as_str())
    }
}

impl From<String> for TraceId {
    fn from(s: String) -> TraceId {
        TraceId::from(s.as_str())
    }
}

impl From<&TraceId> for TraceId {
    fn from(t: &TraceId) -> TraceId {
        t.clone()
    }
}

impl Default for TraceId {
    fn default() -> TraceId {
        TraceId::from("")
    }
}

impl std::ops::Deref for TraceId {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for TraceId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for TraceId {
    fn eq(&self, other: &TraceId) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for TraceId {}

impl PartialOrd for TraceId {
    fn partial_cmp(&self, other: &TraceId) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for TraceId {
    fn cmp(&self, other: &TraceId) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for TraceId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialEq<str> for TraceId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for TraceId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for TraceId {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<TraceId> for &str {
    fn eq(&self, other: &TraceId) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<TraceId> for String {
    fn eq(&self, other: &TraceId) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for TraceId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TraceId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(TraceId::from(String::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_ids_read_back_as_given() {
        for id in [
            "",
            "req-7f3a",
            "0123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcdef0",
            &"é".repeat(32),
        ] {
            let t = TraceId::from(id);
            assert_eq!(t.as_str(), id);
            assert_eq!(t, id);
            assert_eq!(t.clone(), TraceId::from(id.to_string()));
            assert_eq!(serde_json::to_value(&t).unwrap(), serde_json::json!(id));
            let back: TraceId = serde_json::from_value(serde_json::json!(id)).unwrap();
            assert_eq!(back, t);
        }
        assert!(matches!(TraceId::from("a".repeat(32)).0, Repr::Inline { .. }));
        assert!(matches!(TraceId::from("a".repeat(33)).0, Repr::Shared(_)));
        let (a, b) = (TraceId::from("a"), TraceId::from("b"));
        assert!(a < b);
    }
}
