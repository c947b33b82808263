//! The clock's effective resolution: the step its readings really advance
//! by, which neither the clock's nominal unit nor `clock_getres` tells.
//!
//! On the AMD EPYC guests this project runs on, `CLOCK_MONOTONIC_RAW` reads
//! in nanoseconds but advances in steps of about 10.015 ns (the TSC's
//! 26-tick quanta scaled to ns, with ±1 ns of rounding), while
//! `clock_getres` says 1 ns; Apple Silicon's counter moves every 41.67 ns;
//! BSD timecounters such as the HPET step 69.84 ns. None of these is a whole
//! number of the clock's units, so the step is found as a real-valued
//! lattice that the deltas sit on, and every symbol counts steps of it.
//!
//! Pure code: no I/O, no clock.

use zeroize::Zeroizing;

/// Fewer non-zero deltas than this give a resolution of one tick: too few
/// to tell a lattice from chance.
const MIN_DELTAS: usize = 16;

/// Gaps between neighbouring clusters of delta values tried as the step
/// (with their halves and thirds): the smallest ones.
const MAX_GAPS_TRIED: usize = 8;

/// Share of the non-zero deltas, in thousandths, that must sit on the
/// lattice for it to count: 90%. Not more: a few deltas off a coarse
/// lattice (a jump, a changed conversion) would reject it, and a half or a
/// third of it, which holds the same deltas and catches off-lattice ones by
/// chance, would pass instead: a finer clock, more steps a path, more
/// credit.
const ON_LATTICE_PER_MILLE: usize = 900;

/// The farthest, in ticks, a delta may sit from a multiple of the step and
/// still count as on it: a reading rounded to the clock's unit at both ends
/// is off by less than 2. Wider, a narrow spread of deltas (one path, or
/// whole passes, within 20% of their median) would fit a "step" as long as
/// the delta itself.
const MAX_OFF_TICKS: f64 = 2.0;

/// The fewest distinct multiples of a step the deltas must fall on (each
/// with two deltas at least) for it to be the clock's.
const MIN_MULTIPLES: usize = 3;

/// Clusters of delta values holding at least this many deltas, and at
/// least the mean, give the first candidates: values off the lattice are
/// rare and scattered, and the gaps beside them are not the step.
const POPULOUS_CLUSTER: u32 = 3;

/// The effective resolution of the clock behind `deltas`, in the deltas' own
/// ticks (at least 1): the largest real step `r` such that at least 90% of
/// the non-zero deltas lie within `0.2 r` ticks (at most 2 ticks) of a
/// non-zero whole multiple of `r`.
///
/// The candidates come from the data: distinct delta values one tick apart
/// are merged (rounding to the clock's unit jitters a reading by a tick),
/// and the smallest few gaps between the merged values, and their halves and
/// thirds, are each refined by least squares, first along the merged values
/// and then over all deltas, and checked; the largest that fits wins. Returns 1
/// when nothing coarser fits, and for fewer than 16 non-zero deltas. Runs in
/// `O(n log n)` whatever the deltas.
///
/// ```
/// // A clock in nanoseconds that advances every 41.67 ns (24 MHz).
/// let deltas: Vec<u64> = (0..500u64).map(|i| ((800 + i % 37) as f64 * 41.6667) as u64).collect();
/// let r = kqseed::detect_resolution(&deltas);
/// assert!((r - 41.6667).abs() < 0.05, "{r}");
/// ```
pub fn detect_resolution(deltas: &[u64]) -> f64 {
    // Sized first: a vector that grew would free copies of the deltas
    // unwiped.
    let moved = deltas.iter().filter(|&&d| d > 0).count();
    let mut sorted = Zeroizing::new(Vec::with_capacity(moved));
    sorted.extend(deltas.iter().copied().filter(|&d| d > 0));
    if sorted.len() < MIN_DELTAS {
        return 1.0;
    }
    sorted.sort_unstable();
    // Distinct values one tick apart form one cluster; its centre is the
    // count-weighted mean.
    // Each cluster's centre and how many deltas it holds. Sized first: a
    // vector that grew would free copies of the centres unwiped.
    let clusters = 1 + sorted
        .windows(2)
        .filter(|w| w[1] > w[0].saturating_add(1))
        .count();
    let mut centres: Zeroizing<Vec<f64>> = Zeroizing::new(Vec::with_capacity(clusters));
    let mut populous: Zeroizing<Vec<f64>> = Zeroizing::new(Vec::with_capacity(clusters));
    let populous_count = POPULOUS_CLUSTER.max((sorted.len() / clusters) as u32);
    let (mut sum, mut count) = (0f64, 0u32);
    for (i, &d) in sorted.iter().enumerate() {
        sum += d as f64;
        count += 1;
        if sorted
            .get(i + 1)
            .is_none_or(|&next| next > d.saturating_add(1))
        {
            let centre = sum / f64::from(count);
            centres.push(centre);
            if count >= populous_count {
                populous.push(centre);
            }
            (sum, count) = (0.0, 0);
        }
    }
    // Candidates: the smallest few gaps between neighbouring clusters, the
    // populous ones' first (a rare value between two lattice points makes
    // a gap spurious), and a half and a third of each (lattice points that
    // never occurred); the largest that checks out wins.
    // Sized first, and wiped: the gaps are distances between deltas.
    let mut candidates: Zeroizing<Vec<f64>> =
        Zeroizing::new(Vec::with_capacity(2 * 3 * MAX_GAPS_TRIED));
    for c in [&populous[..], &centres[..]] {
        let gaps = smallest_gaps(c);
        candidates.extend(
            gaps.iter()
                .flat_map(|&g| [g, g / 2.0, g / 3.0])
                .filter(|&c| c >= 1.5),
        );
    }
    candidates.sort_unstable_by(|a, b| b.total_cmp(a));
    candidates.dedup_by(|a, b| (*a - *b).abs() < 0.01);
    // Sharpened along the populous clusters first (an off-lattice cluster
    // near the first would pull the estimate to its own distance), then
    // along all of them (populous clusters hundreds of steps apart can
    // miscount the steps between them).
    let alongs: &[&[f64]] = if populous.len() >= 2 {
        &[&populous[..], &centres[..]]
    } else {
        &[&centres[..]]
    };
    // Each distinct value once, with its count: the same sums in a
    // fraction of the work where values repeat (a coarse clock read in its
    // own ticks repeats each a few times in 2048). Sized first, and wiped.
    let distinct = 1 + sorted.windows(2).filter(|w| w[1] != w[0]).count();
    let mut values: Zeroizing<Vec<u64>> = Zeroizing::new(Vec::with_capacity(distinct));
    let mut counts: Zeroizing<Vec<u32>> = Zeroizing::new(Vec::with_capacity(distinct));
    for &d in sorted.iter() {
        match (values.last(), counts.last_mut()) {
            (Some(&v), Some(c)) if v == d => *c += 1,
            _ => {
                values.push(d);
                counts.push(1);
            }
        }
    }
    let histogram = Histogram {
        values: &values,
        counts: &counts,
        total: sorted.len(),
    };
    for &candidate in candidates.iter() {
        for along in alongs {
            let r = refine(&histogram, along_centres(along, candidate));
            if r >= 1.5 && on_lattice(&histogram, r) {
                return r;
            }
        }
    }
    1.0
}

/// The sorted non-zero deltas as distinct values and how many of each.
struct Histogram<'a> {
    values: &'a [u64],
    counts: &'a [u32],
    /// The deltas in all: the counts' sum.
    total: usize,
}

impl Histogram<'_> {
    fn iter(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.values
            .iter()
            .zip(self.counts)
            .map(|(&v, &c)| (v as f64, f64::from(c)))
    }
}

/// The [`MAX_GAPS_TRIED`] smallest distinct gaps between neighbouring
/// `centres` (sorted).
fn smallest_gaps(centres: &[f64]) -> Zeroizing<Vec<f64>> {
    // Collected from an exact-size iterator: one allocation, wiped.
    let mut gaps: Zeroizing<Vec<f64>> =
        Zeroizing::new(centres.windows(2).map(|w| w[1] - w[0]).collect());
    gaps.sort_unstable_by(f64::total_cmp);
    gaps.dedup_by(|a, b| (*a - *b).abs() < 0.5);
    gaps.truncate(MAX_GAPS_TRIED);
    gaps
}

/// Sharpens a step `r0` known to a few percent (a gap between neighbouring
/// clusters) into one known to a fraction of a per cent, by least squares
/// over the clusters' distances from the first, taken in order: each
/// distance is labelled with the step count the estimate so far gives it,
/// and near distances are labelled right while the estimate is rough.
fn along_centres(centres: &[f64], r0: f64) -> f64 {
    let first = centres[0];
    let (mut kd, mut kk) = (0f64, 0f64);
    let mut r = r0;
    for &c in &centres[1..] {
        let k = ((c - first) / r).round();
        if k < 1.0 {
            continue;
        }
        kd += k * (c - first);
        kk += k * k;
        r = kd / kk;
    }
    r
}

/// The least-squares step through the origin for the multiples that `r0`
/// assigns: `sum(n d) / sum(n^2)`, `n = round(d / r0)`, twice.
fn refine(deltas: &Histogram<'_>, r0: f64) -> f64 {
    let mut r = r0;
    for _ in 0..2 {
        let (mut nd, mut nn) = (0f64, 0f64);
        for (d, count) in deltas.iter() {
            let n = (d / r).round();
            nd += count * n * d;
            nn += count * n * n;
        }
        if nn <= 0.0 || nn.is_nan() {
            return r0;
        }
        r = nd / nn;
    }
    r
}

/// Whether at least 90% of `deltas` (sorted) lie within `0.2 r`, and at
/// most [`MAX_OFF_TICKS`], of a non-zero multiple of `r` (a delta that moved
/// at all spans at least one step), on at least [`MIN_MULTIPLES`] distinct
/// multiples of at least two deltas each: a "step" that every delta spans
/// once or twice explains nothing about their spread. (A clock of whole
/// ticks read with a tick of rounding is not told apart from a 1-tick clock
/// below 5 ticks a step; it counts as 1 there.)
fn on_lattice(deltas: &Histogram<'_>, r: f64) -> bool {
    if !r.is_finite() {
        return false;
    }
    let tolerance = (0.2 * r).min(MAX_OFF_TICKS);
    // More off the lattice than this and it fails, whatever the rest.
    let most_off = deltas.total * (1000 - ON_LATTICE_PER_MILLE) / 1000;
    let (mut off, mut multiples) = (0usize, 0usize);
    let (mut last, mut run) = (0f64, 0u32);
    for (&d, &count) in deltas.values.iter().zip(deltas.counts) {
        let x = d as f64;
        let n = (x / r).round();
        if n < 1.0 || (x - n * r).abs() > tolerance {
            off += count as usize;
            if off > most_off {
                return false;
            }
            continue;
        }
        // Sorted deltas give each multiple's deltas in one run.
        let before = if n == last { run } else { 0 };
        (last, run) = (n, before.saturating_add(count));
        if before < 2 && run >= 2 {
            multiples += 1;
        }
    }
    multiples >= MIN_MULTIPLES
}

/// Samples between two re-measurements of a started seeder's clock: 16
/// online windows of the default, about 0.21 s of collection on the AMD
/// EPYC guest. One re-measurement (up to a few hundred microseconds on a
/// window of 2048) costs well under 1% of that.
pub(crate) const RECHECK_SAMPLES: u64 = 65_536;

/// The most samples a re-measurement looks at (a larger start-up window is
/// cut to this): windows stay disjoint, and cheap.
pub(crate) const MAX_RECHECK_WINDOW: usize = 8192;

/// The fewest samples a re-measurement looks at (a smaller start-up
/// window, of whole passes or thirds, is widened to this). Windows of a
/// few hundred sums of few distinct values can fit a false lattice (on
/// the Intel Xeon guest's simulated 24 MHz clock, 2026-12-07, windows of
/// 405 thirds measured 7.18 ticks twice in a row: the acceptance client's
/// `kqseed report` of 17:11 UTC). Whole passes and thirds are re-measured
/// on their per-path samples
/// ([`NoiseSources::watch_clock`](crate::NoiseSources::watch_clock)); this
/// floor keeps other small windows from the same trap.
pub(crate) const MIN_RECHECK_WINDOW: usize = 2048;

/// How much coarser than the resolution in use a re-measured one must be to
/// count as a change: 1.5 times (a clock that coarsens does so by whole
/// multiples: a 10 ns TSC scaled to a 41.67 ns counter, a clocksource
/// falling back from the TSC to a 100 ns one).
pub(crate) const COARSER: f64 = 1.5;

/// Re-measures the clock's effective resolution as a started seeder runs,
/// over its last samples (raw deltas, wiped when dropped): a clock that
/// turned coarser after start-up (a VM migrated to a host with another
/// counter, a clocksource that fell back), or one that start-up
/// under-measured (a window of 2048 can miss the lattice: a review saw 1
/// tick in 5 of 488 per-wakeup windows of the 10.015 ns clock), would
/// otherwise keep ceilings for more steps than its samples span.
///
/// A coarser resolution counts only when two re-measurements in a row,
/// over disjoint windows, find it at least [`COARSER`] times the one in
/// use: one odd window must not lower credits for good. The caller then
/// counts steps of the coarser one for the ceilings (which only lowers
/// credits); it does not run start-up again, since a clock that start-up
/// under-measured has not changed, and a refusal per re-measurement would
/// spend the seeder's refusals.
pub(crate) struct ResolutionWatch {
    in_use_ticks: f64,
    recent: Zeroizing<Vec<u64>>,
    seen: u64,
    coarser_in_a_row: u32,
}

impl ResolutionWatch {
    /// A watch over windows of `window` samples (start-up's, within
    /// [`MIN_RECHECK_WINDOW`] and [`MAX_RECHECK_WINDOW`]), for a clock that
    /// start-up measured at `startup_ticks`.
    pub(crate) fn new(startup_ticks: f64, window: usize) -> ResolutionWatch {
        let window = window.clamp(MIN_RECHECK_WINDOW, MAX_RECHECK_WINDOW);
        ResolutionWatch {
            in_use_ticks: startup_ticks,
            recent: Zeroizing::new(vec![0; window]),
            seen: 0,
            coarser_in_a_row: 0,
        }
    }

    /// Records a sample of `delta` ticks; every [`RECHECK_SAMPLES`] samples
    /// re-measures the resolution over the last window. Returns the new
    /// resolution, in ticks, when this and the last re-measurement both
    /// found the clock [`COARSER`] than the one in use, which it then is.
    pub(crate) fn record(&mut self, delta: u64) -> Option<f64> {
        let window = self.recent.len();
        if window == 0 {
            return None;
        }
        self.recent[(self.seen % window as u64) as usize] = delta;
        self.seen += 1;
        if !self.seen.is_multiple_of(RECHECK_SAMPLES) || self.seen < window as u64 {
            return None;
        }
        let now = detect_resolution(&self.recent);
        if now < COARSER * self.in_use_ticks {
            self.coarser_in_a_row = 0;
            return None;
        }
        self.coarser_in_a_row += 1;
        if self.coarser_in_a_row < 2 {
            return None;
        }
        self.coarser_in_a_row = 0;
        self.in_use_ticks = now;
        Some(now)
    }
}

/// The 8-bit symbol of a delta: the low byte of the number of clock steps
/// it spans, `round(delta / resolution)`.
///
/// The low bits move the most from one sample to the next; counting steps
/// first keeps the clock's rounding dither and its never-changing bits out
/// of the symbol. A resolution below 1 (or not a number) counts ticks.
pub fn symbol(delta: u64, resolution: f64) -> u8 {
    if resolution > 1.0 {
        (delta as f64 / resolution).round() as u64 as u8
    } else {
        delta as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::SplitMix64;

    #[test]
    fn a_non_integer_step_with_rounding_is_found() {
        // The AMD guest's clock: multiples of 10.015 ns read to the nearest
        // ns, from a random phase.
        let mut rng = SplitMix64(7);
        let deltas: Vec<u64> = (0..2000)
            .map(|_| {
                let t0 = (rng.next() % 10_000) as f64 * 10.015 + 3.3;
                let n = 100 + rng.next() % 60;
                let t1 = t0 + n as f64 * 10.015;
                (t1.round() - t0.round()) as u64
            })
            .collect();
        let r = detect_resolution(&deltas);
        assert!((r - 10.015).abs() < 0.01, "{r}");
        // Whole steps come out as whole symbols.
        assert_eq!(symbol(2043, r), 204);
        assert_eq!(symbol(2033, r), 203);
    }

    #[test]
    fn integer_steps_and_fine_clocks() {
        let ticks: Vec<u64> = (0..1000u64).map(|i| (i * 7919 % 400 + 900) * 26).collect();
        assert_eq!(detect_resolution(&ticks), 26.0);
        let ms: Vec<u64> = (0..1000u64).map(|i| (i % 7 + 3) * 1_000_000).collect();
        assert_eq!(detect_resolution(&ms), 1_000_000.0);
        // A 1-tick clock: every integer occurs.
        let mut rng = SplitMix64(1);
        let fine: Vec<u64> = (0..1000).map(|_| 20_000 + rng.next() % 3000).collect();
        assert_eq!(detect_resolution(&fine), 1.0);
        // Even values only by chance in a few: not a 2-tick clock.
        let mut mostly_even = fine.clone();
        for d in mostly_even.iter_mut().take(900) {
            *d &= !1;
        }
        assert_eq!(detect_resolution(&mostly_even), 1.0);
    }

    #[test]
    fn a_few_deltas_off_a_coarse_lattice_keep_it() {
        // A 24 MHz clock in ns (41.67 ns steps) where some deltas sit off
        // the lattice (a jump, a changed conversion): a finer lattice that
        // the true one is part of must not win, nor one tick.
        for per_cent in [0u64, 1, 2, 5, 8] {
            let mut rng = SplitMix64(9 + per_cent);
            let deltas: Vec<u64> = (0..2048)
                .map(|_| {
                    let d = ((30 + rng.next() % 12) as f64 * 41.6667).round() as u64;
                    if rng.next() % 100 < per_cent {
                        d + 10 + rng.next() % 20
                    } else {
                        d
                    }
                })
                .collect();
            let r = detect_resolution(&deltas);
            assert!((r - 41.6667).abs() < 0.1, "{per_cent}% off: {r}");
        }
    }

    #[test]
    fn a_narrow_spread_of_long_deltas_is_not_one_step() {
        // Whole passes of about 35 us, within 10% of it (per-wakeup
        // sampling), and 2% that missed a timer and took twice as long, on
        // clocks of 500 ns read in ns and of whole 1 us and 2 us ticks: the
        // step is the clock's, never the gap from the passes to the double
        // ones (about a pass: 90% of the deltas lie within 20% of it).
        let mut rng = SplitMix64(4);
        let mut passes = |n: usize| -> Vec<f64> {
            (0..n)
                .map(|_| {
                    let base = if rng.next().is_multiple_of(50) {
                        70_000.0
                    } else {
                        35_000.0
                    };
                    base * (0.9 + (rng.next() % 2000) as f64 / 10_000.0)
                })
                .collect()
        };
        let on_500: Vec<f64> = passes(2048);
        let mut jitter = SplitMix64(5);
        let in_ns: Vec<u64> = on_500
            .iter()
            .map(|&t| ((t / 500.0).round() * 500.0) as u64 + jitter.next() % 2)
            .collect();
        let r = detect_resolution(&in_ns);
        assert!((r - 500.0).abs() < 1.0, "{r}");
        for tick in [1000.0, 2000.0] {
            let ticks: Vec<u64> = passes(2048).iter().map(|&t| (t / tick) as u64).collect();
            assert_eq!(detect_resolution(&ticks), 1.0, "{tick} ns ticks");
        }
    }

    #[test]
    fn degenerate_inputs_end_at_once() {
        assert_eq!(detect_resolution(&[]), 1.0);
        assert_eq!(detect_resolution(&[5, 10, 15]), 1.0, "too few");
        let huge: Vec<u64> = (0..64u64).map(|i| u64::MAX - i % 3).collect();
        assert!(detect_resolution(&huge) >= 1.0);
        let zeros = vec![0u64; 5000];
        assert_eq!(detect_resolution(&zeros), 1.0);
        assert_eq!(symbol(77, 0.0), 77);
        assert_eq!(symbol(77, f64::NAN), 77);
    }

    /// Deltas of a clock stepping by `step` ns, read to the nearest ns from
    /// a random phase, spanning 100-227 steps.
    fn lattice(rng: &mut SplitMix64, step: f64) -> u64 {
        let t0 = (rng.next() % 10_000) as f64 * step + 3.3;
        let n = 100 + rng.next() % 128;
        ((t0 + n as f64 * step).round() - t0.round()) as u64
    }

    #[test]
    fn a_clock_that_turns_coarser_is_found_on_the_second_recheck() {
        let mut rng = SplitMix64(41);
        let mut watch = ResolutionWatch::new(10.015, 2048);
        // The fine clock: never a change.
        for _ in 0..4 * RECHECK_SAMPLES {
            assert_eq!(watch.record(lattice(&mut rng, 10.015)), None);
        }
        // A 24 MHz counter from here: the first re-measurement over it
        // counts once, the second reports.
        let mut found = None;
        for i in 0..3 * RECHECK_SAMPLES {
            if let Some(r) = watch.record(lattice(&mut rng, 41.6667)) {
                found = Some((i, r));
                break;
            }
        }
        let (at, r) = found.expect("the coarser clock was never found");
        assert!((r - 41.6667).abs() < 0.1, "{r}");
        assert_eq!(at, 2 * RECHECK_SAMPLES - 1);
        // That is the clock in use now: no change while it stays.
        for _ in 0..4 * RECHECK_SAMPLES {
            assert_eq!(watch.record(lattice(&mut rng, 41.6667)), None);
        }
    }

    #[test]
    fn one_coarse_window_is_not_a_change() {
        let mut rng = SplitMix64(42);
        let mut watch = ResolutionWatch::new(10.015, 2048);
        for round in 0..6 {
            // Every other re-measurement's window is of a coarser clock.
            let step = if round % 2 == 0 { 10.015 } else { 41.6667 };
            for i in 0..RECHECK_SAMPLES {
                // The last window's worth before the re-measurement.
                let step = if i >= RECHECK_SAMPLES - 2048 {
                    step
                } else {
                    10.015
                };
                assert_eq!(watch.record(lattice(&mut rng, step)), None, "round {round}");
            }
        }
        // A finer clock is no change either (its symbols only count
        // coarser steps than it has).
        let mut watch = ResolutionWatch::new(41.6667, 2048);
        for _ in 0..3 * RECHECK_SAMPLES {
            assert_eq!(watch.record(lattice(&mut rng, 10.015)), None);
        }
    }

    #[test]
    fn a_small_start_up_window_is_widened_for_the_re_measurements() {
        assert_eq!(
            ResolutionWatch::new(1.0, 405).recent.len(),
            MIN_RECHECK_WINDOW
        );
        assert_eq!(
            ResolutionWatch::new(1.0, 20_000).recent.len(),
            MAX_RECHECK_WINDOW
        );
        // 405 samples (a window of thirds): the last 405 before each
        // re-measurement on a coarser lattice, the 1643 before them on the
        // fine one. A 405-sample window would find the coarser clock twice;
        // the 2048 looked at, mostly fine, do not.
        let mut rng = SplitMix64(13);
        let mut watch = ResolutionWatch::new(10.015, 405);
        for _ in 0..2 {
            for i in 0..RECHECK_SAMPLES {
                let step = if i >= RECHECK_SAMPLES - 405 {
                    41.6667
                } else {
                    10.015
                };
                assert_eq!(watch.record(lattice(&mut rng, step)), None);
            }
        }
    }
}
