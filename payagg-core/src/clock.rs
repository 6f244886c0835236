//! Injectable time, so signing and verification are deterministic in tests.

use std::fmt;
use std::sync::Mutex;

use time::{Duration, OffsetDateTime, UtcOffset};

/// China Standard Time, the offset every Chinese channel writes its times in.
pub const CHINA_OFFSET: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// A source of the current time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now.
    fn now(&self) -> OffsetDateTime;

    /// Now in China Standard Time (+08:00).
    fn now_china(&self) -> OffsetDateTime {
        self.now().to_offset(CHINA_OFFSET)
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that stands still until told to move: for tests and the simulator.
///
/// ```
/// use payagg_core::clock::{Clock, ManualClock};
/// use time::{Duration, macros::datetime};
///
/// let clock = ManualClock::new(datetime!(2024-05-20 10:00 +08:00));
/// clock.advance(Duration::minutes(6));
/// assert_eq!(clock.now(), datetime!(2024-05-20 10:06 +08:00));
/// ```
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    /// A clock showing `at`.
    #[must_use]
    pub fn new(at: OffsetDateTime) -> Self {
        Self(Mutex::new(at))
    }

    /// Move forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut t = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *t += by;
    }

    /// Show `at` from now on.
    pub fn set(&self, at: OffsetDateTime) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Whether `at` lies within `window` of `now` (in either direction): the replay-window check
/// every channel's response and callback verification uses.
#[must_use]
pub fn within_window(now: OffsetDateTime, at: OffsetDateTime, window: Duration) -> bool {
    (now - at).abs() <= window
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn window() {
        let now = datetime!(2024-05-20 10:00 UTC);
        assert!(within_window(
            now,
            now - Duration::minutes(5),
            Duration::minutes(5)
        ));
        assert!(!within_window(
            now,
            now - Duration::seconds(301),
            Duration::minutes(5)
        ));
        assert!(!within_window(
            now,
            now + Duration::seconds(301),
            Duration::minutes(5)
        ));
    }

    #[test]
    fn china_time() {
        let c = ManualClock::new(datetime!(2024-05-20 16:00 UTC));
        assert_eq!(c.now_china().hour(), 0);
        assert_eq!(c.now_china().offset(), CHINA_OFFSET);
    }
}
