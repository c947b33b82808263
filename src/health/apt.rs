//! The Adaptive Proportion Test, SP 800-90B section 4.4.2: too many copies of
//! a window's first symbol in the window fails. Its cutoff is in
//! [`apt_cutoff`](super::apt_cutoff).

use super::levels::{HealthCutoffs, level_of};
use super::{HealthFailure, HealthStats, HealthTest, reached};

/// The APT's state: the current window's base symbol and its count.
pub(super) struct Apt {
    base: zeroize::Zeroizing<u8>,
    count: u32,
    /// Samples of the current window seen so far, the base included; 0 means
    /// the next sample opens a window.
    seen: u32,
    /// The failure of the current window, reported again for every further
    /// sample of the window.
    failed: Option<HealthFailure>,
}

impl Apt {
    pub(super) fn new() -> Apt {
        Apt {
            base: zeroize::Zeroizing::new(0),
            count: 0,
            seen: 0,
            failed: None,
        }
    }

    /// Counts `symbol` against the window's base; fails at the cutoffs.
    pub(super) fn step(
        &mut self,
        symbol: u8,
        cutoffs: &HealthCutoffs,
        during_startup: bool,
        stats: &mut HealthStats,
    ) -> Option<HealthFailure> {
        if self.seen == 0 {
            *self.base = symbol;
            self.count = 1;
            self.seen = 1;
            self.failed = None;
            return None;
        }
        self.seen += 1;
        if symbol == *self.base {
            self.count += 1;
        }
        if self.seen >= cutoffs.apt_window {
            self.seen = 0;
        }
        stats.max_apt_count = stats.max_apt_count.max(self.count);
        let (level, cutoff) =
            level_of(self.count, cutoffs.apt_intermittent, cutoffs.apt_permanent)?;
        reached(
            &mut self.failed,
            stats,
            HealthTest::Apt,
            level,
            self.count,
            cutoff,
            during_startup,
            0,
        )
    }
}
