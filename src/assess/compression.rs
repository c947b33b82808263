//! SP 800-90B section 6.3.4: the Compression estimate (binary data only).

use super::{AssessError, Estimate, Estimator, Z_99, bisect, bits_of, check_binary, check_len};

/// Bits per block (`b` in 6.3.4).
const BLOCK_BITS: usize = 6;
/// Blocks in the dictionary-building part (`d` in 6.3.4).
const DICT_BLOCKS: usize = 1000;
/// Distinct block values, `2^b`.
const ALPHABET: usize = 1 << BLOCK_BITS;

/// Least number of bits the estimate runs on: more than `d` blocks of `b` bits.
pub const COMPRESSION_MIN_BITS: usize = (DICT_BLOCKS + 1) * BLOCK_BITS;

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

/// The Compression estimate of SP 800-90B section 6.3.4, for binary data.
///
/// Cuts the bits into 6-bit blocks (MSB first), fills a dictionary with the
/// first 1000, then for each later block takes `log2` of the distance to its
/// previous occurrence (Maurer's universal statistic). With the mean `X̄` and
/// `σ̂ = 0.5907·sqrt(Σ(log2 D)²/(v − 1) − X̄²)`, `X̄' = X̄ − Z·σ̂/√v`; then
/// bisection finds `p ∈ [2^−6, 1]` whose expected statistic equals `X̄'`.
/// If none exists the estimate is the full 1 bit (`p = 2^−6`). Result:
/// `−log2(p)/6` per bit.
///
/// `data` holds 0/1 symbols; needs more than 6000 of them
/// ([`COMPRESSION_MIN_BITS`]).
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
    let (mut x, mut sq) = (Kahan::default(), Kahan::default());
    for i in DICT_BLOCKS..num_blocks {
        let b = block(i);
        let dist = ((i + 1 - last[b]) as f64).log2();
        x.add(dist);
        sq.add(dist * dist);
        last[b] = i + 1;
    }
    let vf = v as f64;
    let mean = x.sum / vf;
    let sigma = 0.5907 * (sq.sum / (vf - 1.0) - mean * mean).sqrt();
    let target = mean - Z_99 * sigma / vf.sqrt();

    let low = 1.0 / ALPHABET as f64;
    // G is evaluated some fifty times by the search and log2 is most of its
    // cost: tabulate it, up to 2^21 entries (16 MB; 12.6M bits' worth of
    // blocks) so that huge inputs do not pay memory for it. The sums rarely
    // reach that far before their terms underflow.
    const LOG2_TABLE_MAX: usize = 1 << 21;
    let log2: Vec<f64> = (0..=num_blocks.min(LOG2_TABLE_MAX))
        .map(|i| (i as f64).log2())
        .collect();
    // The statistic falls as p rises; search only if the uniform case lies
    // above the target, otherwise there is no solution.
    let p = if expected(low, num_blocks, &log2) > target {
        // Search failures that the tool treats as "no solution" answer the
        // lower domain bound, i.e. full entropy (step 9).
        bisect(|p| expected(p, num_blocks, &log2), target, low, 1.0, low)
    } else {
        low
    };
    let (p, h) = if p > low {
        (p, bits_of(p) / BLOCK_BITS as f64)
    } else {
        (low, 1.0)
    };
    Ok(Estimate {
        estimator: Estimator::Compression,
        p_max: p,
        min_entropy: h,
    })
}
