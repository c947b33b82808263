//! The generator against the bare ChaCha20 it wraps, in one run: fills of
//! 1 KiB, 64 KiB and 1 MiB from chacha20's `ChaCha20Rng` (held 64-byte
//! aligned, its fastest placement), rand_chacha's `ChaCha20Rng`, `KqRng`
//! and `kqseed::rng()`, with the default budgets in force (reseeds included:
//! a criterion run draws many GiB); and the per-call cost of a 4-byte draw,
//! which holds the fork check, the budget check and the bookkeeping.
//!
//! `cargo bench --bench generator`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand_core::{Rng, SeedableRng, TryRng};

#[repr(align(64))]
struct Aligned(chacha20::ChaCha20Rng);

fn fills(c: &mut Criterion) {
    let mut bare = Box::new(Aligned(chacha20::ChaCha20Rng::from_seed([7; 32])));
    let mut rand_chacha = Box::new(rand_chacha::ChaCha20Rng::from_seed([7; 32]));
    let mut kq = kqseed::KqRng::new().expect("KqRng");
    let mut thread = kqseed::rng();
    for (name, len) in [("1KiB", 1 << 10), ("64KiB", 64 << 10), ("1MiB", 1 << 20)] {
        let mut group = c.benchmark_group(format!("fill_{name}"));
        group.throughput(Throughput::Bytes(len as u64));
        let mut buf = vec![0u8; len];
        group.bench_function("chacha20", |b| b.iter(|| bare.0.fill_bytes(&mut buf)));
        group.bench_function("rand_chacha", |b| {
            b.iter(|| rand_chacha.fill_bytes(&mut buf))
        });
        group.bench_function("KqRng", |b| {
            b.iter(|| kq.try_fill_bytes(&mut buf).expect("fill"))
        });
        group.bench_function("kqseed_rng", |b| b.iter(|| thread.fill_bytes(&mut buf)));
        group.finish();
    }
    let mut group = c.benchmark_group("next_u32");
    group.bench_function("chacha20", |b| b.iter(|| bare.0.next_u32()));
    group.bench_function("kqseed_rng", |b| b.iter(|| thread.next_u32()));
    group.bench_function("KqRng", |b| b.iter(|| kq.try_next_u32().expect("u32")));
    group.finish();
    let mut group = c.benchmark_group("fill_32B");
    let mut key = [0u8; 32];
    group.bench_function("chacha20", |b| b.iter(|| bare.0.fill_bytes(&mut key)));
    group.bench_function("kqseed_rng", |b| b.iter(|| thread.fill_bytes(&mut key)));
    group.finish();
    println!("kqseed_rng stats after the run: {:?}", thread.stats());
    println!("KqRng stats after the run: {:?}", kq.stats());
}

criterion_group!(benches, fills);
criterion_main!(benches);
