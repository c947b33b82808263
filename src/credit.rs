//! How much min-entropy each noise source is credited: the ceilings per
//! kernel path, the start-up rule and the online margin check's rule.
//!
//! Every kernel path of a pass is a noise source of its own (see
//! [`KernelPath`]), with its own credit in bits per sample. A source's credit
//! is the largest multiple of [`CREDIT_STEP`] that is
//!
//! * at most its **ceiling** ([`ceiling`]), which depends on the path and on
//!   how many clock steps its samples typically span (a path that lasts a
//!   few dozen steps of a coarse clock is mostly quantisation), and which
//!   was set from the long-run assessments of the condition matrix (README,
//!   "The entropy claim");
//! * at most the policy's [`cap`](CreditPolicy::cap);
//! * at most `estimate / (2 * allowance)`, where `estimate` is the lowest of
//!   the fast SP 800-90B estimators on the source's own start-up samples,
//!   and later on each window the online margin check sees. The `2` is the
//!   claim's rule (a credit of at most half the assessed min-entropy); the
//!   [`allowance`](CreditPolicy::allowance) covers the spread of estimates
//!   taken on a few hundred samples.
//!
//! A source that cannot back [`CREDIT_STEP`] is still absorbed by the
//! conditioner, credited 0.

use crate::collector::KernelPath;
use crate::error::ConfigError;

/// Credits are whole multiples of this: 1/16 bit per sample.
pub const CREDIT_STEP: f64 = 1.0 / 16.0;

/// Default [`CreditPolicy::allowance`]: a start-up or online estimate must
/// reach 2.5 times the credit (twice, for the claim, times 1.25).
pub const DEFAULT_ALLOWANCE: f64 = 1.25;

/// Default [`CreditPolicy::warmup_samples`]: the first 256 samples of a new
/// queue (about 17 passes of the default) are absorbed uncredited and kept
/// out of the start-up window, which then sees the steady state.
pub const DEFAULT_WARMUP_SAMPLES: u32 = 256;

/// The least, in clock steps, that the median sample of the longest path
/// must span for any source to be credited.
pub const MIN_MEDIAN_STEPS: f64 = 16.0;

/// How sources are credited.
///
/// Every kernel path of a pass is a noise source of its own (see
/// [`KernelPath`]), with its own credit in bits per sample. A source's
/// credit is the largest multiple of [`CREDIT_STEP`] that is at most its
/// [`ceiling`] (by path, and by how many clock steps its samples typically
/// span), at most [`cap`](CreditPolicy::cap), and at most `estimate / (2 *
/// allowance)`, where `estimate` is the lowest of the fast SP 800-90B
/// estimators on the source's own start-up samples, and later on each
/// window the online margin check sees ([`NoiseSources`](crate::NoiseSources)).
/// The `2` is the claim's rule (a credit of at most half the assessed
/// min-entropy); the [`allowance`](CreditPolicy::allowance) covers the
/// spread of estimates taken on a few hundred samples. A source that cannot
/// back [`CREDIT_STEP`] is still absorbed by the conditioner, credited 0.
///
/// ```
/// let policy = kqseed::CreditPolicy::default();
/// // A source whose start-up estimate is 1 bit, under a ceiling of 0.5:
/// // 1 / 2.5 = 0.4, down to whole sixteenths.
/// assert_eq!(policy.credit_for(1.0, 0.5), 0.375);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct CreditPolicy {
    /// The most any source is credited, bits per sample, in `(0, 8]`;
    /// default 8, which leaves the ceilings and the estimates to decide.
    pub cap: f64,
    /// The start-up and online estimates must reach `2 * allowance` times a
    /// source's credit; at least 1. Default [`DEFAULT_ALLOWANCE`].
    pub allowance: f64,
    /// Samples of a new queue absorbed uncredited before the start-up
    /// window. Default [`DEFAULT_WARMUP_SAMPLES`].
    pub warmup_samples: u32,
}

impl Default for CreditPolicy {
    fn default() -> Self {
        CreditPolicy {
            cap: 8.0,
            allowance: DEFAULT_ALLOWANCE,
            warmup_samples: DEFAULT_WARMUP_SAMPLES,
        }
    }
}

impl CreditPolicy {
    /// The default policy with every source capped at `cap` bits per
    /// sample (the `kqseed` command's `--credit`).
    pub fn capped(cap: f64) -> CreditPolicy {
        CreditPolicy {
            cap,
            ..CreditPolicy::default()
        }
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.cap > 0.0 && self.cap <= 8.0) {
            return Err(ConfigError {
                field: "cap",
                reason: format!("{} is not in (0, 8] bits per sample", self.cap),
            });
        }
        if !(self.allowance >= 1.0 && self.allowance <= 16.0) {
            return Err(ConfigError {
                field: "allowance",
                reason: format!("{} is not in [1, 16]", self.allowance),
            });
        }
        if self.warmup_samples > 1 << 20 {
            return Err(ConfigError {
                field: "warmup_samples",
                reason: format!("{} is more than 2^20", self.warmup_samples),
            });
        }
        Ok(())
    }

    /// The credit that an `estimate` (bits per sample) backs for a source
    /// whose ceiling is `ceiling`: the largest multiple of [`CREDIT_STEP`]
    /// at most `ceiling`, [`cap`](CreditPolicy::cap) and
    /// `estimate / (2 * allowance)`. Not a number counts as 0.
    pub fn credit_for(&self, estimate: f64, ceiling: f64) -> f64 {
        let backed = estimate / (2.0 * self.allowance);
        // `f64::min` passes over a NaN: test each before taking the least.
        if backed.is_nan() || ceiling.is_nan() {
            return 0.0;
        }
        let most = backed.min(ceiling).min(self.cap);
        if most < CREDIT_STEP {
            return 0.0;
        }
        (most / CREDIT_STEP).floor() * CREDIT_STEP
    }
}

/// The most a source of `path` may be credited, in bits per sample, when
/// its median sample spans `median_steps` steps of the clock's effective
/// resolution, and `timer_driven` says whether a timer's interrupts drive
/// the pass (a timer read, or whole passes, in the start-up window).
///
/// | path | median >= 1024 | >= 256 | >= 64 | >= 30 | >= 20 (16 long) | less |
/// |---|---|---|---|---|---|---|
/// | timer read, whole pass | 1.75 | 1.125 | 0.75 | 0.25 | 0.25 | 0 |
/// | wait | 0.625 | 0.625 | 0.625 | 0.125 | 0.0625 | 0 |
/// | socket drain | 0.375 | 0.375 | 0.375 | 0.125 | 0.0625 | 0 |
/// | file drain | 0.3125 | 0.3125 | 0.3125 | 0.125 | 0.0625 | 0 |
/// | socket poke | 0.375 | 0.375 | 0.375 | 0.125 | 0.0625 | 0 |
/// | file touch | 0.5 | 0.5 | 0.5 | 0.125 | 0.0625 | 0 |
///
/// The long paths' column "16" applies from 16 steps. The figures are at
/// most 0.9 of half the lowest 1,000,000-sample assessment of each path
/// under every condition of the matrix (README, "The entropy claim"): quiet
/// and loaded on a fine clock, and 24 MHz and 19.2 MHz clocks, whose paths
/// span 20-50 steps. They were measured on passes a timer drives; without
/// one (an always-ready loop), the short paths' samples repeat in long
/// stretches that a start-up window does not show (a loop's wait assessed
/// 2.8 bits on 683 samples and 0.33 on 200,000), so none of them is
/// credited more than 1/16 bit.
pub fn ceiling(path: KernelPath, median_steps: f64, timer_driven: bool) -> f64 {
    let m = if median_steps.is_nan() {
        0.0
    } else {
        median_steps
    };
    match path {
        KernelPath::TimerRead | KernelPath::Pass => match m {
            m if m >= 1024.0 => 1.75,
            m if m >= 256.0 => 1.125,
            m if m >= 64.0 => 0.75,
            m if m >= MIN_MEDIAN_STEPS => 0.25,
            _ => 0.0,
        },
        _ => {
            let fine = match path {
                KernelPath::Wait => 0.625,
                KernelPath::SocketDrain | KernelPath::SocketPoke => 0.375,
                KernelPath::FileDrain => 0.3125,
                _ => 0.5,
            };
            match m {
                m if m >= 64.0 && timer_driven => fine,
                m if m >= 30.0 && timer_driven => 0.125,
                m if m >= 20.0 => 0.0625,
                _ => 0.0,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credit_is_the_least_of_ceiling_cap_and_estimate_in_sixteenths() {
        let policy = CreditPolicy::default();
        // 2 bits backs 2 / 2.5 = 0.8, and the ceiling 0.5 is lower.
        assert_eq!(policy.credit_for(2.0, 0.5), 0.5);
        // 1.0 backs 0.4: down to 6/16.
        assert_eq!(policy.credit_for(1.0, 0.5), 0.375);
        assert_eq!(policy.credit_for(0.1, 0.5), 0.0);
        assert_eq!(policy.credit_for(f64::NAN, 0.5), 0.0);
        assert_eq!(CreditPolicy::capped(0.25).credit_for(8.0, 1.75), 0.25);
    }

    #[test]
    fn ceilings_fall_with_the_steps_a_path_spans() {
        for path in KernelPath::ALL {
            let mut last = f64::INFINITY;
            for m in [
                5000.0,
                1024.0,
                300.0,
                100.0,
                50.0,
                30.0,
                18.0,
                10.0,
                0.0,
                f64::NAN,
            ] {
                let c = ceiling(path, m, true);
                assert!(ceiling(path, m, false) <= c);
                assert!(c <= last, "{path:?} at {m}");
                assert!(c == 0.0 || c >= CREDIT_STEP);
                last = c;
            }
            assert_eq!(ceiling(path, 10.0, true), 0.0);
        }
        assert_eq!(ceiling(KernelPath::TimerRead, 1500.0, true), 1.75);
        assert_eq!(ceiling(KernelPath::FileDrain, 140.0, true), 0.3125);
        assert_eq!(ceiling(KernelPath::SocketDrain, 26.0, true), 0.0625);
        // No timer: the short paths get the least credit at most.
        assert_eq!(ceiling(KernelPath::Wait, 200.0, false), 0.0625);
    }

    #[test]
    fn bad_policies_are_named() {
        let bad = |p: CreditPolicy| p.validate().unwrap_err().field;
        assert_eq!(bad(CreditPolicy::capped(0.0)), "cap");
        assert_eq!(bad(CreditPolicy::capped(f64::NAN)), "cap");
        let p = CreditPolicy {
            allowance: 0.5,
            ..CreditPolicy::default()
        };
        assert_eq!(bad(p), "allowance");
        assert!(CreditPolicy::default().validate().is_ok());
    }
}
