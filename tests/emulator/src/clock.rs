//! Time as the emulator sees it: epoch milliseconds for timestamps on the wire, and the delay each
//! state-transition step takes.
//!
//! Transitions advance lazily: a resource records when it entered its state, and every read compares
//! that with [`Clock::now_ms`]. No background task ticks, so a test with a zero delay never waits.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

/// Wall-clock milliseconds that never go backwards, plus the current transition delay.
#[derive(Debug)]
pub(crate) struct Clock {
    started: Instant,
    started_epoch_ms: u64,
    transition_delay_ms: AtomicU64,
}

impl Clock {
    pub fn new(transition_delay: Duration) -> Self {
        let started_epoch_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, millis);
        Clock {
            started: Instant::now(),
            started_epoch_ms,
            transition_delay_ms: AtomicU64::new(millis(transition_delay)),
        }
    }

    /// Milliseconds since the Unix epoch; monotonic because it counts from an `Instant`.
    pub fn now_ms(&self) -> u64 {
        self.started_epoch_ms + millis(self.started.elapsed())
    }

    /// How long one transition step takes, in milliseconds.
    pub fn transition_delay_ms(&self) -> u64 {
        self.transition_delay_ms.load(Ordering::Relaxed)
    }

    pub fn set_transition_delay(&self, delay: Duration) {
        self.transition_delay_ms.store(millis(delay), Ordering::Relaxed);
    }

    /// Now, with the delay in force now: what an operation needs to advance state machines.
    pub fn moment(&self) -> Moment {
        Moment { now: self.now_ms(), delay_ms: self.transition_delay_ms() }
    }
}

/// The moment an operation happens at, and how long each transition step takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Moment {
    /// Epoch milliseconds.
    pub now: u64,
    pub delay_ms: u64,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The UTC calendar date and time of an epoch-millisecond instant:
/// `(year, month, day, hour, minute, second)`.
///
/// Cluster ids embed the creation date (`MMDD-HHMMSS-xxxxxxxx`); this avoids a date crate for that.
pub(crate) fn civil_from_epoch_ms(ms: u64) -> (i64, u32, u32, u32, u32, u32) {
    let secs = ms / 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, (rem / 3600) as u32, (rem % 3600 / 60) as u32, (rem % 60) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_match_known_instants() {
        assert_eq!(civil_from_epoch_ms(0), (1970, 1, 1, 0, 0, 0));
        // 2024-02-29T13:45:07Z, a leap day.
        assert_eq!(civil_from_epoch_ms(1_709_214_307_000), (2024, 2, 29, 13, 45, 7));
        // 2026-12-31T23:59:59Z.
        assert_eq!(civil_from_epoch_ms(1_798_761_599_000), (2026, 12, 31, 23, 59, 59));
    }

    #[test]
    fn delay_can_change_while_running() {
        let clock = Clock::new(Duration::from_secs(3));
        assert_eq!(clock.transition_delay_ms(), 3000);
        clock.set_transition_delay(Duration::ZERO);
        assert_eq!(clock.transition_delay_ms(), 0);
    }
}
