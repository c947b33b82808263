#![doc = include_str!("../README.md")]
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
    KqueueEventsConfig, MAX_EVENTS_PER_WAIT, MAX_SOURCES_PER_TYPE, MAX_TIMEOUT, MAX_TIMER_INTERVAL,
    MIN_TIMER_INTERVAL, Sampling, SeederConfig,
};
pub use credit::{
    CREDIT_STEP, CreditPolicy, DEFAULT_ALLOWANCE, DEFAULT_WARMUP_SAMPLES, MIN_MEDIAN_STEPS, ceiling,
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
pub use sources::{NoiseSources, PerPath, SourceStats};
pub use startup::{
    INTERLEAVED_ESTIMATORS, MAX_ZERO_DELTAS_PERCENT, MIN_HALF_SAMPLES, STARTUP_ESTIMATORS,
    SourceStartup, StartupReport, detect_step, startup_checks,
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
/// this process (feature `getrandom-custom`; see the README's "Use it with
/// ..."). For diagnostics and tests: a binary can check that its dependency
/// tree really draws from kqseed.
#[cfg(feature = "getrandom-custom")]
pub fn getrandom_backend_calls() -> u64 {
    sys::getrandom_custom::calls()
}
