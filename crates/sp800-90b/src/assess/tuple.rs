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

use zeroize::Zeroizing;

use super::{AssessError, Estimate, Estimator, Z_99, bits_of, check_alphabet, check_len};

/// Occurrences a tuple needs for its length to count in the t-Tuple estimate
/// (6.3.5 step 1), and below which a length counts for the LRS (6.3.6 step 1).
const CUTOFF: u32 = 35;

/// The longest input the suffix sorter takes (it indexes with `i32`).
pub const TUPLE_MAX_LEN: usize = i32::MAX as usize;

/// Per-length tuple statistics of one data set.
struct TupleCounts {
    /// `L`, the number of symbols.
    n: usize,
    /// The length of the longest repeated substring, `v`.
    v: usize,
    /// The smallest length whose most common tuple occurs fewer than 35 times
    /// (`u` of 6.3.6; `u − 1` is the `t` of 6.3.5), or `v + 1`.
    u: usize,
    /// `max_{i<u} (Q_i / (L − i + 1))^(1/i)` (6.3.5 steps 2-3), with `Q_i` the
    /// count of the most common `i`-tuple; `None` when `u = 1`.
    tuple_p_hat: Option<f64>,
    /// `s[W − u]` = `Σ_j C(c_j, 2)` over the distinct `W`-tuples, for `W` in
    /// `u..=v` (6.3.6 step 2).
    s: Zeroizing<Vec<u64>>,
}

/// Sorts the suffixes of `data` and returns its LCP array, with `lcp[i]` the
/// longest common prefix of the `i−1`-th and `i`-th smallest suffixes
/// (`lcp[0] = 0`).
///
/// Kärkkäinen-Manzini-Puglisi's Φ method computes the LCP in place of two
/// arrays of `n` words, so the peak is the text plus `8n` bytes: for an
/// 8,000,000-bit string, 72 MB.
fn lcp_array(data: &[u8]) -> Zeroizing<Vec<i32>> {
    let n = data.len();
    // Like every array here, wiped when freed: suffix order and LCP values
    // describe the samples.
    let mut sa = Zeroizing::new(vec![0i32; n]);
    divsufsort::sort_in_place(data, &mut sa);
    // phi[sa[i]] = sa[i-1]: the suffix just before, in sorted order.
    const NONE: u32 = u32::MAX;
    let mut phi = Zeroizing::new(vec![NONE; n]);
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

/// A stack of `(u32, u32)` pairs whose memory is wiped when freed, also
/// the old buffer each time it grows (a `Vec` would free it as it was).
pub(crate) struct WipeStack {
    items: Zeroizing<Vec<u64>>,
}

impl WipeStack {
    pub(crate) fn new() -> Self {
        WipeStack {
            items: Zeroizing::new(Vec::with_capacity(64)),
        }
    }

    pub(crate) fn push(&mut self, (a, b): (u32, u32)) {
        if self.items.len() == self.items.capacity() {
            let mut bigger = Zeroizing::new(Vec::with_capacity(self.items.capacity() * 2 + 1));
            bigger.extend_from_slice(&self.items);
            // The old buffer is wiped as it drops here.
            self.items = bigger;
        }
        self.items.push(u64::from(a) << 32 | u64::from(b));
    }

    pub(crate) fn pop(&mut self) -> Option<(u32, u32)> {
        self.items.pop().map(unpack)
    }

    pub(crate) fn last(&self) -> Option<(u32, u32)> {
        self.items.last().copied().map(unpack)
    }

    #[cfg(test)]
    fn capacity(&self) -> usize {
        self.items.capacity()
    }
}

fn unpack(x: u64) -> (u32, u32) {
    ((x >> 32) as u32, x as u32)
}

/// Visits every internal node of the suffix tree as `(h, parent, size)`: an
/// LCP interval of `size` suffixes sharing a prefix of length `h`, whose
/// enclosing interval shares `parent < h`. Bottom-up traversal of Abouelhoda,
/// Kurtz and Ohlebusch with a stack of (lcp value, left boundary), 8 bytes an
/// entry; the root (lcp 0) is not visited.
fn lcp_intervals(lcp: &[i32], mut visit: impl FnMut(usize, usize, usize)) {
    let n = lcp.len();
    let mut stack = WipeStack::new();
    stack.push((0, 0));
    for i in 1..=n {
        // Past the end, a 0 closes every open interval.
        let cur = lcp.get(i).map_or(0, |&x| x as u32);
        let mut lb = (i - 1) as u32;
        while let Some((h, l)) = stack.last() {
            if cur >= h {
                break;
            }
            stack.pop();
            lb = l;
            let top = stack.last().map_or(0, |(th, _)| th);
            visit(h as usize, cur.max(top) as usize, i - l as usize);
        }
        let top = stack.last().map_or(0, |(th, _)| th);
        if cur > top {
            stack.push((cur, lb));
        }
    }
}

/// Computes [`TupleCounts`] from the suffix tree's LCP intervals, in two
/// passes so that only the lengths each estimate needs are held: the first
/// finds the most common tuple of every length (hence `u` and the t-Tuple
/// `p̂`), the second sums the pair counts for the LRS lengths `u..=v` only
/// (usually a few dozen, even where `v` is huge, as in periodic data).
fn tuple_counts(data: &[u8]) -> TupleCounts {
    let n = data.len();
    let lcp = lcp_array(data);
    let v = lcp.iter().copied().max().unwrap_or(0).max(0) as usize;

    // Pass 1: q[h] = the largest interval with lcp value h, then the running
    // maximum from the top, so q[t] = count of the most common t-tuple
    // (at least 1: every tuple that exists occurs once).
    let mut q = Zeroizing::new(vec![1u32; v + 1]);
    lcp_intervals(&lcp, |h, _, size| {
        let size = size as u32;
        if q[h] < size {
            q[h] = size;
        }
    });
    let mut running = 1u32;
    for t in (1..=v).rev() {
        running = running.max(q[t]);
        q[t] = running;
    }
    let u = (1..=v).find(|&t| q[t] < CUTOFF).unwrap_or(v + 1);
    let tuple_p_hat = (u > 1).then(|| {
        (1..u)
            .map(|i| (f64::from(q[i]) / (n - i + 1) as f64).powf(1.0 / i as f64))
            .fold(f64::NEG_INFINITY, f64::max)
    });
    drop(q);

    // Pass 2: a node adds C(size, 2) to S[W] for W in (parent, h]; kept as a
    // difference array over u..=v. Prefix sums are S values (< n^2 < 2^62);
    // wrapping ops keep the order of the signed updates irrelevant.
    let mut s = Zeroizing::new(Vec::new());
    if v >= u {
        let mut diff = Zeroizing::new(vec![0u64; v - u + 2]);
        lcp_intervals(&lcp, |h, parent, size| {
            if h < u {
                return;
            }
            let pairs = (size as u64) * (size as u64 - 1) / 2;
            let lo = parent.max(u - 1) + 1;
            diff[lo - u] = diff[lo - u].wrapping_add(pairs);
            diff[h + 1 - u] = diff[h + 1 - u].wrapping_sub(pairs);
        });
        let mut acc = 0u64;
        s = Zeroizing::new(
            diff[..=v - u]
                .iter()
                .map(|&d| {
                    acc = acc.wrapping_add(d);
                    acc
                })
                .collect(),
        );
    }
    TupleCounts {
        n,
        v,
        u,
        tuple_p_hat,
        s,
    }
}

/// `p_u = min(1, p̂ + Z·sqrt(p̂(1 − p̂)/(L − 1)))` and its estimate.
fn finish(estimator: Estimator, p_hat: f64, n: usize) -> Estimate {
    let p_u = (p_hat + Z_99 * (p_hat * (1.0 - p_hat) / (n as f64 - 1.0)).sqrt()).min(1.0);
    Estimate {
        estimator,
        p_max: p_u,
        min_entropy: bits_of(p_u),
    }
}

/// SP 800-90B 6.3.5 from the counts.
fn t_tuple_from(c: &TupleCounts) -> Result<Estimate, AssessError> {
    match c.tuple_p_hat {
        Some(p_hat) => Ok(finish(Estimator::TTuple, p_hat, c.n)),
        None => Err(AssessError::NoEstimate {
            estimator: Estimator::TTuple,
            reason: "no symbol occurs 35 times",
        }),
    }
}

/// SP 800-90B 6.3.6 from the counts.
fn lrs_from(c: &TupleCounts) -> Result<Estimate, AssessError> {
    let (u, v) = (c.u, c.v);
    if v < u {
        return Err(AssessError::NoEstimate {
            estimator: Estimator::Lrs,
            reason: "the longest repeated substring is shorter than u",
        });
    }
    let n = c.n as u64;
    let p_hat = (u..=v)
        .zip(c.s.iter())
        .map(|(w, &s)| {
            let wu = w as u64;
            let pairs = (n - wu) * (n - wu + 1) / 2;
            (s as f64 / pairs as f64).powf(1.0 / w as f64)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The interval stack keeps its order across growth and wipes on drop,
    /// including each old buffer it outgrows (replaced, so dropped as a
    /// `Zeroizing`).
    #[test]
    fn wipe_stack_grows_and_wipes() {
        fn wipes_on_drop<T: zeroize::ZeroizeOnDrop>(_: &T) {}
        let mut stack = WipeStack::new();
        wipes_on_drop(&stack.items);
        let first = stack.capacity();
        for i in 0..1000u32 {
            stack.push((i, !i));
        }
        assert!(stack.capacity() > first);
        assert_eq!(stack.last(), Some((999, !999)));
        for i in (0..1000u32).rev() {
            assert_eq!(stack.pop(), Some((i, !i)));
        }
        assert_eq!(stack.pop(), None);
        let lcp = lcp_array(&[0, 1, 0, 1, 1]);
        wipes_on_drop(&lcp);
        // Suffixes in order: 011, 01011, 1, 1011, 11.
        assert_eq!(lcp.as_slice(), &[0, 2, 0, 1, 1]);
    }
}
