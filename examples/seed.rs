//! Seeds a ChaCha20Rng from kqseed and prints what it took, then draws from
//! the crate's own reseeding generator, `kqseed::rng()`: the main job.
//!
//! `cargo run --release --example seed`

use std::time::Instant;

use kqseed::KqSeeder;
use rand_chacha::ChaCha20Rng;
use rand_core::Rng;

fn main() -> Result<(), kqseed::Error> {
    let mut seeder = KqSeeder::new();
    let start = Instant::now();
    let mut rng: ChaCha20Rng = seeder.seed_rng()?;
    let cold = start.elapsed();
    let warm_start = Instant::now();
    let _second: ChaCha20Rng = seeder.seed_rng()?;
    let warm = warm_start.elapsed();

    let stats = seeder.stats();
    let clock = seeder.clock()?;
    let config = seeder.config();
    println!("backend           {}", seeder.backend());
    println!(
        "clock             {} ({} ns/tick, resolution {} ns)",
        clock.name, clock.nanos_per_tick, clock.resolution_nanos
    );
    if let Some(startup) = stats.startup {
        println!("clock step        {} ticks", startup.step_ticks);
        println!(
            "start-up          {} samples, spread {} steps, lowest estimate {:.2} bits/symbol ({}), required {:.2}",
            startup.samples,
            startup.spread_steps,
            startup.estimate,
            startup.estimator.name(),
            config.health.credited_h * config.startup_margin
        );
    }
    println!(
        "credit            {:.2} bits per sample ({} samples per 32-byte block)",
        config.health.credited_h,
        (320.0 / config.health.credited_h).ceil()
    );
    println!(
        "samples used      {} for 2 seeds, {:.0} bits credited, {} blocks",
        stats.samples, stats.credited_bits, stats.blocks
    );
    let h = stats.health;
    println!(
        "health            started {}, failures (intermittent/permanent) RCT {}/{}, APT {}/{}, predictor {}/{}; longest run {}, highest window count {}, longest predicted run {}",
        h.started,
        h.rct_intermittent,
        h.rct_permanent,
        h.apt_intermittent,
        h.apt_permanent,
        h.predictor_intermittent,
        h.predictor_permanent,
        h.max_rct_run,
        h.max_apt_count,
        h.max_predictor_run
    );
    println!("fork detection    {}", kqseed::fork_detection()?);
    println!("cold first seed   {cold:.2?} (queue opened, start-up test and checks included)");
    println!("warm seed         {warm:.2?}");
    println!(
        "first output      {:016x} (from the seeded ChaCha20Rng)",
        rng.next_u64()
    );

    // The crate's generator: one seeding service per process, a ChaCha20
    // per thread, reseeded every 64 MiB or 60 s, fork-safe.
    let start = Instant::now();
    let mut generator = kqseed::rng();
    let first = generator.next_u64();
    let first_draw = start.elapsed();
    let mut buf = vec![0u8; 16 << 20];
    let start = Instant::now();
    generator.fill_bytes(&mut buf);
    let bulk = start.elapsed();
    println!(
        "kqseed::rng()     first u64 {first:016x} after {first_draw:.2?} (the service's first seed)"
    );
    println!(
        "                  16 MiB in {bulk:.2?} ({:.2} GiB/s); {:?}",
        16.0 / 1024.0 / bulk.as_secs_f64(),
        generator.stats()
    );
    Ok(())
}
