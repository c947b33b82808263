//! A repetition count test on each position of a pass (kqseed's own), for
//! a seeder that credits whole passes or their thirds
//! ([`StartupReport::whole_passes`](crate::StartupReport::whole_passes)).
//!
//! There no kernel path is a source of its own: each pass, or each third of
//! it, is summed into one sample, and its tests see the sum. A path stuck at
//! one value only shifts the sum of its third, which the third's other paths
//! keep varying, so the third's RCT, APT and predictor pass it while the
//! third's credit stands on fewer live paths than its ceiling was measured
//! on (a review's replay: the four socket drains and the inotify drain
//! stuck, every third still credited as before). This test keeps, for each
//! position of a pass (its n-th sample after the wait's return), the run of
//! passes in which that position repeated its path and symbol, and fails
//! the run at the RCT's cutoffs (SP 800-90B section 4.4.1) for the least
//! credit any source is given, [`CREDIT_STEP`] (1/16 bit): a position that
//! carries less than that is no source of the pass's entropy, and one that
//! carries at least that repeats this long with probability under alpha.

use zeroize::Zeroizing;

use super::levels::level_of;
use super::{HealthFailure, HealthStats, HealthTest, reached};
use crate::collector::KernelPath;
use crate::credit::CREDIT_STEP;
use crate::sys::MAX_MARKS;

/// The position repetition test: each position of a pass compared with the
/// same position of the passes before, as its path and symbol (the first 32
/// positions, as many as a pass keeps marks). A seeder that credits whole
/// passes or thirds runs one over the per-path samples they are summed
/// from; feed it every such sample, in order.
///
/// ```
/// use kqseed::KernelPath;
/// use kqseed::health::{FailureLevel, PositionRepetition};
///
/// let mut positions = PositionRepetition::new();
/// let mut failure = None;
/// // Passes of a timer read, a socket drain and the wait, the drain stuck
/// // at symbol 7 while the others vary. At the default alphas (2^-30 and
/// // 2^-60) the cutoffs are 1 + 30 x 16 = 481 and 1 + 60 x 16 = 961 passes.
/// for pass in 0..961u32 {
///     for (path, symbol) in [
///         (KernelPath::TimerRead, pass as u8),
///         (KernelPath::SocketDrain, 7),
///         (KernelPath::Wait, (pass * 3) as u8),
///     ] {
///         if let Some(f) = positions.feed(path, symbol, (30, 60)) {
///             failure.get_or_insert(f);
///             if f.is_permanent() {
///                 assert_eq!((pass, f.observed), (960, 961));
///             }
///         }
///     }
/// }
/// let failure = failure.expect("refused");
/// assert_eq!((failure.level, failure.observed), (FailureLevel::Intermittent, 481));
/// ```
pub struct PositionRepetition {
    /// Each position's last path and symbol.
    last: Zeroizing<[u16; MAX_MARKS]>,
    /// Each position's passes in a row with the same path and symbol.
    runs: [u32; MAX_MARKS],
    /// Each position's failure of its current run.
    failed: [Option<HealthFailure>; MAX_MARKS],
    /// The position of the next sample in its pass.
    position: usize,
    stats: HealthStats,
}

impl Default for PositionRepetition {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for PositionRepetition {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // No symbols: they are the samples' low bytes.
        f.debug_struct("PositionRepetition")
            .field("longest_run", &self.runs.iter().max())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl PositionRepetition {
    /// A test that has seen no pass.
    pub fn new() -> PositionRepetition {
        PositionRepetition {
            last: Zeroizing::new([0; MAX_MARKS]),
            runs: [0; MAX_MARKS],
            failed: [None; MAX_MARKS],
            position: 0,
            stats: HealthStats::default(),
        }
    }

    /// One per-path sample of `path` with its `symbol`: this test's failure,
    /// if its position's run reached a cutoff (reported again for every
    /// further pass of the same run). A wait closes the pass: the next
    /// sample is position 0. `alpha_log2`: the intermittent and permanent
    /// `-log2(alpha)` of the health configuration.
    pub fn feed(
        &mut self,
        path: KernelPath,
        symbol: u8,
        (intermittent, permanent): (u32, u32),
    ) -> Option<HealthFailure> {
        let position = self.position;
        self.position = if path == KernelPath::Wait {
            0
        } else {
            position.saturating_add(1)
        };
        let slot = position < MAX_MARKS;
        if !slot {
            return None;
        }
        let mark = (path.index() as u16) << 8 | u16::from(symbol);
        if self.runs[position] > 0 && self.last[position] == mark {
            self.runs[position] = self.runs[position].saturating_add(1);
        } else {
            self.last[position] = mark;
            self.runs[position] = 1;
            self.failed[position] = None;
        }
        let cutoff = |alpha_log2: u32| 1 + (f64::from(alpha_log2) / CREDIT_STEP).ceil() as u32;
        let run = self.runs[position];
        let (level, cutoff) = level_of(run, cutoff(intermittent), cutoff(permanent))?;
        reached(
            &mut self.failed[position],
            &mut self.stats,
            HealthTest::PositionRepetition,
            level,
            run,
            cutoff,
            false,
            0,
        )
    }

    /// The next sample opens a pass at position 0 (the collector restarted
    /// its pairs of marks, as [`PassCut::restart`](crate::PassCut::restart)).
    /// The runs go on: a stuck path stays stuck across a pause.
    pub fn restart(&mut self) {
        self.position = 0;
    }

    /// Its failures so far (the position repetition counts only: the
    /// samples are counted by the sources their sums go to).
    pub fn stats(&self) -> &HealthStats {
        &self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::FailureLevel;

    const ALPHAS: (u32, u32) = (30, 60);
    const SHAPE: [KernelPath; 4] = [
        KernelPath::TimerRead,
        KernelPath::SocketDrain,
        KernelPath::SocketDrain,
        KernelPath::Wait,
    ];

    /// Feeds `passes` passes of SHAPE, position `stuck` at one symbol and
    /// the others varying; every failure.
    fn run(t: &mut PositionRepetition, passes: u32, stuck: usize) -> Vec<(u32, HealthFailure)> {
        let mut failures = Vec::new();
        for pass in 0..passes {
            for (i, &path) in SHAPE.iter().enumerate() {
                let symbol = if i == stuck {
                    42
                } else {
                    (pass.wrapping_mul(7) + i as u32) as u8
                };
                if let Some(f) = t.feed(path, symbol, ALPHAS) {
                    failures.push((pass, f));
                }
            }
        }
        failures
    }

    #[test]
    fn a_stuck_position_fails_at_the_cutoffs_of_a_sixteenth_of_a_bit() {
        for stuck in 0..SHAPE.len() {
            let mut t = PositionRepetition::new();
            let failures = run(&mut t, 1000, stuck);
            let (first_pass, first) = failures[0];
            assert_eq!(first_pass, 480, "position {stuck}");
            assert_eq!(first.level, FailureLevel::Intermittent);
            assert_eq!((first.observed, first.cutoff), (481, 481));
            assert_eq!(first.test, HealthTest::PositionRepetition);
            // Every further pass of the run fails too, until it is
            // permanent at 961.
            assert_eq!(failures.len(), 1000 - 480);
            let permanent: Vec<_> = failures.iter().filter(|(_, f)| f.is_permanent()).collect();
            assert_eq!(permanent[0].0, 960);
            assert_eq!(t.stats().position_repetition_intermittent, 1);
            assert_eq!(t.stats().position_repetition_permanent, 1);
        }
    }

    #[test]
    fn varying_positions_and_a_changing_path_never_fail() {
        let mut t = PositionRepetition::new();
        assert!(run(&mut t, 2000, usize::MAX).is_empty());
        // One symbol at a position, but the path there alternates (a pass
        // whose events came in another order): not a run.
        let mut t = PositionRepetition::new();
        for pass in 0..2000u32 {
            let path = if pass % 2 == 0 {
                KernelPath::SocketDrain
            } else {
                KernelPath::FileDrain
            };
            assert_eq!(t.feed(path, 9, ALPHAS), None);
            assert_eq!(t.feed(KernelPath::Wait, pass as u8, ALPHAS), None);
        }
    }

    #[test]
    fn a_broken_run_starts_again_and_clears_its_failure() {
        let mut t = PositionRepetition::new();
        assert_eq!(run(&mut t, 500, 1).len(), 500 - 480);
        // One pass with the stuck position changed: its run restarts.
        for (i, &path) in SHAPE.iter().enumerate() {
            assert_eq!(t.feed(path, 200 + i as u8, ALPHAS), None);
        }
        let again = run(&mut t, 500, 1);
        assert_eq!(again[0].0, 480);
        assert_eq!(t.stats().position_repetition_intermittent, 2);
    }

    #[test]
    fn positions_past_the_marks_a_pass_keeps_are_not_tested() {
        let mut t = PositionRepetition::new();
        for pass in 0..1000u32 {
            // The first MAX_MARKS positions vary, the eight after them and
            // the wait are stuck: only the first MAX_MARKS count.
            for i in 0..MAX_MARKS + 8 {
                let symbol = if i < MAX_MARKS {
                    (pass.wrapping_mul(7) + i as u32) as u8
                } else {
                    1
                };
                assert_eq!(t.feed(KernelPath::SocketPoke, symbol, ALPHAS), None);
            }
            assert_eq!(t.feed(KernelPath::Wait, 3, ALPHAS), None);
        }
        assert_eq!(t.stats().position_repetition_intermittent, 0);
    }
}
