//! `kqseed raw`: raw samples straight from the collector, before health
//! tests and conditioning, for NIST's tools and `kqseed assess`.
//!
//! Samples stream out in chunks, so `-n` is not bounded by memory.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Args as ClapArgs, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use kqseed::{Collector, EventCounts, KqueueEventsConfig, detect_step, symbol};

use crate::config::SourceArgs;
use crate::out::{self, CliResult, Failure, Sink};

/// Samples per write.
const CHUNK: usize = 1 << 14;

/// How each sample is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One byte per sample: the 8-bit symbol the health tests see (the low
    /// byte of delta / clock step), as `ea_non_iid FILE 8` and
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
    /// Print a one-line summary on stderr at the end: rate, clock step,
    /// events by type.
    #[arg(short, long)]
    verbose: bool,
    #[command(flatten)]
    config: SourceArgs,
}

/// Turns deltas into output bytes.
struct Encoder {
    format: Format,
    step: u64,
    bytes: Vec<u8>,
}

impl Encoder {
    fn encode(&mut self, deltas: &[u64]) -> &[u8] {
        self.bytes.clear();
        match self.format {
            Format::U8 => self
                .bytes
                .extend(deltas.iter().map(|&d| symbol(d, self.step))),
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
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {pos}/{len} samples [{elapsed} elapsed, {eta} left, {per_sec}]",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    })
}

/// Collects `n` samples from `collector` and writes them, chunk by chunk.
/// `pending` holds samples already taken (the step calibration) and goes
/// out first.
fn pump(
    collector: &mut Collector,
    n: u64,
    pending: &[u64],
    encoder: &mut Encoder,
    sink: &mut Sink,
    bar: Option<&ProgressBar>,
) -> CliResult {
    sink.write(encoder.encode(pending))?;
    let mut left = n - pending.len() as u64;
    let mut buf = vec![0u64; CHUNK];
    if let Some(bar) = bar {
        bar.inc(pending.len() as u64);
    }
    while left > 0 {
        let k = CHUNK.min(usize::try_from(left).unwrap_or(CHUNK));
        collector.fill(&mut buf[..k])?;
        sink.write(encoder.encode(&buf[..k]))?;
        left -= k as u64;
        if let Some(bar) = bar {
            bar.inc(k as u64);
        }
    }
    Ok(())
}

fn add(total: &mut EventCounts, e: &EventCounts) {
    total.timer += e.timer;
    total.timer_expirations += e.timer_expirations;
    total.socket_read += e.socket_read;
    total.socket_write += e.socket_write;
    total.file += e.file;
}

/// The clock step for the symbols, detected over the first
/// `startup_samples` deltas as the seeder does at start-up.
fn calibrate(
    events: &KqueueEventsConfig,
    first: Option<&mut Collector>,
    n: usize,
) -> Result<(u64, Vec<u64>), Failure> {
    match first {
        Some(collector) => {
            let deltas = collector.collect(n)?;
            Ok((detect_step(&deltas), deltas))
        }
        None => {
            let mut probe = Collector::new(events.clone())?;
            let deltas = probe.collect(n)?;
            Ok((detect_step(&deltas), Vec::new()))
        }
    }
}

/// Runs `kqseed raw`.
pub fn run(args: &Args) -> CliResult {
    let config = args.config.seeder_config()?;
    let mut sink = Sink::open(args.output.as_deref(), true)?;
    let startup = config.health.startup_samples as usize;
    let mut encoder = Encoder {
        format: args.format,
        step: 1,
        bytes: Vec::with_capacity(CHUNK * 8),
    };
    let started = Instant::now();
    let mut events = EventCounts::default();
    let total;
    match args.restarts {
        None => {
            let n = args.samples;
            total = n;
            let bar = progress_bar(n);
            let mut collector = Collector::new(config.events.clone())?;
            let mut pending = Vec::new();
            if args.format == Format::U8 {
                let first = startup.min(usize::try_from(n).unwrap_or(startup));
                let (step, deltas) = calibrate(&config.events, Some(&mut collector), first)?;
                encoder.step = step;
                pending = deltas;
            }
            let result = pump(
                &mut collector,
                n,
                &pending,
                &mut encoder,
                &mut sink,
                bar.as_ref(),
            );
            if let Some(bar) = &bar {
                bar.finish_and_clear();
            }
            result?;
            add(&mut events, &collector.stats().events);
        }
        Some(r) => {
            total = r.saturating_mul(args.samples);
            let bar = progress_bar(total);
            if args.format == Format::U8 && r > 0 {
                // One step for every row, from a collector of its own, so
                // that all restarts map deltas to symbols the same way.
                encoder.step = calibrate(&config.events, None, startup)?.0;
            }
            for _ in 0..r {
                let mut collector = Collector::new(config.events.clone())?;
                let result = pump(
                    &mut collector,
                    args.samples,
                    &[],
                    &mut encoder,
                    &mut sink,
                    bar.as_ref(),
                );
                if result.is_err() {
                    if let Some(bar) = &bar {
                        bar.finish_and_clear();
                    }
                    return result;
                }
                add(&mut events, &collector.stats().events);
            }
            if let Some(bar) = &bar {
                bar.finish_and_clear();
            }
        }
    }
    sink.flush()?;
    if args.verbose {
        let elapsed = started.elapsed();
        let step = match args.format {
            Format::U8 => encoder.step.to_string(),
            Format::U64le => "not applied (u64le)".into(),
        };
        out::note(format_args!(
            "{total} samples in {elapsed:.2?} ({:.0}/s), step {step}, events: timer {} (expirations {}) socket_read {} socket_write {} file {}; {} backend, {}",
            total as f64 / elapsed.as_secs_f64().max(1e-9),
            events.timer,
            events.timer_expirations,
            events.socket_read,
            events.socket_write,
            events.file,
            Collector::backend(),
            crate::config::describe(&config),
        ));
    }
    Ok(())
}
