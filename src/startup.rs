//! The start-up checks beyond SP 800-90B's start-up test: the clock's step,
//! the 8-bit symbol, a stuck or coarse clock, and the fast section 6.3
//! estimators on the start-up samples.
//!
//! The start-up samples are exactly the input of the first block, so every
//! copy made of them here lives in [`Zeroizing`] scratch, wiped before it is
//! freed: one sorted copy serves the step, the median and the quartiles, and
//! the symbols are built once. (The estimators wipe their own tables; see
//! [`crate::assess`].)

use zeroize::Zeroizing;

use crate::assess::{AssessOptions, Estimator};
use crate::error::StartupFailure;

/// The estimators run on the start-up samples: the fast ones of SP 800-90B
/// section 6.3 that run on 1024 literal symbols. Together they see both a
/// skewed distribution (MCV) and the periodic, predictable patterns that
/// always-ready loops and replayed time produce (the predictors). MultiMCW
/// needs 4096 samples and is left out.
pub const STARTUP_ESTIMATORS: [Estimator; 4] = [
    Estimator::Mcv,
    Estimator::Lag,
    Estimator::MultiMmc,
    Estimator::Lz78y,
];

/// The deltas must spread over at least this many clock steps (interquartile
/// range), so that the 8-bit symbol is not mostly quantisation.
pub const MIN_SPREAD_STEPS: u64 = 64;

/// Share of zero deltas, in percent, above which the clock counts as stuck.
pub const MAX_ZERO_DELTAS_PERCENT: usize = 1;

/// Fewer deltas than this give step 1: too few to tell a step from chance.
const MIN_DELTAS_FOR_STEP: usize = 16;

/// The largest divisor tried directly when looking for the step; the larger
/// ones come as `median / d`. 2^16 trial divisions bound the search (the
/// step of a millisecond clock in nanoseconds is found as `median / k` for a
/// small `k`), so a median near `u64::MAX` cannot make it run for minutes.
const MAX_TRIAL_DIVISOR: u64 = 1 << 16;

/// What the start-up checks measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StartupReport {
    /// Start-up samples.
    pub samples: usize,
    /// The clock step detected, in ticks.
    pub step_ticks: u64,
    /// Interquartile range of the deltas, in steps.
    pub spread_steps: u64,
    /// The lowest start-up estimate, bits per 8-bit symbol.
    pub estimate: f64,
    /// The estimator that gave it.
    pub estimator: Estimator,
}

/// The clock step that at least 99% of `deltas` are multiples of.
///
/// Clocks advance in steps: this VM's TSC by 26 ticks, Apple Silicon's
/// counter at 24 MHz, a coarse clock by a whole millisecond. The strict gcd
/// of the deltas does not find the step (one odd delta makes it 1), so the
/// candidates are the divisors of the median delta, tried from the largest
/// down. Returns 1 when nothing larger fits, or for fewer than 16 deltas.
/// Runs in `O(n log n + 2^16)` whatever the deltas.
pub fn detect_step(deltas: &[u64]) -> u64 {
    let mut sorted = Zeroizing::new(deltas.to_vec());
    sorted.sort_unstable();
    step_of_sorted(&sorted)
}

/// [`detect_step`] on deltas already sorted ascending.
fn step_of_sorted(sorted: &[u64]) -> u64 {
    let zeros = sorted.partition_point(|&d| d == 0);
    let nonzero = &sorted[zeros..];
    if nonzero.len() < MIN_DELTAS_FOR_STEP {
        return 1;
    }
    let median = nonzero[nonzero.len() / 2];
    let mut divisors = Vec::new();
    let mut d = 1u64;
    while d <= MAX_TRIAL_DIVISOR && d.checked_mul(d).is_some_and(|sq| sq <= median) {
        if median.is_multiple_of(d) {
            divisors.push(d);
            divisors.push(median / d);
        }
        d += 1;
    }
    divisors.sort_unstable_by(|a, b| b.cmp(a));
    divisors.dedup();
    // Zero deltas (a clock that did not move) are multiples of any step.
    let needed = sorted.len() - sorted.len() / 100;
    for step in divisors {
        if step == 1 {
            break;
        }
        let multiples = zeros + nonzero.iter().filter(|&&d| d.is_multiple_of(step)).count();
        if multiples >= needed {
            return step;
        }
    }
    1
}

/// The 8-bit symbol of a delta: the low byte of `delta / step`.
///
/// The low bits move the most from one wakeup to the next; dividing by the
/// clock step first keeps bits that never change out of the symbol.
pub fn symbol(delta: u64, step: u64) -> u8 {
    (delta / step.max(1)) as u8
}

/// The start-up checks beyond the standard's tests: stuck clock, coarse
/// clock, and the fast section 6.3 estimators against `required` bits per
/// symbol. A result that is not a number, or no result at all, fails.
pub fn startup_checks(deltas: &[u64], required: f64) -> Result<StartupReport, StartupFailure> {
    let samples = deltas.len();
    let mut sorted = Zeroizing::new(deltas.to_vec());
    sorted.sort_unstable();
    let zero_deltas = sorted.partition_point(|&d| d == 0);
    if zero_deltas * 100 > samples * MAX_ZERO_DELTAS_PERCENT {
        return Err(StartupFailure::StuckClock {
            zero_deltas,
            samples,
        });
    }
    let step = step_of_sorted(&sorted);
    let quartile = |q: usize| sorted.get(samples * q / 4).copied().unwrap_or(0);
    let spread_steps = (quartile(3) - quartile(1)) / step;
    if spread_steps < MIN_SPREAD_STEPS {
        return Err(StartupFailure::CoarseClock {
            step_ticks: step,
            spread_steps,
            min_spread_steps: MIN_SPREAD_STEPS,
        });
    }
    let symbols: Zeroizing<Vec<u8>> =
        Zeroizing::new(deltas.iter().map(|&d| symbol(d, step)).collect());
    let options = AssessOptions {
        estimators: STARTUP_ESTIMATORS.to_vec(),
        bitstring: false,
        ..AssessOptions::default()
    };
    let (estimator, estimate) = lowest_estimate(crate::assess::assess_with(&symbols, 8, &options));
    // Written so that a NaN on either side fails.
    if estimate.partial_cmp(&required).is_none_or(|o| o.is_lt()) {
        return Err(StartupFailure::LowEntropy {
            estimator,
            estimate,
            required,
        });
    }
    Ok(StartupReport {
        samples,
        step_ticks: step,
        spread_steps,
        estimate,
        estimator,
    })
}

/// The lowest literal estimate, failing closed: an assessment that could not
/// run (one distinct symbol), an empty one, or a NaN anywhere counts as 0.
fn lowest_estimate(
    report: Result<crate::assess::Report, crate::assess::AssessError>,
) -> (Estimator, f64) {
    let Ok(report) = report else {
        return (Estimator::Mcv, 0.0);
    };
    let mut lowest = (Estimator::Mcv, 0.0);
    for (i, e) in report.literal.iter().enumerate() {
        let h = if e.min_entropy.is_nan() {
            0.0
        } else {
            e.min_entropy
        };
        if i == 0 || h < lowest.1 {
            lowest = (e.estimator, h);
        }
    }
    lowest
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assess::{Estimate, Report};

    #[test]
    fn step_of_a_coarse_clock_is_found() {
        let deltas: Vec<u64> = (0..1000u64).map(|i| (i % 7 + 3) * 1_000_000).collect();
        assert_eq!(detect_step(&deltas), 1_000_000);
        let ticks: Vec<u64> = (0..1000u64).map(|i| (i * 7919 % 400 + 900) * 26).collect();
        assert_eq!(detect_step(&ticks), 26);
        assert_eq!(detect_step(&[5, 10, 15]), 1, "too few deltas");
    }

    #[test]
    fn step_detection_ends_at_once_on_huge_deltas() {
        // A median near u64::MAX made the old divisor loop spin forever
        // (d * d saturated at u64::MAX <= median).
        let huge: Vec<u64> = (0..64u64).map(|i| u64::MAX - i % 3).collect();
        assert_eq!(detect_step(&huge), 1);
        let big_step: Vec<u64> = (1..=64u64).map(|i| (1 << 40) * (i % 5 + 1)).collect();
        assert_eq!(detect_step(&big_step), 1 << 40);
    }

    #[test]
    fn symbols_divide_by_the_step() {
        assert_eq!(symbol(26 * 300, 26), 300u64 as u8);
        assert_eq!(symbol(77, 0), 77, "step 0 is treated as 1");
    }

    fn report(estimates: &[f64]) -> Report {
        let literal = estimates
            .iter()
            .zip(STARTUP_ESTIMATORS)
            .map(|(&h, estimator)| Estimate {
                estimator,
                p_max: 0.0,
                min_entropy: h,
            })
            .collect();
        Report {
            bits: 8,
            samples: 1024,
            distinct: 256,
            bitstring_len: 0,
            literal,
            bitstring: Vec::new(),
            mcv_literal: None,
            mcv_bitstring: None,
            skipped: Vec::new(),
            h_original: None,
            h_bitstring: None,
            assessed: 0.0,
        }
    }

    #[test]
    fn the_lowest_estimate_fails_closed() {
        assert_eq!(
            lowest_estimate(Ok(report(&[6.0, 4.0, 5.0]))),
            (Estimator::Lag, 4.0)
        );
        // A NaN is not skipped by the minimum: it is zero.
        assert_eq!(
            lowest_estimate(Ok(report(&[6.0, f64::NAN, 5.0]))),
            (Estimator::Lag, 0.0)
        );
        assert_eq!(lowest_estimate(Ok(report(&[f64::NAN]))).1, 0.0);
        // No estimate at all is no entropy, not infinite entropy.
        assert_eq!(lowest_estimate(Ok(report(&[]))).1, 0.0);
    }

    #[test]
    fn a_nan_requirement_or_estimate_never_passes() {
        let mut rng = crate::test_util::SplitMix64(1);
        let deltas: Vec<u64> = (0..1024).map(|_| 20_000 + (rng.next() >> 52)).collect();
        assert!(startup_checks(&deltas, 1.0).is_ok());
        assert!(matches!(
            startup_checks(&deltas, f64::NAN),
            Err(StartupFailure::LowEntropy { .. })
        ));
    }
}
