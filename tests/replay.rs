//! The seeder on recorded and doctored deltas, through the public API.
//!
//! Built only with `RUSTFLAGS="--cfg kqseed_replay"` (see .ci/run), the
//! test-only cfg that lets a seeder play back deltas instead of collecting.
#![cfg(kqseed_replay)]

use kqseed::{Error, KqSeeder, SeederConfig, StartupFailure};
use rand_core::TryRng;

/// 20,000 deltas of the default configuration recorded on the reference VM
/// (then with the raw example, now `kqseed raw -n 20000 --format u64le -o OUT`).
fn recorded() -> Vec<u64> {
    include_bytes!("data/recorded/default-epoll-kvm.deltas")
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect()
}

#[test]
fn a_coarse_clock_is_refused_at_start_up() {
    // The same wakeups seen through a clock that counts whole milliseconds.
    let deltas: Vec<u64> = recorded()
        .iter()
        .map(|&d| (d % 5 + 1) * 1_000_000)
        .collect();
    let mut seeder = KqSeeder::from_replay(SeederConfig::default(), deltas).expect("config");
    let mut out = [0x55u8; 16];
    match seeder.try_fill_bytes(&mut out) {
        Err(Error::Startup(StartupFailure::CoarseClock {
            resolution_ticks,
            median_steps,
            min_median_steps,
        })) => {
            assert_eq!(resolution_ticks, 1_000_000.0);
            assert!(median_steps < min_median_steps);
        }
        other => panic!("expected a coarse-clock refusal, got {other:?}"),
    }
    assert_eq!(out, [0u8; 16], "no output before start-up passes");
    assert!(seeder.stats().startup.is_none());
    assert_eq!(seeder.stats().blocks, 0);
}

#[test]
fn recorded_deltas_pass_and_a_stuck_tail_stops_output_for_good() {
    let mut deltas = recorded();
    deltas.truncate(5000);
    deltas.extend(std::iter::repeat_n(35_000u64, 100));
    let mut seeder = KqSeeder::from_replay(SeederConfig::default(), deltas).expect("config");
    let mut blocks = 0;
    let err = loop {
        match seeder.try_next_u64() {
            Ok(_) => blocks += 1,
            Err(e) => break e,
        }
    };
    // 5000 good samples: the warm-up and start-up window (2304), then about
    // 2700 credited samples, well over ten blocks' worth at any credit the
    // recording backs (its one source is credited up to 1.75 bits).
    assert!(blocks > 10, "{blocks}");
    assert!(matches!(err, Error::Health(f) if f.is_permanent()), "{err}");
    // The replay starts over with good data; the seeder stays failed.
    for _ in 0..10 {
        assert!(matches!(seeder.try_next_u32(), Err(Error::Health(_))));
    }
}

#[test]
fn a_periodic_source_after_a_good_start_is_refused() {
    // The review's repro: recorded deltas through the warm-up, the start-up
    // window and 96 more, then a cycle of four that the RCT and APT pass
    // forever. The predictor test must refuse it.
    let config = SeederConfig::default();
    let good = (config.credit.warmup_samples + config.health.startup_samples) as usize + 96;
    let mut deltas = recorded();
    deltas.truncate(good);
    deltas.extend((0..2_000_000u64).map(|i| 30_000 + (i % 4) * 1000));
    let mut seeder = KqSeeder::from_replay(config, deltas).expect("config");
    let mut released = 0;
    let err = loop {
        let mut block = [0u8; 32];
        match seeder.try_fill_bytes(&mut block) {
            Ok(()) => released += 1,
            Err(e) => break e,
        }
        assert!(released < 500, "500 blocks from a periodic source");
    };
    match err {
        Error::Health(f) => {
            assert!(f.is_permanent(), "{f}");
            assert_eq!(f.test, kqseed::health::HealthTest::PredictorRun, "{f}");
        }
        other => panic!("expected a predictor failure, got {other:?}"),
    }
    // One block from the start-up pool, and at most one from the 96 good
    // samples after it (168 bits at the most a source is credited).
    assert!(released <= 2, "{released} blocks released");
    let health = seeder.stats().health;
    assert_eq!((health.rct_intermittent, health.apt_intermittent), (0, 0));
}

#[test]
fn start_up_refusals_latch_through_the_public_api() {
    // A coarse clock, refused at every start-up: the third refusal latches,
    // and the fourth call collects nothing.
    let deltas: Vec<u64> = recorded()
        .iter()
        .map(|&d| (d % 5 + 1) * 1_000_000)
        .collect();
    let mut seeder = KqSeeder::from_replay(SeederConfig::default(), deltas).expect("config");
    for attempt in 1..=kqseed::MAX_STARTUP_REFUSALS {
        assert!(matches!(seeder.try_next_u32(), Err(Error::Startup(_))));
        assert_eq!(seeder.stats().startup_refusals, attempt);
    }
    let samples = seeder.stats().samples;
    assert!(matches!(seeder.try_next_u32(), Err(Error::Startup(_))));
    assert_eq!(
        seeder.stats().samples,
        samples,
        "a latched seeder collected"
    );
}
