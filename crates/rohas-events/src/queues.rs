//! Each subscription's deliveries in memory: due ones in publish order,
//! delayed ones (retries, delayed events) by due time, and a count of those
//! handed out. Both embedded adapters keep their queues here; the local one
//! also writes every change to its store before making it here, so this
//! is never ahead of the disk.

use crate::delivery::{Delivery, Failure};
use crate::message::{Message, SubscriptionId};
use crate::time::Millis;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

/// A delivery waiting in a queue.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub receipt: u64,
    pub message: Arc<Message>,
    pub attempt: u32,
    pub failures: Vec<Failure>,
}

impl Entry {
    pub fn first(receipt: u64, message: Arc<Message>) -> Entry {
        Entry {
            receipt,
            message,
            attempt: 1,
            failures: Vec::new(),
        }
    }

    pub fn from_delivery(d: Delivery) -> Entry {
        Entry {
            receipt: d.receipt,
            message: d.message,
            attempt: d.attempt,
            failures: d.failures,
        }
    }
}

struct Timed {
    due: Millis,
    entry: Entry,
}

impl PartialEq for Timed {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.entry.receipt) == (other.due, other.entry.receipt)
    }
}
impl Eq for Timed {}
impl PartialOrd for Timed {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timed {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due, self.entry.receipt).cmp(&(other.due, other.entry.receipt))
    }
}

#[derive(Default)]
struct State {
    ready: VecDeque<Entry>,
    delayed: BinaryHeap<Reverse<Timed>>,
    in_flight: usize,
    declared: bool,
    closed: bool,
}

impl State {
    /// Moves the delayed entries that are due now to the ready ones.
    fn promote_due(&mut self) {
        if self.delayed.is_empty() {
            return;
        }
        let now = Millis::now();
        while self.delayed.peek().is_some_and(|t| t.0.due <= now) {
            if let Some(Reverse(t)) = self.delayed.pop() {
                self.ready.push_back(t.entry);
            }
        }
    }
}

pub(crate) struct SubQueue {
    pub id: SubscriptionId,
    pub event: String,
    state: Mutex<State>,
    /// Something became due, or the queue closed.
    work: Notify,
    /// A delivery left the queue (publishers waiting on a full queue).
    space: Notify,
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Counts {
    pub ready: usize,
    pub delayed: usize,
    pub in_flight: usize,
}

impl SubQueue {
    pub fn new(id: SubscriptionId, event: String) -> Arc<SubQueue> {
        Arc::new(SubQueue {
            id,
            event,
            state: Mutex::new(State::default()),
            work: Notify::new(),
            space: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_declared(&self, declared: bool) {
        self.lock().declared = declared;
        self.work.notify_waiters();
    }

    pub fn is_declared(&self) -> bool {
        self.lock().declared
    }

    /// Add deliveries; `due` in the future makes them wait.
    pub fn push(&self, entries: impl IntoIterator<Item = (Entry, Option<Millis>)>) {
        let now = Millis::now();
        {
            let mut state = self.lock();
            for (entry, due) in entries {
                match due {
                    Some(due) if due > now => state.delayed.push(Reverse(Timed { due, entry })),
                    _ => state.ready.push_back(entry),
                }
            }
        }
        self.work.notify_waiters();
    }

    /// A delivery handed out earlier is settled (acked, retried, buried).
    pub fn finish(&self) {
        {
            let mut state = self.lock();
            state.in_flight = state.in_flight.saturating_sub(1);
        }
        self.space.notify_waiters();
    }

    /// A settled delivery goes back in (retry, or a failed ack/bury).
    pub fn requeue(&self, entry: Entry, due: Millis) {
        {
            let mut state = self.lock();
            state.in_flight = state.in_flight.saturating_sub(1);
            state.delayed.push(Reverse(Timed { due, entry }));
        }
        self.work.notify_waiters();
    }

    pub fn counts(&self) -> Counts {
        let state = self.lock();
        Counts {
            ready: state.ready.len(),
            delayed: state.delayed.len(),
            in_flight: state.in_flight,
        }
    }

    pub fn len(&self) -> usize {
        let c = self.counts();
        c.ready + c.delayed + c.in_flight
    }

    pub fn close(&self) {
        self.lock().closed = true;
        self.work.notify_waiters();
        self.space.notify_waiters();
    }

    /// Up to `max` due deliveries, waiting for one; empty once closed.
    pub async fn take(&self, max: usize) -> Vec<Entry> {
        // Under load something is ready: taken without registering a
        // waiter (about half of what taking cost).
        if let Ok(entries) = self.take_due(max) {
            return entries;
        }
        loop {
            let notified = self.work.notified();
            tokio::pin!(notified);
            // Registered before looking, so a push between the look and the
            // wait still wakes this task.
            notified.as_mut().enable();
            match self.take_due(max) {
                Ok(entries) => return entries,
                Err(Some(due)) => {
                    tokio::select! {
                        _ = &mut notified => {}
                        _ = tokio::time::sleep(due.from_now()) => {}
                    }
                }
                Err(None) => notified.await,
            }
        }
    }

    /// One due delivery, if there is one now (none once closed).
    pub fn take_ready(&self) -> Option<Entry> {
        let mut state = self.lock();
        if state.closed {
            return None;
        }
        state.promote_due();
        let entry = state.ready.pop_front()?;
        state.in_flight += 1;
        Some(entry)
    }

    /// Up to `max` due deliveries (none once closed), or, when none is due,
    /// when the next delayed one will be.
    fn take_due(&self, max: usize) -> Result<Vec<Entry>, Option<Millis>> {
        let mut state = self.lock();
        if state.closed {
            return Ok(Vec::new());
        }
        state.promote_due();
        let n = max.min(state.ready.len());
        if n > 0 {
            state.in_flight += n;
            return Ok(state.ready.drain(..n).collect());
        }
        Err(state.delayed.peek().map(|t| t.0.due))
    }

    /// Wait until the queue holds fewer than `capacity`, or `deadline`.
    pub async fn wait_for_space(&self, capacity: usize, deadline: tokio::time::Instant) -> bool {
        loop {
            let notified = self.space.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.len() < capacity || self.lock().closed {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.len() < capacity;
            }
        }
    }
}
