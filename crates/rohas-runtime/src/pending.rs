//! Calls sent to a language host and not answered yet, and the guard a
//! caller waits through.
//!
//! A runtime hands a call to another thread or process (Python's loop
//! thread, a Node.js worker, the Rust library's threads) and waits for the
//! answer on a oneshot channel. The answer is found by call id in a table
//! shared with the thread that reads the host's replies. The engine stops
//! waiting by dropping the call's future (a timeout, a client gone): the
//! [`AwaitedReply`] guard then runs the runtime's own "abandon" step, which
//! forgets the call here and tells the host to stop it, so a late answer is
//! dropped instead of kept. The table and the guard live here once because
//! every runtime needs exactly this and their copies had begun to differ.

use crate::sync::lock;
use rustc_hash::FxHashMap;
use std::sync::Mutex;
use tokio::sync::oneshot;

/// The calls a host has not answered, by call id, each with the channel its
/// caller waits on. Once closed (the host is gone), no call joins it.
pub struct PendingCalls<R> {
    table: Mutex<Table<R>>,
}

struct Table<R> {
    /// Call ids are a counter, so the Fx hasher does.
    waiting: FxHashMap<u64, oneshot::Sender<R>>,
    closed: bool,
}

impl<R> Default for PendingCalls<R> {
    fn default() -> Self {
        PendingCalls {
            table: Mutex::new(Table {
                waiting: FxHashMap::default(),
                closed: false,
            }),
        }
    }
}

impl<R> PendingCalls<R> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Wait for call `id`'s answer: the receiver gets what [`complete`]
    /// hands over. `None` once the table is closed: the host will never
    /// answer, so the caller goes elsewhere or fails the call.
    ///
    /// [`complete`]: PendingCalls::complete
    pub fn register(&self, id: u64) -> Option<oneshot::Receiver<R>> {
        let mut table = lock(&self.table);
        if table.closed {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        table.waiting.insert(id, tx);
        Some(rx)
    }

    /// Hand `reply` to call `id`'s caller. `false` when nobody waits for it
    /// (abandoned, or never registered): the reply is dropped.
    pub fn complete(&self, id: u64, reply: R) -> bool {
        let waiting = lock(&self.table).waiting.remove(&id);
        match waiting {
            Some(tx) => {
                let _ = tx.send(reply);
                true
            }
            None => false,
        }
    }

    /// [`PendingCalls::complete`] for many replies, under one lock (the
    /// replies are sent after it is released). Returns the ids nobody
    /// waited for, in the order given.
    pub fn complete_many(&self, replies: impl IntoIterator<Item = (u64, R)>) -> Vec<u64> {
        let mut unclaimed = Vec::new();
        let claimed: Vec<_> = {
            let mut table = lock(&self.table);
            replies
                .into_iter()
                .filter_map(|(id, reply)| match table.waiting.remove(&id) {
                    Some(tx) => Some((tx, reply)),
                    None => {
                        unclaimed.push(id);
                        None
                    }
                })
                .collect()
        };
        for (tx, reply) in claimed {
            let _ = tx.send(reply);
        }
        unclaimed
    }

    /// Stop waiting for call `id`. `true` when it was still waited for
    /// (so the host should be told), `false` when its answer already came.
    pub fn forget(&self, id: u64) -> bool {
        lock(&self.table).waiting.remove(&id).is_some()
    }

    /// The host is gone: refuse every later [`register`] and return the
    /// channels of the calls still waiting, for the caller to answer once
    /// it has done whatever must come first.
    ///
    /// [`register`]: PendingCalls::register
    pub fn close(&self) -> Vec<oneshot::Sender<R>> {
        let mut table = lock(&self.table);
        table.closed = true;
        table.waiting.drain().map(|(_, tx)| tx).collect()
    }
}

/// Waits for one reply. Dropped before the reply came (the engine gave up
/// on the call), it runs `on_abandon` once: the runtime forgets the call and
/// tells its host to stop it.
pub struct AwaitedReply<R, F: FnOnce()> {
    rx: Option<oneshot::Receiver<R>>,
    on_abandon: Option<F>,
}

impl<R, F: FnOnce()> AwaitedReply<R, F> {
    pub fn new(rx: oneshot::Receiver<R>, on_abandon: F) -> Self {
        AwaitedReply {
            rx: Some(rx),
            on_abandon: Some(on_abandon),
        }
    }

    /// The reply; `None` when its sender was dropped unanswered (the host
    /// stopped). Either way the call is over and nothing is abandoned.
    pub async fn wait(mut self) -> Option<R> {
        let rx = self.rx.as_mut()?;
        let reply = rx.await.ok();
        self.rx = None;
        reply
    }
}

impl<R, F: FnOnce()> Drop for AwaitedReply<R, F> {
    fn drop(&mut self) {
        // The channel is closed first, so whoever would hand the call over
        // later sees that nobody waits.
        if self.rx.take().is_some() {
            if let Some(on_abandon) = self.on_abandon.take() {
                on_abandon();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn a_reply_reaches_its_caller_once() {
        let calls = PendingCalls::new();
        let mut rx = calls.register(1).expect("open");
        assert!(calls.complete(1, "one"));
        assert_eq!(rx.try_recv().ok(), Some("one"));
        assert!(!calls.complete(1, "again"), "answered calls are forgotten");
        assert!(!calls.complete(7, "never sent"));
    }

    #[test]
    fn many_replies_report_the_ones_nobody_waits_for() {
        let calls = PendingCalls::new();
        let mut a = calls.register(1).expect("open");
        let mut b = calls.register(2).expect("open");
        assert!(calls.forget(2));
        assert!(!calls.forget(2));
        let unclaimed = calls.complete_many([(1, 'a'), (2, 'b'), (3, 'c')]);
        assert_eq!(unclaimed, [2, 3]);
        assert_eq!(a.try_recv().ok(), Some('a'));
        assert!(b.try_recv().is_err(), "a forgotten call gets nothing");
    }

    #[test]
    fn a_closed_table_hands_back_its_waiters_and_takes_no_more() {
        let calls = PendingCalls::new();
        let mut rx = calls.register(1).expect("open");
        let waiters = calls.close();
        assert_eq!(waiters.len(), 1);
        assert!(calls.register(2).is_none());
        for tx in waiters {
            let _ = tx.send("crashed");
        }
        assert_eq!(rx.try_recv().ok(), Some("crashed"));
    }

    #[tokio::test]
    async fn a_reply_waited_for_abandons_nothing() {
        let calls = PendingCalls::new();
        let rx = calls.register(1).expect("open");
        let abandoned = Cell::new(false);
        calls.complete(1, 5);
        let reply = AwaitedReply::new(rx, || abandoned.set(true)).wait().await;
        assert_eq!((reply, abandoned.get()), (Some(5), false));

        let rx = calls.register(2).expect("open");
        drop(calls.close());
        let reply = AwaitedReply::new(rx, || abandoned.set(true)).wait().await;
        assert_eq!(
            (reply, abandoned.get()),
            (None, false),
            "a stopped host is not an abandon"
        );
    }

    #[test]
    fn a_dropped_wait_abandons_its_call_once() {
        let calls = PendingCalls::<u8>::new();
        let rx = calls.register(1).expect("open");
        let abandoned = Cell::new(0);
        drop(AwaitedReply::new(rx, || {
            abandoned.set(abandoned.get() + 1);
            calls.forget(1);
        }));
        assert_eq!(abandoned.get(), 1);
        assert!(!calls.complete(1, 0), "the abandoned call was forgotten");
    }
}
