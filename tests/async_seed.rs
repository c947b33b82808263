//! Async seeding (feature `tokio`): a seed collected on a current-thread
//! runtime must leave the runtime free for other tasks, and pass the same
//! start-up checks and health tests as a blocking seed.
#![cfg(feature = "tokio")]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kqseed::KqSeeder;
use rand_chacha::ChaCha20Rng;
use rand_core::Rng;

#[test]
fn an_async_seed_leaves_the_runtime_to_other_tasks() {
    // With every driver, and with the timer alone (no IO driver, where
    // registering an AsyncFd would panic inside tokio).
    for io in [true, false] {
        let mut builder = tokio::runtime::Builder::new_current_thread();
        builder.enable_time();
        if io {
            builder.enable_io();
        }
        seed_while_another_task_ticks(builder.build().expect("runtime"));
    }
}

fn seed_while_another_task_ticks(rt: tokio::runtime::Runtime) {
    let ticks = Arc::new(AtomicU64::new(0));
    let (during, elapsed, stats, mut rng) = rt.block_on(async {
        let t = ticks.clone();
        let ticker = tokio::spawn(async move {
            loop {
                t.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_micros(500)).await;
            }
        });
        tokio::task::yield_now().await;
        let before = ticks.load(Ordering::Relaxed);
        let started = std::time::Instant::now();
        let mut seeder = KqSeeder::new();
        let rng: ChaCha20Rng = seeder.seed_rng_async().await.expect("async seed");
        // Long enough (128 blocks: 0.2-0.3 s in a debug build here) that a
        // seed that blocked the runtime would leave the ticker nearly idle.
        let mut bytes = vec![0u8; 128 * 32];
        seeder
            .fill_bytes_async(&mut bytes)
            .await
            .expect("async fill");
        assert!(bytes.iter().any(|&b| b != 0));
        let elapsed = started.elapsed();
        let during = ticks.load(Ordering::Relaxed) - before;
        ticker.abort();
        (during, elapsed, seeder.stats(), rng)
    });
    // With the runtime free, the 500 us ticker (tokio's timer counts whole
    // milliseconds) runs about once a millisecond; at least one tick per
    // 4 ms is asked. Blocking, it would run once or twice in all.
    let expected = (elapsed.as_millis() / 4) as u64;
    assert!(
        during >= expected.max(5),
        "only {during} ticks ran during {elapsed:?} of async seeding"
    );
    let startup = stats.startup.expect("the start-up checks ran");
    let allowance = kqseed::CreditPolicy::default().allowance;
    for s in startup.sources.values() {
        assert!(s.estimate >= 2.0 * allowance * s.credit, "{s:?}");
    }
    assert!(stats.health.started);
    assert_eq!(
        stats.blocks,
        1 + 128,
        "one block for the seed, 128 for the fill"
    );
    // Every block needs 320 credited bits from samples after the warm-up.
    assert!(
        stats.credited_bits >= 320.0 * 129.0,
        "{} bits credited",
        stats.credited_bits
    );
    let _ = rng.next_u64();
    println!("ticks during {elapsed:?} of async seeding: {during}; {stats:?}");
}

#[test]
fn an_async_seed_works_outside_a_tokio_runtime() {
    // A plain executor (no reactor): the calls still work, waiting in place
    // when the queue is empty.
    let mut seeder = KqSeeder::new();
    let key = futures_lite_block_on(seeder.key_async::<32>()).expect("key");
    assert_ne!(*key, [0u8; 32]);
}

#[test]
fn an_async_failure_is_the_same_typed_error() {
    let config = kqseed::SeederConfig::default().with_events(
        kqseed::KqueueEventsConfig::default().with_temp_dir("/nonexistent/kqseed-test"),
    );
    let mut seeder = KqSeeder::with_config(config).expect("config");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut out = [0x55u8; 32];
    let err = rt
        .block_on(seeder.fill_bytes_async(&mut out))
        .expect_err("no directory");
    assert!(matches!(err, kqseed::Error::TempDir { .. }), "{err:?}");
    assert_eq!(out, [0u8; 32], "a failed call leaves nothing behind");
}

/// A minimal executor: polls the future on this thread, parking between
/// polls, with no tokio context.
fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park_timeout(Duration::from_millis(1));
    }
}

#[test]
fn an_async_seed_waits_for_a_slow_queue_without_hanging() {
    // One 200 us timer and nothing else: each readiness brings one event,
    // then the queue is empty, so the task waits on the blocking pool for
    // the next. (Each event must still pair with the previous return.)
    let config = kqseed::SeederConfig::default().with_events(
        kqseed::KqueueEventsConfig::default()
            // At least one tick where timers count ticks (NetBSD, OpenBSD,
            // DragonFly).
            .with_timer_intervals(vec![
                Duration::from_micros(200).max(
                    kqseed::KqueueEventsConfig::timer_tick()
                        .expect("the timer tick")
                        .unwrap_or_default(),
                ),
            ])
            .with_num_sockets(0)
            .with_num_file_watchers(0),
    );
    let mut seeder = KqSeeder::with_config(config).expect("config");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    match rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(30), seeder.key_async::<32>()).await
    }) {
        Ok(Ok(key)) => assert_ne!(*key, [0u8; 32]),
        // The start-up checks may refuse a bare timer on some machines;
        // what must not happen is a hang.
        Ok(Err(kqseed::Error::Startup(_))) => {}
        Ok(Err(e)) => panic!("{e}"),
        Err(_) => panic!("the async seed hung on a queue with one event per readiness"),
    }
    assert!(seeder.stats().samples >= 1024, "{:?}", seeder.stats());
}
