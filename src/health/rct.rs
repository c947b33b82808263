//! The Repetition Count Test, SP 800-90B section 4.4.1: a run of one symbol
//! as long as the cutoff fails. Its cutoff is in [`rct_cutoff`](super::rct_cutoff).

use super::levels::{HealthCutoffs, level_of};
use super::{HealthFailure, HealthStats, HealthTest, reached};

/// The RCT's state: the current run and its failure, if any.
pub(super) struct Rct {
    symbol: zeroize::Zeroizing<u8>,
    run: u32,
    /// The failure of the current run, reported again for every further
    /// sample of the same run.
    failed: Option<HealthFailure>,
}

impl Rct {
    pub(super) fn new() -> Rct {
        Rct {
            symbol: zeroize::Zeroizing::new(0),
            run: 0,
            failed: None,
        }
    }

    /// Counts `symbol` into the run; fails at the cutoffs.
    pub(super) fn step(
        &mut self,
        symbol: u8,
        cutoffs: &HealthCutoffs,
        during_startup: bool,
        stats: &mut HealthStats,
    ) -> Option<HealthFailure> {
        if self.run > 0 && symbol == *self.symbol {
            self.run = self.run.saturating_add(1);
        } else {
            *self.symbol = symbol;
            self.run = 1;
            self.failed = None;
        }
        stats.max_rct_run = stats.max_rct_run.max(self.run);
        let (level, cutoff) = level_of(self.run, cutoffs.rct_intermittent, cutoffs.rct_permanent)?;
        reached(
            &mut self.failed,
            stats,
            HealthTest::Rct,
            level,
            self.run,
            cutoff,
            during_startup,
            0,
        )
    }
}
