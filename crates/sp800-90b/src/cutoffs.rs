//! The cutoffs of the health tests, from SP 800-90B's formulas.
//!
//! Every cutoff derives from the min-entropy `H` credited per symbol and a
//! false-positive probability `alpha`:
//!
//! * RCT (SP 800-90B section 4.4.1): `C = 1 + ceil(-log2(alpha) / H)`; see
//!   [`rct_cutoff`]. The predictor test's run uses the same bound.
//! * APT (SP 800-90B section 4.4.2): `C = 1 + CRITBINOM(W, 2^-H, 1 - alpha)`
//!   with the window `W = 512` for non-binary symbols; see [`apt_cutoff`].
//!   The predictor test's count uses the same bound over its window
//!   ([`predictor_count_cutoff`]).
//!
//! `alpha` is always a power of two here and is passed as its negated base-2
//! logarithm: `alpha_log2 = 30` means `alpha = 2^-30`. Pure arithmetic, no
//! allocation: a health test of any noise source can take its cutoffs from
//! here.
//!
//! ```
//! use sp800_90b::cutoffs::{apt_cutoff, rct_cutoff};
//! // Go's crypto/internal/entropy: H = 0.5 bit per symbol, alpha = 2^-20.
//! assert_eq!(rct_cutoff(0.5, 20), Ok(41));
//! assert_eq!(apt_cutoff(512, 0.5, 20), Ok(410));
//! ```

use core::fmt;

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

/// Checks a false-positive rate `alpha = 2^-alpha_log2` as every cutoff
/// here does: `alpha_log2` in [`MIN_ALPHA_LOG2`]..=[`MAX_ALPHA_LOG2`], else
/// [`CutoffError::BadAlpha`]. For configurations validated before any cutoff
/// is computed.
pub fn check_alpha(alpha_log2: u32) -> Result<(), CutoffError> {
    if !(MIN_ALPHA_LOG2..=MAX_ALPHA_LOG2).contains(&alpha_log2) {
        return Err(CutoffError::BadAlpha { alpha_log2 });
    }
    Ok(())
}

/// Checks an APT window as [`apt_cutoff`] does: `window` in
/// [`MIN_APT_WINDOW`]..=[`MAX_APT_WINDOW`], else [`CutoffError::BadWindow`].
pub fn check_apt_window(window: u32) -> Result<(), CutoffError> {
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
    check_apt_window(window)?;
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
    check_apt_window(window)?;
    check_h(h)?;
    check_alpha(alpha_log2)?;
    let cutoff = 2 + critbinom(window - 1, h, alpha_log2);
    if cutoff > window {
        return Err(CutoffError::AptCannotFail { cutoff, window });
    }
    Ok(cutoff)
}

/// Cutoff of the predictor test's count, see the [health module](super):
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

#[cfg(test)]
mod tests {
    use super::*;

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
        // An always-readable socket loop assessed at about 0.05 bit per
        // symbol: an APT at W = 512 could never fail.
        assert!(matches!(
            apt_cutoff(512, 0.05, 60),
            Err(CutoffError::AptCannotFail { window: 512, .. })
        ));
    }
}
