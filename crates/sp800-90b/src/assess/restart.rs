//! SP 800-90B section 3.1.4, the restart tests: the sanity check on the most
//! common value of each row and column (3.1.4.3), then the section 6.3
//! estimators on the row and the column data sets (3.1.4.2), as NIST's
//! `ea_restart` runs them.
//!
//! The data is `rows` restarts of `cols` samples each, restart after
//! restart (the row data set of 3.1.4.1); the standard asks for 1000 × 1000.
//! Pure code: no I/O, no clock, no randomness.
//!
//! **The cutoff.** The standard's text bounds the count of one symbol of
//! probability `p = 2^-H_I` with the binomial distribution
//! ([`binomial_cutoff`]). `ea_restart` 1.1 bounds the largest count of any
//! symbol instead, under the distribution that makes that count largest for
//! a given min-entropy: `floor(1/p)` symbols of probability `p` and one more
//! with the rest (the "inverted near-uniform" family of Hagerty and Draper,
//! "Entropy Bounds and Statistical Tests"). The tool estimates the
//! `1 - alpha` quantile of that largest count by simulating 5,000,000 rows
//! with a random seed, so its figure can move by one between runs near a
//! boundary; [`sanity_cutoff`] computes the same quantile exactly from the
//! multinomial distribution, and gives the tool's 236 at `H_I = 2.5`.
//!
//! ```
//! use sp800_90b::assess::restart::{sanity_alpha, sanity_cutoff};
//! let alpha = sanity_alpha(1000, 1000);
//! assert!((alpha - 5.025155300653e-6).abs() < 1e-15);
//! assert_eq!(sanity_cutoff(1000, 2.5, alpha, 256).unwrap(), 236);
//! ```

use core::fmt;

use super::{AssessError, AssessOptions, Report};

/// Restarts the standard asks for (rows).
pub const RESTARTS: usize = 1000;
/// Samples per restart the standard asks for (columns).
pub const SAMPLES_PER_RESTART: usize = 1000;

/// What keeps the restart tests from running.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RestartError {
    /// The data is not `rows` whole rows.
    Shape {
        /// Samples in the data.
        len: usize,
        /// Rows asked for.
        rows: usize,
    },
    /// `H_I` is not in `0..=bits`.
    InitialEntropy {
        /// The `H_I` given.
        h_initial: f64,
        /// Bits per symbol.
        bits: u8,
    },
    /// `H_I` implies more equally likely symbols than the data has distinct
    /// values (`ea_restart` stops on an assertion there).
    AlphabetTooSmall {
        /// Symbols the worst-case distribution for `H_I` needs.
        needed: usize,
        /// Distinct values in the data.
        distinct: usize,
    },
    /// The data cannot be assessed (no samples, a symbol too wide, one
    /// value only, an estimator that cannot run).
    Assess(AssessError),
}

impl fmt::Display for RestartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestartError::Shape { len, rows } => write!(
                f,
                "{len} samples are not {rows} restarts of equal length (SP 800-90B 3.1.4 asks for {RESTARTS} x {SAMPLES_PER_RESTART})"
            ),
            RestartError::InitialEntropy { h_initial, bits } => write!(
                f,
                "H_I {h_initial} must be between 0 and the {bits} bits per symbol"
            ),
            RestartError::AlphabetTooSmall { needed, distinct } => write!(
                f,
                "H_I needs at least {needed} distinct values for its worst case, the data has {distinct}"
            ),
            RestartError::Assess(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for RestartError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            RestartError::Assess(e) => Some(e),
            _ => None,
        }
    }
}

impl From<AssessError> for RestartError {
    fn from(e: AssessError) -> Self {
        RestartError::Assess(e)
    }
}

/// The sanity check's significance per row or column:
/// `alpha = 1 - 0.99^(1 / (rows + cols))`, so that all `rows + cols` counts
/// together pass a good source with probability 0.99.
pub fn sanity_alpha(rows: usize, cols: usize) -> f64 {
    1.0 - ((0.99f64).ln() / (rows + cols) as f64).exp()
}

/// `ln(i!)` for `i` in `0..=n`.
fn ln_factorials(n: usize) -> Vec<f64> {
    let mut table = Vec::with_capacity(n + 1);
    let mut acc = 0.0;
    table.push(acc);
    for i in 1..=n {
        acc += (i as f64).ln();
        table.push(acc);
    }
    table
}

/// `P(Binomial(m, r) = j)` from the log-factorial table.
fn binomial_pmf(ln_fact: &[f64], m: usize, j: usize, r: f64) -> f64 {
    if r >= 1.0 {
        return if j == m { 1.0 } else { 0.0 };
    }
    if r <= 0.0 {
        return if j == 0 { 1.0 } else { 0.0 };
    }
    let ln = ln_fact[m] - ln_fact[j] - ln_fact[m - j]
        + j as f64 * r.ln()
        + (m - j) as f64 * (-r).ln_1p();
    ln.exp()
}

/// `P(every count <= x)` when `n` draws fall on symbols with probabilities
/// `probs` (summing to 1).
///
/// Conditioning symbol by symbol: the count of the first is
/// `Binomial(n, p_1)`, and given it is `j` the others share the `n - j`
/// draws left in proportion. `f[m]` is the chance that the symbols from the
/// current one on all stay at or below `x` when `m` draws are left for them.
fn max_count_cdf(n: usize, probs: &[f64], x: usize, ln_fact: &[f64]) -> f64 {
    let Some((_, rest)) = probs.split_last() else {
        return if n == 0 { 1.0 } else { 0.0 };
    };
    // The last symbol takes all draws left.
    let mut f: Vec<f64> = (0..=n).map(|m| if m <= x { 1.0 } else { 0.0 }).collect();
    let mut g = vec![0.0; n + 1];
    let mut tail_mass: f64 = probs[probs.len() - 1];
    for &p in rest.iter().rev() {
        tail_mass += p;
        let r = (p / tail_mass).min(1.0);
        for (m, slot) in g.iter_mut().enumerate() {
            *slot = (0..=x.min(m))
                .map(|j| binomial_pmf(ln_fact, m, j, r) * f[m - j])
                .sum();
        }
        core::mem::swap(&mut f, &mut g);
    }
    f[n]
}

/// The symbol probabilities of the worst case for min-entropy `h`:
/// `floor(2^h)` symbols of probability `2^-h`, and one more with the rest
/// when `2^h` is not whole.
fn worst_case(h: f64) -> Vec<f64> {
    let p = (-h).exp2();
    let whole = (1.0 / p).floor() as usize;
    let mut probs = vec![p; whole];
    let rest = 1.0 - whole as f64 * p;
    // Rounding leaves ~1e-16 when 2^h is whole: no residual symbol then,
    // as in the tool (its index map never reaches it).
    if rest > 1e-12 {
        probs.push(rest);
    }
    probs
}

/// The smallest `x` in `start..=n` with `cdf(x) >= 1 - alpha`, for a
/// non-decreasing `cdf` with `cdf(n) = 1` and `cdf(start - 1) < 1 - alpha`.
/// Gallops up from `start` (the quantile sits a few standard deviations
/// above the mean, and each evaluation costs more the larger `x` is), then
/// bisects.
fn quantile(n: usize, start: usize, alpha: f64, cdf: impl Fn(usize) -> f64) -> usize {
    let target = 1.0 - alpha;
    let mut lo = start.min(n);
    let mut step = 1;
    let mut hi = lo;
    while hi < n && cdf(hi) < target {
        lo = hi + 1;
        hi = (hi + step).min(n);
        step *= 2;
    }
    // cdf(hi) >= target (or hi = n), and everything below lo fails.
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if cdf(mid) >= target {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// `ea_restart`'s cutoff for the largest count of any symbol in a row or
/// column of `n` samples: the `1 - alpha` quantile of that count under the
/// worst-case distribution for `H_I = h_initial` (see the module docs).
/// Counts up to it pass. `distinct` is the number of distinct values in the
/// data, which must cover the worst case's `ceil(2^H_I)` symbols.
pub fn sanity_cutoff(
    n: usize,
    h_initial: f64,
    alpha: f64,
    distinct: usize,
) -> Result<u32, RestartError> {
    if !(0.0..=8.0).contains(&h_initial) {
        return Err(RestartError::InitialEntropy { h_initial, bits: 8 });
    }
    let probs = worst_case(h_initial);
    if probs.len() > distinct {
        return Err(RestartError::AlphabetTooSmall {
            needed: probs.len(),
            distinct,
        });
    }
    let ln_fact = ln_factorials(n);
    // The largest count is at least the mean count of the likeliest symbol
    // rounded down, less a margin for the rare low rows; starting below
    // the quantile is all `quantile` needs.
    let start = (n as f64 * probs[0] * 0.5) as usize;
    let x = quantile(n, start, alpha, |x| max_count_cdf(n, &probs, x, &ln_fact));
    Ok(x as u32)
}

/// The binomial critical value of the standard's text: the smallest `U`
/// with `P(Binomial(n, p) <= U) >= 1 - alpha`. It bounds the count of one
/// given symbol, so it lies at or below [`sanity_cutoff`]; reported for
/// comparison.
pub fn binomial_cutoff(n: usize, p: f64, alpha: f64) -> u32 {
    let ln_fact = ln_factorials(n);
    let mut cdf = 0.0;
    for u in 0..=n {
        cdf += binomial_pmf(&ln_fact, n, u, p);
        if cdf >= 1.0 - alpha {
            return u as u32;
        }
    }
    n as u32
}

/// The largest count of one value within any row, and within any column,
/// of `data` read as `rows` rows of `data.len() / rows` samples.
pub fn max_counts(data: &[u8], rows: usize) -> Result<(u32, u32), RestartError> {
    let cols = columns_of(data.len(), rows)?;
    let row_max = data.chunks_exact(cols).map(max_count).max().unwrap_or(0);
    let col_max = (0..cols)
        .map(|c| {
            let mut counts = [0u32; 256];
            for r in 0..rows {
                counts[usize::from(data[r * cols + c])] += 1;
            }
            counts.into_iter().max().unwrap_or(0)
        })
        .max()
        .unwrap_or(0);
    Ok((row_max, col_max))
}

fn max_count(values: &[u8]) -> u32 {
    let mut counts = [0u32; 256];
    for &v in values {
        counts[usize::from(v)] += 1;
    }
    counts.into_iter().max().unwrap_or(0)
}

fn columns_of(len: usize, rows: usize) -> Result<usize, RestartError> {
    if rows == 0 || len == 0 || !len.is_multiple_of(rows) {
        return Err(RestartError::Shape { len, rows });
    }
    Ok(len / rows)
}

/// The column data set: column after column (3.1.4.1).
pub fn transpose(data: &[u8], rows: usize) -> Result<Vec<u8>, RestartError> {
    let cols = columns_of(data.len(), rows)?;
    let mut out = Vec::with_capacity(data.len());
    for c in 0..cols {
        out.extend((0..rows).map(|r| data[r * cols + c]));
    }
    Ok(out)
}

/// What the restart tests found.
///
/// Made by [`restart_test`] and [`restart()`]; fields may be
/// added (the struct is `#[non_exhaustive]`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RestartReport {
    /// Restarts (rows).
    pub rows: usize,
    /// Samples per restart (columns).
    pub cols: usize,
    /// Bits per sample.
    pub bits: u8,
    /// Distinct values in the data.
    pub distinct: usize,
    /// The initial entropy estimate `H_I` tested.
    pub h_initial: f64,
    /// The per-row/column significance, [`sanity_alpha`].
    pub alpha: f64,
    /// The cutoff for rows (counts over `cols` samples), [`sanity_cutoff`].
    pub row_cutoff: u32,
    /// The cutoff for columns (counts over `rows` samples); equal to
    /// `row_cutoff` for a square matrix.
    pub col_cutoff: u32,
    /// The standard's binomial critical value for a row, for comparison.
    pub binomial_row_cutoff: u32,
    /// The largest count of one value in any row.
    pub row_max: u32,
    /// The largest count of one value in any column.
    pub col_max: u32,
    /// Whether both maxima are within their cutoffs.
    pub sanity_passed: bool,
    /// The estimators on the row data set; `None` when the sanity check
    /// failed (the tool stops there).
    pub row_report: Option<Report>,
    /// The estimators on the column data set; `None` as `row_report`.
    pub col_report: Option<Report>,
}

impl RestartReport {
    /// `X_max`, the larger of the row and column maxima.
    pub fn x_max(&self) -> u32 {
        self.row_max.max(self.col_max)
    }

    /// `X_cutoff`: the tool's single cutoff (square data: rows and columns
    /// share it); for non-square data the smaller of the two.
    pub fn x_cutoff(&self) -> u32 {
        self.row_cutoff.min(self.col_cutoff)
    }

    /// `H_r`: `min(bits, row estimates)`, once the estimators ran.
    pub fn h_r(&self) -> Option<f64> {
        self.row_report.as_ref().map(|r| self.min_with_bits(r))
    }

    /// `H_c`: `min(bits, column estimates)`, once the estimators ran.
    pub fn h_c(&self) -> Option<f64> {
        self.col_report.as_ref().map(|r| self.min_with_bits(r))
    }

    /// The minimum as `assess_with`'s `H_original` takes it: a NaN
    /// estimate counts as 0 (`f64::min` would pass over it).
    fn min_with_bits(&self, r: &Report) -> f64 {
        super::lowest(&r.literal, f64::from(self.bits))
    }

    /// Whether the validation test passed: the sanity check did, and
    /// `min(H_r, H_c) >= H_I / 2`.
    pub fn validation_passed(&self) -> bool {
        match (self.h_r(), self.h_c()) {
            (Some(r), Some(c)) => self.sanity_passed && r.min(c) >= self.h_initial / 2.0,
            _ => false,
        }
    }

    /// `min(H_r, H_c, H_I)`, the validated entropy, when validation passed.
    pub fn validated(&self) -> Option<f64> {
        if !self.validation_passed() {
            return None;
        }
        Some(self.h_r()?.min(self.h_c()?).min(self.h_initial))
    }
}

/// Runs the restart tests on `data`, `rows` restarts of samples of `bits`
/// bits, against the initial estimate `h_initial`, as `ea_restart FILE bits
/// H_I` does (which wants 1000 × 1000; other shapes are accepted here).
///
/// `options` chooses the estimators (their `literal`/`bitstring` fields are
/// ignored: the restart tests assess the literal row and column data sets
/// only, and run the binary-only estimators when there are two values).
/// The progress callback is called before each estimator, rows first.
pub fn restart_test(
    data: &[u8],
    bits: u8,
    rows: usize,
    h_initial: f64,
    options: &AssessOptions,
    progress: &mut dyn FnMut(&str, super::Estimator),
) -> Result<RestartReport, RestartError> {
    if !(1..=8).contains(&bits) {
        return Err(AssessError::BadWidth { bits }.into());
    }
    if data.is_empty() {
        return Err(AssessError::Empty.into());
    }
    if !(h_initial >= 0.0 && h_initial <= f64::from(bits)) {
        return Err(RestartError::InitialEntropy { h_initial, bits });
    }
    let limit = 1u16 << bits;
    if let Some(index) = data.iter().position(|&s| u16::from(s) >= limit) {
        return Err(AssessError::SymbolTooWide {
            index,
            value: data[index],
            bits,
        }
        .into());
    }
    let mut seen = [false; 256];
    for &s in data {
        seen[usize::from(s)] = true;
    }
    let distinct = seen.iter().filter(|&&s| s).count();
    if distinct == 1 {
        return Err(AssessError::SingleSymbol { value: data[0] }.into());
    }
    let cols = columns_of(data.len(), rows)?;
    let alpha = sanity_alpha(rows, cols);
    let row_cutoff = sanity_cutoff(cols, h_initial, alpha, distinct)?;
    let col_cutoff = if rows == cols {
        row_cutoff
    } else {
        sanity_cutoff(rows, h_initial, alpha, distinct)?
    };
    let binomial_row_cutoff = binomial_cutoff(cols, (-h_initial).exp2(), alpha);
    let (row_max, col_max) = max_counts(data, rows)?;
    let sanity_passed = row_max <= row_cutoff && col_max <= col_cutoff;
    let mut report = RestartReport {
        rows,
        cols,
        bits,
        distinct,
        h_initial,
        alpha,
        row_cutoff,
        col_cutoff,
        binomial_row_cutoff,
        row_max,
        col_max,
        sanity_passed,
        row_report: None,
        col_report: None,
    };
    if !sanity_passed {
        return Ok(report);
    }
    let literal_only = options.clone().with_literal(true).with_bitstring(false);
    let rows_report =
        super::assess_with_progress(data, bits, &literal_only, &mut |_, e| progress("rows", e))?;
    let columns = transpose(data, rows)?;
    let cols_report = super::assess_with_progress(&columns, bits, &literal_only, &mut |_, e| {
        progress("columns", e)
    })?;
    report.row_report = Some(rows_report);
    report.col_report = Some(cols_report);
    Ok(report)
}

/// [`restart_test`] with every estimator and no progress callback.
pub fn restart(
    data: &[u8],
    bits: u8,
    rows: usize,
    h_initial: f64,
) -> Result<RestartReport, RestartError> {
    restart_test(
        data,
        bits,
        rows,
        h_initial,
        &AssessOptions::default(),
        &mut |_, _| {},
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assess::Estimator;

    /// SplitMix64, for reproducible test data.
    fn splitmix(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    #[test]
    fn alpha_is_the_tools() {
        // ea_restart prints ALPHA with %.17g: 5.0251553006530612e-06 for
        // 1000 x 1000 (1 - exp(log(0.99) / 2000)).
        assert_eq!(
            sanity_alpha(1000, 1000),
            1.0 - (0.99f64.ln() / 2000.0).exp()
        );
        assert!((sanity_alpha(1000, 1000) - 5.025_155_300_653_061e-6).abs() < 1e-18);
    }

    #[test]
    fn cutoff_at_2_5_bits_is_the_tools_236() {
        // Measured with ea_restart 1.1.8 on this project's machines (FACTS 8).
        let alpha = sanity_alpha(1000, 1000);
        assert_eq!(sanity_cutoff(1000, 2.5, alpha, 256).unwrap(), 236);
        // The single-symbol binomial bound is lower: the largest of six
        // counts exceeds any one of them.
        let binomial = binomial_cutoff(1000, 2f64.powf(-2.5), alpha);
        assert!(binomial < 236, "{binomial}");
        assert!(binomial > 176, "{binomial} below the mean");
    }

    #[test]
    fn cutoff_of_two_fair_symbols_matches_the_binomial_tail() {
        // With p = 1/2 and no residual symbol, the largest count is
        // max(K, n - K), K ~ Bin(n, 1/2), so P(max <= x) = P(n-x <= K <= x).
        let n = 100;
        let ln_fact = ln_factorials(n);
        for x in 50..=n {
            let direct: f64 = (n - x..=x).map(|k| binomial_pmf(&ln_fact, n, k, 0.5)).sum();
            let dp = max_count_cdf(n, &[0.5, 0.5], x, &ln_fact);
            assert!((direct - dp).abs() < 1e-12, "x {x}: {direct} vs {dp}");
        }
    }

    #[test]
    fn cdf_matches_brute_force_enumeration() {
        // Three symbols, n = 12: enumerate every count vector.
        let probs = [0.5, 0.3, 0.2];
        let n = 12;
        let ln_fact = ln_factorials(n);
        for x in 0..=n {
            let mut total = 0.0;
            for a in 0..=n {
                for b in 0..=n - a {
                    let c = n - a - b;
                    if a.max(b).max(c) <= x {
                        let ln = ln_fact[n] - ln_fact[a] - ln_fact[b] - ln_fact[c]
                            + a as f64 * 0.5f64.ln()
                            + b as f64 * 0.3f64.ln()
                            + c as f64 * 0.2f64.ln();
                        total += ln.exp();
                    }
                }
            }
            let dp = max_count_cdf(n, &probs, x, &ln_fact);
            assert!((total - dp).abs() < 1e-12, "x {x}: {total} vs {dp}");
        }
    }

    #[test]
    fn worst_case_has_a_residual_symbol_only_when_needed() {
        assert_eq!(worst_case(1.0), vec![0.5, 0.5]);
        assert_eq!(worst_case(8.0).len(), 256);
        let w = worst_case(2.5);
        assert_eq!(w.len(), 6);
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(worst_case(0.0), vec![1.0]);
    }

    #[test]
    fn cutoffs_grow_as_the_claim_shrinks() {
        let alpha = sanity_alpha(1000, 1000);
        let mut last = 0;
        for h in [8.0, 6.0, 4.0, 2.5, 1.0, 0.5] {
            let c = sanity_cutoff(1000, h, alpha, 256).unwrap();
            assert!(c > last, "H_I {h}: {c} after {last}");
            last = c;
        }
        assert_eq!(sanity_cutoff(1000, 0.0, alpha, 256).unwrap(), 1000);
    }

    #[test]
    fn too_few_values_for_the_claim_is_an_error() {
        let alpha = sanity_alpha(1000, 1000);
        assert_eq!(
            sanity_cutoff(1000, 2.5, alpha, 4),
            Err(RestartError::AlphabetTooSmall {
                needed: 6,
                distinct: 4
            })
        );
    }

    #[test]
    fn counts_and_transpose_read_rows_and_columns() {
        // 3 rows x 4 columns; column 1 is all 7s, row 2 has three 9s.
        let data = [0, 7, 1, 2, 3, 7, 4, 5, 9, 7, 9, 9];
        assert_eq!(max_counts(&data, 3).unwrap(), (3, 3));
        assert_eq!(
            transpose(&data, 3).unwrap(),
            [0, 3, 9, 7, 7, 7, 1, 4, 9, 2, 5, 9]
        );
        assert_eq!(
            max_counts(&data, 5),
            Err(RestartError::Shape { len: 12, rows: 5 })
        );
        assert!(transpose(&[], 1).is_err());
    }

    #[test]
    fn a_stuck_column_fails_the_sanity_check() {
        // Uniform bytes, except that every restart begins with the same
        // value: the first column is constant, as a source that restarts
        // into the same state would give.
        let mut state = 1;
        let (rows, cols) = (200, 200);
        let mut data: Vec<u8> = (0..rows * cols)
            .map(|_| splitmix(&mut state) as u8)
            .collect();
        let good = restart(&data, 8, rows, 6.0).unwrap();
        assert!(good.sanity_passed, "{good:?}");
        assert!(good.validation_passed());
        for r in 0..rows {
            data[r * cols] = 42;
        }
        let bad = restart(&data, 8, rows, 6.0).unwrap();
        assert_eq!(bad.col_max, rows as u32);
        assert!(!bad.sanity_passed);
        assert!(bad.row_report.is_none() && bad.h_r().is_none());
        assert!(!bad.validation_passed());
        assert_eq!(bad.validated(), None);
    }

    #[test]
    fn uniform_data_validates_at_the_claim() {
        let mut state = 7;
        let (rows, cols) = (100, 100);
        let data: Vec<u8> = (0..rows * cols)
            .map(|_| (splitmix(&mut state) & 0x0f) as u8)
            .collect();
        let options = AssessOptions::default().with_estimators([Estimator::Mcv, Estimator::Lag]);
        let mut calls = Vec::new();
        let report = restart_test(&data, 4, rows, 2.0, &options, &mut |set, e| {
            calls.push((set.to_string(), e))
        })
        .unwrap();
        assert_eq!(
            calls,
            [
                ("rows".to_string(), Estimator::Mcv),
                ("rows".to_string(), Estimator::Lag),
                ("columns".to_string(), Estimator::Mcv),
                ("columns".to_string(), Estimator::Lag),
            ]
        );
        let (h_r, h_c) = (report.h_r().unwrap(), report.h_c().unwrap());
        assert!(h_r > 3.0 && h_r <= 4.0, "{h_r}");
        assert!(h_c > 3.0 && h_c <= 4.0, "{h_c}");
        assert_eq!(report.validated(), Some(2.0));
        // Only the literal set ran.
        let rows_report = report.row_report.as_ref().unwrap();
        assert!(rows_report.bitstring.is_empty());
    }

    #[test]
    fn validation_fails_below_half_the_claim() {
        // Each restart counts up from a random start: every row and column
        // passes the sanity check (each value 25 times per row, columns
        // uniform), but the predictors see through the rows.
        let mut state = 3;
        let (rows, cols) = (100, 400);
        let mut data = Vec::with_capacity(rows * cols);
        for _ in 0..rows {
            let start = splitmix(&mut state);
            data.extend((0..cols as u64).map(|c| ((start + c) % 16) as u8));
        }
        let report = restart(&data, 4, rows, 4.0).unwrap();
        assert!(report.sanity_passed, "{report:?}");
        assert!(report.h_r().unwrap() < 1.0, "{:?}", report.h_r());
        assert!(!report.validation_passed());
        assert_eq!(report.validated(), None);
    }

    #[test]
    fn bad_arguments_are_errors() {
        let data = [0u8, 1, 2, 3];
        assert!(matches!(
            restart(&data, 8, 2, 9.0),
            Err(RestartError::InitialEntropy { .. })
        ));
        assert!(matches!(
            restart(&data, 8, 2, f64::NAN),
            Err(RestartError::InitialEntropy { .. })
        ));
        assert!(matches!(
            restart(&data, 8, 3, 1.0),
            Err(RestartError::Shape { .. })
        ));
        assert!(matches!(
            restart(&[], 8, 1, 1.0),
            Err(RestartError::Assess(AssessError::Empty))
        ));
        assert!(matches!(
            restart(&[5, 5, 5, 5], 8, 2, 1.0),
            Err(RestartError::Assess(AssessError::SingleSymbol { value: 5 }))
        ));
        assert!(matches!(
            restart(&[0, 200], 4, 1, 1.0),
            Err(RestartError::Assess(AssessError::SymbolTooWide { .. }))
        ));
        assert!(matches!(
            restart(&data, 0, 2, 0.0),
            Err(RestartError::Assess(AssessError::BadWidth { bits: 0 }))
        ));
    }

    /// A NaN row or column estimate pulls `H_r` / `H_c` down to 0 (and
    /// fails validation) rather than being passed over.
    #[test]
    fn a_nan_estimate_does_not_validate() {
        let estimates = |h: f64| {
            Report::from_estimates(
                4,
                vec![
                    crate::assess::Estimate::new(Estimator::Mcv, 3.0, 0.125),
                    crate::assess::Estimate::new(Estimator::Lag, h, 0.125),
                ],
                Vec::new(),
                Vec::new(),
            )
            .ok()
        };
        let mut report = RestartReport {
            rows: 2,
            cols: 2,
            bits: 4,
            distinct: 4,
            h_initial: 2.0,
            alpha: 0.01,
            row_cutoff: 2,
            col_cutoff: 2,
            binomial_row_cutoff: 2,
            row_max: 1,
            col_max: 1,
            sanity_passed: true,
            row_report: estimates(3.5),
            col_report: estimates(3.5),
        };
        assert_eq!(report.h_r(), Some(3.0));
        assert_eq!(report.validated(), Some(2.0));
        report.col_report = estimates(f64::NAN);
        assert_eq!(report.h_c(), Some(0.0));
        assert!(!report.validation_passed());
        assert_eq!(report.validated(), None);
    }
}
