//! Where a cold seed's time goes: opening the queue, the warm-up and the
//! start-up window's samples, the start-up checks and the drop, each timed
//! apart; then a
//! whole cold `KqSeeder::with_config(..).key::<32>()` with its drop, and a
//! warm 32-byte key, averaged over the rounds.
//!
//! ```text
//! cargo run --release --example cold_path -- [--rounds R] [--timers-us 5,7]
//!     [--sockets N] [--files N] [--sampling per-path|per-wakeup] [--credit MAX_BITS]
//! ```
//!
//! Without flags: the default configuration, 30 rounds. The criterion
//! benches (`cargo bench --bench seeder`) are the measure of record for the
//! default; this splits the cold figure into its parts and gives the same
//! figures for other configurations (README, "Choosing the default").

use std::time::{Duration, Instant};

use kqseed::{
    Collector, CreditPolicy, EventCounts, KqSeeder, Sampling, SeederConfig, startup_checks,
};

fn parse_args() -> Result<(u32, SeederConfig), String> {
    let mut config = SeederConfig::default();
    let mut rounds = 30;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let number = |v: &str| v.parse::<f64>().map_err(|_| format!("{flag}: `{v}`"));
        match flag.as_str() {
            "--rounds" => rounds = number(&value)?.max(1.0) as u32,
            "--sockets" => config.events.num_sockets = number(&value)? as usize,
            "--files" => config.events.num_file_watchers = number(&value)? as usize,
            "--credit" => config.credit = CreditPolicy::capped(number(&value)?),
            "--timers-us" => {
                config.events.timer_intervals = value
                    .split(',')
                    .filter(|v| !v.is_empty())
                    .map(|v| number(v).map(|us| Duration::from_secs_f64(us / 1e6)))
                    .collect::<Result<_, _>>()?;
                // Intervals asked for are kept, as `kqseed --timers-us` keeps them.
                config.events.adapt_timers = false;
            }
            "--sampling" => {
                config.events.sampling = match value.as_str() {
                    "per-path" => Sampling::PerPath,
                    "per-wakeup" => Sampling::PerWakeup,
                    other => return Err(format!("--sampling: `{other}`")),
                }
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    config.validate().map_err(|e| e.to_string())?;
    Ok((rounds, config))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (rounds, config) = parse_args()?;
    let window = config.health.startup_samples as usize;
    let mut total = [0.0f64; 6];
    let mut credit = 0.0;
    let mut warmups = 0.0;
    for _ in 0..rounds {
        let t0 = Instant::now();
        let mut collector = Collector::new(config.events.clone())?;
        let t1 = Instant::now();
        // The warm-up, as the seeder's: until its timers are settled too.
        let mut warmup = 0;
        while warmup < config.credit.warmup_samples || !collector.timers_settled() {
            collector.step()?;
            warmup += 1;
        }
        warmups += f64::from(warmup) / f64::from(rounds);
        let mut deltas = Vec::with_capacity(window);
        let mut paths = Vec::with_capacity(window);
        let mut events = EventCounts::default();
        for _ in 0..window {
            let sample = collector.step()?;
            deltas.push(sample.delta);
            paths.push(sample.path);
            events.add_paced(&sample.events);
        }
        let t2 = Instant::now();
        let verdict = startup_checks(&deltas, &paths, &events, &config.credit);
        if let Ok(report) = &verdict {
            credit += report.mean_credit() / f64::from(rounds);
        }
        let t3 = Instant::now();
        drop(collector);
        let t4 = Instant::now();
        let mut seeder = KqSeeder::with_config(config.clone())?;
        let key = seeder.key::<32>()?;
        drop(seeder);
        let t5 = Instant::now();
        let mut warm = KqSeeder::with_config(config.clone())?;
        warm.key::<32>()?;
        let t6 = Instant::now();
        let again = warm.key::<32>()?;
        let t7 = Instant::now();
        assert!(verdict.is_ok(), "start-up checks: {verdict:?}");
        assert_ne!(*key, [0u8; 32]);
        assert_ne!(*again, *key);
        let spans = [(t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5), (t6, t7)];
        for (sum, (a, b)) in total.iter_mut().zip(spans) {
            *sum += (b - a).as_secs_f64() * 1e3 / f64::from(rounds);
        }
    }
    let [open, collect, checks, drop_ms, cold, warm] = total;
    println!("rounds            {rounds}");
    println!("open queue        {open:.3} ms");
    println!(
        "warm-up + {window}    {collect:.3} ms (a warm-up of {warmups:.0} samples on average)"
    );
    println!("start-up checks   {checks:.3} ms");
    println!("drop collector    {drop_ms:.3} ms");
    println!("cold key + drop   {cold:.3} ms");
    println!("warm key          {warm:.3} ms (credit {credit:.3} bits per sample on average)");
    Ok(())
}
