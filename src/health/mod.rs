//! SP 800-90B section 4 health tests: start-up, Repetition Count Test (RCT)
//! and Adaptive Proportion Test (APT), each at two levels (intermittent and
//! permanent), as in jitterentropy, and a third continuous test of our own,
//! a lag predictor, which sees the periodic sources that RCT and APT pass.
//!
//! Pure code: no I/O, no clock, no allocation while testing. The tests run on the 8-bit
//! symbol the collector derives from each sample; [`HealthTests::feed`] takes
//! one symbol and says whether the sample may be credited. The seeder keeps
//! one `HealthTests` per noise source (per kernel path), cut for that
//! source's own credit.
//!
//! One file per test ([`rct`](self) in `rct.rs`, the APT in `apt.rs`, the
//! predictor in `predictor.rs`) beside the cutoffs in force for a credit
//! (`levels.rs`); the SP 800-90B arithmetic behind those cutoffs is the
//! `sp800-90b` crate's ([`sp800_90b::cutoffs`]), re-exported here.
//!
//! # Cutoffs
//!
//! Every cutoff derives from the min-entropy `H` credited per symbol and a
//! false-positive probability `alpha`, by SP 800-90B's formulas (RCT
//! section 4.4.1, APT section 4.4.2): see [`rct_cutoff`], [`apt_cutoff`] and
//! [`HealthConfig::cutoffs`].
//!
//! # The lag predictor test
//!
//! RCT and APT only count repeats of one symbol, so a source that cycles
//! through four or more symbols (`a b c d a b c d ...`) passes both forever.
//! The predictor test runs a lag predictor in the manner of SP 800-90B
//! section 6.3.8 over the last [`PREDICTOR_LAGS`] symbols: each lag `d`
//! scores a point whenever the symbol `d` back equals the new one, and the
//! prediction for the next symbol is the one the best-scoring lag points at.
//! The scores restart with every window, so the predictor follows a source
//! that changes. Two counts are tested:
//!
//! * **Run**: correct predictions in a row. If each symbol has min-entropy
//!   `H` given the past (which is what the credit claims), a prediction made
//!   from the past is right with probability at most `2^-H`, so a run of `C`
//!   has probability at most `2^-H C`: the RCT's own bound, and the same
//!   cutoff `C = 1 + ceil(-log2(alpha) / H)` ([`rct_cutoff`]).
//! * **Count**: correct predictions in a window of `W_P` predictions
//!   ([`DEFAULT_PREDICTOR_WINDOW`] = 4096). With each one right with
//!   probability at most `2^-H` given the past, their number is bounded by a
//!   binomial `B(W_P, 2^-H)` in distribution, so the APT's bound applies
//!   with no first-sample excess: `C = 1 + CRITBINOM(W_P, 2^-H, 1 - alpha)`
//!   ([`predictor_count_cutoff`]).
//!
//! A count failure in two windows in a row is permanent: blocks released
//! early in a window reset the escalation count of intermittent failures,
//! so without this a source predictable too often would fail every window
//! and never latch. Such a source can still be credited over up to two
//! windows before the count catches it (8,192 of its samples, at most
//! 7,680 bits at the 15/16 bit no source is credited above): the count is
//! a window test, and the estimators' assessment,
//! not the health tests, is what the credit rests on.
//!
//! Both cutoffs derive from the credited `H` and alpha, unlike
//! jitterentropy's fixed tables, and a unit test recomputes them. A perfect
//! four-cycle fails the run test within about `C + 8` symbols of starting;
//! a source that is right more often than `2^-H` over a window fails the
//! count.
//!
//! For comparison with the peers:
//!
//! | | H per symbol | alpha (intermittent / permanent) | RCT | APT (W = 512) |
//! |---|---|---|---|---|
//! | Go `crypto/internal/entropy` | 0.5 | 2^-20 / none | 41 | 410 |
//! | jitterentropy, osr = 3 | 1/3 | 2^-30 / 2^-60 | 90 / 180 | 459 / 479 |
//! | kqseed at H = 1 (no source is credited that much now) | 1 | 2^-30 / 2^-60 | 31 / 61 | 325 / 355 |
//! | kqseed, a source credited 3/8 bit | 0.375 | 2^-30 / 2^-60 | 81 / 161 | 449 / 471 |
//!
//! kqseed's predictor test at H = 1: run 31 / 61, count 2241 / 2329 correct
//! predictions in 4096 (expected for a source of exactly 1 bit: 2048).
//! jitterentropy's lag predictor uses fixed cutoffs per osr.
//!
//! jitterentropy compares `>= 30 * osr`, one less than the formula's
//! `1 + 30 * osr`, and computes its APT cutoffs with the correction of SP
//! 800-90B public comment #10b (see [`apt_cutoff_corrected`]); Go and kqseed
//! use the standard's own formulas. The two APT formulas differ by at most
//! one count.

use crate::ConfigError;
use core::fmt;

mod apt;
mod levels;
mod pass;
mod position;
mod predictor;
mod rct;

pub use levels::HealthCutoffs;
pub use pass::PassRepetition;
pub use position::PositionRepetition;
pub use predictor::PREDICTOR_LAGS;

// The SP 800-90B arithmetic lives in the `sp800-90b` crate; re-exported
// here, where kqseed's users have always found it.
pub use sp800_90b::cutoffs::{
    CutoffError, DEFAULT_PREDICTOR_WINDOW, MAX_ALPHA_LOG2, MAX_APT_WINDOW, MAX_H,
    MAX_PREDICTOR_WINDOW, MAX_STARTUP_SAMPLES, MIN_ALPHA_LOG2, MIN_APT_WINDOW,
    MIN_PREDICTOR_WINDOW, MIN_STARTUP_SAMPLES, apt_cutoff, apt_cutoff_corrected,
    predictor_count_cutoff, rct_cutoff,
};
use sp800_90b::cutoffs::{check_alpha, check_apt_window};

/// Default intermittent false-positive rate: `alpha = 2^-30`, as in
/// jitterentropy.
pub const DEFAULT_ALPHA_INTERMITTENT_LOG2: u32 = 30;
/// Default permanent false-positive rate: `alpha = 2^-60`, as in
/// jitterentropy.
pub const DEFAULT_ALPHA_PERMANENT_LOG2: u32 = 60;
/// APT window for non-binary symbols, SP 800-90B section 4.4.2.
pub const DEFAULT_APT_WINDOW: u32 = 512;
/// Default start-up window: 2048 samples, twice the minimum SP 800-90B
/// section 4.3 allows, so that each path that runs once a pass of the
/// default (the wait, the timer read, the file drain) brings about 136
/// samples of its own to its start-up estimate.
pub const DEFAULT_STARTUP_SAMPLES: u32 = 2 * MIN_STARTUP_SAMPLES;
/// Default number of intermittent failures tolerated without an output in
/// between; the next one is permanent.
///
/// With a healthy source each intermittent failure has probability about
/// `2^-30` per sample or window, so four of them before one block is released
/// (a few thousand samples) will not happen by chance.
pub const DEFAULT_MAX_INTERMITTENT_RETRIES: u32 = 3;

/// The most intermittent failures [`HealthConfig::validate`] lets a
/// configuration tolerate without an output: beyond it a source that fails
/// now and then, never permanently, would discard its pool for ever
/// instead of being declared failed.
pub const MAX_INTERMITTENT_RETRIES: u32 = 64;

/// Configuration of the health tests.
///
/// Built with [`HealthConfig::default`] and adjusted with the `with_*`
/// methods (or field by field: the fields are public); checked
/// by [`HealthConfig::validate`] (which [`HealthTests::new`] calls). The
/// credit the tests guard is not part of it: [`HealthConfig::cutoffs`] and
/// [`HealthTests::new`] take it, since every noise source has its own.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct HealthConfig {
    /// `alpha = 2^-alpha_intermittent_log2` for the intermittent cutoffs.
    /// Default 30.
    pub alpha_intermittent_log2: u32,
    /// `alpha = 2^-alpha_permanent_log2` for the permanent cutoffs; must be
    /// larger than `alpha_intermittent_log2` (a smaller alpha). Default 60.
    pub alpha_permanent_log2: u32,
    /// APT window `W`. Default 512 (non-binary symbols). For a credit so low
    /// that no count in `W` could fail, [`cutoffs`](HealthConfig::cutoffs)
    /// doubles it until one can (up to [`MAX_APT_WINDOW`]).
    pub apt_window: u32,
    /// Consecutive samples that must pass before the first output, at least
    /// [`MIN_STARTUP_SAMPLES`]. Default [`DEFAULT_STARTUP_SAMPLES`]. The
    /// seeder's start-up window: every source's start-up checks run on the
    /// samples of it.
    pub startup_samples: u32,
    /// Intermittent failures tolerated without an output in between (see
    /// [`HealthTests::note_output`]); one more is a permanent failure.
    /// Default 3, at most [`MAX_INTERMITTENT_RETRIES`].
    pub max_intermittent_retries: u32,
    /// Predictions per window of the predictor test's count, in
    /// [`MIN_PREDICTOR_WINDOW`]..=[`MAX_PREDICTOR_WINDOW`]. Default 4096.
    pub predictor_window: u32,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            alpha_intermittent_log2: DEFAULT_ALPHA_INTERMITTENT_LOG2,
            alpha_permanent_log2: DEFAULT_ALPHA_PERMANENT_LOG2,
            apt_window: DEFAULT_APT_WINDOW,
            startup_samples: DEFAULT_STARTUP_SAMPLES,
            max_intermittent_retries: DEFAULT_MAX_INTERMITTENT_RETRIES,
            predictor_window: DEFAULT_PREDICTOR_WINDOW,
        }
    }
}

fn config_error(field: &'static str, reason: impl fmt::Display) -> ConfigError {
    ConfigError {
        field,
        reason: reason.to_string(),
    }
}

impl HealthConfig {
    /// With the intermittent `alpha = 2^-alpha_log2`.
    #[must_use]
    pub fn with_alpha_intermittent_log2(mut self, alpha_log2: u32) -> Self {
        self.alpha_intermittent_log2 = alpha_log2;
        self
    }

    /// With the permanent `alpha = 2^-alpha_log2`.
    #[must_use]
    pub fn with_alpha_permanent_log2(mut self, alpha_log2: u32) -> Self {
        self.alpha_permanent_log2 = alpha_log2;
        self
    }

    /// With the APT window `W`.
    #[must_use]
    pub fn with_apt_window(mut self, window: u32) -> Self {
        self.apt_window = window;
        self
    }

    /// With the start-up window's length, in samples.
    #[must_use]
    pub fn with_startup_samples(mut self, samples: u32) -> Self {
        self.startup_samples = samples;
        self
    }

    /// With the intermittent failures tolerated without an output between.
    #[must_use]
    pub fn with_max_intermittent_retries(mut self, retries: u32) -> Self {
        self.max_intermittent_retries = retries;
        self
    }

    /// With the predictor test's window, in predictions.
    #[must_use]
    pub fn with_predictor_window(mut self, window: u32) -> Self {
        self.predictor_window = window;
        self
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_alpha(self.alpha_intermittent_log2)
            .map_err(|e| config_error("alpha_intermittent_log2", e))?;
        check_alpha(self.alpha_permanent_log2)
            .map_err(|e| config_error("alpha_permanent_log2", e))?;
        if self.alpha_permanent_log2 <= self.alpha_intermittent_log2 {
            return Err(config_error(
                "alpha_permanent_log2",
                format_args!(
                    "the permanent alpha 2^-{} must be smaller than the intermittent 2^-{}",
                    self.alpha_permanent_log2, self.alpha_intermittent_log2
                ),
            ));
        }
        check_apt_window(self.apt_window).map_err(|e| config_error("apt_window", e))?;
        if !(MIN_PREDICTOR_WINDOW..=MAX_PREDICTOR_WINDOW).contains(&self.predictor_window) {
            return Err(config_error(
                "predictor_window",
                CutoffError::BadWindow {
                    window: self.predictor_window,
                },
            ));
        }
        if self.startup_samples < MIN_STARTUP_SAMPLES {
            return Err(config_error(
                "startup_samples",
                format_args!(
                    "{} is fewer than the {MIN_STARTUP_SAMPLES} SP 800-90B requires",
                    self.startup_samples
                ),
            ));
        }
        if self.max_intermittent_retries > MAX_INTERMITTENT_RETRIES {
            return Err(config_error(
                "max_intermittent_retries",
                format_args!(
                    "{} is more than the {MAX_INTERMITTENT_RETRIES} accepted",
                    self.max_intermittent_retries
                ),
            ));
        }
        if self.startup_samples > MAX_STARTUP_SAMPLES {
            return Err(config_error(
                "startup_samples",
                format_args!(
                    "{} is more than the {MAX_STARTUP_SAMPLES} accepted",
                    self.startup_samples
                ),
            ));
        }
        Ok(())
    }

    /// The cutoffs that guard a credit of `credited_h` bits per 8-bit
    /// symbol, `(0, 8]`, after checking every field.
    ///
    /// The APT window is [`apt_window`](HealthConfig::apt_window), doubled
    /// while no count in it could fail at this credit (up to
    /// [`MAX_APT_WINDOW`]); a credit so low that no window can fail, or
    /// whose predictor count cannot fail, is an error naming `credited_h`.
    pub fn cutoffs(&self, credited_h: f64) -> Result<HealthCutoffs, ConfigError> {
        self.validate()?;
        let h = credited_h;
        let (ai, ap) = (self.alpha_intermittent_log2, self.alpha_permanent_log2);
        let credit_error = |e| config_error("credited_h", e);
        let mut apt_window = self.apt_window;
        let (apt_intermittent, apt_permanent) = loop {
            let both =
                apt_cutoff(apt_window, h, ai).and_then(|i| Ok((i, apt_cutoff(apt_window, h, ap)?)));
            match both {
                Err(CutoffError::AptCannotFail { .. }) if apt_window < MAX_APT_WINDOW => {
                    apt_window = (apt_window * 2).min(MAX_APT_WINDOW);
                }
                other => break other.map_err(credit_error)?,
            }
        };
        Ok(HealthCutoffs {
            apt_window,
            rct_intermittent: rct_cutoff(h, ai).map_err(credit_error)?,
            rct_permanent: rct_cutoff(h, ap).map_err(credit_error)?,
            apt_intermittent,
            apt_permanent,
            predictor_run_intermittent: rct_cutoff(h, ai).map_err(credit_error)?,
            predictor_run_permanent: rct_cutoff(h, ap).map_err(credit_error)?,
            predictor_count_intermittent: predictor_count_cutoff(self.predictor_window, h, ai)
                .map_err(credit_error)?,
            predictor_count_permanent: predictor_count_cutoff(self.predictor_window, h, ap)
                .map_err(credit_error)?,
        })
    }
}

/// Which health test failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HealthTest {
    /// Repetition Count Test, SP 800-90B section 4.4.1.
    Rct,
    /// Adaptive Proportion Test, SP 800-90B section 4.4.2.
    Apt,
    /// The lag predictor's run of correct predictions (kqseed's own test).
    PredictorRun,
    /// The lag predictor's correct predictions in a window (kqseed's own
    /// test).
    PredictorCount,
    /// Whole passes repeating the previous one, every source at once: a
    /// clock-wide fault (kqseed's own test).
    PassRepetition,
    /// One position of a pass repeating itself pass after pass, where whole
    /// passes or thirds are credited: a stuck path inside a summed sample
    /// (kqseed's own test, [`PositionRepetition`]).
    PositionRepetition,
}

impl fmt::Display for HealthTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HealthTest::Rct => "repetition count test",
            HealthTest::Apt => "adaptive proportion test",
            HealthTest::PredictorRun => "predictor run test",
            HealthTest::PredictorCount => "predictor count test",
            HealthTest::PassRepetition => "pass repetition test",
            HealthTest::PositionRepetition => "position repetition test",
        })
    }
}

/// How bad a failure is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureLevel {
    /// The intermittent cutoff was reached: discard what was pooled since the
    /// last output and go on collecting.
    Intermittent,
    /// The permanent cutoff was reached, or too many intermittent failures
    /// came without an output in between: no more output until the seeder is
    /// rebuilt.
    Permanent,
}

/// A health-test failure: which test, how bad, and the count that tripped it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HealthFailure {
    /// The test that failed.
    pub test: HealthTest,
    /// Intermittent or permanent.
    pub level: FailureLevel,
    /// The run length (RCT) or count in the window (APT) that was reached.
    pub observed: u32,
    /// The cutoff it reached.
    pub cutoff: u32,
    /// Whether the failure came before the start-up test completed.
    pub during_startup: bool,
    /// For a permanent failure escalated from intermittent ones: how many
    /// intermittent failures came without an output in between (the last of
    /// them is described by the other fields). `0` otherwise, also for an
    /// intermittent failure that latched as permanent because it was the
    /// last of [`MAX_STARTUP_REFUSALS`](crate::MAX_STARTUP_REFUSALS)
    /// start-up refusals.
    pub escalated_after: u32,
}

impl HealthFailure {
    /// Whether the failure is permanent.
    pub fn is_permanent(&self) -> bool {
        self.level == FailureLevel::Permanent
    }
}

impl fmt::Display for HealthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            FailureLevel::Intermittent => "intermittent",
            FailureLevel::Permanent => "permanent",
        };
        let what = match self.test {
            HealthTest::Rct => "equal symbols in a row",
            HealthTest::Apt => "copies of one symbol in a window",
            HealthTest::PredictorRun => "correct predictions in a row",
            HealthTest::PredictorCount => "correct predictions in a window",
            HealthTest::PassRepetition => "identical passes in a row",
            HealthTest::PositionRepetition => "passes in a row repeating one position",
        };
        write!(
            f,
            "{level} health-test failure: {} saw {} {what} (cutoff {})",
            self.test, self.observed, self.cutoff
        )?;
        if self.during_startup {
            f.write_str(" during start-up")?;
        }
        if self.escalated_after > 0 {
            write!(
                f,
                ", after {} intermittent failures without output",
                self.escalated_after
            )?;
        }
        Ok(())
    }
}

impl core::error::Error for HealthFailure {}

/// Counters of a [`HealthTests`], as a snapshot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HealthStats {
    /// Symbols fed, including failing ones and those after a permanent failure.
    pub samples: u64,
    /// Symbols for which `feed` returned an error.
    pub failed_samples: u64,
    /// Whether the start-up test has completed.
    pub started: bool,
    /// RCT intermittent failures (each failing run counts once).
    pub rct_intermittent: u64,
    /// APT intermittent failures (each failing window counts once).
    pub apt_intermittent: u64,
    /// RCT permanent failures (0 or 1: it latches).
    pub rct_permanent: u64,
    /// APT permanent failures (0 or 1: it latches).
    pub apt_permanent: u64,
    /// Predictor intermittent failures, run and count (each failing run or
    /// window counts once).
    pub predictor_intermittent: u64,
    /// Predictor permanent failures (0 or 1: it latches).
    pub predictor_permanent: u64,
    /// Pass repetition test intermittent failures (each failing run counts
    /// once): every source repeating its last pass at once.
    pub pass_repetition_intermittent: u64,
    /// Pass repetition test permanent failures (0 or 1: it latches).
    pub pass_repetition_permanent: u64,
    /// Position repetition test intermittent failures (each failing run
    /// counts once): one position of a summed pass stuck.
    pub position_repetition_intermittent: u64,
    /// Position repetition test permanent failures.
    pub position_repetition_permanent: u64,
    /// Permanent failures escalated from repeated intermittent ones (a test
    /// escalates once: it then latches; summed over tests, more than one
    /// can escalate on the same sample).
    pub escalations: u64,
    /// Passes that lost their wait, as the pass repetition test was told:
    /// the collector restarted its pairs (at a request's start, between the
    /// async seeder's slices, after an error) and the next wait had nothing
    /// to pair with. Each opened a pass whose wait matches any. Losses
    /// between two samples count once; 0 where start-up took whole passes
    /// (a restart drops the pass under way there instead).
    pub lost_waits: u64,
    /// Intermittent failures since the last output.
    pub intermittent_since_output: u32,
    /// Longest RCT run seen.
    pub max_rct_run: u32,
    /// Highest APT count in a window seen.
    pub max_apt_count: u32,
    /// Longest run of correct predictions seen.
    pub max_predictor_run: u32,
    /// Most correct predictions in one predictor window seen.
    pub max_predictor_count: u32,
}

impl HealthStats {
    /// The counts of several sources' tests added up, each maximum the
    /// largest of any: the seeder's view over all its sources. `started` is
    /// left false.
    pub fn sum<'a>(all: impl IntoIterator<Item = &'a HealthStats>) -> HealthStats {
        let mut total = HealthStats::default();
        for s in all {
            total.add(s);
        }
        total
    }

    fn add(&mut self, other: &HealthStats) {
        self.samples += other.samples;
        self.failed_samples += other.failed_samples;
        self.rct_intermittent += other.rct_intermittent;
        self.apt_intermittent += other.apt_intermittent;
        self.rct_permanent += other.rct_permanent;
        self.apt_permanent += other.apt_permanent;
        self.predictor_intermittent += other.predictor_intermittent;
        self.predictor_permanent += other.predictor_permanent;
        self.pass_repetition_intermittent += other.pass_repetition_intermittent;
        self.pass_repetition_permanent += other.pass_repetition_permanent;
        self.position_repetition_intermittent += other.position_repetition_intermittent;
        self.position_repetition_permanent += other.position_repetition_permanent;
        self.escalations += other.escalations;
        self.lost_waits += other.lost_waits;
        self.intermittent_since_output = self
            .intermittent_since_output
            .max(other.intermittent_since_output);
        self.max_rct_run = self.max_rct_run.max(other.max_rct_run);
        self.max_apt_count = self.max_apt_count.max(other.max_apt_count);
        self.max_predictor_run = self.max_predictor_run.max(other.max_predictor_run);
        self.max_predictor_count = self.max_predictor_count.max(other.max_predictor_count);
    }
}

/// The start-up, RCT, APT and predictor tests of one noise source.
///
/// Feed it every symbol, in order, with [`feed`](Self::feed). It is
/// deliberately neither `Clone` nor `Copy`: a copy could run on while the
/// original's failure state is dropped, the way jitterentropy once lost its
/// RCT state. A permanent failure latches: every later call fails with it,
/// and the only way out is a new `HealthTests`.
///
/// It holds the last symbols it saw (they are low bytes of pooled samples):
/// they are wiped on drop, and `Debug` shows the cutoffs and counters only.
pub struct HealthTests {
    cutoffs: HealthCutoffs,
    credited_h: f64,
    config: HealthConfig,
    /// Consecutive passing samples towards start-up; saturates at
    /// `startup_samples`.
    startup_passed: u32,
    startup_samples: u32,
    rct: rct::Rct,
    apt: apt::Apt,
    predictor: predictor::Predictor,
    latched: Option<HealthFailure>,
    stats: HealthStats,
}

impl fmt::Debug for HealthTests {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthTests")
            .field("credited_h", &self.credited_h)
            .field("cutoffs", &self.cutoffs)
            .field("started", &self.is_started())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// A test's count reached `level` (at `observed`, against `cutoff`): the
/// failure reported for this sample and every further one of the same run
/// or window, recorded and counted once per level.
#[allow(clippy::too_many_arguments)]
fn reached(
    failed: &mut Option<HealthFailure>,
    stats: &mut HealthStats,
    test: HealthTest,
    level: FailureLevel,
    observed: u32,
    cutoff: u32,
    during_startup: bool,
    escalated_after: u32,
) -> Option<HealthFailure> {
    if failed.is_none_or(|f| f.level != level) {
        count_event(stats, test, level);
        *failed = Some(HealthFailure {
            test,
            level,
            observed,
            cutoff,
            during_startup,
            escalated_after,
        });
    }
    *failed
}

/// Records a new failure event of `test` at `level`.
fn count_event(s: &mut HealthStats, test: HealthTest, level: FailureLevel) {
    match (test, level) {
        (HealthTest::Rct, FailureLevel::Intermittent) => s.rct_intermittent += 1,
        (HealthTest::Apt, FailureLevel::Intermittent) => s.apt_intermittent += 1,
        (HealthTest::Rct, FailureLevel::Permanent) => s.rct_permanent += 1,
        (HealthTest::Apt, FailureLevel::Permanent) => s.apt_permanent += 1,
        (HealthTest::PredictorRun | HealthTest::PredictorCount, FailureLevel::Intermittent) => {
            s.predictor_intermittent += 1
        }
        (HealthTest::PredictorRun | HealthTest::PredictorCount, FailureLevel::Permanent) => {
            s.predictor_permanent += 1
        }
        (HealthTest::PassRepetition, FailureLevel::Intermittent) => {
            s.pass_repetition_intermittent += 1
        }
        (HealthTest::PassRepetition, FailureLevel::Permanent) => s.pass_repetition_permanent += 1,
        (HealthTest::PositionRepetition, FailureLevel::Intermittent) => {
            s.position_repetition_intermittent += 1
        }
        (HealthTest::PositionRepetition, FailureLevel::Permanent) => {
            s.position_repetition_permanent += 1
        }
    }
    if level == FailureLevel::Intermittent {
        s.intermittent_since_output = s.intermittent_since_output.saturating_add(1);
    }
}

impl HealthTests {
    /// Validates `config` and starts the tests, start-up included, guarding
    /// a credit of `credited_h` bits per symbol.
    pub fn new(config: &HealthConfig, credited_h: f64) -> Result<Self, ConfigError> {
        Ok(HealthTests {
            cutoffs: config.cutoffs(credited_h)?,
            credited_h,
            config: *config,
            startup_passed: 0,
            startup_samples: config.startup_samples,
            rct: rct::Rct::new(),
            apt: apt::Apt::new(),
            predictor: predictor::Predictor::new(config.predictor_window),
            latched: None,
            stats: HealthStats::default(),
        })
    }

    /// As [`new`](Self::new), for a source whose start-up test the caller
    /// runs over the interleaved stream of all sources (the seeder's
    /// start-up window): the continuous tests only, started at once.
    pub(crate) fn continuous(config: &HealthConfig, credited_h: f64) -> Result<Self, ConfigError> {
        let mut tests = HealthTests::new(config, credited_h)?;
        tests.startup_samples = 0;
        Ok(tests)
    }

    /// Recuts the tests for a new credit, keeping their state: the online
    /// margin check lowers a source's credit this way.
    pub fn set_credit(&mut self, credited_h: f64) -> Result<(), ConfigError> {
        self.cutoffs = self.config.cutoffs(credited_h)?;
        self.credited_h = credited_h;
        Ok(())
    }

    /// The credit the cutoffs guard, bits per symbol.
    pub fn credited_h(&self) -> f64 {
        self.credited_h
    }

    /// The cutoffs in force.
    pub fn cutoffs(&self) -> HealthCutoffs {
        self.cutoffs
    }

    /// Whether the start-up test has passed (`startup_samples` consecutive
    /// samples without a failure) and no permanent failure has latched. No
    /// output may be released while this is `false`.
    pub fn is_started(&self) -> bool {
        self.startup_passed >= self.startup_samples && self.latched.is_none()
    }

    /// The permanent failure, once there is one.
    pub fn permanent_failure(&self) -> Option<HealthFailure> {
        self.latched
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> HealthStats {
        let mut s = self.stats;
        s.started = self.is_started();
        s
    }

    /// Tells the tests that a block of output was released, which resets the
    /// count of intermittent failures towards escalation.
    pub fn note_output(&mut self) {
        self.stats.intermittent_since_output = 0;
    }

    /// The predictor's last full window, once: predictions made, correct,
    /// and the longest run of correct ones. The online margin check reads it.
    pub(crate) fn take_predictor_window(&mut self) -> Option<(u32, u32, u32)> {
        self.predictor.take_closed_window()
    }

    /// Runs RCT, APT and the predictor test on the next symbol.
    ///
    /// `Ok(())`: the sample may be credited (output still waits for
    /// [`is_started`](Self::is_started)). `Err` with an intermittent failure:
    /// discard everything pooled since the last output, this sample included;
    /// every further sample of a failing run (RCT) or window (APT) fails the
    /// same way. `Err` with a permanent failure: stop; this and every later
    /// call return it.
    pub fn feed(&mut self, symbol: u8) -> Result<(), HealthFailure> {
        self.stats.samples += 1;
        if let Some(f) = self.latched {
            self.stats.failed_samples += 1;
            return Err(f);
        }
        let during_startup = self.startup_passed < self.startup_samples;
        let c = self.cutoffs;
        let rct = self.rct.step(symbol, &c, during_startup, &mut self.stats);
        let apt = self.apt.step(symbol, &c, during_startup, &mut self.stats);
        let predictor = self
            .predictor
            .step(symbol, &c, during_startup, &mut self.stats);

        // Report the worst; on a tie, the first in the order RCT, APT,
        // predictor.
        let failure = [rct, apt, predictor]
            .into_iter()
            .flatten()
            .reduce(|worst, f| {
                if f.is_permanent() && !worst.is_permanent() {
                    f
                } else {
                    worst
                }
            });
        let Some(mut failure) = failure else {
            if during_startup {
                self.startup_passed += 1;
            }
            return Ok(());
        };

        self.stats.failed_samples += 1;
        if during_startup {
            self.startup_passed = 0;
        }
        escalate_or_latch(
            &mut failure,
            &mut self.stats,
            self.config.max_intermittent_retries,
            &mut self.latched,
        );
        Err(failure)
    }
}

/// An intermittent `failure` after more than `max_retries` of them without
/// an output in between (counted in `stats`) becomes permanent; a permanent
/// one is latched.
fn escalate_or_latch(
    failure: &mut HealthFailure,
    stats: &mut HealthStats,
    max_retries: u32,
    latched: &mut Option<HealthFailure>,
) {
    if failure.level == FailureLevel::Intermittent && stats.intermittent_since_output > max_retries
    {
        failure.level = FailureLevel::Permanent;
        failure.escalated_after = stats.intermittent_since_output;
        stats.escalations += 1;
    }
    if failure.is_permanent() {
        *latched = Some(*failure);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::SplitMix64;

    #[test]
    fn config_validation_names_the_field() {
        let most = HealthConfig::default().with_max_intermittent_retries(MAX_INTERMITTENT_RETRIES);
        assert!(most.validate().is_ok());
        for h in [0.0, 0.001, f64::NAN, 9.0] {
            let e = HealthConfig::default().cutoffs(h).unwrap_err();
            assert_eq!(e.field, "credited_h", "{e}");
            assert!(HealthTests::new(&HealthConfig::default(), h).is_err());
        }
        let bad = [
            (
                HealthConfig {
                    alpha_intermittent_log2: 5,
                    ..HealthConfig::default()
                },
                "alpha_intermittent_log2",
            ),
            (
                HealthConfig {
                    alpha_permanent_log2: 30,
                    ..HealthConfig::default()
                },
                "alpha_permanent_log2",
            ),
            (
                HealthConfig::default().with_max_intermittent_retries(MAX_INTERMITTENT_RETRIES + 1),
                "max_intermittent_retries",
            ),
            (
                HealthConfig {
                    apt_window: 8,
                    ..HealthConfig::default()
                },
                "apt_window",
            ),
            (
                HealthConfig {
                    startup_samples: 1023,
                    ..HealthConfig::default()
                },
                "startup_samples",
            ),
        ];
        for (config, field) in bad {
            let e = config.validate().unwrap_err();
            assert_eq!(e.field, field, "{e}");
            assert!(HealthTests::new(&config, 2.5).is_err());
        }
    }

    #[test]
    fn constant_source_fails_rct_at_exactly_c_samples_then_latches() {
        let mut t = HealthTests::new(&HealthConfig::default(), 1.0).unwrap();
        let c = t.cutoffs();
        for i in 1..c.rct_intermittent {
            assert_eq!(t.feed(7), Ok(()), "sample {i}");
        }
        let f = t.feed(7).unwrap_err();
        assert_eq!(
            f,
            HealthFailure {
                test: HealthTest::Rct,
                level: FailureLevel::Intermittent,
                observed: c.rct_intermittent,
                cutoff: c.rct_intermittent,
                during_startup: true,
                escalated_after: 0,
            }
        );
        // The run goes on failing until it reaches the permanent cutoff.
        for _ in c.rct_intermittent + 1..c.rct_permanent {
            assert_eq!(t.feed(7), Err(f));
        }
        let p = t.feed(7).unwrap_err();
        assert_eq!(p.test, HealthTest::Rct);
        assert_eq!(p.level, FailureLevel::Permanent);
        assert_eq!((p.observed, p.cutoff), (c.rct_permanent, c.rct_permanent));
        assert_eq!(t.permanent_failure(), Some(p));
        // Latched: good symbols and output notes change nothing.
        t.note_output();
        let mut rng = SplitMix64(1);
        for _ in 0..5000 {
            assert_eq!(t.feed(rng.symbol()), Err(p));
        }
        assert!(!t.is_started());
        let s = t.stats();
        assert_eq!(
            (s.rct_intermittent, s.rct_permanent, s.apt_intermittent),
            (1, 1, 0)
        );
        assert_eq!(s.samples, u64::from(c.rct_permanent) + 5000);
        assert_eq!(
            s.failed_samples,
            u64::from(c.rct_permanent - c.rct_intermittent + 1) + 5000
        );
    }

    #[test]
    fn half_probability_symbol_fails_apt() {
        // Symbol 0 at every even position, never twice in a row (so the RCT
        // stays quiet), uniform non-zero symbols between. Credited H = 3:
        // APT cutoff 114, while the window holds 256 zeros.
        let mut t = HealthTests::new(&HealthConfig::default(), 3.0).unwrap();
        let c = t.cutoffs().apt_intermittent;
        assert_eq!(c, 114);
        let mut rng = SplitMix64(2);
        let mut n = 0u32;
        let failure = loop {
            let s = if n.is_multiple_of(2) {
                0
            } else {
                rng.symbol().max(1)
            };
            n += 1;
            if let Err(f) = t.feed(s) {
                break f;
            }
        };
        // The base (sample 1) counts once; occurrence C is sample 2C - 1.
        assert_eq!(n, 2 * c - 1);
        assert_eq!(failure.test, HealthTest::Apt);
        assert_eq!(failure.level, FailureLevel::Intermittent);
        assert_eq!((failure.observed, failure.cutoff), (c, c));
        assert_eq!(t.stats().max_rct_run, 1);
    }

    #[test]
    fn random_biased_source_fails_apt() {
        // Symbol 0 with probability 1/3 unless the previous two were 0, so
        // about 30% of all symbols and never three in a row (the RCT stays
        // quiet), and no lag predicts it more than about 12% of the time
        // (the predictor's cutoff at H = 3 is 15.7%). A window whose first
        // symbol is 0 holds about 150 zeros, over the cutoff of 114; each
        // window catches the bias with probability about 0.3, and 64 windows
        // all miss it with odds 0.7^64, about 2^-33 (the seed is fixed
        // anyway).
        let mut t = HealthTests::new(&HealthConfig::default(), 3.0).unwrap();
        let mut rng = SplitMix64(3);
        let mut zeros_in_a_row = 0;
        let mut first = None;
        for _ in 0..64 * 512 {
            let r = rng.next();
            let s = if zeros_in_a_row < 2 && r.is_multiple_of(3) {
                0
            } else {
                (r >> 8).to_le_bytes()[0].max(1)
            };
            zeros_in_a_row = if s == 0 { zeros_in_a_row + 1 } else { 0 };
            if let Err(f) = t.feed(s) {
                first = Some(f);
                break;
            }
        }
        let f = first.expect("the APT must fail within 64 windows");
        assert_eq!(f.test, HealthTest::Apt, "{f}");
    }

    #[test]
    fn apt_count_just_below_cutoff_passes_and_window_resets() {
        // Each window: base 0, then C - 2 more zeros at random distinct
        // positions, the rest random non-zero: C - 1 zeros per window, many
        // windows in a row. (Random positions and fillers keep the lag
        // predictor near its chance rate, so only the APT is exercised.)
        let mut t = HealthTests::new(&HealthConfig::default(), 3.0).unwrap();
        let c = t.cutoffs().apt_intermittent as usize;
        let mut rng = SplitMix64(17);
        for _window in 0..100 {
            let mut window = [0u8; 512];
            for s in window.iter_mut().skip(1) {
                *s = rng.symbol().max(1);
            }
            // A partial Fisher-Yates shuffle picks C - 2 positions in 1..512.
            let mut positions: Vec<usize> = (1..512).collect();
            for k in 0..c - 2 {
                let j = k + (rng.next() % (positions.len() - k) as u64) as usize;
                positions.swap(k, j);
                window[positions[k]] = 0;
            }
            for s in window {
                assert_eq!(t.feed(s), Ok(()));
            }
        }
        assert_eq!(t.stats().max_apt_count, c as u32 - 1);
        assert!(t.is_started());
    }

    #[test]
    fn good_source_passes_a_million_samples() {
        // Uniform 8-bit symbols (true H = 8) tested at a credited H = 3,
        // alpha = 2^-30: RCT cutoff 11, APT cutoff 114 in windows of 512.
        // Chance of any failure: a run of 11 equal symbols has probability
        // 2^-80 at each of 10^6 positions (< 2^-60 in all); 114 copies of one
        // symbol in a window, expecting 2, is far less likely still. The
        // seed is fixed, so the test is deterministic anyway.
        let mut t = HealthTests::new(&HealthConfig::default(), 3.0).unwrap();
        let mut rng = SplitMix64(0x6b71_7365_6564);
        for i in 0..1_000_000u32 {
            if let Err(f) = t.feed(rng.symbol()) {
                panic!("sample {i}: {f}");
            }
        }
        let s = t.stats();
        assert!(s.started);
        assert_eq!(s.samples, 1_000_000);
        assert_eq!(s.failed_samples, 0);
        assert!(s.max_rct_run < 6, "{s:?}");
    }

    #[test]
    fn startup_needs_the_configured_consecutive_passes() {
        let config = HealthConfig {
            startup_samples: 2000,
            ..HealthConfig::default()
        };
        let mut t = HealthTests::new(&config, 3.0).unwrap();
        let mut rng = SplitMix64(4);
        for _ in 0..1000 {
            t.feed(rng.symbol()).unwrap();
            assert!(!t.is_started());
        }
        // A failing run restarts the count: RCT cutoff 11 at H = 3.
        let c = t.cutoffs().rct_intermittent;
        for _ in 1..c {
            t.feed(9).unwrap();
        }
        let f = t.feed(9).unwrap_err();
        assert!(f.during_startup);
        assert_eq!(f.level, FailureLevel::Intermittent);
        assert!(!t.is_started());
        // 2000 fresh passes from the next sample on (it differs from 9).
        let mut passed = 0;
        while passed < 2000 {
            let s = rng.symbol();
            if s == 9 {
                continue;
            }
            assert!(!t.is_started());
            t.feed(s).unwrap();
            passed += 1;
        }
        assert!(t.is_started());
        assert!(t.stats().started);
    }

    /// Feeds one failing RCT run of the intermittent length, then a breaker.
    fn intermittent_rct_run(t: &mut HealthTests, symbol: u8) -> HealthFailure {
        let c = t.cutoffs().rct_intermittent;
        for _ in 1..c {
            t.feed(symbol).unwrap();
        }
        let f = t.feed(symbol).unwrap_err();
        let _ = t.feed(symbol.wrapping_add(1));
        f
    }

    #[test]
    fn repeated_intermittent_failures_escalate_and_latch() {
        let mut t = HealthTests::new(&HealthConfig::default(), 1.0).unwrap();
        for i in 1..=DEFAULT_MAX_INTERMITTENT_RETRIES {
            let f = intermittent_rct_run(&mut t, (2 * i) as u8);
            assert_eq!(f.level, FailureLevel::Intermittent, "retry {i}");
        }
        let e = intermittent_rct_run(&mut t, 100);
        assert_eq!(e.level, FailureLevel::Permanent);
        assert_eq!(e.escalated_after, DEFAULT_MAX_INTERMITTENT_RETRIES + 1);
        assert_eq!(t.permanent_failure(), Some(e));
        assert_eq!(t.feed(55), Err(e));
        assert_eq!(t.stats().escalations, 1);
        assert!(
            e.to_string().contains("after 4 intermittent failures"),
            "{e}"
        );
    }

    #[test]
    fn output_between_intermittent_failures_prevents_escalation() {
        let mut t = HealthTests::new(&HealthConfig::default(), 1.0).unwrap();
        for i in 0..20u8 {
            let f = intermittent_rct_run(&mut t, 2 * i);
            assert_eq!(f.level, FailureLevel::Intermittent);
            t.note_output();
        }
        assert_eq!(t.permanent_failure(), None);
        assert_eq!(t.stats().rct_intermittent, 20);
    }

    #[test]
    fn health_tests_cannot_be_cloned() {
        // Compiles only while `HealthTests: !Clone`: with a Clone impl the
        // call below would be ambiguous between the two impls.
        crate::test_util::assert_not_clone!(HealthTests);
    }

    #[test]
    fn failure_display_names_test_level_and_counts() {
        let f = HealthFailure {
            test: HealthTest::Apt,
            level: FailureLevel::Intermittent,
            observed: 325,
            cutoff: 325,
            during_startup: true,
            escalated_after: 0,
        };
        assert_eq!(
            f.to_string(),
            "intermittent health-test failure: adaptive proportion test saw 325 copies of one \
             symbol in a window (cutoff 325) during start-up"
        );
        let e = crate::Error::Health(f);
        assert_eq!(e.to_string(), f.to_string());
    }

    #[test]
    fn a_cycle_of_four_passes_rct_and_apt_but_not_the_predictor() {
        let mut t = HealthTests::new(&HealthConfig::default(), 1.0).unwrap();
        let mut rng = SplitMix64(21);
        for _ in 0..2000 {
            t.feed(rng.symbol()).expect("good start");
        }
        let cycle = [0x30u8, 0x18, 0x00, 0xe8];
        let failure = (0..10_000)
            .find_map(|i| t.feed(cycle[i % 4]).err().map(|f| (i, f)))
            .expect("the cycle was never caught");
        let (at, f) = failure;
        assert_eq!(f.test, HealthTest::PredictorRun, "{f}");
        assert_eq!(f.level, FailureLevel::Intermittent);
        assert_eq!(f.cutoff, t.cutoffs().predictor_run_intermittent);
        assert!(at < 13 + 40, "caught only after {at} symbols");
        let s = t.stats();
        assert_eq!((s.rct_intermittent, s.apt_intermittent), (0, 0));
        // Fed on, the run reaches the permanent cutoff and latches.
        let permanent = (0..100)
            .find_map(|i| {
                t.feed(cycle[(at + 1 + i) % 4])
                    .err()
                    .filter(|f| f.is_permanent())
            })
            .expect("permanent");
        assert_eq!(permanent.observed, t.cutoffs().predictor_run_permanent);
        assert!(t.permanent_failure().is_some());
    }

    /// The predictor-count tests' configuration: their sources are built
    /// around the cutoffs at H = 2.5.
    fn credit_2_5() -> HealthConfig {
        HealthConfig::default()
    }

    #[test]
    fn a_source_predictable_too_often_fails_the_count_without_long_runs() {
        // Each symbol repeats the one three back with probability 0.4,
        // otherwise uniform: right predictions ~40% of the time, against a
        // 21% cutoff at H = 2.5, while a run of 13 has odds 0.4^13 = 7e-6.
        let config = credit_2_5();
        let cutoffs = config.cutoffs(2.5).unwrap();
        let mut t = HealthTests::new(&config, 2.5).unwrap();
        let mut rng = SplitMix64(33);
        let mut past = [0u8; 3];
        let mut failure = None;
        for i in 0..20_000usize {
            let s = if rng.next() % 10 < 4 {
                past[i % 3]
            } else {
                rng.symbol()
            };
            past[i % 3] = s;
            if let Err(f) = t.feed(s) {
                failure = Some(f);
                break;
            }
        }
        let f = failure.expect("never caught");
        assert_eq!(f.test, HealthTest::PredictorCount, "{f}");
        assert_eq!(f.cutoff, cutoffs.predictor_count_intermittent);
        assert_eq!(f.cutoff, 875);
        assert!(t.stats().max_predictor_run < 13, "{:?}", t.stats());
    }

    #[test]
    fn predictor_count_cutoff_matches_the_binomial_bound() {
        assert_eq!(predictor_count_cutoff(4096, 2.5, 30), Ok(875));
        assert_eq!(predictor_count_cutoff(4096, 2.5, 60), Ok(947));
        assert!(matches!(
            predictor_count_cutoff(100, 2.5, 30),
            Err(CutoffError::BadWindow { window: 100 })
        ));
        // A credit so low that the count could never fail is refused.
        assert!(matches!(
            predictor_count_cutoff(256, 0.01, 60),
            Err(CutoffError::AptCannotFail { .. })
        ));
    }

    #[test]
    fn debug_shows_cutoffs_and_counters_only() {
        let mut t = HealthTests::new(&HealthConfig::default(), 1.0).unwrap();
        // Distinctive symbols: a derived Debug would print them as the RCT
        // symbol, the APT base and the predictor's history.
        for s in [0xa7u8, 0xa7, 0xa7, 0xa7, 0xa7] {
            t.feed(s).unwrap();
        }
        let shown = format!("{t:?}");
        assert!(
            shown.contains("cutoffs") && shown.contains("max_rct_run: 5"),
            "{shown}"
        );
        for field in ["rct_symbol", "apt_base", "history", "167"] {
            assert!(!shown.contains(field), "{field} in {shown}");
        }
    }

    #[test]
    fn startup_samples_are_bounded() {
        let config = HealthConfig {
            startup_samples: u32::MAX,
            ..HealthConfig::default()
        };
        assert_eq!(config.validate().unwrap_err().field, "startup_samples");
    }

    #[test]
    fn a_count_failure_in_two_windows_in_a_row_is_permanent() {
        // A source the lag predictor gets right about 22.3% of the time:
        // above the intermittent count cutoff (875 of 4096, 21.4%), below
        // the permanent one (947, 23.1%). Output is noted every 128 symbols
        // (as the seeder releases blocks), which resets the escalation
        // count: only the consecutive-window rule can latch it.
        let mut t = HealthTests::new(&HealthConfig::default(), 2.5).unwrap();
        let mut rng = SplitMix64(34);
        let mut past = [0u8; 3];
        let mut intermittent_windows = 0;
        for i in 0..6 * 4096usize {
            let s = if rng.next() % 100 < 22 {
                past[i % 3]
            } else {
                rng.symbol()
            };
            past[i % 3] = s;
            if i % 128 == 0 {
                t.note_output();
            }
            if let Err(f) = t.feed(s) {
                assert_eq!(f.test, HealthTest::PredictorCount, "{f}");
                if f.is_permanent() {
                    assert_eq!(f.escalated_after, 2, "{f}");
                    assert!(intermittent_windows >= 1);
                    assert!(t.permanent_failure().is_some());
                    return;
                }
                intermittent_windows = t.stats().predictor_intermittent;
            }
        }
        panic!("never latched ({intermittent_windows} intermittent windows)");
    }
}
