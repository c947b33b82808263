//! Writes raw symbols (one byte each, the format NIST's `ea_non_iid` and
//! `kqseed assess` read) for a chosen collector configuration.
//!
//! `cargo run --release --example raw -- N OUT [--timers-us 20,26,34] [--sockets 2] [--files 2]`
//!
//! Also writes `OUT.deltas`, the raw deltas as little-endian u64, and prints
//! the rate, the detected step and the events by type.

use std::time::{Duration, Instant};

use kqseed::{Collector, KqueueEventsConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: raw N OUT [--timers-us A,B,..] [--sockets N] [--files N]";
    let n: usize = args.next().ok_or(usage)?.parse()?;
    let out = args.next().ok_or(usage)?;
    let mut config = KqueueEventsConfig::default();
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(usage)?;
        match flag.as_str() {
            "--timers-us" => {
                config.timer_intervals = value
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        s.parse::<f64>()
                            .map(|us| Duration::from_nanos((us * 1e3) as u64))
                    })
                    .collect::<Result<_, _>>()?
            }
            "--sockets" => config.num_sockets = value.parse()?,
            "--files" => config.num_file_watchers = value.parse()?,
            _ => return Err(usage.into()),
        }
    }
    let mut collector = Collector::new(config)?;
    let start = Instant::now();
    let deltas = collector.collect(n)?;
    let elapsed = start.elapsed();
    let step = kqseed::detect_step(&deltas);
    let symbols: Vec<u8> = deltas.iter().map(|&d| kqseed::symbol(d, step)).collect();
    std::fs::write(&out, &symbols)?;
    let raw: Vec<u8> = deltas.iter().flat_map(|d| d.to_le_bytes()).collect();
    std::fs::write(format!("{out}.deltas"), raw)?;
    let e = collector.stats().events;
    println!(
        "{n} samples in {elapsed:.2?} ({:.0}/s), step {step}, events: timer {} (expirations {}) socket_read {} socket_write {} file {}",
        n as f64 / elapsed.as_secs_f64(),
        e.timer,
        e.timer_expirations,
        e.socket_read,
        e.socket_write,
        e.file
    );
    Ok(())
}
