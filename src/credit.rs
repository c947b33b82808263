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

use zeroize::Zeroize;

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
/// must span for any source to be credited: the timer read's least; the
/// other paths and a whole pass need [`MIN_SHORT_MEDIAN_STEPS`].
pub const MIN_MEDIAN_STEPS: f64 = 16.0;

/// The least, in clock steps, that a median sample of any path but the
/// timer read (a whole pass too) must span to be credited; the
/// drains need more (see [`ceiling`]: 30 steps for either).
pub const MIN_SHORT_MEDIAN_STEPS: f64 = 20.0;

/// Timer expirations per timer event below which the passes are not of
/// the kind the ceilings rest on (start-up asks a little more of its
/// window: [`MIN_STARTUP_EXPIRATIONS_PER_TIMER_EVENT`]). Every pass they were measured on
/// outran its timer: the default's pass takes several intervals of its
/// 5 us timer on these guests (2.6-16 expirations a timer event in the
/// Intel Xeon guest's matrix runs of 2026-12-06), so the timer has expired
/// again before each wait begins and the wait returns at once. A pass
/// shorter than the interval waits for the timer instead, and that wait
/// measures the timer's period less the rest of the pass: the timer alone
/// (no socket pairs, no files) ran at 1.1-1.5 expirations a timer event on
/// the simulated 24 MHz and 19.2 MHz clocks, and its wait over 110-180
/// steps assessed 0.21-0.28 bits a sample on 1,000,000, where the wait's
/// row credits up to 5/16 (docs/entropy-claim.md, "A pass that waits for
/// its timer"). Between one and two intervals a pass need not wait, but
/// nothing measured covers it. In such a window no source is timer-driven
/// for [`ceiling`] (1/16 bit at most, nothing under
/// [`MIN_SHORT_MEDIAN_STEPS`]) and [`startup_checks`](crate::startup_checks)
/// gives the wait nothing; after start-up the online check watches the
/// pace ([`NoiseSources::note_wakeup`](crate::NoiseSources::note_wakeup)).
pub const MIN_EXPIRATIONS_PER_TIMER_EVENT: f64 = 2.0;

/// Timer expirations per timer event that start-up requires of its window
/// before it takes the passes as outrunning their timer: above
/// [`MIN_EXPIRATIONS_PER_TIMER_EVENT`], which the online check holds the
/// running passes to, as a margin for a window's noise: the timer
/// alone's start-up windows showed 1.0-1.9 expirations a timer event (its
/// whole runs 1.0-1.5), the default's 2.6 and more (Intel Xeon guest,
/// 2026-12-06, fourteen runs of `kqseed report` and
/// `scripts/assess-timer-paced.sh`, four of `scripts/assess-conditions.sh`,
/// before each wakeup's expirations were capped at
/// [`MAX_EXPIRATIONS_COUNTED_PER_TIMER_EVENT`]). 2.25 sits between the two.
pub const MIN_STARTUP_EXPIRATIONS_PER_TIMER_EVENT: f64 = 2.25;

/// The most expirations one timer event counts for in the pace checks
/// ([`EventCounts::add_paced`](crate::EventCounts::add_paced)): a pass
/// preempted for a few milliseconds sees hundreds, which would otherwise
/// lift a whole window of passes that wait for their timer (one 4 ms stall
/// adds as much as 800 of the timer alone's 5 us passes). The default's
/// passes take 2.0-3 (Intel Xeon guest, where the collector then shortens
/// the timer to aim at 5: [`KqueueEventsConfig::adapt_timers`](crate::KqueueEventsConfig::adapt_timers))
/// to 10 (AMD EPYC guest) of its 5 us intervals, so counting up to 4
/// still leaves them above [`MIN_STARTUP_EXPIRATIONS_PER_TIMER_EVENT`].
pub const MAX_EXPIRATIONS_COUNTED_PER_TIMER_EVENT: u64 = 4;

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
    /// window, at least: the warm-up also lasts until the collector's
    /// timers are settled ([`Collector::timers_settled`](crate::Collector::timers_settled)).
    /// Default [`DEFAULT_WARMUP_SAMPLES`].
    pub warmup_samples: u32,
    /// Whether start-up may take each pass of a per-path window as one
    /// sample, [`KernelPath::Pass`], or as three, its thirds
    /// ([`KernelPath::THIRDS`]), unless the paths are credited at least
    /// [`MIN_PATHS_GAIN_OVER_WHOLE_PASSES`](crate::MIN_PATHS_GAIN_OVER_WHOLE_PASSES)
    /// times what a pass would be ([`startup_checks`](crate::startup_checks)):
    /// on coarse clocks they are not. Default true; false keeps every path a source.
    pub whole_passes: bool,
}

impl Default for CreditPolicy {
    fn default() -> Self {
        CreditPolicy {
            cap: 8.0,
            allowance: DEFAULT_ALLOWANCE,
            warmup_samples: DEFAULT_WARMUP_SAMPLES,
            whole_passes: true,
        }
    }
}

impl CreditPolicy {
    /// This policy with [`whole_passes`](CreditPolicy::whole_passes) set.
    #[must_use]
    pub fn with_whole_passes(mut self, whole_passes: bool) -> CreditPolicy {
        self.whole_passes = whole_passes;
        self
    }

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

/// The fewest steps `path`'s median sample must span for any credit: the
/// lower edge of its first band with a ceiling above 0 (with
/// `timer_driven`, 16 for the timer read, 20 for a whole pass of the row's
/// kernel paths and most short paths, more for the drains; without, 20
/// for all but the drains). A whole pass of fewer kernel paths needs more
/// ([`pass_ceiling`] scales its row down).
pub(crate) fn min_credited_steps(
    path: KernelPath,
    timer_driven: bool,
    kernel_paths_per_pass: Option<f64>,
) -> f64 {
    BAND_STEPS
        .iter()
        .copied()
        .find(|&edge| source_ceiling(path, edge, timer_driven, kernel_paths_per_pass) > 0.0)
        .unwrap_or(f64::INFINITY)
}

/// The lower edges of the bands of [`ceiling`], in clock steps spanned by a
/// path's median sample.
#[rustfmt::skip]
const BAND_STEPS: [f64; 14] = [
    MIN_MEDIAN_STEPS, MIN_SHORT_MEDIAN_STEPS, 24.0, 30.0, 40.0, 48.0, 64.0, 80.0, 96.0, 128.0,
    192.0, 256.0, 384.0, 1024.0,
];

/// Each path's ceiling per band of [`BAND_STEPS`], in sixteenths of a bit
/// per sample ([`CREDIT_STEP`]), with a timer driving the pass.
/// `scripts/ceiling-grid.py` prints the table these were taken from, and
/// CI checks that no entry here is above what it prints (`--check
/// src/credit.rs`): new evidence can lower an entry, never raise one by
/// itself. The steps a path spans do not fix its figure across machines
/// and runs: on the Intel Xeon guest, a timer read on the simulated 24 MHz
/// and 19.2 MHz clocks assessed 0.43-2.02 bits over medians of 30-130
/// steps, as low at 100-130 as at 30 (every third read long, the
/// timer's 5 us beating with the pass), where the AMD EPYC guest's
/// re-quantised recordings give 2-3 bits there. So a real run's timer read
/// also bounds the bands up to twice its steps: a 24 MHz timer read of
/// 0.774 bits over 130 steps (CI's run of 2026-12-06 05:25 UTC) holds the
/// timer read at 3/16 up to 383 steps, where the AMD guest alone gave
/// 15/16 from 256 (its 19.2 MHz and 24 MHz timer reads, 280-370 steps, are
/// in that band). The same rule on the AMD guest's own coarse-clock points
/// takes the bands from 384 and 1024 steps to 12/16 and 16/16, and an AMD
/// 24 MHz timer read of 3.286 bits over 840 steps (the acceptance client's
/// run of 2026-12-07 01:28 UTC) the band from 1024 to 15/16, and a 19.2 MHz
/// timer read of 2.164 bits over 360 steps (the acceptance client's run of
/// 2026-12-07 12:47 UTC) the band from 384 to 10/16; the same
/// run's 24 MHz wait (1.011 bits over 99 steps) took the wait's band from
/// 96 steps to 4/16; a later run's 24 MHz socket poke (0.617 bits over 50
/// steps, credited 3/16: 0.61 of half) took its bands from 40 to 63
/// steps to 2/16.
#[rustfmt::skip]
const BAND_SIXTEENTHS: [(KernelPath, [u8; 14]); 10] = [
    //                         16  20  24  30  40  48  64  80  96 128 192 256 384 1024
    (KernelPath::TimerRead,   [ 2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  3,  3, 10, 15]),
    (KernelPath::Wait,        [ 0,  1,  1,  2,  2,  2,  3,  4,  4,  5,  7,  7,  7,  7]),
    (KernelPath::SocketDrain, [ 0,  0,  0,  1,  1,  1,  3,  3,  3,  3,  3,  3,  3,  3]),
    (KernelPath::FileDrain,   [ 0,  0,  0,  1,  1,  1,  2,  3,  3,  3,  3,  3,  3,  3]),
    (KernelPath::SocketPoke,  [ 0,  1,  1,  1,  2,  2,  3,  3,  3,  3,  3,  3,  3,  3]),
    (KernelPath::FileTouch,   [ 0,  1,  1,  1,  2,  3,  4,  4,  4,  5,  5,  5,  5,  5]),
    (KernelPath::Pass,        [ 0,  1,  1,  1,  1,  5,  5,  5,  6,  7,  8,  8,  8, 11]),
    // A pass's thirds: real runs alone (no recording is re-quantised into
    // them), nothing below the fewest steps a run showed, and no more above
    // the most than there. The first third's 4/16 from 80 to 383 steps: an
    // Intel Xeon 19.2 MHz run whose passes took 2.3-2.8 timer intervals
    // (the acceptance client's, 2026-12-07 13:11 UTC) assessed it 1.025
    // bits over 130 steps, where other runs gave 2.0-2.4. The last third's
    // 2/16 from 40 to 191: an Intel 19.2 MHz last third of 0.578 bits over
    // 52 steps (CI's run of 2026-12-07 14:38 UTC), and an Intel 24 MHz one
    // of 0.619 bits over 66 steps (the acceptance client's run of 17:29
    // UTC), which answers up to 132. The middle third's 2/16 up to 127:
    // Intel middle thirds of 0.561 bits over 41 steps (19.2 MHz, the
    // acceptance client's run of 18:27 UTC) and 0.620 over 49 (24 MHz, its
    // run of 18:31), which answers up to 98.
    (KernelPath::PassFirstThird,  [ 0,  0,  0,  0,  0,  0,  0,  4,  4,  4,  4,  4,  7,  7]),
    (KernelPath::PassMiddleThird, [ 0,  0,  0,  2,  2,  2,  2,  2,  2,  3,  3,  3,  3,  3]),
    (KernelPath::PassLastThird,   [ 0,  0,  0,  0,  2,  2,  2,  2,  2,  2,  3,  3,  3,  3]),
];

/// A source's samples of one online window counted by the band of
/// [`ceiling`] each falls in, so that the online check can find the band
/// of the window's median sample, and so its ceiling, without keeping the
/// samples.
///
/// A sample is counted in the band that start-up's rounding would put it
/// in (its steps rounded down to two significant digits): the band of the
/// window's median is then the band start-up would have found for it (but
/// for a delta on an edge's exact multiple of the resolution, which float
/// rounding may put one band either side).
#[derive(Clone)]
pub(crate) struct StepBands {
    /// Each band's least sample, in clock ticks.
    thresholds_ticks: [f64; BAND_STEPS.len()],
    /// Samples per band; index 0 holds those under the first band.
    counts: [u32; BAND_STEPS.len() + 1],
}

impl StepBands {
    /// Bands on a clock whose effective resolution is `resolution_ticks`.
    pub(crate) fn new(resolution_ticks: f64) -> StepBands {
        StepBands {
            thresholds_ticks: Self::thresholds(resolution_ticks),
            counts: [0; BAND_STEPS.len() + 1],
        }
    }

    /// Each band's least sample on a clock of `resolution_ticks`.
    fn thresholds(resolution_ticks: f64) -> [f64; BAND_STEPS.len()] {
        BAND_STEPS.map(|edge| two_digits_up(edge) * resolution_ticks)
    }

    /// Counts steps of another resolution from now on, in a new window:
    /// the counts so far, in steps of the old one, are dropped.
    pub(crate) fn restart(&mut self, resolution_ticks: f64) {
        self.thresholds_ticks = Self::thresholds(resolution_ticks);
        self.counts.zeroize();
    }

    /// Samples counted in the current window.
    pub(crate) fn counted(&self) -> u64 {
        self.counts.iter().map(|&c| u64::from(c)).sum()
    }

    /// Counts a sample of `delta` clock ticks.
    pub(crate) fn count(&mut self, delta: u64) {
        let d = delta as f64;
        let band = self.thresholds_ticks.partition_point(|&t| t <= d);
        self.counts[band] += 1;
    }

    /// The lower edge, in steps, of the band that the window's median
    /// sample fell in (0 under the first band), or `None` for an empty
    /// window; the window starts again.
    pub(crate) fn take_median_band(&mut self) -> Option<f64> {
        // The median as start-up takes it: the sorted window's element
        // (n - 1) / 2.
        let position = self.counted().checked_sub(1)? / 2;
        let mut below = 0u64;
        let mut median_band = self.counts.len() - 1;
        for (band, &c) in self.counts.iter().enumerate() {
            below += u64::from(c);
            if below > position {
                median_band = band;
                break;
            }
        }
        self.counts.zeroize();
        Some(match median_band {
            0 => 0.0,
            band => BAND_STEPS[band - 1],
        })
    }
}

impl Drop for StepBands {
    fn drop(&mut self) {
        self.counts.zeroize();
    }
}

/// The least `x` whose value rounded down to two significant digits is at
/// least `edge`: `edge` rounded up to two significant digits.
fn two_digits_up(edge: f64) -> f64 {
    let unit = 10f64.powi(edge.log10().floor() as i32 - 1);
    (edge / unit).ceil() * unit
}

/// The most a source of `path` may be credited, in bits per sample, when
/// its median sample spans `median_steps` steps of the clock's effective
/// resolution, and `timer_driven` says whether the pass is of the kind the
/// ceilings were measured on: a timer's interrupts drive it, and it runs
/// ahead of the timer ([`MIN_EXPIRATIONS_PER_TIMER_EVENT`]); for the timer
/// read and the short paths, a timer read beside them in the start-up
/// window; for a whole pass, timer events among its wakeups. Otherwise
/// every path gets 1/16 bit at most, and nothing under
/// [`MIN_SHORT_MEDIAN_STEPS`] (the short paths' own rows start there; in
/// passes that waited for their timer a timer read over 17 steps of the
/// 19.2 MHz clock assessed 0.124 bits, under twice 1/16).
///
/// | path \ median steps at least | 16 | 20 | 24 | 30 | 40 | 48 | 64 | 80 | 96 | 128 | 192 | 256 | 384 | 1024 |
/// |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
/// | timer read | 2 | 2 | 2 | 2 | 2 | 2 | 2 | 2 | 2 | 2 | 3 | 3 | 10 | 15 |
/// | wait | 0 | 1 | 1 | 2 | 2 | 2 | 3 | 4 | 4 | 5 | 7 | 7 | 7 | 7 |
/// | socket drain | 0 | 0 | 0 | 1 | 1 | 1 | 3 | 3 | 3 | 3 | 3 | 3 | 3 | 3 |
/// | file drain | 0 | 0 | 0 | 1 | 1 | 1 | 2 | 3 | 3 | 3 | 3 | 3 | 3 | 3 |
/// | socket poke | 0 | 1 | 1 | 1 | 2 | 2 | 3 | 3 | 3 | 3 | 3 | 3 | 3 | 3 |
/// | file touch | 0 | 1 | 1 | 1 | 2 | 3 | 4 | 4 | 4 | 5 | 5 | 5 | 5 | 5 |
/// | whole pass | 0 | 1 | 1 | 1 | 1 | 5 | 5 | 5 | 6 | 7 | 8 | 8 | 8 | 11 |
/// | pass, first third | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 4 | 4 | 4 | 4 | 4 | 7 | 7 |
/// | pass, middle third | 0 | 0 | 0 | 2 | 2 | 2 | 2 | 2 | 2 | 3 | 3 | 3 | 3 | 3 |
/// | pass, last third | 0 | 0 | 0 | 0 | 2 | 2 | 2 | 2 | 2 | 2 | 3 | 3 | 3 | 3 |
///
/// (sixteenths of a bit; fewer than 16 steps: 0; the short paths and a
/// whole pass get nothing under 20 steps, where the grid's figures scatter
/// most, and the drains nothing under 30; a pass's thirds, from real runs
/// alone, nothing below the fewest steps a run showed them at and no more
/// above the most than there.) Start-up passes each median
/// rounded down to
/// two significant digits (so that no exact sample statistic is
/// kept), which moves five edges up on the safe side: 128, 192, 256, 384
/// and 1024 steps act from 130, 200, 260, 390 and 1100. Each entry is at
/// most a fraction of half the lowest 1,000,000-sample assessment of that
/// path at that many steps or more (for the timer read, also of a real
/// run's at half as many: see `BAND_SIXTEENTHS`): 0.6 for every path,
/// since the figures move from run to run (over the runs on one machine
/// and clock, each path's lowest was 0.48-0.95 of its median, and one
/// run's 19.2 MHz socket drain came in at 0.57 of the lowest figure
/// recorded before it; the timer read had 0.8 of half while its lowest
/// stayed near its median (0.79-0.95 of it), until the Intel Xeon guest's
/// 19.2 MHz run of 2026-12-06 07:09 UTC came in at 0.76 of the lowest
/// recorded before it). The figures are those of the AMD EPYC
/// and Intel Xeon guests' recordings re-quantised to clocks of 12-1000 ns
/// ticks, quiet and under two busy loops, and of the real runs of the
/// condition matrix on both (README, "The entropy claim"); a whole pass's
/// (per-wakeup sampling) are the Intel Xeon guest's two recordings and
/// both guests' real runs of `scripts/assess-conditions.sh --per-wakeup`
/// (the AMD EPYC guest's, since 2026-12-07, 3.2-4.7 bits over 820-5,700
/// steps; the Intel guest's lowest: on the 24 MHz clock a pass of 340
/// steps assessed 2.64 bits, one of 520 2.49, and one of 600 under two
/// busy loops 2.63; on the 19.2 MHz one 2.18-2.29 over 380, 2.01 over
/// 290 loaded, and 1.737 over 260 in CI's run of 2026-12-07 13:54 UTC,
/// its timer shortened by the collector, which took the bands from 192
/// to 1023 steps to 8/16), a run's
/// figure answering for twice its steps as the timer read's does; that
/// row is for passes of the default's [`PASS_ROW_KERNEL_PATHS`] kernel
/// paths, and [`pass_ceiling`] scales it for passes of fewer. Bands
/// wider
/// than the path spans on a recording's own clock keep the widest measured
/// value. A band's figure is its lowest-edge one: a path that spans 64
/// steps assesses about half of what it does at 128. Without a timer (an
/// always-ready loop), the short paths' samples repeat in long stretches
/// that a start-up window does not show (a loop's wait assessed 2.8 bits on
/// 683 samples and 0.33 on 200,000), so none of them is credited more than
/// 1/16 bit; nor is a whole pass of such a loop (one socket pair sampled
/// per wakeup assessed 0.72 bits on 1,000,000 samples where start-up,
/// before this cap, had credited up to 0.625).
pub fn ceiling(path: KernelPath, median_steps: f64, timer_driven: bool) -> f64 {
    if median_steps.is_nan() {
        return 0.0;
    }
    let band = BAND_STEPS.iter().rposition(|&edge| median_steps >= edge);
    let sixteenths = match (band, BAND_SIXTEENTHS.iter().find(|(p, _)| *p == path)) {
        (Some(band), Some((_, bands))) => bands[band],
        _ => 0,
    };
    let most = if timer_driven {
        sixteenths
    } else if median_steps < MIN_SHORT_MEDIAN_STEPS {
        0
    } else {
        sixteenths.min(1)
    };
    f64::from(most) * CREDIT_STEP
}

/// The kernel paths of the passes that the whole pass's row of
/// [`ceiling`] was measured on: the default configuration's on epoll (the
/// wait's return, the timer read, four socket drains, the inotify drain,
/// four socket pokes and four file touches).
pub const PASS_ROW_KERNEL_PATHS: u32 = 15;

/// A whole pass's ceiling ([`ceiling`] of [`KernelPath::Pass`]) when its
/// passes span `kernel_paths` kernel paths on average
/// ([`EventCounts::kernel_paths_per_wakeup`]): the row's, scaled by the
/// share of [`PASS_ROW_KERNEL_PATHS`] they span (never above the row),
/// rounded down to a [`CREDIT_STEP`]. The row's figures are the default
/// pass's; a pass of fewer kernel paths assesses less over the same steps.
/// On the Intel Xeon guest's simulated 24 MHz and 19.2 MHz clocks
/// (2026-12-06, `kqseed report -n 1000000 --sampling per-wakeup` with
/// fewer socket pairs and files and a shorter timer), passes of 9 kernel
/// paths assessed 1.33-1.61 bits over 230-310 steps, of 5-6 paths
/// 1.22-1.26 over 140-160, where the default's 15 assessed 2.0-3.3 over
/// 260-600: the row alone credited the 9-path pass 9/16 bit, 0.85 of half
/// its figure; scaled, 5/16. Without a timer driving the pass the row's
/// 1/16 bit at most holds as it is (measured on a pass of one socket pair).
///
/// [`EventCounts::kernel_paths_per_wakeup`]: crate::EventCounts::kernel_paths_per_wakeup
pub fn pass_ceiling(median_steps: f64, timer_driven: bool, kernel_paths: f64) -> f64 {
    let row = ceiling(KernelPath::Pass, median_steps, timer_driven);
    if !timer_driven {
        return row;
    }
    let share = if kernel_paths.is_nan() {
        0.0
    } else {
        (kernel_paths / f64::from(PASS_ROW_KERNEL_PATHS)).clamp(0.0, 1.0)
    };
    (row * share / CREDIT_STEP).floor() * CREDIT_STEP
}

/// A source's ceiling: [`pass_ceiling`] for a whole pass whose kernel
/// paths were counted, [`ceiling`] otherwise.
pub(crate) fn source_ceiling(
    path: KernelPath,
    median_steps: f64,
    timer_driven: bool,
    kernel_paths_per_pass: Option<f64>,
) -> f64 {
    match kernel_paths_per_pass {
        Some(kernel_paths) if path == KernelPath::Pass => {
            pass_ceiling(median_steps, timer_driven, kernel_paths)
        }
        _ => ceiling(path, median_steps, timer_driven),
    }
}

/// The ceiling of a source whose passes did not outrun their timer
/// ([`MIN_EXPIRATIONS_PER_TIMER_EVENT`]): nothing for the wait, which
/// waited for the timer, nor for a whole pass or its thirds, which were
/// measured only on passes that outran it; the
/// others as [`ceiling`] has them without a timer driving the pass. What
/// start-up decides on such a window, and what the online check lowers to
/// when the pace is lost.
pub(crate) fn timer_paced_ceiling(path: KernelPath, median_steps: f64) -> f64 {
    if matches!(path, KernelPath::Wait) || path.is_pass_sum() {
        0.0
    } else {
        ceiling(path, median_steps, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_not_of_the_ceilings_kind_get_a_sixteenth_from_twenty_steps() {
        for path in [KernelPath::TimerRead, KernelPath::Wait, KernelPath::Pass] {
            assert_eq!(ceiling(path, 17.0, false), 0.0, "{path:?}");
            // With a timer only the timer read's row starts under 20 steps.
            assert_eq!(
                ceiling(path, 17.0, true) > 0.0,
                path == KernelPath::TimerRead,
                "{path:?}"
            );
            assert_eq!(ceiling(path, 1100.0, false), CREDIT_STEP, "{path:?}");
        }
        assert_eq!(ceiling(KernelPath::TimerRead, 30.0, false), CREDIT_STEP);
        assert_eq!(
            min_credited_steps(KernelPath::TimerRead, false, None),
            MIN_SHORT_MEDIAN_STEPS
        );
        assert_eq!(
            min_credited_steps(KernelPath::TimerRead, true, None),
            MIN_MEDIAN_STEPS
        );
    }

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
    fn the_documented_table_is_the_one_in_force() {
        // `ceiling`'s doc table is the users' copy of BAND_SIXTEENTHS (a
        // private constant): every row of it must match.
        let names = [
            (KernelPath::TimerRead, "timer read"),
            (KernelPath::Wait, "wait"),
            (KernelPath::SocketDrain, "socket drain"),
            (KernelPath::FileDrain, "file drain"),
            (KernelPath::SocketPoke, "socket poke"),
            (KernelPath::FileTouch, "file touch"),
            (KernelPath::Pass, "whole pass"),
        ];
        let source = include_str!("credit.rs");
        for (path, name) in names {
            let row = source
                .lines()
                .find(|l| l.starts_with(&format!("/// | {name} ")))
                .unwrap_or_else(|| panic!("no doc row for {name}"));
            let documented: Vec<u8> = row
                .split('|')
                .skip(2)
                .filter_map(|c| c.trim().parse().ok())
                .collect();
            let (_, bands) = BAND_SIXTEENTHS
                .iter()
                .find(|(p, _)| *p == path)
                .expect("row");
            assert_eq!(documented, bands.to_vec(), "{name}");
        }
    }

    #[test]
    fn a_whole_pass_is_credited_its_share_of_the_default_passes_kernel_paths() {
        let row = ceiling(KernelPath::Pass, 340.0, true);
        assert_eq!(row, 0.5);
        assert_eq!(pass_ceiling(340.0, true, 15.0), row);
        assert_eq!(pass_ceiling(340.0, true, 40.0), row, "never above the row");
        // 8/16 * 9/15 = 4.8/16, rounded down; 8/16 * 6/15 = 3.2/16.
        assert_eq!(pass_ceiling(340.0, true, 9.0), 0.25);
        assert_eq!(pass_ceiling(340.0, true, 6.0), 0.1875);
        assert_eq!(pass_ceiling(340.0, true, 0.0), 0.0);
        assert_eq!(pass_ceiling(340.0, true, f64::NAN), 0.0);
        // Without a timer the row's sixteenth stands (its own evidence).
        assert_eq!(pass_ceiling(340.0, false, 0.0), CREDIT_STEP);
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
        // An AMD 24 MHz timer read of 3.286 bits over 840 steps (the
        // acceptance run of 2026-12-07 01:28 UTC) answers for the band
        // from 1024 steps: 0.3 x 3.286 = 0.986, rounded down to 15/16.
        assert_eq!(ceiling(KernelPath::TimerRead, 1500.0, true), 0.9375);
        // A whole pass on the Intel guest's own 1 ns clock (14,000-22,000
        // steps) assessed 6.64-7.07 bits, but a 24 MHz one of 520 steps
        // 2.49 (CI's run of 2026-12-06 11:31 UTC), and a real run's figure
        // answers for twice its steps.
        assert_eq!(ceiling(KernelPath::Pass, 1500.0, true), 0.6875);
        // The Intel guest's coarse-clock timer reads: 0.43-2.02 bits at
        // 30-130 steps, and a run's figure answers for twice its steps.
        assert_eq!(ceiling(KernelPath::TimerRead, 40.0, true), 0.125);
        assert_eq!(ceiling(KernelPath::TimerRead, 110.0, true), 0.125);
        assert_eq!(ceiling(KernelPath::TimerRead, 255.0, true), 0.1875);
        // An Intel 24 MHz timer read of 0.774 bits over 130 steps bounds
        // the band from 256 too.
        assert_eq!(ceiling(KernelPath::TimerRead, 290.0, true), 0.1875);
        // A 19.2 MHz timer read of 2.164 bits over 360 steps: 0.3 x 2.164
        // is 10/16, up to twice its steps.
        assert_eq!(ceiling(KernelPath::TimerRead, 390.0, true), 0.625);
        // A 19.2 MHz pass of 260 steps assessed 1.737 bits (Intel, CI's
        // run of 2026-12-07 13:54 UTC): 0.3 x 1.737 is 8/16, for every
        // band up to twice its steps.
        assert_eq!(ceiling(KernelPath::Pass, 340.0, true), 0.5);
        assert_eq!(ceiling(KernelPath::Pass, 600.0, true), 0.5);
        assert_eq!(ceiling(KernelPath::Pass, 36.0, true), 0.0625);
        assert_eq!(ceiling(KernelPath::FileDrain, 140.0, true), 0.1875);
        assert_eq!(ceiling(KernelPath::SocketDrain, 26.0, true), 0.0);
        assert_eq!(ceiling(KernelPath::SocketDrain, 30.0, true), 0.0625);
        // An AMD 24 MHz socket poke of 0.617 bits over 50 steps (the
        // acceptance run of 2026-12-07 02:57 UTC): 0.3 x 0.617 is 2/16.
        assert_eq!(ceiling(KernelPath::SocketPoke, 50.0, true), 0.125);
        assert_eq!(ceiling(KernelPath::SocketPoke, 64.0, true), 0.1875);
        // The lower edge of a band carries it: a wait of 68 steps assessed
        // 0.81-0.83 bits where one of 200-203 assessed 1.59-1.94.
        assert_eq!(ceiling(KernelPath::Wait, 64.0, true), 0.1875);
        assert_eq!(ceiling(KernelPath::Wait, 63.9, true), 0.125);
        assert_eq!(ceiling(KernelPath::Wait, 202.0, true), 0.4375);
        // An AMD 24 MHz wait of 1.011 bits over 99 steps (the same run;
        // start-up had credited it 5/16, 0.62 of half).
        assert_eq!(ceiling(KernelPath::Wait, 99.0, true), 0.25);
        assert_eq!(ceiling(KernelPath::Wait, 130.0, true), 0.3125);
        assert_eq!(ceiling(KernelPath::Wait, 1e9, true), 0.4375);
        assert_eq!(ceiling(KernelPath::TimerRead, 15.9, true), 0.0);
        assert!(ceiling(KernelPath::TimerRead, MIN_MEDIAN_STEPS, true) > 0.0);
        // Short paths are credited from MIN_SHORT_MEDIAN_STEPS (the drains
        // from 30), never below.
        let short = |p: KernelPath| p != KernelPath::TimerRead && !p.is_pass_sum();
        for path in KernelPath::ALL.into_iter().filter(|&p| short(p)) {
            let from = match path {
                KernelPath::FileDrain | KernelPath::SocketDrain => 30.0,
                _ => MIN_SHORT_MEDIAN_STEPS,
            };
            assert!(ceiling(path, from, true) > 0.0, "{path:?}");
            assert_eq!(ceiling(path, from - 0.1, true), 0.0, "{path:?}");
        }
        // No timer: the short paths get the least credit at most.
        assert_eq!(ceiling(KernelPath::Wait, 200.0, false), 0.0625);
        // A pass's thirds: nothing below the fewest steps a run showed them
        // at, and no more above the most.
        for (third, from, least, most) in [
            (KernelPath::PassFirstThird, 80.0, 0.25, 0.4375),
            (KernelPath::PassMiddleThird, 30.0, 0.125, 0.1875),
            (KernelPath::PassLastThird, 40.0, 0.125, 0.1875),
        ] {
            assert_eq!(ceiling(third, from - 0.1, true), 0.0, "{third:?}");
            assert_eq!(ceiling(third, from, true), least, "{third:?}");
            assert_eq!(ceiling(third, 1e9, true), most, "{third:?}");
            assert_eq!(timer_paced_ceiling(third, 1e9), 0.0, "{third:?}");
        }
    }

    #[test]
    fn a_window_median_falls_in_the_band_start_up_would_give_it() {
        use crate::startup::two_digits;
        let band_of = |steps: f64| {
            BAND_STEPS
                .iter()
                .rposition(|&edge| two_digits(steps) >= edge)
                .map_or(0.0, |b| BAND_STEPS[b])
        };
        for resolution in [1.0, 10.015, 41.6667, 1000.0] {
            // Every sample alone: its band is the one start-up's rounded
            // median would fall in, at each edge and on either side of it.
            let mut steps: Vec<f64> = (0..4000).map(|i| f64::from(i) * 0.37).collect();
            for edge in BAND_STEPS {
                let up = two_digits_up(edge);
                steps.extend([edge - 0.5, edge, up - 0.5, up, up + 0.5]);
            }
            for &s in &steps {
                let delta = (s * resolution).ceil() as u64;
                let mut bands = StepBands::new(resolution);
                bands.count(delta);
                let expected = band_of(delta as f64 / resolution);
                assert_eq!(
                    bands.take_median_band(),
                    Some(expected),
                    "{s} x {resolution}"
                );
            }
        }
        // A window's median: the sorted window's element (n - 1) / 2, as
        // start-up takes it. Three samples at 100 steps and two at 20:
        // the 96 band; two and two: the lower middle one, the 20 band.
        let mut bands = StepBands::new(10.0);
        for d in [1000, 200, 1000, 1000, 200] {
            bands.count(d);
        }
        assert_eq!(bands.take_median_band(), Some(96.0));
        for d in [1000, 200, 1000, 200] {
            bands.count(d);
        }
        assert_eq!(bands.take_median_band(), Some(20.0));
        // Taken windows start again; an empty one has no median.
        assert_eq!(bands.take_median_band(), None);
        bands.count(5);
        assert_eq!(bands.take_median_band(), Some(0.0));
        // Past the last edge (1024, counted from 1100 steps).
        bands.count(11_000);
        assert_eq!(bands.take_median_band(), Some(1024.0));
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
