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
use super::{HealthConfig, HealthFailure, HealthStats, HealthTest, escalate_or_latch, reached};
use crate::collector::KernelPath;
use crate::credit::CREDIT_STEP;
use crate::sys::MAX_MARKS;

/// The position repetition test: each position of a pass compared with the
/// same position of the passes before, as its path and symbol (the first 32
/// positions, as many as a pass keeps marks). A seeder that credits whole
/// passes or thirds runs one over the per-path samples they are summed
/// from; feed it every such sample, in order, and tell it of each output
/// ([`note_output`](Self::note_output)) and restart
/// ([`restart`](Self::restart)).
///
/// Positions count from the first wait's return it sees: the samples
/// before it, of a pass begun elsewhere, are not tested.
///
/// ```
/// use kqseed::health::{FailureLevel, HealthConfig, PositionRepetition};
/// use kqseed::KernelPath;
///
/// let mut positions = PositionRepetition::new(&HealthConfig::default());
/// let mut failure = None;
/// // Passes of a timer read, a socket drain and the wait, the drain stuck
/// // at symbol 7 while the others vary. At the default alphas (2^-30 and
/// // 2^-60) the cutoffs are 1 + 30 x 16 = 481 and 1 + 60 x 16 = 961 passes;
/// // the first pass, before any wait, is not counted.
/// for pass in 0..962u32 {
///     for (path, symbol) in [
///         (KernelPath::TimerRead, pass as u8),
///         (KernelPath::SocketDrain, 7),
///         (KernelPath::Wait, (pass * 3) as u8),
///     ] {
///         if let Err(f) = positions.feed(path, symbol) {
///             failure.get_or_insert(f);
///             if f.is_permanent() {
///                 assert_eq!((pass, f.observed), (961, 961));
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
    /// The position of the next sample in its pass; `None` until a wait's
    /// return (at the start, and after a restart) says where passes begin.
    position: Option<usize>,
    /// The run cutoffs, intermittent and permanent, in passes.
    cutoffs: (u32, u32),
    /// Intermittent failures without an output in between allowed before
    /// the next one is permanent.
    max_intermittent_retries: u32,
    latched: Option<HealthFailure>,
    stats: HealthStats,
}

impl core::fmt::Debug for PositionRepetition {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // No symbols: they are the samples' low bytes.
        f.debug_struct("PositionRepetition")
            .field("cutoffs", &self.cutoffs)
            .field("longest_run", &self.runs.iter().max())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl PositionRepetition {
    /// A test that has seen no pass, with the alphas and the escalation of
    /// `config`: runs fail at `1 + ceil(-log2(alpha) / (1/16))` passes.
    pub fn new(config: &HealthConfig) -> PositionRepetition {
        // Clamped as the pass repetition test's: a run never reaches more.
        let cutoff =
            |alpha_log2: u32| 1 + (f64::from(alpha_log2) / CREDIT_STEP).ceil().min(1e6) as u32;
        PositionRepetition {
            last: Zeroizing::new([0; MAX_MARKS]),
            runs: [0; MAX_MARKS],
            failed: [None; MAX_MARKS],
            position: None,
            cutoffs: (
                cutoff(config.alpha_intermittent_log2),
                cutoff(config.alpha_permanent_log2),
            ),
            max_intermittent_retries: config.max_intermittent_retries,
            latched: None,
            stats: HealthStats::default(),
        }
    }

    /// One per-path sample of `path` with its `symbol`: this test's failure,
    /// if its position's run reached a cutoff (reported again for every
    /// further pass of the same run), or if a permanent one latched. A
    /// wait's return closes the pass: the next sample is position 0. An
    /// intermittent failure after more than `max_intermittent_retries`
    /// without an output in between is permanent, as the other tests'.
    pub fn feed(&mut self, path: KernelPath, symbol: u8) -> Result<(), HealthFailure> {
        if let Some(latched) = self.latched {
            return Err(latched);
        }
        let Some(position) = self.position else {
            if path == KernelPath::Wait {
                self.position = Some(0);
            }
            return Ok(());
        };
        self.position = Some(if path == KernelPath::Wait {
            0
        } else {
            position.saturating_add(1)
        });
        if position >= MAX_MARKS {
            return Ok(());
        }
        let mark = (path.index() as u16) << 8 | u16::from(symbol);
        if self.runs[position] > 0 && self.last[position] == mark {
            self.runs[position] = self.runs[position].saturating_add(1);
        } else {
            self.last[position] = mark;
            self.runs[position] = 1;
            self.failed[position] = None;
        }
        let run = self.runs[position];
        let Some((level, cutoff)) = level_of(run, self.cutoffs.0, self.cutoffs.1) else {
            return Ok(());
        };
        let new_event = self.failed[position].is_none_or(|f| f.level != level);
        let Some(mut failure) = reached(
            &mut self.failed[position],
            &mut self.stats,
            HealthTest::PositionRepetition,
            level,
            run,
            cutoff,
            false,
            0,
        ) else {
            return Ok(());
        };
        // Only a new failing run counts towards escalation, not every
        // further pass of one.
        let retries = if new_event {
            self.max_intermittent_retries
        } else {
            u32::MAX
        };
        escalate_or_latch(&mut failure, &mut self.stats, retries, &mut self.latched);
        Err(failure)
    }

    /// The next samples are of a pass begun before a pause (the collector
    /// restarted its pairs of marks): positions are counted again from the
    /// next wait's return, as [`PassCut::restart`](crate::PassCut::restart)
    /// sums. The runs go on: a stuck path stays stuck across a pause.
    pub fn restart(&mut self) {
        self.position = None;
    }

    /// A block was released: intermittent failures before it no longer
    /// count towards escalation.
    pub fn note_output(&mut self) {
        self.stats.intermittent_since_output = 0;
    }

    /// Its failures so far (the position repetition counts and
    /// escalations only: the samples are counted by the sources their sums
    /// go to).
    pub fn stats(&self) -> &HealthStats {
        &self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::FailureLevel;

    const SHAPE: [KernelPath; 4] = [
        KernelPath::TimerRead,
        KernelPath::SocketDrain,
        KernelPath::SocketDrain,
        KernelPath::Wait,
    ];

    fn test() -> PositionRepetition {
        PositionRepetition::new(&HealthConfig::default())
    }

    /// Feeds `passes` passes of SHAPE, position `stuck` at one symbol and
    /// the others varying; every failure, with its pass.
    fn run(t: &mut PositionRepetition, passes: u32, stuck: usize) -> Vec<(u32, HealthFailure)> {
        let mut failures = Vec::new();
        for pass in 0..passes {
            for (i, &path) in SHAPE.iter().enumerate() {
                let symbol = if i == stuck {
                    42
                } else {
                    (pass.wrapping_mul(7) + i as u32) as u8
                };
                if let Err(f) = t.feed(path, symbol) {
                    failures.push((pass, f));
                }
            }
        }
        failures
    }

    #[test]
    fn a_stuck_position_fails_at_the_cutoffs_of_a_sixteenth_of_a_bit() {
        for stuck in 0..SHAPE.len() {
            let mut t = test();
            let failures = run(&mut t, 1000, stuck);
            // The first pass comes before any wait: its positions are not
            // known, and its wait only says where the next pass begins.
            let first_pass = 481;
            let (pass, first) = failures[0];
            assert_eq!(pass, first_pass, "position {stuck}");
            assert_eq!(first.level, FailureLevel::Intermittent);
            assert_eq!((first.observed, first.cutoff), (481, 481));
            assert_eq!(first.test, HealthTest::PositionRepetition);
            // Every further pass of the run fails too, permanent at 961,
            // and then every sample: it latched.
            let permanent = failures.iter().position(|(_, f)| f.is_permanent());
            let (pass, f) = failures[permanent.expect("permanent")];
            assert_eq!((pass, f.observed), (first_pass + 480, 961));
            assert_eq!(t.feed(KernelPath::Wait, 1), Err(f));
            assert_eq!(t.stats().position_repetition_intermittent, 1);
            assert_eq!(t.stats().position_repetition_permanent, 1);
        }
    }

    #[test]
    fn varying_positions_and_a_changing_path_never_fail() {
        let mut t = test();
        assert!(run(&mut t, 2000, usize::MAX).is_empty());
        // One symbol at a position, but the path there alternates (a pass
        // whose events came in another order): not a run.
        let mut t = test();
        for pass in 0..2000u32 {
            let path = if pass % 2 == 0 {
                KernelPath::SocketDrain
            } else {
                KernelPath::FileDrain
            };
            assert_eq!(t.feed(path, 9), Ok(()));
            assert_eq!(t.feed(KernelPath::Wait, pass as u8), Ok(()));
        }
    }

    #[test]
    fn broken_runs_start_again_and_escalate_without_output() {
        let mut t = test();
        let retries = HealthConfig::default().max_intermittent_retries;
        for round in 1..=retries + 1 {
            let failures = run(&mut t, 490, 1);
            let last = failures.last().expect("failed").1;
            if round <= retries {
                assert_eq!(last.level, FailureLevel::Intermittent, "round {round}");
            } else {
                // Past the retries without output: permanent, latched.
                assert!(last.is_permanent() && last.escalated_after > retries);
                assert_eq!(t.feed(KernelPath::TimerRead, 200), Err(last));
                break;
            }
            // One pass with the stuck position changed breaks the run.
            for (i, &path) in SHAPE.iter().enumerate() {
                assert_eq!(t.feed(path, 200 + i as u8), Ok(()));
            }
        }
        assert_eq!(t.stats().escalations, 1);
        // With an output between the runs, no escalation.
        let mut t = test();
        for _ in 0..retries + 3 {
            let failures = run(&mut t, 490, 1);
            assert!(failures.iter().all(|(_, f)| !f.is_permanent()));
            t.note_output();
            for (i, &path) in SHAPE.iter().enumerate() {
                assert_eq!(t.feed(path, 200 + i as u8), Ok(()));
            }
        }
    }

    #[test]
    fn a_restart_waits_for_the_next_wait_and_keeps_the_runs() {
        let mut t = test();
        let mut failures = 0;
        for pass in 0..600u32 {
            if pass % 14 == 5 {
                // A pause mid-pass: the rest of this pass, then a pass that
                // lost its wait's return, as the collector gives them.
                t.restart();
                for &path in &SHAPE[2..3] {
                    assert_eq!(t.feed(path, 42), Ok(()));
                }
                assert_eq!(t.feed(KernelPath::TimerRead, 1), Ok(()));
                assert_eq!(t.feed(KernelPath::SocketDrain, 42), Ok(()));
                assert_eq!(t.feed(KernelPath::SocketDrain, 2), Ok(()));
            }
            for (i, &path) in SHAPE.iter().enumerate() {
                let symbol = if i == 1 {
                    42
                } else {
                    (pass * 7 + i as u32) as u8
                };
                failures += usize::from(t.feed(path, symbol).is_err());
            }
        }
        // The stuck drain's run went on through every pause.
        assert!(failures > 0);
        assert_eq!(t.stats().position_repetition_intermittent, 1);
    }

    #[test]
    fn positions_past_the_marks_a_pass_keeps_are_not_tested() {
        let mut t = test();
        for pass in 0..1000u32 {
            // The first MAX_MARKS positions vary, the eight after them and
            // the wait are stuck: only the first MAX_MARKS count.
            for i in 0..MAX_MARKS + 8 {
                let symbol = if i < MAX_MARKS {
                    (pass.wrapping_mul(7) + i as u32) as u8
                } else {
                    1
                };
                assert_eq!(t.feed(KernelPath::SocketPoke, symbol), Ok(()));
            }
            assert_eq!(t.feed(KernelPath::Wait, 3), Ok(()));
        }
        assert_eq!(t.stats().position_repetition_intermittent, 0);
    }

    #[test]
    fn extreme_alphas_clamp_the_cutoffs() {
        let config = HealthConfig {
            alpha_intermittent_log2: u32::MAX,
            alpha_permanent_log2: u32::MAX,
            ..HealthConfig::default()
        };
        let t = PositionRepetition::new(&config);
        assert_eq!(t.cutoffs, (1_000_001, 1_000_001));
    }
}
