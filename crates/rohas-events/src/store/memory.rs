//! The `memory` adapter's store: nothing is written anywhere; dead letters
//! live in a bounded map for as long as the process.

use super::{Batch, Pending, Store};
use crate::adapter::BoxFuture;
use crate::dead_letter::{DeadLetter, DeadLetterId, DeadLetterQuery, Page, Selection};
use crate::delivery::Failure;
use crate::error::AdapterError;
use crate::message::SubscriptionId;
use crate::time::Millis;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// Oldest dead letters are dropped past this many (memory is the limit).
const MAX_DEAD_LETTERS: usize = 10_000;

#[derive(Default)]
pub struct MemoryStore {
    dead: Mutex<BTreeMap<u64, DeadLetter>>,
    numbers: Mutex<HashMap<SubscriptionId, u16>>,
}

fn ready<'a, T: Send + 'a>(value: T) -> BoxFuture<'a, T> {
    Box::pin(std::future::ready(value))
}

impl MemoryStore {
    fn dead(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, DeadLetter>> {
        self.dead.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Store for MemoryStore {
    fn next_seq(&self) -> u64 {
        1
    }

    fn numbers(&self, subscriptions: Vec<SubscriptionId>) -> BoxFuture<'_, Result<Vec<u16>, AdapterError>> {
        let mut numbers = self.numbers.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::with_capacity(subscriptions.len());
        for id in subscriptions {
            let next = numbers.len() + 1;
            let number = match numbers.get(&id) {
                Some(n) => *n,
                None => {
                    let Ok(n) = u16::try_from(next) else {
                        return ready(Err(AdapterError::TooManyHandlers {
                            remedy: "the memory queue numbers them for the life of the process; restart it",
                        }));
                    };
                    numbers.insert(id, n);
                    n
                }
            };
            out.push(number);
        }
        ready(Ok(out))
    }

    fn pending(&self) -> Vec<Pending> {
        Vec::new()
    }

    fn insert(&self, _: Batch) -> BoxFuture<'_, Result<(), AdapterError>> {
        ready(Ok(()))
    }

    fn ack(&self, _: u64, _: Batch) -> BoxFuture<'_, Result<(), AdapterError>> {
        ready(Ok(()))
    }

    fn retry(&self, _: u64, _: u32, _: Vec<Failure>, _: Millis) -> BoxFuture<'_, Result<(), AdapterError>> {
        ready(Ok(()))
    }

    fn bury(&self, mut dead: DeadLetter, receipt: u64) -> BoxFuture<'_, Result<DeadLetterId, AdapterError>> {
        let id = DeadLetterId(receipt.to_string());
        dead.id = id.clone();
        let mut map = self.dead();
        map.insert(receipt, dead);
        while map.len() > MAX_DEAD_LETTERS {
            map.pop_first();
        }
        ready(Ok(id))
    }

    fn dead_letters(&self, query: DeadLetterQuery) -> BoxFuture<'_, Result<Page<DeadLetter>, AdapterError>> {
        let before = query
            .after
            .as_deref()
            .and_then(|a| a.parse::<u64>().ok())
            .unwrap_or(u64::MAX);
        let limit = query.limit();
        let map = self.dead();
        let mut items: Vec<DeadLetter> = map
            .range(..before)
            .rev()
            .filter(|(_, d)| query.matches(&d.event, &d.handler))
            .take(limit + 1)
            .map(|(_, d)| d.clone())
            .collect();
        let next = (items.len() > limit).then(|| {
            items.truncate(limit);
            items.last().map(|d| d.id.0.clone()).unwrap_or_default()
        });
        ready(Ok(Page { items, next }))
    }

    fn dead_letter(&self, id: DeadLetterId) -> BoxFuture<'_, Result<Option<DeadLetter>, AdapterError>> {
        let found = id.0.parse::<u64>().ok().and_then(|r| self.dead().get(&r).cloned());
        ready(Ok(found))
    }

    fn revive(&self, selection: Selection) -> BoxFuture<'_, Result<super::Revived, AdapterError>> {
        let mut map = self.dead();
        let chosen: Vec<u64> = map
            .iter()
            .filter(|(_, d)| selection.selects(&d.id, &d.event))
            .map(|(r, _)| *r)
            .collect();
        let unknown = match &selection {
            Selection::Ids { ids } => ids
                .iter()
                .filter(|id| id.0.parse::<u64>().map_or(true, |r| !chosen.contains(&r)))
                .cloned()
                .collect(),
            Selection::All { .. } => Vec::new(),
        };
        let revived = chosen
            .into_iter()
            .filter_map(|r| map.remove(&r).map(|d| (r, d)))
            .map(|(receipt, d)| Pending {
                receipt,
                message: std::sync::Arc::new(d.message),
                subscription: d.handler,
                attempt: 1,
                failures: d.attempts,
                due: None,
            })
            .collect();
        ready(Ok((revived, unknown)))
    }

    fn purge(&self, selection: Selection) -> BoxFuture<'_, Result<usize, AdapterError>> {
        let mut map = self.dead();
        let before = map.len();
        map.retain(|_, d| !selection.selects(&d.id, &d.event));
        ready(Ok(before - map.len()))
    }

    fn dead_counts(&self) -> BoxFuture<'_, Result<HashMap<SubscriptionId, usize>, AdapterError>> {
        let mut counts = HashMap::new();
        for d in self.dead().values() {
            *counts.entry(d.handler.clone()).or_insert(0) += 1;
        }
        ready(Ok(counts))
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        ready(())
    }
}
