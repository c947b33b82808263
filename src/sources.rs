//! The noise sources of one collector: one per kernel path, each with its
//! own credit, its own health tests and its own online margin check.
//!
//! Pure code: [`NoiseSources::feed`] takes a sample's path and delta and
//! says how much it may be credited. The seeder's pipeline and `kqseed
//! report` run the same code.

use core::fmt;

use zeroize::Zeroize;

use crate::assess::{Estimator, predictor_estimate};
use crate::collector::KernelPath;
use crate::conditioner::credit_millibits;
use crate::credit::{CreditPolicy, StepBands, source_ceiling};
use crate::error::ConfigError;
use crate::health::{HealthConfig, HealthFailure, HealthStats, HealthTests};
use crate::resolution::{ResolutionWatch, symbol};
use crate::startup::StartupReport;
use crate::sys::EventCounts;

/// How many kinds of kernel path there are: [`KernelPath::ALL`]'s length.
pub(crate) const PATHS: usize = KernelPath::ALL.len();

/// One `T` for each kernel path that occurred, looked up by path.
///
/// `Debug` shows the present paths by name, as a map.
#[derive(Clone, Copy, PartialEq)]
pub struct PerPath<T>([Option<T>; PATHS]);

impl<T> Default for PerPath<T> {
    fn default() -> Self {
        PerPath(core::array::from_fn(|_| None))
    }
}

impl<T> PerPath<T> {
    /// `path`'s entry, if the path occurred.
    pub fn get(&self, path: KernelPath) -> Option<&T> {
        self.0[path.index()].as_ref()
    }

    pub(crate) fn get_mut(&mut self, path: KernelPath) -> Option<&mut T> {
        self.0[path.index()].as_mut()
    }

    /// Sets `path`'s entry.
    pub fn set(&mut self, path: KernelPath, value: T) {
        self.0[path.index()] = Some(value);
    }

    /// The paths that occurred and their entries, in [`KernelPath::ALL`]'s
    /// order.
    pub fn iter(&self) -> impl Iterator<Item = (KernelPath, &T)> + '_ {
        KernelPath::ALL
            .into_iter()
            .zip(&self.0)
            .filter_map(|(p, v)| v.as_ref().map(|v| (p, v)))
    }

    /// The entries, in [`KernelPath::ALL`]'s order.
    pub fn values(&self) -> impl Iterator<Item = &T> + '_ {
        self.0.iter().flatten()
    }

    fn map<U>(&self, mut f: impl FnMut(&T) -> U) -> PerPath<U> {
        PerPath(core::array::from_fn(|i| self.0[i].as_ref().map(&mut f)))
    }
}

impl<T: fmt::Debug> fmt::Debug for PerPath<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(p, v)| (p.name(), v)))
            .finish()
    }
}

/// What one noise source has seen and been credited.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct SourceStats {
    /// Samples of this source fed.
    pub samples: u64,
    /// Min-entropy its own tests passed its samples at, in bits. The pass
    /// repetition test, which runs after them over every source, may still
    /// fail a sample and discard it with the pool: what reached the pool
    /// is [`SeederStats::credited_bits`](crate::SeederStats::credited_bits).
    pub credited_bits: f64,
    /// The credit start-up decided, bits per sample.
    pub startup_credit: f64,
    /// The credit now, bits per sample: the start-up credit, or lower once
    /// the online margin check lowered it.
    pub credit: f64,
    /// Windows the online margin check has assessed.
    pub online_checks: u64,
    /// Times it lowered the credit.
    pub online_lowered: u64,
    /// The lowest online estimate so far, bits per sample (`None` before
    /// the first window closes).
    pub lowest_online_estimate: Option<f64>,
    /// The lowest band of [`ceiling`](crate::ceiling) that a window's median sample fell
    /// in so far, as the band's lower edge in clock steps (0: fewer than
    /// the first band's; `None` before the first window closes). Start-up's
    /// [`median_steps`](crate::SourceStartup::median_steps) falls in the
    /// band its credit came from.
    pub lowest_online_median_band: Option<f64>,
    /// The health tests' counters (zero while the source is uncredited).
    pub health: HealthStats,
}

impl SourceStats {
    /// The mean credit per sample so far, bits: what the samples of this
    /// source were credited on average.
    pub fn mean_credit(&self) -> f64 {
        if self.samples == 0 {
            0.0
        } else {
            self.credited_bits / self.samples as f64
        }
    }
}

/// One source's state.
struct Source {
    credit_millibits: u32,
    /// The tests guarding the credit; `None` once the credit is 0.
    health: Option<HealthTests>,
    /// Symbol counts of the current online window (low bytes of pooled
    /// samples: wiped when dropped).
    counts: Box<[u32; 256]>,
    /// The current online window's samples by band of clock steps.
    bands: StepBands,
    /// Whether [`ceiling`](crate::ceiling) takes it as timer-driven (start-up's decision,
    /// until the pace is lost).
    timer_driven: bool,
    /// For a whole pass, the kernel paths its start-up window's passes
    /// spanned ([`pass_ceiling`](crate::pass_ceiling)): start-up's figure,
    /// which the online check scales by and does not measure again (on
    /// epoll the shape of a pass cannot change while it outruns its timer,
    /// which the pace check watches).
    kernel_paths_per_pass: Option<f64>,
    /// Start-up's median, in steps: the pace check's ceiling until the
    /// next window's median replaces it.
    startup_median_steps: f64,
    /// Whether the step resolution changed since its last window close:
    /// its ceiling is unknown until a window of the new steps closes, and
    /// its samples are credited nothing meanwhile.
    steps_pending: bool,
    credited_millibits: u64,
    stats: SourceStats,
}

impl Drop for Source {
    fn drop(&mut self) {
        self.counts.zeroize();
    }
}

/// The fewest samples of new steps a window must hold to decide a
/// source's ceiling after the step resolution changed: a quarter of the
/// default predictor window.
const MIN_STEP_WINDOW: u64 = 1024;

/// Every noise source of a collector, credited as start-up decided, tested
/// and re-checked online.
///
/// # The online margin check
///
/// Each credited source's predictor test closes a window every
/// [`predictor_window`](HealthConfig::predictor_window) samples (4096 by
/// default). At each close the source's figure over that window is taken
/// from two of SP 800-90B's fast estimators, both kept as running counts so
/// that the check costs a counter increment per sample: the Most Common
/// Value (section 6.3.1, the window's own histogram) and the lag predictor
/// (section 6.3.8 in the manner of the health test, with its global and
/// local bounds). When the lower is below `2 * allowance` times the credit,
/// the credit drops to what it backs ([`CreditPolicy::credit_for`]).
///
/// The same close measures the steps again: the window's median sample, in
/// steps of the clock's effective resolution, falls in a band of
/// [`ceiling`](crate::ceiling), counted per sample as start-up counts its median. When that
/// band's ceiling is below the credit (the path got shorter: a faster CPU
/// state, a quieter machine), the credit drops to it. The ceilings carry
/// the claim's rule where a window's estimate cannot (see [`ceiling`](crate::ceiling)), so
/// they hold for every window, not only start-up's.
///
/// The steps are those of the clock's effective resolution as start-up
/// measured it, until a re-measurement finds it coarser
/// ([`step_resolution_ticks`](NoiseSources::step_resolution_ticks)): a
/// clock that turned coarser (a VM moved to another host's counter), or
/// one that start-up's window under-measured, spans fewer real steps than
/// start-up counted. From that change each source's samples are credited
/// nothing until a window holding at least 1024 of its samples in the new
/// steps closes, and its credit is then at most its ceiling there (the
/// pipeline empties the pool at the change).
///
/// A credit never rises again. A source that drops to 0 is absorbed
/// uncredited.
pub struct NoiseSources {
    sources: PerPath<Source>,
    policy: CreditPolicy,
    /// The clock's effective resolution that symbols count, in ticks
    /// (start-up's).
    resolution_ticks: f64,
    /// Re-measures it; the step bands count a coarser one it confirms.
    clock: ResolutionWatch,
    /// The resolution the step bands count, in ticks: start-up's, or a
    /// coarser one measured since.
    step_resolution_ticks: f64,
    /// Whether it changed since the caller last asked.
    clock_changed: bool,
    /// Whether the re-measurement takes the per-path samples
    /// ([`watch_clock`](Self::watch_clock)) rather than the sources' own.
    clock_from_per_path: bool,
    /// The online margin check's latest lowering, until taken.
    lowering: Option<Lowering>,
    /// Whether the passes still run ahead of their timer.
    pace: PaceWatch,
}

/// Timer events per window of the online pace check.
pub const PACE_WINDOW_TIMER_EVENTS: u64 = 1024;

/// Watches whether the passes still run ahead of their timer after a
/// start-up that found them doing so: every [`PACE_WINDOW_TIMER_EVENTS`]
/// timer events, the window's expirations per timer event. Two windows in
/// a row under [`MIN_EXPIRATIONS_PER_TIMER_EVENT`] (one odd window must
/// not lower the credits for good) report it, once.
///
/// [`MIN_EXPIRATIONS_PER_TIMER_EVENT`]: crate::MIN_EXPIRATIONS_PER_TIMER_EVENT
struct PaceWatch {
    window: EventCounts,
    /// The window's pace when it was lost.
    lost: Option<f64>,
    slow_in_a_row: u32,
    /// Nothing left to watch: start-up found no timer ahead, or the pace
    /// was lost already.
    done: bool,
}

impl PaceWatch {
    fn new(startup: &StartupReport) -> PaceWatch {
        PaceWatch {
            window: EventCounts::default(),
            lost: None,
            slow_in_a_row: 0,
            // Armed whenever the pace could take a credit away: a source
            // taken as timer-driven, or a wait or whole pass (or third)
            // credited at all, which passes that wait for their timer
            // would not be (on kqueue no timer read makes the short paths
            // timer-driven, but a window that ran ahead still credits the
            // wait).
            done: !startup.sources.values().any(|s| {
                s.timer_driven
                    || (s.credit > 0.0 && (s.path == KernelPath::Wait || s.path.is_pass_sum()))
            }),
        }
    }

    /// Counts a sample's wakeup events; the window's expirations per
    /// timer event when the pace is lost (reported once).
    fn record(&mut self, events: &EventCounts) -> Option<f64> {
        if self.done || events.timer == 0 {
            return None;
        }
        self.window.add_paced(events);
        if self.window.timer < PACE_WINDOW_TIMER_EVENTS {
            return None;
        }
        let pace = self.window.expirations_per_timer_event();
        self.window = EventCounts::default();
        if pace >= crate::credit::MIN_EXPIRATIONS_PER_TIMER_EVENT {
            self.slow_in_a_row = 0;
            return None;
        }
        self.slow_in_a_row += 1;
        if self.slow_in_a_row < 2 {
            return None;
        }
        self.done = true;
        self.lost = Some(pace);
        Some(pace)
    }
}

/// A credit the online margin check lowered: which source, and the
/// estimate that no longer backed it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Lowering {
    pub(crate) path: KernelPath,
    pub(crate) cause: LoweredBy,
}

/// What lowered a credit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum LoweredBy {
    /// An estimator's figure over the window no longer backed it.
    Estimate { estimator: Estimator, estimate: f64 },
    /// The window's median sample fell in a band of [`ceiling`](crate::ceiling) below it;
    /// `band` is that band's lower edge in steps (0: under the first).
    Steps { band: f64 },
    /// The passes stopped running ahead of their timer
    /// ([`MIN_EXPIRATIONS_PER_TIMER_EVENT`](crate::MIN_EXPIRATIONS_PER_TIMER_EVENT)).
    Pace { expirations_per_timer_event: f64 },
}

impl fmt::Debug for NoiseSources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoiseSources")
            .field("stats", &self.stats())
            .field("pace_lost", &self.pace.lost)
            .finish_non_exhaustive()
    }
}

impl NoiseSources {
    /// The sources start-up decided, each credited as it said. The clock's
    /// re-measurements look at the last `startup.samples` deltas (with whole
    /// passes or thirds, the last `config.startup_samples` per-path ones:
    /// [`watch_clock`](Self::watch_clock)), at least 2048 and at most 8192.
    pub fn new(
        startup: &StartupReport,
        config: &HealthConfig,
        policy: &CreditPolicy,
    ) -> Result<NoiseSources, ConfigError> {
        let bands = StepBands::new(startup.resolution_ticks);
        let mut sources = PerPath::default();
        for (path, decision) in startup.sources.iter() {
            let health = if decision.credit > 0.0 {
                Some(HealthTests::continuous(config, decision.credit)?)
            } else {
                None
            };
            sources.set(
                path,
                Source {
                    credit_millibits: credit_millibits(decision.credit),
                    health,
                    counts: Box::new([0; 256]),
                    bands: bands.clone(),
                    timer_driven: decision.timer_driven,
                    kernel_paths_per_pass: decision.kernel_paths_per_pass,
                    startup_median_steps: decision.median_steps,
                    steps_pending: false,
                    credited_millibits: 0,
                    stats: SourceStats {
                        startup_credit: decision.credit,
                        credit: decision.credit,
                        ..SourceStats::default()
                    },
                },
            );
        }
        Ok(NoiseSources {
            sources,
            policy: *policy,
            resolution_ticks: startup.resolution_ticks,
            // Whole passes or thirds: the per-path window start-up
            // measured the clock on.
            clock: ResolutionWatch::new(
                startup.resolution_ticks,
                if startup.whole_passes {
                    config.startup_samples as usize
                } else {
                    startup.samples
                },
            ),
            clock_from_per_path: startup.whole_passes,
            step_resolution_ticks: startup.resolution_ticks,
            clock_changed: false,
            lowering: None,
            pace: PaceWatch::new(startup),
        })
    }

    /// The symbol the health tests see for a sample of `delta` clock ticks:
    /// its steps of the clock's effective resolution, modulo 256
    /// ([`symbol`](crate::resolution::symbol)).
    pub fn symbol(&self, delta: u64) -> u8 {
        symbol(delta, self.resolution_ticks)
    }

    /// One sample of `path`, `delta` clock ticks long: the millibits it may
    /// be credited (0 for an uncredited source, or a path start-up never
    /// saw), or the health failure of its source. Sampled per path or per
    /// wakeup, the sample also goes to the clock's re-measurement. Where
    /// start-up took whole passes or thirds it does not: the caller must
    /// give the re-measurement every per-path sample through
    /// [`watch_clock`](Self::watch_clock), or the clock is never measured
    /// again (credits then stay at the start-up clock's ceilings).
    pub fn feed(&mut self, path: KernelPath, delta: u64) -> Result<u32, HealthFailure> {
        let symbol = self.symbol(delta);
        if !self.clock_from_per_path {
            self.record_clock(delta);
        }
        let Some(source) = self.sources.get_mut(path) else {
            return Ok(0);
        };
        source.stats.samples += 1;
        let Some(health) = source.health.as_mut() else {
            return Ok(0);
        };
        // Counted before the tests, as the predictor's window counts it: a
        // failing stretch belongs in the most common value's window too.
        source.counts[usize::from(symbol)] += 1;
        source.bands.count(delta);
        health.feed(symbol)?;
        if let Some((made, hits, longest_run)) = health.take_predictor_window()
            && let Some(cause) =
                Self::online_check(path, source, &self.policy, made, hits, longest_run)
        {
            self.lowering = Some(Lowering { path, cause });
        }
        if source.steps_pending {
            return Ok(0);
        }
        source.credited_millibits += u64::from(source.credit_millibits);
        Ok(source.credit_millibits)
    }

    /// The event counts of a wakeup (a sample's [`Sample::events`]: the
    /// wait's or the pass's sample has them, the others none), for the
    /// online pace check: when start-up found the passes running ahead of
    /// their timer, every [`PACE_WINDOW_TIMER_EVENTS`] timer events it
    /// takes their expirations per timer event, and two windows in a row
    /// under [`MIN_EXPIRATIONS_PER_TIMER_EVENT`] lower the credits as
    /// start-up would have decided on such passes (the wait, a whole pass
    /// and its thirds to nothing, the others to 1/16 bit at most), for good.
    ///
    /// [`Sample::events`]: crate::Sample::events
    /// [`MIN_EXPIRATIONS_PER_TIMER_EVENT`]: crate::MIN_EXPIRATIONS_PER_TIMER_EVENT
    pub fn note_wakeup(&mut self, events: &EventCounts) {
        if let Some(pace) = self.pace.record(events) {
            self.lose_pace(pace);
        }
    }

    /// The expirations per timer event of the window that lost the pace
    /// ([`note_wakeup`](Self::note_wakeup)), if it was lost.
    pub fn pace_lost(&self) -> Option<f64> {
        self.pace.lost
    }

    /// The fewest steps `path`'s median sample must span for any credit
    /// now: its row as start-up took it (timer-driven until the pace is
    /// lost; a whole pass scaled by its kernel paths).
    pub(crate) fn min_credited_steps(&self, path: KernelPath) -> f64 {
        self.sources.get(path).map_or(f64::INFINITY, |s| {
            crate::credit::min_credited_steps(path, s.timer_driven, s.kernel_paths_per_pass)
        })
    }

    /// The passes no longer run ahead of their timer (the caller watched
    /// `expirations_per_timer_event`): from now on no source is taken as
    /// timer-driven, the wait, a whole pass and its thirds are credited
    /// nothing and every other source 1/16 bit at most, nothing under 20 steps (by
    /// start-up's median now, by each window's from then on), as start-up
    /// would have decided on such passes. Only lowers. A later refusal or
    /// fork runs start-up again, which judges the pace afresh.
    fn lose_pace(&mut self, expirations_per_timer_event: f64) {
        for (path, slot) in KernelPath::ALL.into_iter().zip(self.sources.0.iter_mut()) {
            let Some(source) = slot.as_mut() else {
                continue;
            };
            source.timer_driven = false;
            let cap = crate::credit::timer_paced_ceiling(path, source.startup_median_steps);
            if source.stats.credit > cap {
                Self::lower(source, cap);
                self.lowering = Some(Lowering {
                    path,
                    cause: LoweredBy::Pace {
                        expirations_per_timer_event,
                    },
                });
            }
        }
    }

    /// Where start-up took whole passes or thirds
    /// ([`StartupReport::whole_passes`]), every per-path sample, once and
    /// in the order they came, for the clock's re-measurement: those of the
    /// window's partial first pass and of passes dropped by a restart or a
    /// failure too, each before the sum it completes goes to
    /// [`feed`](Self::feed). Otherwise it does nothing (`feed` takes its
    /// own samples). The re-measurement counts these samples: every 65,536
    /// per-path ones. The clock is re-measured on what start-up
    /// measured it on: a window of sums has few distinct values, and on
    /// the Intel Xeon guest's simulated 24 MHz clock (2026-12-07) windows
    /// of a start-up window's 405 thirds fitted false lattices of 7-21
    /// ticks, and two in a row took every third's credit to nothing, for
    /// good (the acceptance client's `kqseed report` of 17:11 UTC: clock
    /// `step_resolution_ticks` 7.18 after 655,360 thirds).
    pub fn watch_clock(&mut self, delta: u64) {
        if self.clock_from_per_path {
            self.record_clock(delta);
        }
    }

    fn record_clock(&mut self, delta: u64) {
        if let Some(coarser) = self.clock.record(delta) {
            self.step_resolution_ticks = coarser;
            self.clock_changed = true;
            for source in self.sources.0.iter_mut().flatten() {
                source.bands.restart(coarser);
                source.steps_pending = true;
            }
        }
    }

    /// Whether the step resolution changed since the last call: the
    /// pool's credit stood on ceilings for more steps than the samples
    /// span.
    pub(crate) fn take_clock_change(&mut self) -> bool {
        core::mem::take(&mut self.clock_changed)
    }

    /// The clock's effective resolution, in ticks, whose steps the online
    /// check counts for the ceilings: start-up's, or a coarser one it
    /// measured since (every 65,536 samples it measures the resolution
    /// again over the last start-up window's samples, at least 2048 and at
    /// most 8192, per-path ones where start-up took whole passes or thirds:
    /// [`watch_clock`](Self::watch_clock); two
    /// measurements in a row at 1.5 times the one in use or more replace
    /// it). Symbols keep start-up's.
    pub fn step_resolution_ticks(&self) -> f64 {
        self.step_resolution_ticks
    }

    /// The lowering the online margin check made since the last call, if
    /// any: the pool's credit no longer stands on it.
    pub(crate) fn take_lowering(&mut self) -> Option<Lowering> {
        self.lowering.take()
    }

    /// Whether any source is still credited.
    pub(crate) fn any_credited(&self) -> bool {
        self.sources.values().any(|s| s.credit_millibits > 0)
    }

    /// The online margin check at the close of a predictor window: what
    /// lowered the credit, if anything did.
    fn online_check(
        path: KernelPath,
        source: &mut Source,
        policy: &CreditPolicy,
        made: u32,
        hits: u32,
        longest_run: u32,
    ) -> Option<LoweredBy> {
        let window: u32 = source.counts.iter().sum();
        let mode = source.counts.iter().copied().max().unwrap_or(0);
        source.counts.zeroize();
        let lag = predictor_estimate(
            Estimator::Lag,
            u64::from(hits),
            u64::from(made),
            u64::from(longest_run),
            256,
        )
        .min_entropy;
        let mcv = mcv_bits(mode, window);
        let (estimator, estimate) = if lag <= mcv {
            (Estimator::Lag, lag)
        } else {
            (Estimator::Mcv, mcv)
        };
        // After a change of step resolution, the first window with enough
        // samples of the new steps decides (a window that had only begun
        // would judge the median on a handful).
        let band = if source.steps_pending && source.bands.counted() < MIN_STEP_WINDOW {
            None
        } else {
            source.steps_pending = false;
            Some(source.bands.take_median_band().unwrap_or(0.0))
        };
        let band_ceiling = band.map(|band| {
            source_ceiling(
                path,
                band,
                source.timer_driven,
                source.kernel_paths_per_pass,
            )
        });
        let stats = &mut source.stats;
        stats.online_checks += 1;
        stats.lowest_online_estimate = Some(
            stats
                .lowest_online_estimate
                .map_or(estimate, |e| e.min(estimate)),
        );
        if let Some(band) = band {
            stats.lowest_online_median_band = Some(
                stats
                    .lowest_online_median_band
                    .map_or(band, |b| b.min(band)),
            );
        }
        let by_estimate = policy.credit_for(estimate, stats.credit);
        let by_steps = band_ceiling.map_or(stats.credit, |ceiling| {
            policy.credit_for(f64::INFINITY, stats.credit.min(ceiling))
        });
        let backed = by_estimate.min(by_steps);
        if backed >= stats.credit {
            return None;
        }
        let cause = if let Some(band) = band.filter(|_| by_steps < by_estimate) {
            LoweredBy::Steps { band }
        } else {
            LoweredBy::Estimate {
                estimator,
                estimate,
            }
        };
        Self::lower(source, backed);
        Some(cause)
    }

    /// Lowers `source`'s credit to `backed` (a whole number of
    /// [`CREDIT_STEP`](crate::CREDIT_STEP)s), its tests with it.
    fn lower(source: &mut Source, backed: f64) {
        let stats = &mut source.stats;
        stats.online_lowered += 1;
        stats.credit = backed;
        source.credit_millibits = credit_millibits(backed);
        if backed == 0.0 {
            if let Some(h) = &source.health {
                stats.health = h.stats();
            }
            // Dropped where it lies, so its wiped state is wiped there
            // (`take()` would move it out and leave the bytes behind).
            source.health = None;
        } else if let Some(h) = source.health.as_mut() {
            // A lower credit always has cutoffs (it is a whole number of
            // CREDIT_STEP, which start-up's own credits already are);
            // should it not, the stricter old cutoffs stay.
            let _ = h.set_credit(backed);
        }
    }

    /// Tells every credited source's tests that a block was released.
    pub fn note_output(&mut self) {
        for source in self.sources.0.iter_mut().flatten() {
            if let Some(h) = source.health.as_mut() {
                h.note_output();
            }
        }
    }

    /// Each source's counters.
    pub fn stats(&self) -> PerPath<SourceStats> {
        self.sources.map(|s| {
            let mut stats = s.stats;
            stats.credited_bits = s.credited_millibits as f64 / 1000.0;
            if let Some(h) = &s.health {
                stats.health = h.stats();
            }
            stats
        })
    }

    /// The first permanent health failure of any source, if any.
    pub fn permanent_failure(&self) -> Option<HealthFailure> {
        self.sources
            .values()
            .find_map(|s| s.health.as_ref().and_then(HealthTests::permanent_failure))
    }
}

/// The Most Common Value estimate (SP 800-90B section 6.3.1) from a mode
/// count `mode` in `n` samples: `-log2` of the 99% upper bound on its
/// probability.
fn mcv_bits(mode: u32, n: u32) -> f64 {
    if n < 2 {
        return 0.0;
    }
    let (mode, n) = (f64::from(mode), f64::from(n));
    let p = mode / n;
    let p_u = (p + crate::assess::Z_99 * (p * (1.0 - p) / (n - 1.0)).sqrt()).min(1.0);
    -p_u.log2()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::assess::Estimator;
    use crate::startup::{SourceStartup, StartupReport};
    use crate::test_util::SplitMix64;

    /// Sources as a fabricated start-up left them: a timer-driven whole
    /// pass of 340-step samples credited 8/16 bit (the row's, unscaled),
    /// its passes spanning `kernel_paths`.
    fn pass_credited(kernel_paths: Option<f64>) -> NoiseSources {
        let mut report = StartupReport::new(2048, 1.0, 6.0, Estimator::Lag);
        let mut pass = SourceStartup::new(KernelPath::Pass, Estimator::Lag);
        pass.samples = 2048;
        pass.median_steps = 340.0;
        pass.estimate = 6.0;
        pass.timer_driven = true;
        pass.kernel_paths_per_pass = kernel_paths;
        pass.ceiling = 0.5;
        pass.credit = 0.5;
        report.sources.set(KernelPath::Pass, pass);
        NoiseSources::new(&report, &HealthConfig::default(), &CreditPolicy::default())
            .expect("sources")
    }

    #[test]
    fn the_online_check_scales_a_whole_pass_by_its_kernel_paths() {
        // 8/16 scaled by 9/15 is 4.8/16: 4/16 (0.25).
        for (kernel_paths, credit) in [(Some(9.0), 0.25), (Some(15.0), 0.5), (None, 0.5)] {
            let mut sources = pass_credited(kernel_paths);
            let mut rng = SplitMix64(5);
            for _ in 0..20_000 {
                sources
                    .feed(KernelPath::Pass, 300 + rng.next() % 80)
                    .expect("healthy");
            }
            let stats = sources.stats();
            let pass = stats.get(KernelPath::Pass).expect("pass");
            assert!(pass.online_checks > 0, "{pass:?}");
            assert_eq!(pass.credit, credit, "{kernel_paths:?}: {pass:?}");
        }
    }
}
