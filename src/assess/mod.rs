//! NIST SP 800-90B section 6.3 min-entropy estimators (the non-IID track),
//! matching NIST's `ea_non_iid` 1.1.7.
//!
//! Pure code: no I/O, no clock. Every estimator takes a slice of symbols and
//! the size of their alphabet and returns an [`Estimate`].
//!
//! (The framework and estimators land in follow-up commits.)

/// `Z_alpha` for the 99% upper confidence bounds of SP 800-90B section 6.3
/// (the standard's 2.576, at the precision `ea_non_iid` uses).
#[allow(
    clippy::excessive_precision,
    reason = "spelled as in ea_non_iid's ZALPHA so the two can be compared by eye"
)]
#[allow(dead_code, reason = "used by predictors.rs, which lands separately")]
pub(crate) const Z_99: f64 = 2.5758293035489008;

/// The ten estimators of SP 800-90B section 6.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Estimator {
    /// 6.3.1 Most Common Value.
    Mcv,
    /// 6.3.2 Collision (binary data only).
    Collision,
    /// 6.3.3 Markov (binary data only).
    Markov,
    /// 6.3.4 Compression (binary data only).
    Compression,
    /// 6.3.5 t-Tuple.
    TTuple,
    /// 6.3.6 Longest Repeated Substring.
    Lrs,
    /// 6.3.7 Multi Most Common in Window prediction.
    MultiMcw,
    /// 6.3.8 Lag prediction.
    Lag,
    /// 6.3.9 Multi Markov Model with Counting prediction.
    MultiMmc,
    /// 6.3.10 LZ78Y prediction.
    Lz78y,
}

/// One estimator's result on one data set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Which estimator produced it.
    pub estimator: Estimator,
    /// The upper bound on the probability of the most likely outcome that the
    /// estimator settled on (`p_u`, `p`, or `max(1/k, P'_global, P_local)`).
    pub p_max: f64,
    /// `-log2(p_max)`, per symbol of the data set it ran on (per bit for
    /// binary data), capped where the standard caps it.
    pub min_entropy: f64,
}

/// Why an assessment could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AssessError {
    /// No symbols at all.
    Empty,
    /// Symbol width outside 1..=8 bits.
    BadWidth {
        /// The width asked for.
        bits: u8,
    },
    /// A symbol does not fit in the given width (or alphabet).
    SymbolTooWide {
        /// Position of the first offending symbol.
        index: usize,
        /// Its value.
        value: u8,
        /// The width it should fit in.
        bits: u8,
    },
    /// An estimator that runs on binary data only was given wider symbols.
    NotBinary {
        /// The estimator.
        estimator: Estimator,
    },
    /// Too few symbols for this estimator.
    TooFewSamples {
        /// The estimator.
        estimator: Estimator,
        /// The least it needs.
        needed: usize,
        /// What it got.
        got: usize,
    },
}

/// The common ending of the prediction estimators, SP 800-90B sections
/// 6.3.7-6.3.10 (steps "calculate the predictor's global and local
/// performance"), computed as `ea_non_iid` 1.1.7 does.
///
/// * `correct`: `C`, the number of correct predictions.
/// * `n`: `N`, the number of predictions made.
/// * `longest_run`: the longest run of consecutive correct predictions
///   (`ea_non_iid` prints `r = longest_run + 1`, the standard's `r`).
/// * `k`: the alphabet size, for the `1/k` floor.
///
/// `P_global = C/N`; `P'_global = min(1, P_global + Z*sqrt(P_global(1-P_global)/(N-1)))`,
/// or `1 - 0.01^(1/N)` when `C = 0`. `P_local` solves
/// `0.99 = (1 - p*x) / ((r+1 - r*x) * q) * x^-(N+1)` for `p` by bisection, where
/// `q = 1-p` and `x` is the fixed point of `x = 1 + q * p^r * x^(r+1)`; like the
/// tool, it is only searched for when it could raise the result.
/// `H = -log2(max(1/k, P'_global, P_local))`.
#[allow(dead_code, reason = "used by predictors.rs, which lands separately")]
pub(crate) fn predictor_estimate(
    estimator: Estimator,
    correct: u64,
    n: u64,
    longest_run: u64,
    k: usize,
) -> Estimate {
    let n_f = n as f64;
    let floor = 1.0 / (k.max(1) as f64);
    // N = 0 cannot occur through the estimators (they check their minimum
    // length first); answer the trivial bound rather than divide by zero.
    if n == 0 {
        return Estimate {
            estimator,
            p_max: 1.0,
            min_entropy: 0.0,
        };
    }
    let p_global = correct as f64 / n_f;
    let p_global_prime = if correct > 0 {
        (p_global + Z_99 * ((p_global * (1.0 - p_global)) / (n_f - 1.0)).sqrt()).min(1.0)
    } else {
        1.0 - 0.01f64.powf(1.0 / n_f)
    };
    let mut p_max = floor.max(p_global_prime);
    let r = longest_run.saturating_add(1) as f64;
    // The tool skips the search when the current bound already satisfies the
    // local-performance inequality: P_local could only be smaller.
    if p_max < 1.0 && local_log_probability(p_max, r, n_f) > 0.99f64.ln() {
        p_max = p_max.max(p_local(r, n_f, p_max));
    }
    Estimate {
        estimator,
        p_max,
        min_entropy: -p_max.log2(),
    }
}

/// `ln` of the probability that `N` predictions, each right with probability
/// `p`, contain no run of `r` successes (SP 800-90B 6.3.7 step 9), in the
/// closed form `(1 - p*x) / ((r+1 - r*x) * q * x^(N+1))`.
///
/// `x` is found by fixed-point iteration from 1, at most 66 rounds, until it
/// stops growing by more than one ulp-ish relative step: the same rule as
/// `ea_non_iid`, which however iterates in 80-bit `long double`.
fn local_log_probability(p: f64, r: f64, n: f64) -> f64 {
    let q = 1.0 - p;
    let mut x = 1.0f64;
    let mut last = 0.0f64;
    let mut i = 0;
    while i <= 65 && (x - last) > f64::EPSILON * x {
        last = x;
        x = 1.0 + q * p.powf(r) * x.powf(r + 1.0);
        i += 1;
    }
    (1.0 - p * x).ln() - ((r + 1.0 - r * x) * q).ln() - (n + 1.0) * x.ln()
}

/// `a` and `b` equal "enough" for the bisection's stop rule: within
/// `f64::EPSILON` relative, or 4 ulps, or `f64::MIN_POSITIVE` absolute where
/// a relative test is meaningless (`ea_non_iid`'s `relEpsilonEqual`).
fn nearly_equal(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return false;
    }
    if a == b {
        return true;
    }
    if a.is_infinite() || b.is_infinite() {
        return false;
    }
    let (small, big) = if a.abs() > b.abs() { (b, a) } else { (a, b) };
    let diff = (big - small).abs();
    let (abs_small, abs_big) = (small.abs(), big.abs());
    if abs_small < f64::MIN_POSITIVE
        || diff < f64::MIN_POSITIVE
        || diff.is_infinite()
        || abs_big * f64::EPSILON < f64::MIN_POSITIVE
    {
        return diff <= f64::MIN_POSITIVE;
    }
    if diff <= abs_big * f64::EPSILON {
        return true;
    }
    if small.is_sign_negative() != big.is_sign_negative() {
        return false;
    }
    abs_big.to_bits().wrapping_sub(abs_small.to_bits()) <= 4
}

/// `v` lies in the closed interval between `a` and `b` (in either order).
fn in_closed(v: f64, a: f64, b: f64) -> bool {
    if a > b {
        v >= b && v <= a
    } else {
        v >= a && v <= b
    }
}

/// `v` lies strictly between `a` and `b` (in either order).
fn in_open(v: f64, a: f64, b: f64) -> bool {
    if a > b {
        v > b && v < a
    } else {
        v > a && v < b
    }
}

/// `P_local` of SP 800-90B 6.3.7 step 9: the `p` in `[low, 1]` at which the
/// probability of no success run of length `r` in `N` trials is 0.99, by
/// bisection with `ea_non_iid`'s stop and fall-back rules (at most 1076
/// rounds; any broken invariant answers the upper bound, the safe side).
fn p_local(r: f64, n: f64, low: f64) -> f64 {
    const ITER_MAX: usize = 1076;
    let target = 0.99f64.ln();
    let (l_domain, h_domain) = (low, 1.0);
    let (mut l_bound, mut h_bound) = (l_domain, h_domain);
    let (mut l_value, mut h_value) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut p = (l_bound + h_bound) / 2.0;
    let mut value = local_log_probability(p, r, n);
    for _ in 0..ITER_MAX {
        if nearly_equal(value, target) {
            break;
        }
        // The probability falls as p rises: above the target means p is too small.
        if target < value {
            l_bound = p;
            l_value = value;
        } else {
            h_bound = p;
            h_value = value;
        }
        if l_bound >= h_bound {
            p = l_bound.max(h_bound).min(h_domain);
            break;
        }
        if !(in_closed(l_bound, l_domain, h_domain) && in_closed(h_bound, l_domain, h_domain)) {
            p = h_domain;
            break;
        }
        if !in_closed(target, l_value, h_value) {
            p = h_domain;
            break;
        }
        let last = p;
        p = (l_bound + h_bound) / 2.0;
        if !in_open(p, l_bound, h_bound) || last == p {
            p = h_bound;
            break;
        }
        value = local_log_probability(p, r, n);
        if !in_closed(value, l_value, h_value) {
            p = h_bound;
            break;
        }
    }
    p
}

#[cfg(test)]
#[allow(
    clippy::excessive_precision,
    reason = "expected values are pasted from ea_non_iid's %.17g output"
)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    /// markov1.bin, Literal MultiMCW in `ea_non_iid -vv`: C = 53249, r = 38,
    /// N = 99937, P_local = 0.67401342151277199, H = 0.56915077505718914.
    #[test]
    fn predictor_estimate_matches_nist_with_p_local() {
        let e = predictor_estimate(Estimator::MultiMcw, 53249, 99937, 37, 2);
        assert!(rel(e.p_max, 0.67401342151277199) < 1e-9, "{}", e.p_max);
        assert!(rel(e.min_entropy, 0.56915077505718914) < 1e-9);
    }

    /// markov1.bin, Literal Lag: C = 75032, r = 37, N = 99999, P_local can't
    /// change the result, H = 0.40764468219593258.
    #[test]
    fn predictor_estimate_matches_nist_global_only() {
        let e = predictor_estimate(Estimator::Lag, 75032, 99999, 36, 2);
        assert!(rel(e.p_max, 0.75385309653784061) < 1e-12);
        assert!(rel(e.min_entropy, 0.40764468219593258) < 1e-12);
    }

    #[test]
    fn predictor_estimate_no_correct_prediction_uses_floor() {
        // C = 0: P'_global = 1 - 0.01^(1/N), tiny; the 1/k floor wins.
        let e = predictor_estimate(Estimator::Lz78y, 0, 1000, 0, 4);
        assert_eq!(e.p_max, 0.25);
        assert_eq!(e.min_entropy, 2.0);
    }
}
