//! Warm seeds from one seeder: after its first seed, times `key::<32>()`
//! COUNT times (default 50) and prints the median, fastest and slowest,
//! how start-up took the window (whole passes or each path a source), and
//! each source's start-up credit against its credit at the end (the online
//! check only lowers it; a lowering empties the pool, a slower seed).
//!
//! `cargo run --release --example warm_seeds [COUNT [COLLECTORS]]`
//! (COLLECTORS: [`SeederConfig::collectors`](kqseed::SeederConfig), 1 by
//! default); on the simulated
//! 24 MHz clock, with `LD_PRELOAD` of scripts/lib/coarse-clock.c built as
//! scripts/lib/coarse-clock.sh builds it and `KQSEED_TICK_NS=41.6667`.

use std::time::Instant;

fn main() -> Result<(), kqseed::Error> {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(50);
    let collectors: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let mut seeder =
        kqseed::KqSeeder::with_config(kqseed::SeederConfig::default().with_collectors(collectors))?;
    seeder.key::<32>()?;
    let mut ms = Vec::with_capacity(count);
    for _ in 0..count {
        let t = Instant::now();
        seeder.key::<32>()?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    let stats = seeder.stats();
    let Some(startup) = stats.startup else {
        println!("no start-up decision in force");
        return Ok(());
    };
    println!(
        "{count} warm seeds: median {:.2} ms, fastest {:.2}, slowest {:.2}; whole passes {}, {:.4} bits a pass at start-up; pool emptied {} times",
        ms[count / 2],
        ms[0],
        ms[count - 1],
        startup.whole_passes,
        startup.bits_per_pass(),
        stats.discards
    );
    for (path, source) in stats.sources.iter() {
        println!(
            "  {:<14} start-up {:<7} now {:<7} lowered {}",
            path.name(),
            source.startup_credit,
            source.credit,
            source.online_lowered
        );
    }
    Ok(())
}
