//! Criterion benchmarks of the SP 800-90B section 6.3 assessment: the whole
//! `assess` (literal + full bitstring, all ten estimators) on 100,000 and
//! 1,000,000 uniform 8-bit samples, on the default threads and on one, and
//! on 1,000,000 skewed ones (a few dozen common values, like timing data;
//! the predictors' dictionaries and MultiMCW's leaders behave otherwise
//! there); t-Tuple+LRS alone on the 8,000,000-bit bitstring, the
//! suffix-array part; and the seeder's start-up check (MCV, Lag, MultiMMC,
//! LZ78Y on 1024 literal symbols) on one thread and forced onto two.
//!
//! Run: `cargo bench --bench assess`.

use criterion::{Criterion, criterion_group, criterion_main};
use sp800_90b::assess::{AssessOptions, Estimator, assess, assess_with, t_tuple_and_lrs};
use std::hint::black_box;
use std::num::NonZeroUsize;

/// SplitMix64: a small deterministic generator, so the data is the same on
/// every run without a rand dependency.
fn splitmix_bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ((z ^ (z >> 31)) >> 56) as u8
        })
        .collect()
}

/// Skewed bytes: the sum of four uniform nibbles less a fifth's half, so
/// about 60 values occur, the middle ones most (min-entropy near 4.6 bits,
/// as on this project's timing data).
fn skewed_bytes(seed: u64, n: usize) -> Vec<u8> {
    splitmix_bytes(seed, n * 3)
        .chunks_exact(3)
        .map(|c| {
            let nibbles = [c[0] & 15, c[0] >> 4, c[1] & 15, c[1] >> 4];
            nibbles.iter().sum::<u8>() + ((c[2] & 15) >> 1)
        })
        .collect()
}

fn bench_assess(c: &mut Criterion) {
    let mut group = c.benchmark_group("assess");
    // Whole assessments take seconds: a few samples are enough.
    group.sample_size(10);
    for n in [100_000usize, 1_000_000] {
        let data = splitmix_bytes(1, n);
        group.bench_function(format!("all_ten_8bit_{n}"), |b| {
            b.iter(|| assess(black_box(&data), 8).expect("assessable"))
        });
        let one_thread = AssessOptions::default().with_threads(NonZeroUsize::new(1));
        group.bench_function(format!("all_ten_8bit_{n}_one_thread"), |b| {
            b.iter(|| assess_with(black_box(&data), 8, &one_thread).expect("assessable"))
        });
    }
    let skewed = skewed_bytes(4, 1_000_000);
    group.bench_function("all_ten_8bit_1000000_skewed", |b| {
        b.iter(|| assess(black_box(&skewed), 8).expect("assessable"))
    });
    // What the seeder runs on its start-up samples.
    let startup = splitmix_bytes(3, 1024);
    for threads in [1, 2] {
        let options = AssessOptions::default()
            .with_estimators([
                Estimator::Mcv,
                Estimator::Lag,
                Estimator::MultiMmc,
                Estimator::Lz78y,
            ])
            .with_bitstring(false)
            .with_threads(NonZeroUsize::new(threads));
        group.bench_function(format!("startup_1024_threads_{threads}"), |b| {
            b.iter(|| assess_with(black_box(&startup), 8, &options).expect("assessable"))
        });
    }
    let bits: Vec<u8> = splitmix_bytes(2, 1_000_000)
        .iter()
        .flat_map(|&s| (0..8).rev().map(move |j| (s >> j) & 1))
        .collect();
    group.bench_function("t_tuple_lrs_8000000_bits", |b| {
        b.iter(|| t_tuple_and_lrs(black_box(&bits), 2))
    });
    group.finish();
}

criterion_group!(benches, bench_assess);
criterion_main!(benches);
