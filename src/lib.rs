#![doc = include_str!("../README.md")]
#![deny(unsafe_code)]

pub mod assess;
pub mod conditioner;
mod error;
pub mod health;

pub use error::{ConfigError, Error, Result};
pub use health::{HealthConfig, HealthFailure};
