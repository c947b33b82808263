//! A repetition count test on whole passes (kqseed's own): a pass whose
//! samples repeat the previous pass's, symbol for symbol and path for path,
//! extends a run; the run fails at cutoffs derived from the pass's credit as
//! the RCT's are from a sample's.
//!
//! Each source's own tests see one source. A fault common to all of them (a
//! clock that stopped, or a virtual clock that advances by the same amount
//! for every syscall) makes every source repeat at once, and each source's
//! RCT would let `C_s - 1` of its samples through, credited together far
//! more than one source's `30 + H` bits (a review measured 100.8 bits at the
//! default's fine-clock credits before the first source's test fired). A
//! pass carries the sum of its samples' credits, so this test fires when
//! the `1 + ceil(30 / H_pass)`-th identical pass closes: those passes were
//! credited fewer than `30 + 2 H_pass` bits (a pass is judged when the next
//! one starts), and the failure discards them with the pool.
//!
//! A restart of the collector's pairs (at each request, and between the
//! async seeder's slices) loses the next pass's wait: the seeder says where
//! ([`lost_wait`](PassRepetition::lost_wait)), and that pass opens there
//! with a wait that matches any, so restarts neither end a run nor merge
//! two passes into one that differs.

use zeroize::Zeroizing;

use super::levels::level_of;
use super::{
    DEFAULT_MAX_INTERMITTENT_RETRIES, HealthFailure, HealthStats, HealthTest, escalate_or_latch,
    reached,
};
use crate::collector::KernelPath;
use crate::sys::MAX_MARKS;

/// The lost wait of a pass: equal to any sample in its place. No sample's
/// entry is this (a path's index is under 255).
const LOST_WAIT: u16 = u16::MAX;

/// Whether two passes' entries are the same, a lost wait matching any.
fn same_passes(a: &[u16], b: &[u16]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(&x, &y)| x == y || x == LOST_WAIT || y == LOST_WAIT)
}

/// The pass repetition test: whole passes compared with the one before,
/// each as its samples' paths and symbols (at most 32 of them, as many as a
/// pass keeps marks). The seeder runs one over all its sources; feed it
/// every sample, in order, after the sample's own source's tests, and tell
/// it of each output ([`note_output`](Self::note_output)): an intermittent
/// failure after more than
/// [`with_max_intermittent_retries`](Self::with_max_intermittent_retries)
/// of them without an output in between is permanent, and a permanent
/// failure latches (every later sample fails with it).
///
/// ```
/// use kqseed::KernelPath;
/// use kqseed::health::{FailureLevel, PassRepetition};
///
/// let mut passes = PassRepetition::new();
/// let mut failure = None;
/// // A stuck clock: every pass the same, 2 bits credited a pass (each
/// // sample's own tests passed it at 1 bit). The intermittent cutoff
/// // (alpha = 2^-30) is 1 + 30 / 2 = 16 passes.
/// for _ in 0..17 {
///     for path in [KernelPath::Wait, KernelPath::TimerRead] {
///         if let Err(f) = passes.feed(path, 0, Ok(1000), (30, 60)) {
///             failure.get_or_insert(f);
///         }
///     }
/// }
/// let failure = failure.expect("refused");
/// assert_eq!((failure.level, failure.observed), (FailureLevel::Intermittent, 16));
/// ```
pub struct PassRepetition {
    previous: Zeroizing<[u16; MAX_MARKS]>,
    previous_len: usize,
    current: Zeroizing<[u16; MAX_MARKS]>,
    current_len: usize,
    /// Credit of the current pass's samples, millibits.
    current_millibits: u64,
    /// Credit the previous pass was judged at, millibits.
    previous_millibits: u64,
    /// Identical passes in a row, the latest included.
    run: u32,
    failed: Option<HealthFailure>,
    /// Intermittent failures allowed without an output in between.
    max_intermittent_retries: u32,
    /// A permanent failure (or one escalated to it): every later sample
    /// fails with it.
    latched: Option<HealthFailure>,
    stats: HealthStats,
}

impl Default for PassRepetition {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for PassRepetition {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // No symbols: they are the samples' low bytes.
        f.debug_struct("PassRepetition")
            .field("run", &self.run)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl PassRepetition {
    /// A test that has seen no pass, escalating as the default health
    /// configuration does
    /// ([`DEFAULT_MAX_INTERMITTENT_RETRIES`](super::DEFAULT_MAX_INTERMITTENT_RETRIES)).
    pub fn new() -> PassRepetition {
        PassRepetition {
            previous: Zeroizing::new([0; MAX_MARKS]),
            previous_len: 0,
            current: Zeroizing::new([0; MAX_MARKS]),
            current_len: 0,
            current_millibits: 0,
            previous_millibits: 0,
            run: 0,
            failed: None,
            max_intermittent_retries: DEFAULT_MAX_INTERMITTENT_RETRIES,
            latched: None,
            stats: HealthStats::default(),
        }
    }

    /// With `retries` intermittent failures allowed without an output in
    /// between ([`note_output`](Self::note_output)); the next is permanent,
    /// as [`HealthConfig::max_intermittent_retries`](super::HealthConfig::max_intermittent_retries)
    /// makes the other tests'.
    #[must_use]
    pub fn with_max_intermittent_retries(mut self, retries: u32) -> PassRepetition {
        self.max_intermittent_retries = retries;
        self
    }

    /// One sample of `path` with its `symbol` and `own`, the verdict of its
    /// own source's tests (the millibits it may be credited, or its
    /// failure); returns the sample's verdict with this test's: a permanent
    /// failure of either, else the source's failure, else this test's, else
    /// the credit. Every sample counts towards its pass, failing or not. A
    /// wait (or a whole pass, or a pass's first third) starts a new pass
    /// and closes the last one,
    /// which is compared with the one before. `alpha_log2`: the
    /// intermittent and permanent `-log2(alpha)` of the health
    /// configuration.
    pub fn feed(
        &mut self,
        path: KernelPath,
        symbol: u8,
        own: Result<u32, HealthFailure>,
        alpha_log2: (u32, u32),
    ) -> Result<u32, HealthFailure> {
        let millibits = *own.as_ref().unwrap_or(&0);
        match (own, self.see(path, symbol, millibits, alpha_log2)) {
            (_, Some(mine)) if mine.is_permanent() => Err(mine),
            (Err(theirs), _) | (Ok(_), Some(theirs)) => Err(theirs),
            (Ok(m), None) => Ok(m),
        }
    }

    /// Counts one sample into its pass; this test's failure, if any.
    fn see(
        &mut self,
        path: KernelPath,
        symbol: u8,
        millibits: u32,
        alpha_log2: (u32, u32),
    ) -> Option<HealthFailure> {
        if self.latched.is_some() {
            return self.latched;
        }
        let mut failure = None;
        let opens_a_pass = matches!(
            path,
            KernelPath::Wait | KernelPath::Pass | KernelPath::PassFirstThird
        );
        if opens_a_pass && self.current_len > 0 {
            failure = self.close_or_drop(alpha_log2);
        }
        if let Some(slot) = self.current.get_mut(self.current_len) {
            *slot = (path.index() as u16) << 8 | u16::from(symbol);
            self.current_len += 1;
        }
        self.current_millibits += u64::from(millibits);
        failure
    }

    /// Its failures and the lost waits it was told of so far (the pass
    /// repetition counts and `lost_waits` only).
    pub fn stats(&self) -> &HealthStats {
        &self.stats
    }

    /// The collector lost a pass's wait here (it restarted its pairs, at a
    /// request's start or between the async seeder's slices, and that wait
    /// had no earlier mark to pair with): the pass under way closes, and
    /// the next opens with a wait that matches any, credited nothing.
    /// Returns this test's failure, if closing the pass brought one.
    pub fn lost_wait(&mut self, alpha_log2: (u32, u32)) -> Option<HealthFailure> {
        self.stats.lost_waits += 1;
        if self.latched.is_some() {
            return self.latched;
        }
        let failure = if self.current_len > 0 {
            self.close_or_drop(alpha_log2)
        } else {
            None
        };
        if let Some(slot) = self.current.get_mut(self.current_len) {
            *slot = LOST_WAIT;
            self.current_len += 1;
        }
        failure
    }

    /// Closes the current pass, unless it is nothing but a lost wait (a
    /// pass of one sample, or per-wakeup sampling): that is dropped, to be
    /// neither a free match nor matched for free.
    fn close_or_drop(&mut self, alphas: (u32, u32)) -> Option<HealthFailure> {
        if self.current[..self.current_len] == [LOST_WAIT] {
            self.clear_current();
            return None;
        }
        self.close(alphas)
    }

    fn clear_current(&mut self) {
        self.current.fill(0);
        (self.current_len, self.current_millibits) = (0, 0);
    }

    /// A block was released: intermittent failures before it no longer
    /// count towards escalation.
    pub fn note_output(&mut self) {
        self.stats.intermittent_since_output = 0;
    }

    /// Closes the current pass: compares it with the previous one and
    /// judges the run.
    fn close(&mut self, (intermittent, permanent): (u32, u32)) -> Option<HealthFailure> {
        let same = same_passes(
            &self.current[..self.current_len],
            &self.previous[..self.previous_len],
        );
        if same {
            self.run = self.run.saturating_add(1);
        } else {
            self.run = 1;
            self.failed = None;
        }
        let lost_wait = self.current_len > 0 && self.current[0] == LOST_WAIT;
        // A pass that lost its wait carries less credit than the others of
        // its run: while it repeats them, its cutoff is the pass before
        // it's, so that the run's credit stays under `30 + 2 H_pass`.
        let millibits = if lost_wait && same {
            self.current_millibits.max(self.previous_millibits)
        } else {
            self.current_millibits
        };
        let bits = millibits as f64 / 1000.0;
        // It stays the previous pass with its wildcard: the next pass's
        // wait then matches for free, as the lost one did (two comparisons
        // a lost wait go without the wait's credit, under a bit each, off
        // the false-alarm margin), where comparing that wait with an older
        // one would hold back a run that begins at a lost wait by a pass.
        self.previous_millibits = millibits;
        core::mem::swap(&mut self.previous, &mut self.current);
        self.previous_len = self.current_len;
        self.clear_current();
        if bits <= 0.0 {
            // Nothing credited rides on these passes.
            return None;
        }
        let cutoff = |alpha_log2: u32| 1 + (f64::from(alpha_log2) / bits).ceil().min(1e6) as u32;
        let (level, cutoff) = level_of(self.run, cutoff(intermittent), cutoff(permanent))?;
        let new_event = self.failed.is_none_or(|f| f.level != level);
        // As the RCT does: every further pass of the run fails too, so none
        // of them is credited.
        let mut failure = reached(
            &mut self.failed,
            &mut self.stats,
            HealthTest::PassRepetition,
            level,
            self.run,
            cutoff,
            false,
            0,
        )?;
        // Only a new failing run counts towards escalation, not every
        // further pass of one.
        let retries = if new_event {
            self.max_intermittent_retries
        } else {
            u32::MAX
        };
        escalate_or_latch(&mut failure, &mut self.stats, retries, &mut self.latched);
        Some(failure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::FailureLevel;

    const ALPHAS: (u32, u32) = (30, 60);

    /// Feeds one pass of `symbols` (a wait, then socket drains), each
    /// credited `millibits`; the failure it brought, if any.
    fn pass(t: &mut PassRepetition, symbols: &[u8], millibits: u32) -> Option<HealthFailure> {
        let mut failure = None;
        for (i, &s) in symbols.iter().enumerate() {
            let path = if i == 0 {
                KernelPath::Wait
            } else {
                KernelPath::SocketDrain
            };
            failure = failure.or(t.see(path, s, millibits, ALPHAS));
        }
        failure
    }

    #[test]
    fn identical_passes_fail_after_the_cutoff_of_their_credit() {
        // 5 samples at 0.5 bit: 2.5 bits a pass, cutoffs 1 + ceil(30 / 2.5)
        // = 13 and 1 + ceil(60 / 2.5) = 25 passes.
        let mut t = PassRepetition::new();
        let stuck = [0u8, 0, 0, 0, 0];
        let mut first = None;
        for i in 1..=40u32 {
            // A pass is judged when the next one starts.
            if let Some(f) = pass(&mut t, &stuck, 500) {
                first.get_or_insert((i, f));
                if f.level == FailureLevel::Permanent {
                    assert_eq!((f.observed, f.cutoff), (25, 25));
                    assert_eq!(i, 26);
                    let (at, intermittent) = first.expect("intermittent first");
                    assert_eq!(intermittent.level, FailureLevel::Intermittent);
                    assert_eq!((intermittent.observed, at), (13, 14));
                    assert_eq!(intermittent.test, HealthTest::PassRepetition);
                    return;
                }
            }
        }
        panic!("never permanent: {first:?}");
    }

    #[test]
    fn repeated_failing_runs_without_output_escalate_and_latch() {
        // 2.5-bit passes fail at the 14th identical one (cutoff 13): bursts
        // of 15 identical passes, each ended by a different pass, fail once
        // each; the fourth such failure without an output between is
        // permanent (three retries), and everything after it fails so.
        let burst = |t: &mut PassRepetition, b: u8| {
            let mut failures = Vec::new();
            for _ in 0..15 {
                failures.extend(pass(t, &[b, 1, 2, 3, 4], 500));
            }
            failures.extend(pass(t, &[b, 9, 9, 9, 9], 500));
            failures
        };
        let mut t = PassRepetition::new().with_max_intermittent_retries(3);
        for b in 0..3 {
            let failures = burst(&mut t, b);
            assert!(!failures.is_empty(), "burst {b} did not fail");
            assert!(failures.iter().all(|f| !f.is_permanent()), "burst {b}");
        }
        let failures = burst(&mut t, 3);
        let escalated = failures
            .iter()
            .find(|f| f.is_permanent())
            .expect("escalated");
        assert_eq!(escalated.escalated_after, 4);
        assert_eq!(t.stats().escalations, 1);
        assert_eq!(pass(&mut t, &[7, 8, 9, 10, 11], 500), Some(*escalated));
        // An output between the failing runs resets the count.
        let mut t = PassRepetition::new().with_max_intermittent_retries(3);
        for b in 0..8 {
            let failures = burst(&mut t, b);
            assert!(failures.iter().all(|f| !f.is_permanent()), "burst {b}");
            t.note_output();
        }
    }

    /// A stuck clock whose collector restarts its pairs during every
    /// `every`-th pass: as the collector does, the rest of that pass still
    /// comes and the next pass's wait is lost (the seeder reports it). The
    /// credited millibits before the first failure of each level.
    fn stuck_with_lost_waits(every: u32) -> [u64; 2] {
        let mut t = PassRepetition::new();
        let mut credited = 0u64;
        let mut first = [None; 2];
        let mut lose_wait = false;
        for i in 1..=200u32 {
            for k in 0..5 {
                let failure = if k == 0 && std::mem::take(&mut lose_wait) {
                    t.lost_wait(ALPHAS)
                } else {
                    let path = if k == 0 {
                        KernelPath::Wait
                    } else {
                        KernelPath::SocketDrain
                    };
                    let failure = t.see(path, 0, 500, ALPHAS);
                    credited += 500;
                    failure
                };
                if let Some(f) = failure {
                    let slot = usize::from(f.level == FailureLevel::Permanent);
                    first[slot].get_or_insert(credited);
                }
            }
            if i % every == 0 {
                lose_wait = true;
            }
        }
        first.map(|f| f.expect("the stuck clock failed the test at both levels"))
    }

    #[test]
    fn lost_waits_neither_end_a_run_nor_let_more_credit_through() {
        // Without lost waits (above) 2.5-bit passes fail at the 14th and
        // the 26th pass, with 32.5 and 62.5 bits credited before: under
        // 30 + 2 x 2.5 and 60 + 5. A pass that lost its wait is credited
        // 2 bits and still repeats the others.
        for every in [1, 2, 3, 5] {
            let [intermittent, permanent] = stuck_with_lost_waits(every);
            assert!(intermittent < 35_000, "every {every}: {intermittent}");
            assert!(permanent < 65_000, "every {every}: {permanent}");
        }
    }

    #[test]
    fn a_lost_wait_matches_any_but_the_rest_must_repeat() {
        let mut t = PassRepetition::new();
        // 13 identical passes and a 14th fail; the 7th lost its wait.
        for i in 1..=13 {
            if i == 7 {
                assert!(t.lost_wait(ALPHAS).is_none());
                for _ in 0..4 {
                    assert!(t.see(KernelPath::SocketDrain, 0, 500, ALPHAS).is_none());
                }
            } else {
                assert!(pass(&mut t, &[0, 0, 0, 0, 0], 500).is_none(), "pass {i}");
            }
        }
        assert!(pass(&mut t, &[0, 0, 0, 0, 0], 500).is_some());
        // A pass that lost its wait and differs elsewhere ends the run.
        let mut t = PassRepetition::new();
        for _ in 0..12 {
            assert!(pass(&mut t, &[0, 0, 0, 0, 0], 500).is_none());
        }
        assert!(t.lost_wait(ALPHAS).is_none());
        for s in [0, 9, 0, 0] {
            assert!(t.see(KernelPath::SocketDrain, s, 500, ALPHAS).is_none());
        }
        for _ in 0..12 {
            assert!(pass(&mut t, &[0, 0, 0, 0, 0], 500).is_none());
        }
        // Healthy passes, every third losing its wait, never fail.
        let mut t = PassRepetition::new();
        for i in 0..10_000u32 {
            let symbols = [3u8, 1, 4, 1, (i % 251) as u8];
            if i % 3 == 1 {
                assert!(t.lost_wait(ALPHAS).is_none());
                for &s in &symbols[1..] {
                    assert!(t.see(KernelPath::SocketDrain, s, 500, ALPHAS).is_none());
                }
            } else {
                assert!(pass(&mut t, &symbols, 500).is_none(), "pass {i}");
            }
        }
    }

    #[test]
    fn a_pass_that_lost_its_wait_is_judged_at_its_run_s_credit() {
        // Passes of a 1-bit wait and four 0.75-bit drains: 4 bits, cutoff
        // 1 + ceil(30 / 4) = 9 passes; one that lost its wait carries 3.
        // Stuck passes, some of them losing their waits, are stopped under
        // 30 + 2 x 4 credited bits all the same.
        for lost_in in [vec![9], vec![9, 10], vec![2, 5, 8, 9, 10]] {
            let mut t = PassRepetition::new();
            let mut credited = 0u32;
            let mut failed = false;
            'passes: for i in 1..=40 {
                let lost = lost_in.contains(&i);
                let failure = if lost {
                    t.lost_wait(ALPHAS)
                } else {
                    credited += 1000;
                    t.see(KernelPath::Wait, 0, 1000, ALPHAS)
                };
                if failure.is_some() {
                    failed = true;
                    break 'passes;
                }
                for _ in 0..4 {
                    credited += 750;
                    assert!(t.see(KernelPath::SocketDrain, 0, 750, ALPHAS).is_none());
                }
            }
            assert!(failed, "{lost_in:?}");
            assert!(credited < 38_000, "{lost_in:?}: {credited}");
        }
    }

    #[test]
    fn a_run_that_begins_at_a_lost_wait_is_judged_at_its_own_credit() {
        // A 6-bit pass, then passes of 1 bit that lose their waits and
        // repeat one another (cutoff 31): the big pass's credit must not
        // carry into their run (cutoff 6).
        let mut t = PassRepetition::new();
        assert!(pass(&mut t, &[9, 9, 9, 9, 9], 1200).is_none());
        for i in 0..25 {
            assert!(t.lost_wait(ALPHAS).is_none(), "pass {i}");
            for _ in 0..4 {
                assert!(
                    t.see(KernelPath::SocketDrain, 0, 250, ALPHAS).is_none(),
                    "pass {i}"
                );
            }
        }
    }

    #[test]
    fn lost_waits_between_passes_of_one_sample_add_no_repeats() {
        // Per-wakeup sampling: every pass one sample, 2 bits, cutoff 16.
        // Losing a pass between two others neither adds a repeat nor makes
        // one: the stuck run fails at its 16th pass, as without losses.
        let mut t = PassRepetition::new();
        let mut passes = 0;
        loop {
            passes += 1;
            assert!(passes < 40, "never failed");
            assert!(
                t.see(KernelPath::Pass, 7, 2000, ALPHAS).is_none(),
                "{passes}"
            );
            // The lost pass opens where the 16th closes: judged there.
            if let Some(f) = t.lost_wait(ALPHAS) {
                assert_eq!(f.observed, 16);
                break;
            }
        }
        assert_eq!(passes, 16);
        // Healthy passes with losses between them never fail.
        let mut t = PassRepetition::new();
        for i in 0..10_000u32 {
            assert!(
                t.see(KernelPath::Pass, (i % 251) as u8, 2000, ALPHAS)
                    .is_none()
            );
            assert!(t.lost_wait(ALPHAS).is_none());
        }
    }

    #[test]
    fn a_pass_repetition_failure_is_forgotten_at_the_next_output() {
        let mut t = PassRepetition::new();
        for _ in 0..15 {
            pass(&mut t, &[0, 0, 0, 0, 0], 500);
        }
        assert_eq!(t.stats().intermittent_since_output, 1, "{:?}", t.stats());
        t.note_output();
        assert_eq!(t.stats().intermittent_since_output, 0);
    }

    #[test]
    fn passes_that_differ_anywhere_or_credit_nothing_never_fail() {
        let mut t = PassRepetition::new();
        for i in 0..10_000u32 {
            // The last sample of each pass moves.
            let symbols = [3u8, 1, 4, 1, (i % 251) as u8];
            assert!(pass(&mut t, &symbols, 500).is_none(), "pass {i}");
        }
        let mut t = PassRepetition::new();
        for i in 0..10_000u32 {
            assert!(pass(&mut t, &[0, 0, 0], 0).is_none(), "pass {i}");
        }
        // The same symbols on other paths are another pass.
        let mut t = PassRepetition::new();
        for i in 0..100u32 {
            let path = if i % 2 == 0 {
                KernelPath::SocketDrain
            } else {
                KernelPath::FileDrain
            };
            assert!(t.see(KernelPath::Wait, 0, 500, ALPHAS).is_none());
            assert!(t.see(path, 0, 500, ALPHAS).is_none(), "pass {i}");
        }
    }
}
