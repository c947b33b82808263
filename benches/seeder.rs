//! Seeding speed: a cold first seed (queue opened, start-up test and checks
//! included, with and without dropping the seeder), a warm 32-byte seed,
//! and the samples and credited bits per second behind them, for the
//! default configuration.
//!
//! `cargo bench --bench seeder`

use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use kqseed::KqSeeder;
use rand_chacha::ChaCha20Rng;

fn cold_first_seed(c: &mut Criterion) {
    let mut group = c.benchmark_group("seeder");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("cold_first_seed", |b| {
        b.iter_batched(
            KqSeeder::new,
            // The seeder goes back out with the generator, so that its drop
            // (closing an inotify fd waits for an RCU grace period, 5-15 ms
            // here) happens after timing: a seeder pays it once, at exit.
            |mut seeder| {
                let rng = seeder.seed_rng::<ChaCha20Rng>().expect("seed");
                (seeder, rng)
            },
            BatchSize::PerIteration,
        );
    });
    // The cold seed as a caller pays it: `KqSeeder::new().seed_rng()` on a
    // temporary, dropped inside the timing (its inotify fd is closed by a
    // background thread, so the drop should cost little).
    group.bench_function("cold_first_seed_with_drop", |b| {
        b.iter(|| KqSeeder::new().seed_rng::<ChaCha20Rng>().expect("seed"));
    });
    let mut seeder = KqSeeder::new();
    seeder.key::<32>().expect("start-up");
    group.bench_function("warm_seed_32_bytes", |b| {
        b.iter(|| seeder.key::<32>().expect("seed"));
    });
    // The figure of merit, credited bits per second: each warm 32-byte
    // seed is one block, 320 credited bits, so criterion's throughput here
    // reads in credited bits per second.
    group.throughput(Throughput::Elements(320));
    group.bench_function("credited_bits", |b| {
        b.iter(|| seeder.key::<32>().expect("seed"));
    });
    // Samples and credited bits per second through the health tests and
    // the pool, counted by the seeder itself over 50 warm seeds.
    let before = seeder.stats();
    let start = std::time::Instant::now();
    for _ in 0..50 {
        seeder.key::<32>().expect("seed");
    }
    let seconds = start.elapsed().as_secs_f64();
    let after = seeder.stats();
    let rate = (after.samples - before.samples) as f64 / seconds;
    let bits = (after.credited_bits - before.credited_bits) / seconds;
    println!("seeder/samples_per_second: {rate:.0} (health-tested, credited)");
    println!("seeder/credited_bits_per_second: {bits:.0}");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("raw_samples", |b| {
        b.iter(|| seeder.collect_raw(1000).expect("collect"));
    });
    // Where the cold seed's time goes, besides collecting the warm-up and
    // the start-up window.
    group.throughput(Throughput::Elements(1));
    group.bench_function("open_queue", |b| {
        // One collector per batch, dropped after timing: closing an inotify
        // fd waits for an RCU grace period (5-15 ms here), which a seeder
        // pays once, at exit; and keeping many open would run out of fds.
        b.iter_batched(
            || (),
            |()| kqseed::Collector::new(kqseed::KqueueEventsConfig::default()).expect("open"),
            BatchSize::PerIteration,
        );
    });
    // The start-up window of the default configuration, with each sample's
    // path, from a collector of its own.
    let config = kqseed::SeederConfig::default();
    let mut collector = kqseed::Collector::new(config.events.clone()).expect("open");
    let window: Vec<kqseed::Sample> = (0..config.health.startup_samples)
        .map(|_| collector.step().expect("sample"))
        .collect();
    let deltas: Vec<u64> = window.iter().map(|s| s.delta).collect();
    let paths: Vec<kqseed::KernelPath> = window.iter().map(|s| s.path).collect();
    let mut events = kqseed::EventCounts::default();
    for s in &window {
        events.add_paced(&s.events);
    }
    group.bench_function("startup_checks_window", |b| {
        b.iter(|| kqseed::startup_checks(&deltas, &paths, &events, &config.credit));
    });
    group.finish();
}

criterion_group!(benches, cold_first_seed);
criterion_main!(benches);
