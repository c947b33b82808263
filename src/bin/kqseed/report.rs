//! `kqseed report`: collects samples with a configuration and reports on the
//! source: backend, clock, rate, events, all ten SP 800-90B section 6.3
//! estimates, what the health tests and start-up checks make of the same
//! samples, and the credit against the assessment, with a verdict.
//!
//! The health figures come from running the library's pure `HealthTests`
//! and `startup_checks` over the collected symbols, the way the seeder
//! would see them; nothing reaches into a seeder.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use clap::Args as ClapArgs;
use indicatif::{ProgressBar, ProgressStyle};
use kqseed::assess::{AssessError, DataSet, Estimator, Report, assess_with_progress};
use kqseed::health::{HealthCutoffs, HealthFailure, HealthStats, HealthTests};
use kqseed::{
    ClockInfo, Collector, CollectorStats, KernelPath, Sampling, SeederConfig, StartupFailure,
    StartupReport, detect_step, startup_checks, symbol,
};

use crate::config::{SourceArgs, bits, describe};
use crate::json::Json;
use crate::out::{self, CliResult, Failure};

/// Lags of the autocorrelation shown.
pub const MAX_LAG: usize = 128;

/// Arguments of `kqseed report`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Samples to collect and assess (SP 800-90B asks for at least
    /// 1,000,000).
    #[arg(
        short = 'n',
        long = "samples",
        value_name = "N",
        default_value_t = 1_000_000
    )]
    samples: usize,
    /// Print the report as JSON (credit in `credit_bits_per_sample`).
    #[arg(long)]
    json: bool,
    /// Also draw the delta and symbol histograms, the symbols'
    /// autocorrelation and the estimates against the credit into one SVG.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    #[command(flatten)]
    config: SourceArgs,
}

/// One kernel path's own stream, assessed apart from the interleaved one.
pub struct PathAssessment {
    pub path: KernelPath,
    pub samples: usize,
    pub assessed: Result<f64, AssessError>,
    /// The lag in `1..=MAX_LAG` where the stream's autocorrelation is
    /// largest in size, and `r` there.
    pub strongest_lag: (usize, f64),
}

/// Everything the report says, gathered once.
pub struct Findings {
    pub config: SeederConfig,
    pub backend: &'static str,
    pub fork_detection: &'static str,
    pub clock: ClockInfo,
    pub step: u64,
    pub samples: usize,
    pub elapsed: Duration,
    pub stats: CollectorStats,
    pub assessment: Result<Report, AssessError>,
    /// With per-path sampling: each kernel path's own stream, assessed
    /// apart (path, symbols, assessed bits or the error).
    pub paths: Vec<PathAssessment>,
    pub health_stats: HealthStats,
    pub health_cutoffs: HealthCutoffs,
    pub first_health_failure: Option<HealthFailure>,
    pub startup: Result<StartupReport, StartupFailure>,
    pub startup_required: f64,
    /// `r(k)` for `k` in `1..=MAX_LAG`.
    pub autocorrelation: Vec<f64>,
    /// The 99% band of `r(k)` for independent symbols: `2.576 / sqrt(n)`.
    pub band: f64,
    pub when: SystemTime,
}

impl Findings {
    /// The credit per sample, bits.
    pub fn credit(&self) -> f64 {
        self.config.health.credited_h
    }

    /// The lowest figure the credit must stand against: the interleaved
    /// stream's assessment, and with per-path sampling every path's, with
    /// what it is; an error when something could not be assessed.
    pub fn lowest(&self) -> Result<(f64, String), String> {
        let r = self
            .assessment
            .as_ref()
            .map_err(|e| format!("the samples could not be assessed ({e})"))?;
        let mut lowest = (r.assessed, "the assessed".to_string());
        for p in &self.paths {
            match &p.assessed {
                Ok(h) if *h < lowest.0 => {
                    lowest = (*h, format!("path {}'s own assessed", p.path.name()));
                }
                Ok(_) => {}
                Err(e) => {
                    return Err(format!(
                        "path {}'s own stream could not be assessed ({e})",
                        p.path.name()
                    ));
                }
            }
        }
        Ok(lowest)
    }

    /// The verdict: `Ok(message)` when the credit is at most half of the
    /// lowest assessed min-entropy ([`Findings::lowest`]), `Err(message)`
    /// with what to change otherwise.
    pub fn verdict(&self) -> Result<String, String> {
        let credit = self.credit();
        match self.lowest() {
            Ok((h, what)) if 2.0 * credit <= h => Ok(format!(
                "OK: the credit of {} per sample is at most half of {what} {h:.6}",
                bits(credit)
            )),
            Ok((h, what)) => Err(format!(
                "WARNING: the credit of {} per sample is more than half of {what} {h:.6}: lower it to at most {:.2} (--credit; HealthConfig::credited_h), or use sources that assess higher (scripts/compare-configs.sh compares configurations)",
                bits(credit),
                (h / 2.0 * 100.0).floor() / 100.0
            )),
            Err(e) => Err(format!(
                "WARNING: {e}, so no credit is supported: collect more samples (-n) or change the sources"
            )),
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

/// Feeds `symbols` through fresh health tests as the seeder would: a block
/// of output noted after each `per_block` samples once started.
fn run_health(
    config: &SeederConfig,
    symbols: &[u8],
) -> Result<(HealthStats, HealthCutoffs, Option<HealthFailure>), Failure> {
    let mut tests = HealthTests::new(&config.health).map_err(kqseed::Error::from)?;
    let per_block = (f64::from(kqseed::conditioner::FULL_ENTROPY_CREDIT_BITS)
        / config.health.credited_h)
        .ceil() as usize;
    let mut first = None;
    let mut since_block = 0;
    for &s in symbols {
        match tests.feed(s) {
            Ok(()) => {
                since_block += 1;
                if tests.is_started() && since_block >= per_block {
                    tests.note_output();
                    since_block = 0;
                }
            }
            Err(f) => {
                first.get_or_insert(f);
                since_block = 0;
            }
        }
    }
    Ok((tests.stats(), tests.cutoffs(), first))
}

/// What [`collect`] brings back: the deltas, each one's kernel path, the
/// collector's counters, its clock and the time taken.
type Collected = (
    Vec<u64>,
    Vec<KernelPath>,
    CollectorStats,
    ClockInfo,
    Duration,
);

fn collect(config: &SeederConfig, n: usize) -> Result<Collected, Failure> {
    let mut collector = Collector::new(config.events.clone())?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(n as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} samples [{elapsed}, {eta} left]")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let mut deltas = Vec::with_capacity(n);
    let mut paths = Vec::with_capacity(n);
    let started = Instant::now();
    let mut result = Ok(());
    while deltas.len() < n {
        match collector.step() {
            Ok(sample) => {
                deltas.push(sample.delta);
                paths.push(sample.path);
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
        if let Some(bar) = bar.as_ref().filter(|_| deltas.len() % (1 << 14) == 0) {
            bar.set_position(deltas.len() as u64);
        }
    }
    let elapsed = started.elapsed();
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    result?;
    Ok((
        deltas,
        paths,
        *collector.stats(),
        collector.clock(),
        elapsed,
    ))
}

/// Each kernel path's own symbols, assessed apart (per-path sampling only).
fn assess_paths(
    config: &SeederConfig,
    symbols: &[u8],
    paths: &[KernelPath],
) -> Vec<PathAssessment> {
    if config.events.sampling != Sampling::PerPath {
        return Vec::new();
    }
    let mut kinds: Vec<KernelPath> = paths.to_vec();
    kinds.sort();
    kinds.dedup();
    kinds
        .into_iter()
        .map(|path| {
            let own: Vec<u8> = symbols
                .iter()
                .zip(paths)
                .filter(|&(_, &p)| p == path)
                .map(|(&s, _)| s)
                .collect();
            let assessed = assess_with_progress(
                &own,
                8,
                &kqseed::assess::AssessOptions {
                    skip_too_short: true,
                    ..Default::default()
                },
                &mut |_, _| {},
            )
            .map(|r| r.assessed);
            PathAssessment {
                path,
                samples: own.len(),
                assessed,
                strongest_lag: strongest_lag(&autocorrelation(&own, MAX_LAG)),
            }
        })
        .collect()
}

/// Collects and analyses; the deltas and symbols come back for the plot.
pub fn gather(config: SeederConfig, n: usize) -> Result<(Findings, Vec<u64>, Vec<u8>), Failure> {
    if n == 0 {
        return Err(Failure::Usage("-n must be at least 1".into()));
    }
    let (deltas, sample_paths, stats, clock, elapsed) = collect(&config, n)?;
    let startup_n = (config.health.startup_samples as usize).min(n);
    let startup_required = config.health.credited_h * config.startup_margin;
    let startup = startup_checks(&deltas[..startup_n], startup_required);
    // The seeder's step: the one its start-up samples show.
    let step = match &startup {
        Ok(r) => r.step_ticks,
        Err(_) => detect_step(&deltas[..startup_n]),
    };
    let symbols: Vec<u8> = deltas.iter().map(|&d| symbol(d, step)).collect();
    let (health_stats, health_cutoffs, first_health_failure) = run_health(&config, &symbols)?;
    let spinner = crate::assess::spinner();
    let assessment = assess_with_progress(
        &symbols,
        8,
        &kqseed::assess::AssessOptions {
            skip_too_short: true,
            ..Default::default()
        },
        &mut |set, e| {
            if let Some(bar) = &spinner {
                bar.set_message(format!("{set} {e}"));
            }
        },
    );
    let paths = assess_paths(&config, &symbols, &sample_paths);
    if let Some(bar) = &spinner {
        bar.finish_and_clear();
    }
    let autocorrelation = autocorrelation(&symbols, MAX_LAG);
    let band = 2.575_829_303_548_901 / (n as f64).sqrt();
    let findings = Findings {
        config,
        backend: Collector::backend(),
        fork_detection: kqseed::fork_detection().unwrap_or("unavailable"),
        clock,
        step,
        samples: n,
        elapsed,
        stats,
        assessment,
        paths,
        health_stats,
        health_cutoffs,
        first_health_failure,
        startup,
        startup_required,
        autocorrelation,
        band,
        when: SystemTime::now(),
    };
    Ok((findings, deltas, symbols))
}

/// The health tests' figures, one `(key, value)` each: the one place to add
/// a field when the library adds one.
fn health_fields(s: &HealthStats, c: &HealthCutoffs) -> Vec<(&'static str, u64)> {
    vec![
        ("rct_cutoff_intermittent", c.rct_intermittent.into()),
        ("rct_cutoff_permanent", c.rct_permanent.into()),
        ("apt_cutoff_intermittent", c.apt_intermittent.into()),
        ("apt_cutoff_permanent", c.apt_permanent.into()),
        (
            "predictor_run_cutoff_intermittent",
            c.predictor_run_intermittent.into(),
        ),
        (
            "predictor_run_cutoff_permanent",
            c.predictor_run_permanent.into(),
        ),
        (
            "predictor_count_cutoff_intermittent",
            c.predictor_count_intermittent.into(),
        ),
        (
            "predictor_count_cutoff_permanent",
            c.predictor_count_permanent.into(),
        ),
        ("samples", s.samples),
        ("failed_samples", s.failed_samples),
        ("started", u64::from(s.started)),
        ("rct_intermittent_failures", s.rct_intermittent),
        ("apt_intermittent_failures", s.apt_intermittent),
        ("rct_permanent_failures", s.rct_permanent),
        ("apt_permanent_failures", s.apt_permanent),
        ("predictor_intermittent_failures", s.predictor_intermittent),
        ("predictor_permanent_failures", s.predictor_permanent),
        ("escalations", s.escalations),
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
        "Clock:          {}, {} ns per tick, resolution {} ns; step {} tick(s)",
        f.clock.name, f.clock.nanos_per_tick, f.clock.resolution_nanos, f.step
    );
    let _ = writeln!(out, "Configuration:  {}", describe(&f.config));
    let secs = f.elapsed.as_secs_f64();
    let _ = writeln!(
        out,
        "Samples:        {} in {secs:.2} s ({:.0} per second); {} wakeups, {} timeouts",
        f.samples,
        f.samples as f64 / secs.max(1e-9),
        f.stats.wakeups,
        f.stats.timeouts
    );
    let e = &f.stats.events;
    let _ = writeln!(
        out,
        "Events:         timer {} (expirations {}), socket read {}, socket write {}, file {}",
        e.timer, e.timer_expirations, e.socket_read, e.socket_write, e.file
    );
    out.push('\n');
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
        let _ = writeln!(
            out,
            "Each kernel path's own stream, assessed apart (all ten estimators, literal and bitstring; autocorrelation over lags 1-{MAX_LAG}):"
        );
        for p in &f.paths {
            let figure = match &p.assessed {
                Ok(h) => format!("{h:.6} bits per sample"),
                Err(e) => format!("not assessed ({e})"),
            };
            let (lag, r) = p.strongest_lag;
            let _ = writeln!(
                out,
                "  {:<14} {:>9} samples  {figure}; largest |r| at lag {lag}: r = {r:.3}",
                p.path.name(),
                p.samples
            );
        }
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "Health tests (SP 800-90B 4.4) over the same symbols, credit {}, APT window {}:",
        bits(f.credit()),
        f.config.health.apt_window
    );
    for (key, value) in health_fields(&f.health_stats, &f.health_cutoffs) {
        let _ = writeln!(out, "  {key:<26} {value}");
    }
    if let Some(fail) = &f.first_health_failure {
        let _ = writeln!(out, "  first failure: {fail}");
    }
    let n = (f.config.health.startup_samples as usize).min(f.samples);
    match &f.startup {
        Ok(s) => {
            let _ = writeln!(
                out,
                "Start-up checks on the first {n} samples: passed; step {} tick(s), spread {} steps, lowest estimate {:.3} bits per symbol ({}), required {:.3}",
                s.step_ticks,
                s.spread_steps,
                s.estimate,
                s.estimator.name(),
                f.startup_required
            );
        }
        Err(e) => {
            let _ = writeln!(out, "Start-up checks on the first {n} samples: {e}");
        }
    }
    let (max, lag, outside) = autocorrelation_summary(f);
    let _ = writeln!(
        out,
        "Autocorrelation of the symbols, lags 1-{MAX_LAG}: largest |r| {max:.5} at lag {lag}; 99% band +-{:.5}, {outside} of {MAX_LAG} lags outside it (about {:.1} expected by chance)",
        f.band,
        MAX_LAG as f64 * 0.01
    );
    out.push('\n');
    let _ = writeln!(out, "Credit:         {} per sample", bits(f.credit()));
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
    clock.insert("step_ticks", Json::Int(f.step as i64));
    doc.insert("clock", Json::Obj(clock));
    let ev = &f.config.events;
    let mut config = BTreeMap::new();
    config.insert(
        "timers_us",
        Json::Arr(
            ev.timer_intervals
                .iter()
                .map(|d| num(d.as_secs_f64() * 1e6))
                .collect(),
        ),
    );
    config.insert("sockets", Json::Int(ev.num_sockets as i64));
    config.insert("files", Json::Int(ev.num_file_watchers as i64));
    config.insert("timeout_ms", Json::Int(ev.timeout.as_millis() as i64));
    config.insert("max_events", Json::Int(ev.max_events as i64));
    doc.insert("configuration", Json::Obj(config));
    doc.insert("samples", Json::Int(f.samples as i64));
    doc.insert("seconds", num(f.elapsed.as_secs_f64()));
    doc.insert(
        "samples_per_second",
        num(f.samples as f64 / f.elapsed.as_secs_f64().max(1e-9)),
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
    for (key, value) in health_fields(&f.health_stats, &f.health_cutoffs) {
        health.insert(key, Json::Int(value as i64));
    }
    health.insert("apt_window", Json::Int(f.config.health.apt_window.into()));
    if let Some(fail) = &f.first_health_failure {
        health.insert("first_failure", Json::Str(fail.to_string()));
    }
    doc.insert("health", Json::Obj(health));
    let mut startup = BTreeMap::new();
    startup.insert("required", num(f.startup_required));
    match &f.startup {
        Ok(s) => {
            startup.insert("passed", Json::Bool(true));
            startup.insert("samples", Json::Int(s.samples as i64));
            startup.insert("step_ticks", Json::Int(s.step_ticks as i64));
            startup.insert("spread_steps", Json::Int(s.spread_steps as i64));
            startup.insert("lowest_estimate", num(s.estimate));
            startup.insert("lowest_estimator", Json::Str(s.estimator.key().to_string()));
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
    let (findings, deltas, symbols) = gather(config, args.samples)?;
    if let Some(path) = &args.plot {
        crate::plot::draw(path, &findings, &deltas, &symbols)
            .map_err(|e| Failure::Failed(format!("cannot draw {}: {e}", path.display())))?;
    }
    if args.json {
        out::print(&json(&findings))?;
    } else {
        out::print(&text(&findings))?;
    }
    match findings.verdict() {
        Ok(_) => Ok(()),
        Err(warning) => Err(Failure::Check(warning)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn health_runs_like_the_seeder_and_counts_failures() {
        let config = SeederConfig::default();
        let expected = kqseed::health::DEFAULT_CUTOFFS;
        // A stuck symbol: the RCT fails at its intermittent cutoff, then the
        // permanent one latches.
        let stuck = vec![9u8; 2 * expected.rct_permanent as usize];
        let (stats, cutoffs, first) = run_health(&config, &stuck).unwrap();
        assert_eq!(cutoffs, expected);
        assert_eq!(stats.rct_permanent, 1);
        let latched_at = expected.rct_permanent;
        assert_eq!(
            stats.max_rct_run, latched_at,
            "a latched failure stops the count"
        );
        assert!(!first.unwrap().is_permanent());
        let fields = health_fields(&stats, &cutoffs);
        assert!(fields.contains(&(
            "rct_cutoff_intermittent",
            u64::from(expected.rct_intermittent)
        )));
        assert!(fields.contains(&("max_rct_run", u64::from(latched_at))));
    }
}
