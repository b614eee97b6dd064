//! [`SpanBuffers`]: where recorded spans wait for the writer thread.
//!
//! A few vectors, each behind its own lock, and each recording thread
//! always pushing onto the same one (threads are dealt out over them in
//! turn). The writer takes a whole vector at once, swapping in an empty
//! one it kept from its last turn.
//!
//! Why not the bounded channel logs go through: sending a span cost the
//! request path about 85 ns, and taking each one out again cost the writer
//! about 150 ns (a span moved and a slot released per record). Here a span
//! is pushed under a lock no other thread usually holds (an uncontended
//! lock and unlock), is read in place by the writer, and once the vectors
//! have grown to a busy turn's batch nothing is allocated.
//!
//! Each vector holds at most `capacity` spans, the queue's whole size: a
//! single busy thread (the usual case) has the room it had in the queue;
//! all of them together may hold four times it, and only while the writer
//! is behind (a vector grows as it fills; the queue allocated its slots
//! up front). A span pushed onto a full one is dropped and counted, as a
//! full queue did. The writer is woken by its clock; a thread recording
//! faster than one turn of it holds also wakes it, once, when its vector
//! is half full.

use crate::span::Span;
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// How many vectors: the engine's busy threads (its async workers) are
/// few, and the writer looks at each every turn.
pub(crate) const SHARDS: usize = 4;

/// One vector on its own cache lines: two threads pushing onto
/// neighbouring vectors must not take turns with one line.
#[repr(align(128))]
struct Shard(Mutex<Vec<Span>>);

/// What became of a pushed span.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    Kept,
    /// Kept, and its vector is now half full: wake the writer.
    HalfFull,
    /// Dropped: its vector is full (count it).
    Full,
}

pub(crate) struct SpanBuffers {
    shards: [Shard; SHARDS],
    cap: usize,
}

impl SpanBuffers {
    /// Buffers holding up to `capacity` spans each (at least 16).
    pub fn new(capacity: usize) -> SpanBuffers {
        SpanBuffers {
            shards: std::array::from_fn(|_| Shard(Mutex::new(Vec::new()))),
            cap: capacity.max(16),
        }
    }

    /// Adds a span to this thread's vector, or drops it when that is full.
    pub fn push(&self, span: Span) -> Pushed {
        let mut spans = lock(&self.shards[this_thread()].0);
        if spans.len() >= self.cap {
            // Dropped outside the lock.
            drop(spans);
            drop(span);
            return Pushed::Full;
        }
        spans.push(span);
        if spans.len() == self.cap / 2 {
            Pushed::HalfFull
        } else {
            Pushed::Kept
        }
    }

    /// How many spans wait, in all the vectors.
    pub fn waiting(&self) -> usize {
        self.shards.iter().map(|s| lock(&s.0).len()).sum()
    }

    /// Vector `i`'s spans, `spare` (emptied) taking its place.
    pub fn take(&self, i: usize, mut spare: Vec<Span>) -> Vec<Span> {
        spare.clear();
        std::mem::replace(&mut *lock(&self.shards[i].0), spare)
    }
}

/// The vector this thread pushes onto, chosen at its first span.
fn this_thread() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    SHARD.with(|s| {
        let mut i = s.get();
        if i == usize::MAX {
            i = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
            s.set(i);
        }
        i
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SpanId, SpanKind};
    use std::sync::Arc;

    fn span(i: u64) -> Span {
        Span::new(
            "t",
            SpanId::from_u64(i).unwrap(),
            None,
            Arc::from("x"),
            SpanKind::Handler,
        )
    }

    #[test]
    fn spans_come_out_once_and_a_full_buffer_drops_them() {
        let b = SpanBuffers::new(20);
        let mut refused = 0;
        let mut wake = Vec::new();
        for i in 1..=30 {
            match b.push(span(i)) {
                Pushed::HalfFull => wake.push(i),
                Pushed::Kept => {}
                Pushed::Full => refused += 1,
            }
        }
        assert_eq!(refused, 10, "one thread, one buffer of 20");
        assert_eq!(wake, [10], "woken once, half full");
        assert_eq!(b.waiting(), 20);
        let mut all: Vec<u64> = (0..SHARDS)
            .flat_map(|i| b.take(i, Vec::new()))
            .map(|s| s.span_id.as_u64())
            .collect();
        all.sort_unstable();
        assert_eq!(all, (1..=20).collect::<Vec<_>>());
        assert!((0..SHARDS).all(|i| b.take(i, Vec::new()).is_empty()));
    }
}
