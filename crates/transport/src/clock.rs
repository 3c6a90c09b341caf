//! [`Clock`]: the time source of the breaker and of `Retry-After` dates, so tests
//! can drive time by hand.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

/// Where the transport reads the time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Monotonic now.
    fn now(&self) -> Instant;
    /// Wall-clock now (for HTTP dates).
    fn system_now(&self) -> SystemTime;
}

/// tokio's clock (so `tokio::time::pause` applies) and the system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn system_now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told; clones share the time.
///
/// ```
/// use std::time::Duration;
/// use gar_transport::clock::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// let t0 = clock.now();
/// clock.advance(Duration::from_secs(30));
/// assert_eq!(clock.now() - t0, Duration::from_secs(30));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    start: Instant,
    system_start: SystemTime,
    elapsed: Arc<Mutex<Duration>>,
}

impl ManualClock {
    /// A clock at the current time that stands still.
    pub fn new() -> Self {
        Self::at(SystemTime::now())
    }

    /// A clock whose wall time starts at `system`.
    pub fn at(system: SystemTime) -> Self {
        Self {
            start: Instant::now(),
            system_start: system,
            elapsed: Arc::new(Mutex::new(Duration::ZERO)),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut elapsed = self.elapsed.lock().unwrap_or_else(PoisonError::into_inner);
        *elapsed = elapsed.saturating_add(by);
    }

    fn elapsed(&self) -> Duration {
        *self.elapsed.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        let elapsed = self.elapsed();
        self.start.checked_add(elapsed).unwrap_or(self.start)
    }

    fn system_now(&self) -> SystemTime {
        let elapsed = self.elapsed();
        self.system_start
            .checked_add(elapsed)
            .unwrap_or(self.system_start)
    }
}
