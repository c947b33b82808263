//! Collects raw deltas with the default configuration and prints what the
//! collector saw: backend, clock, step, rate, events by type.
//!
//! `cargo run --release --example collect [N]`

use std::time::Instant;

use kqseed::{Collector, KqueueEventsConfig};

fn main() -> Result<(), kqseed::Error> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let config = KqueueEventsConfig::default();
    let mut collector = Collector::new(config)?;
    let start = Instant::now();
    let deltas = collector.collect(n)?;
    let elapsed = start.elapsed();
    let clock = collector.clock();
    let resolution = kqseed::detect_resolution(&deltas);
    let mut sorted = deltas.clone();
    sorted.sort_unstable();
    let pct = |p: f64| sorted[((sorted.len() - 1) as f64 * p) as usize];
    let mut histogram = [0u64; 256];
    for &d in &deltas {
        histogram[kqseed::symbol(d, resolution) as usize] += 1;
    }
    let most_common = histogram.iter().copied().max().unwrap_or(0);
    let stats = collector.stats();
    println!("backend          {}", Collector::backend());
    println!(
        "clock            {} ({} ns/tick, resolution {} ns)",
        clock.name, clock.nanos_per_tick, clock.resolution_nanos
    );
    println!("config           {:?}", collector.config());
    println!(
        "samples          {n} in {elapsed:.3?} = {:.0}/s",
        n as f64 / elapsed.as_secs_f64()
    );
    println!("resolution       {resolution:.3} ticks (the clock's effective step)");
    println!(
        "delta ticks      p1 {}  median {}  p99 {}",
        pct(0.01),
        pct(0.5),
        pct(0.99)
    );
    println!(
        "MCV of symbol    {:.2} bits (an upper bound only: run `kqseed assess` for the SP 800-90B figure)",
        -(most_common as f64 / n as f64).log2()
    );
    println!(
        "events           timer {} (expirations {}), socket read {}, socket write {}, file {}",
        stats.events.timer,
        stats.events.timer_expirations,
        stats.events.socket_read,
        stats.events.socket_write,
        stats.events.file
    );
    println!(
        "wakeups          {} (timeouts {})",
        stats.wakeups, stats.timeouts
    );
    Ok(())
}
