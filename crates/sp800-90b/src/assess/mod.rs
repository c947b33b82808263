//! NIST SP 800-90B section 6.3 min-entropy estimators (the non-IID track),
//! matching NIST's `ea_non_iid` 1.1.7.
//!
//! Pure code: no I/O, no clock. Each estimator is a function over a slice of
//! symbols (in `0..k`, or 0/1 for the binary-only ones) that returns an
//! [`Estimate`]; [`assess`] runs them the way `ea_non_iid` does:
//!
//! * The **literal** data set is the samples themselves. When fewer than
//!   `2^bits` distinct values occur they are renumbered `0..k` in increasing
//!   order (`k` = number of distinct values, the predictors' `1/k` floor).
//! * When more than two distinct values occur, the **bitstring** data set
//!   expands every sample, un-renumbered, into `bits` binary symbols, most
//!   significant bit first. Data with exactly two distinct values is binary
//!   already: the tool (and this module) then assesses the literal set only,
//!   and runs the binary-only estimators (Collision, Markov, Compression) on it.
//! * `H_original` = min over the literal estimates (at most `bits`),
//!   `H_bitstring` = min over the bitstring estimates (at most 1), and the
//!   assessed min-entropy per sample is `min(bits, H_original, bits × H_bitstring)`.
//!
//! Where this module departs from the tool, it does so towards less
//! entropy or an error, never more:
//!
//! * an estimator the data is too short for is an error by default, where
//!   the tool skips it silently (MultiMCW under 4,096 samples, say);
//!   [`AssessOptions::with_skip_too_short`] skips it as the tool does;
//! * Compression needs two test blocks, 6,012 bits, where the tool takes
//!   6,006 (over one, the standard deviation the bound needs is
//!   undefined: [`compression::COMPRESSION_MIN_BITS`]);
//! * a sample wider than `bits` is [`AssessError::SymbolTooWide`], where
//!   the tool masks it;
//! * a search whose statistic turns non-finite gives no entropy for that
//!   estimator rather than full entropy;
//! * a bitstring limit under two bits is
//!   [`AssessError::BitstringLimitTooSmall`], and a bitstring too large for
//!   memory is [`AssessError::BitstringTooLarge`], where the tool has no
//!   such limits (its `-t` keeps a million bits).
//!
//! The restart tests of section 3.1.4 (`ea_restart`) are in [`restart`].
//!
//! ```
//! use sp800_90b::assess::{assess, Estimator};
//! // 20,000 samples of a 4-bit counter: very predictable.
//! let data: Vec<u8> = (0..20_000u32).map(|i| (i % 16) as u8).collect();
//! let report = assess(&data, 4).unwrap();
//! assert!(report.assessed < 0.5);
//! assert!(report.literal.iter().any(|e| e.estimator == Estimator::Mcv));
//! ```

use core::fmt;
use core::num::NonZeroUsize;
use std::sync::{Condvar, Mutex, mpsc};

use zeroize::{Zeroize, Zeroizing};

pub mod collision;
pub mod compression;
pub mod markov;
pub mod mcv;
pub mod predictors;
pub mod restart;
pub mod tuple;

pub use collision::collision;
pub use compression::compression;
pub use markov::markov;
pub use mcv::{McvDetail, mcv, mcv_detail};
pub use predictors::{lag, lz78y, multi_mcw, multi_mmc};
pub use tuple::{lrs, t_tuple, t_tuple_and_lrs};

/// `Z_alpha` for the 99% upper confidence bounds of SP 800-90B section 6.3
/// (the standard's 2.576, at the precision `ea_non_iid` uses). Public so
/// that a bound computed outside this crate (an MCV bound over a running
/// count, say) uses the same constant.
#[allow(
    clippy::excessive_precision,
    reason = "spelled as in ea_non_iid's ZALPHA so the two can be compared by eye"
)]
pub const Z_99: f64 = 2.5758293035489008;

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

impl Estimator {
    /// All ten, in the order of SP 800-90B (and of `ea_non_iid`'s output).
    pub const ALL: [Estimator; 10] = [
        Estimator::Mcv,
        Estimator::Collision,
        Estimator::Markov,
        Estimator::Compression,
        Estimator::TTuple,
        Estimator::Lrs,
        Estimator::MultiMcw,
        Estimator::Lag,
        Estimator::MultiMmc,
        Estimator::Lz78y,
    ];

    /// The section of SP 800-90B that defines it, e.g. `"6.3.1"`.
    pub fn section(self) -> &'static str {
        match self {
            Estimator::Mcv => "6.3.1",
            Estimator::Collision => "6.3.2",
            Estimator::Markov => "6.3.3",
            Estimator::Compression => "6.3.4",
            Estimator::TTuple => "6.3.5",
            Estimator::Lrs => "6.3.6",
            Estimator::MultiMcw => "6.3.7",
            Estimator::Lag => "6.3.8",
            Estimator::MultiMmc => "6.3.9",
            Estimator::Lz78y => "6.3.10",
        }
    }

    /// The name `ea_non_iid` gives it in its `-vv` lines (`"Most Common
    /// Value"`, `"t-Tuple"`, `"LZ78Y Prediction"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Estimator::Mcv => "Most Common Value",
            Estimator::Collision => "Collision",
            Estimator::Markov => "Markov",
            Estimator::Compression => "Compression",
            Estimator::TTuple => "t-Tuple",
            Estimator::Lrs => "LRS",
            Estimator::MultiMcw => "MultiMCW Prediction",
            Estimator::Lag => "Lag Prediction",
            Estimator::MultiMmc => "MultiMMC Prediction",
            Estimator::Lz78y => "LZ78Y Prediction",
        }
    }

    /// A short lower-case key, as the command line takes it: `mcv`,
    /// `collision`, `markov`, `compression`, `t-tuple`, `lrs`, `multi-mcw`,
    /// `lag`, `multi-mmc`, `lz78y`.
    pub fn key(self) -> &'static str {
        match self {
            Estimator::Mcv => "mcv",
            Estimator::Collision => "collision",
            Estimator::Markov => "markov",
            Estimator::Compression => "compression",
            Estimator::TTuple => "t-tuple",
            Estimator::Lrs => "lrs",
            Estimator::MultiMcw => "multi-mcw",
            Estimator::Lag => "lag",
            Estimator::MultiMmc => "multi-mmc",
            Estimator::Lz78y => "lz78y",
        }
    }

    /// Parses [`Estimator::key`] (case-insensitive; `_` works for `-`).
    pub fn from_key(key: &str) -> Option<Estimator> {
        let key = key.trim().to_ascii_lowercase().replace('_', "-");
        Estimator::ALL.into_iter().find(|e| e.key() == key)
    }

    /// Runs on binary data only (6.3.2-6.3.4).
    pub fn binary_only(self) -> bool {
        matches!(
            self,
            Estimator::Collision | Estimator::Markov | Estimator::Compression
        )
    }
}

impl fmt::Display for Estimator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.section())
    }
}

/// One estimator's result on one data set.
///
/// The estimators make these; [`Estimate::new`] makes one by hand. Fields
/// may be added (the struct is `#[non_exhaustive]`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Estimate {
    /// Which estimator produced it.
    pub estimator: Estimator,
    /// The min-entropy per symbol of the data set it ran on (per bit for
    /// binary data), capped where the standard caps it.
    pub min_entropy: f64,
    /// The upper bound on the probability of the most likely outcome that the
    /// estimator settled on (`p_u`, `p`, or `max(1/k, P'_global, P_local)`;
    /// for Markov, the probability of the most likely 128-bit sequence, and
    /// for Compression the most likely 6-bit block).
    pub p_max: f64,
}

impl Estimate {
    /// `estimator`'s estimate of `min_entropy` bits per symbol, from a most
    /// likely outcome of probability `p_max` (see the fields for what each
    /// estimator puts there). The estimators make these; this is for
    /// estimates computed elsewhere, and for tests of code that reads them.
    ///
    /// ```
    /// use sp800_90b::assess::{Estimate, Estimator};
    /// let e = Estimate::new(Estimator::Mcv, 1.0, 0.5);
    /// assert_eq!((e.min_entropy, e.p_max), (1.0, 0.5));
    /// ```
    pub const fn new(estimator: Estimator, min_entropy: f64, p_max: f64) -> Estimate {
        Estimate {
            estimator,
            min_entropy,
            p_max,
        }
    }
}

/// Why an assessment or an estimate could not be made.
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
    /// A symbol does not fit in the given width.
    SymbolTooWide {
        /// Position of the first offending symbol.
        index: usize,
        /// Its value.
        value: u8,
        /// The width it should fit in.
        bits: u8,
    },
    /// The alphabet size `k` given to an estimator is not in `1..=256`:
    /// symbols are bytes, and a larger `k` would let the predictors' `1/k`
    /// floor claim more than 8 bits per symbol.
    BadAlphabet {
        /// The alphabet size asked for.
        k: usize,
    },
    /// A symbol lies outside the alphabet `0..k` an estimator was given.
    SymbolOutOfAlphabet {
        /// Position of the first offending symbol.
        index: usize,
        /// Its value.
        value: u8,
        /// The alphabet size.
        k: usize,
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
    /// More symbols than this estimator can index.
    TooManySamples {
        /// The estimator.
        estimator: Estimator,
        /// The most it takes.
        max: usize,
        /// What it got.
        got: usize,
    },
    /// Only one distinct value occurs: no entropy can be awarded (what
    /// `ea_non_iid` answers too).
    SingleSymbol {
        /// The value.
        value: u8,
    },
    /// The data gives this estimator nothing to work with (for example no
    /// tuple occurs 35 times for t-Tuple); `ea_non_iid` skips it then, and so
    /// does [`assess`].
    NoEstimate {
        /// The estimator.
        estimator: Estimator,
        /// What is missing, in words.
        reason: &'static str,
    },
    /// The options leave nothing to run.
    NothingToRun,
    /// [`AssessOptions::bitstring_limit`] keeps fewer bits than any
    /// estimator can assess (two), so the bitstring the data set needs
    /// cannot be assessed, even with estimators skipped.
    BitstringLimitTooSmall {
        /// The limit asked for.
        limit: usize,
    },
    /// The bitstring of the data (every symbol written as `bits` bits)
    /// does not fit in this target's memory; set
    /// [`AssessOptions::bitstring_limit`] to assess its first bits.
    BitstringTooLarge {
        /// How many symbols the data has.
        symbols: usize,
        /// Bits per symbol.
        bits: u8,
    },
}

impl fmt::Display for AssessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AssessError::Empty => write!(f, "no samples to assess"),
            AssessError::BadWidth { bits } => {
                write!(f, "bits per symbol must be 1 to 8, not {bits}")
            }
            AssessError::SymbolTooWide { index, value, bits } => write!(
                f,
                "sample {index} is {value:#04x}, which does not fit in {bits} bit(s) per symbol"
            ),
            AssessError::BadAlphabet { k } => {
                write!(f, "alphabet size {k} is not in 1..=256")
            }
            AssessError::SymbolOutOfAlphabet { index, value, k } => {
                write!(f, "symbol {index} is {value}, outside the alphabet 0..{k}")
            }
            AssessError::NotBinary { estimator } => {
                write!(f, "{estimator} runs on binary (0/1) data only")
            }
            AssessError::TooFewSamples {
                estimator,
                needed,
                got,
            } => write!(f, "{estimator} needs at least {needed} symbols, got {got}"),
            AssessError::TooManySamples {
                estimator,
                max,
                got,
            } => write!(f, "{estimator} takes at most {max} symbols, got {got}"),
            AssessError::SingleSymbol { value } => write!(
                f,
                "every sample is {value}: one symbol only, no entropy can be awarded"
            ),
            AssessError::NoEstimate { estimator, reason } => {
                write!(f, "{estimator} gives no estimate: {reason}")
            }
            AssessError::NothingToRun => {
                write!(f, "no estimator or data set selected")
            }
            AssessError::BitstringLimitTooSmall { limit } => write!(
                f,
                "a bitstring limit of {limit} bit(s) leaves nothing to assess: \
                 every estimator needs at least 2"
            ),
            AssessError::BitstringTooLarge { symbols, bits } => write!(
                f,
                "the bitstring of {symbols} samples of {bits} bits does not fit \
                 in memory; assess its first bits with a bitstring limit"
            ),
        }
    }
}

impl core::error::Error for AssessError {}

/// Binary symbols packed 64 to a word, the first in the top bit, with a
/// zero word after the last so that [`bits_at`] needs no bounds check at
/// any position; wiped when freed, as it is the data.
pub(crate) fn pack_bits(data: &[u8]) -> Zeroizing<Vec<u64>> {
    let mut words = Zeroizing::new(vec![0u64; data.len() / 64 + 2]);
    for (i, &bit) in data.iter().enumerate() {
        words[i / 64] |= u64::from(bit & 1) << (63 - i % 64);
    }
    words
}

/// The 64 bits of [`pack_bits`]'s `words` from bit `i` (zeros past the end).
#[inline]
pub(crate) fn bits_at(words: &[u64], i: usize) -> u64 {
    let (w, s) = (i / 64, i % 64);
    if s == 0 {
        words[w]
    } else {
        (words[w] << s) | (words[w + 1] >> (64 - s))
    }
}

/// `−log2(p)`, the min-entropy of a most likely outcome of probability `p`;
/// for `p = 1` it is `+0.0`, not the `-0.0` that negating `log2(1)` gives
/// (which would print as "-0.000000").
pub(crate) fn bits_of(p: f64) -> f64 {
    -p.log2() + 0.0
}

/// `Err(TooFewSamples)` unless `data` holds at least `needed` symbols.
pub(crate) fn check_len(
    estimator: Estimator,
    data: &[u8],
    needed: usize,
) -> Result<(), AssessError> {
    if data.len() < needed {
        return Err(AssessError::TooFewSamples {
            estimator,
            needed,
            got: data.len(),
        });
    }
    Ok(())
}

/// The largest alphabet an estimator takes: every byte value.
pub const MAX_ALPHABET: usize = 256;

/// `Err(BadAlphabet)` unless `k` is in `1..=`[`MAX_ALPHABET`], then
/// `Err(SymbolOutOfAlphabet)` unless every symbol is below `k`.
pub(crate) fn check_alphabet(data: &[u8], k: usize) -> Result<(), AssessError> {
    if !(1..=MAX_ALPHABET).contains(&k) {
        return Err(AssessError::BadAlphabet { k });
    }
    match data.iter().position(|&s| usize::from(s) >= k) {
        Some(index) => Err(AssessError::SymbolOutOfAlphabet {
            index,
            value: data[index],
            k,
        }),
        None => Ok(()),
    }
}

/// `Err(NotBinary)` unless every symbol is 0 or 1.
pub(crate) fn check_binary(estimator: Estimator, data: &[u8]) -> Result<(), AssessError> {
    if data.iter().any(|&s| s > 1) {
        return Err(AssessError::NotBinary { estimator });
    }
    Ok(())
}

/// Which of the two data sets an estimate ran on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataSet {
    /// The samples (renumbered to `0..k` when not all values occur).
    Literal,
    /// The samples' bits, most significant first.
    Bitstring,
}

impl fmt::Display for DataSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DataSet::Literal => "Literal",
            DataSet::Bitstring => "Bitstring",
        })
    }
}

/// What [`assess_with`] runs.
///
/// Start from the [`Default`] (what `ea_non_iid FILE bits` runs) and change
/// what you need with the `with_*` methods (the fields are public to read
/// and to assign):
///
/// ```
/// use std::num::NonZeroUsize;
/// use sp800_90b::assess::{AssessOptions, Estimator, assess_with};
///
/// // ea_non_iid -t: the literal set and the first million bits, and
/// // leave out what the data is too short for; here on one thread.
/// let options = AssessOptions::default()
///     .with_estimators([Estimator::Mcv, Estimator::Lag, Estimator::Lz78y])
///     .with_bitstring_limit(Some(1_000_000))
///     .with_skip_too_short(true)
///     .with_threads(NonZeroUsize::new(1));
/// let data: Vec<u8> = (0..2_000u32).map(|i| (i * 7 % 16) as u8).collect();
/// let report = assess_with(&data, 4, &options)?;
/// assert!(report.assessed < 1.0);
/// # Ok::<(), sp800_90b::assess::AssessError>(())
/// ```
///
/// Fields may be added in a minor release (the struct is
/// `#[non_exhaustive]`), so a struct literal does not compile outside this
/// crate, not even one that ends in `..Default::default()`:
///
/// ```compile_fail,E0639
/// use sp800_90b::assess::AssessOptions;
/// let options = AssessOptions {
///     skip_too_short: true,
///     ..AssessOptions::default()
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AssessOptions {
    /// The estimators to run; default all ten. Binary-only ones run only on
    /// binary data sets, as in `ea_non_iid`.
    pub estimators: Vec<Estimator>,
    /// Assess the literal data set (`H_original`); default on. Off is
    /// `ea_non_iid -c`: bitstring only, even for binary data.
    pub literal: bool,
    /// Assess the bitstring (`H_bitstring`) when the data has more than two
    /// distinct values; default on.
    pub bitstring: bool,
    /// Keep only the first this many bits of the bitstring; `None` (default)
    /// keeps all, like `ea_non_iid -a`; `Some(1_000_000)` is its `-t`.
    pub bitstring_limit: Option<usize>,
    /// What to do with an estimator that needs more symbols than a data set
    /// has (Compression: 6012 bits; MultiMCW: 4096 symbols; ...).
    /// `false` (default): fail with [`AssessError::TooFewSamples`] naming it.
    /// `true`: skip it and list it in [`Report::skipped`], as `ea_non_iid`
    /// does silently; the assessment then rests on fewer estimators.
    pub skip_too_short: bool,
    /// How many threads run the estimators (each estimator on each data set
    /// is one task; they are independent). `None` (default): the machine's
    /// available parallelism, but one thread, the caller's, for data sets
    /// under [`PARALLEL_MIN_SYMBOLS`] in all, where starting threads would
    /// cost more than it saves. `Some(1)`: always on the caller's thread.
    /// The report is the same, bit for bit, whatever the count.
    pub threads: Option<NonZeroUsize>,
}

impl Default for AssessOptions {
    fn default() -> Self {
        AssessOptions {
            estimators: Estimator::ALL.to_vec(),
            literal: true,
            bitstring: true,
            bitstring_limit: None,
            skip_too_short: false,
            threads: None,
        }
    }
}

impl AssessOptions {
    /// With [`estimators`](Self::estimators) set: the estimators to run
    /// (their order does not matter; the report keeps SP 800-90B's).
    #[must_use]
    pub fn with_estimators(mut self, estimators: impl IntoIterator<Item = Estimator>) -> Self {
        self.estimators = estimators.into_iter().collect();
        self
    }

    /// With the literal data set assessed or not
    /// ([`literal`](Self::literal)); off is `ea_non_iid -c`.
    #[must_use]
    pub fn with_literal(mut self, literal: bool) -> Self {
        self.literal = literal;
        self
    }

    /// With the bitstring assessed or not ([`bitstring`](Self::bitstring)).
    #[must_use]
    pub fn with_bitstring(mut self, bitstring: bool) -> Self {
        self.bitstring = bitstring;
        self
    }

    /// With the bitstring cut to its first `limit` bits, or kept whole with
    /// `None` ([`bitstring_limit`](Self::bitstring_limit));
    /// `Some(1_000_000)` is `ea_non_iid -t`.
    #[must_use]
    pub fn with_bitstring_limit(mut self, limit: Option<usize>) -> Self {
        self.bitstring_limit = limit;
        self
    }

    /// With estimators the data is too short for skipped (`true`) rather
    /// than an error ([`skip_too_short`](Self::skip_too_short)).
    #[must_use]
    pub fn with_skip_too_short(mut self, skip: bool) -> Self {
        self.skip_too_short = skip;
        self
    }

    /// With the number of threads set, or left to the machine and the data
    /// size with `None` ([`threads`](Self::threads));
    /// `NonZeroUsize::new(1)` keeps to the caller's thread.
    #[must_use]
    pub fn with_threads(mut self, threads: Option<NonZeroUsize>) -> Self {
        self.threads = threads;
        self
    }
}

/// Below this many symbols (literal and bitstring together) an assessment
/// with [`AssessOptions::threads`] = `None` runs on the caller's thread
/// alone: the estimators then take well under a millisecond each, about
/// what starting a thread costs (the seeder's 1024-sample start-up check,
/// for one, stays single-threaded).
pub const PARALLEL_MIN_SYMBOLS: usize = 65_536;

/// The fewest symbols any estimator takes (MCV, Markov and the tuple
/// estimators need two): a shorter bitstring limit leaves nothing to assess.
const MIN_BITSTRING_BITS: usize = 2;

/// An estimator that ran but gave no estimate on a data set (counted in no
/// minimum, as in `ea_non_iid`): [`AssessError::NoEstimate`], or
/// [`AssessError::TooFewSamples`] under [`AssessOptions::skip_too_short`].
///
/// [`Skipped::new`] makes one by hand. Fields may be added (the struct is
/// `#[non_exhaustive]`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Skipped {
    /// The data set.
    pub data_set: DataSet,
    /// Why, with the estimator's name in it.
    pub reason: AssessError,
}

impl Skipped {
    /// An estimator that gave no estimate on `data_set`, for `reason`
    /// (which names it), to list in [`Report::from_estimates`].
    pub fn new(data_set: DataSet, reason: AssessError) -> Skipped {
        Skipped { data_set, reason }
    }
}

/// The outcome of [`assess`]: every estimate and the combined figures.
///
/// [`Report::from_estimates`] makes one from estimates computed elsewhere,
/// with the figures worked out as [`assess`] works them out. Fields may be
/// added (the struct is `#[non_exhaustive]`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Report {
    /// Bits per sample.
    pub bits: u8,
    /// Number of samples.
    pub samples: usize,
    /// Number of distinct sample values (`k`, the literal alphabet size).
    pub distinct: usize,
    /// Length of the bitstring assessed; 0 when it was not.
    pub bitstring_len: usize,
    /// Literal estimates, in SP 800-90B order (per sample).
    pub literal: Vec<Estimate>,
    /// Bitstring estimates, in SP 800-90B order (per bit).
    pub bitstring: Vec<Estimate>,
    /// The Most Common Value intermediates on the literal set, if it ran
    /// (`ea_non_iid -o` stores them).
    pub mcv_literal: Option<McvDetail>,
    /// The Most Common Value intermediates on the bitstring, if it ran.
    pub mcv_bitstring: Option<McvDetail>,
    /// Estimators that gave no estimate for the data.
    pub skipped: Vec<Skipped>,
    /// `min(bits, literal estimates)`, if the literal set was assessed and
    /// at least one estimator gave an estimate on it.
    pub h_original: Option<f64>,
    /// `min(1, bitstring estimates)`, if the bitstring was assessed and at
    /// least one estimator gave an estimate on it.
    pub h_bitstring: Option<f64>,
    /// `min(bits, H_original, bits × H_bitstring)`: min-entropy per sample.
    pub assessed: f64,
}

impl Report {
    /// The report on samples of `bits` bits whose estimates are `literal`
    /// (per sample) and `bitstring` (per bit), with the combined figures
    /// worked out as [`assess_with`] works them out (it calls this):
    ///
    /// * [`h_original`](Self::h_original): the lowest literal estimate, at
    ///   most `bits`; `None` if `literal` is empty;
    /// * [`h_bitstring`](Self::h_bitstring): the lowest bitstring estimate,
    ///   at most 1; `None` if `bitstring` is empty;
    /// * [`assessed`](Self::assessed): `min(bits, H_original, bits ×
    ///   H_bitstring)` over those present.
    ///
    /// A NaN or negative estimate counts as 0 (a NaN must not be passed over
    /// and so raise a minimum). The lists are kept as given: the estimators
    /// list theirs in SP 800-90B's order, a hand-made report in its own.
    /// `skipped` lists the estimators that gave no estimate.
    /// The counts ([`samples`](Self::samples), [`distinct`](Self::distinct),
    /// [`bitstring_len`](Self::bitstring_len)) start at 0 and the Most
    /// Common Value details at `None`; set them with the `with_*` methods.
    ///
    /// Errors: [`AssessError::BadWidth`] for `bits` outside 1..=8; with no
    /// estimate in either list, the reason of the first skip, or
    /// [`AssessError::NothingToRun`] if none: without evidence there is no
    /// figure (rather than the `bits` cap).
    ///
    /// ```
    /// use sp800_90b::assess::{Estimate, Estimator, Report};
    /// let literal = vec![
    ///     Estimate::new(Estimator::Mcv, 6.5, 0.011),
    ///     Estimate::new(Estimator::Lag, 7.1, 0.007),
    /// ];
    /// let bitstring = vec![Estimate::new(Estimator::Mcv, 0.75, 0.59)];
    /// let report = Report::from_estimates(8, literal, bitstring, Vec::new())?
    ///     .with_samples(1_000_000)
    ///     .with_distinct(256);
    /// assert_eq!(report.h_original, Some(6.5));
    /// assert_eq!(report.h_bitstring, Some(0.75));
    /// assert_eq!(report.assessed, 6.0); // 8 × 0.75
    /// # Ok::<(), sp800_90b::assess::AssessError>(())
    /// ```
    pub fn from_estimates(
        bits: u8,
        literal: Vec<Estimate>,
        bitstring: Vec<Estimate>,
        skipped: Vec<Skipped>,
    ) -> Result<Report, AssessError> {
        if !(1..=8).contains(&bits) {
            return Err(AssessError::BadWidth { bits });
        }
        // A data set on which no selected estimator gave an estimate has no
        // evidence to offer: it counts in no minimum (rather than award its
        // cap), and with no estimate anywhere there is no assessment at all.
        if literal.is_empty() && bitstring.is_empty() {
            return Err(skipped
                .first()
                .map_or(AssessError::NothingToRun, |s| s.reason.clone()));
        }
        let bits_f = f64::from(bits);
        let h_original = (!literal.is_empty()).then(|| lowest(&literal, bits_f));
        let h_bitstring = (!bitstring.is_empty()).then(|| lowest(&bitstring, 1.0));
        let mut assessed = bits_f;
        if let Some(h) = h_bitstring {
            assessed = assessed.min(bits_f * h);
        }
        if let Some(h) = h_original {
            assessed = assessed.min(h);
        }
        Ok(Report {
            bits,
            samples: 0,
            distinct: 0,
            bitstring_len: 0,
            literal,
            bitstring,
            mcv_literal: None,
            mcv_bitstring: None,
            skipped,
            h_original,
            h_bitstring,
            assessed,
        })
    }

    /// With [`samples`](Self::samples) set.
    #[must_use]
    pub fn with_samples(mut self, samples: usize) -> Self {
        self.samples = samples;
        self
    }

    /// With [`distinct`](Self::distinct) set: the number of distinct sample
    /// values.
    #[must_use]
    pub fn with_distinct(mut self, distinct: usize) -> Self {
        self.distinct = distinct;
        self
    }

    /// With [`bitstring_len`](Self::bitstring_len) set: how many bits the
    /// bitstring estimates ran on.
    #[must_use]
    pub fn with_bitstring_len(mut self, bitstring_len: usize) -> Self {
        self.bitstring_len = bitstring_len;
        self
    }

    /// With the Most Common Value intermediates on the literal set
    /// ([`mcv_literal`](Self::mcv_literal)), as [`mcv_detail`] gives them.
    #[must_use]
    pub fn with_mcv_literal(mut self, detail: McvDetail) -> Self {
        self.mcv_literal = Some(detail);
        self
    }

    /// With the Most Common Value intermediates on the bitstring
    /// ([`mcv_bitstring`](Self::mcv_bitstring)), as [`mcv_detail`] gives
    /// them.
    #[must_use]
    pub fn with_mcv_bitstring(mut self, detail: McvDetail) -> Self {
        self.mcv_bitstring = Some(detail);
        self
    }

    /// The estimate of `estimator` on `data_set`, if it ran and gave one.
    pub fn get(&self, data_set: DataSet, estimator: Estimator) -> Option<&Estimate> {
        let list = match data_set {
            DataSet::Literal => &self.literal,
            DataSet::Bitstring => &self.bitstring,
        };
        list.iter().find(|e| e.estimator == estimator)
    }
}

/// Assesses `symbols` of `bits` bits each with all ten estimators, on the
/// literal data set and (for more than two distinct values) the full
/// bitstring, as `ea_non_iid FILE bits` does. See [`assess_with`].
pub fn assess(symbols: &[u8], bits: u8) -> Result<Report, AssessError> {
    assess_with(symbols, bits, &AssessOptions::default())
}

/// What one task computes: an estimator, or t-Tuple and LRS together (one
/// suffix sort serves both), on one data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Work {
    Mcv,
    Binary(Estimator),
    /// t-Tuple, LRS, or both (`true` = wanted).
    Tuple {
        t_tuple: bool,
        lrs: bool,
    },
    Predictor(Estimator),
    /// MultiMMC and LZ78Y together (one pass on bits).
    MmcLz78y,
}

/// One task of an assessment.
struct Job<'d> {
    data_set: DataSet,
    data: &'d [u8],
    k: usize,
    work: Work,
}

/// What a task gave, in the form the tool's order of output needs.
enum Outcome {
    Mcv(Result<McvDetail, AssessError>),
    One(Result<Estimate, AssessError>),
    Two(Result<Estimate, AssessError>, Result<Estimate, AssessError>),
}

impl Job<'_> {
    /// The estimators named to the progress callback as the task starts:
    /// t-Tuple for the suffix-sort pair (one call, as documented), both
    /// MultiMMC and LZ78Y for theirs (one call each, as when they ran
    /// apart).
    fn announced(&self) -> &'static [Estimator] {
        match self.work {
            Work::Mcv => &[Estimator::Mcv],
            Work::Binary(Estimator::Collision) => &[Estimator::Collision],
            Work::Binary(Estimator::Markov) => &[Estimator::Markov],
            Work::Binary(_) => &[Estimator::Compression],
            Work::Predictor(Estimator::MultiMcw) => &[Estimator::MultiMcw],
            Work::Predictor(Estimator::Lag) => &[Estimator::Lag],
            Work::Predictor(Estimator::MultiMmc) => &[Estimator::MultiMmc],
            Work::Predictor(_) => &[Estimator::Lz78y],
            Work::MmcLz78y => &[Estimator::MultiMmc, Estimator::Lz78y],
            Work::Tuple { t_tuple: true, .. } => &[Estimator::TTuple],
            Work::Tuple { .. } => &[Estimator::Lrs],
        }
    }

    fn run(&self) -> Outcome {
        let (data, k) = (self.data, self.k);
        match self.work {
            Work::Mcv => Outcome::Mcv(mcv_detail(data, k)),
            Work::Binary(Estimator::Collision) => Outcome::One(collision(data)),
            Work::Binary(Estimator::Markov) => Outcome::One(markov(data)),
            Work::Binary(_) => Outcome::One(compression(data)),
            Work::Tuple {
                t_tuple: true,
                lrs: true,
            } => {
                let (t, l) = t_tuple_and_lrs(data, k);
                Outcome::Two(t, l)
            }
            Work::Tuple { t_tuple: true, .. } => Outcome::One(t_tuple(data, k)),
            Work::Tuple { .. } => Outcome::One(lrs(data, k)),
            Work::Predictor(Estimator::MultiMcw) => Outcome::One(multi_mcw(data, k)),
            Work::Predictor(Estimator::Lag) => Outcome::One(lag(data, k)),
            Work::Predictor(Estimator::MultiMmc) => Outcome::One(multi_mmc(data, k)),
            Work::Predictor(_) => Outcome::One(lz78y(data, k)),
            Work::MmcLz78y => {
                let (mmc, lz) = predictors::multi_mmc_and_lz78y(data, k);
                Outcome::Two(mmc, lz)
            }
        }
    }

    /// A rough cost, to hand out the longest tasks first: nanoseconds per
    /// symbol measured on 1M 8-bit samples (literal) and their 8M bits
    /// (binary), times the length. Only the order matters.
    fn cost(&self) -> u64 {
        let binary = self.k == 2;
        let per_symbol: u64 = match (self.work, binary) {
            (Work::Tuple { .. }, true) => 33,
            (Work::Tuple { .. }, false) => 50,
            (Work::Predictor(Estimator::MultiMmc), true) => 49,
            (Work::Predictor(Estimator::MultiMmc), false) => 320,
            (Work::Predictor(Estimator::Lz78y), true) => 40,
            (Work::MmcLz78y, true) => 55,
            (Work::MmcLz78y, false) => 370,
            (Work::Predictor(Estimator::Lz78y), false) => 50,
            (Work::Predictor(Estimator::Lag), true) => 7,
            (Work::Predictor(Estimator::Lag), false) => 20,
            (Work::Predictor(_), true) => 8,
            (Work::Predictor(_), false) => 30,
            (Work::Binary(_), _) => 4,
            (Work::Mcv, _) => 1,
        };
        per_symbol.saturating_mul(self.data.len() as u64)
    }

    /// Needs much more memory than the data: the suffix sort (4-5 bytes a
    /// symbol) and MultiMMC's hash tables on a wide alphabet (up to 16
    /// orders x 100,000 contexts), here from 16 MiB.
    fn large(&self) -> bool {
        let n = self.data.len();
        let bytes = match self.work {
            Work::Tuple { .. } => n.saturating_mul(5),
            Work::Predictor(Estimator::MultiMmc) if self.k > 2 => n.min(100_000) * 400,
            _ => 0,
        };
        bytes >= 16 << 20
    }
}

/// The tasks for one data set of symbols in `0..k`, in the tool's order;
/// the binary-only estimators only if `binary`.
fn jobs_for<'d>(
    wanted: &[Estimator],
    data_set: DataSet,
    data: &'d [u8],
    k: usize,
    binary: bool,
) -> Vec<Job<'d>> {
    let want = |e: Estimator| wanted.contains(&e);
    let mut work = Vec::new();
    if want(Estimator::Mcv) {
        work.push(Work::Mcv);
    }
    if binary {
        for e in [
            Estimator::Collision,
            Estimator::Markov,
            Estimator::Compression,
        ] {
            if want(e) {
                work.push(Work::Binary(e));
            }
        }
    }
    let (t, l) = (want(Estimator::TTuple), want(Estimator::Lrs));
    if t || l {
        work.push(Work::Tuple { t_tuple: t, lrs: l });
    }
    // On bits, MultiMMC and LZ78Y share one pass.
    let pair = k == 2 && want(Estimator::MultiMmc) && want(Estimator::Lz78y);
    for e in [
        Estimator::MultiMcw,
        Estimator::Lag,
        Estimator::MultiMmc,
        Estimator::Lz78y,
    ] {
        match e {
            Estimator::MultiMmc if pair => work.push(Work::MmcLz78y),
            Estimator::Lz78y if pair => {}
            _ if want(e) => work.push(Work::Predictor(e)),
            _ => {}
        }
    }
    work.into_iter()
        .map(|work| Job {
            data_set,
            data,
            k,
            work,
        })
        .collect()
}

/// The tasks' queue in [`run_parallel`]: which are taken, and whether a
/// large-memory one is running.
struct Queue {
    taken: Vec<bool>,
    large_running: bool,
}

/// Frees the large-memory slot when its task ends, also if it unwinds
/// (so that no worker waits for it forever).
struct LargeSlot<'q> {
    queue: &'q (Mutex<Queue>, Condvar),
}

impl Drop for LargeSlot<'_> {
    fn drop(&mut self) {
        let (queue, freed) = self.queue;
        queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .large_running = false;
        freed.notify_all();
    }
}

/// Runs `jobs` on `threads` scoped threads, longest first, and returns
/// their outcomes in the order of `jobs`. `progress` is called on the
/// caller's thread, which only relays it, once per job as a worker takes
/// it up, in the order they are taken.
///
/// At most one [`Job::large`] task runs at a time (a worker passes over
/// it to the next one, or waits while only such tasks are left): two of
/// them side by side would double the peak memory for no gain in time.
fn run_parallel(
    jobs: &[Job<'_>],
    threads: usize,
    progress: &mut dyn FnMut(DataSet, Estimator),
) -> Vec<Outcome> {
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    // Stable: equal costs keep the tool's order.
    order.sort_by_key(|&i| core::cmp::Reverse(jobs[i].cost()));
    // Taking a job and announcing it happen under one lock, so the
    // announcements arrive in the order the jobs were taken.
    let queue = (
        Mutex::new(Queue {
            taken: vec![false; jobs.len()],
            large_running: false,
        }),
        Condvar::new(),
    );
    let (tx, rx) = mpsc::channel::<usize>();
    let mut outcomes: Vec<Option<Outcome>> = jobs.iter().map(|_| None).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let tx = tx.clone();
                let (queue, order) = (&queue, &order);
                scope.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let (lock, freed) = queue;
                        let mut q = lock.lock().unwrap_or_else(|e| e.into_inner());
                        let job = loop {
                            let open = order.iter().copied().filter(|&j| !q.taken[j]);
                            let mut left = false;
                            let mut pick = None;
                            for j in open {
                                left = true;
                                if !(jobs[j].large() && q.large_running) {
                                    pick = Some(j);
                                    break;
                                }
                            }
                            match (pick, left) {
                                (Some(j), _) => break Some(j),
                                (None, false) => break None,
                                (None, true) => {
                                    q = freed.wait(q).unwrap_or_else(|e| e.into_inner());
                                }
                            }
                        };
                        let Some(job) = job else { break };
                        q.taken[job] = true;
                        let slot = jobs[job].large().then(|| {
                            q.large_running = true;
                            LargeSlot { queue }
                        });
                        // The receiver outlives every worker.
                        let _ = tx.send(job);
                        drop(q);
                        done.push((job, jobs[job].run()));
                        drop(slot);
                    }
                    done
                })
            })
            .collect();
        // Only the workers hold senders now: the loop ends once all are done.
        drop(tx);
        for job in rx {
            for &e in jobs[job].announced() {
                progress(jobs[job].data_set, e);
            }
        }
        for worker in workers {
            match worker.join() {
                Ok(done) => {
                    for (job, outcome) in done {
                        outcomes[job] = Some(outcome);
                    }
                }
                // The estimators do not panic; if one did, pass it on as a
                // single-threaded run would.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    outcomes.into_iter().flatten().collect()
}

/// Collects the outcomes into the report's lists, in the tool's order:
/// turns the data-dependent "no estimate" outcome (and, if asked, "too few
/// samples") into a skip, as the tool does; returns any other error.
struct Collect {
    skip_too_short: bool,
    skipped: Vec<Skipped>,
    literal: Vec<Estimate>,
    bitstring: Vec<Estimate>,
    mcv_literal: Option<McvDetail>,
    mcv_bitstring: Option<McvDetail>,
}

impl Collect {
    fn take(&mut self, data_set: DataSet, outcome: Outcome) -> Result<(), AssessError> {
        match outcome {
            Outcome::Mcv(result) => {
                // Needs 2 symbols, which two distinct values guarantee: any
                // error is the caller's.
                let d = result?;
                match data_set {
                    DataSet::Literal => self.mcv_literal = Some(d),
                    DataSet::Bitstring => self.mcv_bitstring = Some(d),
                }
                self.keep(data_set, Ok(d.estimate))
            }
            Outcome::One(result) => self.keep(data_set, result),
            Outcome::Two(a, b) => {
                self.keep(data_set, a)?;
                self.keep(data_set, b)
            }
        }
    }

    fn keep(
        &mut self,
        data_set: DataSet,
        result: Result<Estimate, AssessError>,
    ) -> Result<(), AssessError> {
        let out = match data_set {
            DataSet::Literal => &mut self.literal,
            DataSet::Bitstring => &mut self.bitstring,
        };
        match result {
            Ok(e) => out.push(e),
            Err(reason @ AssessError::NoEstimate { .. }) => {
                self.skipped.push(Skipped { data_set, reason })
            }
            Err(reason @ AssessError::TooFewSamples { .. }) if self.skip_too_short => {
                self.skipped.push(Skipped { data_set, reason })
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }
}

/// How many threads to use for `jobs` over `symbols` symbols in all.
fn thread_count(options: &AssessOptions, jobs: usize, symbols: usize) -> usize {
    let threads = match options.threads {
        Some(n) => n.get(),
        None if symbols < PARALLEL_MIN_SYMBOLS => 1,
        None => std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
    };
    threads.min(jobs).max(1)
}

/// Assesses `symbols` of `bits` bits each as `ea_non_iid` 1.1.7 does, with
/// the choices in `options`.
///
/// Errors: no samples, `bits` outside 1..=8, a sample wider than `bits`, a
/// single distinct value (no entropy), an estimator that needs more samples
/// than given (leave it out through `options.estimators`, or skip such ones
/// with `options.skip_too_short`), or nothing selected. An estimator for which the data holds nothing to measure (see
/// [`AssessError::NoEstimate`]) is listed in [`Report::skipped`] instead.
pub fn assess_with(
    symbols: &[u8],
    bits: u8,
    options: &AssessOptions,
) -> Result<Report, AssessError> {
    assess_with_progress(symbols, bits, options, &mut |_, _| {})
}

/// [`assess_with`], calling `progress` with the data set and estimator as
/// each estimator starts (once for t-Tuple and LRS together), for callers
/// that show progress; the callback must not panic.
///
/// `progress` is always called on the caller's thread. On one thread (see
/// [`AssessOptions::threads`]) it comes just before each estimator, in the
/// tool's order (the bitstring first), and stops at an error. With several
/// threads, the estimators are handed out longest first and `progress`
/// follows the order in which they are taken up, for all of them.
pub fn assess_with_progress(
    symbols: &[u8],
    bits: u8,
    options: &AssessOptions,
    progress: &mut dyn FnMut(DataSet, Estimator),
) -> Result<Report, AssessError> {
    if !(1..=8).contains(&bits) {
        return Err(AssessError::BadWidth { bits });
    }
    if symbols.is_empty() {
        return Err(AssessError::Empty);
    }
    let limit = 1u16 << bits;
    if let Some(index) = symbols.iter().position(|&s| u16::from(s) >= limit) {
        return Err(AssessError::SymbolTooWide {
            index,
            value: symbols[index],
            bits,
        });
    }
    // Renumber the values that occur to 0..k in increasing order.
    let mut seen = [false; 256];
    for &s in symbols {
        seen[usize::from(s)] = true;
    }
    let mut map = [0u8; 256];
    let mut k = 0usize;
    for (value, &present) in seen.iter().enumerate() {
        if present {
            map[value] = k as u8;
            k += 1;
        }
    }
    if k <= 1 {
        return Err(AssessError::SingleSymbol { value: symbols[0] });
    }
    if options.estimators.is_empty() || !(options.literal || options.bitstring) {
        return Err(AssessError::NothingToRun);
    }
    // As ea_non_iid: the bitstring is assessed for non-binary data, or for
    // all data when the literal set is not (its -c mode).
    let run_bitstring = options.bitstring && (k > 2 || !options.literal);
    // Sample-derived copies, wiped when freed (the seeder assesses the samples
    // of its first secret block); both are sized once, never reallocated.
    let mut expanded = Zeroizing::new(Vec::new());
    if run_bitstring {
        let bits_us = usize::from(bits);
        let too_large = AssessError::BitstringTooLarge {
            symbols: symbols.len(),
            bits,
        };
        // Past usize::MAX bits (32-bit targets, 2^29 samples and more) the
        // limit, if any, is the smaller.
        let total = match (symbols.len().checked_mul(bits_us), options.bitstring_limit) {
            (_, Some(limit)) if limit < MIN_BITSTRING_BITS => {
                return Err(AssessError::BitstringLimitTooSmall { limit });
            }
            (Some(all), limit) => limit.map_or(all, |limit| all.min(limit)),
            (None, Some(limit)) => limit,
            (None, None) => return Err(too_large),
        };
        expanded.try_reserve_exact(total).map_err(|_| too_large)?;
        'outer: for &s in symbols {
            for j in (0..bits_us).rev() {
                if expanded.len() == total {
                    break 'outer;
                }
                expanded.push((s >> j) & 1);
            }
        }
    }
    let renumbered: Zeroizing<Vec<u8>> = Zeroizing::new(if options.literal {
        symbols.iter().map(|&s| map[usize::from(s)]).collect()
    } else {
        Vec::new()
    });
    map.zeroize();
    seen.zeroize();
    // The bitstring first, as ea_non_iid prints it.
    let mut jobs = Vec::new();
    if run_bitstring {
        jobs.extend(jobs_for(
            &options.estimators,
            DataSet::Bitstring,
            &expanded,
            2,
            true,
        ));
    }
    if options.literal {
        jobs.extend(jobs_for(
            &options.estimators,
            DataSet::Literal,
            &renumbered,
            k,
            k == 2,
        ));
    }
    let mut collect = Collect {
        skip_too_short: options.skip_too_short,
        skipped: Vec::new(),
        literal: Vec::new(),
        bitstring: Vec::new(),
        mcv_literal: None,
        mcv_bitstring: None,
    };
    let threads = thread_count(options, jobs.len(), expanded.len() + renumbered.len());
    if threads <= 1 {
        // One at a time, stopping at the first error.
        for job in &jobs {
            for &e in job.announced() {
                progress(job.data_set, e);
            }
            collect.take(job.data_set, job.run())?;
        }
    } else {
        // All at once; then the first error in the tool's order, if any, as
        // a run on one thread would have stopped at.
        let outcomes = run_parallel(&jobs, threads, progress);
        for (job, outcome) in jobs.iter().zip(outcomes) {
            collect.take(job.data_set, outcome)?;
        }
    }
    let bitstring_len = expanded.len();
    let Collect {
        skipped,
        literal,
        bitstring,
        mcv_literal,
        mcv_bitstring,
        ..
    } = collect;

    // Only the selected data sets have estimates (no tasks ran on the
    // others), so the figures need nothing more than the lists.
    let mut report = Report::from_estimates(bits, literal, bitstring, skipped)?;
    report.samples = symbols.len();
    report.distinct = k;
    report.bitstring_len = bitstring_len;
    report.mcv_literal = mcv_literal;
    report.mcv_bitstring = mcv_bitstring;
    Ok(report)
}

/// The lowest min-entropy among `estimates`, at most `cap`. `f64::min`
/// passes over NaN, which would let a broken estimate raise the result: a
/// NaN counts as 0 instead (none occurs today; this keeps it fail-closed).
fn lowest(estimates: &[Estimate], cap: f64) -> f64 {
    estimates
        .iter()
        // `max` passes over a NaN too: a NaN (or a negative figure, which
        // no estimator gives but a hand-made estimate could) counts as 0.
        .map(|e| e.min_entropy.max(0.0))
        .fold(cap, f64::min)
}

/// The common ending of the prediction estimators, SP 800-90B sections
/// 6.3.7-6.3.10 (steps "calculate the predictor's global and local
/// performance"), computed as `ea_non_iid` 1.1.7 does.
///
/// * `correct`: `C`, the number of correct predictions.
/// * `n`: `N`, the number of predictions made.
/// * `longest_run`: the longest run of consecutive correct predictions
///   (`ea_non_iid` prints `r = longest_run + 1`, the standard's `r`).
/// * `k`: the alphabet size, for the `1/k` floor.
///
/// `P_global = C/N`; `P'_global = min(1, P_global + Z*sqrt(P_global(1-P_global)/(N-1)))`,
/// or `1 - 0.01^(1/N)` when `C = 0`. `P_local` solves
/// `0.99 = (1 - p*x) / ((r+1 - r*x) * q) * x^-(N+1)` for `p` by bisection, where
/// `q = 1-p` and `x` is the fixed point of `x = 1 + q * p^r * x^(r+1)`; like the
/// tool, it is only searched for when it could raise the result.
/// `H = -log2(max(1/k, P'_global, P_local))`.
///
/// Public so that a predictor run outside this crate (a health test's
/// running predictor, say) is scored exactly as the estimators score
/// theirs.
///
/// ```
/// use sp800_90b::assess::{Estimator, predictor_estimate};
/// // 1,000 right out of 10,000 predictions of a 16-symbol source.
/// let e = predictor_estimate(Estimator::Lag, 1_000, 10_000, 3, 16);
/// assert!(e.p_max > 0.1 && e.min_entropy < 3.33);
/// ```
pub fn predictor_estimate(
    estimator: Estimator,
    correct: u64,
    n: u64,
    longest_run: u64,
    k: usize,
) -> Estimate {
    let n_f = n as f64;
    let floor = 1.0 / (k.max(1) as f64);
    // N = 0 cannot occur through the estimators (they check their minimum
    // length first); answer the trivial bound rather than divide by zero.
    if n == 0 {
        return Estimate {
            estimator,
            p_max: 1.0,
            min_entropy: 0.0,
        };
    }
    let p_global = correct as f64 / n_f;
    let p_global_prime = if correct == 0 {
        1.0 - 0.01f64.powf(1.0 / n_f)
    } else if n < 2 {
        // N - 1 = 0 (MultiMMC on 3 symbols): no bound can be put on one
        // right prediction; the tool's 0/0 happens to give 1 as well.
        1.0
    } else {
        (p_global + Z_99 * ((p_global * (1.0 - p_global)) / (n_f - 1.0)).sqrt()).min(1.0)
    };
    let mut p_max = floor.max(p_global_prime);
    let r = longest_run.saturating_add(1) as f64;
    // The tool skips the search when the current bound already satisfies the
    // local-performance inequality: P_local could only be smaller. The
    // closed form is -inf or NaN (never above ln 0.99, so no search) only for
    // p >= r/(r+1), where the fixed-point iteration reaches the spurious root
    // x = 1/p: there a run of r successes is nearly certain in N trials, the
    // probability of none is tiny, and P_local < p_max indeed.
    if p_max < 1.0 && local_log_probability(p_max, r, n_f) > 0.99f64.ln() {
        p_max = p_max.max(p_local(r, n_f, p_max));
    }
    Estimate {
        estimator,
        p_max,
        min_entropy: bits_of(p_max),
    }
}

/// `ln` of the probability that `N` predictions, each right with probability
/// `p`, contain no run of `r` successes (SP 800-90B 6.3.7 step 9), in the
/// closed form `(1 - p*x) / ((r+1 - r*x) * q * x^(N+1))`.
///
/// `x` is the fixed point of `x = 1 + q·p^r·x^(r+1)` near 1, iterated from 1
/// for at most 66 rounds as in `ea_non_iid`. The tool works in 80-bit
/// `long double`; to keep its digits in `f64` this tracks `δ = x − 1` (tiny
/// for long runs) and uses `ln_1p`, so `(N+1)·ln x` loses nothing to
/// cancellation. Iteration stops once `δ` no longer grows by more than a
/// relative `f64::EPSILON`.
fn local_log_probability(p: f64, r: f64, n: f64) -> f64 {
    let q = 1.0 - p;
    let coefficient = q * p.powf(r);
    let mut delta = 0.0f64;
    for round in 0..=65 {
        let next = coefficient * ((r + 1.0) * delta.ln_1p()).exp();
        let grew = next - delta;
        delta = next;
        if round > 0 && grew <= f64::EPSILON * delta {
            break;
        }
    }
    // (1 - p·x) = q - p·δ; (r+1 - r·x) = 1 - r·δ.
    (q - p * delta).ln() - ((-r * delta).ln_1p() + q.ln()) - (n + 1.0) * delta.ln_1p()
}

/// `a` and `b` equal "enough" for the bisection's stop rule: within
/// `f64::EPSILON` relative, or 4 ulps, or `f64::MIN_POSITIVE` absolute where
/// a relative test is meaningless (`ea_non_iid`'s `relEpsilonEqual`).
fn nearly_equal(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return false;
    }
    if a == b {
        return true;
    }
    if a.is_infinite() || b.is_infinite() {
        return false;
    }
    let (small, big) = if a.abs() > b.abs() { (b, a) } else { (a, b) };
    let diff = (big - small).abs();
    let (abs_small, abs_big) = (small.abs(), big.abs());
    if abs_small < f64::MIN_POSITIVE
        || diff < f64::MIN_POSITIVE
        || diff.is_infinite()
        || abs_big * f64::EPSILON < f64::MIN_POSITIVE
    {
        return diff <= f64::MIN_POSITIVE;
    }
    if diff <= abs_big * f64::EPSILON {
        return true;
    }
    if small.is_sign_negative() != big.is_sign_negative() {
        return false;
    }
    abs_big.to_bits().wrapping_sub(abs_small.to_bits()) <= 4
}

/// `v` lies in the closed interval between `a` and `b` (in either order).
fn in_closed(v: f64, a: f64, b: f64) -> bool {
    if a > b {
        v >= b && v <= a
    } else {
        v >= a && v <= b
    }
}

/// `v` lies strictly between `a` and `b` (in either order).
fn in_open(v: f64, a: f64, b: f64) -> bool {
    if a > b {
        v > b && v < a
    } else {
        v > a && v < b
    }
}

/// `P_local` of SP 800-90B 6.3.7 step 9: the `p` in `[low, 1]` at which the
/// probability of no success run of length `r` in `N` trials is 0.99. Search
/// failures answer 1, the safe side, as in `ea_non_iid`.
fn p_local(r: f64, n: f64, low: f64) -> f64 {
    bisect(
        |p| local_log_probability(p, r, n),
        0.99f64.ln(),
        low,
        1.0,
        1.0,
    )
}

/// Finds `x` in `[low, high]` with `f(x) = target` for a decreasing `f`, by
/// bisection with `ea_non_iid`'s rules (shared by its Compression and
/// prediction searches): stop when `f(x)` is [`nearly_equal`] to the target,
/// after 1076 rounds, or when the interval cannot shrink (answer the upper
/// bound); answer `fail` when the bounds leave the domain or stop bracketing
/// the target.
pub(crate) fn bisect(f: impl Fn(f64) -> f64, target: f64, low: f64, high: f64, fail: f64) -> f64 {
    // Enough rounds to walk every f64 between 0 and 1.
    const ITER_MAX: usize = 1076;
    let (mut l_bound, mut h_bound) = (low, high);
    let (mut l_value, mut h_value) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut x = (l_bound + h_bound) / 2.0;
    let mut value = f(x);
    for _ in 0..ITER_MAX {
        if nearly_equal(value, target) {
            break;
        }
        // f falls as x rises: a value above the target means x is too small.
        if target < value {
            l_bound = x;
            l_value = value;
        } else {
            h_bound = x;
            h_value = value;
        }
        if l_bound >= h_bound {
            x = l_bound.max(h_bound).min(high);
            break;
        }
        if !(in_closed(l_bound, low, high) && in_closed(h_bound, low, high)) {
            x = fail;
            break;
        }
        if !in_closed(target, l_value, h_value) {
            x = fail;
            break;
        }
        let last = x;
        x = (l_bound + h_bound) / 2.0;
        if !in_open(x, l_bound, h_bound) || last == x {
            x = h_bound;
            break;
        }
        value = f(x);
        // Not monotonic here after all: settle on the safe upper bound.
        if !in_closed(value, l_value, h_value) {
            x = h_bound;
            break;
        }
    }
    x
}

#[cfg(test)]
#[allow(
    clippy::excessive_precision,
    reason = "expected values are pasted from ea_non_iid's %.17g output"
)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    /// markov1.bin, Literal MultiMCW in `ea_non_iid -vv`: C = 53249, r = 38,
    /// N = 99937, P_local = 0.67401342151277199, H = 0.56915077505718914.
    #[test]
    fn predictor_estimate_matches_nist_with_p_local() {
        let e = predictor_estimate(Estimator::MultiMcw, 53249, 99937, 37, 2);
        assert!(rel(e.p_max, 0.67401342151277199) < 1e-9, "{}", e.p_max);
        assert!(rel(e.min_entropy, 0.56915077505718914) < 1e-9);
    }

    /// markov1.bin, Literal Lag: C = 75032, r = 37, N = 99999, P_local can't
    /// change the result, H = 0.40764468219593258.
    #[test]
    fn predictor_estimate_matches_nist_global_only() {
        let e = predictor_estimate(Estimator::Lag, 75032, 99999, 36, 2);
        assert!(rel(e.p_max, 0.75385309653784061) < 1e-12);
        assert!(rel(e.min_entropy, 0.40764468219593258) < 1e-12);
    }

    /// N = 1 (MultiMMC on 3 symbols) with the one prediction right: the
    /// bound divides by N - 1 = 0; the answer must be p = 1, no entropy.
    #[test]
    fn predictor_estimate_single_right_prediction_has_no_entropy() {
        let e = predictor_estimate(Estimator::MultiMmc, 1, 1, 1, 256);
        assert_eq!(e.p_max, 1.0);
        assert_eq!(e.min_entropy, 0.0);
    }

    /// The closed form of the local-performance probability is non-finite
    /// only where `p >= r/(r+1)` (up to rounding), the region in which a run
    /// of `r` successes is nearly certain, so that skipping the `P_local`
    /// search there (as the tool does) cannot lower the bound wrongly.
    #[test]
    fn local_probability_is_non_finite_only_where_runs_are_certain() {
        for r in [1.0f64, 2.0, 3.0, 5.0, 10.0, 40.0, 200.0] {
            for i in 1..1000 {
                let p = f64::from(i) / 1000.0;
                for n in [10.0, 1e3, 1e6] {
                    let v = local_log_probability(p, r, n);
                    if !v.is_finite() {
                        assert!(p >= r / (r + 1.0) - 0.02, "p={p} r={r} n={n}: {v}");
                    }
                    assert_ne!(v, f64::INFINITY, "p={p} r={r} n={n}");
                }
            }
        }
    }

    /// A NaN estimate must pull the minimum down, not be passed over.
    #[test]
    fn lowest_counts_nan_as_zero() {
        let e = |h: f64| Estimate::new(Estimator::Mcv, h, 0.5);
        assert_eq!(lowest(&[e(0.7), e(f64::NAN)], 1.0), 0.0);
        assert_eq!(lowest(&[e(0.7), e(-2.0)], 1.0), 0.0);
        assert_eq!(lowest(&[e(0.7), e(0.9)], 1.0), 0.7);
        assert_eq!(lowest(&[], 8.0), 8.0);
    }

    /// The combined figures of a hand-made report: caps, the bitstring
    /// scaled by the width, NaN as 0, and no figure without an estimate.
    #[test]
    fn from_estimates_combines_and_refuses() {
        let e = |h: f64| Estimate::new(Estimator::Mcv, h, 0.5);
        let r = Report::from_estimates(4, vec![e(5.0)], vec![], vec![]).unwrap();
        assert_eq!(
            (r.h_original, r.h_bitstring, r.assessed),
            (Some(4.0), None, 4.0)
        );
        let r = Report::from_estimates(4, vec![], vec![e(2.0), e(0.5)], vec![]).unwrap();
        assert_eq!(
            (r.h_original, r.h_bitstring, r.assessed),
            (None, Some(0.5), 2.0)
        );
        let r = Report::from_estimates(8, vec![e(3.0)], vec![e(0.25)], vec![]).unwrap();
        assert_eq!(r.assessed, 2.0);
        let r = Report::from_estimates(8, vec![e(7.0), e(f64::NAN)], vec![e(0.9)], vec![]);
        assert_eq!(r.map(|r| r.assessed), Ok(0.0));
        for bits in [0, 9] {
            assert_eq!(
                Report::from_estimates(bits, vec![e(1.0)], vec![], vec![]),
                Err(AssessError::BadWidth { bits })
            );
        }
        assert_eq!(
            Report::from_estimates(8, vec![], vec![], vec![]),
            Err(AssessError::NothingToRun)
        );
        let reason = AssessError::NoEstimate {
            estimator: Estimator::TTuple,
            reason: "test",
        };
        let skipped = vec![Skipped::new(DataSet::Literal, reason.clone())];
        assert_eq!(
            Report::from_estimates(8, vec![], vec![], skipped),
            Err(reason)
        );
    }

    /// The struct literal of `AssessOptions`' `compile_fail` doctest
    /// compiles here, in the crate: so that doctest fails for
    /// `#[non_exhaustive]` alone (stable rustdoc does not check the error
    /// code), not for a typo.
    #[test]
    fn the_doctests_struct_literal_compiles_inside_the_crate() {
        let options = AssessOptions {
            skip_too_short: true,
            ..AssessOptions::default()
        };
        assert_eq!(options, AssessOptions::default().with_skip_too_short(true));
    }

    #[test]
    fn predictor_estimate_no_correct_prediction_uses_floor() {
        // C = 0: P'_global = 1 - 0.01^(1/N), tiny; the 1/k floor wins.
        let e = predictor_estimate(Estimator::Lz78y, 0, 1000, 0, 4);
        assert_eq!(e.p_max, 0.25);
        assert_eq!(e.min_entropy, 2.0);
    }
}
