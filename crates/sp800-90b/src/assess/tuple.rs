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
//! Binary data (the bitstring, 8 symbols a sample) gets the same order and
//! LCP values from the suffix array of its bytes, about three times faster.

use zeroize::Zeroizing;

use super::{
    AssessError, Estimate, Estimator, Z_99, bits_at, bits_of, check_alphabet, check_len, pack_bits,
};

/// Occurrences a tuple needs for its length to count in the t-Tuple estimate
/// (6.3.5 step 1), and below which a length counts for the LRS (6.3.6 step 1).
const CUTOFF: u32 = 35;

/// The longest input the suffix sorter takes (it indexes with `i32`).
pub const TUPLE_MAX_LEN: usize = i32::MAX as usize;

/// Per-length tuple statistics of one data set.
#[cfg_attr(test, derive(Debug, PartialEq))]
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

/// Every this many text positions, the LCP computation keeps the permuted
/// LCP value (see [`lcp_array`]). A power of two; 32 keeps the samples of an
/// 8,000,000-bit string at 1 MB (in cache) while the lower bounds they give
/// are at most 31 short, one or two word comparisons.
const PLCP_STEP: usize = 32;

/// The text as [`lcp_array`] reads it: a word at a time.
enum Text<'d> {
    /// Symbols 0/1, packed 64 to a word, first bit in the top bit; one
    /// extra zero word so that a read at any position needs no bounds check.
    Bits { words: &'d [u64], n: usize },
    /// Any symbols, a byte each.
    Bytes(&'d [u8]),
}

impl Text<'_> {
    /// The length of the common prefix of the suffixes at `a` and `b`,
    /// known to be at least `h`.
    #[inline]
    fn common_prefix(&self, a: usize, b: usize, mut h: usize) -> usize {
        match self {
            Text::Bits { words, n } => {
                let limit = n - a.max(b);
                while h < limit {
                    let x = bits_at(words, a + h) ^ bits_at(words, b + h);
                    if x != 0 {
                        return (h + x.leading_zeros() as usize).min(limit);
                    }
                    h += 64;
                }
                limit
            }
            Text::Bytes(data) => {
                let limit = data.len() - a.max(b);
                let word = |i: usize| {
                    let mut w = [0u8; 8];
                    w.copy_from_slice(&data[i..i + 8]);
                    u64::from_le_bytes(w)
                };
                while h + 8 <= limit {
                    let x = word(a + h) ^ word(b + h);
                    if x != 0 {
                        return h + (x.trailing_zeros() / 8) as usize;
                    }
                    h += 8;
                }
                while h < limit && data[a + h] == data[b + h] {
                    h += 1;
                }
                h
            }
        }
    }
}

/// Sorts the suffixes of `data` (symbols in `0..k`) and returns its LCP
/// array, with `lcp[i]` the longest common prefix of the `i−1`-th and
/// `i`-th smallest suffixes (`lcp[0] = 0`), in the suffix array's memory.
///
/// Binary data is sorted as the string of its overlapping 8-bit windows
/// (`w[i]` = bits `i..i+8`, zero-padded): comparing two such strings compares
/// the bits, and a shorter suffix that is a prefix of a longer one still
/// sorts first, so the order is the same, but the sorter's first bucketing
/// by two symbols then splits 65,536 ways instead of 4.
///
/// The LCP comes from the permuted LCP (`PLCP[p]`, the LCP of the suffix at
/// text position `p` with the one before it in sorted order), which falls
/// by at most one per position (Kärkkäinen, Manzini and Puglisi's Φ method).
/// Only every [`PLCP_STEP`]-th value is kept, in text order; each LCP entry is
/// then found by extending the lower bound `PLCP[p'] − (p − p')` of the
/// sample `p'` before it, a word at a time, over the suffix array itself,
/// from the end. Besides the text, the peak is the `4n`-byte suffix array
/// and `n/8` bytes (`n` more for the windows of binary data while it is
/// sorted): keeping the whole Φ array would add another `4n`.
fn lcp_array(data: &[u8], k: usize) -> Zeroizing<Vec<i32>> {
    let n = data.len();
    // Like every array here, wiped when freed: suffix order and LCP values
    // describe the samples.
    let mut sa = Zeroizing::new(vec![0i32; n]);
    let words;
    let text = if k == 2 {
        words = pack_bits(data);
        let windows: Zeroizing<Vec<u8>> =
            Zeroizing::new((0..n).map(|i| (bits_at(&words, i) >> 56) as u8).collect());
        divsufsort::sort_in_place(&windows, &mut sa);
        Text::Bits { words: &words, n }
    } else {
        divsufsort::sort_in_place(data, &mut sa);
        Text::Bytes(data)
    };
    if n == 0 {
        return sa;
    }
    // plcp[s] = PLCP[s * STEP]; first Φ: the text position of the suffix
    // sorted just before (NONE for the smallest suffix, whose PLCP is 0).
    const NONE: u32 = u32::MAX;
    let mut plcp = Zeroizing::new(vec![NONE; n.div_ceil(PLCP_STEP)]);
    for w in sa.windows(2) {
        let p = w[1] as usize;
        if p.is_multiple_of(PLCP_STEP) {
            plcp[p / PLCP_STEP] = w[0] as u32;
        }
    }
    // PLCP[p] >= PLCP[p - STEP] - STEP: the work is O(n) in all.
    let mut h = 0usize;
    for (s, slot) in plcp.iter_mut().enumerate() {
        let p = s * PLCP_STEP;
        h = if *slot == NONE {
            0
        } else {
            text.common_prefix(p, *slot as usize, h)
        };
        *slot = h as u32;
        h = h.saturating_sub(PLCP_STEP);
    }
    // From the end, so that sa[i - 1] is still a position when lcp[i]
    // overwrites sa[i].
    for i in (1..n).rev() {
        let (p, before) = (sa[i] as usize, sa[i - 1] as usize);
        let sample = p / PLCP_STEP;
        let low = (plcp[sample] as usize).saturating_sub(p - sample * PLCP_STEP);
        sa[i] = text.common_prefix(p, before, low) as i32;
    }
    sa[0] = 0;
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

    #[inline]
    pub(crate) fn push(&mut self, (a, b): (u32, u32)) {
        if self.items.len() == self.items.capacity() {
            self.grow();
        }
        self.items.push(u64::from(a) << 32 | u64::from(b));
    }

    #[cold]
    fn grow(&mut self) {
        let mut bigger = Zeroizing::new(Vec::with_capacity(self.items.capacity() * 2 + 1));
        bigger.extend_from_slice(&self.items);
        // The old buffer is wiped as it drops here.
        self.items = bigger;
    }

    #[inline]
    pub(crate) fn pop(&mut self) -> Option<(u32, u32)> {
        self.items.pop().map(unpack)
    }

    #[cfg(test)]
    fn last(&self) -> Option<(u32, u32)> {
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

/// The bottom-up traversal of the suffix tree's internal nodes (Abouelhoda,
/// Kurtz and Ohlebusch), fed one LCP value at a time: a stack of (lcp value,
/// left boundary), 8 bytes an entry, whose top is kept in fields.
struct Intervals {
    /// Below the top; the root (0, 0) at the bottom is never popped.
    stack: WipeStack,
    top_h: u32,
    top_l: u32,
}

impl Intervals {
    fn new() -> Self {
        Intervals {
            stack: WipeStack::new(),
            top_h: 0,
            top_l: 0,
        }
    }

    /// Takes `lcp[i]` (`i >= 1`, in order; a last 0 at `i = n` closes every
    /// open interval) and visits each interval it closes as
    /// `(h, parent, size)`: `size` suffixes sharing a prefix of length `h`,
    /// whose enclosing interval shares `parent < h`. The root (lcp 0) is
    /// not visited.
    #[inline(always)]
    fn step(&mut self, i: usize, cur: u32, visit: &mut impl FnMut(usize, usize, usize)) {
        let mut lb = (i - 1) as u32;
        while cur < self.top_h {
            let (below_h, below_l) = self.stack.pop().unwrap_or((0, 0));
            lb = self.top_l;
            visit(
                self.top_h as usize,
                cur.max(below_h) as usize,
                i - self.top_l as usize,
            );
            (self.top_h, self.top_l) = (below_h, below_l);
        }
        if cur > self.top_h {
            self.stack.push((self.top_h, self.top_l));
            (self.top_h, self.top_l) = (cur, lb);
        }
    }
}

/// Visits every internal node of the suffix tree of the text whose LCP
/// array is `lcp`, as [`Intervals::step`] does.
fn lcp_intervals(lcp: &[i32], mut visit: impl FnMut(usize, usize, usize)) {
    let n = lcp.len();
    let mut walk = Intervals::new();
    for i in 1..=n {
        walk.step(i, lcp.get(i).map_or(0, |&x| x as u32), &mut visit);
    }
}

/// Up to this longest repeat, one traversal of the LCP intervals collects
/// both estimates' statistics (arrays of this many entries).
const ONE_PASS_MAX_LCP: usize = 1 << 16;

/// `C(size, 2)`: the pairs among `size` occurrences.
fn pairs(size: usize) -> u64 {
    (size as u64) * (size as u64 - 1) / 2
}

/// One traversal's statistics, for every length `1..=v` (see
/// [`tuple_counts`]): `q[h]`, the largest interval with lcp value `h`, and
/// the difference array of the pair sums, `diff[W]`.
struct OnePass {
    q: Zeroizing<Vec<u32>>,
    diff: Zeroizing<Vec<u64>>,
}

impl OnePass {
    /// Room for lcp values up to `v`.
    fn new(v: usize) -> Self {
        OnePass {
            q: Zeroizing::new(vec![1u32; v + 1]),
            diff: Zeroizing::new(vec![0u64; v + 2]),
        }
    }

    #[inline]
    fn visit(&mut self, h: usize, parent: usize, size: usize) {
        self.q[h] = self.q[h].max(size as u32);
        let c = pairs(size);
        self.diff[parent + 1] = self.diff[parent + 1].wrapping_add(c);
        self.diff[h + 1] = self.diff[h + 1].wrapping_sub(c);
    }
}

/// From `q[h]` (the largest interval with lcp value `h`, for `h` in
/// `0..=v`): the running maximum from the top, so that `q[t]` counts the
/// most common `t`-tuple; then `u` and the t-Tuple `p̂`.
fn tuple_from_q(q: &mut [u32], n: usize) -> (usize, Option<f64>) {
    let v = q.len() - 1;
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
    (u, tuple_p_hat)
}

/// `S[W]` for `W` in `u..=v` from the difference array `diff`, whose entry
/// `i` holds the updates for `S[i + offset]` (`offset <= u`).
fn s_from_diff(diff: &[u64], offset: usize, u: usize, v: usize) -> Zeroizing<Vec<u64>> {
    let mut acc = 0u64;
    Zeroizing::new(
        diff[..=v - offset]
            .iter()
            .enumerate()
            .filter_map(|(i, &d)| {
                acc = acc.wrapping_add(d);
                (i + offset >= u).then_some(acc)
            })
            .collect(),
    )
}

/// Computes [`TupleCounts`] from the suffix tree's LCP intervals.
///
/// `q[h]` = the largest interval with lcp value `h` gives the most common
/// tuple of every length (hence `u` and the t-Tuple `p̂`). A node adds
/// `C(size, 2)` to `S[W]` for `W` in `(parent, h]`: kept as a difference
/// array, whose prefix sums are `S` values (< n^2 < 2^62); wrapping ops keep
/// the order of the signed updates irrelevant. When the longest repeat is
/// short (all but the most repetitive data) one traversal fills both, the
/// difference array over all lengths `1..=v`; otherwise a second traversal,
/// once `u` is known, keeps only `u..=v` (usually a few dozen lengths, even
/// where `v` is huge, as in periodic data).
///
/// Binary data goes the faster way of [`binary_tuple_counts`] when it can.
fn tuple_counts(data: &[u8], k: usize) -> TupleCounts {
    if k == 2
        && let Some(counts) = binary_tuple_counts(data)
    {
        return counts;
    }
    sorted_tuple_counts(data, k)
}

/// [`tuple_counts`] from the suffix array of the whole text.
fn sorted_tuple_counts(data: &[u8], k: usize) -> TupleCounts {
    let n = data.len();
    let lcp = lcp_array(data, k);
    let v = lcp.iter().copied().max().unwrap_or(0).max(0) as usize;
    if v <= ONE_PASS_MAX_LCP {
        let mut pass = OnePass::new(v);
        lcp_intervals(&lcp, |h, parent, size| pass.visit(h, parent, size));
        drop(lcp);
        let (u, tuple_p_hat) = tuple_from_q(&mut pass.q, n);
        let s = if v >= u {
            s_from_diff(&pass.diff, 0, u, v)
        } else {
            Zeroizing::new(Vec::new())
        };
        return TupleCounts {
            n,
            v,
            u,
            tuple_p_hat,
            s,
        };
    }
    let mut q = Zeroizing::new(vec![1u32; v + 1]);
    lcp_intervals(&lcp, |h, _, size| q[h] = q[h].max(size as u32));
    let (u, tuple_p_hat) = tuple_from_q(&mut q, n);
    drop(q);
    let mut s = Zeroizing::new(Vec::new());
    if v >= u {
        let mut diff = Zeroizing::new(vec![0u64; v - u + 2]);
        lcp_intervals(&lcp, |h, parent, size| {
            if h < u {
                return;
            }
            let c = pairs(size);
            let lo = parent.max(u - 1) + 1;
            diff[lo - u] = diff[lo - u].wrapping_add(c);
            diff[h + 1 - u] = diff[h + 1 - u].wrapping_sub(c);
        });
        s = s_from_diff(&diff, u, u, v);
    }
    TupleCounts {
        n,
        v,
        u,
        tuple_p_hat,
        s,
    }
}

/// [`TupleCounts`] of binary data (0/1 symbols) without sorting its `n`
/// suffixes from scratch, or `None` where the data has too many long
/// repeats for this route (then [`lcp_array`] sorts them).
///
/// The bits are packed into bytes (the last one zero-padded) and the `n/8`
/// byte suffixes sorted; they are the bit suffixes at positions `8m`, in the
/// same order (the padding argument of [`lcp_array`]). The suffix at `8m + r`
/// is the last `8 − r` bits of byte `m` followed by the aligned suffix at
/// `8(m + 1)`: so, for each offset `r`, one scan of the byte suffixes in
/// order, bucketed by those bits, lists the suffixes at `8m + r` in order
/// (the byte with no successor first in its bucket, as the empty suffix
/// sorts first). The eight lists are merged on their first 64 bits, which
/// also give the LCP of neighbours when it is under 64; equal keys are
/// compared further, a word at a time. The LCP values go straight into one
/// traversal of the intervals: no LCP array, no second suffix array.
///
/// The further comparisons cost a word per 64 common bits: they are counted,
/// and past a budget of `n` words (or an LCP over [`ONE_PASS_MAX_LCP`]) this
/// gives up, having spent a fraction of a sort.
fn binary_tuple_counts(data: &[u8]) -> Option<TupleCounts> {
    let n = data.len();
    let nb = n.div_ceil(8);
    let packed = pack_bits(data);
    let words = packed.as_slice();
    let text = Text::Bits { words, n };
    let bytes: Zeroizing<Vec<u8>> = Zeroizing::new(
        (0..nb)
            .map(|m| (bits_at(words, 8 * m) >> 56) as u8)
            .collect(),
    );
    let mut byte_sa = Zeroizing::new(vec![0i32; nb]);
    divsufsort::sort_in_place(&bytes, &mut byte_sa);

    // Buckets: offset r has 2^(8-r) of them, from BASE[r] in one table.
    const BASE: [usize; 8] = [0, 256, 384, 448, 480, 496, 504, 508];
    const BUCKETS: usize = 511;
    let bucket = |r: usize, byte: u8| BASE[r] + usize::from(byte & (0xffu8 >> r));
    let mut start = [0usize; BUCKETS + 1];
    for (m, &byte) in bytes.iter().enumerate() {
        for r in 0..8.min(n - 8 * m) {
            start[bucket(r, byte) + 1] += 1;
        }
    }
    for b in 0..BUCKETS {
        start[b + 1] += start[b];
    }
    // The offsets' lists lie one after the other: offset r's ends where
    // r + 1's buckets start.
    let mut ends = [0usize; 8];
    for (r, end) in ends.iter_mut().enumerate() {
        *end = if r < 7 { start[BASE[r + 1]] } else { n };
    }
    let mut heads_at = [0usize; 8];
    for (r, head) in heads_at.iter_mut().enumerate() {
        *head = start[BASE[r]];
    }
    let mut lists = Zeroizing::new(vec![0u32; n]);
    let mut place = |m: usize, r: usize| {
        let b = bucket(r, bytes[m]);
        lists[start[b]] = (8 * m + r) as u32;
        start[b] += 1;
    };
    // The last byte has no successor: the empty suffix, smallest of all.
    for r in 0..8.min(n - 8 * (nb - 1)) {
        place(nb - 1, r);
    }
    for &j in byte_sa.iter() {
        if j > 0 {
            let m = j as usize - 1;
            for r in 0..8 {
                place(m, r);
            }
        }
    }
    drop(byte_sa);
    drop(bytes);

    // The merge: each list's head and its first 64 bits, and those of the
    // AHEAD entries after it, read early so that taking a head seldom
    // waits for its successor's bits (a list often supplies several
    // suffixes in a row). An exhausted list shows the key u64::MAX and is
    // not `live`.
    const AHEAD: usize = 4;
    let key = |p: u32| bits_at(words, p as usize);
    let mut next_at = heads_at;
    let mut load = |r: usize| -> (u64, u32) {
        if next_at[r] < ends[r] {
            let p = lists[next_at[r]];
            next_at[r] += 1;
            (key(p), p)
        } else {
            (u64::MAX, u32::MAX)
        }
    };
    let mut head_key = [u64::MAX; 8];
    let mut head_pos = [u32::MAX; 8];
    // ring[r][j % AHEAD]: list r's entry j places after its head.
    let mut ring = [[(u64::MAX, u32::MAX); AHEAD]; 8];
    let mut turn = [0usize; 8];
    let mut live = 0u8;
    for r in 0..8 {
        if heads_at[r] < ends[r] {
            live |= 1 << r;
        }
        (head_key[r], head_pos[r]) = load(r);
        for slot in ring[r].iter_mut() {
            *slot = load(r);
        }
    }
    let mut budget = n as i64;
    // Compares the suffixes at a and b, whose first 64 bits are equal.
    let deep = |a: u32, b: u32, budget: &mut i64| -> (bool, usize) {
        let (a, b) = (a as usize, b as usize);
        let h = text.common_prefix(a, b, 64);
        *budget -= (h / 64) as i64;
        let limit = n - a.max(b);
        // A suffix that ends first is a prefix of the other: smaller.
        let less = if h == limit {
            a > b
        } else {
            bits_at(words, a + h) < bits_at(words, b + h)
        };
        (less, h)
    };
    let mut pass = OnePass::new(ONE_PASS_MAX_LCP);
    let mut walk = Intervals::new();
    let mut visit = |h: usize, parent: usize, size: usize| pass.visit(h, parent, size);
    let mut v = 0usize;
    let (mut prev_key, mut prev_pos) = (0u64, 0u32);
    for i in 0..n {
        // The smallest key, without branches; then whether another head has
        // it too (an LCP of 64 or more, or an exhausted list), rare enough
        // to settle the slow way.
        // As a tree, not a fold: the next step waits on this minimum.
        let [k0, k1, k2, k3, k4, k5, k6, k7] = head_key;
        let best_key = (k0.min(k1).min(k2.min(k3))).min(k4.min(k5).min(k6.min(k7)));
        let mut tied = 0u8;
        for (r, &k) in head_key.iter().enumerate() {
            tied |= u8::from(k == best_key) << r;
        }
        // (An exhausted list's key ties a live one's of all ones.)
        tied &= live;
        let mut best = tied.trailing_zeros() as usize;
        // More than one bit (count_ones is no single instruction on the
        // baseline x86-64 target).
        if tied & tied.wrapping_sub(1) != 0 {
            let mut rest = tied & !(1 << best);
            while rest != 0 {
                let r = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                if deep(head_pos[r], head_pos[best], &mut budget).0 {
                    best = r;
                }
            }
        }
        let (k, p) = (head_key[best], head_pos[best]);
        heads_at[best] += 1;
        if heads_at[best] == ends[best] {
            live &= !(1 << best);
        }
        let slot = &mut ring[best][turn[best] % AHEAD];
        (head_key[best], head_pos[best]) = *slot;
        *slot = load(best);
        turn[best] += 1;
        if i > 0 {
            let limit = n - (p.max(prev_pos) as usize);
            let lcp = if k != prev_key {
                ((k ^ prev_key).leading_zeros() as usize).min(limit)
            } else {
                deep(prev_pos, p, &mut budget).1
            };
            if lcp > ONE_PASS_MAX_LCP || budget < 0 {
                return None;
            }
            v = v.max(lcp);
            walk.step(i, lcp as u32, &mut visit);
        }
        (prev_key, prev_pos) = (k, p);
    }
    walk.step(n, 0, &mut visit);
    drop(lists);
    let (u, tuple_p_hat) = tuple_from_q(&mut pass.q[..=v], n);
    let s = if v >= u {
        s_from_diff(&pass.diff, 0, u, v)
    } else {
        Zeroizing::new(Vec::new())
    };
    Some(TupleCounts {
        n,
        v,
        u,
        tuple_p_hat,
        s,
    })
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
    t_tuple_from(&tuple_counts(data, k))
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
    lrs_from(&tuple_counts(data, k))
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
    let counts = tuple_counts(data, k);
    (t_tuple_from(&counts), lrs_from(&counts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::SplitMix64;

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
        let lcp = lcp_array(&[0, 1, 0, 1, 1], 2);
        wipes_on_drop(&lcp);
        // Suffixes in order: 011, 01011, 1, 1011, 11.
        assert_eq!(lcp.as_slice(), &[0, 2, 0, 1, 1]);
    }

    /// The LCP array the slow, obvious way: sort the suffixes as slices.
    fn naive_lcp(data: &[u8]) -> Vec<i32> {
        let mut order: Vec<usize> = (0..data.len()).collect();
        order.sort_by(|&a, &b| data[a..].cmp(&data[b..]));
        let mut lcp = vec![0i32; data.len()];
        for i in 1..order.len() {
            let (a, b) = (&data[order[i - 1]..], &data[order[i]..]);
            lcp[i] = a.iter().zip(b).take_while(|(x, y)| x == y).count() as i32;
        }
        lcp
    }

    /// The statistics the slow, obvious way: count the tuples of every
    /// length.
    fn naive_counts(data: &[u8]) -> TupleCounts {
        let n = data.len();
        let mut q = vec![0u32; n + 1];
        let mut s = vec![0u64; n + 1];
        for t in 1..=n {
            let mut counts = std::collections::HashMap::new();
            for w in data.windows(t) {
                *counts.entry(w).or_insert(0u64) += 1;
            }
            q[t] = counts.values().copied().max().unwrap_or(0) as u32;
            s[t] = counts.values().map(|&c| c * (c - 1) / 2).sum();
        }
        let v = (1..=n).rev().find(|&t| q[t] >= 2).unwrap_or(0);
        let mut q = q[..=v].to_vec();
        let (u, tuple_p_hat) = tuple_from_q(&mut q, n);
        TupleCounts {
            n,
            v,
            u,
            tuple_p_hat,
            s: Zeroizing::new(if v >= u {
                s[u..=v].to_vec()
            } else {
                Vec::new()
            }),
        }
    }

    /// Binary strings that exercise the edge cases: every length up to 80
    /// (so every alignment of the last byte), long runs of ones (keys of
    /// all ones, like an exhausted list's) and of zeros (the padding's
    /// value), periodic data (long repeats), and biased random bits.
    fn binary_cases() -> Vec<Vec<u8>> {
        let mut rng = SplitMix64(3);
        let mut cases = Vec::new();
        for len in 2..=80 {
            cases.push((0..len).map(|_| (rng.next() & 1) as u8).collect());
        }
        for len in [200, 333, 600] {
            for p_one in [1u64, 8, 32, 60, 63] {
                // Ones with probability p_one / 64.
                cases.push(
                    (0..len)
                        .map(|_| u8::from(rng.next() % 64 < p_one))
                        .collect(),
                );
            }
            cases.push(vec![1; len]);
            cases.push((0..len).map(|i| u8::from(i % 7 < 3)).collect());
            cases.push((0..len).map(|i| u8::from(i % 130 == 0)).collect());
            cases.push((0..len).map(|i| u8::from(i % 90 != 5)).collect());
        }
        cases
    }

    /// Both LCP routes (bits as 8-bit windows, and bytes), with the sparse
    /// permuted LCP, give the LCP array of a plain sort.
    #[test]
    fn lcp_array_matches_naive_sort() {
        let mut rng = SplitMix64(1);
        for data in binary_cases() {
            assert_eq!(lcp_array(&data, 2).as_slice(), naive_lcp(&data), "{data:?}");
        }
        for (len, k) in [(2, 3), (50, 3), (300, 4), (1000, 256), (700, 2)] {
            let data: Vec<u8> = (0..len).map(|_| (rng.next() % k) as u8).collect();
            assert_eq!(lcp_array(&data, k as usize).as_slice(), naive_lcp(&data));
        }
        let periodic: Vec<u8> = (0..500).map(|i| [3u8, 1, 4, 1, 5][i % 5]).collect();
        assert_eq!(lcp_array(&periodic, 6).as_slice(), naive_lcp(&periodic));
    }

    /// The binary route (byte suffixes, eight merged lists) and the route
    /// through the whole suffix array agree with counting tuples directly.
    #[test]
    fn tuple_counts_match_naive_counts() {
        for data in binary_cases() {
            let want = naive_counts(&data);
            assert_eq!(sorted_tuple_counts(&data, 2), want, "sorted {data:?}");
            match binary_tuple_counts(&data) {
                Some(got) => assert_eq!(got, want, "binary {data:?}"),
                // Only for the long repeats of periodic or constant data.
                None => assert!(want.v > 64, "gave up on {data:?}"),
            }
        }
        let mut rng = SplitMix64(2);
        for (len, k) in [(2, 2), (40, 3), (400, 5)] {
            let data: Vec<u8> = (0..len).map(|_| (rng.next() % k) as u8).collect();
            assert_eq!(sorted_tuple_counts(&data, k as usize), naive_counts(&data));
        }
    }

    /// Long repeats: the binary route gives up past its budget, and the
    /// whole result is still right.
    #[test]
    fn binary_route_gives_up_on_long_repeats() {
        let mut rng = SplitMix64(4);
        let block: Vec<u8> = (0..1000).map(|_| (rng.next() & 1) as u8).collect();
        let data: Vec<u8> = block.iter().copied().cycle().take(20_000).collect();
        assert!(binary_tuple_counts(&data).is_none());
        let counts = tuple_counts(&data, 2);
        assert_eq!(counts.v, 19_000);
        assert_eq!(counts, sorted_tuple_counts(&data, 2));
    }
}
