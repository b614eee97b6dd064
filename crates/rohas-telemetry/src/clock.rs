//! The wall-clock times spans and log lines carry, on one clock.
//!
//! A span's start is a wall-clock time and its duration is measured on the
//! monotonic clock. Reading the wall clock for each start put a child span
//! outside its parent whenever the system slewed or stepped the wall clock
//! between the two reads (a virtual machine's clock does, by microseconds,
//! under load): "ran while its parent did" stopped being true in the
//! stored trace. So a start is the monotonic instant plus one offset, and
//! every time in the process moves on the same clock. The writer thread
//! compares the offset with the wall clock between batches and follows it
//! when they differ by more than [`FOLLOW_AFTER`]: a real clock step is
//! taken within a batch, sub-millisecond slews never split a trace. It is
//! also one clock read per span instead of two.
//!
//! The hot path reads the monotonic clock as plain nanoseconds
//! ([`mono_ns`], one `clock_gettime`, the clock `Instant` reads on Linux):
//! an `Instant` turned into nanoseconds goes through `Duration`'s checked
//! arithmetic twice per span, which callgrind counted at about 150
//! instructions a request.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// How far the wall clock may drift from the offset before it is followed.
pub(crate) const FOLLOW_AFTER_NS: u64 = 1_000_000;

struct Clock {
    base: Instant,
    /// [`mono_ns`] at `base`.
    base_mono: u64,
    /// Wall-clock nanoseconds at `base`.
    offset: AtomicU64,
}

fn clock() -> &'static Clock {
    static CLOCK: OnceLock<Clock> = OnceLock::new();
    CLOCK.get_or_init(|| {
        let base = Instant::now();
        Clock {
            base,
            base_mono: mono_ns(),
            offset: AtomicU64::new(wall_ns()),
        }
    })
}

/// The monotonic clock in nanoseconds (since boot): what a span's
/// duration is measured on.
pub(crate) fn mono_ns() -> u64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid, writable timespec; CLOCK_MONOTONIC always
    // exists on the systems Rohas runs on, and on an error `t` stays zero.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
    (t.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(t.tv_nsec as u64)
}

/// Nanoseconds since the Unix epoch at the monotonic reading `mono`
/// (a [`mono_ns`] value).
pub(crate) fn ns_at_mono(mono: u64) -> u64 {
    let c = clock();
    let offset = c.offset.load(Ordering::Relaxed);
    if mono >= c.base_mono {
        offset.saturating_add(mono - c.base_mono)
    } else {
        offset.saturating_sub(c.base_mono - mono)
    }
}

fn wall_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn since_base(at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(clock().base).as_nanos()).unwrap_or(u64::MAX)
}

/// Nanoseconds since the Unix epoch at `at` (which may be before the
/// clock's first use).
pub fn ns_at(at: Instant) -> u64 {
    let c = clock();
    let offset = c.offset.load(Ordering::Relaxed);
    match at.checked_duration_since(c.base) {
        Some(after) => offset.saturating_add(u64::try_from(after.as_nanos()).unwrap_or(u64::MAX)),
        None => {
            let before = c.base.duration_since(at);
            offset.saturating_sub(u64::try_from(before.as_nanos()).unwrap_or(u64::MAX))
        }
    }
}

/// Move the offset to the wall clock if they are more than
/// [`FOLLOW_AFTER_NS`] apart; `true` when it moved.
pub(crate) fn follow_wall_clock() -> bool {
    let c = clock();
    let mono = since_base(Instant::now());
    let wall = wall_ns();
    let ours = c.offset.load(Ordering::Relaxed).saturating_add(mono);
    if wall.abs_diff(ours) <= FOLLOW_AFTER_NS {
        return false;
    }
    c.offset.store(wall.saturating_sub(mono), Ordering::Relaxed);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One test: both read and move the process's one offset.
    #[test]
    fn times_follow_the_monotonic_clock_and_a_wall_clock_step() {
        let a = Instant::now();
        let b = a + std::time::Duration::from_micros(250);
        assert_eq!(ns_at(b) - ns_at(a), 250_000, "one clock: differences are exact");
        let m = mono_ns();
        assert_eq!(ns_at_mono(m + 1_000) - ns_at_mono(m), 1_000);
        assert!(
            ns_at_mono(m).abs_diff(ns_at(Instant::now())) < 50 * FOLLOW_AFTER_NS,
            "the same clock as Instant"
        );
        follow_wall_clock();
        let now = ns_at(Instant::now());
        assert!(
            now.abs_diff(wall_ns()) < 50 * FOLLOW_AFTER_NS,
            "{now} vs the wall clock"
        );

        let c = clock();
        let before = c.offset.load(Ordering::Relaxed);
        // As if the wall clock had stepped a second back since the offset.
        c.offset.store(before + 1_000_000_000, Ordering::Relaxed);
        assert!(follow_wall_clock());
        assert!(ns_at(Instant::now()).abs_diff(wall_ns()) <= FOLLOW_AFTER_NS);
        assert!(!follow_wall_clock(), "nothing more to follow");
    }
}
