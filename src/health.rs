//! SP 800-90B section 4 health tests: start-up, Repetition Count Test (RCT)
//! and Adaptive Proportion Test (APT), each at two levels (intermittent and
//! permanent), as in jitterentropy, and a third continuous test of our own,
//! a lag predictor, which sees the periodic sources that RCT and APT pass.
//!
//! Pure code: no I/O, no clock, no allocation while testing. The tests run on the 8-bit
//! symbol the collector derives from each sample; [`HealthTests::feed`] takes
//! one symbol and says whether the sample may be credited.
//!
//! # Cutoffs
//!
//! Both tests compare a count against a cutoff `C` derived from the min-entropy
//! `H` credited per symbol and a false-positive probability `alpha`, by the
//! standard's formulas:
//!
//! * RCT (SP 800-90B section 4.4.1): `C = 1 + ceil(-log2(alpha) / H)`; see
//!   [`rct_cutoff`].
//! * APT (SP 800-90B section 4.4.2): `C = 1 + CRITBINOM(W, 2^-H, 1 - alpha)`
//!   with the window `W = 512` for non-binary symbols; see [`apt_cutoff`].
//!
//! `alpha` is always a power of two here and is passed as its negated base-2
//! logarithm: `alpha_log2 = 30` means `alpha = 2^-30`.
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
//! and never latch. Such a source can still release the blocks of up to
//! two windows before the count catches it (about 60 at the default
//! credit): the count is a window test, and the estimators' assessment,
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
//! | kqseed default | 1 | 2^-30 / 2^-60 | 31 / 61 | 325 / 355 |
//!
//! kqseed's predictor test at the default H = 1: run 31 / 61, count 2241 /
//! 2329 correct predictions in 4096 (expected for a source of exactly 1
//! bit: 2048). jitterentropy's lag predictor uses fixed cutoffs per osr.
//!
//! jitterentropy compares `>= 30 * osr`, one less than the formula's
//! `1 + 30 * osr`, and computes its APT cutoffs with the correction of SP
//! 800-90B public comment #10b (see [`apt_cutoff_corrected`]); Go and kqseed
//! use the standard's own formulas. The two APT formulas differ by at most
//! one count.

use core::fmt;

use crate::ConfigError;

/// Smallest accepted `alpha_log2` (`alpha = 2^-10`): below it false alarms
/// would be routine (SP 800-90B section 4.4 recommends `2^-20 <= alpha <=
/// 2^-40`; the permanent level goes beyond on purpose).
pub const MIN_ALPHA_LOG2: u32 = 10;
/// Largest accepted `alpha_log2` (`alpha = 2^-64`).
pub const MAX_ALPHA_LOG2: u32 = 64;
/// Smallest accepted APT window.
pub const MIN_APT_WINDOW: u32 = 16;
/// Largest accepted APT window (the standard uses 512 and 1024).
pub const MAX_APT_WINDOW: u32 = 4096;
/// Largest min-entropy an 8-bit symbol can carry.
pub const MAX_H: f64 = 8.0;
/// The fewest start-up samples SP 800-90B section 4.3 allows: at least 1024
/// consecutive samples.
pub const MIN_STARTUP_SAMPLES: u32 = 1024;
/// The most start-up samples accepted: 2^20 (8 MiB of deltas held at once).
pub const MAX_STARTUP_SAMPLES: u32 = 1 << 20;
/// Lags the predictor test follows: periods up to 32 symbols are learnt.
pub const PREDICTOR_LAGS: usize = 32;
/// Smallest accepted predictor window.
pub const MIN_PREDICTOR_WINDOW: u32 = 256;
/// Largest accepted predictor window.
pub const MAX_PREDICTOR_WINDOW: u32 = 65_536;
/// Default predictor window: 4096 predictions.
pub const DEFAULT_PREDICTOR_WINDOW: u32 = 4096;

/// Why a cutoff could not be computed.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum CutoffError {
    /// `H` is not a number in `(0, 8]`.
    BadEntropy {
        /// The `H` that was given.
        h: f64,
    },
    /// `alpha_log2` outside `MIN_ALPHA_LOG2..=MAX_ALPHA_LOG2`.
    BadAlpha {
        /// The `alpha_log2` that was given.
        alpha_log2: u32,
    },
    /// The window is outside `MIN_APT_WINDOW..=MAX_APT_WINDOW`.
    BadWindow {
        /// The window that was given.
        window: u32,
    },
    /// The APT cutoff would exceed the window, so the test could never fail:
    /// `H` is too small for this `alpha` and window.
    AptCannotFail {
        /// The cutoff the formula gives.
        cutoff: u32,
        /// The window.
        window: u32,
    },
}

impl fmt::Display for CutoffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CutoffError::BadEntropy { h } => {
                write!(f, "min-entropy per symbol {h} is not in (0, {MAX_H}]")
            }
            CutoffError::BadAlpha { alpha_log2 } => write!(
                f,
                "alpha = 2^-{alpha_log2} is outside 2^-{MIN_ALPHA_LOG2} ..= 2^-{MAX_ALPHA_LOG2}"
            ),
            CutoffError::BadWindow { window } => write!(
                f,
                "window {window} is outside the accepted range (APT {MIN_APT_WINDOW}..={MAX_APT_WINDOW}, predictor {MIN_PREDICTOR_WINDOW}..={MAX_PREDICTOR_WINDOW})"
            ),
            CutoffError::AptCannotFail { cutoff, window } => write!(
                f,
                "APT cutoff {cutoff} exceeds the window of {window}: the test could never fail \
                 (credit more entropy per symbol or choose a larger alpha)"
            ),
        }
    }
}

impl core::error::Error for CutoffError {}

fn check_h(h: f64) -> Result<(), CutoffError> {
    // `!(h > 0.0)` also rejects NaN.
    if !(h > 0.0 && h <= MAX_H) {
        return Err(CutoffError::BadEntropy { h });
    }
    Ok(())
}

fn check_alpha(alpha_log2: u32) -> Result<(), CutoffError> {
    if !(MIN_ALPHA_LOG2..=MAX_ALPHA_LOG2).contains(&alpha_log2) {
        return Err(CutoffError::BadAlpha { alpha_log2 });
    }
    Ok(())
}

fn check_window(window: u32) -> Result<(), CutoffError> {
    if !(MIN_APT_WINDOW..=MAX_APT_WINDOW).contains(&window) {
        return Err(CutoffError::BadWindow { window });
    }
    Ok(())
}

/// Repetition Count Test cutoff, SP 800-90B section 4.4.1:
/// `C = 1 + ceil(-log2(alpha) / H)` with `alpha = 2^-alpha_log2`.
///
/// The test fails when one symbol occurs `C` times in a row. `H` is the
/// min-entropy credited per 8-bit symbol, in `(0, 8]`. Should the division
/// round up across an integer, the cutoff grows by one, which only lowers the
/// false-positive rate.
///
/// Examples: `H = 0.5, alpha = 2^-20` gives 41 (Go's `crypto/internal/entropy`);
/// `H = 1, alpha = 2^-30` gives 31.
pub fn rct_cutoff(h: f64, alpha_log2: u32) -> Result<u32, CutoffError> {
    check_h(h)?;
    check_alpha(alpha_log2)?;
    // A tiny H (say 1e-300) passes `check_h` but makes the quotient huge or
    // infinite: bound it before converting.
    let q = (f64::from(alpha_log2) / h).ceil();
    if !q.is_finite() || q >= f64::from(u32::MAX - 1) {
        return Err(CutoffError::BadEntropy { h });
    }
    // `q` is a finite integer in [1, u32::MAX - 1): the cast is exact.
    Ok(1 + q as u32)
}

/// Adaptive Proportion Test cutoff, SP 800-90B section 4.4.2:
/// `C = 1 + CRITBINOM(W, 2^-H, 1 - alpha)` with `alpha = 2^-alpha_log2`.
///
/// `CRITBINOM(n, p, q)` is Excel's function: the smallest `k` for which the
/// binomial distribution function `P[X <= k]`, `X ~ B(n, p)`, is at least `q`.
/// The test fails when the first symbol of a window of `W` symbols occurs `C`
/// times in it (the first occurrence included). `W = 512` for non-binary
/// symbols.
///
/// The tail is summed in log space from the top, so nothing underflows for
/// `alpha` down to `2^-64` and windows up to `MAX_APT_WINDOW`; tests compare
/// the result with values computed in 80-digit arithmetic.
///
/// Because the first sample of a window always counts, the real per-window
/// false-positive rate of this cutoff is `P[1 + B(W - 1, p) >= C]`, which can
/// exceed `alpha` a little: at `W = 512` it is `2^-29.5` instead of `2^-30`
/// for `H = 2`, and `2^-57.4` instead of `2^-60` for `H = 6.5`.
/// [`apt_cutoff_corrected`] gives the cutoff without that excess.
///
/// Examples: `W = 512, H = 0.5, alpha = 2^-20` gives 410 (Go's
/// `crypto/internal/entropy`); `W = 512, H = 1, alpha = 2^-30` gives 325.
///
/// Fails with [`CutoffError::AptCannotFail`] when `C > W`.
pub fn apt_cutoff(window: u32, h: f64, alpha_log2: u32) -> Result<u32, CutoffError> {
    check_window(window)?;
    binomial_cutoff(window, h, alpha_log2)
}

/// `1 + CRITBINOM(n, 2^-H, 1 - alpha)`, which must not exceed `n`: the APT's
/// and the predictor count's cutoff.
fn binomial_cutoff(n: u32, h: f64, alpha_log2: u32) -> Result<u32, CutoffError> {
    check_h(h)?;
    check_alpha(alpha_log2)?;
    let cutoff = 1 + critbinom(n, h, alpha_log2);
    if cutoff > n {
        return Err(CutoffError::AptCannotFail { cutoff, window: n });
    }
    Ok(cutoff)
}

/// Adaptive Proportion Test cutoff with the correction of SP 800-90B public
/// comment #10b (J. Hill, 2019), which jitterentropy uses:
/// `C = 2 + CRITBINOM(W - 1, 2^-H, 1 - alpha)`.
///
/// The first symbol of a window is its own first occurrence, so only the
/// other `W - 1` symbols are random; with this cutoff the per-window
/// false-positive rate is at most `alpha`. It is at most one more than
/// [`apt_cutoff`]. With `W = 512`, `alpha = 2^-30` and `H = 1/osr` it gives
/// jitterentropy's `jent_apt_cutoff_lookup` (325, 422, 459, ...).
pub fn apt_cutoff_corrected(window: u32, h: f64, alpha_log2: u32) -> Result<u32, CutoffError> {
    check_window(window)?;
    check_h(h)?;
    check_alpha(alpha_log2)?;
    let cutoff = 2 + critbinom(window - 1, h, alpha_log2);
    if cutoff > window {
        return Err(CutoffError::AptCannotFail { cutoff, window });
    }
    Ok(cutoff)
}

/// Cutoff of the predictor test's count, see the [module documentation](self):
/// `C = 1 + CRITBINOM(W_P, 2^-H, 1 - alpha)` correct predictions in a window
/// of `W_P` predictions.
///
/// Example: `W_P = 4096, H = 2.5, alpha = 2^-30` gives 875; `H = 1` gives
/// 2241.
///
/// Fails with [`CutoffError::AptCannotFail`] when `C > W_P` (a credit so low
/// that no count could fail) and [`CutoffError::BadWindow`] outside
/// [`MIN_PREDICTOR_WINDOW`]..=[`MAX_PREDICTOR_WINDOW`].
pub fn predictor_count_cutoff(window: u32, h: f64, alpha_log2: u32) -> Result<u32, CutoffError> {
    if !(MIN_PREDICTOR_WINDOW..=MAX_PREDICTOR_WINDOW).contains(&window) {
        return Err(CutoffError::BadWindow { window });
    }
    binomial_cutoff(window, h, alpha_log2)
}

/// The failure level a count reaches against its two cutoffs, with the
/// cutoff reached.
fn level_of(count: u32, intermittent: u32, permanent: u32) -> Option<(FailureLevel, u32)> {
    if count >= permanent {
        Some((FailureLevel::Permanent, permanent))
    } else if count >= intermittent {
        Some((FailureLevel::Intermittent, intermittent))
    } else {
        None
    }
}

/// `ln(e^a + e^b)` without overflow; either may be `-inf`.
fn ln_add(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    if lo == f64::NEG_INFINITY {
        return hi;
    }
    hi + (lo - hi).exp().ln_1p()
}

/// `CRITBINOM(n, 2^-h, 1 - 2^-alpha_log2)`: the smallest `k` with
/// `P[X > k] <= alpha` for `X ~ B(n, 2^-h)`.
///
/// Walks `k` down from `n`, adding `ln P[X = k]` into `ln P[X > k - 1]` by
/// log-sum-exp; the probabilities come from the ratio
/// `P[X = k-1] / P[X = k] = k / (n - k + 1) * (1 - p) / p`, started at
/// `ln P[X = n] = n ln p`. Nothing under- or overflows: for `n <= 4096` and
/// `p >= 2^-8` every log stays above `-3e4`.
fn critbinom(n: u32, h: f64, alpha_log2: u32) -> u32 {
    let ln_alpha = -f64::from(alpha_log2) * core::f64::consts::LN_2;
    let p = (-h).exp2();
    let ln_p = p.ln();
    let ln_q = (-p).ln_1p();
    let mut ln_pmf = f64::from(n) * ln_p; // ln P[X = k], k = n
    let mut ln_tail = f64::NEG_INFINITY; // ln P[X > k], k = n
    let mut k = n;
    loop {
        // Exact ties happen (`P[X > n - 1] = p^n = alpha` when `n H` equals
        // `alpha_log2`) and the standard counts them as passing (`>=` in
        // CRITBINOM): a tolerance of 1e-9 in the logarithm keeps rounding
        // from turning them into fails. The closest non-tie case in the
        // reference grid is 1e-3 away.
        if ln_tail > ln_alpha + 1e-9 {
            // P[X > k] > alpha, and P[X > k + 1] <= alpha from the previous
            // step (or k = n, where P[X > n] = 0).
            return k + 1;
        }
        if k == 0 {
            return 0;
        }
        ln_tail = ln_add(ln_tail, ln_pmf); // now ln P[X > k - 1]
        ln_pmf += (f64::from(k) / f64::from(n - k + 1)).ln() + ln_q - ln_p;
        k -= 1;
    }
}

/// Default credited min-entropy per 8-bit symbol: 1 bit.
///
/// The default collector samples per kernel path
/// ([`Sampling::PerPath`](crate::Sampling::PerPath)). On this project's
/// reference machine the full SP 800-90B section 6.3 estimator set, on
/// 1,000,000 symbols, assessed the interleaved stream at 4.78-5.57 bits and
/// each path's own stream at 2.67 bits or more over five runs (SECURITY.md
/// gives the figures, the date and the command); half of the lowest is
/// 1.34. One bit leaves a quarter of that for machines that assess lower.
/// It is *not* conservative for loops of always-readable sockets alone
/// (README); a collector built that way must credit far less.
pub const DEFAULT_CREDITED_H: f64 = 1.0;
/// Default intermittent false-positive rate: `alpha = 2^-30`, as in
/// jitterentropy.
pub const DEFAULT_ALPHA_INTERMITTENT_LOG2: u32 = 30;
/// Default permanent false-positive rate: `alpha = 2^-60`, as in
/// jitterentropy.
pub const DEFAULT_ALPHA_PERMANENT_LOG2: u32 = 60;
/// APT window for non-binary symbols, SP 800-90B section 4.4.2.
pub const DEFAULT_APT_WINDOW: u32 = 512;
/// Default start-up length: the minimum SP 800-90B section 4.3 allows.
pub const DEFAULT_STARTUP_SAMPLES: u32 = MIN_STARTUP_SAMPLES;
/// Default number of intermittent failures tolerated without an output in
/// between; the next one is permanent.
///
/// With a healthy source each intermittent failure has probability about
/// `2^-30` per sample or window, so four of them before one block is released
/// (a few thousand samples) will not happen by chance.
pub const DEFAULT_MAX_INTERMITTENT_RETRIES: u32 = 3;

/// The cutoffs of [`HealthConfig::default`]:
/// `H = DEFAULT_CREDITED_H = 1` bit per symbol, `W = 512`.
///
/// * `rct_intermittent = 1 + ceil(30 / 1) = 31` (alpha `2^-30`, 4.4.1)
/// * `rct_permanent = 1 + ceil(60 / 1) = 61` (alpha `2^-60`, 4.4.1)
/// * `apt_intermittent = 1 + CRITBINOM(512, 2^-1, 1 - 2^-30) = 325` (4.4.2)
/// * `apt_permanent = 1 + CRITBINOM(512, 2^-1, 1 - 2^-60) = 355` (4.4.2)
///
/// * `predictor_run_*`: as the RCT's (see the [module documentation](self))
/// * `predictor_count_intermittent = 1 + CRITBINOM(4096, 2^-1, 1 - 2^-30) = 2241`
/// * `predictor_count_permanent = 1 + CRITBINOM(4096, 2^-1, 1 - 2^-60) = 2329`
///
/// These are the standard's formulas; the APT's real per-window
/// false-positive rate is a little above the nominal alpha because the first
/// sample of a window always counts (see [`apt_cutoff`]). A unit test
/// recomputes the four cutoffs.
pub const DEFAULT_CUTOFFS: HealthCutoffs = HealthCutoffs {
    rct_intermittent: 31,
    rct_permanent: 61,
    apt_intermittent: 325,
    apt_permanent: 355,
    predictor_run_intermittent: 31,
    predictor_run_permanent: 61,
    predictor_count_intermittent: 2241,
    predictor_count_permanent: 2329,
};

/// Configuration of the health tests.
///
/// Built with [`HealthConfig::default`] and adjusted field by field; checked
/// by [`HealthConfig::validate`] (which [`HealthTests::new`] calls).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealthConfig {
    /// Min-entropy credited per 8-bit symbol, in bits, `(0, 8]`. The cutoffs
    /// derive from it, and the seeder credits the conditioner with it.
    /// Default [`DEFAULT_CREDITED_H`] (1 bit).
    pub credited_h: f64,
    /// `alpha = 2^-alpha_intermittent_log2` for the intermittent cutoffs.
    /// Default 30.
    pub alpha_intermittent_log2: u32,
    /// `alpha = 2^-alpha_permanent_log2` for the permanent cutoffs; must be
    /// larger than `alpha_intermittent_log2` (a smaller alpha). Default 60.
    pub alpha_permanent_log2: u32,
    /// APT window `W`. Default 512 (non-binary symbols).
    pub apt_window: u32,
    /// Consecutive samples that must pass before the first output, at least
    /// [`MIN_STARTUP_SAMPLES`]. Default 1024.
    pub startup_samples: u32,
    /// Intermittent failures tolerated without an output in between (see
    /// [`HealthTests::note_output`]); one more is a permanent failure.
    /// Default 3.
    pub max_intermittent_retries: u32,
    /// Predictions per window of the predictor test's count, in
    /// [`MIN_PREDICTOR_WINDOW`]..=[`MAX_PREDICTOR_WINDOW`]. Default 4096.
    pub predictor_window: u32,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            credited_h: DEFAULT_CREDITED_H,
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
    /// Checks every field and returns the four cutoffs they give.
    pub fn validate(&self) -> Result<HealthCutoffs, ConfigError> {
        check_h(self.credited_h).map_err(|e| config_error("credited_h", e))?;
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
        check_window(self.apt_window).map_err(|e| config_error("apt_window", e))?;
        if self.startup_samples < MIN_STARTUP_SAMPLES {
            return Err(config_error(
                "startup_samples",
                format_args!(
                    "{} is fewer than the {MIN_STARTUP_SAMPLES} SP 800-90B requires",
                    self.startup_samples
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
        let h = self.credited_h;
        let cutoffs = HealthCutoffs {
            rct_intermittent: rct_cutoff(h, self.alpha_intermittent_log2)
                .map_err(|e| config_error("credited_h", e))?,
            rct_permanent: rct_cutoff(h, self.alpha_permanent_log2)
                .map_err(|e| config_error("credited_h", e))?,
            apt_intermittent: apt_cutoff(self.apt_window, h, self.alpha_intermittent_log2)
                .map_err(|e| config_error("credited_h", e))?,
            apt_permanent: apt_cutoff(self.apt_window, h, self.alpha_permanent_log2)
                .map_err(|e| config_error("credited_h", e))?,
            predictor_run_intermittent: rct_cutoff(h, self.alpha_intermittent_log2)
                .map_err(|e| config_error("credited_h", e))?,
            predictor_run_permanent: rct_cutoff(h, self.alpha_permanent_log2)
                .map_err(|e| config_error("credited_h", e))?,
            predictor_count_intermittent: predictor_count_cutoff(
                self.predictor_window,
                h,
                self.alpha_intermittent_log2,
            )
            .map_err(|e| config_error("predictor_window", e))?,
            predictor_count_permanent: predictor_count_cutoff(
                self.predictor_window,
                h,
                self.alpha_permanent_log2,
            )
            .map_err(|e| config_error("predictor_window", e))?,
        };
        Ok(cutoffs)
    }
}

/// The four cutoffs in force (see [`rct_cutoff`] and [`apt_cutoff`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthCutoffs {
    /// RCT run length that is an intermittent failure.
    pub rct_intermittent: u32,
    /// RCT run length that is a permanent failure.
    pub rct_permanent: u32,
    /// APT count in one window that is an intermittent failure.
    pub apt_intermittent: u32,
    /// APT count in one window that is a permanent failure.
    pub apt_permanent: u32,
    /// Correct predictions in a row that are an intermittent failure.
    pub predictor_run_intermittent: u32,
    /// Correct predictions in a row that are a permanent failure.
    pub predictor_run_permanent: u32,
    /// Correct predictions in one window that are an intermittent failure.
    pub predictor_count_intermittent: u32,
    /// Correct predictions in one window that are a permanent failure.
    pub predictor_count_permanent: u32,
}

/// Which health test failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
}

impl fmt::Display for HealthTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HealthTest::Rct => "repetition count test",
            HealthTest::Apt => "adaptive proportion test",
            HealthTest::PredictorRun => "predictor run test",
            HealthTest::PredictorCount => "predictor count test",
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
    /// them is described by the other fields). `0` otherwise.
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
    /// Permanent failures escalated from repeated intermittent ones (0 or 1).
    pub escalations: u64,
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

/// The start-up, RCT and APT state machine.
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
    window: u32,
    startup_samples: u32,
    max_intermittent_retries: u32,

    /// Consecutive passing samples towards start-up; saturates at
    /// `startup_samples`.
    startup_passed: u32,

    rct_symbol: u8,
    rct_run: u32,
    /// The failure of the current run, reported again for every further
    /// sample of the same run.
    rct_failed: Option<HealthFailure>,

    apt_base: u8,
    apt_count: u32,
    /// Samples of the current window seen so far, the base included; 0 means
    /// the next sample opens a window.
    apt_seen: u32,
    /// The failure of the current window, reported again for every further
    /// sample of the window.
    apt_failed: Option<HealthFailure>,

    predictor: LagPredictor,

    latched: Option<HealthFailure>,
    stats: HealthStats,
}

impl fmt::Debug for HealthTests {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthTests")
            .field("cutoffs", &self.cutoffs)
            .field("started", &self.is_started())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Drop for HealthTests {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.rct_symbol.zeroize();
        self.apt_base.zeroize();
    }
}

/// The lag predictor of the predictor test (see the module documentation).
struct LagPredictor {
    /// The last `PREDICTOR_LAGS` symbols, a ring: `history[pos]` is the
    /// oldest once it has filled.
    history: zeroize::Zeroizing<[u8; PREDICTOR_LAGS]>,
    pos: usize,
    filled: usize,
    /// Hits per lag (`scores[d]` for lag `d + 1`) in this window.
    scores: [u32; PREDICTOR_LAGS],
    best: usize,
    window: u32,
    /// Predictions made in this window.
    made: u32,
    /// Correct ones among them.
    hits: u32,
    run: u32,
    run_failed: Option<HealthFailure>,
    count_failed: Option<HealthFailure>,
    /// Whether the previous window failed the count.
    previous_window_failed: bool,
}

impl LagPredictor {
    fn new(window: u32) -> LagPredictor {
        LagPredictor {
            history: zeroize::Zeroizing::new([0; PREDICTOR_LAGS]),
            pos: 0,
            filled: 0,
            scores: [0; PREDICTOR_LAGS],
            best: 0,
            window,
            made: 0,
            hits: 0,
            run: 0,
            run_failed: None,
            count_failed: None,
            previous_window_failed: false,
        }
    }

    /// The symbol `lag` (1-based) back.
    fn back(&self, lag: usize) -> u8 {
        self.history[(self.pos + PREDICTOR_LAGS - lag) % PREDICTOR_LAGS]
    }

    /// Scores the prediction for `symbol`, learns from it, and returns
    /// whether a prediction was made and was right.
    fn observe(&mut self, symbol: u8) -> Option<bool> {
        let correct = (self.filled > self.best).then(|| self.back(self.best + 1) == symbol);
        if let Some(correct) = correct {
            self.made += 1;
            if correct {
                self.hits += 1;
                self.run = self.run.saturating_add(1);
            } else {
                self.run = 0;
                self.run_failed = None;
            }
        }
        for d in 0..self.filled {
            if self.back(d + 1) == symbol {
                self.scores[d] += 1;
                // As SP 800-90B 6.3.8: a tie goes to the longer lag.
                if self.scores[d] >= self.scores[self.best] {
                    self.best = d;
                }
            }
        }
        self.history[self.pos] = symbol;
        self.pos = (self.pos + 1) % PREDICTOR_LAGS;
        self.filled = (self.filled + 1).min(PREDICTOR_LAGS);
        correct
    }

    /// Called after the failures of a prediction were reported: a full
    /// window starts afresh, scores included.
    fn end_window_if_full(&mut self) {
        if self.made >= self.window {
            self.previous_window_failed = self.count_failed.is_some();
            self.made = 0;
            self.hits = 0;
            self.scores = [0; PREDICTOR_LAGS];
            self.best = 0;
            self.count_failed = None;
        }
    }
}

impl HealthTests {
    /// Validates `config` and starts the tests, start-up included.
    pub fn new(config: &HealthConfig) -> Result<Self, ConfigError> {
        let cutoffs = config.validate()?;
        Ok(HealthTests {
            cutoffs,
            window: config.apt_window,
            startup_samples: config.startup_samples,
            max_intermittent_retries: config.max_intermittent_retries,
            startup_passed: 0,
            rct_symbol: 0,
            rct_run: 0,
            rct_failed: None,
            apt_base: 0,
            apt_count: 0,
            apt_seen: 0,
            apt_failed: None,
            predictor: LagPredictor::new(config.predictor_window),
            latched: None,
            stats: HealthStats::default(),
        })
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
        let rct = self.rct_step(symbol, during_startup);
        let apt = self.apt_step(symbol, during_startup);
        let predictor = self.predictor_step(symbol, during_startup);

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
        if failure.level == FailureLevel::Intermittent
            && self.stats.intermittent_since_output > self.max_intermittent_retries
        {
            failure.level = FailureLevel::Permanent;
            failure.escalated_after = self.stats.intermittent_since_output;
            self.stats.escalations += 1;
        }
        if failure.is_permanent() {
            self.latched = Some(failure);
        }
        Err(failure)
    }

    /// Records a new failure event of `test` at `level`.
    fn count_event(&mut self, test: HealthTest, level: FailureLevel) {
        let s = &mut self.stats;
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
        }
        if level == FailureLevel::Intermittent {
            s.intermittent_since_output = s.intermittent_since_output.saturating_add(1);
        }
    }

    /// SP 800-90B 4.4.1: count the run of equal symbols; fail at the cutoffs.
    fn rct_step(&mut self, symbol: u8, during_startup: bool) -> Option<HealthFailure> {
        if self.rct_run > 0 && symbol == self.rct_symbol {
            self.rct_run = self.rct_run.saturating_add(1);
        } else {
            self.rct_symbol = symbol;
            self.rct_run = 1;
            self.rct_failed = None;
        }
        self.stats.max_rct_run = self.stats.max_rct_run.max(self.rct_run);
        let (level, cutoff) = if self.rct_run >= self.cutoffs.rct_permanent {
            (FailureLevel::Permanent, self.cutoffs.rct_permanent)
        } else if self.rct_run >= self.cutoffs.rct_intermittent {
            (FailureLevel::Intermittent, self.cutoffs.rct_intermittent)
        } else {
            return None;
        };
        if self.rct_failed.is_none_or(|f| f.level != level) {
            self.count_event(HealthTest::Rct, level);
            self.rct_failed = Some(HealthFailure {
                test: HealthTest::Rct,
                level,
                observed: self.rct_run,
                cutoff,
                during_startup,
                escalated_after: 0,
            });
        }
        self.rct_failed
    }

    /// The predictor test: score the lag predictor's guess for `symbol`,
    /// then fail on a long run of correct guesses or too many in a window.
    fn predictor_step(&mut self, symbol: u8, during_startup: bool) -> Option<HealthFailure> {
        let correct = self.predictor.observe(symbol);
        let p = &self.predictor;
        self.stats.max_predictor_run = self.stats.max_predictor_run.max(p.run);
        self.stats.max_predictor_count = self.stats.max_predictor_count.max(p.hits);
        let c = self.cutoffs;
        let run = level_of(
            p.run,
            c.predictor_run_intermittent,
            c.predictor_run_permanent,
        );
        let count = level_of(
            p.hits,
            c.predictor_count_intermittent,
            c.predictor_count_permanent,
        );
        let mut worst = None;
        if let Some((level, cutoff)) = run.filter(|_| correct == Some(true)) {
            if self.predictor.run_failed.is_none_or(|f| f.level != level) {
                self.count_event(HealthTest::PredictorRun, level);
                self.predictor.run_failed = Some(HealthFailure {
                    test: HealthTest::PredictorRun,
                    level,
                    observed: self.predictor.run,
                    cutoff,
                    during_startup,
                    escalated_after: 0,
                });
            }
            worst = self.predictor.run_failed;
        }
        if let Some((mut level, cutoff)) = count {
            // Blocks released early in a window reset the escalation count,
            // so a source that fails every window would never escalate: a
            // second window in a row is permanent (a good source fails two
            // in a row with probability alpha^2).
            let escalated =
                level == FailureLevel::Intermittent && self.predictor.previous_window_failed;
            if escalated {
                level = FailureLevel::Permanent;
            }
            if self.predictor.count_failed.is_none_or(|f| f.level != level) {
                self.count_event(HealthTest::PredictorCount, level);
                self.predictor.count_failed = Some(HealthFailure {
                    test: HealthTest::PredictorCount,
                    level,
                    observed: self.predictor.hits,
                    cutoff,
                    during_startup,
                    escalated_after: u32::from(escalated) * 2,
                });
            }
            // Every further sample of a failing window fails too.
            if worst.is_none_or(|w: HealthFailure| !w.is_permanent()) {
                worst = self.predictor.count_failed.or(worst);
            }
        }
        self.predictor.end_window_if_full();
        worst
    }

    /// SP 800-90B 4.4.2: count the first symbol of each window of `W`; fail
    /// at the cutoffs.
    fn apt_step(&mut self, symbol: u8, during_startup: bool) -> Option<HealthFailure> {
        if self.apt_seen == 0 {
            self.apt_base = symbol;
            self.apt_count = 1;
            self.apt_seen = 1;
            self.apt_failed = None;
            return None;
        }
        self.apt_seen += 1;
        if symbol == self.apt_base {
            self.apt_count += 1;
        }
        let window_done = self.apt_seen >= self.window;
        if window_done {
            self.apt_seen = 0;
        }
        self.stats.max_apt_count = self.stats.max_apt_count.max(self.apt_count);
        let (level, cutoff) = if self.apt_count >= self.cutoffs.apt_permanent {
            (FailureLevel::Permanent, self.cutoffs.apt_permanent)
        } else if self.apt_count >= self.cutoffs.apt_intermittent {
            (FailureLevel::Intermittent, self.cutoffs.apt_intermittent)
        } else {
            return None;
        };
        if self.apt_failed.is_none_or(|f| f.level != level) {
            self.count_event(HealthTest::Apt, level);
            self.apt_failed = Some(HealthFailure {
                test: HealthTest::Apt,
                level,
                observed: self.apt_count,
                cutoff,
                during_startup,
                escalated_after: 0,
            });
        }
        self.apt_failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::SplitMix64;

    fn config_h(h: f64) -> HealthConfig {
        HealthConfig {
            credited_h: h,
            ..HealthConfig::default()
        }
    }

    // `C = 1 + CRITBINOM(W, 2^-H, 1 - 2^-a)`, computed independently with
    // mpmath at 80 significant digits (exact binomial sums, bisection on k):
    // (W, a, [(H, C); 7]).
    type AptRow = (u32, u32, [(f64, u32); 7]);
    const APT_REFERENCE: &[AptRow] = &[
        (
            512,
            20,
            [
                (0.5, 410),
                (1.0, 311),
                (2.0, 177),
                (3.0, 103),
                (4.0, 62),
                (6.5, 21),
                (8.0, 13),
            ],
        ),
        (
            512,
            30,
            [
                (0.5, 422),
                (1.0, 325),
                (2.0, 190),
                (3.0, 114),
                (4.0, 71),
                (6.5, 26),
                (8.0, 16),
            ],
        ),
        (
            512,
            40,
            [
                (0.5, 432),
                (1.0, 336),
                (2.0, 201),
                (3.0, 123),
                (4.0, 78),
                (6.5, 30),
                (8.0, 19),
            ],
        ),
        (
            512,
            60,
            [
                (0.5, 447),
                (1.0, 355),
                (2.0, 220),
                (3.0, 139),
                (4.0, 91),
                (6.5, 37),
                (8.0, 25),
            ],
        ),
        (
            1024,
            20,
            [
                (0.5, 793),
                (1.0, 589),
                (2.0, 325),
                (3.0, 182),
                (4.0, 105),
                (6.5, 31),
                (8.0, 18),
            ],
        ),
        (
            1024,
            30,
            [
                (0.5, 810),
                (1.0, 609),
                (2.0, 343),
                (3.0, 197),
                (4.0, 116),
                (6.5, 37),
                (8.0, 22),
            ],
        ),
        (
            1024,
            40,
            [
                (0.5, 824),
                (1.0, 625),
                (2.0, 358),
                (3.0, 209),
                (4.0, 126),
                (6.5, 43),
                (8.0, 26),
            ],
        ),
        (
            1024,
            60,
            [
                (0.5, 847),
                (1.0, 652),
                (2.0, 384),
                (3.0, 230),
                (4.0, 143),
                (6.5, 52),
                (8.0, 33),
            ],
        ),
    ];

    #[test]
    fn apt_cutoff_matches_high_precision_reference() {
        for &(w, a, row) in APT_REFERENCE {
            for (h, c) in row {
                assert_eq!(apt_cutoff(w, h, a), Ok(c), "W={w} H={h} alpha=2^-{a}");
            }
        }
    }

    /// `1 + CRITBINOM(W, 2^-H, 1 - 2^-a)` for `H = k/8`, `k = 1..=64`, by
    /// mpmath at 80 digits (exact binomial tails); 0 where the cutoff would
    /// exceed `W`. Three entries are exact ties, where `P[X > k] = alpha`:
    /// `W = 64, H = 5/8, a = 40`, `W = 64, H = 1, a = 64` and
    /// `W = 512, H = 1/8, a = 64` (`P[X = W] = 2^(-H W) = alpha`).
    const APT_GRID: &[(u32, u32, [u32; 64])] = &[
        (
            64,
            20,
            [
                0, 0, 64, 61, 59, 56, 54, 51, 49, 47, 45, 42, 40, 38, 37, 35, 33, 32, 30, 29, 27,
                26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 17, 16, 15, 15, 14, 14, 13, 13, 12, 12, 11,
                11, 11, 10, 10, 10, 9, 9, 9, 9, 8, 8, 8, 8, 7, 7, 7, 7, 7, 7, 6, 6, 6,
            ],
        ),
        (
            64,
            30,
            [
                0, 0, 0, 64, 62, 60, 58, 56, 54, 51, 49, 47, 45, 43, 41, 40, 38, 36, 35, 33, 32,
                31, 29, 28, 27, 26, 25, 24, 23, 22, 21, 21, 20, 19, 18, 18, 17, 17, 16, 16, 15, 15,
                14, 14, 13, 13, 12, 12, 12, 11, 11, 11, 11, 10, 10, 10, 10, 9, 9, 9, 9, 8, 8, 8,
            ],
        ),
        (
            64,
            40,
            [
                0, 0, 0, 0, 64, 63, 61, 59, 57, 55, 53, 51, 49, 47, 46, 44, 42, 40, 39, 37, 36, 35,
                33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 22, 21, 20, 20, 19, 18, 18, 17, 17,
                16, 16, 15, 15, 15, 14, 14, 13, 13, 13, 12, 12, 12, 12, 11, 11, 11, 11, 10, 10, 10,
            ],
        ),
        (
            64,
            60,
            [
                0, 0, 0, 0, 0, 0, 0, 64, 62, 61, 59, 57, 56, 54, 52, 50, 49, 47, 46, 44, 43, 41,
                40, 39, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 26, 25, 24, 24, 23, 22, 22,
                21, 21, 20, 20, 19, 19, 18, 18, 17, 17, 17, 16, 16, 15, 15, 15, 15, 14, 14, 14, 13,
            ],
        ),
        (
            64,
            64,
            [
                0, 0, 0, 0, 0, 0, 0, 64, 63, 62, 60, 58, 57, 55, 53, 52, 50, 48, 47, 45, 44, 42,
                41, 40, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 27, 26, 25, 25, 24, 23, 23,
                22, 21, 21, 20, 20, 19, 19, 19, 18, 18, 17, 17, 17, 16, 16, 16, 15, 15, 15, 14, 14,
            ],
        ),
        (
            512,
            20,
            [
                497, 468, 439, 410, 383, 357, 333, 311, 290, 270, 251, 234, 219, 204, 190, 177,
                165, 154, 144, 135, 126, 118, 110, 103, 97, 90, 85, 80, 75, 70, 66, 62, 58, 55, 52,
                49, 46, 43, 41, 39, 37, 35, 33, 31, 30, 28, 27, 25, 24, 23, 22, 21, 20, 19, 18, 18,
                17, 16, 15, 15, 14, 14, 13, 13,
            ],
        ),
        (
            512,
            30,
            [
                502, 477, 449, 422, 396, 371, 347, 325, 304, 284, 266, 248, 232, 217, 203, 190,
                178, 167, 157, 147, 138, 129, 121, 114, 107, 101, 95, 89, 84, 79, 75, 71, 67, 63,
                60, 56, 53, 51, 48, 46, 43, 41, 39, 37, 35, 34, 32, 31, 29, 28, 27, 26, 25, 24, 23,
                22, 21, 20, 19, 19, 18, 17, 17, 16,
            ],
        ),
        (
            512,
            40,
            [
                506, 483, 458, 432, 406, 382, 358, 336, 315, 296, 277, 260, 244, 229, 215, 201,
                189, 178, 167, 157, 148, 139, 131, 123, 116, 109, 103, 97, 92, 87, 82, 78, 74, 70,
                66, 63, 60, 57, 54, 51, 49, 47, 44, 42, 41, 39, 37, 35, 34, 33, 31, 30, 29, 28, 27,
                26, 25, 24, 23, 22, 21, 21, 20, 19,
            ],
        ),
        (
            512,
            60,
            [
                512, 494, 471, 447, 423, 399, 377, 355, 334, 315, 297, 279, 263, 248, 234, 220,
                207, 196, 185, 174, 164, 155, 147, 139, 131, 124, 118, 112, 106, 100, 95, 91, 86,
                82, 78, 74, 71, 68, 65, 62, 59, 56, 54, 52, 50, 47, 46, 44, 42, 40, 39, 37, 36, 35,
                34, 32, 31, 30, 29, 28, 27, 27, 26, 25,
            ],
        ),
        (
            512,
            64,
            [
                512, 495, 473, 449, 426, 402, 380, 358, 338, 318, 300, 283, 267, 251, 237, 223,
                211, 199, 188, 177, 168, 158, 150, 142, 134, 127, 120, 114, 108, 103, 98, 93, 88,
                84, 80, 76, 73, 70, 66, 64, 61, 58, 56, 53, 51, 49, 47, 45, 44, 42, 40, 39, 37, 36,
                35, 34, 33, 31, 30, 29, 29, 28, 27, 26,
            ],
        ),
        (
            1024,
            20,
            [
                979, 915, 853, 793, 737, 684, 635, 589, 547, 507, 471, 437, 405, 376, 350, 325,
                302, 280, 261, 242, 225, 210, 195, 182, 170, 158, 147, 138, 128, 120, 112, 105, 98,
                92, 86, 81, 76, 71, 67, 63, 59, 55, 52, 49, 46, 44, 41, 39, 37, 35, 33, 31, 30, 28,
                27, 26, 24, 23, 22, 21, 20, 19, 18, 18,
            ],
        ),
        (
            1024,
            30,
            [
                988, 928, 868, 810, 755, 703, 654, 609, 567, 527, 490, 456, 425, 395, 368, 343,
                319, 298, 278, 259, 242, 225, 211, 197, 184, 172, 161, 151, 141, 132, 124, 116,
                109, 103, 96, 91, 85, 80, 76, 71, 67, 64, 60, 57, 54, 51, 48, 46, 44, 41, 39, 37,
                36, 34, 32, 31, 30, 28, 27, 26, 25, 24, 23, 22,
            ],
        ),
        (
            1024,
            40,
            [
                995, 938, 880, 824, 770, 719, 670, 625, 583, 544, 507, 473, 441, 411, 384, 358,
                334, 312, 292, 273, 255, 239, 223, 209, 196, 184, 172, 162, 152, 143, 134, 126,
                119, 112, 105, 99, 94, 89, 84, 79, 75, 71, 67, 64, 60, 57, 55, 52, 49, 47, 45, 43,
                41, 39, 37, 36, 34, 33, 31, 30, 29, 28, 27, 26,
            ],
        ),
        (
            1024,
            60,
            [
                1005, 955, 901, 847, 794, 744, 697, 652, 611, 571, 534, 500, 468, 438, 410, 384,
                360, 337, 316, 296, 278, 261, 245, 230, 217, 204, 192, 181, 170, 160, 151, 143,
                135, 128, 121, 114, 108, 103, 97, 92, 88, 83, 79, 75, 72, 69, 65, 62, 60, 57, 55,
                52, 50, 48, 46, 44, 42, 41, 39, 38, 36, 35, 34, 33,
            ],
        ),
        (
            1024,
            64,
            [
                1007, 958, 904, 851, 799, 749, 702, 657, 615, 576, 539, 505, 473, 443, 415, 389,
                364, 342, 320, 301, 282, 265, 249, 234, 220, 207, 195, 184, 174, 164, 155, 146,
                138, 131, 124, 117, 111, 105, 100, 95, 90, 86, 82, 78, 74, 71, 67, 64, 61, 59, 56,
                54, 52, 50, 48, 46, 44, 42, 41, 39, 38, 36, 35, 34,
            ],
        ),
    ];

    #[test]
    fn apt_cutoff_matches_reference_grid() {
        for &(w, a, row) in APT_GRID {
            for (i, &c) in row.iter().enumerate() {
                let h = (i + 1) as f64 / 8.0;
                let got = apt_cutoff(w, h, a);
                if c == 0 {
                    assert!(
                        matches!(got, Err(CutoffError::AptCannotFail { .. })),
                        "W={w} H={h} a={a}: {got:?}"
                    );
                } else {
                    assert_eq!(got, Ok(c), "W={w} H={h} a={a}");
                }
            }
        }
    }

    #[test]
    fn apt_cutoff_at_the_largest_window() {
        // mpmath, 60 digits, as above: (H, C at 2^-30, C at 2^-64), W = 4096.
        for (h, c30, c64) in [
            (0.5, 3070, 3156),
            (1.0, 2241, 2339),
            (3.0, 644, 715),
            (8.0, 46, 65),
        ] {
            assert_eq!(apt_cutoff(MAX_APT_WINDOW, h, 30), Ok(c30), "H={h}");
            assert_eq!(apt_cutoff(MAX_APT_WINDOW, h, 64), Ok(c64), "H={h}");
        }
    }

    #[test]
    fn cutoffs_match_go_crypto_internal_entropy() {
        // Go documents RCT C = 41 and APT C = 410 for H = 0.5, alpha = 2^-20,
        // W = 512 (crypto/internal/fips140/entropy).
        assert_eq!(rct_cutoff(0.5, 20), Ok(41));
        assert_eq!(apt_cutoff(512, 0.5, 20), Ok(410));
    }

    #[test]
    fn corrected_apt_cutoff_matches_jitterentropy_tables() {
        // jitterentropy-health.c: jent_apt_cutoff_lookup (alpha 2^-30) and
        // jent_apt_cutoff_permanent_lookup (alpha 2^-60), H = 1/osr, W = 512.
        // Past osr 15 (intermittent) and 8 (permanent) jitterentropy clamps to
        // 512, where our function reports that the test could not fail.
        let intermittent = [
            325, 422, 459, 477, 488, 494, 499, 502, 505, 507, 508, 509, 510, 511, 512,
        ];
        let permanent = [355, 447, 479, 494, 502, 507, 510, 512];
        for (i, &c) in intermittent.iter().enumerate() {
            let osr = i as f64 + 1.0;
            assert_eq!(apt_cutoff_corrected(512, 1.0 / osr, 30), Ok(c), "osr {osr}");
        }
        for (i, &c) in permanent.iter().enumerate() {
            let osr = i as f64 + 1.0;
            assert_eq!(apt_cutoff_corrected(512, 1.0 / osr, 60), Ok(c), "osr {osr}");
        }
        assert_eq!(
            apt_cutoff_corrected(512, 1.0 / 9.0, 60),
            Err(CutoffError::AptCannotFail {
                cutoff: 513,
                window: 512
            })
        );
    }

    #[test]
    fn corrected_is_never_below_standard_and_at_most_one_above() {
        for w in [64, 512, 1024] {
            for a in [20, 30, 60] {
                for h in [0.5, 1.0, 2.0, 3.0, 4.0, 6.5, 8.0] {
                    let (Ok(s), Ok(c)) = (apt_cutoff(w, h, a), apt_cutoff_corrected(w, h, a))
                    else {
                        continue;
                    };
                    assert!(s <= c && c <= s + 1, "W={w} H={h} a={a}: {s} vs {c}");
                }
            }
        }
    }

    #[test]
    fn rct_cutoff_recomputed_for_several_h() {
        // 1 + ceil(a / H) by hand.
        let table = [
            (1.0, 30, 31),
            (1.0, 60, 61),
            (2.0, 30, 16),
            (2.0, 60, 31),
            (3.0, 30, 11),
            (3.0, 60, 21),
            (4.0, 30, 9),
            (4.0, 60, 16),
            (6.5, 30, 6),
            (6.5, 60, 11),
            (8.0, 30, 5),
            (8.0, 64, 9),
            (1.0 / 3.0, 30, 91),
        ];
        for (h, a, c) in table {
            assert_eq!(rct_cutoff(h, a), Ok(c), "H={h} a={a}");
        }
    }

    #[test]
    fn default_cutoffs_are_recomputed() {
        let h = DEFAULT_CREDITED_H;
        let ai = DEFAULT_ALPHA_INTERMITTENT_LOG2;
        let ap = DEFAULT_ALPHA_PERMANENT_LOG2;
        let w = DEFAULT_APT_WINDOW;
        let recomputed = HealthCutoffs {
            rct_intermittent: rct_cutoff(h, ai).unwrap(),
            rct_permanent: rct_cutoff(h, ap).unwrap(),
            apt_intermittent: apt_cutoff(w, h, ai).unwrap(),
            apt_permanent: apt_cutoff(w, h, ap).unwrap(),
            predictor_run_intermittent: rct_cutoff(h, ai).unwrap(),
            predictor_run_permanent: rct_cutoff(h, ap).unwrap(),
            predictor_count_intermittent: predictor_count_cutoff(DEFAULT_PREDICTOR_WINDOW, h, ai)
                .unwrap(),
            predictor_count_permanent: predictor_count_cutoff(DEFAULT_PREDICTOR_WINDOW, h, ap)
                .unwrap(),
        };
        assert_eq!(recomputed, DEFAULT_CUTOFFS);
        assert_eq!(HealthConfig::default().validate(), Ok(DEFAULT_CUTOFFS));
    }

    #[test]
    fn cutoffs_at_default_alphas_for_several_h() {
        // (H, RCT 2^-30, RCT 2^-60, APT 2^-30, APT 2^-60, predictor count
        // 2^-30, 2^-60), W = 512, W_P = 4096. The predictor counts were
        // computed with mpmath at 80 digits: the smallest k + 1 with
        // P[B(4096, 2^-H) > k] <= alpha.
        let table = [
            (1.0, 31, 61, 325, 355, 2241, 2329),
            (2.0, 16, 31, 190, 220, 1194, 1274),
            (3.0, 11, 21, 114, 139, 644, 708),
            (4.0, 9, 16, 71, 91, 355, 403),
            (6.5, 6, 11, 26, 37, 92, 116),
        ];
        for (h, ri, rp, ai, ap, pi, pp) in table {
            let c = config_h(h).validate().unwrap();
            assert_eq!(
                c,
                HealthCutoffs {
                    rct_intermittent: ri,
                    rct_permanent: rp,
                    apt_intermittent: ai,
                    apt_permanent: ap,
                    predictor_run_intermittent: ri,
                    predictor_run_permanent: rp,
                    predictor_count_intermittent: pi,
                    predictor_count_permanent: pp,
                },
                "H={h}"
            );
        }
    }

    #[test]
    fn cutoff_inputs_are_validated_without_panics() {
        for h in [
            0.0,
            -1.0,
            8.000_001,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert!(matches!(
                rct_cutoff(h, 30),
                Err(CutoffError::BadEntropy { .. })
            ));
            assert!(matches!(
                apt_cutoff(512, h, 30),
                Err(CutoffError::BadEntropy { .. })
            ));
        }
        // Tiny but positive H: a huge RCT cutoff is refused, not wrapped.
        assert!(matches!(
            rct_cutoff(1e-300, 30),
            Err(CutoffError::BadEntropy { .. })
        ));
        for a in [0, 9, 65, u32::MAX] {
            assert_eq!(
                rct_cutoff(1.0, a),
                Err(CutoffError::BadAlpha { alpha_log2: a })
            );
            assert_eq!(
                apt_cutoff(512, 1.0, a),
                Err(CutoffError::BadAlpha { alpha_log2: a })
            );
        }
        for w in [0, 15, 4097, u32::MAX] {
            assert_eq!(
                apt_cutoff(w, 1.0, 30),
                Err(CutoffError::BadWindow { window: w })
            );
        }
        // Extremes that are accepted.
        assert!(apt_cutoff(MAX_APT_WINDOW, MAX_H, MAX_ALPHA_LOG2).is_ok());
        assert!(apt_cutoff(MIN_APT_WINDOW, MAX_H, MIN_ALPHA_LOG2).is_ok());
        assert_eq!(rct_cutoff(f64::MIN_POSITIVE.max(1e-3), 64), Ok(64_001));
        // The socket-loop figure of FACTS.md: an APT at W = 512 cannot fail.
        assert!(matches!(
            apt_cutoff(512, 0.05, 60),
            Err(CutoffError::AptCannotFail { window: 512, .. })
        ));
    }

    #[test]
    fn config_validation_names_the_field() {
        let bad = [
            (config_h(0.0), "credited_h"),
            (config_h(0.05), "credited_h"),
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
            assert!(HealthTests::new(&config).is_err());
        }
    }

    #[test]
    fn constant_source_fails_rct_at_exactly_c_samples_then_latches() {
        let mut t = HealthTests::new(&HealthConfig::default()).unwrap();
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
        let mut t = HealthTests::new(&config_h(3.0)).unwrap();
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
        let mut t = HealthTests::new(&config_h(3.0)).unwrap();
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
        let mut t = HealthTests::new(&config_h(3.0)).unwrap();
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
        let mut t = HealthTests::new(&config_h(3.0)).unwrap();
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
            ..config_h(3.0)
        };
        let mut t = HealthTests::new(&config).unwrap();
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
        let mut t = HealthTests::new(&HealthConfig::default()).unwrap();
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
        let mut t = HealthTests::new(&HealthConfig::default()).unwrap();
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
        let mut t = HealthTests::new(&HealthConfig::default()).unwrap();
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
        assert_eq!(f.cutoff, DEFAULT_CUTOFFS.predictor_run_intermittent);
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
        assert_eq!(permanent.observed, DEFAULT_CUTOFFS.predictor_run_permanent);
        assert!(t.permanent_failure().is_some());
    }

    /// The predictor-count tests' credit: their sources are built around
    /// the cutoffs at H = 2.5.
    fn credit_2_5() -> HealthConfig {
        HealthConfig {
            credited_h: 2.5,
            ..HealthConfig::default()
        }
    }

    #[test]
    fn a_source_predictable_too_often_fails_the_count_without_long_runs() {
        // Each symbol repeats the one three back with probability 0.4,
        // otherwise uniform: right predictions ~40% of the time, against a
        // 21% cutoff at H = 2.5, while a run of 13 has odds 0.4^13 = 7e-6.
        let config = credit_2_5();
        let cutoffs = config.validate().unwrap();
        let mut t = HealthTests::new(&config).unwrap();
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
        let mut t = HealthTests::new(&HealthConfig::default()).unwrap();
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
        let mut t = HealthTests::new(&credit_2_5()).unwrap();
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
