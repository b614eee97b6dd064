//! Dead letters: messages a handler could not process after its last
//! attempt, kept with every attempt's error until replayed or purged.

use crate::delivery::Failure;
use crate::message::{Message, SubscriptionId};
use crate::time::Millis;
use serde::{Deserialize, Serialize};

/// A dead letter's id, as the CLI and the admin API name it. Opaque: the
/// local store uses its row number, a broker its own handle.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeadLetterId(pub String);

impl std::fmt::Display for DeadLetterId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub id: DeadLetterId,
    pub event: String,
    /// The handler (subscription) that gave up.
    pub handler: SubscriptionId,
    pub message: Message,
    /// Every attempt's error, oldest first.
    pub attempts: Vec<Failure>,
    pub dead_at: Millis,
}

/// Which dead letters to list: newest first, `limit` at a time, continuing
/// after the `after` cursor of the previous page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeadLetterQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

impl DeadLetterQuery {
    pub const DEFAULT_LIMIT: usize = 50;
    pub const MAX_LIMIT: usize = 1000;

    pub fn limit(&self) -> usize {
        self.limit.unwrap_or(Self::DEFAULT_LIMIT).clamp(1, Self::MAX_LIMIT)
    }

    pub fn matches(&self, event: &str, handler: &SubscriptionId) -> bool {
        self.event.as_deref().is_none_or(|e| e == event)
            && self.handler.as_deref().is_none_or(|h| handler_matches(h, handler))
    }
}

/// A handler filter matches the full id (`event:E:h`) or the handler's name.
fn handler_matches(filter: &str, id: &SubscriptionId) -> bool {
    id.as_str() == filter || id.as_str().rsplit(':').next() == Some(filter)
}

/// One page of a list: `next` is the cursor for the following page, `None`
/// on the last one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// Which dead letters a replay or purge acts on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Selection {
    Ids {
        ids: Vec<DeadLetterId>,
    },
    All {
        all: bool,
        #[serde(default)]
        event: Option<String>,
    },
}

impl Selection {
    pub fn all(event: Option<String>) -> Selection {
        Selection::All { all: true, event }
    }

    pub fn selects(&self, id: &DeadLetterId, event: &str) -> bool {
        match self {
            Selection::Ids { ids } => ids.contains(id),
            Selection::All { all, event: filter } => *all && filter.as_deref().is_none_or(|e| e == event),
        }
    }
}

/// What a replay did: how many went back to their handler's queue, and the
/// ids asked for that are not dead letters (any more).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Replayed {
    pub replayed: usize,
    pub unknown: Vec<DeadLetterId>,
}
