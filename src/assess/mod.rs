//! NIST SP 800-90B section 6.3 min-entropy estimators (the non-IID track),
//! matching NIST's `ea_non_iid` 1.1.7.
//!
//! Pure code: no I/O, no clock. Every estimator takes a slice of symbols and
//! the size of their alphabet and returns an [`Estimate`].
//!
//! (Skeleton: the framework and estimators land in follow-up commits.)

/// The ten estimators of SP 800-90B section 6.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Estimator {
    /// 6.3.1 Most Common Value.
    Mcv,
    /// 6.3.2 Collision (binary data only).
    Collision,
    /// 6.3.3 Markov (binary data only).
    Markov,
    /// 6.3.4 Compression (binary data only).
    Compression,
    /// 6.3.5 t-Tuple.
    TTuple,
    /// 6.3.6 Longest Repeated Substring.
    Lrs,
    /// 6.3.7 Multi Most Common in Window prediction.
    MultiMcw,
    /// 6.3.8 Lag prediction.
    Lag,
    /// 6.3.9 Multi Markov Model with Counting prediction.
    MultiMmc,
    /// 6.3.10 LZ78Y prediction.
    Lz78y,
}

/// One estimator's result on one data set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Which estimator produced it.
    pub estimator: Estimator,
    /// The upper bound on the probability of the most likely outcome that the
    /// estimator settled on (`p_u`, `p`, or `max(1/k, P'_global, P_local)`).
    pub p_max: f64,
    /// `-log2(p_max)`, per symbol of the data set it ran on (per bit for
    /// binary data), capped where the standard caps it.
    pub min_entropy: f64,
}

/// Why an assessment could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AssessError {
    /// No symbols at all.
    Empty,
    /// Symbol width outside 1..=8 bits.
    BadWidth {
        /// The width asked for.
        bits: u8,
    },
    /// A symbol does not fit in the given width (or alphabet).
    SymbolTooWide {
        /// Position of the first offending symbol.
        index: usize,
        /// Its value.
        value: u8,
        /// The width it should fit in.
        bits: u8,
    },
    /// An estimator that runs on binary data only was given wider symbols.
    NotBinary {
        /// The estimator.
        estimator: Estimator,
    },
    /// Too few symbols for this estimator.
    TooFewSamples {
        /// The estimator.
        estimator: Estimator,
        /// The least it needs.
        needed: usize,
        /// What it got.
        got: usize,
    },
}
