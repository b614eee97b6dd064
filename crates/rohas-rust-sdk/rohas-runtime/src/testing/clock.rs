//! The harness's fake clock: what [`crate::now`] and `State::now` return
//! while a handler runs under the harness, and when delayed events are due.
//! It moves only when a test moves it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A clock that stands still until [`Clock::advance`] or [`Clock::set`].
/// Cloning shares it.
#[derive(Debug, Clone)]
pub struct Clock {
    now: Arc<Mutex<SystemTime>>,
}

impl Clock {
    /// Where a harness's clock starts unless told otherwise:
    /// 2025-01-01T00:00:00Z, so a test's times are the same on every run.
    pub const DEFAULT_START: Duration = Duration::from_secs(1_735_689_600);

    pub fn starting_at(start: SystemTime) -> Clock {
        Clock {
            now: Arc::new(Mutex::new(start)),
        }
    }

    pub fn now(&self) -> SystemTime {
        *self.lock()
    }

    /// Move the clock forward; delayed events that became due run on the
    /// harness's next `run_due`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.lock();
        *now += by;
    }

    pub fn set(&self, to: SystemTime) {
        *self.lock() = to;
    }

    /// The time as RFC 3339 (UTC, milliseconds), as the engine writes
    /// event timestamps and cron's `scheduled_at`.
    pub fn rfc3339(&self) -> String {
        rfc3339(self.now())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SystemTime> {
        self.now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::starting_at(UNIX_EPOCH + Clock::DEFAULT_START)
    }
}

/// `time` as `2025-01-01T00:00:00.000Z` (times before 1970 print as 1970).
pub fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}
