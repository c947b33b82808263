//! The health tests' cost per sample: RCT, APT and the lag predictor
//! together, fed uniform symbols (the common case: nothing fails); and the
//! same through `NoiseSources`, which adds each source's online margin check
//! (a histogram count per sample, an estimate per predictor window), and
//! the clock's re-measurement it runs every 65,536 samples. Set
//! them against the time one sample takes to collect (about 2.4 us with the
//! default, `cargo bench --bench collector`).
//!
//! `cargo bench --bench health`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kqseed::health::{HealthConfig, HealthTests};
use kqseed::{CreditPolicy, EventCounts, KernelPath, NoiseSources, startup_checks};

fn feed(c: &mut Criterion) {
    // SplitMix64's top bytes: reproducible uniform symbols.
    let mut state = 0x5eed_u64;
    let symbols: Vec<u8> = (0..1 << 16)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)).to_le_bytes()[7]
        })
        .collect();
    let mut group = c.benchmark_group("health");
    group.throughput(Throughput::Elements(symbols.len() as u64));
    group.bench_function("feed_65536_symbols", |b| {
        b.iter_batched_ref(
            || HealthTests::new(&HealthConfig::default(), 1.0).expect("config"),
            |tests| {
                for &s in &symbols {
                    // Uniform symbols at the default credit never fail.
                    let _ = std::hint::black_box(tests.feed(s));
                }
            },
            criterion::BatchSize::LargeInput,
        );
    });
    // The default's pass shape, so that every source gets its share.
    let shape = [
        KernelPath::Wait,
        KernelPath::TimerRead,
        KernelPath::SocketDrain,
        KernelPath::SocketDrain,
        KernelPath::SocketDrain,
        KernelPath::SocketDrain,
        KernelPath::FileDrain,
        KernelPath::SocketPoke,
        KernelPath::SocketPoke,
        KernelPath::SocketPoke,
        KernelPath::SocketPoke,
        KernelPath::FileTouch,
        KernelPath::FileTouch,
        KernelPath::FileTouch,
        KernelPath::FileTouch,
    ];
    let paths: Vec<KernelPath> = (0..symbols.len()).map(|i| shape[i % 15]).collect();
    // Deltas that back each path's ceiling: wide and uniform.
    let deltas: Vec<u64> = symbols
        .iter()
        .map(|&s| 100_000 + u64::from(s) * 37)
        .collect();
    let policy = CreditPolicy::default();
    let window = 2048;
    // A timer read in every pass, run ahead of a timer that expired three
    // times a pass: the ceilings' kind of pass.
    let mut events = EventCounts::default();
    events.timer = 1;
    events.timer_expirations = 3;
    // The default's fifteen kernel paths a pass (`kqseed::pass_ceiling`).
    events.wakeups = 1;
    events.kernel_paths = u64::from(kqseed::PASS_ROW_KERNEL_PATHS);
    let startup =
        startup_checks(&deltas[..window], &paths[..window], &events, &policy).expect("start-up");
    group.bench_function("sources_feed_65536_samples_with_online_check", |b| {
        b.iter_batched_ref(
            || NoiseSources::new(&startup, &HealthConfig::default(), &policy).expect("sources"),
            |sources| {
                for (&p, &d) in paths.iter().zip(&deltas) {
                    let _ = std::hint::black_box(sources.feed(p, d));
                }
            },
            criterion::BatchSize::LargeInput,
        );
    });
    group.finish();
}

/// What the online check's re-measurement of the clock costs: one
/// `detect_resolution` over the last 2048 samples every 65,536 samples.
/// The deltas are those of the AMD EPYC guest's clock (10.015 ns steps,
/// read to the nearest ns), spanning 20-1043 steps.
fn resolution(c: &mut Criterion) {
    let mut state = 0x000c_10c4_u64;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let deltas: Vec<u64> = (0..2048)
        .map(|_| {
            let t0 = (next() % 10_000) as f64 * 10.015 + 3.3;
            let steps = 20 + next() % 1024;
            ((t0 + steps as f64 * 10.015).round() - t0.round()) as u64
        })
        .collect();
    c.bench_function("detect_resolution_2048", |b| {
        b.iter(|| kqseed::detect_resolution(std::hint::black_box(&deltas)))
    });
    // A clock whose every tick is a step (a 24 MHz counter read in its own
    // ticks): no coarser step fits, so every candidate is tried.
    let ticks: Vec<u64> = (0..2048).map(|_| 20 + next() % 380).collect();
    c.bench_function("detect_resolution_2048_whole_ticks", |b| {
        b.iter(|| kqseed::detect_resolution(std::hint::black_box(&ticks)))
    });
}

criterion_group!(benches, feed, resolution);
criterion_main!(benches);
