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
//! The run is kept in credited bits: the passes that repeated the one
//! before them add theirs, and the test fails once they reach `30` (the
//! same count of passes where every pass is credited alike). A restart of
//! the collector's pairs (at each request, and between the async seeder's
//! slices) loses the next sample: a pass cut so is compared with the
//! previous pass less the sample at the cut, or, where the lost sample was
//! the next pass's wait, as that pass and the next less its wait. Such
//! cuts neither end a run nor let its credit go unjudged (a second cut in
//! one pass, or a pass of more than 32 samples cut, does end it); a lost
//! wait puts off the judging of the pass before it by one pass, so the
//! bound is then `30 + 3 H_pass` bits.

use zeroize::Zeroizing;

use super::{FailureLevel, HealthFailure, HealthStats, HealthTest, reached};
use crate::collector::KernelPath;
use crate::sys::MAX_MARKS;

/// The pass repetition test: whole passes compared with the one before,
/// each as its samples' paths and symbols (at most 32 of them, as many as a
/// pass keeps marks). The seeder runs one over all its sources; feed it
/// every sample, in order, after the sample's own source's tests.
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
    /// Identical passes in a row, the latest included.
    run: u32,
    /// Credit of the passes of this run that repeated the one before,
    /// millibits: what the cutoffs judge.
    run_millibits: u64,
    /// Where a restart cut the current pass: the samples before it and the
    /// credit they carried; a sample was lost there.
    cut: Option<(usize, u64)>,
    /// A second restart in one pass: its samples are not compared.
    untracked: bool,
    failed: Option<HealthFailure>,
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
    /// A test that has seen no pass.
    pub fn new() -> PassRepetition {
        PassRepetition {
            previous: Zeroizing::new([0; MAX_MARKS]),
            previous_len: 0,
            current: Zeroizing::new([0; MAX_MARKS]),
            current_len: 0,
            current_millibits: 0,
            run: 0,
            run_millibits: 0,
            cut: None,
            untracked: false,
            failed: None,
            stats: HealthStats::default(),
        }
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
        let mut failure = None;
        let opens_a_pass = matches!(
            path,
            KernelPath::Wait | KernelPath::Pass | KernelPath::PassFirstThird
        );
        if opens_a_pass && (self.current_len > 0 || self.cut.is_some()) {
            failure = self.close(alpha_log2);
        }
        if let Some(slot) = self.current.get_mut(self.current_len) {
            *slot = (path.index() as u16) << 8 | u16::from(symbol);
            self.current_len += 1;
        }
        self.current_millibits += u64::from(millibits);
        failure
    }

    /// Its failures so far (the pass repetition counts only).
    pub fn stats(&self) -> &HealthStats {
        &self.stats
    }

    /// The collector restarted its pairs of marks (at the start of each
    /// request, and between the async seeder's slices): the next sample
    /// is lost. The pass under way is judged when the next one opens,
    /// against the previous pass less the sample lost; the run goes on.
    pub fn restart(&mut self) {
        if self.cut.is_some() {
            self.untracked = true;
        } else {
            self.cut = Some((self.current_len, self.current_millibits));
        }
    }

    /// A block was released: intermittent failures before it no longer
    /// count towards escalation.
    pub fn note_output(&mut self) {
        self.stats.intermittent_since_output = 0;
    }

    /// Closes the current pass: compares it with the previous one and
    /// judges the run. It becomes the previous pass, unless a restart cut
    /// it.
    fn close(&mut self, alphas: (u32, u32)) -> Option<HealthFailure> {
        let cut = self.cut.take();
        if core::mem::take(&mut self.untracked) {
            let failure = self.judge(false, self.current_millibits, alphas);
            self.clear_current();
            return failure;
        }
        let Some((at, before_millibits)) = cut else {
            let same = self.current[..self.current_len] == self.previous[..self.previous_len];
            let failure = self.judge(same, self.current_millibits, alphas);
            core::mem::swap(&mut self.previous, &mut self.current);
            self.previous_len = self.current_len;
            self.clear_current();
            return failure;
        };
        let (len, previous_len) = (self.current_len, self.previous_len);
        let after = len - at;
        let (current, previous) = (&self.current[..len], &self.previous[..previous_len]);
        let kept_whole = len < MAX_MARKS && previous_len < MAX_MARKS;
        if kept_whole && previous_len == len + 1 {
            // The sample lost was one of this pass's.
            let same = current[..at] == previous[..at] && current[at..] == previous[at + 1..];
            let failure = self.judge(same, self.current_millibits, alphas);
            self.clear_current();
            return failure;
        }
        if !(kept_whole && at > 0 && after + 1 == at) {
            let failure = self.judge(false, self.current_millibits, alphas);
            self.clear_current();
            return failure;
        }
        // The sample lost was the next pass's wait: the samples before the
        // cut are a whole pass, those after it the next one less its wait.
        let mut rest = Zeroizing::new([0u16; MAX_MARKS]);
        rest[..after].copy_from_slice(&current[at..]);
        let rest_millibits = self.current_millibits - before_millibits;
        self.current[at..len].fill(0);
        (self.current_len, self.current_millibits) = (at, before_millibits);
        let first = self.close(alphas);
        let same = self.previous[1..self.previous_len] == rest[..after];
        let second = self.judge(same, rest_millibits, alphas);
        match (first, second) {
            (Some(f), _) if f.is_permanent() => Some(f),
            (f, s) => s.or(f),
        }
    }

    fn clear_current(&mut self) {
        self.current.fill(0);
        (self.current_len, self.current_millibits) = (0, 0);
    }

    /// Extends or ends the run with a pass credited `millibits`, and judges
    /// the credit of the run's repeats against the cutoffs.
    fn judge(
        &mut self,
        same: bool,
        millibits: u64,
        (intermittent, permanent): (u32, u32),
    ) -> Option<HealthFailure> {
        if same {
            self.run = self.run.saturating_add(1);
            self.run_millibits = self.run_millibits.saturating_add(millibits);
        } else {
            self.run = 1;
            self.run_millibits = 0;
            self.failed = None;
        }
        if millibits == 0 {
            // Nothing credited rides on this pass.
            return None;
        }
        let reached_alpha = |alpha_log2: u32| self.run_millibits >= u64::from(alpha_log2) * 1000;
        let level = if reached_alpha(permanent) {
            FailureLevel::Permanent
        } else if reached_alpha(intermittent) {
            FailureLevel::Intermittent
        } else {
            return None;
        };
        // The cutoff as a count of passes credited as this one was.
        let cutoff_passes = |alpha_log2: u32| {
            1 + (f64::from(alpha_log2) * 1000.0 / millibits as f64)
                .ceil()
                .min(1e6) as u32
        };
        let cutoff = match level {
            FailureLevel::Intermittent => cutoff_passes(intermittent),
            FailureLevel::Permanent => cutoff_passes(permanent),
        };
        // As the RCT does: every further pass of the run fails too, so none
        // of them is credited.
        reached(
            &mut self.failed,
            &mut self.stats,
            HealthTest::PassRepetition,
            level,
            self.run,
            cutoff,
            false,
            0,
        )
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

    /// A stuck clock whose collector restarts every `every` passes: the
    /// restart comes after `cut` samples of a pass, and the sample after it
    /// is lost, as the collector loses it. The pass count and the credited
    /// bits at the first failure of each level.
    fn stuck_with_restarts(every: u32, cut: usize) -> [(u32, u64); 2] {
        let stuck = [0u8, 0, 0, 0, 0];
        let mut t = PassRepetition::new();
        let mut credited = 0u64;
        let mut first = [None; 2];
        let mut lost = false;
        for i in 1..=200u32 {
            for (k, &s) in stuck.iter().enumerate() {
                if i % every == 0 && k == cut {
                    t.restart();
                    lost = true;
                }
                if std::mem::take(&mut lost) {
                    continue;
                }
                let path = if k == 0 {
                    KernelPath::Wait
                } else {
                    KernelPath::SocketDrain
                };
                if let Some(f) = t.see(path, s, 500, ALPHAS) {
                    let slot = usize::from(f.level == FailureLevel::Permanent);
                    first[slot].get_or_insert((i, credited));
                }
                credited += 500;
            }
        }
        first.map(|f| f.expect("the stuck clock failed the test at both levels"))
    }

    #[test]
    fn restarts_neither_end_a_run_nor_let_its_credit_through() {
        // Without restarts (see above) a 2.5-bit pass fails at the 14th
        // pass (intermittent) and the 26th (permanent): 13 and 25 passes,
        // 32.5 and 62.5 bits, credited before. A restart every few passes,
        // at the pass's start or in its middle, lets at most one pass more
        // through (a lost wait puts off the judging of the pass before it
        // by a pass): 30 + 3 x 2.5 bits, or 60 + 7.5.
        for every in [2, 3, 5] {
            for cut in [0, 2, 4] {
                let [(_, intermittent), (_, permanent)] = stuck_with_restarts(every, cut);
                assert!(
                    intermittent <= 37_500,
                    "every {every} cut {cut}: {intermittent}"
                );
                assert!(permanent <= 67_500, "every {every} cut {cut}: {permanent}");
            }
        }
    }

    #[test]
    fn a_part_of_a_pass_that_differs_ends_the_run() {
        let mut t = PassRepetition::new();
        // 14 identical passes would fail: 12 of them, a restart in a pass
        // that differs from them, then 12 more.
        for _ in 0..12 {
            assert!(pass(&mut t, &[0, 0, 0, 0, 0], 500).is_none());
        }
        assert!(t.see(KernelPath::Wait, 9, 500, ALPHAS).is_none());
        t.restart();
        assert!(t.see(KernelPath::SocketDrain, 0, 500, ALPHAS).is_none());
        for _ in 0..12 {
            assert!(pass(&mut t, &[0, 0, 0, 0, 0], 500).is_none());
        }
        // Healthy passes with restarts in between never fail.
        let mut t = PassRepetition::new();
        for i in 0..10_000u32 {
            let symbols = [3u8, 1, 4, 1, (i % 251) as u8];
            assert!(pass(&mut t, &symbols, 500).is_none(), "pass {i}");
            if i % 3 == 0 {
                t.restart();
            }
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
