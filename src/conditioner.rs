//! SHA-256 conditioning and min-entropy accounting: the one place where raw
//! samples become output.
//!
//! Pure code: no I/O, no clock. The seeder feeds every sample that passed the
//! health tests to [`Conditioner::absorb`] with the min-entropy it credits,
//! and asks [`Conditioner::try_take_block`] for a 32-byte full-entropy block.
//!
//! # Construction
//!
//! With `LE64` the 8-byte little-endian encoding and `||` concatenation:
//!
//! ```text
//! pool_i  = SHA-256("kqseed/v1/pool"  || chain_i || LE64(delta_1) || ... || LE64(delta_n))
//! block_i = SHA-256("kqseed/v1/out"   || pool_i  || LE64(i))
//! chain_0 = 32 zero bytes
//! chain_{i+1} = SHA-256("kqseed/v1/chain" || pool_i)
//! ```
//!
//! `i` counts the blocks released by this conditioner, from 0. Each sample
//! contributes its whole raw delta, not only the 8-bit symbol the health
//! tests see. The three labels differ in their 11th byte (`p`, `o`, `c`),
//! so no input of one hash can equal an input of another; every field after
//! a label has a fixed length, so each input parses one way only.
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
//! intermittent `alpha = 2^-30`, which is 30 bits at the default `H = 1`.
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
//! The chaining value, the finished pool digest and the released blocks live
//! in [`Zeroizing`] buffers. The running SHA-256 state that holds the pool
//! is `sha2`'s own hasher, which wipes its state and buffer on drop only when
//! `sha2`'s `zeroize` feature is enabled; the crate manifest must turn it on
//! (`sha2 = { version = "0.11", features = ["zeroize"] }`). One hasher
//! instance serves every hash and this module never copies it; moving the
//! `Conditioner` itself can leave stale bytes behind, the caveat `zeroize`
//! documents for every Rust value, so the owner should keep it in place
//! (e.g. boxed) once it holds samples. `Debug` prints counters only.

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
const FULL_ENTROPY_CREDIT_MILLIBITS: u64 = FULL_ENTROPY_CREDIT_BITS as u64 * MILLIBITS_PER_BIT;

const POOL_LABEL: &[u8] = b"kqseed/v1/pool";
const OUTPUT_LABEL: &[u8] = b"kqseed/v1/out";
const CHAIN_LABEL: &[u8] = b"kqseed/v1/chain";

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
    /// The running hash of the current pool (label, chain, samples so far).
    pool: Sha256,
    chain: Zeroizing<[u8; BLOCK_LEN]>,
    stats: ConditionerStats,
}

impl Conditioner {
    /// An empty conditioner: the first pool starts from an all-zero chaining
    /// value.
    pub fn new() -> Self {
        let mut c = Conditioner {
            pool: Sha256::new(),
            chain: Zeroizing::new([0; BLOCK_LEN]),
            stats: ConditionerStats::default(),
        };
        c.start_pool();
        c
    }

    /// Restarts the running hash as a fresh pool on the current chain value.
    fn start_pool(&mut self) {
        Digest::reset(&mut self.pool);
        self.pool.update(POOL_LABEL);
        // As a slice: `update(*self.chain)` would copy the array, unwiped.
        self.pool.update(self.chain.as_slice());
        self.stats.pool_credit_millibits = 0;
        self.stats.pool_samples = 0;
    }

    /// Absorbs one sample's whole raw delta and credits `credited_bits` of
    /// min-entropy for it (see [`credit_millibits`] for the rounding).
    pub fn absorb(&mut self, raw_delta: u64, credited_bits: f64) {
        self.absorb_millibits(raw_delta, credit_millibits(credited_bits));
    }

    /// Like [`absorb`](Self::absorb) with the credit already in millibits;
    /// it is capped at [`MAX_CREDIT_PER_SAMPLE_BITS`].
    pub fn absorb_millibits(&mut self, raw_delta: u64, millibits: u32) {
        self.pool.update(raw_delta.to_le_bytes());
        let cap = MAX_CREDIT_PER_SAMPLE_BITS as u64 * MILLIBITS_PER_BIT;
        let s = &mut self.stats;
        s.pool_credit_millibits = s
            .pool_credit_millibits
            .saturating_add(u64::from(millibits).min(cap));
        s.pool_samples += 1;
        s.samples += 1;
    }

    /// Whether the current pool holds enough credit for a block.
    pub fn is_ready(&self) -> bool {
        self.stats.pool_credit_millibits >= FULL_ENTROPY_CREDIT_MILLIBITS
    }

    /// Releases the next 32-byte block once the current pool was credited at
    /// least [`FULL_ENTROPY_CREDIT_BITS`]; then starts the next pool, with
    /// the credit at zero. `None` (and nothing changed) below that.
    ///
    /// The caller must not release a block before the health tests'
    /// start-up completed, and must [`discard`](Self::discard) on every
    /// health failure.
    pub fn try_take_block(&mut self) -> Option<Zeroizing<[u8; BLOCK_LEN]>> {
        if !self.is_ready() {
            return None;
        }
        let mut pool = Zeroizing::new([0u8; BLOCK_LEN]);
        self.pool.finalize_into_reset((&mut *pool).into());

        let mut block = Zeroizing::new([0u8; BLOCK_LEN]);
        self.pool.update(OUTPUT_LABEL);
        self.pool.update(pool.as_slice());
        self.pool.update(self.stats.blocks.to_le_bytes());
        self.pool.finalize_into_reset((&mut *block).into());

        self.pool.update(CHAIN_LABEL);
        self.pool.update(pool.as_slice());
        self.pool.finalize_into_reset((&mut *self.chain).into());

        self.stats.blocks += 1;
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
    use crate::health::{FailureLevel, HealthConfig, HealthFailure, HealthTest, HealthTests};
    use crate::test_util::SplitMix64;

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
        //   pool0 = H(b"kqseed/v1/pool" + bytes(32) + LE64(raw(1)) + ... + LE64(raw(50)))
        //   block0 = H(b"kqseed/v1/out" + pool0 + LE64(0))
        //   chain1 = H(b"kqseed/v1/chain" + pool0)
        //   pool1 = H(b"kqseed/v1/pool" + chain1 + LE64(raw(51)) + ... + LE64(raw(100)))
        //   block1 = H(b"kqseed/v1/out" + pool1 + LE64(1))
        let mut c = Conditioner::new();
        for i in 1..=50 {
            c.absorb(raw(i), 6.5);
        }
        let b0 = c.try_take_block().unwrap();
        assert_eq!(
            hex(&*b0),
            "1d99bf30504a5f199822ba7afc2ca8679092211ee311eef2680bc7ad8b5799d6"
        );
        for i in 51..=100 {
            c.absorb(raw(i), 6.5);
        }
        let b1 = c.try_take_block().unwrap();
        assert_eq!(
            hex(&*b1),
            "f508407c17c25b3e88aad777021d03063ece338d401d6f1f837c2bf1b7a61907"
        );
    }

    #[test]
    fn known_answer_after_discard() {
        // Samples 1..=10 are discarded; the pool restarts on the all-zero
        // chain: block0 = H(b"kqseed/v1/out" + H(b"kqseed/v1/pool" + bytes(32)
        // + LE64(raw(101)) + ... + LE64(raw(150))) + LE64(0)), by hashlib.
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
            "b94642a97f8abcaf0bc15fdc1b71a0dcccfc9130d1b36a992fb11f787c398ea2"
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
                !text.contains("chain") && !text.contains("Sha256"),
                "{text}"
            );
            assert!(!text.to_lowercase().contains(&hex(&block[..4])), "{text}");
            // No byte array of any kind: at most a few small numbers.
            assert!(text.len() < 300, "{text}");
        }
        assert!(after.contains("blocks: 1"), "{after}");
    }

    /// The seeder's loop in miniature: health tests on the low byte of each
    /// delta, every passing sample absorbed with the configured credit, a
    /// block released only after start-up, a discard on any failure.
    struct Pipeline {
        health: HealthTests,
        conditioner: Conditioner,
        credit: f64,
    }

    impl Pipeline {
        fn new(config: &HealthConfig) -> Self {
            Pipeline {
                health: HealthTests::new(config).unwrap(),
                conditioner: Conditioner::new(),
                credit: config.credited_h,
            }
        }

        fn push(&mut self, delta: u64) -> Result<Option<[u8; BLOCK_LEN]>, HealthFailure> {
            if let Err(f) = self.health.feed(delta.to_le_bytes()[0]) {
                self.conditioner.discard();
                return Err(f);
            }
            self.conditioner.absorb(delta, self.credit);
            if !self.health.is_started() {
                return Ok(None);
            }
            let block = self.conditioner.try_take_block();
            if block.is_some() {
                self.health.note_output();
            }
            Ok(block.map(|b| *b))
        }
    }

    #[test]
    fn a_failure_stops_output_and_latches() {
        let config = HealthConfig::default();
        let mut p = Pipeline::new(&config);
        let mut rng = SplitMix64(0x5eed);
        // Good samples: start-up, then a block per 320 samples at H = 1.
        let mut blocks = 0;
        for _ in 0..5000 {
            if p.push(rng.next()).unwrap().is_some() {
                blocks += 1;
            }
        }
        assert!(blocks >= 5, "{blocks}");
        assert!(p.health.is_started());

        // A stuck source: the same delta over and over.
        let stuck = 0x1234_5678_9abc_de42;
        let cutoffs = p.health.cutoffs();
        let mut first_failure = None;
        for n in 1..=10_000u32 {
            match p.push(stuck) {
                Ok(Some(_)) if first_failure.is_some() => panic!("block after failure"),
                Ok(_) => assert!(first_failure.is_none(), "pass after failure at {n}"),
                Err(f) => {
                    if first_failure.is_none() {
                        assert_eq!(n, cutoffs.rct_intermittent);
                        assert_eq!(f.test, HealthTest::Rct);
                        assert_eq!(f.level, FailureLevel::Intermittent);
                        first_failure = Some(f);
                    }
                    if n >= cutoffs.rct_permanent {
                        assert!(f.is_permanent(), "{f}");
                    }
                }
            }
        }
        // The pool was emptied at the failure, and nothing was added since.
        assert_eq!(p.conditioner.stats().pool_samples, 0);
        let released = p.conditioner.stats().blocks;

        // The source recovers; the seeder does not.
        for _ in 0..100_000 {
            let r = p.push(rng.next());
            assert!(matches!(r, Err(f) if f.is_permanent()), "{r:?}");
        }
        assert_eq!(p.conditioner.stats().blocks, released);
        assert!(!p.conditioner.is_ready());
        assert!(p.health.permanent_failure().is_some());
    }

    #[test]
    fn an_intermittent_failure_discards_the_pool() {
        // H = 1: a block per 320 credited samples after start-up.
        let mut p = Pipeline::new(&HealthConfig {
            credited_h: 1.0,
            ..HealthConfig::default()
        });
        let mut rng = SplitMix64(7);
        while p.push(rng.next()).unwrap().is_none() {}
        // 250 good samples pooled, then a short stuck run (intermittent).
        // (Its first c - 1 = 30 samples pass and are credited, as SP 800-90B
        // allows; 250 + 30 stays below 320, so no block is due before the
        // failure.)
        for _ in 0..250 {
            assert_eq!(p.push(rng.next()), Ok(None));
        }
        let c = p.health.cutoffs().rct_intermittent;
        let mut failed = false;
        for _ in 0..c {
            match p.push(0x4242) {
                Ok(None) => {}
                Ok(Some(_)) => panic!("released a block from a failing run"),
                Err(f) => {
                    assert_eq!(f.level, FailureLevel::Intermittent);
                    failed = true;
                }
            }
        }
        assert!(failed);
        // The 250 + (c - 1) samples before the failure were dropped: a full
        // 320 fresh samples are needed again.
        for i in 1..320 {
            assert_eq!(p.push(rng.next()), Ok(None), "sample {i}");
        }
        assert!(p.push(rng.next()).unwrap().is_some());
        assert_eq!(p.health.permanent_failure(), None);
    }
}
