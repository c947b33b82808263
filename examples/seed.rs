//! Seeds a ChaCha20Rng from kqseed and says what it took and what each noise
//! source was credited, then draws from the crate's own reseeding generator,
//! `kqseed::rng()`: the main job.
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
    println!("backend           {}", seeder.backend());
    println!(
        "seeds             first in {cold:.2?} (queue opened, warm-up, start-up checks), second in {warm:.2?}"
    );
    if let Some(startup) = stats.startup {
        println!(
            "clock             {}, effective resolution {:.3} ticks of {} ns (clock_getres says {} ns)",
            clock.name, startup.resolution_ticks, clock.nanos_per_tick, clock.resolution_nanos
        );
        println!("noise sources     bits credited per sample, decided at start-up:");
        for s in startup.sources.values() {
            println!(
                "                  {:<13} {:<7} (start-up estimate {:.2}, ceiling {} at {} steps a sample)",
                s.path.name(),
                s.credit,
                s.estimate,
                s.ceiling,
                s.median_steps
            );
        }
        println!(
            "                  {:.3} on average per sample, {:.0} samples per 32-byte block",
            startup.mean_credit(),
            320.0 / startup.mean_credit()
        );
    }
    let h = stats.health;
    let failures = h.rct_intermittent
        + h.rct_permanent
        + h.apt_intermittent
        + h.apt_permanent
        + h.predictor_intermittent
        + h.predictor_permanent;
    println!(
        "health tests      {} samples tested, {failures} failures",
        h.samples
    );
    println!("fork detection    {}", kqseed::fork_detection()?);
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
        "                  16 MiB in {bulk:.2?} ({:.2} GiB/s)",
        16.0 / 1024.0 / bulk.as_secs_f64()
    );
    println!(
        "verdict           ok: {} blocks of 320 credited bits from {} samples; `kqseed report` checks each credit against 1,000,000 samples",
        stats.blocks, stats.samples
    );
    Ok(())
}
