//! `kqseed raw`: raw samples straight from the collector, before health
//! tests and conditioning, for NIST's tools and `kqseed assess`.
//!
//! Samples stream out in chunks, so `-n` is not bounded by memory.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args as ClapArgs, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use kqseed::{
    Collector, EventCounts, KernelPath, Sample, Sampling, SeederConfig, detect_resolution,
    startup_checks, symbol,
};

use crate::config::SourceArgs;
use crate::out::{self, CliResult, Failure, Sink};

/// Samples per write.
const CHUNK: usize = 1 << 14;

/// How each sample is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One byte per sample: the 8-bit symbol the health tests see (the low
    /// byte of the steps of the clock's effective resolution the delta
    /// spans, as the seeder counts them), as `ea_non_iid FILE 8` and
    /// `ea_restart FILE 8 H_I` read it.
    U8,
    /// The full delta in clock ticks, 8 bytes little-endian.
    U64le,
}

/// Arguments of `kqseed raw`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Samples to write; with --restarts, samples per restart.
    #[arg(short = 'n', long = "samples", value_name = "N")]
    samples: u64,
    /// Output file; default (or `-`) standard output, which must not be a
    /// terminal.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Sample format.
    #[arg(long, value_enum, default_value_t = Format::U8)]
    format: Format,
    /// Write R restarts of N samples each, every one from a fresh collector,
    /// restart after restart: the row data set of SP 800-90B 3.1.4 that
    /// `ea_restart` reads (the standard asks for `--restarts 1000 -n 1000`).
    #[arg(long, value_name = "R")]
    restarts: Option<u64>,
    /// Keep only the samples of one kernel path (with `--sampling
    /// per-path`): that path's own stream, taken from the same loop as the
    /// interleaved one.
    #[arg(long, value_name = "PATH", value_parser = path_parser())]
    path: Option<KernelPath>,
    /// Also write, one byte per sample and in the same order, the index of
    /// the kernel path it measured (0 wait, 1 timer-read, 2 socket-drain,
    /// 3 file-drain, 4 socket-poke, 5 file-touch, 6 pass), so that one run
    /// can be split into each path's stream.
    #[arg(long, value_name = "FILE")]
    path_labels: Option<PathBuf>,
    /// Print a one-line summary on stderr at the end: rate, clock resolution,
    /// events by type, and (for a whole run of at least a start-up window
    /// after the warm-up) the credit a seeder's start-up would give the
    /// samples written.
    #[arg(short, long)]
    verbose: bool,
    #[command(flatten)]
    config: SourceArgs,
}

/// The paths a per-path sample can measure: all but the sums of a pass
/// (a whole pass, its thirds).
fn sample_paths() -> impl Iterator<Item = KernelPath> {
    KernelPath::ALL.into_iter().filter(|&p| !p.is_pass_sum())
}

/// `--path`'s parser: the names of [`sample_paths`], as
/// [`KernelPath::name`] spells them, are its possible values, so that the
/// help and the error for any other value list them all.
fn path_parser() -> impl TypedValueParser<Value = KernelPath> {
    PossibleValuesParser::new(sample_paths().map(|p| PossibleValue::new(p.name())))
        .try_map(|name| parse_path(&name))
}

/// Parses a kernel path's name, as [`KernelPath::name`] spells it.
fn parse_path(s: &str) -> Result<KernelPath, String> {
    sample_paths().find(|p| p.name() == s).ok_or_else(|| {
        let names: Vec<&str> = sample_paths().map(KernelPath::name).collect();
        format!("`{s}` is not one of {}", names.join(", "))
    })
}

/// Samples in a row without the wanted path after which it is taken not to
/// occur in this configuration (e.g. `file-drain` without files).
const PATH_ABSENT_AFTER: u32 = 100_000;

/// Where samples come from: every sample of the collector, or one path's.
struct Source {
    collector: Collector,
    path: Option<KernelPath>,
    /// The path index of each sample of the last fill, when labels are
    /// written.
    labels: Option<Vec<u8>>,
    /// The first samples written, as the seeder's start-up sees them.
    window: StartupWindow,
}

/// What a seeder with the same configuration would have credited the
/// samples written: its start-up window (the samples after the warm-up)
/// and how many samples of each path went out.
struct StartupWindow {
    /// Warm-up samples still to skip.
    skip: usize,
    /// Window samples still to keep.
    room: usize,
    deltas: Vec<u64>,
    paths: Vec<KernelPath>,
    /// The kept samples' wakeups' event counts, summed.
    events: EventCounts,
    /// Samples written after the warm-up, per path, in [`KernelPath::ALL`]
    /// order.
    credited: [u64; KernelPath::ALL.len()],
    /// Samples written, the warm-up's included.
    written: u64,
}

impl StartupWindow {
    fn new(config: &SeederConfig) -> StartupWindow {
        let room = config.health.startup_samples as usize;
        StartupWindow {
            skip: config.credit.warmup_samples as usize,
            room,
            deltas: Vec::with_capacity(room),
            paths: Vec::with_capacity(room),
            events: EventCounts::default(),
            credited: [0; KernelPath::ALL.len()],
            written: 0,
        }
    }

    /// Counts `sample`, whose path's label is `index`, taken while the
    /// collector's timers were `settled` or not.
    fn note(&mut self, sample: &Sample, index: u8, settled: bool) {
        self.written += 1;
        if self.skip > 0 || !settled {
            // The seeder absorbs the warm-up uncredited, and until the
            // timers are settled.
            self.skip = self.skip.saturating_sub(1);
            return;
        }
        self.credited[usize::from(index)] += 1;
        if self.room > 0 {
            self.room -= 1;
            self.deltas.push(sample.delta);
            self.paths.push(sample.path);
            self.events.add_paced(&sample.events);
        }
    }

    /// The mean credit per sample written, in bits: each path's start-up
    /// credit weighted by its share of the samples after the warm-up, which
    /// count as 0 (the online margin check can only lower it later).
    /// `None` with fewer samples than a start-up window, an error when
    /// start-up refuses them.
    fn mean_credit(&self, config: &SeederConfig) -> Option<Result<f64, String>> {
        if self.room > 0 {
            return None;
        }
        Some(
            match startup_checks(&self.deltas, &self.paths, &self.events, &config.credit) {
                Ok(report) if report.whole_passes => {
                    // A pass (whole or its thirds) credited at each wait's
                    // return but the first, which closes none.
                    let passes = self.credited[KernelPath::Wait.index()].saturating_sub(1);
                    let credited = passes as f64 * report.bits_per_pass();
                    Ok(credited / self.written.max(1) as f64)
                }
                Ok(report) => {
                    let credited: f64 = KernelPath::ALL
                        .iter()
                        .zip(self.credited)
                        .map(|(&p, n)| n as f64 * report.credit(p))
                        .sum();
                    Ok(credited / self.written.max(1) as f64)
                }
                Err(failure) => Err(failure.to_string()),
            },
        )
    }
}

/// A path's label byte: its index in [`KernelPath::ALL`].
fn label(path: KernelPath) -> u8 {
    KernelPath::ALL
        .iter()
        .position(|&p| p == path)
        .unwrap_or(u8::MAX as usize) as u8
}

impl Source {
    fn fill(&mut self, out: &mut [u64]) -> Result<(), Failure> {
        if let Some(labels) = &mut self.labels {
            labels.clear();
        }
        for slot in out {
            let sample = match self.path {
                None => self.collector.step()?,
                Some(wanted) => self.next_of(wanted)?,
            };
            *slot = sample.delta;
            let index = label(sample.path);
            let settled = self.collector.timers_settled();
            self.window.note(&sample, index, settled);
            if let Some(labels) = &mut self.labels {
                labels.push(index);
            }
        }
        Ok(())
    }

    /// The next sample of path `wanted`, skipping the others.
    fn next_of(&mut self, wanted: KernelPath) -> Result<Sample, Failure> {
        for _ in 0..PATH_ABSENT_AFTER {
            let sample = self.collector.step()?;
            if sample.path == wanted {
                return Ok(sample);
            }
        }
        Err(Failure::Usage(format!(
            "no `{}` sample in {PATH_ABSENT_AFTER} samples: this configuration does not run that path",
            wanted.name()
        )))
    }

    fn collect(&mut self, n: usize) -> Result<Vec<u64>, Failure> {
        let mut deltas = vec![0; n];
        self.fill(&mut deltas)?;
        Ok(deltas)
    }
}

/// Turns deltas into output bytes.
struct Encoder {
    format: Format,
    /// The clock's effective resolution, in ticks.
    resolution: f64,
    bytes: Vec<u8>,
}

impl Encoder {
    fn encode(&mut self, deltas: &[u64]) -> &[u8] {
        self.bytes.clear();
        match self.format {
            Format::U8 => self
                .bytes
                .extend(deltas.iter().map(|&d| symbol(d, self.resolution))),
            Format::U64le => self
                .bytes
                .extend(deltas.iter().flat_map(|d| d.to_le_bytes())),
        }
        &self.bytes
    }
}

fn progress_bar(total: u64) -> Option<ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(total);
        bar.set_style(progress_style());
        bar
    })
}

/// One line of at most 80 columns up to a billion samples: a 20-column
/// bar, done/total, elapsed < left, and the rate in at most 8 columns
/// (indicatif's `{per_sec}` has four decimals and no bound).
fn progress_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{bar:20} {human_pos}/{human_len} [{elapsed_precise} < {eta_precise}, {rate}]",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .with_key(
        "rate",
        |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&rate(state.per_sec()));
        },
    )
}

/// Samples a second in at most 8 columns: `950/s`, `430k/s`, `12.5M/s`.
fn rate(per_sec: f64) -> String {
    match per_sec {
        r if r >= 999.5e3 => format!("{:.1}M/s", (r / 1e6).min(999.9)),
        r if r >= 999.5 => format!("{:.0}k/s", r / 1e3),
        r => format!("{:.0}/s", r.max(0.0)),
    }
}

/// Where the samples go: the sample file, and the labels file if asked for.
struct Sinks {
    samples: Sink,
    labels: Option<Sink>,
}

impl Sinks {
    fn write(&mut self, encoder: &mut Encoder, deltas: &[u64], labels: &[u8]) -> CliResult {
        self.samples.write(encoder.encode(deltas))?;
        if let Some(sink) = &mut self.labels {
            sink.write(labels)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> CliResult {
        self.samples.flush()?;
        if let Some(sink) = &mut self.labels {
            sink.flush()?;
        }
        Ok(())
    }
}

/// Samples already taken (the resolution calibration), to go out first.
#[derive(Default)]
struct Taken {
    deltas: Vec<u64>,
    labels: Vec<u8>,
}

/// Collects `n` samples from `source` and writes them, chunk by chunk,
/// after the `taken` ones.
fn pump(
    source: &mut Source,
    n: u64,
    taken: &Taken,
    encoder: &mut Encoder,
    sinks: &mut Sinks,
    bar: Option<&ProgressBar>,
) -> CliResult {
    sinks.write(encoder, &taken.deltas, &taken.labels)?;
    let mut left = n - taken.deltas.len() as u64;
    let mut buf = vec![0u64; CHUNK];
    if let Some(bar) = bar {
        bar.inc(taken.deltas.len() as u64);
    }
    while left > 0 {
        let k = CHUNK.min(usize::try_from(left).unwrap_or(CHUNK));
        source.fill(&mut buf[..k])?;
        let labels = source.labels.as_deref().unwrap_or(&[]);
        sinks.write(encoder, &buf[..k], labels)?;
        left -= k as u64;
        if let Some(bar) = bar {
            bar.inc(k as u64);
        }
    }
    Ok(())
}

/// The clock's effective resolution for the symbols, detected over the
/// first `n` deltas as the seeder does at start-up; the samples are
/// returned to be written.
fn calibrate(source: &mut Source, n: usize) -> Result<(f64, Taken), Failure> {
    let deltas = source.collect(n)?;
    let labels = source.labels.clone().unwrap_or_default();
    Ok((detect_resolution(&deltas), Taken { deltas, labels }))
}

/// Runs `kqseed raw`.
pub fn run(args: &Args) -> CliResult {
    // As `kqseed report`: an empty file is never what was asked for.
    if args.samples == 0 {
        return Err(Failure::Usage("-n must be at least 1".into()));
    }
    if args.restarts == Some(0) {
        return Err(Failure::Usage("--restarts must be at least 1".into()));
    }
    let mut config = args.config.seeder_config()?;
    if args.path.is_some() && config.events.sampling != Sampling::PerPath {
        return Err(Failure::Usage(
            "--path keeps one kernel path's samples: it needs --sampling per-path".into(),
        ));
    }
    let new_source = || -> Result<Source, Failure> {
        Ok(Source {
            collector: Collector::new(config.events.clone())?,
            path: args.path,
            labels: args.path_labels.as_ref().map(|_| Vec::with_capacity(CHUNK)),
            window: StartupWindow::new(&config),
        })
    };
    let mut sinks = Sinks {
        samples: Sink::open(args.output.as_deref(), true)?,
        labels: match &args.path_labels {
            Some(path) => Some(Sink::open(Some(path), true)?),
            None => None,
        },
    };
    let startup = config.health.startup_samples as usize;
    let mut encoder = Encoder {
        format: args.format,
        resolution: 1.0,
        bytes: Vec::with_capacity(CHUNK * 8),
    };
    let started = Instant::now();
    let mut events = EventCounts::default();
    let mut credit = None;
    let total;
    match args.restarts {
        None => {
            let n = args.samples;
            total = n;
            let bar = progress_bar(n);
            let mut source = new_source()?;
            let mut taken = Taken::default();
            if args.format == Format::U8 {
                let first = startup.min(usize::try_from(n).unwrap_or(startup));
                let (resolution, first_samples) = calibrate(&mut source, first)?;
                encoder.resolution = resolution;
                taken = first_samples;
            }
            let result = pump(
                &mut source,
                n,
                &taken,
                &mut encoder,
                &mut sinks,
                bar.as_ref(),
            );
            if let Some(bar) = &bar {
                bar.finish_and_clear();
            }
            result?;
            events.add(&source.collector.stats().events);
            // The intervals that ran (the collector may shorten them).
            config.events.timer_intervals = source.collector.config().timer_intervals.clone();
            // One path's stream is not what start-up credits.
            if args.path.is_none() {
                credit = source.window.mean_credit(&config);
            }
        }
        Some(r) => {
            total = r.saturating_mul(args.samples);
            let bar = progress_bar(total);
            if args.format == Format::U8 && r > 0 {
                // One resolution for every row, from a collector of its own,
                // so that all restarts map deltas to symbols the same way.
                encoder.resolution = calibrate(&mut new_source()?, startup)?.0;
            }
            for _ in 0..r {
                let mut source = new_source()?;
                let result = pump(
                    &mut source,
                    args.samples,
                    &Taken::default(),
                    &mut encoder,
                    &mut sinks,
                    bar.as_ref(),
                );
                if result.is_err() {
                    if let Some(bar) = &bar {
                        bar.finish_and_clear();
                    }
                    return result;
                }
                events.add(&source.collector.stats().events);
            }
            if let Some(bar) = &bar {
                bar.finish_and_clear();
            }
        }
    }
    sinks.flush()?;
    if args.verbose {
        let elapsed = started.elapsed();
        let resolution = match args.format {
            Format::U8 => format!("{:.3} tick(s)", encoder.resolution),
            Format::U64le => "not applied (u64le)".into(),
        };
        let credit = match credit {
            Some(Ok(bits)) => format!(
                "; start-up credit {bits:.4} bits per sample (each path's, weighted by its share of the samples, or each whole pass's over its samples where start-up takes whole passes; the warm-up's at 0)"
            ),
            Some(Err(refusal)) => format!("; start-up would refuse them: {refusal}"),
            None => String::new(),
        };
        out::note(format_args!(
            "{total} samples in {elapsed:.2?} ({:.0}/s), resolution {resolution}, events: timer {} (expirations {}) socket_read {} socket_write {} file {}, {:.1} kernel paths a pass; {} backend, {}{}{credit}",
            total as f64 / elapsed.as_secs_f64().max(1e-9),
            events.timer,
            events.timer_expirations,
            events.socket_read,
            events.socket_write,
            events.file,
            events.kernel_paths_per_wakeup(),
            Collector::backend(),
            crate::config::describe(&config),
            args.path
                .map(|p| format!(", `{}` samples only", p.name()))
                .unwrap_or_default(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use indicatif::{ProgressDrawTarget, TermLike};

    use super::*;

    /// A terminal wider than the line, keeping what is written to it.
    #[derive(Debug, Clone, Default)]
    struct Capture(Arc<Mutex<String>>);

    impl TermLike for Capture {
        fn width(&self) -> u16 {
            200
        }
        fn move_cursor_up(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> io::Result<()> {
            self.write_str(s)?;
            self.write_str("\n")
        }
        fn write_str(&self, s: &str) -> io::Result<()> {
            self.0.lock().unwrap().push_str(s);
            Ok(())
        }
        fn clear_line(&self) -> io::Result<()> {
            self.0.lock().unwrap().clear();
            Ok(())
        }
        fn flush(&self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_progress_line_fits_80_columns_up_to_a_billion_samples() {
        let term = Capture::default();
        let bar = ProgressBar::with_draw_target(
            Some(1_000_000_000),
            ProgressDrawTarget::term_like(Box::new(term.clone())),
        );
        bar.set_style(progress_style());
        bar.set_position(999_999_999);
        bar.force_draw();
        let line = term.0.lock().unwrap().trim_end().to_string();
        assert!(line.contains("999,999,999/1,000,000,000"), "{line:?}");
        let columns = line.chars().count();
        assert!(columns <= 80, "{columns} columns: {line:?}");
    }

    #[test]
    fn the_rate_takes_at_most_8_columns() {
        for (r, shown) in [
            (0.0, "0/s"),
            (950.0, "950/s"),
            (999.6, "1k/s"),
            (430_123.0, "430k/s"),
            (999_600.0, "1.0M/s"),
            (12_500_000.0, "12.5M/s"),
            (1e15, "999.9M/s"),
        ] {
            assert_eq!(rate(r), shown);
        }
    }
}
