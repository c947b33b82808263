//! SP 800-90B sections 6.3.5 (t-Tuple) and 6.3.6 (Longest Repeated
//! Substring).
//!
//! Both estimates need, for every length `t`, statistics over the counts of
//! the distinct `t`-tuples in the data. Counting tuples length by length is
//! quadratic; here both come from one suffix array and its LCP array in
//! linear time: every internal node of the (virtual) suffix tree is an LCP
//! interval of `c` suffixes sharing a prefix of length `h` whose parent shares
//! `h_p < h`, so each string of length `t ∈ (h_p, h]` along that edge occurs
//! exactly `c` times. `ea_non_iid` does the same (after Kaufer); the results
//! are the same numbers, computed in `f64` where the tool uses `long double`.

use super::{AssessError, Estimate, Estimator, Z_99, check_alphabet, check_len};

/// Occurrences a tuple needs for its length to count in the t-Tuple estimate
/// (6.3.5 step 1), and below which a length counts for the LRS (6.3.6 step 1).
const CUTOFF: u32 = 35;

/// The longest input the suffix sorter takes (it indexes with `i32`).
pub const TUPLE_MAX_LEN: usize = i32::MAX as usize;

/// Per-length tuple statistics of one data set.
struct TupleCounts {
    /// `L`, the number of symbols.
    n: usize,
    /// `q[t]` = occurrences of the most common `t`-tuple, `t` in `1..=v`
    /// (`q[0]` unused).
    q: Vec<u32>,
    /// `s[t]` = `Σ_j C(c_j, 2)` over the distinct `t`-tuples, `t` in `1..=v`.
    s: Vec<u64>,
}

impl TupleCounts {
    /// The length of the longest repeated substring, `v`.
    fn v(&self) -> usize {
        self.q.len() - 1
    }

    /// The smallest length whose most common tuple occurs fewer than 35 times
    /// (`u` of 6.3.6; `u − 1` is the `t` of 6.3.5), or `v + 1`.
    fn u(&self) -> usize {
        (1..=self.v())
            .find(|&t| self.q[t] < CUTOFF)
            .unwrap_or(self.v() + 1)
    }
}

/// Sorts the suffixes of `data` and returns its LCP array, with `lcp[i]` the
/// longest common prefix of the `i−1`-th and `i`-th smallest suffixes
/// (`lcp[0] = 0`).
///
/// Kärkkäinen-Manzini-Puglisi's Φ method computes the LCP in place of two
/// arrays of `n` words, so the peak is the text plus `8n` bytes: for an
/// 8,000,000-bit string, 72 MB.
fn lcp_array(data: &[u8]) -> Vec<i32> {
    let n = data.len();
    let mut sa = vec![0i32; n];
    divsufsort::sort_in_place(data, &mut sa);
    // phi[sa[i]] = sa[i-1]: the suffix just before, in sorted order.
    const NONE: u32 = u32::MAX;
    let mut phi = vec![NONE; n];
    for w in sa.windows(2) {
        phi[w[1] as usize] = w[0] as u32;
    }
    // PLCP in text order, reusing phi; h drops by at most one per step.
    let mut h = 0usize;
    for i in 0..n {
        let prev = phi[i];
        if prev == NONE {
            phi[i] = 0;
            h = 0;
            continue;
        }
        let j = prev as usize;
        while i + h < n && j + h < n && data[i + h] == data[j + h] {
            h += 1;
        }
        phi[i] = h as u32;
        h = h.saturating_sub(1);
    }
    // LCP in suffix-array order, over the suffix array itself.
    for slot in sa.iter_mut() {
        *slot = phi[*slot as usize] as i32;
    }
    sa
}

/// Computes [`TupleCounts`] from the suffix tree's LCP intervals.
fn tuple_counts(data: &[u8]) -> TupleCounts {
    let n = data.len();
    let lcp = lcp_array(data);
    let v = lcp.iter().copied().max().unwrap_or(0).max(0) as usize;
    // best[h]: the largest interval with lcp value exactly h.
    let mut best = vec![0u32; v + 2];
    // diff: difference array of s over lengths; adding C(c,2) to s[hp+1..=h].
    // Entries and prefix sums stay below n^2 < 2^62 for n <= 2^31, and the
    // wrapping ops make intermediate order irrelevant anyway.
    let mut diff = vec![0u64; v + 2];
    let mut record = |h: usize, parent: usize, size: usize| {
        let size32 = size as u32;
        if best[h] < size32 {
            best[h] = size32;
        }
        let pairs = (size as u64) * (size as u64 - 1) / 2;
        diff[parent + 1] = diff[parent + 1].wrapping_add(pairs);
        diff[h + 1] = diff[h + 1].wrapping_sub(pairs);
    };
    // Bottom-up traversal of the LCP intervals (Abouelhoda, Kurtz, Ohlebusch):
    // stack of (lcp value, left boundary), the root (0, 0) at the bottom.
    let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
    for i in 1..=n {
        // Past the end, a 0 closes every open interval.
        let cur = lcp.get(i).map_or(0, |&x| x as usize);
        let mut lb = i - 1;
        while let Some(&(h, l)) = stack.last() {
            if cur >= h {
                break;
            }
            stack.pop();
            lb = l;
            let top = stack.last().map_or(0, |&(th, _)| th);
            record(h, cur.max(top), i - l);
        }
        let top = stack.last().map_or(0, |&(th, _)| th);
        if cur > top {
            stack.push((cur, lb));
        }
    }
    // q[t] = max over intervals with lcp >= t; every t-tuple occurs at least once.
    let mut q = vec![1u32; v + 1];
    let mut running = 1u32;
    for t in (1..=v).rev() {
        running = running.max(best[t]);
        q[t] = running;
    }
    let mut s = vec![0u64; v + 1];
    let mut acc = 0u64;
    for t in 1..=v {
        acc = acc.wrapping_add(diff[t]);
        s[t] = acc;
    }
    TupleCounts { n, q, s }
}

/// `p_u = min(1, p̂ + Z·sqrt(p̂(1 − p̂)/(L − 1)))` and its estimate.
fn finish(estimator: Estimator, p_hat: f64, n: usize) -> Estimate {
    let p_u = (p_hat + Z_99 * (p_hat * (1.0 - p_hat) / (n as f64 - 1.0)).sqrt()).min(1.0);
    Estimate {
        estimator,
        p_max: p_u,
        min_entropy: -p_u.log2(),
    }
}

/// SP 800-90B 6.3.5 from the counts.
fn t_tuple_from(c: &TupleCounts) -> Result<Estimate, AssessError> {
    let u = c.u();
    if u <= 1 {
        return Err(AssessError::NoEstimate {
            estimator: Estimator::TTuple,
            reason: "no symbol occurs 35 times",
        });
    }
    let p_hat = (1..u)
        .map(|i| (f64::from(c.q[i]) / (c.n - i + 1) as f64).powf(1.0 / i as f64))
        .fold(f64::NEG_INFINITY, f64::max);
    Ok(finish(Estimator::TTuple, p_hat, c.n))
}

/// SP 800-90B 6.3.6 from the counts.
fn lrs_from(c: &TupleCounts) -> Result<Estimate, AssessError> {
    let (u, v) = (c.u(), c.v());
    if v < u {
        return Err(AssessError::NoEstimate {
            estimator: Estimator::Lrs,
            reason: "the longest repeated substring is shorter than u",
        });
    }
    let n = c.n as u64;
    let p_hat = (u..=v)
        .map(|w| {
            let wu = w as u64;
            let pairs = (n - wu) * (n - wu + 1) / 2;
            (c.s[w] as f64 / pairs as f64).powf(1.0 / w as f64)
        })
        .fold(0.0, f64::max);
    Ok(finish(Estimator::Lrs, p_hat, c.n))
}

fn check(estimator: Estimator, data: &[u8], k: usize) -> Result<(), AssessError> {
    check_len(estimator, data, 2)?;
    if data.len() > TUPLE_MAX_LEN {
        return Err(AssessError::TooManySamples {
            estimator,
            max: TUPLE_MAX_LEN,
            got: data.len(),
        });
    }
    check_alphabet(data, k)
}

/// The t-Tuple estimate of SP 800-90B section 6.3.5.
///
/// `t` is the largest length such that some `t`-tuple occurs at least 35
/// times; for `i = 1..=t`, `P_i = Q_i / (L − i + 1)` with `Q_i` the count of
/// the most common `i`-tuple; `p̂ = max P_i^(1/i)`, bounded above like MCV:
/// `p_u = min(1, p̂ + Z·sqrt(p̂(1 − p̂)/(L − 1)))`; result `−log2 p_u`.
///
/// `data` holds symbols in `0..k`. Fails with [`AssessError::NoEstimate`]
/// when no symbol occurs 35 times (`ea_non_iid` then skips the estimate).
pub fn t_tuple(data: &[u8], k: usize) -> Result<Estimate, AssessError> {
    check(Estimator::TTuple, data, k)?;
    t_tuple_from(&tuple_counts(data))
}

/// The Longest Repeated Substring estimate of SP 800-90B section 6.3.6.
///
/// `u` is the smallest length whose most common tuple occurs fewer than 35
/// times, `v` the length of the longest repeated substring. For
/// `W = u..=v`, `P_W = Σ C(c_j, 2) / C(L − W + 1, 2)` over the counts `c_j` of
/// the distinct `W`-tuples; `p̂ = max P_W^(1/W)`, `p_u` as in MCV; result
/// `−log2 p_u`.
///
/// `data` holds symbols in `0..k`. Fails with [`AssessError::NoEstimate`]
/// when `v < u` (`ea_non_iid` then skips the estimate).
pub fn lrs(data: &[u8], k: usize) -> Result<Estimate, AssessError> {
    check(Estimator::Lrs, data, k)?;
    lrs_from(&tuple_counts(data))
}

/// Both [`t_tuple`] and [`lrs`] from one suffix sort, which is most of their
/// cost.
pub fn t_tuple_and_lrs(
    data: &[u8],
    k: usize,
) -> (Result<Estimate, AssessError>, Result<Estimate, AssessError>) {
    if let Err(e) = check(Estimator::TTuple, data, k) {
        let lrs_err = match e.clone() {
            AssessError::TooFewSamples { needed, got, .. } => AssessError::TooFewSamples {
                estimator: Estimator::Lrs,
                needed,
                got,
            },
            AssessError::TooManySamples { max, got, .. } => AssessError::TooManySamples {
                estimator: Estimator::Lrs,
                max,
                got,
            },
            other => other,
        };
        return (Err(e), Err(lrs_err));
    }
    let counts = tuple_counts(data);
    (t_tuple_from(&counts), lrs_from(&counts))
}
