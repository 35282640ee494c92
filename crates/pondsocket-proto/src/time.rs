//! Time as the core sees it: instants on the host's monotonic clock, in whole milliseconds. The core reads no clock;
//! every input carries the time, so a test drives it with a simulated one.

use std::ops::{Add, AddAssign};

/// A point in time: milliseconds since an origin the host chooses (`performance.now()`'s in a browser).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    /// The instant `ms` milliseconds after the origin.
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms)
    }

    /// Milliseconds since the origin.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Milliseconds from `earlier` to this instant; 0 if `earlier` is later.
    pub const fn millis_since(self, earlier: Instant) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// An instant `ms` milliseconds later (saturating).
impl Add<u64> for Instant {
    type Output = Instant;

    fn add(self, ms: u64) -> Instant {
        Instant(self.0.saturating_add(ms))
    }
}

impl AddAssign<u64> for Instant {
    fn add_assign(&mut self, ms: u64) {
        *self = *self + ms;
    }
}
