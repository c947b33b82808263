//! NIST SP 800-90B arithmetic in pure Rust: the min-entropy estimators of
//! section 6.3 (the non-IID track), the restart tests of section 3.1.4 and
//! the cutoffs of the continuous health tests of section 4.4.
//!
//! * [`assess`] runs the ten estimators the way NIST's `ea_non_iid` 1.1.7
//!   does (literal and bitstring data sets, the same skips and caps, with
//!   the few departures the module lists, each towards less entropy or an
//!   error) and agrees with it to a relative 1.52e-13 on the reference files under this
//!   crate's `tests/data/sp800-90b/`; [`assess::restart`] is `ea_restart`'s
//!   sanity check and row/column assessment. Each estimator is also a
//!   function of its own ([`assess::mcv()`], [`assess::lz78y()`], ...).
//! * [`cutoffs`] gives the Repetition Count and Adaptive Proportion Test
//!   cutoffs for a credited min-entropy `H` and a false-positive rate
//!   `alpha`, computed from the standard's formulas rather than looked up.
//!
//! Not here: the IID track (section 5's permutation and chi-square tests)
//! and anything that collects samples. No I/O, no clock, no `unsafe`, no
//! OS-specific code: the crate builds for every target with `std`, wasm
//! included. The estimators spread over threads when the data is large
//! ([`assess::AssessOptions::threads`]); where no thread can be started (a
//! wasm target without threads) set it to one
//! ([`with_threads`](assess::AssessOptions::with_threads)`(NonZeroUsize::new(1))`).
//!
//! ```
//! use sp800_90b::assess::{AssessOptions, assess_with};
//! use sp800_90b::cutoffs::{apt_cutoff, rct_cutoff};
//!
//! // 20,000 8-bit samples of a poor source: a short cycle with a little
//! // noise in it.
//! let mut x = 1u32;
//! let data: Vec<u8> = (0..20_000u32)
//!     .map(|i| {
//!         x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
//!         (i % 8) as u8 * 16 + (x >> 30) as u8
//!     })
//!     .collect();
//! let report = assess_with(&data, 8, &AssessOptions::default())?;
//! // Far below the 8 bits a sample's width suggests.
//! assert!(report.assessed < 3.0, "{}", report.assessed);
//!
//! // Health-test cutoffs for a source credited 1 bit per sample, alpha 2^-30.
//! assert_eq!(rct_cutoff(1.0, 30), Ok(31));
//! assert_eq!(apt_cutoff(512, 1.0, 30), Ok(325));
//! # Ok::<(), sp800_90b::assess::AssessError>(())
//! ```
//!
//! This crate began as the assessment code of `kqseed`, a seeder that
//! draws on kernel event-queue timing; `kqseed` re-exports it as
//! `kqseed::assess` and builds its health tests on [`cutoffs`].

pub mod assess;
pub mod cutoffs;
#[cfg(test)]
mod test_util;

// The README's example runs as a doctest too.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
