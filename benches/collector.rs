//! Samples per second of the collector: the default configuration and each
//! event type alone.
//!
//! `cargo bench --bench collector`. Criterion reports the time for a batch of
//! `BATCH` samples and, from it, samples per second ("elem/s").

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kqseed::{Collector, KqueueEventsConfig};

const BATCH: usize = 1000;

fn configs() -> Vec<(&'static str, KqueueEventsConfig)> {
    let none = KqueueEventsConfig::default()
        .with_timer_intervals(vec![])
        .with_num_sockets(0)
        .with_num_file_watchers(0);
    vec![
        ("default", KqueueEventsConfig::default()),
        (
            "timers_only",
            none.clone()
                .with_timer_intervals(KqueueEventsConfig::default().timer_intervals),
        ),
        ("sockets_only", none.clone().with_num_sockets(2)),
        ("files_only", none.with_num_file_watchers(2)),
    ]
}

fn samples_per_second(c: &mut Criterion) {
    let mut group = c.benchmark_group("collector");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(4));
    for (name, config) in configs() {
        let mut collector = Collector::new(config).expect("collector");
        let mut deltas = vec![0u64; BATCH];
        group.bench_function(name, |b| {
            b.iter(|| collector.fill(&mut deltas).expect("collect"));
        });
    }
    group.finish();
}

criterion_group!(benches, samples_per_second);
criterion_main!(benches);
