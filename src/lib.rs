#![doc = include_str!("../README.md")]
#![deny(unsafe_code)]

pub mod assess;
mod error;

pub use error::{ConfigError, Error, Result};
