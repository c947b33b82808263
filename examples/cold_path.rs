//! Where a cold seed's time goes: opening the queue, the 1024 start-up
//! samples, the start-up checks and the drop, each timed apart, then a
//! whole cold `KqSeeder::new().key::<32>()` with its drop, averaged over
//! `ROUNDS` rounds (default 30).
//!
//! `cargo run --release --example cold_path [ROUNDS]`
//!
//! The criterion benches (`cargo bench --bench seeder`) are the measure of
//! record; this splits the cold figure into its parts.

use std::time::Instant;

use kqseed::{Collector, KqSeeder, KqueueEventsConfig, SeederConfig, startup_checks};

fn main() -> Result<(), kqseed::Error> {
    let rounds: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(30);
    let config = SeederConfig::default();
    let startup = config.health.startup_samples as usize;
    let credit = config.health.credited_h;
    let mut total = [0.0f64; 5];
    for _ in 0..rounds {
        let t0 = Instant::now();
        let mut collector = Collector::new(KqueueEventsConfig::default())?;
        let t1 = Instant::now();
        let deltas = collector.collect(startup)?;
        let t2 = Instant::now();
        let verdict = startup_checks(&deltas, credit);
        let t3 = Instant::now();
        drop(collector);
        let t4 = Instant::now();
        let key = KqSeeder::new().key::<32>()?;
        let t5 = Instant::now();
        assert!(verdict.is_ok(), "start-up checks: {verdict:?}");
        assert_ne!(*key, [0u8; 32]);
        let spans = [(t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5)];
        for (sum, (a, b)) in total.iter_mut().zip(spans) {
            *sum += (b - a).as_secs_f64() * 1e3 / f64::from(rounds);
        }
    }
    let [open, collect, checks, drop_ms, cold] = total;
    println!("rounds            {rounds}");
    println!("open queue        {open:.3} ms");
    println!("{startup} samples     {collect:.3} ms");
    println!("start-up checks   {checks:.3} ms");
    println!("drop collector    {drop_ms:.3} ms");
    println!("cold key + drop   {cold:.3} ms (KqSeeder::new().key::<32>())");
    Ok(())
}
