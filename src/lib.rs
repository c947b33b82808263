#![doc = include_str!("../README.md")]
#![deny(unsafe_code)]

pub mod assess;
mod collector;
#[cfg(any(feature = "rand_core_0_6", feature = "rand_core_0_9"))]
mod compat;
pub mod conditioner;
mod config;
mod error;
pub mod health;
mod seeder;
#[allow(unsafe_code)]
mod sys;
#[cfg(test)]
mod test_util;

pub use collector::{
    ClockInfo, Collector, CollectorStats, EventCounts, Sample, detect_step, symbol,
};
pub use config::{
    KqueueEventsConfig, MAX_EVENTS_PER_WAIT, MAX_SOURCES_PER_TYPE, MAX_TIMEOUT, MAX_TIMER_INTERVAL,
    MIN_TIMER_INTERVAL,
};
pub use error::{ConfigError, Error, Result, StartupFailure};
pub use health::{HealthConfig, HealthFailure};
pub use seeder::{
    KqSeeder, MAX_ZERO_DELTAS_PERCENT, MIN_SPREAD_STEPS, RawSamples, STARTUP_ESTIMATORS,
    SeederConfig, SeederStats, StartupReport, startup_checks,
};
