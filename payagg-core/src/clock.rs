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

/// `YYYY-MM-DD hh:mm:ss` in China time, read straight from the bytes: the local-time format
/// of WeChat and Alipay bills and of books files. `None` for anything else, including
/// impossible dates such as `2024-02-30` (hot paths call this once per row, so it avoids
/// the format-description machinery).
#[must_use]
pub fn parse_china_datetime(b: &[u8]) -> Option<OffsetDateTime> {
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u16> {
        b[r].iter().try_fold(0u16, |v, &c| {
            c.is_ascii_digit().then(|| v * 10 + u16::from(c - b'0'))
        })
    };
    let small = |r| num(r).and_then(|v| u8::try_from(v).ok());
    let month = time::Month::try_from(small(5..7)?).ok()?;
    let date = time::Date::from_calendar_date(i32::from(num(0..4)?), month, small(8..10)?).ok()?;
    let t = time::Time::from_hms(small(11..13)?, small(14..16)?, small(17..19)?).ok()?;
    Some(time::PrimitiveDateTime::new(date, t).assume_offset(CHINA_OFFSET))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
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
    #[test]
    fn china_datetime_exact_format_only() {
        let t = parse_china_datetime(b"2024-05-20 10:15:32").unwrap();
        assert_eq!(t, datetime!(2024-05-20 10:15:32 +8));
        assert_eq!(
            parse_china_datetime(b"2024-12-31 23:59:59").unwrap(),
            datetime!(2024-12-31 15:59:59 UTC)
        );
        for bad in [
            &b"2024-02-30 10:15:32"[..],
            b"2024-13-01 10:15:32",
            b"2024-05-20 24:00:00",
            b"2024-05-20T10:15:32",
            b"2024-05-20 1a:15:32",
            b"2024-05-20 10:15:3",
            b"2024-05-20 10:15:320",
            b"",
        ] {
            assert_eq!(parse_china_datetime(bad), None, "{bad:?}");
        }
    }
}
