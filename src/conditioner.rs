//! SHA-256 conditioning and min-entropy accounting: the one place where raw
//! samples become output.
//!
//! Pure code: no I/O, no clock. The seeder feeds every sample that passed the
//! health tests to [`Conditioner::absorb`] with the min-entropy it credits,
//! and asks [`Conditioner::try_take_block`] for a 32-byte full-entropy block.
//!
//! # Construction
//!
//! With `LE64` the 8-byte little-endian encoding and `||` concatenation,
//! block `i` is one SHA-256 over the chaining value and everything absorbed
//! since the previous block:
//!
//! ```text
//! input_i     = chain_i || LE64(i) || item_1 || ... || item_n
//! block_i     = SHA-256("kqseed/v2/block" || input_i)
//! chain_{i+1} = SHA-256("kqseed/v2/chain" || input_i)
//! chain_0     = 32 zero bytes
//!
//! item = "S" || LE64(delta)                                  a sample
//!      | "F" || LE64(pid) || LE64(generation) || LE64(forks)  a fork record
//!      | "O" || 32 bytes                                     OS entropy (hedge)
//! ```
//!
//! With several collectors ([`SeederConfig::collectors`](crate::SeederConfig::collectors)),
//! each has a conditioner of its own that releases a *share* once its pool
//! is credited `share_millibits` (about `320 / n` bits, more by the credit
//! a fault of the shared clock can bring it before it is caught: 176-181
//! bits a share of two at the default), and the block output is
//!
//! ```text
//! block = SHA-256("kqseed/v2/joins" || LE64(n) || share_1 || ... || share_n)
//! ```
//!
//! No share is ever output alone.
//!
//! `i` counts the blocks released by this conditioner, from 0. Each sample
//! contributes its whole raw delta, not only the 8-bit symbol the health
//! tests see. The two labels have the same length and differ in their 11th
//! byte, every item starts with a tag that fixes its length, and every other
//! field has a fixed length, so each hash input parses one way only and no
//! input of one hash is an input of the other. The block and the next chain
//! value are two hashes of the same input (both run as the samples arrive),
//! so the block is exactly the output of the conditioning function over the
//! credited samples, and the chain is not computable from any block.
//!
//! A fork record stays part of every pool input (after a discard too) until
//! the next block is released; from then on the chain value carries it.
//!
//! Only samples carry credit. A fork record (a forked child's pid, fork
//! generation and fork count, see [`Conditioner::absorb_fork_record`]) and
//! OS entropy (the opt-in hedge, [`Conditioner::absorb_os_entropy`]) are
//! credited with nothing: they keep two processes, or a weak source, apart,
//! but no entropy claim rests on them.
//!
//! # Accounting
//!
//! `block_i` is released only once the samples absorbed into `pool_i` were
//! credited at least [`FULL_ENTROPY_CREDIT_BITS`] = 256 + 64 bits of
//! min-entropy: SP 800-90C's rule for a full-entropy output of 256 bits from
//! a vetted conditioning function. Credit is kept in integer millibits
//! (rounded down per sample), so no float drift can round it up.
//!
//! The 64 extra bits also cover what the health tests cannot catch at once:
//! a stuck source passes `C - 1` samples before the RCT fails, and those are
//! credited `(C - 1) * H = H * ceil(30 / H) < 30 + H` bits at the default
//! intermittent `alpha = 2^-30`: under 31 bits, since no source is
//! credited more than 15/16 bit a sample. A fault
//! common to every source (a stopped or scripted clock) is caught by the
//! pass repetition test ([`PassRepetition`](crate::health::PassRepetition))
//! after fewer than `30 + 2 H_pass` credited bits, `H_pass` a pass's credit
//! (under 7 bits at the default's ceilings).
//!
//! Each new pool starts from a chaining value derived from the previous one.
//! Whatever entropy the credit underestimated is carried on, but nothing is
//! *counted* twice: the credit restarts at zero with every pool, and the
//! chaining value, hashed under its own label, is not computable from any
//! released block. [`Conditioner::discard`] (after an intermittent health
//! failure) drops everything absorbed since the last release and restarts
//! the pool from the same chaining value.
//!
//! # Zeroization
//!
//! The chaining value and the released blocks live in [`Zeroizing`]
//! buffers. The two running SHA-256 states are `sha2`'s own hashers, which
//! wipe their state and buffer on drop only when `sha2`'s `zeroize` feature
//! is enabled; the crate manifest turns it on
//! (`sha2 = { version = "0.11", features = ["zeroize"] }`), and this module
//! never copies them. Moving a `Conditioner` can leave stale bytes behind,
//! the caveat `zeroize` documents for every Rust value, so it is only ever
//! handed out boxed ([`Conditioner::boxed`]), and the seeder keeps it in that
//! box for its whole life. `Debug` prints counters only.

use core::fmt;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Length of a released block, in bytes.
pub const BLOCK_LEN: usize = 32;
/// Min-entropy, in bits, that the samples of one pool must be credited with
/// before its block is released: 256 + 64 (SP 800-90C, full entropy).
pub const FULL_ENTROPY_CREDIT_BITS: u32 = 256 + 64;
/// The most one sample can be credited with, in bits: the whole 8-bit symbol.
pub const MAX_CREDIT_PER_SAMPLE_BITS: f64 = 8.0;

const MILLIBITS_PER_BIT: u64 = 1000;
pub(crate) const FULL_ENTROPY_CREDIT_MILLIBITS: u64 =
    FULL_ENTROPY_CREDIT_BITS as u64 * MILLIBITS_PER_BIT;

const BLOCK_LABEL: &[u8; 15] = b"kqseed/v2/block";
const CHAIN_LABEL: &[u8; 15] = b"kqseed/v2/chain";
const JOIN_LABEL: &[u8; 15] = b"kqseed/v2/joins";
const SAMPLE_TAG: u8 = b'S';
const FORK_TAG: u8 = b'F';
const OS_ENTROPY_TAG: u8 = b'O';
/// Length of the OS entropy absorbed by [`Conditioner::absorb_os_entropy`].
pub const OS_ENTROPY_LEN: usize = 32;

/// Converts a credit in bits to millibits, rounding down. A credit that is
/// not a number or not positive counts as 0; one above
/// [`MAX_CREDIT_PER_SAMPLE_BITS`] counts as that maximum.
pub fn credit_millibits(bits: f64) -> u32 {
    if bits.is_nan() || bits <= 0.0 {
        return 0;
    }
    let bits = bits.min(MAX_CREDIT_PER_SAMPLE_BITS);
    // In [0, 8000]: the cast is exact after `floor`.
    (bits * MILLIBITS_PER_BIT as f64).floor() as u32
}

/// Counters of a [`Conditioner`], as a snapshot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConditionerStats {
    /// Min-entropy credited to the current pool, in millibits.
    pub pool_credit_millibits: u64,
    /// Samples absorbed into the current pool.
    pub pool_samples: u64,
    /// Blocks released.
    pub blocks: u64,
    /// Samples absorbed in all, discarded ones included.
    pub samples: u64,
    /// Calls to [`Conditioner::discard`].
    pub discards: u64,
    /// Samples thrown away by those calls.
    pub discarded_samples: u64,
}

/// The SHA-256 pool and its min-entropy account. See the
/// [module documentation](self) for the construction.
///
/// Not `Clone`: two copies would release the same blocks.
pub struct Conditioner {
    /// SHA-256 of the block label and this pool's input so far.
    block: Sha256,
    /// SHA-256 of the chain label and the same input.
    next_chain: Sha256,
    chain: Zeroizing<[u8; BLOCK_LEN]>,
    /// A fork record absorbed since the last block: absorbed again into
    /// every pool until a block is released, so a discard cannot lose it.
    fork_record: Option<[u64; 3]>,
    stats: ConditionerStats,
}

impl Conditioner {
    /// An empty conditioner: the first pool starts from an all-zero chaining
    /// value.
    pub fn new() -> Self {
        let mut c = Conditioner {
            block: Sha256::new(),
            next_chain: Sha256::new(),
            chain: Zeroizing::new([0; BLOCK_LEN]),
            fork_record: None,
            stats: ConditionerStats::default(),
        };
        c.start_pool();
        c
    }

    /// A new conditioner on the heap, where it stays: an empty one holds no
    /// secret yet, so the one move into the box leaves nothing behind.
    pub fn boxed() -> Box<Self> {
        Box::new(Conditioner::new())
    }

    /// Both hashes restart on the current chain value and block counter.
    fn start_pool(&mut self) {
        for (hash, label) in [
            (&mut self.block, BLOCK_LABEL),
            (&mut self.next_chain, CHAIN_LABEL),
        ] {
            Digest::reset(hash);
            hash.update(label);
            // As a slice: `update(*self.chain)` would copy the array, unwiped.
            hash.update(self.chain.as_slice());
            hash.update(self.stats.blocks.to_le_bytes());
        }
        self.stats.pool_credit_millibits = 0;
        self.stats.pool_samples = 0;
        if let Some([pid, generation, forks]) = self.fork_record {
            self.absorb_fork_item(pid, generation, forks);
        }
    }

    fn absorb_fork_item(&mut self, pid: u64, generation: u64, forks: u64) {
        self.absorb_item(
            FORK_TAG,
            &[
                &pid.to_le_bytes(),
                &generation.to_le_bytes(),
                &forks.to_le_bytes(),
            ],
        );
    }

    /// One tagged item into both hashes.
    fn absorb_item(&mut self, tag: u8, fields: &[&[u8]]) {
        for hash in [&mut self.block, &mut self.next_chain] {
            hash.update([tag]);
            for field in fields {
                hash.update(field);
            }
        }
    }

    /// Absorbs one sample's whole raw delta and credits `credited_bits` of
    /// min-entropy for it (see [`credit_millibits`] for the rounding).
    pub fn absorb(&mut self, raw_delta: u64, credited_bits: f64) {
        self.absorb_millibits(raw_delta, credit_millibits(credited_bits));
    }

    /// Like [`absorb`](Self::absorb) with the credit already in millibits;
    /// it is capped at [`MAX_CREDIT_PER_SAMPLE_BITS`].
    pub fn absorb_millibits(&mut self, raw_delta: u64, millibits: u32) {
        self.absorb_item(SAMPLE_TAG, &[&raw_delta.to_le_bytes()]);
        let cap = MAX_CREDIT_PER_SAMPLE_BITS as u64 * MILLIBITS_PER_BIT;
        let s = &mut self.stats;
        s.pool_credit_millibits = s
            .pool_credit_millibits
            .saturating_add(u64::from(millibits).min(cap));
        s.pool_samples += 1;
        s.samples += 1;
    }

    /// Absorbs a forked child's record (its pid, fork generation and the
    /// number of forks started before it), credited with nothing, so that a
    /// child never continues its parent's pool or a sibling's. Until the
    /// next block is released, every pool (after a discard too) starts with
    /// it.
    pub fn absorb_fork_record(&mut self, pid: u64, generation: u64, forks: u64) {
        self.fork_record = Some([pid, generation, forks]);
        self.absorb_fork_item(pid, generation, forks);
    }

    /// Absorbs bytes from the operating system's generator (the opt-in
    /// hedge), credited with nothing: the block is then never weaker than
    /// either source, and every entropy claim still rests on the samples
    /// alone.
    pub fn absorb_os_entropy(&mut self, bytes: &[u8; OS_ENTROPY_LEN]) {
        self.absorb_item(OS_ENTROPY_TAG, &[bytes.as_slice()]);
    }

    /// Whether the current pool holds enough credit for a block.
    pub fn is_ready(&self) -> bool {
        self.is_ready_at(FULL_ENTROPY_CREDIT_MILLIBITS)
    }

    /// Whether the current pool holds `millibits` of credit.
    fn is_ready_at(&self, millibits: u64) -> bool {
        self.stats.pool_credit_millibits >= millibits
    }

    /// Releases the next 32-byte block once the current pool was credited at
    /// least [`FULL_ENTROPY_CREDIT_BITS`]; then starts the next pool, with
    /// the credit at zero. `None` (and nothing changed) below that.
    ///
    /// The caller must not release a block before the health tests'
    /// start-up completed, and must [`discard`](Self::discard) on every
    /// health failure.
    pub fn try_take_block(&mut self) -> Option<Zeroizing<[u8; BLOCK_LEN]>> {
        self.try_take_share(FULL_ENTROPY_CREDIT_MILLIBITS)
    }

    /// Like [`try_take_block`](Self::try_take_block), once the pool was
    /// credited `millibits`: a share of a block that [`join_shares`] makes
    /// from several collectors' shares. Below [`FULL_ENTROPY_CREDIT_BITS`]
    /// it is not a full-entropy block and must not be output alone.
    pub(crate) fn try_take_share(&mut self, millibits: u64) -> Option<Zeroizing<[u8; BLOCK_LEN]>> {
        if !self.is_ready_at(millibits) {
            return None;
        }
        let mut block = Zeroizing::new([0u8; BLOCK_LEN]);
        self.block.finalize_into_reset((&mut *block).into());
        self.next_chain
            .finalize_into_reset((&mut *self.chain).into());
        self.stats.blocks += 1;
        // The new chain carries the record on.
        self.fork_record = None;
        self.start_pool();
        Some(block)
    }

    /// Drops everything absorbed since the last released block (or since the
    /// start) and its credit, for an intermittent health-test failure. The
    /// next pool starts from the same chaining value as the dropped one.
    pub fn discard(&mut self) {
        self.stats.discards += 1;
        self.stats.discarded_samples += self.stats.pool_samples;
        self.start_pool();
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> ConditionerStats {
        self.stats
    }
}

/// The credit, in millibits, a share of one of `collectors` collectors
/// must have before [`join_shares`] makes a block of the shares:
/// `320 / n + (n - 1) / n * latency` bits, rounded up, and one more
/// (`n` collectors, `latency` this collector's
/// `alpha_intermittent_log2 + 2 H_pass`: 181 bits a share of two at the
/// default's per-path credits, 176 where a coarse clock's pass is credited
/// 8/16).
///
/// * A fault common to every collector (the clock they share, stopped or
///   scripted) can bring each share up to its collector's `latency` of
///   credit before the pass test catches it, where one collector's block
///   carries that once (see "Accounting" above): with each share larger by
///   `(n - 1) / n` of it, what is left after every share's worst case is at
///   least what one collector's block keeps, `320 - latency` of the
///   collector whose latency is highest. A stuck kernel path where start-up
///   credits whole passes or thirds is not covered: that gap, one
///   collector's too, is in SECURITY.md.
/// * The share is a SHA-256 output over input credited `h` bits, so its
///   own entropy is `h` less about `2^(h - 256) / ln 2` bits (SP 800-90B
///   section 3.1.5.1.2, `Output_Entropy` for 256 output bits), under
///   2^-40 bit for a share of two credited under 215 bits: the extra bit a
///   share keeps the sum above that after the loss.
pub(crate) fn share_millibits(collectors: usize, latency_bits: f64) -> u64 {
    let collectors = collectors.max(1) as u64;
    if collectors == 1 {
        return FULL_ENTROPY_CREDIT_MILLIBITS;
    }
    let latency = (latency_bits.max(0.0) * MILLIBITS_PER_BIT as f64).ceil() as u64;
    let sum = FULL_ENTROPY_CREDIT_MILLIBITS + (collectors - 1) * latency;
    sum.div_ceil(collectors) + MILLIBITS_PER_BIT
}

/// One block from the shares of several collectors, each released by its
/// own conditioner at [`share_millibits`]: SHA-256 of a label, the number
/// of shares and the shares in order (each [`BLOCK_LEN`] bytes, hashed
/// where they lie, so no copy is left behind). Its input is credited the
/// shares' sum, over 320 bits; what backs adding them is in
/// [`SeederConfig::collectors`](crate::SeederConfig::collectors).
pub(crate) fn join_shares(shares: &[&[u8]]) -> Zeroizing<[u8; BLOCK_LEN]> {
    let mut hash = Sha256::new();
    hash.update(JOIN_LABEL);
    hash.update((shares.len() as u64).to_le_bytes());
    for share in shares {
        debug_assert_eq!(share.len(), BLOCK_LEN);
        hash.update(share);
    }
    let mut block = Zeroizing::new([0u8; BLOCK_LEN]);
    hash.finalize_into((&mut *block).into());
    block
}

impl Default for Conditioner {
    fn default() -> Self {
        Conditioner::new()
    }
}

impl fmt::Debug for Conditioner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Counters only: never the hash state or the chaining value.
        f.debug_struct("Conditioner")
            .field("threshold_bits", &FULL_ENTROPY_CREDIT_BITS)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(i: u64) -> u64 {
        i.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn credit_is_rounded_down_and_clamped() {
        assert_eq!(credit_millibits(6.5), 6500);
        assert_eq!(credit_millibits(0.0019), 1);
        assert_eq!(credit_millibits(0.0009), 0);
        assert_eq!(credit_millibits(1.0 / 3.0), 333);
        for bad in [0.0, -1.0, f64::NAN, f64::NEG_INFINITY] {
            assert_eq!(credit_millibits(bad), 0);
        }
        assert_eq!(credit_millibits(9.0), 8000);
        assert_eq!(credit_millibits(f64::INFINITY), 8000);
    }

    #[test]
    fn block_needs_320_credited_bits() {
        // 49 * 6.5 = 318.5 bits: nothing; 50 * 6.5 = 325: one block.
        let mut c = Conditioner::new();
        for i in 1..=49 {
            c.absorb(raw(i), 6.5);
            assert!(c.try_take_block().is_none(), "after {i} samples");
        }
        c.absorb(raw(50), 6.5);
        assert!(c.try_take_block().is_some());
        // The credit restarted: the next block needs 50 more samples.
        assert!(c.try_take_block().is_none());
        for i in 51..=99 {
            c.absorb(raw(i), 6.5);
            assert!(c.try_take_block().is_none());
        }
        c.absorb(raw(100), 6.5);
        assert!(c.try_take_block().is_some());
        assert_eq!(c.stats().blocks, 2);
    }

    #[test]
    fn credit_accounting_does_not_drift() {
        // 0.1 bit is 100 millibits exactly: 3200 samples, not 3199.
        let mut c = Conditioner::new();
        for _ in 0..3199 {
            c.absorb(1, 0.1);
        }
        assert!(!c.is_ready());
        c.absorb(1, 0.1);
        assert!(c.is_ready());
        // A credit above 8 bits per sample is capped: 40 samples, not 4.
        let mut c = Conditioner::new();
        for _ in 0..39 {
            c.absorb_millibits(1, 80_000);
        }
        assert!(c.try_take_block().is_none());
        c.absorb_millibits(1, 80_000);
        assert!(c.try_take_block().is_some());
    }

    #[test]
    fn discard_resets_credit_and_drops_samples() {
        let mut c = Conditioner::new();
        for i in 1..=49 {
            c.absorb(raw(i), 6.5);
        }
        c.discard();
        assert_eq!(c.stats().pool_credit_millibits, 0);
        assert_eq!(c.stats().discarded_samples, 49);
        c.absorb(raw(50), 6.5);
        assert!(c.try_take_block().is_none(), "credit survived a discard");
    }

    #[test]
    fn known_answer() {
        // Computed independently with Python's hashlib from the construction
        // in the module documentation:
        //   H = sha256; LE64 = struct.pack("<Q", x); raw(i) = i * 0x9e3779b97f4a7c15 mod 2^64
        //   S(d) = b"S" + LE64(d)
        //   input0 = bytes(32) + LE64(0) + S(raw(1)) + ... + S(raw(50))
        //   block0 = H(b"kqseed/v2/block" + input0); chain1 = H(b"kqseed/v2/chain" + input0)
        //   input1 = chain1 + LE64(1) + S(raw(51)) + ... + S(raw(100))
        //   block1 = H(b"kqseed/v2/block" + input1)
        let mut c = Conditioner::new();
        for i in 1..=50 {
            c.absorb(raw(i), 6.5);
        }
        let b0 = c.try_take_block().unwrap();
        assert_eq!(
            hex(&*b0),
            "24632e6477605a198700fa2e8a04594f5f079192cf1fd9dda87ffd856e00e187"
        );
        for i in 51..=100 {
            c.absorb(raw(i), 6.5);
        }
        let b1 = c.try_take_block().unwrap();
        assert_eq!(
            hex(&*b1),
            "bb6edf82313b9f17143d3a30d633315c639687e05eff9f315b213f6074a58c39"
        );
    }

    #[test]
    fn known_answer_after_discard() {
        // Samples 1..=10 are discarded; the pool restarts on the all-zero
        // chain and counter 0: block0 = H(b"kqseed/v2/block" + bytes(32) +
        // LE64(0) + S(raw(101)) + ... + S(raw(150))), by hashlib.
        let mut c = Conditioner::new();
        for i in 1..=10 {
            c.absorb(raw(i), 6.5);
        }
        c.discard();
        for i in 101..=150 {
            c.absorb(raw(i), 6.5);
        }
        assert_eq!(
            hex(&*c.try_take_block().unwrap()),
            "a76751427a9e6c1c3fa0de40c54144404f073d60ed5ed96ab5ef13c875f8e1ac"
        );
    }

    #[test]
    fn known_answers_with_uncredited_records() {
        // By hashlib: the item b"F" + LE64(4242) + LE64(7) + LE64(3), or
        // b"O" + bytes(range(32)), right after the counter, then the same
        // 50 samples as in `known_answer`.
        let mut fork = Conditioner::new();
        fork.absorb_fork_record(4242, 7, 3);
        let mut os = Conditioner::new();
        let os_bytes: [u8; OS_ENTROPY_LEN] = core::array::from_fn(|i| i as u8);
        os.absorb_os_entropy(&os_bytes);
        for c in [&fork, &os] {
            assert_eq!(
                c.stats().pool_credit_millibits,
                0,
                "records carry no credit"
            );
            assert!(!c.is_ready());
        }
        for i in 1..=50 {
            fork.absorb(raw(i), 6.5);
            os.absorb(raw(i), 6.5);
        }
        assert_eq!(
            hex(&*fork.try_take_block().unwrap()),
            "7f31440d8bd0a68411af36e9c7de439566bf7cba2a2267be3644df85ee87cf53"
        );
        assert_eq!(
            hex(&*os.try_take_block().unwrap()),
            "4e2575cf15ef30b491c4307fa7db59f527fa7b74203b2564d2c9c01472c0548f"
        );
    }

    #[test]
    fn different_inputs_give_different_blocks() {
        let block = |f: &dyn Fn(u64) -> u64| {
            let mut c = Conditioner::new();
            for i in 1..=50 {
                c.absorb(f(i), 6.5);
            }
            *c.try_take_block().unwrap()
        };
        let a = block(&raw);
        let high_bits = block(&|i| if i == 7 { raw(i) ^ (1 << 63) } else { raw(i) });
        let order = block(&|i| raw(51 - i));
        assert_ne!(a, high_bits, "a change above the low byte must matter");
        assert_ne!(a, order);
        // Same samples, but the second block of a conditioner: a new chain
        // and counter.
        let mut c = Conditioner::new();
        for round in 0..2 {
            for i in 1..=50 {
                c.absorb(raw(i), 6.5);
            }
            let b = c.try_take_block().unwrap();
            assert_eq!(*b == a, round == 0);
        }
    }

    #[test]
    fn conditioner_cannot_be_cloned() {
        // Compiles only while `Conditioner: !Clone` (the call would be
        // ambiguous otherwise): two copies would release the same blocks.
        crate::test_util::assert_not_clone!(Conditioner);
    }

    #[test]
    fn debug_shows_counters_only() {
        let mut c = Conditioner::new();
        for i in 1..=50 {
            c.absorb(raw(i), 6.5);
        }
        let before = format!("{c:?}");
        let block = c.try_take_block().unwrap();
        let after = format!("{c:?}");
        for text in [&before, &after] {
            assert!(text.contains("pool_credit_millibits"), "{text}");
            assert!(
                !text.contains("chain") && !text.contains("Sha256") && !text.contains("block:"),
                "{text}"
            );
            assert!(!text.to_lowercase().contains(&hex(&block[..4])), "{text}");
            // No byte array of any kind: at most a few small numbers.
            assert!(text.len() < 300, "{text}");
        }
        assert!(after.contains("blocks: 1"), "{after}");
    }

    #[test]
    fn a_fork_record_survives_a_discard_until_the_next_block() {
        // Record, discard, 50 samples: the same block as record then the 50
        // samples straight away (the discard re-absorbed the record).
        let mut discarded = Conditioner::new();
        discarded.absorb_fork_record(4242, 7, 3);
        discarded.absorb(raw(999), 6.5);
        discarded.discard();
        let mut straight = Conditioner::new();
        straight.absorb_fork_record(4242, 7, 3);
        for c in [&mut discarded, &mut straight] {
            for i in 1..=50 {
                c.absorb(raw(i), 6.5);
            }
        }
        let a = discarded.try_take_block().unwrap();
        assert_eq!(a, straight.try_take_block().unwrap());
        assert_eq!(
            hex(&*a),
            "7f31440d8bd0a68411af36e9c7de439566bf7cba2a2267be3644df85ee87cf53"
        );
    }

    #[test]
    fn a_share_comes_out_at_its_credit_and_the_join_is_the_documented_hash() {
        let mut c = Conditioner::new();
        for i in 1..=24 {
            c.absorb(raw(i), 6.5);
        }
        for i in 25..=28 {
            c.absorb(raw(i), 6.5);
        }
        // 182 bits: under a share of two collectors with a latency of 44
        // bits (183).
        let share = share_millibits(2, 44.0);
        assert_eq!(share, 183_000);
        assert!(c.try_take_share(share).is_none());
        c.absorb(raw(29), 6.5);
        assert!(!c.is_ready(), "a share's credit is not a block's");
        assert!(c.try_take_share(share).is_some());
        assert_eq!(
            c.stats().pool_credit_millibits,
            0,
            "the next pool starts at 0"
        );

        // SHA-256("kqseed/v2/joins" || LE64(2) || share_0 || share_1),
        // computed with Python's hashlib.
        let a: [u8; 32] = core::array::from_fn(|i| i as u8);
        let b: [u8; 32] = core::array::from_fn(|i| 0xff - i as u8);
        assert_eq!(
            hex(&*join_shares(&[&a, &b])),
            "915a617e8533583eb81feeed243462d3067766925a9162db2e535979667e7628"
        );
        assert_ne!(join_shares(&[&a, &b]), join_shares(&[&b, &a]));
    }
}
