//! The four prediction estimators of NIST SP 800-90B, sections 6.3.7-6.3.10:
//! MultiMCW, Lag, MultiMMC and LZ78Y.
//!
//! Each one walks the data once, predicts every symbol from the ones before
//! it, and counts the correct predictions `C` (out of `N`) and the longest run
//! of consecutive correct ones. `predictor_estimate` (in the parent module)
//! turns those three numbers into the min-entropy estimate.
//!
//! Where the standard leaves a detail open (tie-breaking, the order in which
//! dictionaries are filled, what happens once a dictionary is full), the code
//! does what NIST's `ea_non_iid` 1.1.7 does, so that `C` and the longest run
//! agree with the tool exactly. The data structures are our own: the hot loops
//! avoid allocation, binary data uses flat tables indexed by the packed
//! context, wider symbols use hash tables keyed on packed contexts.
//!
//! Every table of sample-derived data (counts, windows, contexts) is wiped
//! before its memory is freed, also when a hash table grows: the seeder runs
//! these estimators on the very samples of its first secret block.

use std::hash::{Hash, Hasher};

use zeroize::{DefaultIsZeroes, Zeroize, Zeroizing};

use super::{
    AssessError, Estimate, Estimator, MAX_ALPHABET, bits_at, check_alphabet, pack_bits,
    predictor_estimate,
};

/// The four MultiMCW window sizes `w_1..w_4` (SP 800-90B 6.3.7 step 1).
const MCW_WINDOWS: [usize; 4] = [63, 255, 1023, 4095];

/// The number of Lag predictors `D` (SP 800-90B 6.3.8 step 1).
const LAG_DEPTH: usize = 128;

/// The number of MultiMMC orders `D` (SP 800-90B 6.3.9 step 1).
const MMC_DEPTH: usize = 16;

/// At most this many (context, follower) entries per MultiMMC order
/// (SP 800-90B 6.3.9 step 1, `MAX_ENTRIES`).
const MMC_MAX_ENTRIES: u64 = 100_000;

/// The longest LZ78Y context `B` (SP 800-90B 6.3.10 step 1).
const LZ78Y_DEPTH: usize = 16;

/// At most this many contexts, summed over all lengths, in the LZ78Y
/// dictionary (SP 800-90B 6.3.10 step 1, `MAX_DICTIONARY_SIZE`).
const LZ78Y_MAX_DICTIONARY: u64 = 65_536;

/// SP 800-90B 6.3.7, the Multi Most Common in Window prediction estimate.
///
/// Four sub-predictors each predict the most common symbol of the last
/// `w` = 63, 255, 1023 and 4095 symbols; the one with the best score so far
/// makes the prediction. `N = L - 63` predictions.
///
/// As in `ea_non_iid`: ties for the most common symbol go to the one seen most
/// recently; a sub-predictor's score counts only once its window is full; the
/// scoreboard winner changes whenever a correct sub-predictor's score reaches
/// (`>=`) the current winner's, checked in window order.
///
/// `data` holds symbols `0..k`; `k` is the alphabet size (2 for bits). Needs
/// at least 4096 symbols (the largest window plus one), like the tool.
///
/// # Errors
///
/// [`AssessError::BadAlphabet`] for `k` outside `1..=256`,
/// [`AssessError::Empty`] for no data, [`AssessError::TooFewSamples`] below
/// the minimum length, [`AssessError::SymbolOutOfAlphabet`] for a symbol
/// `>= k`.
pub fn multi_mcw(data: &[u8], k: usize) -> Result<Estimate, AssessError> {
    check_input(data, k, Estimator::MultiMcw, MCW_WINDOWS[3] + 1)?;
    Ok(multi_mcw_tally(data, k).estimate(Estimator::MultiMcw, k))
}

/// SP 800-90B 6.3.8, the Lag prediction estimate.
///
/// `D = 128` sub-predictors; sub-predictor `d` predicts the symbol `d` places
/// back. The one with the best score so far makes the prediction; on a tie
/// for the best score the longest lag that has just scored wins, as in
/// `ea_non_iid`. `N = L - 1` predictions.
///
/// `data` holds symbols `0..k`; `k` is the alphabet size (2 for bits). Needs
/// at least 3 symbols, like the tool.
///
/// # Errors
///
/// [`AssessError::BadAlphabet`] for `k` outside `1..=256`,
/// [`AssessError::Empty`] for no data, [`AssessError::TooFewSamples`] below
/// the minimum length, [`AssessError::SymbolOutOfAlphabet`] for a symbol
/// `>= k`.
pub fn lag(data: &[u8], k: usize) -> Result<Estimate, AssessError> {
    check_input(data, k, Estimator::Lag, 3)?;
    Ok(lag_tally(data, k).estimate(Estimator::Lag, k))
}

/// SP 800-90B 6.3.9, the Multi Markov Model with Counting prediction estimate.
///
/// `D = 16` sub-predictors; sub-predictor `d` (order 1..16) predicts the
/// symbol that has most often followed the last `d` symbols, keeping at most
/// 100,000 (context, follower) entries per order. `N = L - 2` predictions.
///
/// As in `ea_non_iid`: ties between followers go to the larger symbol value;
/// once an order's context has not been seen, no longer order is looked up
/// in that step (new entries are still added while there is room); the
/// winner changes when a correct sub-predictor's score reaches (`>=`) the
/// winner's, checked from order 1 up; a step where the winner has no
/// prediction neither counts nor breaks the run of correct predictions.
///
/// `data` holds symbols `0..k`; `k` is the alphabet size (2 for bits). Needs
/// at least 3 symbols, like the tool.
///
/// # Errors
///
/// [`AssessError::BadAlphabet`] for `k` outside `1..=256`,
/// [`AssessError::Empty`] for no data, [`AssessError::TooFewSamples`] below
/// the minimum length, [`AssessError::SymbolOutOfAlphabet`] for a symbol
/// `>= k`.
pub fn multi_mmc(data: &[u8], k: usize) -> Result<Estimate, AssessError> {
    check_input(data, k, Estimator::MultiMmc, 3)?;
    Ok(multi_mmc_any_tally(data, k).estimate(Estimator::MultiMmc, k))
}

/// SP 800-90B 6.3.10, the LZ78Y prediction estimate.
///
/// Contexts of the last 1..`B` = 16 symbols are kept in one dictionary of at
/// most 65,536 contexts (all lengths together); the prediction is the most
/// frequent follower of the context with the highest count, the longer
/// context winning ties. `N = L - 17` predictions.
///
/// As in `ea_non_iid`: ties between followers go to the larger symbol value;
/// the dictionary is seeded with the 16 contexts that end at symbol 15;
/// contexts are looked up and added from the longest to the shortest.
///
/// `data` holds symbols `0..k`; `k` is the alphabet size (2 for bits). Needs
/// at least 18 symbols, like the tool.
///
/// # Errors
///
/// [`AssessError::BadAlphabet`] for `k` outside `1..=256`,
/// [`AssessError::Empty`] for no data, [`AssessError::TooFewSamples`] below
/// the minimum length, [`AssessError::SymbolOutOfAlphabet`] for a symbol
/// `>= k`.
pub fn lz78y(data: &[u8], k: usize) -> Result<Estimate, AssessError> {
    check_input(data, k, Estimator::Lz78y, LZ78Y_DEPTH + 2)?;
    Ok(lz78y_any_tally(data, k).estimate(Estimator::Lz78y, k))
}

/// [`multi_mmc`] and [`lz78y`] on the same data; on bits in one pass, where
/// LZ78Y reads MultiMMC's counts (same results, a fraction of LZ78Y's work).
pub(crate) fn multi_mmc_and_lz78y(
    data: &[u8],
    k: usize,
) -> (Result<Estimate, AssessError>, Result<Estimate, AssessError>) {
    let fits = check_input(data, k, Estimator::MultiMmc, 3).is_ok()
        && check_input(data, k, Estimator::Lz78y, LZ78Y_DEPTH + 2).is_ok()
        && data.len() < u32::MAX as usize;
    if k == 2 && fits {
        let (mmc, lz) = mmc_lz78y_binary_tallies(data);
        (
            Ok(mmc.estimate(Estimator::MultiMmc, k)),
            Ok(lz.estimate(Estimator::Lz78y, k)),
        )
    } else {
        (multi_mmc(data, k), lz78y(data, k))
    }
}

/// Rejects what the estimators cannot run on: an alphabet size outside
/// `1..=256` (the `1/k` floor must not claim more than 8 bits per byte),
/// no data, fewer than `needed` symbols, or a symbol outside `0..k`.
fn check_input(
    data: &[u8],
    k: usize,
    estimator: Estimator,
    needed: usize,
) -> Result<(), AssessError> {
    if !(1..=MAX_ALPHABET).contains(&k) {
        return Err(AssessError::BadAlphabet { k });
    }
    if data.is_empty() {
        return Err(AssessError::Empty);
    }
    if data.len() < needed {
        return Err(AssessError::TooFewSamples {
            estimator,
            needed,
            got: data.len(),
        });
    }
    check_alphabet(data, k)
}

/// What a predictor run counts: `C`, `N` and the longest run of correct
/// predictions (the tool prints `r` = longest run + 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tally {
    correct: u64,
    n: u64,
    longest_run: u64,
    run: u64,
}

impl Tally {
    fn new(n: usize) -> Self {
        Tally {
            correct: 0,
            n: n as u64,
            longest_run: 0,
            run: 0,
        }
    }

    /// Counts one prediction. Written without branches: on random data the
    /// outcome is a coin flip the CPU cannot predict.
    #[inline(always)]
    fn record(&mut self, correct: bool) {
        let c = u64::from(correct);
        self.correct += c;
        self.run = (self.run + 1) * c;
        self.longest_run = self.longest_run.max(self.run);
    }

    /// Counts `len` (1..=64) predictions at once, given as the top `len`
    /// bits of `right` (the first in bit 63, the rest zero): as many
    /// [`Tally::record`] calls.
    fn record_bits(&mut self, right: u64, len: u32) {
        self.correct += u64::from(right.count_ones());
        // The run the block starts with continues the one before it.
        let lead = (!right).leading_zeros();
        if lead >= len {
            self.run += u64::from(len);
            self.longest_run = self.longest_run.max(self.run);
            return;
        }
        self.longest_run = self.longest_run.max(self.run + u64::from(lead));
        // The longest run inside: each step shortens every run by one.
        let (mut rest, mut inside) = (right, 0u64);
        while rest != 0 {
            rest &= rest << 1;
            inside += 1;
        }
        self.longest_run = self.longest_run.max(inside);
        // The run the block ends with (it has a wrong prediction).
        self.run = u64::from((!(right >> (64 - len))).trailing_zeros());
    }

    fn estimate(self, estimator: Estimator, k: usize) -> Estimate {
        predictor_estimate(estimator, self.correct, self.n, self.longest_run, k)
    }
}

/// The per-symbol tables are indexed by symbol value, so they never need
/// more than 256 slots whatever `k` says.
fn table_size(k: usize) -> usize {
    k.clamp(1, 256)
}

// ---------------------------------------------------------------------------
// 6.3.7 MultiMCW
// ---------------------------------------------------------------------------

/// One MultiMCW sub-predictor: the symbol counts of a sliding window and its
/// most common symbol (most recent among equals).
struct McwWindow {
    width: usize,
    counts: Zeroizing<Vec<u32>>,
    /// `at_count[c]`: how many symbols occur `c` times in the window.
    at_count: Zeroizing<Vec<u32>>,
    /// Position of each symbol's latest occurrence (meaningful while its
    /// count is non-zero): the tie-breaker.
    last: Zeroizing<Vec<usize>>,
    max: u32,
    frequent: u8,
}

impl McwWindow {
    /// Counts `data[..width]`. A symbol that reaches the current maximum
    /// becomes the most common one, which makes it the most recent among
    /// the most common, as the tool's incremental rule does.
    fn new(data: &[u8], width: usize, k: usize) -> Self {
        let mut w = McwWindow {
            width,
            counts: Zeroizing::new(vec![0; table_size(k)]),
            at_count: Zeroizing::new(vec![0; width + 2]),
            last: Zeroizing::new(vec![0; table_size(k)]),
            max: 0,
            frequent: 0,
        };
        for (i, &s) in data.iter().enumerate().take(width) {
            let c = &mut w.counts[usize::from(s)];
            *c += 1;
            w.last[usize::from(s)] = i;
            if *c >= w.max {
                w.max = *c;
                w.frequent = s;
            }
        }
        for &c in w.counts.iter() {
            w.at_count[c as usize] += 1;
        }
        w
    }

    /// Moves the window one place on, to end at `data[i]`.
    fn slide(&mut self, data: &[u8], i: usize) {
        let out = data[i - self.width];
        let inn = data[i];
        self.last[usize::from(inn)] = i;
        if out == inn {
            // Counts are unchanged; only recency moved. `inn` is now the most
            // recent symbol, so it takes over if it ties the maximum.
            if self.counts[usize::from(inn)] == self.max {
                self.frequent = inn;
            }
            return;
        }
        let o = &mut self.counts[usize::from(out)];
        self.at_count[*o as usize] -= 1;
        *o -= 1;
        self.at_count[*o as usize] += 1;
        let c = &mut self.counts[usize::from(inn)];
        self.at_count[*c as usize] -= 1;
        *c += 1;
        self.at_count[*c as usize] += 1;
        if out != self.frequent {
            // The old leader kept its count, so the maximum can only be
            // reached or passed by the newcomer, which is the most recent.
            if *c >= self.max {
                self.max = *c;
                self.frequent = inn;
            }
        } else {
            self.rescan(data, i);
        }
    }

    /// The leader lost a symbol (and `data[i]` came in): find the most
    /// common symbol again, ties to the latest occurrence. The new maximum
    /// follows from the counts of counts; the latest symbol that has it is
    /// the first one met walking back from `i`, usually after a few
    /// steps (it is among the most common); past 256 steps, a scan of all
    /// symbols is cheaper.
    fn rescan(&mut self, data: &[u8], i: usize) {
        let m = self.max as usize;
        let top = if self.at_count[m + 1] > 0 {
            m + 1
        } else if self.at_count[m] > 0 {
            m
        } else {
            m - 1
        } as u32;
        self.max = top;
        let walk = self.width.min(256);
        if let Some(&s) = data[i + 1 - walk..=i]
            .iter()
            .rev()
            .find(|&&s| self.counts[usize::from(s)] == top)
        {
            self.frequent = s;
            return;
        }
        let mut best_last = 0usize;
        for (s, (&c, &l)) in self.counts.iter().zip(self.last.iter()).enumerate() {
            if c == top && l >= best_last {
                best_last = l;
                // `s` indexes a table of at most 256 slots.
                self.frequent = s as u8;
            }
        }
    }
}

/// MultiMCW's counts on `data` (at least 4096 symbols in `0..k`).
fn multi_mcw_tally(data: &[u8], k: usize) -> Tally {
    if k == 2 {
        multi_mcw_binary_tally(data)
    } else {
        multi_mcw_general_tally(data, k)
    }
}

/// MultiMCW on bits: every window has an odd size, so its most common bit
/// is a strict majority and no tie-break is ever needed; a count of ones
/// per window is all the state.
fn multi_mcw_binary_tally(data: &[u8]) -> Tally {
    let first = MCW_WINDOWS[0];
    let mut tally = Tally::new(data.len() - first);
    let mut ones = MCW_WINDOWS.map(|w| data[..w].iter().map(|&b| u32::from(b & 1)).sum::<u32>());
    let mut board = Scoreboard::<4>::new();
    // Until the largest window is full: only the full ones score.
    let all = MCW_WINDOWS[3].min(data.len());
    for i in first..all {
        let x = data[i] & 1;
        let mut frequent = [0u8; 4];
        for ((f, &c), &w) in frequent.iter_mut().zip(&ones).zip(&MCW_WINDOWS) {
            *f = u8::from(2 * c as usize > w);
        }
        tally.record(frequent[board.winner] == x);
        for (j, &w) in MCW_WINDOWS.iter().enumerate() {
            if i >= w {
                board.score(j, frequent[j] == x);
                ones[j] = ones[j] + u32::from(x) - u32::from(data[i - w] & 1);
            }
        }
    }
    // Then every window, written out: no checks of which ones are full,
    // and the comparison with the high score in a register.
    for i in all..data.len() {
        let x = data[i] & 1;
        let mut right = [false; 4];
        for ((r, &c), &w) in right.iter_mut().zip(&ones).zip(&MCW_WINDOWS) {
            *r = u8::from(2 * c as usize > w) == x;
        }
        tally.record(right[board.winner]);
        for (j, &w) in MCW_WINDOWS.iter().enumerate() {
            board.score(j, right[j]);
            ones[j] = ones[j] + u32::from(x) - u32::from(data[i - w] & 1);
        }
    }
    tally
}

/// MultiMCW on any alphabet: per-window counts with the tool's tie-break.
fn multi_mcw_general_tally(data: &[u8], k: usize) -> Tally {
    let first = MCW_WINDOWS[0];
    let mut tally = Tally::new(data.len() - first);
    // Every window starts full from the start of the data. Window j's leader
    // is only consulted once i >= w_j: before that its score is 0 and it
    // cannot be the winner.
    let mut windows: Vec<McwWindow> = MCW_WINDOWS
        .iter()
        .map(|&w| McwWindow::new(data, w, k))
        .collect();
    let mut scoreboard = [0u64; 4];
    let mut winner = 0usize;
    for i in first..data.len() {
        let x = data[i];
        tally.record(windows[winner].frequent == x);
        for (j, w) in windows.iter().enumerate() {
            if i >= w.width && w.frequent == x {
                scoreboard[j] += 1;
                if scoreboard[j] >= scoreboard[winner] {
                    winner = j;
                }
            }
        }
        for w in windows.iter_mut() {
            if i >= w.width {
                w.slide(data, i);
            }
        }
    }
    tally
}

// ---------------------------------------------------------------------------
// 6.3.8 Lag
// ---------------------------------------------------------------------------

/// 128 counters kept bit-sliced: bit `d` of `planes[b]` is bit `b` of lag
/// `d + 1`'s score. Adding one to every lag of a mask costs a few word
/// operations instead of up to 128 separate increments.
struct SlicedCounters {
    planes: Zeroizing<Vec<u128>>,
}

impl SlicedCounters {
    /// Enough planes for counts up to `max`.
    fn new(max: usize) -> Self {
        let bits = (usize::BITS - max.leading_zeros()).max(1) as usize;
        SlicedCounters {
            planes: Zeroizing::new(vec![0; bits]),
        }
    }

    /// Adds one to every counter in `mask` (ripple carry, stops early).
    fn increment(&mut self, mask: u128) {
        let mut carry = mask;
        for plane in self.planes.iter_mut() {
            let next = *plane & carry;
            *plane ^= carry;
            carry = next;
            if carry == 0 {
                break;
            }
        }
    }

    /// The counters that are at least `value`.
    fn at_least(&self, value: u64) -> u128 {
        if value >> self.planes.len().min(63) != 0 {
            return 0;
        }
        // From the top bit down: greater already, or equal so far.
        let (mut greater, mut equal) = (0u128, u128::MAX);
        for (b, &plane) in self.planes.iter().enumerate().rev() {
            if (value >> b) & 1 == 1 {
                equal &= plane;
            } else {
                greater |= equal & plane;
                equal &= !plane;
            }
        }
        greater | equal
    }

    /// Every counter's value, counter `d` in `out[d]`.
    fn read_all(&self, out: &mut [u64; LAG_DEPTH]) {
        for (d, value) in out.iter_mut().enumerate() {
            *value = self
                .planes
                .iter()
                .enumerate()
                .map(|(b, &plane)| (((plane >> d) & 1) as u64) << b)
                .sum();
        }
    }

    /// Sets every counter, counter `d` to `values[d]`.
    fn write_all(&mut self, values: &[u64; LAG_DEPTH]) {
        for (b, plane) in self.planes.iter_mut().enumerate() {
            *plane = values
                .iter()
                .enumerate()
                .fold(0, |acc, (d, &v)| acc | (u128::from((v >> b) & 1) << d));
        }
    }

    /// The counters within `mask` that equal `value`.
    fn equal_to(&self, value: u64, mask: u128) -> u128 {
        let mut eq = mask;
        for (b, &plane) in self.planes.iter().enumerate() {
            if b < 64 && (value >> b) & 1 == 1 {
                eq &= plane;
            } else {
                eq &= !plane;
            }
            if eq == 0 {
                break;
            }
        }
        eq
    }
}

/// Index of the highest set bit of a non-zero mask.
fn top_bit(mask: u128) -> usize {
    127 - mask.leading_zeros() as usize
}

/// Steps per block of Lag on bits: a lag more than this far below the high
/// score when a block starts cannot reach it within the block (it gains at
/// most one a step), so it cannot win or tie there.
const LAG_BLOCK: usize = 64;

/// At most this many lags within [`LAG_BLOCK`] of the high score: the block
/// is scored lag by lag, the others' scores brought up to date at its end
/// with a popcount each. On real data one lag usually leads by far (the
/// bit of the same position a sample or a period back), and this costs a
/// fraction of updating all 128 counters every step.
const LAG_FEW: u32 = 8;

/// Lag's counts on `data` (at least 2 symbols in `0..k`). Any alphabet:
/// the state is one 128-bit mask per symbol value plus the bit-sliced
/// scores; on bits, blocks where few lags are near the top go lag by lag.
fn lag_tally(data: &[u8], k: usize) -> Tally {
    let n = data.len();
    let mut lag = Lag {
        tally: Tally::new(n - 1),
        scores: SlicedCounters::new(n),
        seen: [0u128; 256],
        high: 0,
        at_high: u128::MAX,
        winner: 0,
    };
    lag.seen[usize::from(data[0])] |= 1 << lag_slot(0);
    if k != 2 {
        lag.dense(data, 1, n);
        lag.seen.zeroize();
        return lag.tally;
    }
    // Bits: step by step until every lag has a bit to compare with, then
    // in blocks.
    lag.dense(data, 1, LAG_DEPTH.min(n));
    // The scores by lag offset while blocks go lag by lag (`scores` is
    // then stale), and the bits packed 64 to a word (first in the top bit,
    // a zero word after) for the popcounts.
    let mut plain = Zeroizing::new([0u64; LAG_DEPTH]);
    let mut in_plain = false;
    // A block's bits that equal those d places before them, by lag.
    let mut same = Zeroizing::new([0u64; LAG_DEPTH]);
    let words = pack_bits(data);
    for i in (LAG_DEPTH..n).step_by(LAG_BLOCK) {
        let end = (i + LAG_BLOCK).min(n);
        let floor = lag.high.saturating_sub(LAG_BLOCK as u64);
        let near = if in_plain {
            let half = |scores: &[u64]| {
                scores
                    .iter()
                    .enumerate()
                    .fold(0u64, |m, (o, &v)| m | (u64::from(v >= floor) << o))
            };
            u128::from(half(&plain[..64])) | (u128::from(half(&plain[64..])) << 64)
        } else {
            lag.scores.at_least(floor)
        };
        if near.count_ones() > LAG_FEW {
            if in_plain {
                lag.scores.write_all(&plain);
                // The window of the last 128 bits, not kept lag by lag.
                lag.seen = [0; 256];
                for (p, &s) in data.iter().enumerate().take(i).skip(i - LAG_DEPTH) {
                    lag.seen[usize::from(s)] |= 1 << lag_slot(p);
                }
                in_plain = false;
            }
            lag.dense(data, i, end);
            continue;
        }
        if !in_plain {
            lag.scores.read_all(&mut plain);
            in_plain = true;
        }
        // Only the winner near the high score (the usual case on real
        // data): no other lag can reach it in this block, so the winner
        // stays and its bits are the tally's; every lag is counted below.
        let alone = near.count_ones() == 1;
        let stepped = if alone { 0 } else { near };
        if !alone {
            lag.few(data, i, end, near, &mut plain);
        }
        // The other lags' scores over the block: the bits i..end equal to
        // those d places before them.
        let here = bits_at(&words, i);
        let mask = u64::MAX << (LAG_BLOCK - (end - i));
        // The bits from i - 64 and i - 128, to shift the lags' windows out of.
        let (front, back) = (bits_at(&words, i - 64), bits_at(&words, i - 128));
        for (half, (later, earlier)) in [(here, front), (front, back)].into_iter().enumerate() {
            let near = (stepped >> (64 * half)) as u64;
            for (o, same) in same[64 * half..64 * half + 64].iter_mut().enumerate() {
                // The bits from i - 64 * half - o - 1.
                let d = o as u32 + 1;
                let before =
                    earlier.checked_shl(64 - d).unwrap_or(0) | later.checked_shr(d).unwrap_or(0);
                // The near lags were counted step by step.
                let far = ((near >> o) & 1).wrapping_sub(1);
                *same = !(here ^ before) & mask & far;
            }
        }
        for (score, same) in plain.iter_mut().zip(same.iter()) {
            *score += u64::from(same.count_ones());
        }
        if alone {
            lag.tally.record_bits(same[lag.winner], (end - i) as u32);
            lag.high = plain[lag.winner];
            lag.at_high = 1 << lag.winner;
        }
    }
    // It holds where each of the last 128 symbols was: wipe the stack copy.
    lag.seen.zeroize();
    lag.tally
}

/// Where position `p` is kept in [`Lag::seen`]'s masks: bit `-p mod 128`.
/// With that orientation, rotating right by `(1 - i) mod 128` turns a mask
/// into one over lag offsets (bit `o` = lag `o + 1`) at step `i`, and
/// sliding the window only touches two words.
fn lag_slot(p: usize) -> usize {
    p.wrapping_neg() % LAG_DEPTH
}

/// Lag's state between steps.
struct Lag {
    tally: Tally,
    /// Exact while stepping [`Lag::dense`].
    scores: SlicedCounters,
    /// Bit [`lag_slot`]`(p)` of `seen[s]`: position `p`, one of the last
    /// 128, holds symbol `s`. Kept by [`Lag::dense`] only.
    seen: [u128; 256],
    /// The highest score, and the lags that have it.
    high: u64,
    at_high: u128,
    /// The winning lag offset: the prediction is `data[i - winner - 1]`.
    winner: usize,
}

impl Lag {
    /// Steps `from..to`, scoring every lag.
    #[inline(always)]
    fn dense(&mut self, data: &[u8], from: usize, to: usize) {
        for i in from..to {
            let x = data[i];
            self.tally.record(data[i - self.winner - 1] == x);

            let rotation = (1usize.wrapping_sub(i) % LAG_DEPTH) as u32;
            let matched = self.seen[usize::from(x)].rotate_right(rotation);
            if matched != 0 {
                self.scores.increment(matched);
                // The tool scores lags from the shortest up and moves the
                // winner to each one whose new score is >= the running high
                // score. So the winner ends as the longest lag that reached
                // the new maximum: high + 1 if any leader scored, else high.
                let leaders = matched & self.at_high;
                if leaders != 0 {
                    self.high += 1;
                    self.at_high = leaders;
                    self.winner = top_bit(leaders);
                } else {
                    let tied = self.scores.equal_to(self.high, matched);
                    if tied != 0 {
                        self.at_high |= tied;
                        self.winner = top_bit(tied);
                    }
                }
            }

            let s = lag_slot(i);
            if i >= LAG_DEPTH {
                self.seen[usize::from(data[i - LAG_DEPTH])] &= !(1u128 << s);
            }
            self.seen[usize::from(x)] |= 1u128 << s;
        }
    }

    /// Steps `from..to` (`from >= 128`) as [`Lag::dense`] does, scoring
    /// only the lags in `near` (the others cannot reach the high score in
    /// these steps), in `plain`.
    fn few(
        &mut self,
        data: &[u8],
        from: usize,
        to: usize,
        near: u128,
        plain: &mut [u64; LAG_DEPTH],
    ) {
        for i in from..to {
            let x = data[i];
            self.tally.record(data[i - self.winner - 1] == x);
            let (mut matched, mut tied) = (0u128, 0u128);
            let mut rest = near;
            while rest != 0 {
                let o = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                let hit = data[i - o - 1] == x;
                plain[o] += u64::from(hit);
                matched |= u128::from(hit) << o;
                tied |= u128::from(hit & (plain[o] == self.high)) << o;
            }
            // As in `dense`, without branches: whether the leader scored is
            // a coin flip weighted by its rate, which the CPU cannot guess.
            let leaders = matched & self.at_high;
            let led = leaders != 0;
            let pick = if led { leaders } else { tied };
            self.high += u64::from(led);
            self.at_high = if led { leaders } else { self.at_high | tied };
            let top = 127usize.wrapping_sub(pick.leading_zeros() as usize);
            self.winner = if pick != 0 { top } else { self.winner };
        }
    }
}

// ---------------------------------------------------------------------------
// Shared context dictionaries (MultiMMC, LZ78Y on non-binary data)
// ---------------------------------------------------------------------------

/// A small, fast hasher for the packed integer keys (the `folded multiply`
/// of foldhash / wyhash). It has no random key: data crafted to collide could
/// slow the maps down, never change a result.
#[derive(Default, Clone, Copy)]
struct FoldHasher {
    state: u64,
}

const FOLD_K1: u64 = 0x243f_6a88_85a3_08d3;
const FOLD_K2: u64 = 0x1319_8a2e_0370_7344;

fn folded_multiply(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

impl Hasher for FoldHasher {
    fn finish(&self) -> u64 {
        self.state
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not used by the integer keys here; kept correct for completeness.
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u32(&mut self, x: u32) {
        self.write_u64(u64::from(x));
    }

    fn write_u64(&mut self, x: u64) {
        self.state = folded_multiply(self.state ^ x ^ FOLD_K1, FOLD_K2);
    }

    fn write_u128(&mut self, x: u128) {
        self.state = folded_multiply(
            self.state ^ (x as u64) ^ FOLD_K1,
            ((x >> 64) as u64) ^ FOLD_K2,
        );
    }
}

/// A [`WipeMap`] is at most `LOAD_NUM / LOAD_DEN` full (as `hashbrown`).
const LOAD_NUM: usize = 7;
const LOAD_DEN: usize = 8;

/// A value of a [`WipeMap`], which tells whether its slot is taken: the
/// all-zero default never is (counts start at 1), so no separate array of
/// control bytes is needed and a probe reads one cache line.
trait SlotValue: Copy + Default {
    fn taken(&self) -> bool;
}

/// A follower's count: at least 1 once stored.
impl SlotValue for u32 {
    fn taken(&self) -> bool {
        *self != 0
    }
}

/// A slot of a [`WipeMap`]: a key and its value, plain data.
#[derive(Clone, Copy, Default)]
struct Slot<K, V> {
    key: K,
    value: V,
}

// Wiping writes `Slot::default()`, all zeroes for the keys and values here
// (integers); their layouts have no padding (tested), so no byte escapes.
impl<K: Copy + Default, V: Copy + Default> DefaultIsZeroes for Slot<K, V> {}

/// An open-addressing hash table (linear probing, power-of-two size) whose
/// memory is all [`Zeroizing`]: wiped when the table is dropped and when it
/// grows (the old array is dropped after the move), which `std`'s `HashMap`
/// cannot do. Only what the estimators need: find, insert, length; no
/// removal.
struct WipeMap<K: Copy + Default, V: SlotValue> {
    slots: Zeroizing<Vec<Slot<K, V>>>,
    len: usize,
}

impl<K: Copy + Default + Eq + Hash, V: SlotValue> WipeMap<K, V> {
    /// Room for `n` entries without growing.
    fn with_capacity(n: usize) -> Self {
        let slots = (n.saturating_mul(LOAD_DEN) / LOAD_NUM + 1)
            .next_power_of_two()
            .max(8);
        WipeMap {
            slots: Zeroizing::new(vec![Slot::default(); slots]),
            len: 0,
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// The first slot to probe for `key`.
    #[inline]
    fn home(key: &K, mask: usize) -> usize {
        let mut h = FoldHasher::default();
        key.hash(&mut h);
        (h.finish() as usize) & mask
    }

    /// `Ok(slot)` holding `key`, or `Err(slot)`: the empty slot where it
    /// would go (valid until the next insertion).
    #[inline]
    fn find(&self, key: &K) -> Result<usize, usize> {
        let mask = self.slots.len() - 1;
        let mut i = Self::home(key, mask);
        loop {
            let slot = &self.slots[i];
            if !slot.value.taken() {
                return Err(i);
            }
            if slot.key == *key {
                return Ok(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// The value in slot `i` (from [`WipeMap::find`] or an insertion).
    #[inline]
    fn at(&mut self, i: usize) -> &mut V {
        &mut self.slots[i].value
    }

    /// Stores `value` (taken) for the absent `key` in the empty slot
    /// `vacant` that [`WipeMap::find`] gave, growing first if the table is
    /// full enough; returns the slot used.
    #[inline]
    fn insert_vacant(&mut self, vacant: usize, key: K, value: V) -> usize {
        debug_assert!(value.taken());
        let mut i = vacant;
        if (self.len + 1) * LOAD_DEN > self.slots.len() * LOAD_NUM {
            self.grow();
            i = self.find(&key).unwrap_or_else(|empty| empty);
        }
        self.slots[i] = Slot { key, value };
        self.len += 1;
        i
    }

    /// Doubles the table; the old array is wiped as it is dropped.
    #[cold]
    fn grow(&mut self) {
        let bigger = self.slots.len() * 2;
        let old = core::mem::replace(
            &mut self.slots,
            Zeroizing::new(vec![Slot::default(); bigger]),
        );
        let mask = bigger - 1;
        for slot in old.iter().filter(|s| s.value.taken()) {
            let mut i = Self::home(&slot.key, mask);
            while self.slots[i].value.taken() {
                i = (i + 1) & mask;
            }
            self.slots[i] = *slot;
        }
    }
}

/// A context of up to 8 or up to 16 symbols packed one byte per symbol,
/// most recent in the low byte. Two sizes keep the short contexts' maps
/// small: a `u128` key would be 16-byte aligned and double their buckets.
trait ContextKey: Copy + Default + Eq + Hash {
    /// The last `len` symbols of `history`.
    fn last(history: u128, len: usize) -> Self;
}

impl ContextKey for u64 {
    fn last(history: u128, len: usize) -> Self {
        // Only used for len <= 8.
        let h = history as u64;
        if len >= 8 {
            h
        } else {
            h & ((1u64 << (8 * len)) - 1)
        }
    }
}

/// Up to 16 symbols as two `u64`s (8-byte aligned, unlike `u128`).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Wide {
    low: u64,
    high: u64,
}

impl Hash for Wide {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u128(u128::from(self.low) | (u128::from(self.high) << 64));
    }
}

impl ContextKey for Wide {
    fn last(history: u128, len: usize) -> Self {
        let h = if len >= 16 {
            history
        } else {
            history & ((1u128 << (8 * len)) - 1)
        };
        Wide {
            low: h as u64,
            high: (h >> 64) as u64,
        }
    }
}

/// What a context carries: a dense id (for the follower counts) and its
/// most frequent follower so far with that follower's count (the tool's
/// `PostfixDictionary` state). The best follower's count lives here only:
/// a follower that repeats the prediction, the common case in predictable
/// data, needs no second lookup.
#[derive(Clone, Copy, Default)]
struct ContextInfo {
    /// `id << 8 | best follower`; ids stay below 2^24 (at most 100,000
    /// contexts per MultiMMC order, 65,536 in all for LZ78Y).
    id_best: u32,
    /// At least 1 once the context is stored (it is stored with its first
    /// follower), which marks its slot taken.
    best_count: u32,
}

impl SlotValue for ContextInfo {
    fn taken(&self) -> bool {
        self.best_count != 0
    }
}

impl ContextInfo {
    fn best(self) -> u8 {
        self.id_best as u8
    }
}

/// The contexts of one length and the counts of their followers.
struct ContextTable<K: ContextKey> {
    contexts: WipeMap<K, ContextInfo>,
    /// `(context id << 8) | follower` -> count, for every follower seen
    /// except the context's current best, whose count is in its
    /// [`ContextInfo`] (the entry here is stale while it is the best).
    /// Saturating `u32`: only more than 4 billion samples could reach the
    /// limit.
    counts: WipeMap<u32, u32>,
}

impl<K: ContextKey> ContextTable<K> {
    /// Room for `contexts` contexts and `counts` other followers.
    fn with_capacity(contexts: usize, counts: usize) -> Self {
        ContextTable {
            contexts: WipeMap::with_capacity(contexts),
            counts: WipeMap::with_capacity(counts),
        }
    }

    /// Finds or makes context `ctx` and counts follower `y` after it
    /// (always allowed to add the follower).
    fn add(&mut self, ctx: K, y: u8) {
        let found = self.contexts.find(&ctx);
        self.add_at(found, ctx, y);
    }

    /// [`ContextTable::add`] where `found` is what `find(&ctx)` just gave.
    #[inline]
    fn add_at(&mut self, found: Result<usize, usize>, ctx: K, y: u8) {
        match found {
            Ok(i) => {
                count_follower(&mut self.counts, self.contexts.at(i), y, true);
            }
            Err(vacant) => {
                // A new context with its first follower, the best so far.
                let info = ContextInfo {
                    id_best: (self.contexts.len() as u32) << 8 | u32::from(y),
                    best_count: 1,
                };
                self.contexts.insert_vacant(vacant, ctx, info);
            }
        }
    }
}

/// Counts follower `y` of the (stored) context `info`. A follower not yet
/// seen is added only when `make_new`; returns whether it was. Ties for the
/// best follower go to the larger symbol, as in the tool.
#[inline]
fn count_follower(
    counts: &mut WipeMap<u32, u32>,
    info: &mut ContextInfo,
    y: u8,
    make_new: bool,
) -> bool {
    if y == info.best() {
        info.best_count = info.best_count.saturating_add(1);
        return false;
    }
    // Every follower seen is the best or has an entry here.
    let id = info.id_best & !0xff;
    let key = id | u32::from(y);
    let (count, added) = match counts.find(&key) {
        Ok(i) => {
            let c = counts.at(i);
            *c = c.saturating_add(1);
            (*c, false)
        }
        Err(vacant) => {
            if !make_new {
                return false;
            }
            counts.insert_vacant(vacant, key, 1);
            (1, true)
        }
    };
    if count > info.best_count || (count == info.best_count && y > info.best()) {
        // y takes over: the old best's count goes to the table (its entry
        // was stale or absent; it is not a new follower), y's stays stale.
        let old = id | u32::from(info.best());
        match counts.find(&old) {
            Ok(i) => *counts.at(i) = info.best_count,
            Err(vacant) => {
                counts.insert_vacant(vacant, old, info.best_count);
            }
        }
        info.id_best = key;
        info.best_count = count;
    }
    added
}

/// The scoreboard of MultiMCW's or MultiMMC's sub-predictors: each one's
/// score, the winner, and the high score.
///
/// The tool moves the winner to a right sub-predictor whose new score
/// reaches (`>=`) the winner's. That keeps the winner's score the highest
/// of all (a score grows by one at a time, so one that passes the winner's
/// first equals it, and takes over), so the comparison can be with `high`,
/// held in a register, instead of a load of `scores[winner]`, which waits
/// on the store of the score just counted.
struct Scoreboard<const N: usize> {
    scores: [u64; N],
    high: u64,
    winner: usize,
}

impl<const N: usize> Scoreboard<N> {
    fn new() -> Self {
        Scoreboard {
            scores: [0; N],
            high: 0,
            winner: 0,
        }
    }

    /// Sub-predictor `d` made a prediction, right or wrong. A right one
    /// whose score reaches the winner's takes over (for the next step).
    #[inline(always)]
    fn score(&mut self, d: usize, correct: bool) {
        let s = self.scores[d] + u64::from(correct);
        self.scores[d] = s;
        let takes_over = correct & (s >= self.high);
        self.winner = if takes_over { d } else { self.winner };
        self.high = self.high.max(s);
    }
}

/// The MultiMMC scoreboard step shared by both data layouts: sub-predictor
/// `d` made a prediction, right or wrong ([`Scoreboard::score`]); only the
/// winner of the step's start counts towards `C` and the run.
#[inline(always)]
fn mmc_score(
    d: usize,
    correct: bool,
    cur_winner: usize,
    board: &mut Scoreboard<MMC_DEPTH>,
    tally: &mut Tally,
) {
    board.score(d, correct);
    if d == cur_winner {
        tally.record(correct);
    }
}

// ---------------------------------------------------------------------------
// 6.3.9 MultiMMC
// ---------------------------------------------------------------------------

/// MultiMMC's counts on `data` (at least 3 symbols in `0..k`): flat tables
/// for bits, like the tool's separate binary code, hash maps otherwise.
fn multi_mmc_any_tally(data: &[u8], k: usize) -> Tally {
    if k == 2 {
        multi_mmc_binary_tally(data)
    } else {
        multi_mmc_tally(data, k)
    }
}

/// One MultiMMC order at one step: predicts with context `ctx` (looked up
/// only when `look`), then counts `y` after it. Returns whether the context
/// was found and, if so, whether its prediction was right.
fn mmc_order<K: ContextKey>(
    table: &mut ContextTable<K>,
    ctx: K,
    look: bool,
    y: u8,
    entries: &mut u64,
) -> Option<bool> {
    let room = *entries < MMC_MAX_ENTRIES;
    let mut found = None;
    if look {
        match table.contexts.find(&ctx) {
            Ok(i) => {
                let info = table.contexts.at(i);
                let correct = info.best() == y;
                if count_follower(&mut table.counts, info, y, room) {
                    *entries += 1;
                }
                return Some(correct);
            }
            missing => found = Some(missing),
        }
    }
    if room {
        // The tool's `M[d][x]` finds or makes the context, then counts the
        // follower as a new entry (even if it was there: that cannot happen
        // unless a shorter order ran out of room first).
        let found = found.unwrap_or_else(|| table.contexts.find(&ctx));
        table.add_at(found, ctx, y);
        *entries += 1;
    }
    None
}

/// MultiMMC on symbols up to 8 bits (in `0..k`): one context table per
/// order.
fn multi_mmc_tally(data: &[u8], k: usize) -> Tally {
    const SHORT: usize = 8;
    let n = data.len() - 2;
    let mut tally = Tally::new(n);
    // No order holds more than 100,000 (context, follower) entries, nor
    // more than one per step, nor more than k^(d+1) contexts. The maps start
    // at up to 4096 contexts (1024 other followers) and grow: sized for the
    // most they could hold, the short orders' few contexts would be spread
    // over megabytes, and each lookup would miss the caches.
    let capacity = n.min(MMC_MAX_ENTRIES as usize) + 1;
    let contexts = |d: usize| {
        let distinct = u32::try_from(d + 1)
            .ok()
            .and_then(|e| k.max(1).checked_pow(e))
            .unwrap_or(usize::MAX);
        capacity.min(distinct).min(4096)
    };
    let others = capacity.min(1024);
    let mut short: Vec<ContextTable<u64>> = (0..SHORT)
        .map(|d| ContextTable::with_capacity(contexts(d), others))
        .collect();
    let mut long: Vec<ContextTable<Wide>> = (SHORT..MMC_DEPTH)
        .map(|d| ContextTable::with_capacity(contexts(d), others))
        .collect();
    let mut entries = [0u64; MMC_DEPTH];

    // The tool seeds order d with (data[0..=d], data[d+1]).
    let mut history = 0u128;
    for d in 0..MMC_DEPTH.min(n) {
        history = (history << 8) | u128::from(data[d]);
        let y = data[d + 1];
        if d < SHORT {
            let t = &mut short[d];
            t.add(u64::last(history, d + 1), y);
        } else {
            let t = &mut long[d - SHORT];
            t.add(Wide::last(history, d + 1), y);
        }
        entries[d] = 1;
    }

    let mut board = Scoreboard::<MMC_DEPTH>::new();
    history = u128::from(data[1]);
    for (i, &y) in data.iter().enumerate().skip(2) {
        let cur_winner = board.winner;
        // Order d uses the d + 1 symbols data[i-d-1..i]. Once a shorter
        // context was missing, the tool does not look the longer ones up
        // (they cannot be there either).
        let mut look = true;
        for d in 0..MMC_DEPTH.min(i - 1) {
            let outcome = if d < SHORT {
                let ctx = u64::last(history, d + 1);
                mmc_order(&mut short[d], ctx, look, y, &mut entries[d])
            } else {
                let ctx = Wide::last(history, d + 1);
                mmc_order(&mut long[d - SHORT], ctx, look, y, &mut entries[d])
            };
            look = outcome.is_some();
            if let Some(correct) = outcome {
                mmc_score(d, correct, cur_winner, &mut board, &mut tally);
            }
        }
        history = (history << 8) | u128::from(y);
    }
    tally
}

/// Where the binary tables of contexts of `len` bits start, all lengths
/// 1..=16 sharing one flat table of 2^len (context) x 2 (follower) counts.
/// Each length's part is shifted by `len` x 576 bytes: without it the
/// entries one step reads for lengths 9 to 16 lie a multiple of 4 KiB
/// apart, so each load waited on the store to the length before it (the
/// CPU matches loads to earlier stores by the address's low 12 bits).
fn bit_table_base(len: usize) -> usize {
    (1usize << len) - 2 + len * 72
}

/// The last `len` bits of a history (most recent bit in bit 0).
fn bit_context(history: usize, len: usize) -> usize {
    history & ((1usize << len) - 1)
}

/// MultiMMC on bits: order d's counts live in a flat table of 2^(d+1)
/// contexts (the last d + 1 bits) x 2 followers. Counts are `u32` to keep
/// the table (1 MiB) in cache; they saturate, which would only matter past
/// 4 billion samples.
fn multi_mmc_binary_tally(data: &[u8]) -> Tally {
    multi_mmc_binary_pass(data, &mut NoRider)
}

/// What else runs on binary MultiMMC's pass, reading its counts.
trait Rider {
    /// The end of step `i`: `history` holds the bits before it (the most
    /// recent in bit 0), `y` is its bit, `table` MultiMMC's counts after it.
    fn step(&mut self, i: usize, history: usize, y: u8, table: &[[u32; 2]]);
}

/// MultiMMC alone.
struct NoRider;

impl Rider for NoRider {
    #[inline(always)]
    fn step(&mut self, _: usize, _: usize, _: u8, _: &[[u32; 2]]) {}
}

/// Binary MultiMMC, with `rider` reading its counts as it goes.
#[inline(always)]
fn multi_mmc_binary_pass(data: &[u8], rider: &mut impl Rider) -> Tally {
    let n = data.len() - 2;
    let mut table = Zeroizing::new(vec![[0u32; 2]; bit_table_base(MMC_DEPTH + 1)]);
    let mut entries = [0u64; MMC_DEPTH];

    let mut history = 0usize;
    for d in 0..MMC_DEPTH.min(n) {
        history = (history << 1) | usize::from(data[d] & 1);
        table[bit_table_base(d + 1) + history][usize::from(data[d + 1] & 1)] = 1;
        entries[d] = 1;
    }

    let mut board = BitBoard {
        scores: Scoreboard::new(),
        tally: Tally::new(n),
    };
    history = usize::from(data[1] & 1);
    for (i, &s) in data.iter().enumerate().skip(2) {
        let y = s & 1;
        let cur_winner = board.scores.winner;
        let mut step = BitStep {
            history,
            y,
            cur_winner,
            found: false,
            prediction: 0,
        };
        if i > MMC_DEPTH {
            // Every order has its context: written out, each order's table
            // offset, mask and score slot are constants, and the loop's own
            // count and bounds checks go.
            macro_rules! orders {
                ($($d:literal)*) => {
                    $(bit_mmc_order($d, &mut table, &mut entries, &mut step, &mut board);)*
                };
            }
            orders!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
        } else {
            for d in 0..MMC_DEPTH.min(i - 1) {
                bit_mmc_order(d, &mut table, &mut entries, &mut step, &mut board);
            }
        }
        rider.step(i, history, y, &table);
        // Only the last 16 bits are ever used.
        history = ((history << 1) | usize::from(y)) & 0xffff;
    }
    board.tally
}

/// Binary MultiMMC's scoreboard and counts of right predictions.
struct BitBoard {
    scores: Scoreboard<MMC_DEPTH>,
    tally: Tally,
}

/// One step of binary MultiMMC: its history and bit, the winner at its
/// start, and whether the last order looked at found its context (and
/// predicted what).
struct BitStep {
    history: usize,
    y: u8,
    cur_winner: usize,
    found: bool,
    prediction: u8,
}

/// Order `d`'s part of a step of binary MultiMMC: predict, score, count.
#[inline(always)]
fn bit_mmc_order(
    d: usize,
    table: &mut [[u32; 2]],
    entries: &mut [u64; MMC_DEPTH],
    step: &mut BitStep,
    board: &mut BitBoard,
) {
    let (y, yi) = (step.y, usize::from(step.y));
    let entry = &mut table[bit_table_base(d + 1) + bit_context(step.history, d + 1)];
    let room = entries[d] < MMC_MAX_ENTRIES;
    if d == 0 || step.found {
        // Ties predict 1 (the larger symbol), as the tool does.
        step.prediction = u8::from(entry[1] >= entry[0]);
        step.found = (entry[0] | entry[1]) != 0;
    }
    if step.found {
        mmc_score(
            d,
            step.prediction == y,
            step.cur_winner,
            &mut board.scores,
            &mut board.tally,
        );
        if entry[yi] != 0 {
            entry[yi] = entry[yi].saturating_add(1);
        } else if room {
            entry[yi] = 1;
            entries[d] += 1;
        }
    } else if room {
        // The tool's binary code sets (not adds) the entry here.
        entry[yi] = 1;
        entries[d] += 1;
    }
}

/// Binary MultiMMC and LZ78Y in one pass ([`multi_mmc_binary_tally`],
/// [`lz78y_binary_tally`]), for `data` of 18 to `u32::MAX` bits. LZ78Y then
/// reads the counts of its contexts of up to 15 bits from MultiMMC's table
/// instead of keeping its own, and once its dictionary is full it looks at
/// two or three of them a step instead of sixteen.
///
/// Why the counts can be shared: on bits, MultiMMC's orders 0 to 14 count
/// every occurrence of every context (they never reach 100,000 entries,
/// and an order past the first missing one is empty, so the tool's "set to
/// 1" there adds 1). LZ78Y counts a context's followers from the step it
/// joined its dictionary on: its first occurrence from position 16 on
/// while there is room (or position 16 itself, the seeds). So LZ78Y's
/// count is MultiMMC's less the occurrences before position 16, for the
/// contexts it holds: a bit per context says which, and the few early
/// occurrences are subtracted. The 16-bit contexts, where MultiMMC's
/// order-15 limit applies, keep LZ78Y's own table.
///
/// Why a few suffice: a held context's suffix one bit shorter is held too
/// and joined no later (a step with room adds every missing one), except
/// for the contexts of the step that filled the dictionary; so along the
/// held contexts of a step, from the shortest up, the best counts never
/// rise. The prediction, the longest context with the highest best count,
/// is then the last of those equal to the 1-bit context's: the walk stops
/// at the first lower one (the filling step's contexts are checked apart).
fn mmc_lz78y_binary_tallies(data: &[u8]) -> (Tally, Tally) {
    mmc_lz78y_binary_tallies_up_to(data, LZ78Y_MAX_DICTIONARY)
}

/// [`mmc_lz78y_binary_tallies`] with an LZ78Y dictionary of at most
/// `max_size` contexts (tests use small ones to fill it often).
fn mmc_lz78y_binary_tallies_up_to(data: &[u8], max_size: u64) -> (Tally, Tally) {
    debug_assert!(data.len() > LZ78Y_DEPTH + 1 && data.len() < u32::MAX as usize);
    let mut lz = LzRider::new(data, max_size);
    let mmc = multi_mmc_binary_pass(data, &mut lz);
    (mmc, lz.tally)
}

/// Up to this many bits, [`LzRider`] keeps the early occurrences of every
/// context in a table (they are common); longer ones in short lists.
const SHORT_EARLY: usize = 8;

/// LZ78Y riding on binary MultiMMC's pass (see
/// [`mmc_lz78y_binary_tallies`]).
struct LzRider {
    tally: Tally,
    /// Bit `at` set: the context of up to 15 bits whose MultiMMC entry is at
    /// `at` is in the dictionary.
    held: Zeroizing<Vec<u64>>,
    /// The occurrences before position 16 of the contexts of up to 8 bits,
    /// by entry: (followed by 0, by 1).
    early_short: Zeroizing<Vec<[u32; 2]>>,
    /// Bit `at` set: that context, of 9 to 15 bits, occurs before position
    /// 16 (at most 7 of each length do).
    early_mark: Zeroizing<Vec<u64>>,
    /// Those occurrences, by context length: (entry, follower).
    early_long: [Zeroizing<Vec<(usize, usize)>>; LZ78Y_DEPTH],
    /// The 16-bit contexts' counts, LZ78Y's own.
    longest: Zeroizing<Vec<[u32; 2]>>,
    size: u64,
    max_size: u64,
    /// The step that filled the dictionary: its history and the length of
    /// the last context it added.
    filled: Option<(usize, usize)>,
}

impl LzRider {
    fn new(data: &[u8], max_size: u64) -> Self {
        let words = bit_table_base(LZ78Y_DEPTH).div_ceil(64);
        let mut rider = LzRider {
            tally: Tally::new(data.len() - LZ78Y_DEPTH - 1),
            held: Zeroizing::new(vec![0; words]),
            early_short: Zeroizing::new(vec![[0; 2]; bit_table_base(SHORT_EARLY + 1)]),
            early_mark: Zeroizing::new(vec![0; words]),
            early_long: core::array::from_fn(|_| Zeroizing::new(Vec::new())),
            longest: Zeroizing::new(vec![[0u32; 2]; 1 << LZ78Y_DEPTH]),
            size: LZ78Y_DEPTH as u64,
            max_size,
            filled: None,
        };
        let mut history = 0usize;
        for (p, &s) in data.iter().enumerate().take(LZ78Y_DEPTH) {
            // The contexts ending at position p, followed by data[p].
            let y = usize::from(s & 1);
            for len in 1..=p.min(LZ78Y_DEPTH - 1) {
                let at = bit_table_base(len) + bit_context(history, len);
                if len <= SHORT_EARLY {
                    rider.early_short[at][y] += 1;
                } else {
                    rider.early_mark[at / 64] |= 1 << (at % 64);
                    rider.early_long[len].push((at, y));
                }
            }
            history = (history << 1) | y;
        }
        // The seeds: every context ending at position 16.
        for len in 1..LZ78Y_DEPTH {
            let at = bit_table_base(len) + bit_context(history, len);
            rider.held[at / 64] |= 1 << (at % 64);
        }
        rider.longest[history & 0xffff][usize::from(data[LZ78Y_DEPTH] & 1)] = 1;
        rider
    }

    fn holds(&self, at: usize) -> bool {
        self.held[at / 64] >> (at % 64) & 1 == 1
    }

    /// LZ78Y's counts of the held context of length `len` <= 15 (entry
    /// `at`) before this step: MultiMMC's, which counted `y` in this step
    /// already (orders 0 to 14 always do), less the early occurrences.
    #[inline]
    fn counts(&self, table: &[[u32; 2]], at: usize, len: usize, y: u8) -> [u32; 2] {
        // Element by element, in registers (a store to one half of the
        // pair and a load of both would stall the store forwarding).
        let [c0, c1] = table[at];
        let y1 = u32::from(y & 1);
        let mut counts = [c0 - (1 - y1), c1 - y1];
        if len <= SHORT_EARLY {
            let [e0, e1] = self.early_short[at];
            counts = [counts[0] - e0, counts[1] - e1];
        } else if self.early_mark[at / 64] >> (at % 64) & 1 == 1 {
            for &(e, f) in self.early_long[len].iter() {
                if e == at {
                    counts[f] -= 1;
                }
            }
        }
        counts
    }

    /// The counts before this step of the context of length `len`
    /// (1..=16), if it is held.
    #[inline]
    fn held_counts(
        &self,
        table: &[[u32; 2]],
        history: usize,
        len: usize,
        y: u8,
    ) -> Option<[u32; 2]> {
        if len == LZ78Y_DEPTH {
            let entry = self.longest[history & 0xffff];
            (entry != [0, 0]).then_some(entry)
        } else {
            let at = bit_table_base(len) + bit_context(history, len);
            self.holds(at).then(|| self.counts(table, at, len, y))
        }
    }

    /// The prediction from every held context of this step, from the
    /// longest (the tool's way; what the walk of a full dictionary must
    /// give).
    #[cfg(debug_assertions)]
    fn scan(&self, table: &[[u32; 2]], history: usize, y: u8) -> u8 {
        let (mut best_count, mut prediction) = (0u32, 2u8);
        for len in (1..=LZ78Y_DEPTH).rev() {
            if let Some(counts) = self.held_counts(table, history, len, y) {
                let (p, count) = best_of(counts);
                if count > best_count {
                    (best_count, prediction) = (count, p);
                }
            }
        }
        prediction
    }
}

/// The best follower of counts (ties to 1, as the tool does) and its count.
fn best_of(counts: [u32; 2]) -> (u8, u32) {
    (u8::from(counts[1] >= counts[0]), counts[0].max(counts[1]))
}

impl Rider for LzRider {
    #[inline(always)]
    fn step(&mut self, i: usize, history: usize, y: u8, table: &[[u32; 2]]) {
        if i <= LZ78Y_DEPTH {
            return;
        }
        let yi = usize::from(y);
        let longest_held = self.longest[history & 0xffff] != [0, 0];
        // 2: no prediction (never equal to a bit).
        let mut prediction = 2u8;
        let short_held = self.holds(bit_table_base(1) + bit_context(history, 1));
        if self.size < self.max_size || !short_held {
            // The dictionary still fills (or, rarely, lacks the 1-bit
            // context): every length, from the longest, as the tool does.
            let mut best_count = 0u32;
            for len in (1..=LZ78Y_DEPTH).rev() {
                match self.held_counts(table, history, len, y) {
                    Some(counts) => {
                        let (p, count) = best_of(counts);
                        // Strictly greater: the longer context wins ties.
                        if count > best_count {
                            (best_count, prediction) = (count, p);
                        }
                    }
                    None if self.size < self.max_size => {
                        if len == LZ78Y_DEPTH {
                            self.longest[history & 0xffff][yi] = 1;
                        } else {
                            let at = bit_table_base(len) + bit_context(history, len);
                            self.held[at / 64] |= 1 << (at % 64);
                        }
                        self.size += 1;
                        if self.size == self.max_size {
                            self.filled = Some((history, len));
                        }
                    }
                    None => {}
                }
            }
        } else {
            #[cfg(debug_assertions)]
            let scanned = self.scan(table, history, y);
            // Full: the held contexts from the shortest up, while their best
            // count equals the 1-bit context's (it never rises).
            let short = bit_table_base(1) + bit_context(history, 1);
            let (p, top) = best_of(self.counts(table, short, 1, y));
            prediction = p;
            let mut len = 2;
            while let Some(counts) = self.held_counts(table, history, len, y) {
                let (p, count) = best_of(counts);
                if count != top {
                    break;
                }
                prediction = p;
                if len == LZ78Y_DEPTH {
                    break;
                }
                len += 1;
            }
            // The filling step's contexts may be held past a missing one:
            // those of the lengths it shares with this step's history.
            if let Some((filled_history, filled_len)) = self.filled {
                let shared = ((history ^ filled_history) | !0xffff).trailing_zeros() as usize;
                for later in (len + 1).max(filled_len)..=shared.min(LZ78Y_DEPTH) {
                    if let Some(counts) = self.held_counts(table, history, later, y) {
                        let (p, count) = best_of(counts);
                        if count == top {
                            prediction = p;
                        }
                    }
                }
            }
            // Tests run with debug assertions: there every step checks the
            // walk against the tool's scan of all sixteen lengths.
            #[cfg(debug_assertions)]
            debug_assert_eq!(prediction, scanned, "step {i}");
        }
        // A 16-bit context held before the step counts y here (one that
        // joined now did above); the shorter ones' counts are MultiMMC's.
        if longest_held {
            let entry = &mut self.longest[history & 0xffff];
            entry[yi] = entry[yi].saturating_add(1);
        }
        self.tally.record(prediction == y);
    }
}

// ---------------------------------------------------------------------------
// 6.3.10 LZ78Y
// ---------------------------------------------------------------------------

/// LZ78Y's counts on `data` (at least 18 symbols in `0..k`): flat tables for
/// bits, like the tool's separate binary code, hash maps otherwise.
fn lz78y_any_tally(data: &[u8], k: usize) -> Tally {
    if k == 2 {
        lz78y_binary_tally(data)
    } else {
        lz78y_tally(data)
    }
}

/// One LZ78Y context length at one step: if `ctx` is known, offers its
/// best follower as the prediction (when its count beats `best_count`) and
/// counts `y`; otherwise adds it while the dictionary has room.
fn lz78y_length<K: ContextKey>(
    table: &mut ContextTable<K>,
    ctx: K,
    y: u8,
    (size, max_size): (&mut u64, u64),
    best_count: &mut u32,
    prediction: &mut Option<u8>,
) {
    match table.contexts.find(&ctx) {
        Ok(i) => {
            let info = table.contexts.at(i);
            // Strictly greater: the longer context (asked first) wins ties.
            if info.best_count > *best_count {
                *best_count = info.best_count;
                *prediction = Some(info.best());
            }
            count_follower(&mut table.counts, info, y, true);
        }
        missing @ Err(_) => {
            if *size < max_size {
                table.add_at(missing, ctx, y);
                *size += 1;
            }
        }
    }
}

/// Contexts per length that LZ78Y's tables have room for from the start.
const LZ78Y_PRESIZE: usize = 4096;

/// LZ78Y on symbols up to 8 bits: one context table per length, one shared
/// size limit.
fn lz78y_tally(data: &[u8]) -> Tally {
    lz78y_tally_up_to(data, LZ78Y_MAX_DICTIONARY)
}

/// [`lz78y_tally`] with a dictionary of at most `max_size` contexts (tests
/// use small ones to reach the full dictionary's cases often).
fn lz78y_tally_up_to(data: &[u8], max_size: u64) -> Tally {
    const SHORT: usize = 8;
    let mut tally = Tally::new(data.len() - LZ78Y_DEPTH - 1);
    // A length never holds more contexts than there are steps: short inputs
    // (the seeder's 1024-sample start-up check) are sized once and never
    // rehash; long ones start at 4096 and grow, since the dictionary's
    // 65,536 entries are shared by all lengths.
    let capacity = data.len().min(LZ78Y_PRESIZE) + 1;
    // short[j - 1]: length j <= 8; long[j - 9]: length j > 8.
    let mut short: Vec<ContextTable<u64>> = (0..SHORT)
        .map(|_| ContextTable::with_capacity(capacity, capacity))
        .collect();
    let mut long: Vec<ContextTable<Wide>> = (SHORT..LZ78Y_DEPTH)
        .map(|_| ContextTable::with_capacity(capacity, capacity))
        .collect();

    // History of the 16 symbols before position i, most recent in the low byte.
    let mut history = 0u128;
    for &s in &data[..LZ78Y_DEPTH] {
        history = (history << 8) | u128::from(s);
    }
    // Seed: every context ending at data[15], followed by data[16].
    let y = data[LZ78Y_DEPTH];
    for (j, t) in short.iter_mut().enumerate() {
        t.add(u64::last(history, j + 1), y);
    }
    for (j, t) in long.iter_mut().enumerate() {
        t.add(Wide::last(history, j + SHORT + 1), y);
    }
    let mut size = LZ78Y_DEPTH as u64;
    history = (history << 8) | u128::from(y);

    // Once the dictionary is full, nothing is added any more, and a context
    // is stored only if its suffix one symbol shorter is: every step with
    // room adds each missing context from the longest to the shortest. The
    // exceptions are contexts of the step that filled it, longer than the
    // last one added (`filled`: that step's history and length). So the
    // lookups go from the shortest up and stop at the first missing
    // length, checking past it only the lengths that step's contexts share
    // with this one's: most steps of noisy data then ask for two or three
    // contexts instead of sixteen.
    let mut filled: Option<(u128, usize)> = None;
    for &y in &data[LZ78Y_DEPTH + 1..] {
        let mut best_count = 0u32;
        let mut prediction: Option<u8> = None;
        if let Some((filled_history, filled_len)) = filled {
            // Ascending, so ties go to the later (longer) context.
            let mut look = |len: usize| -> bool {
                let found = if len <= SHORT {
                    lz78y_known(&mut short[len - 1], u64::last(history, len), y)
                } else {
                    lz78y_known(&mut long[len - SHORT - 1], Wide::last(history, len), y)
                };
                if let Some((count, best)) = found
                    && count >= best_count
                {
                    (best_count, prediction) = (count, Some(best));
                }
                found.is_some()
            };
            let missing = (1..=LZ78Y_DEPTH).find(|&len| !look(len));
            if let Some(missing) = missing {
                let shared = ((history ^ filled_history).trailing_zeros() / 8) as usize;
                for len in (missing + 1).max(filled_len)..=shared.min(LZ78Y_DEPTH) {
                    look(len);
                }
            }
        } else {
            for len in (1..=LZ78Y_DEPTH).rev() {
                if len > SHORT {
                    let ctx = Wide::last(history, len);
                    let t = &mut long[len - SHORT - 1];
                    let room = (&mut size, max_size);
                    lz78y_length(t, ctx, y, room, &mut best_count, &mut prediction);
                } else {
                    let ctx = u64::last(history, len);
                    let t = &mut short[len - 1];
                    let room = (&mut size, max_size);
                    lz78y_length(t, ctx, y, room, &mut best_count, &mut prediction);
                }
                if size == max_size && filled.is_none() {
                    filled = Some((history, len));
                }
            }
        }
        tally.record(prediction == Some(y));
        history = (history << 8) | u128::from(y);
    }
    tally
}

/// A full LZ78Y dictionary's step at one length: if `ctx` is known, counts
/// `y` after it and returns its best follower's count and the follower as
/// they were before.
#[inline]
fn lz78y_known<K: ContextKey>(table: &mut ContextTable<K>, ctx: K, y: u8) -> Option<(u32, u8)> {
    let i = table.contexts.find(&ctx).ok()?;
    let info = table.contexts.at(i);
    let before = (info.best_count, info.best());
    count_follower(&mut table.counts, info, y, true);
    Some(before)
}

/// LZ78Y on bits: contexts of length j in a flat table of 2^j x 2 counts
/// (`u32`, saturating, as for MultiMMC); a context exists once it has a count.
fn lz78y_binary_tally(data: &[u8]) -> Tally {
    lz78y_binary_tally_up_to(data, LZ78Y_MAX_DICTIONARY)
}

/// [`lz78y_binary_tally`] with a dictionary of at most `max_size` contexts.
fn lz78y_binary_tally_up_to(data: &[u8], max_size: u64) -> Tally {
    let mut tally = Tally::new(data.len() - LZ78Y_DEPTH - 1);
    let mut table = Zeroizing::new(vec![[0u32; 2]; bit_table_base(LZ78Y_DEPTH + 1)]);

    let mut history = 0usize;
    for &s in &data[..LZ78Y_DEPTH] {
        history = (history << 1) | usize::from(s & 1);
    }
    let seed_follower = usize::from(data[LZ78Y_DEPTH] & 1);
    let mut size = 0u64;
    for len in 1..=LZ78Y_DEPTH {
        table[bit_table_base(len) + bit_context(history, len)][seed_follower] = 1;
        size += 1;
    }
    history = ((history << 1) | seed_follower) & 0xffff;

    for &s in &data[LZ78Y_DEPTH + 1..] {
        let y = s & 1;
        let yi = usize::from(y);
        let mut best_count = 0u32;
        // 2: no prediction yet (never equal to a bit).
        let mut prediction = 2u8;
        for len in (1..=LZ78Y_DEPTH).rev() {
            let entry = &mut table[bit_table_base(len) + bit_context(history, len)];
            // Ties predict 1 (the larger symbol), as the tool does.
            let p = u8::from(entry[1] >= entry[0]);
            let count = entry[0].max(entry[1]);
            if count != 0 {
                // Strictly greater: the longer context wins ties.
                let better = count > best_count;
                best_count = if better { count } else { best_count };
                prediction = if better { p } else { prediction };
                entry[yi] = entry[yi].saturating_add(1);
            } else if size < max_size {
                entry[yi] = 1;
                size += 1;
            }
        }
        tally.record(prediction == y);
        history = ((history << 1) | yi) & 0xffff;
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::SplitMix64;
    use std::path::PathBuf;
    use zeroize::Zeroize;

    /// The reference vectors, which the package ships.
    fn reference_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/sp800-90b")
    }

    /// What `ea_non_iid -vv` printed for one predictor on one data set.
    struct Expected {
        c: u64,
        r: u64,
        n: u64,
        h: f64,
    }

    fn expected(text: &str, label: &str, name: &str) -> Expected {
        let field = |key: &str| -> String {
            let prefix = format!("{label} {name} Prediction Estimate: {key} = ");
            text.lines()
                .find_map(|l| l.strip_prefix(prefix.as_str()))
                .unwrap_or_else(|| panic!("no `{prefix}` line"))
                .trim()
                .to_string()
        };
        Expected {
            c: field("C").parse().expect("C"),
            r: field("r").parse().expect("r"),
            n: field("N").parse().expect("N"),
            h: field("min entropy").parse().expect("min entropy"),
        }
    }

    /// The tool's two data sets for a file of `bits`-bit samples: literal
    /// (masked, renumbered to 0..k-1 when not all 2^bits values occur) and,
    /// for bits > 1, the MSB-first bit expansion of the unrenumbered samples.
    fn data_sets(raw: &[u8], bits: u32) -> Vec<(&'static str, Vec<u8>, usize)> {
        let mask = ((1u16 << bits) - 1) as u8;
        let masked: Vec<u8> = raw.iter().map(|&b| b & mask).collect();
        let mut present = [false; 256];
        for &s in &masked {
            present[usize::from(s)] = true;
        }
        let max = masked.iter().copied().max().unwrap_or(0);
        let mut renumber = [0u8; 256];
        let mut k = 0usize;
        for v in 0..256 {
            if present[v] {
                renumber[v] = k as u8;
                k += 1;
            }
        }
        let literal = if k < usize::from(max) + 1 {
            masked.iter().map(|&s| renumber[usize::from(s)]).collect()
        } else {
            masked.clone()
        };
        let mut sets = vec![("Literal", literal, k)];
        if bits > 1 {
            sets.push(("Bitstring", msb_first_bits(&masked, bits), 2));
        }
        sets
    }

    fn msb_first_bits(samples: &[u8], bits: u32) -> Vec<u8> {
        samples
            .iter()
            .flat_map(|&s| (0..bits).rev().map(move |j| (s >> j) & 1))
            .collect()
    }

    type TallyFn = fn(&[u8], usize) -> Tally;
    type EstimateFn = fn(&[u8], usize) -> Result<Estimate, AssessError>;

    const PREDICTORS: [(&str, Estimator, TallyFn, EstimateFn); 4] = [
        ("MultiMCW", Estimator::MultiMcw, multi_mcw_tally, multi_mcw),
        ("Lag", Estimator::Lag, lag_tally, lag),
        (
            "MultiMMC",
            Estimator::MultiMmc,
            multi_mmc_any_tally,
            multi_mmc,
        ),
        ("LZ78Y", Estimator::Lz78y, lz78y_any_tally, lz78y),
    ];

    /// C, r, N exactly and H within 1e-12 relative of `ea_non_iid -vv`, for
    /// every predictor on both data sets of one reference file (run with
    /// `--nocapture` to see the differences).
    fn check_reference(file: &str, bits: u32) {
        let dir = reference_dir();
        let raw = std::fs::read(dir.join(format!("{file}.bin"))).expect("reference .bin");
        let text = std::fs::read_to_string(dir.join(format!("{file}.results.txt")))
            .expect("reference results");
        for (label, data, k) in data_sets(&raw, bits) {
            for (name, estimator, tally_fn, _) in PREDICTORS {
                let want = expected(&text, label, name);
                let t = tally_fn(&data, k);
                let what = format!("{file} {label} {name}");
                assert_eq!(t.correct, want.c, "{what}: C");
                assert_eq!(t.n, want.n, "{what}: N");
                assert_eq!(t.longest_run + 1, want.r, "{what}: r");
                let e = t.estimate(estimator, k);
                let rel = ((e.min_entropy - want.h) / want.h).abs();
                eprintln!(
                    "{what}: H = {:.17} (NIST {:.17}), rel {rel:.2e}",
                    e.min_entropy, want.h
                );
                assert!(rel < 1e-12, "{what}: H = {} want {}", e.min_entropy, want.h);
            }
        }
    }

    #[test]
    fn matches_ea_non_iid_on_uniform8() {
        check_reference("uniform8", 8);
    }

    #[test]
    fn matches_ea_non_iid_on_biased8() {
        check_reference("biased8", 8);
    }

    #[test]
    fn matches_ea_non_iid_on_markov1() {
        check_reference("markov1", 1);
    }

    /// Test symbols from the shared SplitMix64.
    struct Rng(SplitMix64);

    impl Rng {
        fn new(seed: u64) -> Rng {
            Rng(SplitMix64(seed))
        }

        fn next(&mut self) -> u64 {
            self.0.next()
        }

        /// `len` symbols in `0..k`, symbol 0 with probability about `p0`.
        fn symbols(&mut self, len: usize, k: usize, p0: f64) -> Vec<u8> {
            (0..len)
                .map(|_| {
                    let r = self.next();
                    if k == 1 || ((r >> 11) as f64) < p0 * (1u64 << 53) as f64 {
                        0
                    } else {
                        (1 + (self.next() % (k as u64 - 1))) as u8
                    }
                })
                .collect()
        }
    }

    /// MultiMCW done the slow, obvious way: recount every window at every
    /// step, with the tool's tie and scoreboard rules.
    fn naive_mcw(data: &[u8]) -> Tally {
        let mut tally = Tally::new(data.len() - 63);
        let mut scoreboard = [0u64; 4];
        let mut winner = 0;
        for i in 63..data.len() {
            let mut frequent = [None; 4];
            for (j, &w) in MCW_WINDOWS.iter().enumerate() {
                if i >= w {
                    let window = &data[i - w..i];
                    let mut counts = [0u32; 256];
                    for &s in window {
                        counts[usize::from(s)] += 1;
                    }
                    let max = counts.iter().copied().max().unwrap_or(0);
                    // Most recent among the most common.
                    frequent[j] = window
                        .iter()
                        .rev()
                        .find(|&&s| counts[usize::from(s)] == max)
                        .copied();
                }
            }
            tally.record(frequent[winner] == Some(data[i]));
            for j in 0..4 {
                if frequent[j] == Some(data[i]) {
                    scoreboard[j] += 1;
                    if scoreboard[j] >= scoreboard[winner] {
                        winner = j;
                    }
                }
            }
        }
        tally
    }

    /// Lag done the obvious way: score lags 1..=128 from the shortest up,
    /// the winner moving on every new score >= the highest so far.
    fn naive_lag(data: &[u8]) -> Tally {
        let mut tally = Tally::new(data.len() - 1);
        let mut scoreboard = [0u64; LAG_DEPTH];
        let (mut winner, mut high) = (0usize, 0u64);
        for i in 1..data.len() {
            tally.record(data[i - winner - 1] == data[i]);
            for d in 1..=LAG_DEPTH.min(i) {
                if data[i - d] == data[i] {
                    scoreboard[d - 1] += 1;
                    if scoreboard[d - 1] >= high {
                        winner = d - 1;
                        high = scoreboard[d - 1];
                    }
                }
            }
        }
        tally
    }

    #[test]
    fn mcw_and_lag_match_naive_versions() {
        let mut rng = Rng::new(11);
        for (k, p0, len) in [
            (2, 0.5, 9000),
            (2, 0.8, 9000),
            (3, 0.4, 9000),
            (7, 0.3, 7000),
            (256, 0.0, 6000),
            (256, 0.25, 6000),
            (256, 0.9, 6000),
        ] {
            let data = rng.symbols(len, k, p0);
            assert_eq!(
                multi_mcw_tally(&data, k),
                naive_mcw(&data),
                "MCW k={k} p0={p0}"
            );
            if k == 2 {
                assert_eq!(multi_mcw_general_tally(&data, 2), naive_mcw(&data));
            }
            assert_eq!(lag_tally(&data, k), naive_lag(&data), "Lag k={k} p0={p0}");
        }
        // Long exact ties: a period-3 tail scores lags 3, 6, 9, ... alike.
        let mut data = rng.symbols(3000, 4, 0.5);
        data.extend(std::iter::repeat_n([1u8, 2, 3], 2000).flatten());
        assert_eq!(lag_tally(&data, 4), naive_lag(&data));
    }

    /// A block of predictions counted at once, as one by one: runs that
    /// start before the block, fill it, or end in it.
    #[test]
    fn tally_of_a_block_matches_one_by_one() {
        let mut rng = Rng::new(31);
        for case in 0..4000u64 {
            let len = (case % 64) as u32 + 1;
            let ones = match case % 4 {
                0 => u64::MAX,
                1 => rng.next() | rng.next(),
                _ => rng.next(),
            };
            let right = ones & (u64::MAX << (64 - len));
            // The longest run so far is never shorter than the current one.
            let run = case % 5 + (case % 2) * 30;
            let start = Tally {
                correct: case,
                n: 0,
                longest_run: run + case % 7 + (case % 3) * 20,
                run,
            };
            let (mut at_once, mut one_by_one) = (start, start);
            at_once.record_bits(right, len);
            for b in 0..len {
                one_by_one.record((right >> (63 - b)) & 1 == 1);
            }
            assert_eq!(at_once, one_by_one, "{right:#x} len={len}");
        }
    }

    /// Bits whose leading lag changes, with stretches where one lag (or a
    /// few, tied exactly) leads by far and stretches where none does: Lag's
    /// blocks go lag by lag and back to all lags at once, and must count
    /// as the naive loop does.
    #[test]
    fn lag_on_bits_with_far_leaders_matches_naive_version() {
        let mut rng = Rng::new(12);
        // A noisy copy of the bits `period` back, flipped with `noise`.
        let repeat = |data: &mut Vec<u8>, rng: &mut Rng, period: usize, len: usize, noise: f64| {
            for _ in 0..len {
                let flip = u8::from((rng.next() as f64 / u64::MAX as f64) < noise);
                data.push(data[data.len() - period] ^ flip);
            }
        };
        let mut data = rng.symbols(300, 2, 0.5);
        repeat(&mut data, &mut rng, 120, 1500, 0.1);
        // Period 7: the 18 lags 7, 14, ... catch up with lag 120 and tie.
        repeat(&mut data, &mut rng, 7, 6000, 0.0);
        repeat(&mut data, &mut rng, 120, 8000, 0.0);
        data.extend(rng.symbols(3000, 2, 0.5));
        // Period 40: lags 40, 80 and 120 tie exactly.
        repeat(&mut data, &mut rng, 40, 3000, 0.0);
        repeat(&mut data, &mut rng, 13, 4000, 0.05);
        data.extend(rng.symbols(5000, 2, 0.9));
        repeat(&mut data, &mut rng, 128, 2003, 0.2);
        assert_eq!(lag_tally(&data, 2), naive_lag(&data));
        for len in [3, 100, 128, 129, 191, 192, 193, 1000] {
            assert_eq!(lag_tally(&data[..len], 2), naive_lag(&data[..len]), "{len}");
        }
    }

    /// Followers of each context: counts, and the best (most frequent,
    /// ties to the larger symbol) found by scanning them all.
    type NaiveDict = std::collections::HashMap<Vec<u8>, std::collections::HashMap<u8, u32>>;

    fn naive_best(followers: &std::collections::HashMap<u8, u32>) -> (u8, u32) {
        followers
            .iter()
            .map(|(&y, &c)| (y, c))
            .max_by_key(|&(y, c)| (c, y))
            .expect("a stored context has a follower")
    }

    /// MultiMMC and LZ78Y in one pass on bits (LZ78Y reading MultiMMC's
    /// counts, and walking only the contexts it needs once full) against
    /// each alone: every short length (the seeds and the early
    /// occurrences), biased and periodic bits (early contexts that recur,
    /// long contexts as likely as short ones), enough random bits to fill
    /// the dictionary, and small dictionaries that fill early and often
    /// mid-step. (MultiMMC's side is its own pass, checked against the
    /// hash-map code past the order-15 limit above.)
    #[test]
    fn binary_pass_of_both_matches_each_alone() {
        let mut rng = Rng::new(29);
        let mut cases: Vec<Vec<u8>> = (18..200).map(|len| rng.symbols(len, 2, 0.5)).collect();
        for p0 in [0.5, 0.7, 0.95, 0.05] {
            cases.push(rng.symbols(30_000, 2, p0));
        }
        cases.push((0..50_000).map(|i| u8::from(i % 7 < 3)).collect());
        cases.push((0..50_000).map(|i| u8::from(i % 29 == 0)).collect());
        cases.push(vec![1; 1000]);
        let mut zeros_then_ones = vec![0u8; 5000];
        zeros_then_ones.extend(rng.symbols(5000, 2, 0.5));
        cases.push(zeros_then_ones);
        for data in &cases {
            let alone = (multi_mmc_binary_tally(data), lz78y_binary_tally(data));
            assert_eq!(mmc_lz78y_binary_tallies(data), alone, "len={}", data.len());
        }
        for data in cases.iter().filter(|d| (150..=10_000).contains(&d.len())) {
            for max_size in [17, 20, 40, 300, 5000] {
                let alone = (
                    multi_mmc_binary_tally(data),
                    lz78y_binary_tally_up_to(data, max_size),
                );
                let both = mmc_lz78y_binary_tallies_up_to(data, max_size);
                assert_eq!(both, alone, "len={} max={max_size}", data.len());
            }
        }
        // Many short strings with tiny dictionaries: the contexts of the
        // step that filled the dictionary, held without their shorter
        // suffixes, come back and sometimes decide a prediction.
        for trial in 0..300u64 {
            let len = 40 + (trial % 160) as usize;
            let data = rng.symbols(len, 2, [0.5, 0.3, 0.8][(trial % 3) as usize]);
            let max_size = 17 + trial % 24;
            let alone = (
                multi_mmc_binary_tally(&data),
                lz78y_binary_tally_up_to(&data, max_size),
            );
            let both = mmc_lz78y_binary_tallies_up_to(&data, max_size);
            assert_eq!(both, alone, "trial {trial}: {data:?}, max={max_size}");
        }
        // Repeated data brings back the contexts of the step that filled
        // the dictionary, held without their shorter suffixes.
        for max_size in [17, 23, 50, 64, 100, 257, 1000] {
            let mut data = rng.symbols(3000, 2, 0.3);
            data.extend_from_within(..1500);
            data.extend_from_within(..700);
            let alone = (
                multi_mmc_binary_tally(&data),
                lz78y_binary_tally_up_to(&data, max_size),
            );
            let both = mmc_lz78y_binary_tallies_up_to(&data, max_size);
            assert_eq!(both, alone, "repeated, max={max_size}");
        }
    }

    /// MultiMMC done the obvious way, with the tool's rules as documented
    /// on [`multi_mmc`]: one map of maps per order, 100,000 entries each,
    /// no lookup past the first missing order, the entry added anyway.
    fn naive_mmc(data: &[u8]) -> Tally {
        let n = data.len() - 2;
        let mut tally = Tally::new(n);
        let mut dicts: Vec<NaiveDict> = vec![NaiveDict::new(); MMC_DEPTH];
        let mut entries = [0u64; MMC_DEPTH];
        for d in 0..MMC_DEPTH.min(n) {
            *dicts[d]
                .entry(data[..=d].to_vec())
                .or_default()
                .entry(data[d + 1])
                .or_default() += 1;
            entries[d] = 1;
        }
        let mut scoreboard = [0u64; MMC_DEPTH];
        let mut winner = 0usize;
        for i in 2..data.len() {
            let y = data[i];
            let cur_winner = winner;
            let mut look = true;
            for d in 0..MMC_DEPTH.min(i - 1) {
                let ctx = &data[i - d - 1..i];
                let room = entries[d] < MMC_MAX_ENTRIES;
                let mut outcome = None;
                if look && let Some(followers) = dicts[d].get_mut(ctx) {
                    let correct = naive_best(followers).0 == y;
                    if let Some(c) = followers.get_mut(&y) {
                        *c += 1;
                    } else if room {
                        followers.insert(y, 1);
                        entries[d] += 1;
                    }
                    outcome = Some(correct);
                } else if room {
                    *dicts[d]
                        .entry(ctx.to_vec())
                        .or_default()
                        .entry(y)
                        .or_default() += 1;
                    entries[d] += 1;
                }
                look = outcome.is_some();
                if let Some(correct) = outcome {
                    scoreboard[d] += u64::from(correct);
                    if correct && scoreboard[d] >= scoreboard[winner] {
                        winner = d;
                    }
                    if d == cur_winner {
                        tally.record(correct);
                    }
                }
            }
        }
        tally
    }

    /// LZ78Y done the obvious way, with the tool's rules as documented on
    /// [`lz78y`]: one dictionary of at most 65,536 contexts, seeded with the
    /// contexts ending at symbol 15, searched from the longest context.
    fn naive_lz78y(data: &[u8], max_size: u64) -> Tally {
        let mut tally = Tally::new(data.len() - LZ78Y_DEPTH - 1);
        let mut dicts: Vec<NaiveDict> = vec![NaiveDict::new(); LZ78Y_DEPTH + 1];
        for len in 1..=LZ78Y_DEPTH {
            dicts[len]
                .entry(data[LZ78Y_DEPTH - len..LZ78Y_DEPTH].to_vec())
                .or_default()
                .insert(data[LZ78Y_DEPTH], 1);
        }
        let mut size = LZ78Y_DEPTH as u64;
        for i in LZ78Y_DEPTH + 1..data.len() {
            let y = data[i];
            let (mut best_count, mut prediction) = (0u32, None);
            for len in (1..=LZ78Y_DEPTH).rev() {
                let ctx = &data[i - len..i];
                if let Some(followers) = dicts[len].get_mut(ctx) {
                    let (best, count) = naive_best(followers);
                    if count > best_count {
                        (best_count, prediction) = (count, Some(best));
                    }
                    *followers.entry(y).or_default() += 1;
                } else if size < max_size {
                    dicts[len].entry(ctx.to_vec()).or_default().insert(y, 1);
                    size += 1;
                }
            }
            tally.record(prediction == Some(y));
        }
        tally
    }

    /// The hash-map code (best follower's count kept apart from the
    /// others') against the obvious maps of maps: small alphabets where the
    /// best follower changes often, a wide one where MultiMMC's orders and
    /// LZ78Y's dictionary fill up, and periodic data.
    #[test]
    fn dictionaries_match_naive_versions() {
        let mut rng = Rng::new(17);
        let mut cases = vec![
            rng.symbols(30_000, 3, 0.4),
            rng.symbols(30_000, 5, 0.2),
            rng.symbols(20_000, 16, 0.05),
            rng.symbols(110_000, 256, 0.0),
            rng.symbols(20, 4, 0.5),
        ];
        let mut walk = 0u8;
        cases.push(
            (0..40_000)
                .map(|_| {
                    walk = walk.wrapping_add([0, 1, 1, 255, 3][(rng.next() % 5) as usize]) % 12;
                    walk
                })
                .collect(),
        );
        cases.push(
            (0..20_000)
                .map(|i| [3u8, 1, 4, 1, 5, 9, 2][i % 7])
                .collect(),
        );
        for data in &cases {
            let k = usize::from(*data.iter().max().expect("data")) + 1;
            assert_eq!(multi_mmc_tally(data, k), naive_mmc(data), "MMC k={k}");
            let full = LZ78Y_MAX_DICTIONARY;
            assert_eq!(lz78y_tally(data), naive_lz78y(data, full), "LZ78Y k={k}");
        }
    }

    /// LZ78Y once its dictionary is full looks contexts up from the
    /// shortest and stops at the first missing one, except for the
    /// contexts of the step that filled it: small dictionaries fill early
    /// and often leave such contexts, which come back in repeated data.
    #[test]
    fn full_lz78y_dictionary_matches_naive_version() {
        let mut rng = Rng::new(23);
        for (len, k, p0) in [(3000, 3, 0.3), (3000, 4, 0.6), (3000, 20, 0.1)] {
            let mut data = rng.symbols(len, k, p0);
            data.extend_from_within(..len / 2);
            data.extend_from_within(..len / 3);
            for max_size in [17, 20, 33, 50, 64, 100, 257, 1000] {
                assert_eq!(
                    lz78y_tally_up_to(&data, max_size),
                    naive_lz78y(&data, max_size),
                    "k={k} p0={p0} max={max_size}"
                );
            }
        }
    }

    /// The hash-map code (any alphabet) and the flat-table code (bits) are
    /// written separately; on binary data they must agree, also once the
    /// MultiMMC order-15 table and the LZ78Y dictionary are full.
    #[test]
    fn binary_and_general_dictionaries_agree() {
        let mut rng = Rng::new(5);
        // 220,000 random bits hold about 107,000 distinct (16-bit context,
        // follower) pairs: past MultiMMC's 100,000 limit for order 16.
        for (len, p0) in [
            (220_000, 0.5),
            (50_000, 0.9),
            (20, 0.5),
            (3, 0.5),
            (18, 0.5),
        ] {
            let data = rng.symbols(len, 2, p0);
            assert_eq!(
                multi_mmc_binary_tally(&data),
                multi_mmc_tally(&data, 2),
                "MMC len={len}"
            );
            if len >= 18 {
                assert_eq!(
                    lz78y_binary_tally(&data),
                    lz78y_tally(&data),
                    "LZ78Y len={len}"
                );
            }
        }
    }

    fn all(data: &[u8], k: usize) -> Vec<Result<Estimate, AssessError>> {
        PREDICTORS.iter().map(|(_, _, _, f)| f(data, k)).collect()
    }

    #[test]
    fn too_short_or_invalid_input_is_an_error() {
        for (name, _, _, f) in PREDICTORS {
            let needed = match name {
                "MultiMCW" => 4096,
                "Lag" | "MultiMMC" => 3,
                _ => 18,
            };
            let short = vec![0u8; needed - 1];
            match f(&short, 2) {
                Err(AssessError::TooFewSamples { needed: n, got, .. }) => {
                    assert_eq!((n, got), (needed, needed - 1), "{name}");
                }
                other => panic!("{name}: {other:?}"),
            }
            assert!(f(&vec![0u8; needed], 2).is_ok(), "{name}");
            assert_eq!(f(&[], 2), Err(AssessError::Empty), "{name}");
            let mut wide = vec![1u8; needed];
            wide[needed / 2] = 2;
            assert_eq!(
                f(&wide, 2),
                Err(AssessError::SymbolOutOfAlphabet {
                    index: needed / 2,
                    value: 2,
                    k: 2
                }),
                "{name}"
            );
            // 3 fits in 2 bits but not in an alphabet of 3 symbols.
            wide[needed / 2] = 3;
            assert_eq!(
                f(&wide, 3),
                Err(AssessError::SymbolOutOfAlphabet {
                    index: needed / 2,
                    value: 3,
                    k: 3
                }),
                "{name}"
            );
        }
        match lag(&[0, 1], 2) {
            Err(AssessError::TooFewSamples { estimator, .. }) => {
                assert_eq!(estimator, Estimator::Lag)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn constant_data_has_no_entropy() {
        for k in [1, 2, 3, 256] {
            for symbol in [0u8, (k - 1) as u8] {
                let data = vec![symbol; 5000];
                for (e, (name, ..)) in all(&data, k).into_iter().zip(PREDICTORS) {
                    let e = e.expect("estimate");
                    assert_eq!(e.p_max, 1.0, "{name} k={k}");
                    assert_eq!(e.min_entropy, 0.0, "{name} k={k}");
                }
            }
        }
    }

    /// Periodic data: Lag and MultiMMC find any period up to their depth.
    /// LZ78Y follows the context with the highest count, so it finds a
    /// period only when every context of one symbol already determines the
    /// next (all symbols of the period distinct); with a repeated symbol its
    /// short, frequent contexts outvote the long, exact ones.
    #[test]
    fn periodic_data_is_predicted() {
        let periodic = |pattern: &[u8], len: usize| -> Vec<u8> {
            pattern.iter().copied().cycle().take(len).collect()
        };
        let distinct = periodic(&[3, 1, 4, 5, 9, 2, 6], 20_000);
        let repeated = periodic(&[3, 1, 4, 1, 5, 9, 2], 20_000);
        let bits7 = periodic(&[0, 0, 1, 0, 1, 1, 1], 100_000);
        let bits16 = periodic(&[0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0], 100_000);
        let bits2 = periodic(&[0, 1], 100_000);
        let h = |f: EstimateFn, data: &[u8], k: usize| f(data, k).expect("estimate").min_entropy;
        for (data, k) in [(&distinct, 10), (&repeated, 10), (&bits7, 2), (&bits16, 2)] {
            assert!(h(lag, data, k) < 0.01, "Lag k={k}");
            assert!(h(multi_mmc, data, k) < 0.01, "MultiMMC k={k}");
        }
        for (data, k) in [(&distinct, 10), (&bits2, 2)] {
            assert!(h(lz78y, data, k) < 0.01, "LZ78Y k={k}");
        }
        assert!(h(lz78y, &repeated, 10) > 0.1);
        // MultiMCW predicts the most common symbol, not the pattern: on
        // alternating bits every (odd) window's majority is the symbol that
        // just came, which is always wrong. C = 0: the 1/k floor, 1 bit.
        let alternating: Vec<u8> = (0..10_000).map(|i| (i % 2) as u8).collect();
        assert_eq!(multi_mcw_tally(&alternating, 2).correct, 0);
        assert_eq!(
            multi_mcw(&alternating, 2).expect("estimate").min_entropy,
            1.0
        );
        // ... and with a dominant symbol it is right exactly when that comes.
        let dominant: Vec<u8> = [5u8, 5, 5, 5, 2]
            .iter()
            .copied()
            .cycle()
            .take(10_000)
            .collect();
        let fives = dominant[63..].iter().filter(|&&s| s == 5).count() as u64;
        assert_eq!(multi_mcw_tally(&dominant, 6).correct, fives);
    }

    /// Only takes a type that wipes itself when dropped.
    fn wipes_on_drop<T: zeroize::ZeroizeOnDrop>(_: &T) {}

    /// Review item 2: the hash tables of contexts and counts wipe their
    /// memory. Their array is `Zeroizing` (checked by type, so a change to
    /// a plain `Vec` fails to compile here); growing replaces it, so the
    /// old array is wiped as it drops; the slots have no padding, so
    /// writing the all-zero default reaches every byte; and the wipe that
    /// runs on drop does clear them.
    #[test]
    fn context_tables_wipe_their_memory() {
        let mut map: WipeMap<Wide, ContextInfo> = WipeMap::with_capacity(0);
        wipes_on_drop(&map.slots);
        let before = map.slots.len();
        for i in 0..1000u64 {
            let key = Wide { low: i, high: !i };
            let vacant = map.find(&key).expect_err("new key");
            let info = ContextInfo {
                id_best: (i as u32) << 8 | 7,
                best_count: 3,
            };
            map.insert_vacant(vacant, key, info);
        }
        assert!(map.slots.len() > before, "the table grew");
        assert_eq!(map.len(), 1000);
        for i in 0..1000u64 {
            let i_slot = map.find(&Wide { low: i, high: !i }).expect("kept");
            assert_eq!(map.at(i_slot).id_best, (i as u32) << 8 | 7);
        }
        // No padding: the fields fill each slot.
        assert_eq!(core::mem::size_of::<Slot<Wide, ContextInfo>>(), 16 + 8);
        assert_eq!(core::mem::size_of::<Slot<u64, ContextInfo>>(), 8 + 8);
        assert_eq!(core::mem::size_of::<Slot<u32, u32>>(), 4 + 4);
        // What Zeroizing's Drop runs.
        map.slots.zeroize();
        assert!(
            map.slots.iter().all(|s| s.key == Wide::default()
                && s.value.id_best == 0
                && s.value.best_count == 0)
        );
    }

    /// The other tables of sample-derived data wipe on drop too.
    #[test]
    fn count_tables_wipe_on_drop() {
        let w = McwWindow::new(&[1, 2, 2, 3], 4, 4);
        wipes_on_drop(&w.counts);
        wipes_on_drop(&w.last);
        wipes_on_drop(&SlicedCounters::new(100).planes);
        let t: ContextTable<u64> = ContextTable::with_capacity(4, 4);
        wipes_on_drop(&t.contexts.slots);
        wipes_on_drop(&t.counts.slots);
    }

    /// Many small and odd inputs: never a panic, and every estimate lies in
    /// [0, log2 k].
    #[test]
    fn no_panics_and_estimates_in_range() {
        let mut rng = Rng::new(99);
        for k in [1usize, 2, 3, 5, 16, 255, 256] {
            for len in [1usize, 2, 3, 4, 17, 18, 19, 40, 200, 4095, 4096, 4097, 6000] {
                for p0 in [0.0, 0.5, 0.99] {
                    let data = rng.symbols(len, k, p0);
                    for e in all(&data, k).into_iter().flatten() {
                        assert!(e.p_max > 0.0 && e.p_max <= 1.0, "{e:?}");
                        assert!(e.min_entropy >= 0.0, "{e:?}");
                        assert!(e.min_entropy <= (k as f64).log2() + 1e-12, "{e:?}");
                    }
                }
            }
        }
    }
}
