//! Seeds for `rand` generators and keys from the timing jitter of a kernel
//! event queue: timers, socket-pair readiness and watched temporary files
//! multiplexed on one kqueue (Apple, the BSDs) or epoll (Linux, Android)
//! instance, a fine monotonic clock read around every kernel path of the
//! loop, SP 800-90B health tests on every sample and SHA-256 conditioning
//! with honest entropy accounting. A failing source yields an error, never
//! output.
//!
//! kqseed is for seeding, and for people who assess entropy sources. It is
//! not a replacement for the operating system's generator (`getrandom`),
//! which is faster and has more entropy sources: use it where you want a
//! second, independent, measured source.
//!
//! ```
//! use rand_core::{Rng, TryRng};
//!
//! // Any rand_core 0.10 `SeedableRng`, seeded from conditioned blocks.
//! let mut seeded: chacha20::ChaCha20Rng = kqseed::KqSeeder::new().seed_rng()?;
//! let _ = seeded.next_u64();
//!
//! // Key material, wiped on drop.
//! let key = kqseed::KqSeeder::new().key::<32>()?;
//!
//! // A ChaCha20 generator reseeded in the background: infallible and
//! // thread-local for rand's APIs, or fallible.
//! let _ = kqseed::rng().next_u32();
//! let mut rng = kqseed::KqRng::new()?;
//! let _ = rng.try_next_u64()?;
//! # assert_ne!(*key, [0u8; 32]);
//! # Ok::<(), kqseed::Error>(())
//! ```
//!
//! # Where things are
//!
//! * [`KqSeeder`]: the seeder, a rand_core [`TryRng`](rand_core::TryRng) +
//!   [`TryCryptoRng`](rand_core::TryCryptoRng) over 32-byte conditioned
//!   blocks; [`KqSeeder::seed_rng`], [`KqSeeder::key`]. Configured by
//!   [`SeederConfig`] (event sources [`KqueueEventsConfig`], health tests
//!   [`HealthConfig`], credit [`CreditPolicy`]).
//! * [`KqRng`], [`rng()`], [`reseed()`]: the reseeding generator (see
//!   [below](#use-it-as-your-generator)), configured by [`GeneratorConfig`].
//! * [`Collector`]: the raw timing deltas, one per kernel path
//!   ([`KernelPath`]) of each pass, for study.
//! * [`health`]: the SP 800-90B Repetition Count and Adaptive Proportion
//!   tests and kqseed's lag-predictor test, one set per noise source
//!   ([`NoiseSources`]); [`startup_checks`] decides each source's credit.
//! * [`conditioner`]: SHA-256 and its entropy accounting.
//! * [`assess`]: the SP 800-90B section 6.3 estimators, matching NIST's
//!   `ea_non_iid`. They are the [`sp800_90b`] crate's, which builds on every
//!   target; kqseed itself needs kqueue or epoll.
//!
//! # Features
//!
//! | feature | what it adds |
//! |---|---|
//! | `rand_core_0_6` | rand_core 0.6 `RngCore` + `CryptoRng` for [`KqSeeder`], [`KqRng`], [`ThreadRng`]; `KqSeeder::seed_rng_0_6` (rand 0.8, rand_chacha 0.3, ed25519-dalek 2) |
//! | `rand_core_0_9` | rand_core 0.9 `TryRngCore` + `TryCryptoRng` for [`KqSeeder`] and [`KqRng`], `RngCore` for [`ThreadRng`]; `KqSeeder::seed_rng_0_9` (rand 0.9, rand_chacha 0.9) |
//! | `tokio` | `KqSeeder::seed_rng_async`, `key_async`, `fill_bytes_async`: collect between yields, wait on tokio's blocking pool |
//! | `getrandom-custom` | getrandom 0.3 / 0.4's custom backend, drawing from [`rng()`], for binaries built with `--cfg getrandom_backend="custom"`; `getrandom_backend_calls` |
//! | `cli` | the `kqseed` command (`raw`, `stream`, `report`, `assess`; `assess --restart` runs the restart tests); nothing in the library |
//!
//! # Use it as your generator
//!
//! Seeding costs milliseconds; a generator seeded once and reseeded in the
//! background costs nanoseconds per call. [`KqRng`] (fallible) and
//! [`rng()`] (infallible, one per thread) are ChaCha20, rekeyed from their
//! own keystream after every request (fast key erasure) and reseeded after
//! 64 MiB or 60 s from one seeding service per process, which keeps a
//! stock of seeds collected by a background thread. A forked child never
//! outputs from its parent's key. [`KqRng`] returns every failed reseed;
//! [`rng()`] goes on with its key up to a hard limit and then panics (its
//! docs say when). [`GeneratorConfig`] sets the budgets and the seeder's
//! configuration ([`KqRng::with_config`]).
//!
//! # VM snapshots and clones
//!
//! A snapshot copies every generator's key and the service's stock of
//! seeds; VMs restored from one snapshot then produce the same output until
//! each generator reseeds. Nothing inside the process sees a restore: call
//! [`reseed()`] in the code that runs after one. Every generator then
//! reseeds from a seed collected after the call before its next output.
//!
//! # Platforms and claims
//!
//! epoll on Linux and Android; kqueue on macOS, iOS, FreeBSD, NetBSD,
//! OpenBSD and DragonFly; elsewhere the crate does not compile. The entropy
//! claim (each noise source credited at most half of what the SP 800-90B
//! estimators assess for it, under the conditions measured), its premises
//! and its limits are in
//! [SECURITY.md](https://docs.rs/crate/kqseed/latest/source/SECURITY.md);
//! the measurements, the design notes and the `kqseed` command's manual in
//! [README.md](https://docs.rs/crate/kqseed/latest/source/README.md) and
//! `docs/` beside it.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code)]

// The SP 800-90B estimators are the `sp800-90b` crate's, re-exported at the
// path they always had.
pub use sp800_90b::assess;
#[cfg(feature = "tokio")]
mod asynchronous;
mod collector;
#[cfg(any(feature = "rand_core_0_6", feature = "rand_core_0_9"))]
mod compat;
pub mod conditioner;
mod config;
mod credit;
mod error;
mod generator;
pub mod health;
mod pipeline;
mod resolution;
mod seeder;
mod sources;
mod startup;
#[allow(unsafe_code)]
mod sys;
#[cfg(test)]
mod test_util;

pub use collector::{
    ClockInfo, Collector, CollectorStats, EventCounts, KernelPath, MAX_COLLECT_SAMPLES, Sample,
};
pub use config::{
    ADAPT_BELOW_EXPIRATIONS_PER_TIMER_EVENT, ADAPT_TARGET_EXPIRATIONS_PER_TIMER_EVENT,
    KqueueEventsConfig, MAX_COLLECTORS, MAX_EVENTS_PER_WAIT, MAX_SOURCES_PER_TYPE, MAX_TIMEOUT,
    MAX_TIMER_INTERVAL, MIN_ADAPTED_TIMER_INTERVAL, MIN_TIMER_INTERVAL, Sampling, SeederConfig,
};
pub use credit::{
    CREDIT_STEP, CreditPolicy, DEFAULT_ALLOWANCE, DEFAULT_WARMUP_SAMPLES,
    MAX_EXPIRATIONS_COUNTED_PER_TIMER_EVENT, MIN_EXPIRATIONS_PER_TIMER_EVENT, MIN_MEDIAN_STEPS,
    MIN_SHORT_MEDIAN_STEPS, MIN_STARTUP_EXPIRATIONS_PER_TIMER_EVENT, PASS_ROW_KERNEL_PATHS,
    ceiling, pass_ceiling,
};
pub use error::{ConfigError, Error, Result, StartupFailure};
pub use generator::{
    DEFAULT_HARD_LIMIT_FACTOR, DEFAULT_RESEED_AFTER, DEFAULT_RESEED_AFTER_BYTES, GeneratorConfig,
    GeneratorStats, KqRng, ThreadRng, reseed, rng,
};
pub use health::{HealthConfig, HealthFailure};
pub use pipeline::MAX_STARTUP_REFUSALS;
pub use resolution::{detect_resolution, symbol};
pub use seeder::{KqSeeder, RawSamples, SeederStats};
pub use sources::{NoiseSources, PACE_WINDOW_TIMER_EVENTS, PerPath, SourceStats};
pub use startup::{
    INTERLEAVED_ESTIMATORS, MAX_ZERO_DELTAS_PERCENT, MIN_HALF_SAMPLES,
    MIN_PATHS_GAIN_OVER_WHOLE_PASSES, MIN_THIRDS_KERNEL_PATHS, MIN_WHOLE_PASSES, PassCut, PassSums,
    STARTUP_ESTIMATORS, STARTUP_TEST_WHOLE_PASSES, SourceStartup, StartupReport, ThirdSums,
    detect_step, startup_checks,
};

// What callers move between threads is `Send + Sync` on every backend; the
// seven-target check and the libkqueue build compile this too.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Collector>();
    send_sync::<KqSeeder>();
    send_sync::<KqRng>();
    send_sync::<Error>();
};

/// How this process detects `fork()`: `"MADV_WIPEONFORK page"` on Linux and
/// Android, `"minherit(INHERIT_ZERO) page"` on FreeBSD, NetBSD and OpenBSD,
/// `"pthread_atfork"` on Apple and DragonFly, `"pthread_atfork + getpid"` on
/// a Linux kernel (or emulator) without `MADV_WIPEONFORK`. SECURITY.md says
/// what each catches.
pub fn fork_detection() -> Result<&'static str> {
    sys::fork::mechanism().map(|m| m.name())
}

/// How many times getrandom 0.3 or 0.4 called kqseed's custom backend in
/// this process (feature `getrandom-custom`). For diagnostics and tests: a
/// binary can check that its dependency tree really draws from kqseed.
///
/// The backend takes effect in a binary built with
/// `RUSTFLAGS='--cfg getrandom_backend="custom"'` that names this crate
/// (`use kqseed as _;`), or the linker drops it.
///
/// # Errors getrandom's callers see
///
/// The backend draws from [`rng()`]'s fallible path, so a kqseed failure
/// reaches getrandom's caller as an error, never a panic: a
/// `getrandom::Error` whose code is getrandom's `Error::CUSTOM_START` plus
/// (getrandom has no public way to carry an errno from a custom backend)
///
/// | offset | kqseed error |
/// |---|---|
/// | 1 | [`Error::Config`] |
/// | 2 | [`Error::Os`] (an OS call failed) |
/// | 3 | [`Error::TempDir`] |
/// | 4 | [`Error::Event`] |
/// | 5 | [`Error::WaitTimedOut`] |
/// | 6 | [`Error::Health`] (a health test failed) |
/// | 7 | [`Error::Startup`] (start-up refused the source) |
/// | 8 | [`Error::TooLarge`] and anything else |
#[cfg(feature = "getrandom-custom")]
#[cfg_attr(docsrs, doc(cfg(feature = "getrandom-custom")))]
pub fn getrandom_backend_calls() -> u64 {
    sys::getrandom_custom::calls()
}

// README.md is not the crate documentation, but its code blocks are
// compiled and run as doctests all the same, and so is each line of its
// "Use it with ..." table.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
#[cfg(doctest)]
mod use_it_with;
