//! Whether collectors that run at the same time are independent enough for
//! a mode that credits N collectors' shares together
//! (`SeederConfig::collectors`): N collectors (default 2), each its own
//! `Collector` and event queue on its own thread, started together behind
//! a barrier after a warm-up of 20,000 steps, each recording SAMPLES
//! per-path samples (default 1,000,000) with their end times on the clock
//! its deltas come from.
//!
//! For each unit the seeder credits (the per-path stream, whole passes, and
//! each third of a pass, summed as `PassSums` and `ThirdSums` sum them) it
//! assesses every collector's own stream and the collectors' streams merged
//! by end time, truncated to one collector's length (all ten SP 800-90B
//! estimators, 8-bit symbols at one clock resolution for every stream).
//!
//! The verdict is the entropy claim's rule, applied to what the collectors
//! collect together as the claim applies it to one collector's interleaved
//! paths: the most a sample of the unit can be credited (its `ceiling` at
//! the highest median steps of any start-up-sized window of any collector,
//! as a start-up could land there; for the per-path stream, the mean over
//! its samples of their paths' ceilings) must be at most half the *judged*
//! figure: the merged one, or the lowest own one where lower (a merge of
//! streams that wander apart can assess above both), less what the swap
//! control below says pairing in time gave the estimators. Each kernel
//! path's own samples merged are judged too, on the lower of the merged
//! and own figures (the per-path stream carries the dependence, as one
//! collector's interleaved stream carries its paths'). Then the credits summed over the
//! collectors are at most half of what the estimators assess on everything
//! they collected together, whatever they learned of one collector's
//! samples from another's. (They do learn some: the collectors' pass
//! lengths wander together.) A run fails outright where the collectors
//! outnumber the CPUs (the seeder runs them in turn there) or ran at the
//! same time over less than 90% of the run.
//!
//! Reported beside it: a swap control for each unit (the same
//! merge of every collector's window a quarter of the run later, and the
//! two merges that pair early windows with later ones: the same samples,
//! only their pairing in time differs); the Pearson correlation of
//! time-aligned pass sums between collector 0 and each other one, against
//! the same with the other shifted by 4096 passes, and the dependence that
//! correlation implies were the sums Gaussian; and Spearman's rank
//! correlation of the same pairs, of their pass-to-pass differences and of
//! the shifted control, which long stalls cannot dominate as they dominate
//! Pearson's.
//!
//! ```text
//! cargo run --release --example collectors -- [--collectors N] [-n SAMPLES] [--json FILE]
//! ```
//!
//! One line per unit, one per correlation, then `collectors: verdict ok`
//! or `collectors: verdict fails`. Exit status: 0 ok, 3 when a unit's
//! ceiling is over half its judged figure, 1 on an error, 2 on a bad
//! flag. `scripts/assess-collectors.sh` runs it under five conditions.

use std::process::ExitCode;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use kqseed::{
    ClockInfo, Collector, KernelPath, KqueueEventsConfig, PASS_ROW_KERNEL_PATHS, PassSums,
    ThirdSums,
};

/// Steps each collector takes before the barrier: a new queue's first
/// samples assess higher than its steady state, and its timers may still
/// be shortened (`KqueueEventsConfig::adapt_timers`).
const WARMUP_STEPS: usize = 20_000;

/// The least share of the run over which every collector collected, for
/// the run to count as collectors at once.
const MIN_OVERLAP: f64 = 0.9;

/// The most samples of one unit assessed: the claim's 1,000,000.
const UNIT_SAMPLES: usize = 1_000_000;

/// The control's shift: far beyond any pass-to-pass memory of one
/// collector, so what is left is the correlation of unaligned passes.
const SHIFT_PASSES: usize = 4096;

/// `kqseed report`'s status for a verdict that fails, so scripts treat both
/// alike.
const EXIT_FAILS: u8 = 3;

/// The units, in the order they are printed: the per-path stream the
/// seeder credits by default, then the pass sums it takes on coarse clocks.
const UNITS: [&str; 5] = [
    "per-path",
    "pass",
    "pass-first-third",
    "pass-middle-third",
    "pass-last-third",
];

struct Args {
    collectors: usize,
    samples: usize,
    json: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        collectors: 2,
        samples: 1_000_000,
        json: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let count = |v: &str| {
            v.replace([',', '_'], "")
                .parse::<usize>()
                .map_err(|_| format!("{flag}: `{v}`"))
        };
        match flag.as_str() {
            "--collectors" => args.collectors = count(&value)?,
            "-n" | "--samples" => args.samples = count(&value)?,
            "--json" => args.json = Some(value),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if args.collectors < 2 {
        return Err("--collectors: at least 2 (one has nothing to be merged with)".into());
    }
    // Enough passes (about 15 samples each) for the shifted control to
    // leave most of the aligned pairs.
    if args.samples < 200_000 {
        return Err("-n: at least 200,000 (the shifted control needs passes to spare)".into());
    }
    Ok(args)
}

/// Reads the clock a collector's deltas are measured on, in the same ticks.
/// The crate has no public clock read, so the clock is found by the name
/// the collector reports and read as `src/sys/unix.rs` reads it; under
/// scripts/lib/coarse-clock.c this read is simulated too, as the
/// collector's is.
fn clock_reader(clock: &ClockInfo) -> Result<fn() -> u64, String> {
    match clock.name {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        "CLOCK_MONOTONIC_RAW" => Ok(|| clock_gettime_ns(libc::CLOCK_MONOTONIC_RAW)),
        #[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
        "CLOCK_MONOTONIC" => Ok(|| clock_gettime_ns(libc::CLOCK_MONOTONIC)),
        #[cfg(target_vendor = "apple")]
        "mach_absolute_time" => Ok(mach_ticks),
        // Rosetta 2's ticks are converted back by the crate: no safe way to
        // match them here.
        other => Err(format!(
            "the collector reads {other}, which this example cannot read in the same ticks"
        )),
    }
}

#[cfg(not(target_vendor = "apple"))]
fn clock_gettime_ns(id: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a writable timespec; `id` is the clock the collector
    // reads on this OS, which its own clock_info checked works.
    let rc = unsafe { libc::clock_gettime(id, &mut ts) };
    // A failed read would put every time stamp of the run in the wrong place.
    assert_eq!(rc, 0, "clock_gettime failed");
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(target_vendor = "apple")]
fn mach_ticks() -> u64 {
    #[allow(deprecated)] // libc points to the mach2 crate; the crate reads it so too
    // SAFETY: takes no arguments and cannot fail.
    unsafe {
        libc::mach_absolute_time()
    }
}

/// The CPU the calling thread is on (Linux's /proc), to show where the
/// collectors ran without an affinity call.
fn current_cpu() -> Option<u32> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // The command name may hold spaces: the fields after it start at field 3,
    // and the processor is field 39.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(36)?.parse().ok()
}

/// One collector's recording.
struct Run {
    deltas: Vec<u64>,
    paths: Vec<KernelPath>,
    /// Each sample's end: the clock read right before the step that gave
    /// the first `Wait` sample, plus every delta since.
    ends: Vec<u64>,
    /// The clock read after the last sample, minus the last end: a few
    /// microseconds when the time stamps and the deltas share their ticks.
    end_gap: i64,
    /// Ticks and real time from the first read to the last, for the
    /// clock's nanoseconds a tick (the simulated clocks' check).
    ticks: u64,
    elapsed: Duration,
    cpus: (Option<u32>, Option<u32>),
    timer_intervals: Vec<Duration>,
    clock: ClockInfo,
    /// Passes recorded: a wait's return ends each.
    passes: usize,
}

/// A new collector, warmed up; then waits at the barrier with the others.
fn record(samples: usize, barrier: &Barrier) -> Result<Run, String> {
    let prepared = (|| {
        let mut collector =
            Collector::new(KqueueEventsConfig::default()).map_err(|e| e.to_string())?;
        let now = clock_reader(&collector.clock())?;
        let mut steps = 0;
        // As the seeder's warm-up: until the timers are settled too.
        while steps < WARMUP_STEPS || !collector.timers_settled() {
            collector.step().map_err(|e| e.to_string())?;
            steps += 1;
        }
        Ok::<_, String>((collector, now))
    })();
    // Every thread reaches the barrier, failed or not, or the others would
    // wait for ever.
    barrier.wait();
    let (mut collector, now) = prepared?;
    // The barrier was a pause: no delta may span it.
    collector.restart_pair();
    let cpu_start = current_cpu();
    // Read the clock before every step until one gives a wait's return: the
    // previous pass's last reading was taken before that read, so the first
    // end is late by at most the time its pass's samples took to hand out,
    // and every later end by the same.
    let (first, t0, started) = loop {
        let (t, i) = (now(), Instant::now());
        let sample = collector.step().map_err(|e| e.to_string())?;
        if sample.path == KernelPath::Wait {
            break (sample, t, i);
        }
    };
    let mut run = Run {
        deltas: Vec::with_capacity(samples),
        paths: Vec::with_capacity(samples),
        ends: Vec::with_capacity(samples),
        end_gap: 0,
        ticks: 0,
        elapsed: Duration::ZERO,
        cpus: (cpu_start, None),
        timer_intervals: Vec::new(),
        clock: collector.clock(),
        passes: 0,
    };
    let (mut end, mut sample) = (t0, first);
    loop {
        end = end.wrapping_add(sample.delta);
        run.deltas.push(sample.delta);
        run.paths.push(sample.path);
        run.ends.push(end);
        if run.deltas.len() == samples {
            break;
        }
        sample = collector.step().map_err(|e| e.to_string())?;
    }
    let t1 = now();
    run.elapsed = started.elapsed();
    run.ticks = t1.wrapping_sub(t0);
    run.end_gap = t1.wrapping_sub(end) as i64;
    run.cpus.1 = current_cpu();
    run.timer_intervals = collector.config().timer_intervals.clone();
    run.passes = run.paths.iter().filter(|&&p| p == KernelPath::Wait).count();
    // Deltas in other ticks than the reads would put the last end far from
    // the last read: 41 times the span on a 24 MHz simulation that only one
    // of the two saw.
    if run.end_gap.unsigned_abs() > run.ticks / 100 {
        return Err(format!(
            "the clock read here and the collector's deltas disagree: the last end is {} ticks from the clock over a run of {} ticks",
            run.end_gap, run.ticks
        ));
    }
    Ok(run)
}

/// Samples of one unit with their end times, in time order.
#[derive(Default)]
struct Stream {
    values: Vec<u64>,
    ends: Vec<u64>,
}

impl Stream {
    fn push(&mut self, value: u64, end: u64) {
        self.values.push(value);
        self.ends.push(end);
    }
}

/// A run's streams, in `UNITS`' order. Passes and thirds are summed by the
/// crate's own `PassSums` and `ThirdSums`, as the seeder sums them: a wait's
/// return ends its pass (and its last third), so a pass's end is its wait's.
fn unit_streams(run: &Run) -> Vec<Stream> {
    let per_path = Stream {
        values: run.deltas.clone(),
        ends: run.ends.clone(),
    };
    let (mut passes, mut thirds) = (Stream::default(), <[Stream; 3]>::default());
    let (mut pass_sums, mut third_sums) = (PassSums::default(), ThirdSums::default());
    // A third ends with its last sample's path, not with the pass.
    let mut third_ends = [0u64; 3];
    for ((&delta, &path), &end) in run.deltas.iter().zip(&run.paths).zip(&run.ends) {
        if let Some(sum) = pass_sums.add(delta, path) {
            passes.push(sum, end);
        }
        if let Some(third) = path.third() {
            third_ends[third] = end;
        }
        if let Some(sums) = third_sums.add(delta, path) {
            for ((stream, sum), &end) in thirds.iter_mut().zip(sums).zip(&third_ends) {
                // A third none of whose paths ran is no sample, as the seeder
                // takes none.
                if let Some(sum) = sum {
                    stream.push(sum, end);
                }
            }
        }
    }
    let [first, middle, last] = thirds;
    vec![per_path, passes, first, middle, last]
}

/// Per-path samples in the seeder's start-up window, whose medians decide
/// the credits (`HealthConfig::startup_samples`' default).
const STARTUP_WINDOW: usize = 2048;

/// The highest median, in clock steps of `resolution` ticks, of any run of
/// `window` consecutive `values`: the seeder decides a credit at its
/// start-up window's median, and the online check lowers it only after
/// 4096 samples of a source, so a credit can stand on the highest band a
/// start-up-sized window reaches, not on the run's median.
fn highest_window_steps(values: &[u64], window: usize, resolution: f64) -> f64 {
    let window = window.max(1);
    // A start-up window can begin anywhere: windows an eighth apart.
    let stride = (window / 8).max(1);
    let mut buf = Vec::with_capacity(window);
    (0..values.len().saturating_sub(window - 1))
        .step_by(stride)
        .map(|at| {
            buf.clear();
            buf.extend_from_slice(&values[at..at + window]);
            let mid = buf.len() / 2;
            *buf.select_nth_unstable(mid).1 as f64 / resolution.max(1.0)
        })
        .fold(f64::NAN, f64::max)
}

/// `path`'s samples of a run, in order.
fn path_samples(run: &Run, path: KernelPath) -> Vec<u64> {
    run.deltas
        .iter()
        .zip(&run.paths)
        .filter(|&(_, &p)| p == path)
        .map(|(&d, _)| d)
        .collect()
}

/// The kernel paths of a run's passes, each once.
fn path_kinds(run: &Run) -> Vec<KernelPath> {
    let mut kinds: Vec<KernelPath> = Vec::new();
    for &path in &run.paths {
        if !kinds.contains(&path) {
            kinds.push(path);
        }
    }
    kinds.sort_by_key(|p| p.name());
    kinds
}

/// The most the seeder credits a sample of `path` (a kernel path, or a
/// pass or third): its ceiling at the highest median steps any start-up
/// window of any collector reached, the default's passes being
/// timer-driven and spanning its fifteen kernel paths. `samples(c)` are
/// collector `c`'s samples of it; `per_window` how many of them a start-up
/// window holds.
fn path_ceiling(
    path: KernelPath,
    collectors: usize,
    samples: &dyn Fn(usize) -> Vec<u64>,
    per_window: usize,
    resolution: f64,
) -> f64 {
    let steps = (0..collectors)
        .map(|c| highest_window_steps(&samples(c), per_window, resolution))
        .fold(f64::NAN, f64::max);
    match path {
        KernelPath::Pass => kqseed::pass_ceiling(steps, true, f64::from(PASS_ROW_KERNEL_PATHS)),
        _ => kqseed::ceiling(path, steps, true),
    }
}

/// The most the seeder credits a sample of unit `u` (in `UNITS`' order),
/// by [`path_ceiling`]; for the per-path stream, each path's, averaged over
/// collector 0's first `len` samples.
fn unit_ceiling(
    u: usize,
    streams: &[Vec<Stream>],
    runs: &[Run],
    len: usize,
    resolution: f64,
) -> f64 {
    let n = runs.len();
    // A start-up window holds 2048 per-path samples: a pass's worth of
    // them per pass.
    let passes_per_window = STARTUP_WINDOW * runs[0].passes / runs[0].deltas.len().max(1);
    let unit = |path| {
        path_ceiling(
            path,
            n,
            &|c| streams[c][u].values.clone(),
            passes_per_window,
            resolution,
        )
    };
    match UNITS[u] {
        "per-path" => {
            let total = runs[0].deltas.len().max(1);
            let ceilings: Vec<(KernelPath, f64)> = path_kinds(&runs[0])
                .into_iter()
                .map(|path| {
                    let per_window = STARTUP_WINDOW
                        * runs[0].paths.iter().filter(|&&p| p == path).count()
                        / total;
                    let samples = |c: usize| path_samples(&runs[c], path);
                    (
                        path,
                        path_ceiling(path, n, &samples, per_window, resolution),
                    )
                })
                .collect();
            let sum: f64 = runs[0].paths[..len]
                .iter()
                .map(|p| {
                    ceilings
                        .iter()
                        .find(|(q, _)| q == p)
                        .map_or(0.0, |&(_, c)| c)
                })
                .sum();
            sum / len.max(1) as f64
        }
        "pass" => unit(KernelPath::Pass),
        "pass-first-third" => unit(KernelPath::PassFirstThird),
        "pass-middle-third" => unit(KernelPath::PassMiddleThird),
        _ => unit(KernelPath::PassLastThird),
    }
}

/// `stream` from `delta` ticks after its start on, moved back by `delta`:
/// the swap control's later window.
fn shifted(stream: &Stream, delta: u64) -> Stream {
    let start = stream.ends.first().copied().unwrap_or(0);
    let from = stream.ends.partition_point(|&e| e < start + delta);
    Stream {
        values: stream.values[from..].to_vec(),
        ends: stream.ends[from..].iter().map(|&e| e - delta).collect(),
    }
}

/// The first `len` samples of `streams` merged by end time (ties to the
/// lower collector).
fn merge(streams: &[&Stream], len: usize) -> Vec<u64> {
    let mut next = vec![0usize; streams.len()];
    let mut merged = Vec::with_capacity(len);
    while merged.len() < len {
        let Some(s) = (0..streams.len())
            .filter(|&s| next[s] < streams[s].ends.len())
            .min_by_key(|&s| streams[s].ends[next[s]])
        else {
            break;
        };
        merged.push(streams[s].values[next[s]]);
        next[s] += 1;
    }
    merged
}

/// All ten estimators' min-entropy, bits per 8-bit symbol.
fn figure(values: &[u64], resolution: f64) -> Result<f64, String> {
    let symbols: Vec<u8> = values
        .iter()
        .map(|&v| kqseed::symbol(v, resolution))
        .collect();
    kqseed::assess::assess(&symbols, 8)
        .map(|r| r.assessed)
        .map_err(|e| format!("{e:?}"))
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (a, b) = (a - mx, b - my);
        sxy += a * b;
        sxx += a * a;
        syy += b * b;
    }
    sxy / (sxx * syy).sqrt()
}

/// Ranks, ties at their mean rank: Spearman's correlation, which a few
/// long stalls in both collectors at once cannot dominate as they can
/// Pearson's.
fn ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut ranks = vec![0.0; x.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && x[order[j + 1]] == x[order[i]] {
            j += 1;
        }
        for &k in &order[i..=j] {
            ranks[k] = (i + j) as f64 / 2.0;
        }
        i = j + 1;
    }
    ranks
}

/// Each value less the one before: what is left of a series once a level
/// both collectors share and wander with together is taken out.
fn differences(x: &[f64]) -> Vec<f64> {
    x.windows(2).map(|w| w[1] - w[0]).collect()
}

struct Correlation {
    other: usize,
    pairs: usize,
    pearson: f64,
    spearman: f64,
    shifted: f64,
    shifted_spearman: f64,
    shifted_pairs: usize,
    differences_spearman: f64,
}

impl Correlation {
    /// `-0.5 log2(1 - r^2)`: the mutual information of two Gaussians with
    /// this correlation, bits a pass. An approximation of the dependence,
    /// not a min-entropy bound.
    fn gaussian_bits(&self) -> f64 {
        -0.5 * (1.0 - self.pearson * self.pearson).log2()
    }

    /// How many standard errors of a zero correlation r is.
    fn z(&self) -> f64 {
        self.pearson * (self.pairs as f64).sqrt()
    }
}

/// Collector 0's passes against `other`'s: each of 0's passes with the
/// other's first pass that ends at or after it, and with the pass
/// `SHIFT_PASSES` later as the control.
fn correlate(zero: &Stream, other: &Stream, index: usize) -> Correlation {
    let (mut x, mut y, mut xs, mut ys) = (vec![], vec![], vec![], vec![]);
    let mut k = 0;
    for (&value, &end) in zero.values.iter().zip(&zero.ends) {
        while k < other.ends.len() && other.ends[k] < end {
            k += 1;
        }
        if k == other.ends.len() {
            break;
        }
        x.push(value as f64);
        y.push(other.values[k] as f64);
        if let Some(&shifted) = other.values.get(k + SHIFT_PASSES) {
            xs.push(value as f64);
            ys.push(shifted as f64);
        }
    }
    Correlation {
        other: index,
        pairs: x.len(),
        pearson: pearson(&x, &y),
        spearman: pearson(&ranks(&x), &ranks(&y)),
        shifted: pearson(&xs, &ys),
        shifted_spearman: pearson(&ranks(&xs), &ranks(&ys)),
        shifted_pairs: xs.len(),
        differences_spearman: pearson(&ranks(&differences(&x)), &ranks(&differences(&y))),
    }
}

struct Unit {
    name: &'static str,
    samples: usize,
    own: Vec<f64>,
    merged: f64,
    /// The most the seeder can credit a sample of this unit, bits.
    ceiling: f64,
    /// The swap control, not in the verdict: the same merge of every
    /// collector's later window (aligned too), and the two merges that pair
    /// the odd collectors' early windows with the even ones' later windows
    /// and the other way round (misaligned). The four use the same
    /// windows, so a wandering level of one collector's cancels out; only
    /// the pairing in time differs. Aligned under misaligned means the
    /// estimators predicted better from samples of the same moment.
    aligned_later: f64,
    misaligned: [f64; 2],
    /// Whether the swap control ran (not for each kernel path's own unit).
    swapped: bool,
}

impl Unit {
    fn lowest_own(&self) -> f64 {
        self.own.iter().copied().fold(f64::INFINITY, f64::min)
    }

    /// The figure judged: the merged one, or the lowest own one where that
    /// is lower (a merge of streams that wander apart can assess above
    /// both, hiding what each alone shows), less what the swap control
    /// says pairing in time gave the estimators.
    fn judged(&self) -> f64 {
        self.merged.min(self.lowest_own()) - (-self.alignment_effect()).max(0.0)
    }

    /// The claim's rule on what the collectors collect together.
    fn ok(&self) -> bool {
        self.ceiling <= self.judged() / 2.0
    }

    /// The swap control's mean aligned figure less its mean misaligned one
    /// (0 where it did not run).
    fn alignment_effect(&self) -> f64 {
        if !self.swapped {
            return 0.0;
        }
        (self.merged + self.aligned_later - self.misaligned[0] - self.misaligned[1]) / 2.0
    }
}

/// A JSON number; not-a-number (a correlation of a constant) as null.
fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        "null".into()
    }
}

fn verdict_word(ok: bool) -> &'static str {
    if ok { "ok" } else { "fails" }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("collectors: {e}");
            eprintln!(
                "usage: cargo run --release --example collectors -- [--collectors N] [-n SAMPLES] [--json FILE]"
            );
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(EXIT_FAILS),
        Err(e) => {
            eprintln!("collectors: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Collects, assesses and reports; whether the verdict holds.
fn run(args: &Args) -> Result<bool, String> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if args.collectors > cpus {
        // Collectors that share a CPU take turns in the seeder: running them
        // at once here would measure a mode it never runs.
        return Err(format!(
            "{} collectors on {cpus} CPUs: the seeder would run them in turn",
            args.collectors
        ));
    }
    let started = Instant::now();
    let barrier = Barrier::new(args.collectors);
    let runs: Vec<Run> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..args.collectors)
            .map(|_| scope.spawn(|| record(args.samples, &barrier)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| "a collector thread panicked".to_string())?
            })
            .collect::<Result<_, String>>()
    })?;
    let collected = started.elapsed();
    let clock = runs[0].clock;

    // One resolution for every stream, from every collector's per-path
    // deltas, as the seeder measures it on per-path samples for its sums too.
    let all: Vec<u64> = runs.iter().flat_map(|r| r.deltas.iter().copied()).collect();
    let resolution = kqseed::detect_resolution(&all);
    drop(all);
    let (ticks, nanos) = runs.iter().fold((0u64, 0u128), |(t, n), r| {
        (t + r.ticks, n + r.elapsed.as_nanos())
    });
    let nanos_per_tick = nanos as f64 / ticks.max(1) as f64;
    println!(
        "collectors: {} collectors, {} per-path samples each, collected in {:.1} s; clock {}, resolution {resolution:.3} ticks, measured {nanos_per_tick:.3} ns a tick (steps of {:.3} ns)",
        args.collectors,
        args.samples,
        collected.as_secs_f64(),
        clock.name,
        resolution * nanos_per_tick
    );
    for (i, r) in runs.iter().enumerate() {
        let cpu = |c: Option<u32>| c.map_or("?".to_string(), |c| c.to_string());
        println!(
            "collectors: collector {i}: {:.2} s, {:.0} samples/s, timers {:?}, CPU {} at the start and {} at the end, start {:+} ticks from collector 0's, last end {} ticks before the clock",
            r.elapsed.as_secs_f64(),
            r.deltas.len() as f64 / r.elapsed.as_secs_f64(),
            r.timer_intervals,
            cpu(r.cpus.0),
            cpu(r.cpus.1),
            r.ends[0].wrapping_sub(runs[0].ends[0]) as i64,
            r.end_gap
        );
    }
    // The runs must overlap for "at the same time" to mean anything.
    let latest_start = runs.iter().map(|r| r.ends[0]).max().unwrap_or(0);
    let earliest_end = runs
        .iter()
        .map(|r| r.ends[r.ends.len() - 1])
        .min()
        .unwrap_or(0);
    let longest = runs
        .iter()
        .map(|r| r.ends[r.ends.len() - 1] - r.ends[0])
        .max()
        .unwrap_or(1);
    let overlap = earliest_end.saturating_sub(latest_start) as f64 / longest.max(1) as f64;
    println!(
        "collectors: the runs overlap over {:.1}% of the longest",
        overlap * 100.0
    );
    if overlap < MIN_OVERLAP {
        return Err(format!(
            "the collectors ran at the same time over {:.1}% of the run, under {:.0}%: not at once",
            overlap * 100.0,
            MIN_OVERLAP * 100.0
        ));
    }

    // The swap control's later window: far beyond the passes' memory
    // (their rank autocorrelation is small after a few thousand), and early
    // enough that every later window still spans the merge's 1/N of the run.
    let shortest = runs
        .iter()
        .map(|r| r.ends[r.ends.len() - 1] - r.ends[0])
        .min()
        .unwrap_or(0);
    let shift = shortest / (2 * runs.len() as u64);
    let streams: Vec<Vec<Stream>> = runs.iter().map(unit_streams).collect();
    let mut units = Vec::new();
    for (u, name) in UNITS.iter().enumerate() {
        // Equal lengths: the estimators' figures depend on it. At most the
        // claim's 1,000,000 samples a stream (a run long enough for that
        // many passes has fifteen times as many per-path samples).
        let len = streams
            .iter()
            .map(|s| s[u].values.len())
            .min()
            .unwrap_or(0)
            .min(UNIT_SAMPLES);
        let own = streams
            .iter()
            .map(|s| figure(&s[u].values[..len], resolution))
            .collect::<Result<Vec<_>, _>>()?;
        let unit_streams: Vec<&Stream> = streams.iter().map(|s| &s[u]).collect();
        let merged = figure(&merge(&unit_streams, len), resolution)?;
        let later: Vec<Stream> = unit_streams.iter().map(|s| shifted(s, shift)).collect();
        // Collector j's window in each merge: early (false) or later (true).
        let swap = |pick: &dyn Fn(usize) -> bool| -> Result<f64, String> {
            let chosen: Vec<&Stream> = (0..unit_streams.len())
                .map(|j| if pick(j) { &later[j] } else { unit_streams[j] })
                .collect();
            figure(&merge(&chosen, len), resolution)
        };
        let unit = Unit {
            name,
            samples: len,
            own,
            merged,
            ceiling: unit_ceiling(u, &streams, &runs, len, resolution),
            aligned_later: swap(&|_| true)?,
            misaligned: [swap(&|j| j % 2 == 1)?, swap(&|j| j % 2 == 0)?],
            swapped: true,
        };
        let own_list: Vec<String> = unit.own.iter().map(|f| format!("{f:.3}")).collect();
        println!(
            "collectors: unit {:<17} {:>7} samples: own {}, merged {:.3} (merged - lowest own {:+.3}); judged {:.3}, ceiling {:.4} = {:.2} of half of it: {}; swap control: aligned {:.3} {:.3}, misaligned {:.3} {:.3}, aligned - misaligned {:+.3}",
            unit.name,
            unit.samples,
            own_list.join(" "),
            unit.merged,
            unit.merged - unit.lowest_own(),
            unit.judged(),
            unit.ceiling,
            unit.ceiling / (unit.judged() / 2.0),
            verdict_word(unit.ok()),
            unit.merged,
            unit.aligned_later,
            unit.misaligned[0],
            unit.misaligned[1],
            unit.alignment_effect()
        );
        units.push(unit);
    }

    // Each kernel path of the per-path stream is a noise source with its
    // own credit: the collectors' samples of it merged too, judged on the
    // lower of that and its own figures. The dependence between collectors
    // is deducted from the per-path stream, as one collector's claim
    // prices the dependence between its paths in the interleaved stream
    // and judges each path on its own figure. (Deducting the per-path
    // stream's effect from every path too failed on the 24 MHz clock in
    // CI's run of 2026-12-07 21:01 UTC: docs/entropy-claim.md.)
    for path in path_kinds(&runs[0]) {
        let by_collector: Vec<Stream> = runs
            .iter()
            .map(|r| {
                let mut own = Stream::default();
                for ((&v, &e), &p) in r.deltas.iter().zip(&r.ends).zip(&r.paths) {
                    if p == path {
                        own.push(v, e);
                    }
                }
                own
            })
            .collect();
        let len = by_collector
            .iter()
            .map(|s| s.values.len())
            .min()
            .unwrap_or(0)
            .min(UNIT_SAMPLES);
        let own = by_collector
            .iter()
            .map(|s| figure(&s.values[..len], resolution))
            .collect::<Result<Vec<_>, _>>()?;
        let refs: Vec<&Stream> = by_collector.iter().collect();
        let merged = figure(&merge(&refs, len), resolution)?;
        let total = runs[0].deltas.len().max(1);
        let per_window =
            STARTUP_WINDOW * runs[0].paths.iter().filter(|&&p| p == path).count() / total;
        let samples = |c: usize| by_collector[c].values.clone();
        let unit = Unit {
            name: path.name(),
            samples: len,
            own,
            merged,
            ceiling: path_ceiling(path, runs.len(), &samples, per_window, resolution),
            aligned_later: f64::NAN,
            misaligned: [f64::NAN; 2],
            swapped: false,
        };
        let own_list: Vec<String> = unit.own.iter().map(|f| format!("{f:.3}")).collect();
        println!(
            "collectors: path {:<17} {:>7} samples: own {}, merged {:.3}; judged {:.3}, ceiling {:.4} = {:.2} of half of it: {}",
            unit.name,
            unit.samples,
            own_list.join(" "),
            unit.merged,
            unit.judged(),
            unit.ceiling,
            unit.ceiling / (unit.judged() / 2.0),
            verdict_word(unit.ok()),
        );
        units.push(unit);
    }

    let pass = UNITS.iter().position(|&u| u == "pass").unwrap_or(1);
    let correlations: Vec<Correlation> = (1..streams.len())
        .map(|j| correlate(&streams[0][pass], &streams[j][pass], j))
        .collect();
    for c in &correlations {
        println!(
            "collectors: pass correlation 0~{}: Pearson {:.4} over {} time-aligned passes ({:.1} standard errors), Spearman {:.4} (of differences of consecutive passes {:.4}); shifted by {SHIFT_PASSES} passes Pearson {:.4}, Spearman {:.4} over {}; Gaussian mutual information (an approximation, not a min-entropy bound) {:.5} bits a pass",
            c.other,
            c.pearson,
            c.pairs,
            c.z(),
            c.spearman,
            c.differences_spearman,
            c.shifted,
            c.shifted_spearman,
            c.shifted_pairs,
            c.gaussian_bits()
        );
    }
    let ok = units.iter().all(Unit::ok);
    println!(
        "collectors: done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!("collectors: verdict {}", verdict_word(ok));

    if let Some(path) = &args.json {
        let units_json: Vec<String> = units
            .iter()
            .map(|u| {
                let own: Vec<String> = u.own.iter().map(|&f| num(f)).collect();
                let swap = if u.swapped {
                    format!(
                        "{{\"shift_ticks\": {shift}, \"aligned_later\": {}, \"misaligned\": [{}, {}], \"aligned_minus_misaligned\": {}}}",
                        num(u.aligned_later),
                        num(u.misaligned[0]),
                        num(u.misaligned[1]),
                        num(u.alignment_effect())
                    )
                } else {
                    "null".to_string()
                };
                format!(
                    "{{\"unit\": \"{}\", \"samples\": {}, \"own\": [{}], \"merged\": {}, \"lowest_own\": {}, \"judged\": {}, \"swap_effect\": {}, \"ceiling_bits_per_sample\": {}, \"verdict\": \"{}\", \"swap_control\": {swap}}}",
                    u.name,
                    u.samples,
                    own.join(", "),
                    num(u.merged),
                    num(u.lowest_own()),
                    num(u.judged()),
                    num(u.alignment_effect()),
                    num(u.ceiling),
                    verdict_word(u.ok()),
                )
            })
            .collect();
        let correlations_json: Vec<String> = correlations
            .iter()
            .map(|c| {
                format!(
                    "{{\"collectors\": [0, {}], \"pairs\": {}, \"pearson\": {}, \"standard_errors\": {}, \"spearman\": {}, \"differences_spearman\": {}, \"shift_passes\": {SHIFT_PASSES}, \"shifted_pairs\": {}, \"shifted_pearson\": {}, \"shifted_spearman\": {}, \"gaussian_mutual_information_bits_per_pass\": {}}}",
                    c.other,
                    c.pairs,
                    num(c.pearson),
                    num(c.z()),
                    num(c.spearman),
                    num(c.differences_spearman),
                    c.shifted_pairs,
                    num(c.shifted),
                    num(c.shifted_spearman),
                    num(c.gaussian_bits())
                )
            })
            .collect();
        // The clock's name is ASCII without quotes or backslashes: Debug
        // formatting writes it as a JSON string.
        let json = format!(
            "{{\n  \"collectors\": {},\n  \"samples\": {},\n  \"clock\": {:?},\n  \"clock_resolution_ticks\": {},\n  \"measured_nanos_per_tick\": {},\n  \"effective_resolution_nanos\": {},\n  \"overlap\": {},\n  \"units\": [\n    {}\n  ],\n  \"pass_correlation\": [\n    {}\n  ],\n  \"verdict\": \"{}\"\n}}\n",
            args.collectors,
            args.samples,
            clock.name,
            num(resolution),
            num(nanos_per_tick),
            num(resolution * nanos_per_tick),
            num(overlap),
            units_json.join(",\n    "),
            correlations_json.join(",\n    "),
            verdict_word(ok)
        );
        std::fs::write(path, json).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(ok)
}
