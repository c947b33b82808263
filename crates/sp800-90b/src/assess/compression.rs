//! SP 800-90B section 6.3.4: the Compression estimate (binary data only).

use super::{AssessError, Estimate, Estimator, Z_99, bisect, bits_of, check_binary, check_len};

/// Bits per block (`b` in 6.3.4).
const BLOCK_BITS: usize = 6;
/// Blocks in the dictionary-building part (`d` in 6.3.4).
const DICT_BLOCKS: usize = 1000;
/// Distinct block values, `2^b`.
const ALPHABET: usize = 1 << BLOCK_BITS;

/// The fewest test blocks (`v` in 6.3.4) the estimate runs on. `σ̂` divides
/// by `v − 1`, so one test block gives `0/0`: NIST's `ea_non_iid` reads
/// `σ̂ = NaN` there and answers the full 1 bit per bit, even for a perfectly
/// alternating input. Two is the least for which every quantity of the
/// standard is defined; any larger floor would refuse inputs on which the
/// tool's arithmetic is sound and so break the agreement with it.
pub const COMPRESSION_MIN_TEST_BLOCKS: usize = 2;

/// Least number of bits the estimate runs on: `d` dictionary blocks plus
/// [`COMPRESSION_MIN_TEST_BLOCKS`] test blocks of `b` bits (6,012). NIST's tool
/// takes 6,006 (one test block); see [`compression`] for why this does not.
pub const COMPRESSION_MIN_BITS: usize = (DICT_BLOCKS + COMPRESSION_MIN_TEST_BLOCKS) * BLOCK_BITS;

/// Compensated (Kahan) running sum, as `ea_non_iid` accumulates the
/// compression statistics: plain summation of a million terms would lose
/// digits the tool keeps.
#[derive(Default, Clone, Copy)]
struct Kahan {
    sum: f64,
    comp: f64,
}

impl Kahan {
    fn add(&mut self, x: f64) {
        let y = x - self.comp;
        let t = self.sum + y;
        self.comp = (t - self.sum) - y;
        self.sum = t;
    }
}

/// `G(z)` of SP 800-90B 6.3.4 step 8 for `num_blocks` blocks of which the
/// first `d` build the dictionary:
/// `G(z) = 1/v · Σ_{t=d+1}^{L} Σ_{u=1}^{t} log2(u) · F(z, t, u)`,
/// computed in the linear form that `ea_non_iid` uses (the inner sums share
/// their terms), stopping early once the terms underflow. `log2[i]` holds
/// `log2(i)` for the first indices (at least `d + 1`); later ones are
/// computed.
///
/// The tool keeps `B_i = (1 − z)^(i−1)` in `long double` and stops when a term
/// rounds to 0 as a double. In `f64`, `B_i` would go subnormal and, for
/// `1 − z > 1/2`, stick at the smallest subnormal instead of reaching 0, so
/// the loop would run to the end, slowly. Stopping below `f64::MIN_POSITIVE`
/// drops only terms under 2^−1022 (and their geometric tail), far below the
/// last digit of sums of order 1: the same result, without subnormals.
fn g(z: f64, num_blocks: usize, log2: &[f64]) -> f64 {
    let d = DICT_BLOCKS;
    let v = (num_blocks - d) as f64;
    let mut a = Kahan::default();
    let mut first = Kahan::default();
    let base = 1.0 - z;
    // B_i = (1 - z)^(i - 1), starting at B_2.
    let mut b = base;
    let log2_of = |i: usize| log2.get(i).copied().unwrap_or_else(|| (i as f64).log2());
    for i in 2..=d {
        a.add(log2_of(i) * b);
        b *= base;
    }
    let a_d1 = a.sum;
    let mut underflow = false;
    for i in (d + 1)..num_blocks {
        let ai = log2_of(i) * b;
        a.add(ai);
        let scaled = (num_blocks - i) as f64 * ai;
        if scaled >= f64::MIN_POSITIVE {
            first.add(scaled);
        } else {
            underflow = true;
            break;
        }
        b *= base;
    }
    first.add((num_blocks - d) as f64 * a_d1);
    if !underflow {
        a.add(log2_of(num_blocks) * b);
    }
    1.0 / v * z * (z * first.sum + (a.sum - a_d1))
}

/// The expected value of the statistic for a distribution with one symbol of
/// probability `p` and the other 63 sharing `1 − p` (6.3.4 step 8).
fn expected(p: f64, num_blocks: usize, log2: &[f64]) -> f64 {
    let q = (1.0 - p) / (ALPHABET as f64 - 1.0);
    g(p, num_blocks, log2) + (ALPHABET as f64 - 1.0) * g(q, num_blocks, log2)
}

/// The `p` of 6.3.4 step 9 for the bound `target` = `X̄'` over `num_blocks`
/// blocks: `2^−6` (full entropy) when the uniform case's expected statistic
/// does not exceed the target, else the `p` with `E(p) = target` by
/// bisection. Fails closed: a non-finite target, or a search that meets a
/// non-finite statistic, answers `p = 1`.
fn solve_p(target: f64, num_blocks: usize) -> f64 {
    let low = 1.0 / ALPHABET as f64;
    if !target.is_finite() {
        return 1.0;
    }
    // G is evaluated some fifty times by the search and log2 is most of its
    // cost: tabulate it, up to 2^21 entries (16 MB; 12.6M bits' worth of
    // blocks) so that huge inputs do not pay memory for it. The sums rarely
    // reach that far before their terms underflow. (The table depends only
    // on the length, not on the data.)
    const LOG2_TABLE_MAX: usize = 1 << 21;
    let log2: Vec<f64> = (0..=num_blocks.min(LOG2_TABLE_MAX))
        .map(|i| (i as f64).log2())
        .collect();
    let uniform = expected(low, num_blocks, &log2);
    if !uniform.is_finite() {
        return 1.0;
    }
    // The statistic falls as p rises; below the target at the uniform end
    // there is no solution: the data looks at least as random as uniform.
    if uniform <= target {
        return low;
    }
    // `bisect` answers `fail` only when its bracket stops holding the
    // target, which only a NaN statistic can cause here: fail closed.
    let p = bisect(|p| expected(p, num_blocks, &log2), target, low, 1.0, 1.0);
    p.max(low)
}

/// The Compression estimate of SP 800-90B section 6.3.4, for binary data.
///
/// Cuts the bits into 6-bit blocks (MSB first), fills a dictionary with the
/// first 1000, then for each later block takes `log2` of the distance to its
/// previous occurrence (Maurer's universal statistic). With the mean `X̄` and
/// `σ̂ = 0.5907·sqrt(Σ(log2 D)²/(v − 1) − X̄²)`, `X̄' = X̄ − Z·σ̂/√v`; then
/// bisection finds `p ∈ [2^−6, 1]` whose expected statistic equals `X̄'`.
/// If none exists because the statistic lies at or above that of uniform
/// blocks, the estimate is the full 1 bit (`p = 2^−6`). Result: `−log2(p)/6`
/// per bit.
///
/// Where this deliberately differs from `ea_non_iid` 1.1.7 (only on inputs
/// where the tool computes with NaN, never on ones where its arithmetic is
/// finite):
///
/// * it needs two test blocks, [`COMPRESSION_MIN_BITS`] = 6,012 bits, where
///   the tool takes 6,006 and, with one test block, divides 0 by 0;
/// * a non-finite `X̄'` (or a search that meets a non-finite statistic)
///   gives `p = 1`, no entropy, where the tool's comparisons with NaN fall
///   through to the full 1 bit.
///
/// `data` holds 0/1 symbols; needs at least [`COMPRESSION_MIN_BITS`].
pub fn compression(data: &[u8]) -> Result<Estimate, AssessError> {
    check_len(Estimator::Compression, data, COMPRESSION_MIN_BITS)?;
    check_binary(Estimator::Compression, data)?;
    let num_blocks = data.len() / BLOCK_BITS;
    let block = |i: usize| {
        data[i * BLOCK_BITS..(i + 1) * BLOCK_BITS]
            .iter()
            .fold(0usize, |acc, &bit| (acc << 1) | usize::from(bit & 1))
    };
    // Last (1-based) position of each block value seen so far; 0 = unseen.
    let mut last = [0usize; ALPHABET];
    for i in 0..DICT_BLOCKS {
        last[block(i)] = i + 1;
    }
    let v = num_blocks - DICT_BLOCKS;
    // Most distances are short (2^6 block values): their log2 from a
    // table, the same values `f64::log2` gives, without its cost.
    const SHORT: usize = 1 << 12;
    let short_log2: Vec<f64> = (0..SHORT).map(|d| (d as f64).log2()).collect();
    let log2 = |d: usize| {
        short_log2
            .get(d)
            .copied()
            .unwrap_or_else(|| (d as f64).log2())
    };
    let (mut x, mut sq) = (Kahan::default(), Kahan::default());
    for i in DICT_BLOCKS..num_blocks {
        let b = block(i);
        let dist = log2(i + 1 - last[b]);
        x.add(dist);
        sq.add(dist * dist);
        last[b] = i + 1;
    }
    let vf = v as f64;
    let mean = x.sum / vf;
    let sigma = 0.5907 * (sq.sum / (vf - 1.0) - mean * mean).sqrt();
    let target = mean - Z_99 * sigma / vf.sqrt();

    let p = solve_p(target, num_blocks);
    let h = if p > 1.0 / ALPHABET as f64 {
        bits_of(p) / BLOCK_BITS as f64
    } else {
        1.0
    };
    Ok(Estimate {
        estimator: Estimator::Compression,
        p_max: p,
        min_entropy: h,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A non-finite `X̄'` (the tool's NaN when `v − 1 = 0`) gives no entropy,
    /// not the full bit that its NaN comparisons fall through to.
    #[test]
    fn non_finite_target_fails_closed() {
        for target in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            for num_blocks in [1001, 1002, 5000] {
                assert_eq!(solve_p(target, num_blocks), 1.0, "{target} {num_blocks}");
            }
        }
    }

    /// Finite targets keep the tool's answers: above the uniform statistic
    /// no solution (full entropy), else a `p` inside the domain.
    #[test]
    fn finite_targets_keep_the_tools_answers() {
        let low = 1.0 / ALPHABET as f64;
        assert_eq!(solve_p(100.0, 5000), low);
        let p = solve_p(0.5, 5000);
        assert!(p > low && p < 1.0, "{p}");
        // Below every attainable statistic: the search runs to p = 1.
        assert_eq!(solve_p(-1.0, 5000), 1.0);
    }
}
