//! `kqseed report`: assesses exactly what [`KqSeeder::new()`] would use on
//! this machine (or with the flags given), after its start-up decisions:
//! the warm-up, the start-up window and every noise source's credit; then
//! collects until each credited source has `-n` samples of its own, runs
//! them through the same per-source health tests and online margin check as
//! the seeder, and assesses each source's own stream and the interleaved
//! one with all ten SP 800-90B section 6.3 estimators. The verdict holds
//! when every credit is at most half of the figure its samples assess.
//!
//! Nothing reaches into a seeder: the report runs the library's pure
//! [`startup_checks`] and [`NoiseSources`] over the collected samples, the
//! code the seeder runs.
//!
//! [`KqSeeder::new()`]: kqseed::KqSeeder::new

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use clap::Args as ClapArgs;
use indicatif::{ProgressBar, ProgressStyle};
use kqseed::HealthConfig;
use kqseed::assess::{
    AssessError, AssessOptions, DataSet, Estimator, Report, assess_with_progress,
};
use kqseed::health::{HealthFailure, HealthStats, PassRepetition, PositionRepetition};
use kqseed::{
    ClockInfo, Collector, CollectorStats, EventCounts, KernelPath, MAX_COLLECT_SAMPLES,
    NoiseSources, PassCut, SeederConfig, SourceStartup, SourceStats, StartupFailure, StartupReport,
    ThirdSums, detect_resolution, startup_checks, symbol,
};

use crate::config::{SourceArgs, describe};
use crate::json::Json;
use crate::out::{self, CliResult, Failure};

/// Lags of the autocorrelation shown.
pub const MAX_LAG: usize = 128;

/// Arguments of `kqseed report`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Samples to assess: of the interleaved stream, and of each credited
    /// noise source's own stream (SP 800-90B asks for at least 1,000,000).
    /// The report collects until every credited source has this many; at
    /// most 134217728 (2^27, the most samples it collects).
    #[arg(
        short = 'n',
        long = "samples",
        value_name = "N",
        default_value_t = 1_000_000
    )]
    samples: usize,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Also draw the delta and symbol histograms, the symbols'
    /// autocorrelation and every source's estimate against its credit into
    /// one SVG.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    #[command(flatten)]
    config: SourceArgs,
}

/// One noise source: its start-up decision, its own stream's assessment,
/// and what it was credited.
pub struct PathAssessment {
    pub path: KernelPath,
    /// What start-up measured and decided.
    pub startup: SourceStartup,
    /// Its samples assessed (the first `-n` of its own stream).
    pub samples: usize,
    pub assessed: Result<f64, AssessError>,
    /// The mean credit per sample over the assessed samples: what those very
    /// samples were credited (the start-up credit, or less once the online
    /// check lowered it).
    pub mean_credit: f64,
    /// The source's counters at the end of the run.
    pub stats: SourceStats,
    /// The lag in `1..=MAX_LAG` where the stream's autocorrelation is
    /// largest in size, and `r` there.
    pub strongest_lag: (usize, f64),
}

impl PathAssessment {
    /// Whether this source is credited at all.
    pub fn credited(&self) -> bool {
        self.startup.credit > 0.0
    }

    /// The credit the verdict judges: the highest any of these samples
    /// got, which is the start-up credit (the online check only lowers
    /// it), or the mean were that ever higher.
    pub fn judged_credit(&self) -> f64 {
        self.mean_credit.max(self.startup.credit)
    }
}

/// Everything the report says, gathered once.
pub struct Findings {
    pub config: SeederConfig,
    pub backend: &'static str,
    pub fork_detection: &'static str,
    pub clock: ClockInfo,
    /// Nanoseconds per clock tick as measured against the system's
    /// monotonic clock over the run (the OS's `CLOCK_MONOTONIC` on Linux):
    /// a clock that claims nanoseconds but counts something else shows here.
    pub measured_nanos_per_tick: f64,
    /// The clock's effective resolution, in its ticks.
    pub resolution_ticks: f64,
    /// The resolution, in its ticks, whose steps the online check counted
    /// for the ceilings by the end of the run: start-up's, or a coarser one
    /// it measured since (`None` when start-up refused).
    pub step_resolution_ticks: Option<f64>,
    /// The expirations per timer event of the window in which the passes
    /// stopped running ahead of their timer, lowering every credit
    /// (`None`: they did not, or start-up refused).
    pub pace_lost: Option<f64>,
    /// Samples collected after the warm-up, and how long they took.
    pub samples: usize,
    pub elapsed: Duration,
    pub stats: CollectorStats,
    pub startup: Result<StartupReport, StartupFailure>,
    /// The interleaved stream's assessment, over its first `interleaved`
    /// samples, and their mean credit.
    pub interleaved: usize,
    pub assessment: Result<Report, AssessError>,
    pub interleaved_mean_credit: f64,
    /// The mean credit of those samples had each kept its source's
    /// start-up credit: what they would have got without the online check.
    pub interleaved_startup_credit: f64,
    /// Every source start-up saw.
    pub paths: Vec<PathAssessment>,
    pub health_stats: HealthStats,
    pub first_health_failure: Option<HealthFailure>,
    /// A health failure in what the seeder's start-up test covers (the
    /// window, and with whole passes or thirds their first credited
    /// ones): the seeder would refuse there.
    pub startup_health_failure: Option<HealthFailure>,
    /// The first permanent health failure, if any: the seeder stops there.
    pub permanent_health_failure: Option<HealthFailure>,
    /// The samples asked for (`-n`).
    pub requested: usize,
    /// Whether collection stopped at [`MAX_COLLECT_SAMPLES`] before every
    /// credited source had `requested` samples.
    pub cut_short: bool,
    /// The warm-up's samples: the configured count, or more where the
    /// collector's timers settled later.
    pub warmup_samples: u64,
    /// `r(k)` for `k` in `1..=MAX_LAG`, of the interleaved symbols.
    pub autocorrelation: Vec<f64>,
    /// The 99% band of `r(k)` for independent symbols: `2.576 / sqrt(n)`.
    pub band: f64,
    pub when: SystemTime,
}

impl Findings {
    /// The mean credit per sample of the interleaved stream, bits.
    pub fn credit(&self) -> f64 {
        self.interleaved_mean_credit
    }

    /// The interleaved stream's credit that the verdict judges: the mean
    /// its samples would have got at their sources' start-up credits, or
    /// the run's mean were that higher.
    pub fn judged_credit(&self) -> f64 {
        self.interleaved_mean_credit
            .max(self.interleaved_startup_credit)
    }

    /// Samples collected per second, after the warm-up.
    pub fn samples_per_second(&self) -> f64 {
        self.samples as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Bits credited per second at the sources' start-up credits (the
    /// interleaved stream's mean start-up credit times the sample rate):
    /// about how fast a seeder with these start-up decisions fills its
    /// 320-bit blocks on this machine, before the online check lowers
    /// anything. The rate is this run's, whose health tests run after
    /// collection; a seeder runs them as it goes, a few per cent slower.
    pub fn credited_bits_per_second(&self) -> f64 {
        self.samples_per_second() * self.interleaved_startup_credit
    }

    /// The clock's effective resolution in nanoseconds, as measured.
    pub fn effective_resolution_nanos(&self) -> f64 {
        self.resolution_ticks * self.measured_nanos_per_tick
    }

    /// The lowest assessed figure, of the interleaved stream and every
    /// source's own, with what it is; an error when something could not be
    /// assessed.
    pub fn lowest(&self) -> Result<(f64, String), String> {
        let r = self
            .assessment
            .as_ref()
            .map_err(|e| format!("the samples could not be assessed ({e})"))?;
        let mut lowest = (r.assessed, "the interleaved stream's".to_string());
        for p in &self.paths {
            match &p.assessed {
                Ok(h) if *h < lowest.0 => {
                    lowest = (*h, format!("path {}'s own", p.path.name()));
                }
                Ok(_) => {}
                Err(e) if p.credited() => {
                    return Err(format!(
                        "path {}'s own stream could not be assessed ({e})",
                        p.path.name()
                    ));
                }
                Err(_) => {}
            }
        }
        Ok(lowest)
    }

    /// The verdict: `Ok(message)` when every credit is at most half of its
    /// own assessed figure (each credited source's credit against its own
    /// stream's, and the interleaved mean credit against the interleaved
    /// stream's); `Err(message)` saying which is not.
    ///
    /// The credits judged are those before the online check lowered any:
    /// [`PathAssessment::judged_credit`] and [`Findings::judged_credit`].
    /// Judging the run's means alone would pass a source whose first
    /// samples were credited over half its figure until the online check
    /// caught up.
    pub fn verdict(&self) -> Result<String, String> {
        if let Err(e) = &self.startup {
            return Err(format!(
                "WARNING: the seeder would refuse to start here ({e}), so nothing is credited"
            ));
        }
        if let Some(f) = &self.startup_health_failure {
            return Err(format!(
                "WARNING: the seeder would refuse to start here: a sample of its start-up test failed ({f})"
            ));
        }
        if let Some(f) = &self.permanent_health_failure {
            return Err(format!(
                "WARNING: a permanent health failure ({f}): the seeder would stop here"
            ));
        }
        if self.cut_short {
            return Err(format!(
                "WARNING: collection stopped at {MAX_COLLECT_SAMPLES} samples before every credited source had the {} asked for",
                self.requested
            ));
        }
        let interleaved = self
            .assessment
            .as_ref()
            .map_err(|e| format!("WARNING: the samples could not be assessed ({e})"))?
            .assessed;
        let mut over = Vec::new();
        let mut tightest = (f64::INFINITY, String::new());
        let mut figures = vec![(
            "the interleaved stream".to_string(),
            self.judged_credit(),
            Ok(interleaved),
        )];
        for p in self.paths.iter().filter(|p| p.credited()) {
            figures.push((
                format!("path {}", p.path.name()),
                p.judged_credit(),
                p.assessed.clone(),
            ));
        }
        for (what, credit, assessed) in figures {
            let h = match assessed {
                Ok(h) => h,
                Err(e) => {
                    over.push(format!(
                        "{what} is credited but could not be assessed ({e})"
                    ));
                    continue;
                }
            };
            if credit <= 0.0 {
                continue;
            }
            if 2.0 * credit > h {
                over.push(format!(
                    "{what} is credited up to {credit:.4} per sample against {h:.4} assessed (at most {:.4} allowed)",
                    h / 2.0
                ));
            }
            let margin = h / (2.0 * credit);
            if margin < tightest.0 {
                tightest = (margin, what);
            }
        }
        if over.is_empty() {
            Ok(format!(
                "OK: every credit is at most half of its own assessed figure (tightest: {}, {:.2} x half its figure)",
                tightest.1,
                1.0 / tightest.0
            ))
        } else {
            Err(format!(
                "WARNING: {}; lower the credit (--credit caps every source) or use sources that assess higher (scripts/compare-configs.sh)",
                over.join("; ")
            ))
        }
    }
}

/// The autocorrelation `r(k)` of `symbols` for `k` in `1..=max_lag`:
/// `sum (x_i - m)(x_{i+k} - m) / sum (x_i - m)^2`. All zeros when the
/// symbols do not vary.
pub fn autocorrelation(symbols: &[u8], max_lag: usize) -> Vec<f64> {
    let n = symbols.len();
    if n == 0 {
        return vec![0.0; max_lag];
    }
    let mean = symbols.iter().map(|&s| f64::from(s)).sum::<f64>() / n as f64;
    let centred: Vec<f64> = symbols.iter().map(|&s| f64::from(s) - mean).collect();
    let var: f64 = centred.iter().map(|x| x * x).sum();
    (1..=max_lag)
        .map(|k| {
            if var == 0.0 || k >= n {
                return 0.0;
            }
            let cov: f64 = centred.iter().zip(&centred[k..]).map(|(a, b)| a * b).sum();
            cov / var
        })
        .collect()
}

/// Collected samples: deltas, their paths, and the credit each got.
struct Run {
    deltas: Vec<u64>,
    paths: Vec<KernelPath>,
    /// Summed runs only: the per-path samples the sums came from, and for
    /// each sum the end of those that came before it (the wait's return
    /// that completed it included), for the clock's re-measurement, which
    /// the seeder runs on them (`NoiseSources::watch_clock`).
    per_path_deltas: Vec<u64>,
    per_path_ends: Vec<usize>,
    /// The samples that brought timer events (the wakeups'), in order:
    /// their index and their timer events and expirations, for the online
    /// pace check.
    timer_wakeups: Vec<TimerWakeup>,
    /// Summed runs only: the position repetition test's failures over the
    /// per-path samples, each at the index of the first sum after it, and
    /// its counts.
    position_failures: Vec<PositionFailure>,
    positions: HealthStats,
    stats: CollectorStats,
    /// The timer intervals in force at the end (the collector may have
    /// shortened them: `KqueueEventsConfig::adapt_timers`).
    timer_intervals: Vec<Duration>,
    clock: ClockInfo,
    elapsed: Duration,
    measured_nanos_per_tick: f64,
    /// Whether collection stopped at [`MAX_COLLECT_SAMPLES`] before every
    /// credited source had its `-n` samples.
    cut_short: bool,
    /// The warm-up's samples (dropped).
    warmup_samples: u64,
}

/// A position repetition failure of a summed run: the index of the first
/// sum after it in [`Run::deltas`], and the per-path sample it came at.
#[derive(Clone, Copy)]
struct PositionFailure {
    index: usize,
    per_path_index: usize,
    failure: HealthFailure,
}

/// A sample that brought timer events: its index in [`Run::deltas`], the
/// per-path sample it came with (the same index until a run is summed), and
/// its wakeup's timer events and expirations.
#[derive(Clone, Copy)]
struct TimerWakeup {
    index: usize,
    per_path_index: usize,
    timer: u64,
    expirations: u64,
}

impl TimerWakeup {
    fn events(&self) -> EventCounts {
        let mut events = EventCounts::default();
        events.timer = self.timer;
        events.timer_expirations = self.expirations;
        events
    }
}

/// A progress bar on standard error when it is a terminal.
fn progress(n: u64) -> Option<ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(n);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} samples [{elapsed}, {eta} left]")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    })
}

/// The samples to collect after the window so that every path in `targets`
/// has `n` of its own, from their shares of the window (3% to spare).
fn samples_needed(window: &[KernelPath], targets: &[KernelPath], n: usize) -> usize {
    let total = window.len().max(1) as f64;
    targets
        .iter()
        .map(|&t| {
            let share = window.iter().filter(|&&p| p == t).count().max(1) as f64 / total;
            (n as f64 / share * 1.03).ceil() as usize
        })
        .max()
        .unwrap_or(n)
        .max(n)
        .min(MAX_COLLECT_SAMPLES)
}

/// Collects the warm-up (dropped, as the seeder credits it nothing), the
/// start-up window, then samples until every path start-up credited has
/// `n`, and the interleaved stream `n` too.
fn collect(
    config: &SeederConfig,
    n: usize,
) -> Result<(Run, Result<StartupReport, StartupFailure>), Failure> {
    let mut collector = Collector::new(config.events.clone())?;
    // As the seeder's warm-up: until its timers are settled too.
    let mut warmup = 0u64;
    while warmup < config.credit.warmup_samples.into() || !collector.timers_settled() {
        collector.step()?;
        warmup += 1;
    }
    let window = config.health.startup_samples as usize;
    let started = Instant::now();
    let mut deltas = Vec::with_capacity(window);
    let mut paths = Vec::with_capacity(window);
    let mut ticks = 0u64;
    let mut events = EventCounts::default();
    let mut timer_wakeups = Vec::new();
    let mut note = |index: usize, s: &kqseed::Sample| {
        if s.events.timer > 0 {
            timer_wakeups.push(TimerWakeup {
                index,
                per_path_index: index,
                timer: s.events.timer,
                expirations: s.events.timer_expirations,
            });
        }
    };
    for i in 0..window {
        let s = collector.step()?;
        ticks = ticks.wrapping_add(s.delta);
        deltas.push(s.delta);
        paths.push(s.path);
        events.add_paced(&s.events);
        note(i, &s);
    }
    let startup = startup_checks(&deltas, &paths, &events, &config.credit);
    // A seeder that took whole passes credits one at each wait's return
    // (or, cut in thirds, its three thirds).
    let whole = matches!(&startup, Ok(r) if r.whole_passes);
    let thirds = matches!(&startup, Ok(r) if r.thirds);
    // Thirds counted as the seeder sums them: a pass missing one gives
    // none of it, and the first wait's return completes no pass.
    let mut third_sums = ThirdSums::default();
    let mut count = |counts: &mut [usize; KernelPath::ALL.len()], delta: u64, p: KernelPath| {
        if thirds {
            let completed = third_sums.add(delta, p).unwrap_or_default();
            for (sum, third) in completed.into_iter().zip(KernelPath::THIRDS) {
                counts[third.index()] += usize::from(sum.is_some());
            }
        } else if whole && p == KernelPath::Wait {
            counts[KernelPath::Pass.index()] += 1;
        } else {
            counts[p.index()] += 1;
        }
    };
    let targets: Vec<KernelPath> = match &startup {
        Ok(r) => r
            .sources
            .iter()
            .filter(|(_, s)| s.credit > 0.0)
            .map(|(p, _)| p)
            .collect(),
        // A refusal is the verdict already: the interleaved stream alone
        // is assessed, for the record.
        Err(_) => Vec::new(),
    };
    let mut counts = [0usize; KernelPath::ALL.len()];
    for (&d, &p) in deltas.iter().zip(&paths) {
        count(&mut counts, d, p);
    }
    // How many to reserve: each summed target has one sample a wait's
    // return, so the waits' share stands for all of them.
    let (counted_paths, share_targets): (Vec<KernelPath>, &[KernelPath]) = if whole {
        let sum = if thirds {
            KernelPath::PassFirstThird
        } else {
            KernelPath::Pass
        };
        let mapped = paths
            .iter()
            .map(|&p| if p == KernelPath::Wait { sum } else { p });
        (mapped.collect(), &[sum][..])
    } else {
        (paths.clone(), &targets[..])
    };
    let total = samples_needed(&counted_paths, share_targets, n).max(window);
    deltas
        .try_reserve_exact(total - window)
        .map_err(|_| kqseed::Error::TooLarge {
            what: "samples",
            requested: total,
            max: MAX_COLLECT_SAMPLES,
        })?;
    paths.reserve_exact(total - window);
    let bar = progress(total as u64);
    // With whole passes the interleaved stream is the passes, a target;
    // the first wait's return counted completes no pass (thirds are
    // counted only as passes complete them).
    let wanted = n.saturating_add(usize::from(whole && !thirds));
    let done = |counts: &[usize], len: usize| {
        (whole || len >= n) && targets.iter().all(|t| counts[t.index()] >= wanted)
    };
    while !done(&counts, deltas.len()) && deltas.len() < MAX_COLLECT_SAMPLES {
        let s = collector.step()?;
        ticks = ticks.wrapping_add(s.delta);
        count(&mut counts, s.delta, s.path);
        note(deltas.len(), &s);
        deltas.push(s.delta);
        paths.push(s.path);
        if let Some(bar) = bar.as_ref().filter(|_| deltas.len() % (1 << 14) == 0) {
            bar.set_position(deltas.len() as u64);
        }
    }
    let elapsed = started.elapsed();
    let cut_short = !done(&counts, deltas.len());
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let run = Run {
        deltas,
        paths,
        per_path_deltas: Vec::new(),
        per_path_ends: Vec::new(),
        timer_wakeups,
        position_failures: Vec::new(),
        positions: HealthStats::default(),
        stats: *collector.stats(),
        timer_intervals: collector.config().timer_intervals.clone(),
        clock: collector.clock(),
        elapsed,
        measured_nanos_per_tick: elapsed.as_nanos() as f64 / (ticks.max(1) as f64),
        cut_short,
        warmup_samples: warmup,
    };
    let run = match &startup {
        Ok(r) if whole => run.into_summed(thirds, r.resolution_ticks, &config.health),
        _ => run,
    };
    Ok((run, startup))
}

impl Run {
    /// The run as a seeder that took whole passes (or, with `thirds`, cut
    /// them in thirds) sees it: each pass's samples summed ([`PassCut`], from the window's first wait's return on, so the
    /// window's passes come first), and each timer wakeup moved to the
    /// first sample of the pass its wait's return completed. The per-path
    /// samples take the position repetition test on the way, in symbols
    /// of `resolution` ticks, as the seeder's do; a failing sample's pass
    /// (completed by it or under way) gives no sums, as in the seeder. (Its escalation of
    /// repeated intermittent failures counts outputs, which come later, in
    /// [`credit_run`]: not modelled here.)
    fn into_summed(self, thirds: bool, resolution: f64, health: &HealthConfig) -> Run {
        let waits = self
            .paths
            .iter()
            .filter(|&&p| p == KernelPath::Wait)
            .count();
        let per_pass = if thirds { 3 } else { 1 };
        let mut deltas = Vec::with_capacity(per_pass * waits);
        let mut paths = Vec::with_capacity(per_pass * waits);
        let mut per_path_ends = Vec::with_capacity(per_pass * waits);
        let mut timer_wakeups = Vec::new();
        let mut wakeups = self.timer_wakeups.iter().peekable();
        let mut cut = PassCut::new(thirds);
        let mut positions = PositionRepetition::new(health);
        let mut position_failures = Vec::new();
        let mut seen_wait = false;
        for (i, (&delta, &path)) in self.deltas.iter().zip(&self.paths).enumerate() {
            let wakeup = wakeups.next_if(|w| w.index == i);
            let completed = cut.add(delta, path);
            let failed = positions.feed(path, symbol(delta, resolution)).err();
            if let Some(failure) = failed {
                position_failures.push(PositionFailure {
                    index: deltas.len(),
                    per_path_index: i,
                    failure,
                });
                // As the seeder: the pass under way goes with the sample
                // (a failing wait's pass is the one it completed).
                if path != KernelPath::Wait {
                    cut.restart();
                }
            }
            // The first wait's return completes no pass: its wakeup goes
            // with the window's partial pass. Every later one is kept, also
            // where a failing sample dropped its pass, as the seeder notes
            // every wakeup.
            if let Some(w) = wakeup
                && (completed.is_some() || seen_wait)
            {
                timer_wakeups.push(TimerWakeup {
                    index: deltas.len(),
                    ..*w
                });
            }
            seen_wait |= path == KernelPath::Wait;
            let Some(samples) = completed else {
                continue;
            };
            if failed.is_some() {
                continue;
            }
            for (sum, summed) in samples.into_iter().flatten() {
                deltas.push(sum);
                paths.push(summed);
                per_path_ends.push(i + 1);
            }
        }
        Run {
            paths,
            deltas,
            per_path_deltas: self.deltas,
            per_path_ends,
            timer_wakeups,
            position_failures,
            positions: *positions.stats(),
            ..self
        }
    }
}

/// What the sources credited, fed every sample from the window on as the
/// seeder feeds them: the credit of each of the first `n` samples of each
/// path and of the interleaved stream, summed, and the health figures. A
/// block's worth of credit (320 bits) marks an output, as the seeder's
/// release does; a failure empties that pool.
#[derive(Default)]
struct Credited {
    first_n_millibits: [u64; KernelPath::ALL.len()],
    interleaved_millibits: u64,
    /// The first `n` samples at their sources' start-up credits.
    interleaved_startup_millibits: u64,
    stats: Option<kqseed::PerPath<SourceStats>>,
    /// The resolution the online check counted steps of at the end.
    step_resolution_ticks: Option<f64>,
    pace_lost: Option<f64>,
    health: HealthStats,
    first_failure: Option<HealthFailure>,
    startup_failure: Option<HealthFailure>,
    /// The first permanent failure (after intermittent ones, typically).
    permanent_failure: Option<HealthFailure>,
}

impl Credited {
    /// A health failure at a sample, `in_startup` if it fell in what the
    /// seeder's start-up test covers.
    fn note_failure(&mut self, f: HealthFailure, in_startup: bool) {
        if in_startup {
            self.startup_failure.get_or_insert(f);
        }
        if f.is_permanent() {
            self.permanent_failure.get_or_insert(f);
        }
        self.first_failure.get_or_insert(f);
    }
}

/// Meets the timer wakeups and position failures placed at sums up to
/// `at`, in the order of the per-path samples they came at, as the seeder
/// met them: a wakeup at or after the `window` is noted for the pace check
/// until a permanent failure stops the seeder, and a failure is noted with
/// `in_startup`. A sample's wakeup comes before its own failure (the
/// seeder notes the wakeup before it tests the sample). Whether a failure
/// emptied the pool.
fn meet_events(
    at: usize,
    wakeups: &mut core::iter::Peekable<core::slice::Iter<'_, TimerWakeup>>,
    failures: &mut core::iter::Peekable<core::slice::Iter<'_, PositionFailure>>,
    window: usize,
    in_startup: bool,
    out: &mut Credited,
    note_wakeup: &mut dyn FnMut(EventCounts),
) -> bool {
    let mut emptied = false;
    loop {
        let wakeup = wakeups.next_if(|w| {
            w.index <= at
                && failures
                    .peek()
                    .is_none_or(|f| f.index > at || w.per_path_index <= f.per_path_index)
        });
        if let Some(w) = wakeup {
            if w.index >= window && out.permanent_failure.is_none() {
                note_wakeup(w.events());
            }
        } else if let Some(f) = failures.next_if(|f| f.index <= at) {
            out.note_failure(f.failure, in_startup);
            emptied = true;
        } else {
            return emptied;
        }
    }
}

fn credit_run(
    config: &SeederConfig,
    startup: &Result<StartupReport, StartupFailure>,
    run: &Run,
    symbols: &[u8],
    n: usize,
) -> Result<Credited, Failure> {
    let mut out = Credited::default();
    let Ok(report) = startup else {
        return Ok(out);
    };
    let mut sources =
        NoiseSources::new(report, &config.health, &config.credit).map_err(kqseed::Error::from)?;
    // As the seeder runs it, over all sources at once.
    let mut passes =
        PassRepetition::new().with_max_intermittent_retries(config.health.max_intermittent_retries);
    let alphas = (
        config.health.alpha_intermittent_log2,
        config.health.alpha_permanent_log2,
    );
    let mut seen = [0usize; KernelPath::ALL.len()];
    let mut wakeups = run.timer_wakeups.iter().peekable();
    let mut position_failures = run.position_failures.iter().peekable();
    let mut pool = 0u64;
    let mut tested = 0usize;
    let mut per_path_watched = 0;
    let block = u64::from(kqseed::conditioner::FULL_ENTROPY_CREDIT_BITS) * 1000;
    for (i, ((&path, &s), &delta)) in run.paths.iter().zip(symbols).zip(&run.deltas).enumerate() {
        // A summed run's clock is re-measured on its per-path samples, as
        // the seeder's: those up to this sum's wait's return first.
        if let Some(&end) = run.per_path_ends.get(i) {
            for &d in &run.per_path_deltas[per_path_watched..end] {
                sources.watch_clock(d);
            }
            per_path_watched = end;
        }
        // The seeder's start-up test: the window, and with whole passes
        // (or thirds) their first credited ones; every sample must pass.
        let in_startup = i < report.samples
            || (report.whole_passes && tested < kqseed::STARTUP_TEST_WHOLE_PASSES as usize);
        if meet_events(
            i,
            &mut wakeups,
            &mut position_failures,
            report.samples,
            in_startup,
            &mut out,
            &mut |events| sources.note_wakeup(&events),
        ) {
            pool = 0;
        }
        let fed = passes.feed(path, s, sources.feed(path, delta), alphas);
        let millibits = match fed {
            // A permanent failure stops the seeder: nothing is credited
            // after it.
            Ok(_) if out.permanent_failure.is_some() => 0,
            Ok(m) => u64::from(m),
            Err(f) => {
                out.note_failure(f, in_startup);
                pool = 0;
                0
            }
        };
        pool += millibits;
        // Whole passes (or thirds) release nothing before their start-up
        // test is over: from the window's first pass, the 1024th credited
        // one may release (a source credited nothing runs no tests, and
        // the seeder does not count it).
        tested += usize::from(millibits > 0);
        let testing = report.whole_passes && tested < kqseed::STARTUP_TEST_WHOLE_PASSES as usize;
        if pool >= block && !testing {
            sources.note_output();
            passes.note_output();
            pool = 0;
        }
        let k = path.index();
        if seen[k] < n {
            out.first_n_millibits[k] += millibits;
        }
        seen[k] += 1;
        if i < n {
            out.interleaved_millibits += millibits;
            out.interleaved_startup_millibits +=
                u64::from(kqseed::conditioner::credit_millibits(report.credit(path)));
        }
    }
    // The per-path samples after the last sum, as the seeder watches them.
    for &d in run
        .per_path_deltas
        .get(per_path_watched..)
        .unwrap_or_default()
    {
        sources.watch_clock(d);
    }
    // The wakeups and failures after the last sum (a path stuck to the
    // end drops every pass from its first failure on) are the run's too.
    let in_startup = run.deltas.len() < report.samples
        || (report.whole_passes && tested < kqseed::STARTUP_TEST_WHOLE_PASSES as usize);
    meet_events(
        usize::MAX,
        &mut wakeups,
        &mut position_failures,
        report.samples,
        in_startup,
        &mut out,
        &mut |events| sources.note_wakeup(&events),
    );
    let stats = sources.stats();
    out.health = HealthStats::sum(
        stats
            .values()
            .map(|s| &s.health)
            .chain([passes.stats(), &run.positions]),
    );
    out.stats = Some(stats);
    out.step_resolution_ticks = Some(sources.step_resolution_ticks());
    out.pace_lost = sources.pace_lost();
    Ok(out)
}

/// `millibits` credited over `samples` samples, in bits per sample.
fn mean_bits(millibits: u64, samples: usize) -> f64 {
    millibits as f64 / 1000.0 / samples.max(1) as f64
}

/// The options every assessment here uses: all ten estimators, literal and
/// bitstring, skipping those the data is too short for.
fn all_estimators() -> AssessOptions {
    AssessOptions::default().with_skip_too_short(true)
}

/// Collects and analyses; the deltas and symbols come back for the plot.
pub fn gather(config: SeederConfig, n: usize) -> Result<(Findings, Vec<u64>, Vec<u8>), Failure> {
    if n == 0 {
        return Err(Failure::Usage("-n must be at least 1".into()));
    }
    if n > MAX_COLLECT_SAMPLES {
        return Err(Failure::Usage(format!(
            "-n must be at most {MAX_COLLECT_SAMPLES}"
        )));
    }
    let (run, startup) = collect(&config, n)?;
    let window = config.health.startup_samples as usize;
    let resolution = match &startup {
        Ok(r) => r.resolution_ticks,
        Err(_) => detect_resolution(&run.deltas[..window.min(run.deltas.len())]),
    };
    let symbols: Vec<u8> = run.deltas.iter().map(|&d| symbol(d, resolution)).collect();
    let credited = credit_run(&config, &startup, &run, &symbols, n)?;
    let interleaved = n.min(symbols.len());
    let spinner = crate::assess::spinner();
    let assessment = assess_with_progress(
        &symbols[..interleaved],
        8,
        &all_estimators(),
        &mut |set, e| {
            if let Some(bar) = &spinner {
                bar.set_message(format!("interleaved: {set} {e}"));
            }
        },
    );
    let mut paths = Vec::new();
    if let Ok(report) = &startup {
        for (path, decision) in report.sources.iter() {
            let own: Vec<u8> = symbols
                .iter()
                .zip(&run.paths)
                .filter(|&(_, &p)| p == path)
                .map(|(&s, _)| s)
                .take(n)
                .collect();
            if let Some(bar) = &spinner {
                bar.set_message(format!("{}: {} samples", path.name(), own.len()));
            }
            let assessed = assess_with_progress(&own, 8, &all_estimators(), &mut |_, _| {})
                .map(|r| r.assessed);
            let stats = credited
                .stats
                .as_ref()
                .and_then(|s| s.get(path).copied())
                .unwrap_or_default();
            paths.push(PathAssessment {
                path,
                startup: *decision,
                samples: own.len(),
                assessed,
                mean_credit: mean_bits(credited.first_n_millibits[path.index()], own.len()),
                stats,
                strongest_lag: strongest_lag(&autocorrelation(&own, MAX_LAG)),
            });
        }
    }
    if let Some(bar) = &spinner {
        bar.finish_and_clear();
    }
    let autocorrelation = autocorrelation(&symbols[..interleaved], MAX_LAG);
    let band = 2.575_829_303_548_901 / (interleaved.max(1) as f64).sqrt();
    let findings = Findings {
        backend: Collector::backend(),
        fork_detection: kqseed::fork_detection().unwrap_or("unavailable"),
        clock: run.clock,
        measured_nanos_per_tick: run.measured_nanos_per_tick,
        resolution_ticks: resolution,
        step_resolution_ticks: credited.step_resolution_ticks,
        pace_lost: credited.pace_lost,
        samples: run.deltas.len(),
        elapsed: run.elapsed,
        stats: run.stats,
        startup,
        interleaved,
        assessment,
        interleaved_mean_credit: mean_bits(credited.interleaved_millibits, interleaved),
        interleaved_startup_credit: mean_bits(credited.interleaved_startup_millibits, interleaved),
        paths,
        health_stats: credited.health,
        first_health_failure: credited.first_failure,
        startup_health_failure: credited.startup_failure,
        permanent_health_failure: credited.permanent_failure,
        requested: n,
        cut_short: run.cut_short,
        warmup_samples: run.warmup_samples,
        autocorrelation,
        band,
        when: SystemTime::now(),
        // What ran: the intervals the collector ended with.
        config: {
            let mut ran = config;
            ran.events.timer_intervals = run.timer_intervals;
            ran
        },
    };
    Ok((findings, run.deltas, symbols))
}

/// The health tests' figures, one `(key, value)` each: the one place to add
/// a field when the library adds one.
fn health_fields(s: &HealthStats) -> Vec<(&'static str, u64)> {
    vec![
        ("samples", s.samples),
        ("failed_samples", s.failed_samples),
        ("started", u64::from(s.started)),
        ("rct_intermittent_failures", s.rct_intermittent),
        ("apt_intermittent_failures", s.apt_intermittent),
        ("rct_permanent_failures", s.rct_permanent),
        ("apt_permanent_failures", s.apt_permanent),
        ("predictor_intermittent_failures", s.predictor_intermittent),
        ("predictor_permanent_failures", s.predictor_permanent),
        (
            "pass_repetition_intermittent_failures",
            s.pass_repetition_intermittent,
        ),
        (
            "pass_repetition_permanent_failures",
            s.pass_repetition_permanent,
        ),
        (
            "position_repetition_intermittent_failures",
            s.position_repetition_intermittent,
        ),
        (
            "position_repetition_permanent_failures",
            s.position_repetition_permanent,
        ),
        ("escalations", s.escalations),
        ("lost_waits", s.lost_waits),
        ("max_rct_run", s.max_rct_run.into()),
        ("max_apt_count", s.max_apt_count.into()),
        ("max_predictor_run", s.max_predictor_run.into()),
        ("max_predictor_count", s.max_predictor_count.into()),
    ]
}

/// `YYYY-MM-DD hh:mm UTC`.
fn date(t: SystemTime) -> String {
    let s = crate::assess::timestamp(t);
    format!(
        "{}-{}-{} {}:{} UTC",
        &s[0..4],
        &s[4..6],
        &s[6..8],
        &s[8..10],
        &s[10..12]
    )
}

/// The largest `|r(k)|`, its lag, and how many lags lie outside the band.
/// The lag (from 1) of the largest `|r|` in `r`, and that `r`.
fn strongest_lag(r: &[f64]) -> (usize, f64) {
    r.iter()
        .enumerate()
        .map(|(i, &r)| (i + 1, r))
        .fold(
            (0, 0.0),
            |best, x| if x.1.abs() > best.1.abs() { x } else { best },
        )
}

fn autocorrelation_summary(f: &Findings) -> (f64, usize, usize) {
    let (lag, r) = strongest_lag(&f.autocorrelation);
    let max = r.abs();
    let outside = f
        .autocorrelation
        .iter()
        .filter(|r| r.abs() > f.band)
        .count();
    (max, lag, outside)
}

/// The report as text.
pub fn text(f: &Findings) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "kqseed {} report, {}",
        env!("CARGO_PKG_VERSION"),
        date(f.when)
    );
    let _ = writeln!(out, "Backend:        {}", f.backend);
    let _ = writeln!(out, "Fork detection: {}", f.fork_detection);
    let _ = writeln!(
        out,
        "OS hedge:       {} (hedge_with_os_entropy; the samples here are never hedged)",
        if f.config.hedge_with_os_entropy {
            "on"
        } else {
            "off"
        }
    );
    let _ = writeln!(
        out,
        "Clock:          {}, {} ns per tick nominal ({:.3} measured), resolution {} ns by clock_getres; effective resolution {:.3} ticks ({:.3} ns)",
        f.clock.name,
        f.clock.nanos_per_tick,
        f.measured_nanos_per_tick,
        f.clock.resolution_nanos,
        f.resolution_ticks,
        f.effective_resolution_nanos()
    );
    if let Some(r) = f.step_resolution_ticks.filter(|&r| r != f.resolution_ticks) {
        let _ = writeln!(
            out,
            "                the online check found it coarser and counted steps of {r:.3} ticks for the ceilings"
        );
    }
    let _ = writeln!(out, "Configuration:  {}", describe(&f.config));
    let secs = f.elapsed.as_secs_f64();
    // With whole passes every figure below counts passes.
    let unit = match &f.startup {
        Ok(r) if r.thirds => " thirds of passes",
        Ok(r) if r.whole_passes => " whole passes",
        _ => "",
    };
    let _ = writeln!(
        out,
        "Samples:        {}{unit} after a warm-up of {} samples, in {secs:.2} s ({:.0} per second); {} wakeups, {} timeouts",
        f.samples,
        f.warmup_samples,
        f.samples_per_second(),
        f.stats.wakeups,
        f.stats.timeouts
    );
    let credited = f.credited_bits_per_second();
    if credited > 0.0 {
        let block = kqseed::conditioner::FULL_ENTROPY_CREDIT_BITS;
        let _ = writeln!(
            out,
            "Credited:       {credited:.0} bits per second at the start-up credits ({:.4} bits per sample): a 32-byte block ({block} credited bits) every {:.2} ms",
            f.interleaved_startup_credit,
            f64::from(block) * 1e3 / credited
        );
    } else {
        let _ = writeln!(
            out,
            "Credited:       nothing at the start-up credits: no block would come out"
        );
    }
    let e = &f.stats.events;
    let _ = writeln!(
        out,
        "Events:         timer {} (expirations {}), socket read {}, socket write {}, file {}; {:.1} kernel paths a pass",
        e.timer,
        e.timer_expirations,
        e.socket_read,
        e.socket_write,
        e.file,
        e.kernel_paths_per_wakeup()
    );
    if let Some(counted) = f.stats.timers_shortened_after {
        let _ = writeln!(
            out,
            "                the collector shortened its timers to those above: its first passes took {:.2} expirations a timer event over {} timer events (adapt_timers)",
            counted.expirations_per_timer_event(),
            counted.timer
        );
    }
    if let Some(pace) = f.pace_lost {
        let _ = writeln!(
            out,
            "                the passes stopped outrunning their timer ({pace:.2} expirations a timer event over {} timer events, twice in a row): the online check lowered the wait, a whole pass and its thirds to nothing and every other source to 1/16 bit at most; a seeder left with no source credited refuses (WaitsForTimer) and runs start-up again",
            kqseed::PACE_WINDOW_TIMER_EVENTS
        );
    }
    out.push('\n');
    match &f.startup {
        Ok(r) => {
            let window = if r.whole_passes {
                format!(
                    "{} {} (a window of {} samples)",
                    r.samples,
                    if r.thirds {
                        "thirds of passes"
                    } else {
                        "whole passes"
                    },
                    f.config.health.startup_samples
                )
            } else {
                format!("{} samples", r.samples)
            };
            let _ = writeln!(
                out,
                "Start-up on {window} after the warm-up: passed; interleaved estimate {:.3} ({}); each source:",
                r.interleaved_estimate,
                r.interleaved_estimator.name()
            );
            // Paths not assessed were weighed by their ceilings alone.
            let (paths_would, not_assessed) = if r.other_assessed {
                ("would have been", "")
            } else {
                ("could have been at most", " (their ceilings; not assessed)")
            };
            match r.other_bits_per_pass {
                Some(other) if r.thirds => {
                    let _ = writeln!(
                        out,
                        "  (thirds of passes: each pass's samples summed into its thirds, credited {} bits a pass together, at least as much as the pass whole, where its paths {paths_would} {:.4} together{not_assessed})",
                        r.bits_per_pass(),
                        other
                    );
                }
                Some(other) if r.whole_passes => {
                    let _ = writeln!(
                        out,
                        "  (whole passes: each pass's samples summed into one, credited {} bits a pass where its paths {paths_would} {:.4} together{not_assessed})",
                        r.bits_per_pass(),
                        other
                    );
                }
                Some(other) => {
                    let _ = writeln!(
                        out,
                        "  (each path a source: {:.4} bits a pass together, where a whole pass would have been credited {})",
                        r.bits_per_pass(),
                        other
                    );
                }
                None => {}
            }
            if r.expirations_per_timer_event > 0.0
                && r.expirations_per_timer_event < kqseed::MIN_STARTUP_EXPIRATIONS_PER_TIMER_EVENT
            {
                let _ = writeln!(
                    out,
                    "  (the passes did not outrun their timer: {:.2} expirations a timer event, under the {} of the passes the ceilings were measured on, so the wait gets nothing and no other source more than 1/16 bit)",
                    r.expirations_per_timer_event,
                    kqseed::MIN_STARTUP_EXPIRATIONS_PER_TIMER_EVENT
                );
            }
            let _ = writeln!(
                out,
                "  {:<17} {:>8} {:>13} {:>13} {:>9} {:>8} {:>8}",
                "path", "samples", "median steps", "spread steps", "estimate", "ceiling", "credit"
            );
            for s in r.sources.values() {
                let _ = writeln!(
                    out,
                    "  {:<17} {:>8} {:>13} {:>13} {:>9.3} {:>8} {:>8}",
                    s.path.name(),
                    s.samples,
                    s.median_steps,
                    s.spread_steps,
                    s.estimate,
                    s.ceiling,
                    s.credit
                );
                if let Some(k) = s.kernel_paths_per_pass.filter(|_| s.timer_driven) {
                    let _ = writeln!(
                        out,
                        "  (a pass spanned {k:.1} kernel paths; its ceiling is the whole pass's row scaled by {k:.1}/{}, at most 1)",
                        kqseed::PASS_ROW_KERNEL_PATHS
                    );
                }
            }
        }
        Err(e) => {
            let _ = writeln!(out, "Start-up: {e}");
        }
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "The interleaved stream, first {} samples:",
        f.interleaved
    );
    match &f.assessment {
        Ok(r) => {
            let _ = writeln!(
                out,
                "SP 800-90B section 6.3 estimates of the 8-bit symbols ({} distinct values):",
                r.distinct
            );
            let _ = writeln!(
                out,
                "  {:<22} {:<7} {:>17} {:>17} {:>12}",
                "Estimator", "Section", "Literal (/sample)", "Bitstring (/bit)", "(x8)"
            );
            for est in Estimator::ALL {
                let lit = r.get(DataSet::Literal, est).map(|x| x.min_entropy);
                let bit = r.get(DataSet::Bitstring, est).map(|x| x.min_entropy);
                let cell = |x: Option<f64>, scale: f64| {
                    x.map_or_else(|| "-".to_string(), |x| format!("{:.6}", x * scale))
                };
                let name = est.name().trim_end_matches(" Prediction");
                let _ = writeln!(
                    out,
                    "  {name:<22} {:<7} {:>17} {:>17} {:>12}",
                    est.section(),
                    cell(lit, 1.0),
                    cell(bit, 1.0),
                    cell(bit, f64::from(r.bits))
                );
            }
            for s in &r.skipped {
                let _ = writeln!(out, "  ({} data set: {})", s.data_set, s.reason);
            }
            if let Some(h) = r.h_original {
                let _ = writeln!(out, "  H_original:  {h:.6} bits per sample");
            }
            if let Some(h) = r.h_bitstring {
                let _ = writeln!(
                    out,
                    "  H_bitstring: {h:.6} bits per bit ({:.6} per sample)",
                    h * 8.0
                );
            }
            let _ = writeln!(
                out,
                "  Assessed min-entropy: {:.6} bits per sample",
                r.assessed
            );
        }
        Err(e) => {
            let _ = writeln!(out, "SP 800-90B section 6.3 estimates: none ({e})");
        }
    }
    if !f.paths.is_empty() {
        out.push('\n');
        let _ = writeln!(
            out,
            "Each noise source's own stream (all ten estimators, literal and bitstring), and what its samples were credited:"
        );
        let _ = writeln!(
            out,
            "  {:<17} {:>9} {:>10} {:>9} {:>10} {:>8} {:>7}  largest |r|",
            "path", "samples", "assessed", "credit", "(start-up", "final)", "checks"
        );
        for p in &f.paths {
            let figure = match &p.assessed {
                Ok(h) => format!("{h:.4}"),
                Err(e) => format!("({e})"),
            };
            let (lag, r) = p.strongest_lag;
            let _ = writeln!(
                out,
                "  {:<17} {:>9} {:>10} {:>9.4} {:>10} {:>8} {:>7}  lag {lag}: {r:.3}",
                p.path.name(),
                p.samples,
                figure,
                p.mean_credit,
                p.startup.credit,
                p.stats.credit,
                p.stats.online_checks,
            );
        }
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "Health tests (SP 800-90B 4.4), each source at its own credit, over the same samples:"
    );
    for (key, value) in health_fields(&f.health_stats) {
        let _ = writeln!(out, "  {key:<26} {value}");
    }
    if let Some(fail) = &f.first_health_failure {
        let _ = writeln!(out, "  first failure: {fail}");
    }
    let (max, lag, outside) = autocorrelation_summary(f);
    let _ = writeln!(
        out,
        "Autocorrelation of the interleaved symbols, lags 1-{MAX_LAG}: largest |r| {max:.5} at lag {lag}; 99% band +-{:.5}, {outside} of {MAX_LAG} lags outside it (about {:.1} expected by chance)",
        f.band,
        MAX_LAG as f64 * 0.01
    );
    out.push('\n');
    let _ = writeln!(
        out,
        "Credit:         {:.4} bits per interleaved sample on average (every source's own above)",
        f.credit()
    );
    let _ = writeln!(
        out,
        "Verdict:        {}",
        f.verdict().unwrap_or_else(|warning| warning)
    );
    out
}

fn num(x: f64) -> Json {
    Json::Num(x)
}

/// The report as JSON (keys sorted, jsoncpp's layout).
pub fn json(f: &Findings) -> String {
    let mut doc = BTreeMap::new();
    doc.insert(
        "tool_version",
        Json::Str(format!("kqseed {}", env!("CARGO_PKG_VERSION"))),
    );
    doc.insert(
        "date_time_stamp",
        Json::Str(crate::assess::timestamp(f.when)),
    );
    doc.insert("backend", Json::Str(f.backend.to_string()));
    doc.insert("fork_detection", Json::Str(f.fork_detection.to_string()));
    doc.insert(
        "hedge_with_os_entropy",
        Json::Bool(f.config.hedge_with_os_entropy),
    );
    let mut clock = BTreeMap::new();
    clock.insert("name", Json::Str(f.clock.name.to_string()));
    clock.insert("nanos_per_tick", num(f.clock.nanos_per_tick));
    clock.insert("resolution_nanos", num(f.clock.resolution_nanos));
    clock.insert("measured_nanos_per_tick", num(f.measured_nanos_per_tick));
    clock.insert("effective_resolution_ticks", num(f.resolution_ticks));
    clock.insert(
        "effective_resolution_nanos",
        num(f.effective_resolution_nanos()),
    );
    if let Some(r) = f.step_resolution_ticks {
        clock.insert("step_resolution_ticks", num(r));
    }
    doc.insert("clock", Json::Obj(clock));
    let ev = &f.config.events;
    let mut config = BTreeMap::new();
    config.insert(
        "timers_us",
        Json::Arr(
            ev.timer_intervals
                .iter()
                // From whole nanoseconds: 2.9, not 2.9000000000000004.
                .map(|d| num(d.as_nanos() as f64 / 1e3))
                .collect(),
        ),
    );
    config.insert("adapt_timers", Json::Bool(ev.adapt_timers));
    if let Some(counted) = f.stats.timers_shortened_after {
        config.insert(
            "timers_shortened_at_expirations_per_timer_event",
            num(counted.expirations_per_timer_event()),
        );
    }
    config.insert("sockets", Json::Int(ev.num_sockets as i64));
    config.insert("files", Json::Int(ev.num_file_watchers as i64));
    config.insert("timeout_ms", Json::Int(ev.timeout.as_millis() as i64));
    config.insert("max_events", Json::Int(ev.max_events as i64));
    config.insert("credit_cap", num(f.config.credit.cap));
    config.insert("allowance", num(f.config.credit.allowance));
    config.insert(
        "warmup_samples",
        Json::Int(f.config.credit.warmup_samples.into()),
    );
    doc.insert("configuration", Json::Obj(config));
    doc.insert("warmup_samples", Json::Int(f.warmup_samples as i64));
    doc.insert("samples", Json::Int(f.samples as i64));
    doc.insert("interleaved_samples", Json::Int(f.interleaved as i64));
    doc.insert("seconds", num(f.elapsed.as_secs_f64()));
    doc.insert("samples_per_second", num(f.samples_per_second()));
    doc.insert(
        "credited_bits_per_second",
        num(f.credited_bits_per_second()),
    );
    doc.insert("wakeups", Json::Int(f.stats.wakeups as i64));
    doc.insert("timeouts", Json::Int(f.stats.timeouts as i64));
    let e = &f.stats.events;
    let mut events = BTreeMap::new();
    events.insert("timer", Json::Int(e.timer as i64));
    events.insert("timer_expirations", Json::Int(e.timer_expirations as i64));
    events.insert("socket_read", Json::Int(e.socket_read as i64));
    events.insert("socket_write", Json::Int(e.socket_write as i64));
    events.insert("file", Json::Int(e.file as i64));
    events.insert("kernel_paths", Json::Int(e.kernel_paths as i64));
    doc.insert("events", Json::Obj(events));
    match &f.assessment {
        Ok(r) => {
            let mut estimates = Vec::new();
            for est in Estimator::ALL {
                let mut x = BTreeMap::new();
                x.insert("estimator", Json::Str(est.key().to_string()));
                x.insert("name", Json::Str(est.name().to_string()));
                x.insert("section", Json::Str(est.section().to_string()));
                if let Some(h) = r.get(DataSet::Literal, est) {
                    x.insert("literal", num(h.min_entropy));
                }
                if let Some(h) = r.get(DataSet::Bitstring, est) {
                    x.insert("bitstring", num(h.min_entropy));
                }
                estimates.push(Json::Obj(x));
            }
            doc.insert("estimates", Json::Arr(estimates));
            if let Some(h) = r.h_original {
                doc.insert("h_original", num(h));
            }
            if let Some(h) = r.h_bitstring {
                doc.insert("h_bitstring", num(h));
            }
            doc.insert("assessed_bits_per_sample", num(r.assessed));
        }
        Err(e) => {
            doc.insert("assessment_error", Json::Str(e.to_string()));
        }
    }
    let paths = f
        .paths
        .iter()
        .map(|p| {
            let mut x = BTreeMap::new();
            x.insert("path", Json::Str(p.path.name().to_string()));
            x.insert("samples", num(p.samples as f64));
            match &p.assessed {
                Ok(h) => x.insert("assessed_bits_per_sample", num(*h)),
                Err(e) => x.insert("assessment_error", Json::Str(e.to_string())),
            };
            x.insert("credit_bits_per_sample", num(p.mean_credit));
            x.insert("startup_credit_bits_per_sample", num(p.startup.credit));
            x.insert("final_credit_bits_per_sample", num(p.stats.credit));
            x.insert("startup_estimate", num(p.startup.estimate));
            x.insert(
                "startup_estimator",
                Json::Str(p.startup.estimator.key().to_string()),
            );
            x.insert("ceiling_bits_per_sample", num(p.startup.ceiling));
            if let Some(k) = p.startup.kernel_paths_per_pass {
                x.insert("kernel_paths_per_pass", num(k));
            }
            x.insert("median_steps", num(p.startup.median_steps));
            x.insert("spread_steps", num(p.startup.spread_steps));
            x.insert("online_checks", Json::Int(p.stats.online_checks as i64));
            x.insert("online_lowered", Json::Int(p.stats.online_lowered as i64));
            if let Some(b) = p.stats.lowest_online_median_band {
                x.insert("lowest_online_median_band", num(b));
            }
            if let Some(e) = p.stats.lowest_online_estimate {
                x.insert("lowest_online_estimate", num(e));
            }
            let (lag, r) = p.strongest_lag;
            x.insert("strongest_lag", num(lag as f64));
            x.insert("strongest_lag_r", num(r));
            Json::Obj(x)
        })
        .collect();
    doc.insert("paths", Json::Arr(paths));
    if let Ok((h, _)) = f.lowest() {
        doc.insert("lowest_bits_per_sample", num(h));
    }
    let mut health = BTreeMap::new();
    for (key, value) in health_fields(&f.health_stats) {
        health.insert(key, Json::Int(value as i64));
    }
    if let Some(fail) = &f.first_health_failure {
        health.insert("first_failure", Json::Str(fail.to_string()));
    }
    doc.insert("health", Json::Obj(health));
    let mut startup = BTreeMap::new();
    match &f.startup {
        Ok(s) => {
            startup.insert("passed", Json::Bool(true));
            startup.insert("samples", Json::Int(s.samples as i64));
            startup.insert("interleaved_estimate", num(s.interleaved_estimate));
            startup.insert("mean_credit_bits_per_sample", num(s.mean_credit()));
            startup.insert(
                "expirations_per_timer_event",
                num(s.expirations_per_timer_event),
            );
            if let Some(pace) = f.pace_lost {
                startup.insert("pace_lost_expirations_per_timer_event", num(pace));
            }
            startup.insert("whole_passes", Json::Bool(s.whole_passes));
            startup.insert("thirds", Json::Bool(s.thirds));
            startup.insert("bits_per_pass", num(s.bits_per_pass()));
            if let Some(other) = s.other_bits_per_pass {
                startup.insert("other_bits_per_pass", num(other));
                startup.insert("other_assessed", Json::Bool(s.other_assessed));
            }
        }
        Err(e) => {
            startup.insert("passed", Json::Bool(false));
            startup.insert("failure", Json::Str(e.to_string()));
        }
    }
    doc.insert("startup", Json::Obj(startup));
    let (max, lag, outside) = autocorrelation_summary(f);
    let mut ac = BTreeMap::new();
    ac.insert("max_abs", num(max));
    ac.insert("max_abs_lag", Json::Int(lag as i64));
    ac.insert("band_99", num(f.band));
    ac.insert("lags_outside_band", Json::Int(outside as i64));
    ac.insert(
        "values",
        Json::Arr(f.autocorrelation.iter().map(|&r| num(r)).collect()),
    );
    doc.insert("autocorrelation", Json::Obj(ac));
    doc.insert("credit_bits_per_sample", num(f.credit()));
    doc.insert(
        "startup_credit_bits_per_sample",
        num(f.interleaved_startup_credit),
    );
    let (ok, message) = match f.verdict() {
        Ok(m) => (true, m),
        Err(m) => (false, m),
    };
    doc.insert(
        "verdict",
        Json::Str(if ok { "ok" } else { "warning" }.into()),
    );
    doc.insert("verdict_message", Json::Str(message));
    let mut text = String::new();
    Json::Obj(doc).write(&mut text, 0);
    text.push('\n');
    text
}

/// Runs `kqseed report`.
pub fn run(args: &Args) -> CliResult {
    let config = args.config.seeder_config()?;
    let cannot_draw = |path: &std::path::Path, e: &dyn std::fmt::Display| {
        Failure::Failed(format!("cannot draw {}: {e}", path.display()))
    };
    // An unwritable plot path fails now, not after the collection (opened
    // for appending: an existing plot is not truncated yet).
    if let Some(path) = &args.plot {
        let existed = path.exists();
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| cannot_draw(path, &e))?;
        if !existed {
            // Made only to check it: gone again if the run fails.
            let _ = std::fs::remove_file(path);
        }
    }
    let (findings, deltas, symbols) = gather(config, args.samples)?;
    // The verdict decides the exit status even when stdout closes early
    // (`kqseed report | head` under pipefail) or the plot fails; the other
    // failure is then said on stderr.
    let verdict = findings.verdict().map_err(Failure::Check);
    let printed = if args.json {
        out::print(&json(&findings))
    } else {
        out::print(&text(&findings))
    };
    let drawn = args.plot.as_ref().map_or(Ok(()), |path| {
        crate::plot::draw(path, &findings, &deltas, &symbols).map_err(|e| cannot_draw(path, &e))
    });
    // The most telling first: the verdict, then a failed plot (exit 1),
    // then the print (a closed pipe is exit 0).
    let failure = [verdict.err(), drawn.err(), printed.err()];
    let mut failures = failure.into_iter().flatten();
    let Some(first) = failures.next() else {
        return Ok(());
    };
    for message in failures.filter_map(|later| later.message().map(str::to_owned)) {
        out::note(format_args!("{message}"));
    }
    Err(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kqseed::assess::Estimate;

    /// Half a pass before the first wait's return, then two passes, each
    /// wait's return with a timer wakeup.
    fn two_passes_and_a_half() -> Run {
        use KernelPath::{SocketDrain, TimerRead, Wait};
        let samples = [
            (3, SocketDrain),
            (10, Wait),
            (200, TimerRead),
            (30, SocketDrain),
            (11, Wait),
            (210, TimerRead),
            (31, SocketDrain),
            (12, Wait),
            (99, TimerRead),
        ];
        let wakeup = |index, expirations| TimerWakeup {
            index,
            per_path_index: index,
            timer: 1,
            expirations,
        };
        Run {
            deltas: samples.iter().map(|s| s.0).collect(),
            paths: samples.iter().map(|s| s.1).collect(),
            per_path_deltas: Vec::new(),
            per_path_ends: Vec::new(),
            timer_wakeups: vec![wakeup(1, 2), wakeup(4, 3), wakeup(7, 4)],
            position_failures: Vec::new(),
            positions: HealthStats::default(),
            stats: CollectorStats::default(),
            timer_intervals: vec![Duration::from_micros(5)],
            clock: ClockInfo::new("test", 1.0, 1.0),
            elapsed: Duration::from_millis(1),
            measured_nanos_per_tick: 1.0,
            cut_short: false,
            warmup_samples: 0,
        }
    }

    #[test]
    fn a_stuck_position_of_summed_passes_fails_as_in_the_seeder() {
        use KernelPath::{SocketDrain, TimerRead, Wait};
        // 1000 passes whose socket drain is stuck (the same 30 ticks) while
        // the timer read and the wait vary.
        let mut run = two_passes_and_a_half();
        run.timer_wakeups.clear();
        (run.deltas, run.paths) = (0..1000u64)
            .flat_map(|k| {
                [
                    (200 + k % 7, TimerRead),
                    (30, SocketDrain),
                    (10 + k % 5, Wait),
                ]
            })
            .unzip();
        let run = run.into_summed(false, 1.0, &HealthConfig::default());
        let failures: Vec<_> = run.position_failures.iter().map(|f| f.failure).collect();
        assert_eq!(
            failures[0].test,
            kqseed::health::HealthTest::PositionRepetition
        );
        assert_eq!(
            (failures[0].observed, failures[0].is_permanent()),
            (481, false)
        );
        assert!(
            failures
                .iter()
                .any(|f| f.is_permanent() && f.observed == 961)
        );
        // Positions count from the first wait's return: the drain's run
        // starts in the second pass and fails in every pass from its 481st,
        // permanent in its 961st, after which every sample fails (latched).
        assert_eq!(failures.iter().position(|f| f.is_permanent()), Some(480));
        assert_eq!(failures.len(), 480 + 3 * (999 - 961) + 2);
        assert_eq!(run.positions.position_repetition_intermittent, 1);
        assert_eq!(run.positions.position_repetition_permanent, 1);
        // Each failure is placed before the sum of its own pass (the wait
        // after it completes that pass; the first completes none).
        assert_eq!(run.position_failures[0].index, 480);
        // A failing drain takes its pass with it, as in the seeder: the
        // 480 passes before the first failure give their sums, none after.
        assert_eq!(run.deltas.len(), 480);
    }

    #[test]
    fn a_position_stuck_to_the_end_of_the_run_fails_it() {
        use KernelPath::{SocketDrain, Wait};
        // Passes on a coarse clock (a wait of 10-17 ticks, twelve drains of
        // 10-25): too short per path for credit, credited whole. From pass
        // 1000 on the sixth drain is stuck to the end, so that from its
        // failure on every pass is dropped and no sum follows the failures.
        let mut state = 7u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            state >> 33
        };
        let (mut deltas, mut paths) = (Vec::new(), Vec::new());
        for pass in 0..3000 {
            deltas.push(10 + next() % 8);
            paths.push(Wait);
            for drain in 0..12 {
                let stuck = pass >= 1000 && drain == 5;
                deltas.push(if stuck { 40 } else { 10 + next() % 16 });
                paths.push(SocketDrain);
            }
        }
        let window = kqseed::health::DEFAULT_STARTUP_SAMPLES as usize;
        let waits = paths[..window].iter().filter(|&&p| p == Wait).count() as u64;
        let mut events = EventCounts::default();
        events.timer = waits;
        events.timer_expirations = 3 * waits;
        events.wakeups = waits;
        events.kernel_paths = u64::from(kqseed::PASS_ROW_KERNEL_PATHS) * waits;
        let config = SeederConfig::default().with_credit(kqseed::CreditPolicy::capped(8.0));
        let startup = startup_checks(&deltas[..window], &paths[..window], &events, &config.credit);
        let report = startup.as_ref().expect("started");
        assert!(report.whole_passes, "{report:?}");
        // Each wait's return a timer wakeup: all but the first (which
        // completes no pass) stay, those of dropped passes too.
        let timer_wakeups = (paths.iter().enumerate())
            .filter(|&(_, &p)| p == Wait)
            .map(|(index, _)| TimerWakeup {
                index,
                per_path_index: index,
                timer: 1,
                expirations: 3,
            })
            .collect();
        let run = Run {
            deltas,
            paths,
            timer_wakeups,
            ..two_passes_and_a_half()
        }
        .into_summed(false, report.resolution_ticks, &config.health);
        assert_eq!(run.timer_wakeups.len(), 2999);
        assert!(!report.thirds);
        let at = run.position_failures[0].index;
        assert_eq!(at, run.deltas.len(), "a sum after the first failure");
        let symbols: Vec<u8> = run
            .deltas
            .iter()
            .map(|&d| symbol(d, report.resolution_ticks))
            .collect();
        let credited = credit_run(&config, &startup, &run, &symbols, 1000).expect("credited");
        // Its failure came long after the passes' start-up test.
        assert!(credited.startup_failure.is_none());
        let first = credited
            .first_failure
            .expect("the stuck position's failure");
        assert_eq!(first.test, kqseed::health::HealthTest::PositionRepetition);
        assert!(!first.is_permanent());
        let permanent = credited.permanent_failure.expect("its permanent failure");
        assert_eq!(
            permanent.test,
            kqseed::health::HealthTest::PositionRepetition
        );
    }

    #[test]
    fn wakeups_and_position_failures_are_met_in_the_seeders_order() {
        use kqseed::health::FailureLevel;
        let failure = |level| HealthFailure {
            test: kqseed::health::HealthTest::PositionRepetition,
            level,
            observed: 961,
            cutoff: 961,
            during_startup: false,
            escalated_after: 0,
        };
        let wakeup = |index, per_path_index| TimerWakeup {
            index,
            per_path_index,
            timer: 1,
            expirations: per_path_index as u64,
        };
        // At sum 5: a wakeup (per-path sample 60) before an intermittent
        // failure (62); then a sample whose wakeup and permanent failure
        // are its own (70: the seeder notes the wakeup first); then a
        // wakeup after the latch (75), and one in the window (sum 1).
        let wakeups = [wakeup(1, 10), wakeup(5, 60), wakeup(5, 70), wakeup(5, 75)];
        let failures = [
            PositionFailure {
                index: 5,
                per_path_index: 62,
                failure: failure(FailureLevel::Intermittent),
            },
            PositionFailure {
                index: 5,
                per_path_index: 70,
                failure: failure(FailureLevel::Permanent),
            },
        ];
        let (mut wakeups, mut failures) = (wakeups.iter().peekable(), failures.iter().peekable());
        let window = 2;
        // Meets the events up to sum `at`: whether the run stopped, and the
        // expirations of the wakeups noted.
        let mut meet = |at: usize, out: &mut Credited| {
            let mut noted = Vec::new();
            let mut note = |e: EventCounts| noted.push(e.timer_expirations);
            let stopped = meet_events(
                at,
                &mut wakeups,
                &mut failures,
                window,
                false,
                out,
                &mut note,
            );
            (stopped, noted)
        };
        let mut out = Credited::default();
        // Up to sum 4: only the window's wakeup, not noted.
        assert_eq!(meet(4, &mut out), (false, vec![]));
        assert_eq!(meet(5, &mut out), (true, vec![60, 70]));
        assert_eq!(
            out.first_failure.map(|f| f.level),
            Some(FailureLevel::Intermittent)
        );
        assert_eq!(out.permanent_failure.map(|f| f.observed), Some(961));
        // Nothing is met twice.
        assert_eq!(meet(usize::MAX, &mut out), (false, vec![]));
    }

    #[test]
    fn whole_passes_sum_each_pass_and_keep_its_wakeup() {
        let run = two_passes_and_a_half().into_summed(false, 1.0, &HealthConfig::default());
        assert_eq!(run.deltas, [241, 253]);
        assert_eq!(run.paths, [KernelPath::Pass; 2]);
        // The clock's re-measurement takes the per-path samples: through
        // each pass's wait's return before its sum.
        assert_eq!(run.per_path_deltas.len(), 9);
        assert_eq!(run.per_path_ends, [5, 8]);
        // The first wait's return completed no pass: its wakeup goes.
        let kept: Vec<(usize, u64)> = run
            .timer_wakeups
            .iter()
            .map(|w| (w.index, w.expirations))
            .collect();
        assert_eq!(kept, [(0, 3), (1, 4)]);
    }

    #[test]
    fn thirds_sum_each_pass_by_kind_and_keep_its_wakeup_on_the_first() {
        use KernelPath::{PassFirstThird, PassLastThird};
        // As above; these passes have no middle third (no inotify drain,
        // no socket poke), so each gives two samples.
        let run = two_passes_and_a_half().into_summed(true, 1.0, &HealthConfig::default());
        assert_eq!(run.deltas, [230, 11, 241, 12]);
        assert_eq!(run.per_path_ends, [5, 5, 8, 8]);
        assert_eq!(
            run.paths,
            [PassFirstThird, PassLastThird, PassFirstThird, PassLastThird]
        );
        let kept: Vec<(usize, u64)> = run
            .timer_wakeups
            .iter()
            .map(|w| (w.index, w.expirations))
            .collect();
        assert_eq!(kept, [(0, 3), (2, 4)]);
    }

    #[test]
    fn autocorrelation_sees_a_period_and_not_noise() {
        let periodic: Vec<u8> = (0..10_000u32).map(|i| (i % 4 * 60) as u8).collect();
        let r = autocorrelation(&periodic, 8);
        assert!((r[3] - 1.0).abs() < 0.01, "{r:?}");
        // Values 0, 60, 120, 180: two apart they sit on opposite sides of the mean.
        assert!(r[1] < -0.5, "{r:?}");
        let mut state = 1u64;
        let noise: Vec<u8> = (0..100_000)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 56) as u8
            })
            .collect();
        let band = 2.576 / (noise.len() as f64).sqrt();
        let r = autocorrelation(&noise, 32);
        assert!(r.iter().filter(|x| x.abs() > band).count() <= 3, "{r:?}");
        assert_eq!(autocorrelation(&[7; 100], 4), vec![0.0; 4]);
        assert_eq!(autocorrelation(&[], 2), vec![0.0; 2]);
        // The strongest lag keeps its sign.
        assert_eq!(strongest_lag(&[0.1, -0.5, 0.3]), (2, -0.5));
        assert_eq!(strongest_lag(&r[..0]), (0, 0.0));
    }

    #[test]
    fn collection_targets_the_rarest_credited_path() {
        use KernelPath::*;
        // A window where the wait is 1 sample in 15 and socket drains 4.
        let mut window = Vec::new();
        for _ in 0..100 {
            window.push(Wait);
            window.extend([SocketDrain; 4]);
            window.extend([SocketPoke; 10]);
        }
        assert_eq!(samples_needed(&window, &[SocketDrain], 1000), 3863);
        assert_eq!(samples_needed(&window, &[SocketDrain, Wait], 1000), 15450);
        // Never fewer than n for the interleaved stream.
        assert_eq!(samples_needed(&window, &[], 1000), 1000);
    }

    /// Findings with an interleaved figure `interleaved` credited `credit` a
    /// sample, and one source `path` assessed `h` whose samples were
    /// credited `mean`.
    fn findings(interleaved: f64, credit: f64, h: f64, mean: f64) -> Findings {
        // One literal estimate: the report's figure is that estimate.
        let estimate = Estimate::new(Estimator::Mcv, interleaved, (-interleaved).exp2());
        let report = Report::from_estimates(8, vec![estimate], Vec::new(), Vec::new())
            .expect("8 bits and an estimate")
            .with_samples(1000)
            .with_distinct(256);
        assert_eq!(report.assessed, interleaved);
        let mut decision = SourceStartup::new(KernelPath::FileDrain, Estimator::Lag);
        decision.samples = 136;
        decision.median_steps = 140.0;
        decision.spread_steps = 3.0;
        decision.estimate = 1.2;
        decision.ceiling = 0.3125;
        decision.credit = mean;
        let mut sources = kqseed::PerPath::default();
        sources.set(KernelPath::FileDrain, decision);
        Findings {
            config: SeederConfig::default(),
            backend: "epoll",
            fork_detection: "test",
            clock: ClockInfo::new("test", 1.0, 1.0),
            measured_nanos_per_tick: 1.0,
            resolution_ticks: 10.0,
            step_resolution_ticks: Some(10.0),
            pace_lost: None,
            samples: 1000,
            elapsed: Duration::from_secs(1),
            stats: CollectorStats::default(),
            startup: Err(StartupFailure::StuckClock {
                zero_deltas: 0,
                samples: 0,
            }),
            interleaved: 1000,
            assessment: Ok(report),
            interleaved_mean_credit: credit,
            interleaved_startup_credit: credit,
            paths: vec![PathAssessment {
                path: KernelPath::FileDrain,
                startup: decision,
                samples: 1000,
                assessed: Ok(h),
                mean_credit: mean,
                stats: SourceStats::default(),
                strongest_lag: (1, 0.5),
            }],
            health_stats: HealthStats::default(),
            first_health_failure: None,
            startup_health_failure: None,
            permanent_health_failure: None,
            requested: 1000,
            cut_short: false,
            warmup_samples: 256,
            autocorrelation: Vec::new(),
            band: 0.0,
            when: SystemTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_verdict_holds_only_when_every_credit_is_at_most_half_its_figure() {
        let ok = |mut f: Findings| {
            f.startup = Ok(StartupReport::new(2048, 10.0, 2.0, Estimator::Lag));
            f.verdict()
        };
        assert!(ok(findings(2.0, 0.4, 1.0, 0.5)).is_ok());
        // A source credited over half its own figure, however rich the
        // interleaved stream.
        let e = ok(findings(6.0, 0.4, 0.9, 0.5)).unwrap_err();
        assert!(
            e.contains("path file-drain is credited up to 0.5000"),
            "{e}"
        );
        // Its start-up credit over half its figure, though the online check
        // brought the mean under it: its first samples were over.
        let mut f = findings(2.0, 0.4, 0.9, 0.4);
        f.paths[0].startup.credit = 0.5;
        let e = ok(f).unwrap_err();
        assert!(
            e.contains("path file-drain is credited up to 0.5000"),
            "{e}"
        );
        // The interleaved stream at the start-up's mean credit, though the
        // run's mean is under half its figure.
        let mut f = findings(0.9, 0.4, 4.0, 0.5);
        f.interleaved_startup_credit = 0.5;
        let e = ok(f).unwrap_err();
        assert!(
            e.contains("the interleaved stream is credited up to 0.5000"),
            "{e}"
        );
        // The interleaved stream's mean credit against its own figure.
        let e = ok(findings(0.7, 0.4, 4.0, 0.5)).unwrap_err();
        assert!(e.contains("the interleaved stream"), "{e}");
        // A refusal to start is never ok, and an uncredited source's low
        // figure does not matter.
        assert!(findings(2.0, 0.4, 1.0, 0.5).verdict().is_err());
        assert!(ok(findings(2.0, 0.4, 0.1, 0.0)).is_ok());
    }

    #[test]
    fn the_verdict_fails_where_the_seeder_would_refuse_or_stop_or_data_fall_short() {
        let started = |mut f: Findings| {
            f.startup = Ok(StartupReport::new(2048, 10.0, 2.0, Estimator::Lag));
            f
        };
        let failure = |level| HealthFailure {
            test: kqseed::health::HealthTest::Rct,
            level,
            observed: 40,
            cutoff: 31,
            during_startup: false,
            escalated_after: 0,
        };
        // A sample of the start-up test failed: the seeder refuses.
        let mut f = started(findings(2.0, 0.4, 1.0, 0.5));
        f.startup_health_failure = Some(failure(kqseed::health::FailureLevel::Intermittent));
        let e = f.verdict().unwrap_err();
        assert!(e.contains("start-up test failed"), "{e}");
        // A permanent failure later, after an intermittent one: the seeder
        // stops.
        let mut f = started(findings(2.0, 0.4, 1.0, 0.5));
        f.first_health_failure = Some(failure(kqseed::health::FailureLevel::Intermittent));
        f.permanent_health_failure = Some(failure(kqseed::health::FailureLevel::Permanent));
        let e = f.verdict().unwrap_err();
        assert!(e.contains("permanent health failure"), "{e}");
        // An intermittent one after start-up only empties the pool.
        let mut f = started(findings(2.0, 0.4, 1.0, 0.5));
        f.first_health_failure = Some(failure(kqseed::health::FailureLevel::Intermittent));
        assert!(f.verdict().is_ok());
        // A collection cut short of -n is not the figure the claim rests on.
        let mut f = started(findings(2.0, 0.4, 1.0, 0.5));
        f.cut_short = true;
        let e = f.verdict().unwrap_err();
        assert!(e.contains("collection stopped"), "{e}");
    }

    #[test]
    fn the_credit_rate_is_the_sample_rate_at_the_start_up_credits() {
        // 1000 samples in a second at 0.4 bits: 400 bits a second, a
        // 320-bit block every 800 ms.
        let f = findings(2.0, 0.4, 1.0, 0.5);
        assert_eq!(f.credited_bits_per_second(), 400.0);
        let report = text(&f);
        assert!(
            report.contains("Credited:       400 bits per second at the start-up credits (0.4000 bits per sample): a 32-byte block (320 credited bits) every 800.00 ms"),
            "{report}"
        );
        // Nothing credited: no block, and no absurd time for one.
        let mut f = findings(2.0, 0.0, 1.0, 0.0);
        f.interleaved_startup_credit = 0.0;
        assert_eq!(f.credited_bits_per_second(), 0.0);
        let report = text(&f);
        assert!(
            report.contains("Credited:       nothing at the start-up credits"),
            "{report}"
        );
        assert!(!report.contains("a 32-byte block"), "{report}");
    }
}
