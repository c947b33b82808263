//! kqseed's seeder against the jitterentropy 3.4.1 C library (Stephan
//! Mueller's Jitter RNG, the CPU-timing noise source that Linux, OpenSSL and
//! libgcrypt use), in one process, on the same machine, for 32 bytes:
//!
//! | function | what is timed |
//! |---|---|
//! | `jitterentropy/cold_32_bytes` | `jent_entropy_collector_alloc(0, 0)`, `jent_read_entropy` of 32 bytes, `jent_entropy_collector_free` |
//! | `jitterentropy_fips/cold_32_bytes` | the same with `JENT_FORCE_FIPS` (health tests on) |
//! | `kqseed/cold_32_bytes_with_drop` | `KqSeeder::new().key::<32>()` on a temporary, dropped inside the timing |
//! | `jitterentropy/warm_32_bytes`, `jitterentropy_fips/warm_32_bytes` | `jent_read_entropy` of 32 bytes on one kept collector |
//! | `kqseed/warm_32_bytes` | `key::<32>()` on one kept seeder |
//! | `kqseed_2_collectors/...` | the same two with `SeederConfig::collectors` 2 (opt-in: two queues on two threads, each block joined from their shares) |
//! | `jitterentropy/power_up_test` | `jent_entropy_init_ex(0, 0)`: the 1024-sample power-up test |
//!
//! The two cold figures do not cover the same work. jitterentropy runs its
//! SP 800-90B power-up test (1024 time deltas, `JENT_POWERUP_TESTLOOPCOUNT`)
//! once per process, in `jent_entropy_init_ex`, which this bench calls
//! before timing; its cold instance then fills its pool once and
//! conditions one block. kqseed runs its 1024-sample start-up test for
//! every seeder, inside the cold figure. `jitterentropy/power_up_test`
//! times that once-per-process test, so that the two can be set side by
//! side.
//!
//! Criterion runs the functions one after the other (cold ones first, then
//! warm ones). Before them, an interleaved pass (15 cold rounds, then 50
//! warm rounds, each round one call of each of the three) prints medians,
//! so that load that comes and goes touches all three alike; that is how
//! the figures of issue 12 were taken.
//!
//! Why `-O0`: jitterentropy's noise is the execution time of its own
//! memory-access and hashing loops. An optimiser shortens or removes them
//! (and so the variation); the library refuses to compile when
//! `__OPTIMIZE__` is defined, and its Makefile builds with `-O0`, as
//! `build.rs` does. The figures are those of the library as shipped, not
//! of a C compiler's best. kqseed is built with the bench profile as usual.
//!
//! The timer: upstream's `jent_get_nstime` reads the CPU's counter on x86
//! (`rdtsc`). Built with `KQSEED_JENT_CLOCK=monotonic-raw` (see `build.rs`)
//! it reads `clock_gettime(CLOCK_MONOTONIC_RAW)`, as kqseed does, so that
//! `scripts/jitterentropy-bench.sh --clock TICK_NS` can run both on one
//! simulated coarse clock (`scripts/lib/coarse-clock.c` preloaded). The
//! header line names the timer compiled in, and says when the library's
//! power-up test found it too coarse and switched to its internal timer
//! thread (then jitterentropy no longer reads the clock at all).
//!
//! Run, from the repository's top:
//!
//! ```text
//! scripts/jitterentropy-bench.sh
//! scripts/jitterentropy-bench.sh --clock 41.6667   # a 24 MHz counter
//! # or, once scripts/fetch-jitterentropy.sh has fetched the C sources:
//! cargo bench --manifest-path benches/jitterentropy/Cargo.toml
//! ```

use std::ffi::{c_char, c_int, c_uint};
use std::hint::black_box;
use std::ptr::NonNull;
use std::time::{Duration, Instant};

use criterion::{
    BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use kqseed::{KqSeeder, SeederConfig};

/// `struct rand_data`, opaque.
#[repr(C)]
struct RandData {
    _private: [u8; 0],
}

// SAFETY: the signatures are jitterentropy.h's, 3.4.1 (the version
// scripts/fetch-jitterentropy.sh fetches and build.rs compiles).
unsafe extern "C" {
    /// `int jent_entropy_init_ex(unsigned int osr, unsigned int flags)`:
    /// self tests and the power-up test; 0 on success.
    fn jent_entropy_init_ex(osr: c_uint, flags: c_uint) -> c_int;
    /// `struct rand_data *jent_entropy_collector_alloc(unsigned int osr,
    /// unsigned int flags)`: NULL on failure.
    fn jent_entropy_collector_alloc(osr: c_uint, flags: c_uint) -> *mut RandData;
    /// `ssize_t jent_read_entropy(struct rand_data *ec, char *data,
    /// size_t len)`: `len`, or a negative error (-1 NULL collector, -2 RCT,
    /// -3 APT, -4 timer, -5 lag predictor).
    fn jent_read_entropy(ec: *mut RandData, data: *mut c_char, len: usize) -> isize;
    /// `void jent_entropy_collector_free(struct rand_data *ec)`.
    fn jent_entropy_collector_free(ec: *mut RandData);
    /// `unsigned int jent_version(void)`: major * 1000000 + minor * 10000 +
    /// patch level * 100.
    fn jent_version() -> c_uint;
    /// `int jent_notime_forced(void)`: not public API, but a global
    /// function of 3.4.1's `jitterentropy-timer.c` (hidden only from
    /// dynamic linking); nonzero once the power-up test has put every
    /// collector on the internal timer thread.
    fn jent_notime_forced() -> c_int;
}

/// `JENT_FORCE_FIPS` (`1<<5`): health tests (RCT, APT, lag predictor) on,
/// as when the kernel is in FIPS mode.
const JENT_FORCE_FIPS: c_uint = 1 << 5;

/// The oversampling rate: 0 is the library's minimum (3 in this build,
/// which has `JENT_CONF_DISABLE_LOOP_SHUFFLE`).
const OSR: c_uint = 0;

/// One jitterentropy collector, freed on drop.
struct Jent(NonNull<RandData>);

impl Jent {
    /// A new collector; `jent_entropy_init_ex` must have succeeded.
    fn new(flags: c_uint) -> Jent {
        // SAFETY: no preconditions (init_ex ran in `init`; alloc reruns it if not).
        let ec = unsafe { jent_entropy_collector_alloc(OSR, flags) };
        Jent(NonNull::new(ec).expect("jent_entropy_collector_alloc returned NULL"))
    }

    /// 32 bytes from the collector.
    fn read32(&mut self) -> [u8; 32] {
        let mut out = [0u8; 32];
        // SAFETY: `self.0` is a live collector on this thread; `out` has 32 writable bytes.
        let n = unsafe { jent_read_entropy(self.0.as_ptr(), out.as_mut_ptr().cast(), out.len()) };
        assert_eq!(
            n, 32,
            "jent_read_entropy failed ({n}: -2 RCT, -3 APT, -5 lag predictor)"
        );
        out
    }
}

impl Drop for Jent {
    fn drop(&mut self) {
        // SAFETY: `self.0` came from jent_entropy_collector_alloc and is freed once, here.
        unsafe { jent_entropy_collector_free(self.0.as_ptr()) }
    }
}

/// The power-up test with `flags`; 0 on success.
fn power_up(flags: c_uint) -> c_int {
    // SAFETY: no preconditions; the bench is single-threaded, no collector is mid-call.
    unsafe { jent_entropy_init_ex(OSR, flags) }
}

/// Initialises jitterentropy for both flag sets and says what is linked.
fn init() {
    for flags in [0, JENT_FORCE_FIPS] {
        let ret = power_up(flags);
        assert_eq!(ret, 0, "jent_entropy_init_ex(0, {flags:#x}) failed: {ret}");
    }
    // SAFETY: no preconditions.
    let v = unsafe { jent_version() };
    // SAFETY: no preconditions; reads a flag set by the power-up test.
    let timer = if unsafe { jent_notime_forced() } != 0 {
        " (too coarse for the power-up test: internal timer thread in use)"
    } else {
        ""
    };
    println!(
        "jitterentropy {}.{}.{} (sources {} in {}), built with -O0, timer {}{timer}",
        v / 1_000_000,
        v / 10_000 % 100,
        v / 100 % 100,
        env!("JENT_SOURCE_VERSION"),
        env!("JENT_SOURCE_DIR"),
        env!("JENT_TIMER"),
    );
}

/// Small sampling for every function, so that the whole bench stays under
/// about two minutes on a loaded two-core machine: 15 samples in `secs`
/// (criterion's linear sampling: 120 iterations in all).
fn configure(group: &mut BenchmarkGroup<'_, WallTime>, secs: u64) {
    group.sample_size(15);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(secs));
}

fn median_ms(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1e3
}

/// Round-robin outside criterion: per round one call of each, in turn.
fn interleaved(_: &mut Criterion) {
    init();
    // `cargo test` runs the bench once in test mode: one round is enough.
    let bench = std::env::args().any(|a| a == "--bench");
    let (cold_rounds, warm_rounds) = if bench { (15, 50) } else { (1, 1) };
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        f();
        start.elapsed()
    };
    let mut cold: [Vec<Duration>; 4] = Default::default();
    for _ in 0..cold_rounds {
        cold[0].push(time(&mut || {
            black_box(Jent::new(0).read32());
        }));
        cold[1].push(time(&mut || {
            black_box(Jent::new(JENT_FORCE_FIPS).read32());
        }));
        cold[2].push(time(&mut || {
            drop(black_box(KqSeeder::new().key::<32>().expect("seed")));
        }));
        cold[3].push(time(&mut || {
            drop(black_box(two_collectors().key::<32>().expect("seed")));
        }));
    }
    let (mut jent, mut fips, mut seeder, mut two) = (
        Jent::new(0),
        Jent::new(JENT_FORCE_FIPS),
        KqSeeder::new(),
        two_collectors(),
    );
    jent.read32();
    fips.read32();
    seeder.key::<32>().expect("start-up");
    two.key::<32>().expect("start-up");
    let mut warm: [Vec<Duration>; 4] = Default::default();
    for _ in 0..warm_rounds {
        warm[0].push(time(&mut || {
            black_box(jent.read32());
        }));
        warm[1].push(time(&mut || {
            black_box(fips.read32());
        }));
        warm[2].push(time(&mut || {
            drop(black_box(seeder.key::<32>().expect("seed")))
        }));
        warm[3].push(time(&mut || {
            drop(black_box(two.key::<32>().expect("seed")))
        }));
    }
    let names = [
        "jitterentropy",
        "jitterentropy_fips",
        "kqseed",
        "kqseed_2_collectors",
    ];
    for (i, name) in names.iter().enumerate() {
        let cold_name = if i >= 2 {
            "cold_32_bytes_with_drop"
        } else {
            "cold_32_bytes"
        };
        println!(
            "interleaved {name}/{cold_name}: median {:.2} ms ({cold_rounds} runs); \
             {name}/warm_32_bytes: median {:.2} ms ({warm_rounds} calls)",
            median_ms(cold[i].clone()),
            median_ms(warm[i].clone()),
        );
    }
}

/// kqseed's opt-in mode with two collectors, each on its own thread.
fn two_collectors() -> KqSeeder {
    KqSeeder::with_config(SeederConfig::default().with_collectors(2)).expect("config")
}

/// jitterentropy's two modes, by bench group name and flags.
const JENT_MODES: [(&str, c_uint); 2] = [
    ("jitterentropy", 0),
    ("jitterentropy_fips", JENT_FORCE_FIPS),
];

fn cold(c: &mut Criterion) {
    for (name, flags) in JENT_MODES {
        let mut group = c.benchmark_group(name);
        configure(&mut group, 4);
        // The collector is dropped (freed) inside the timing.
        group.bench_function("cold_32_bytes", |b| b.iter(|| Jent::new(flags).read32()));
        group.finish();
    }
    let mut group = c.benchmark_group("kqseed");
    // Cold seeds of a few milliseconds each (35-40 ms before per-path
    // sampling).
    configure(&mut group, 6);
    // As a caller pays it: queue opened, start-up test, first block, and
    // the seeder's drop (its inotify fd is closed on a background thread).
    group.bench_function("cold_32_bytes_with_drop", |b| {
        b.iter(|| KqSeeder::new().key::<32>().expect("seed"));
    });
    group.finish();
    let mut group = c.benchmark_group("kqseed_2_collectors");
    configure(&mut group, 6);
    group.bench_function("cold_32_bytes_with_drop", |b| {
        b.iter(|| two_collectors().key::<32>().expect("seed"));
    });
    group.finish();
}

fn warm(c: &mut Criterion) {
    for (name, flags) in JENT_MODES {
        let mut group = c.benchmark_group(name);
        configure(&mut group, 4);
        let mut ec = Jent::new(flags);
        ec.read32();
        group.bench_function("warm_32_bytes", |b| b.iter(|| ec.read32()));
        group.finish();
    }
    let mut group = c.benchmark_group("kqseed");
    configure(&mut group, 4);
    let mut seeder = KqSeeder::new();
    seeder.key::<32>().expect("start-up");
    group.bench_function("warm_32_bytes", |b| {
        b.iter(|| seeder.key::<32>().expect("seed"))
    });
    group.finish();
    let mut group = c.benchmark_group("kqseed_2_collectors");
    configure(&mut group, 4);
    let mut two = two_collectors();
    two.key::<32>().expect("start-up");
    group.bench_function("warm_32_bytes", |b| {
        b.iter(|| two.key::<32>().expect("seed"))
    });
    group.finish();
}

/// jitterentropy's once-per-process power-up test, for comparison with
/// kqseed's per-seeder start-up test inside its cold figure.
fn power_up_test(c: &mut Criterion) {
    let mut group = c.benchmark_group("jitterentropy");
    configure(&mut group, 4);
    group.bench_function("power_up_test", |b| {
        b.iter(|| assert_eq!(power_up(0), 0, "jent_entropy_init_ex failed"));
    });
    group.finish();
}

criterion_group!(benches, interleaved, cold, warm, power_up_test);
criterion_main!(benches);
