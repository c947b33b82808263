//! Helpers for the crate's own unit tests.

/// SplitMix64 (Steele, Lea, Flood 2014): reproducible test data without a
/// dependency on `rand`.
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform byte (the top one, the best mixed).
    pub(crate) fn symbol(&mut self) -> u8 {
        self.next().to_le_bytes()[7]
    }
}

/// 20,000 deltas of the default configuration, recorded on the reference VM
/// (2026-11-29) with the raw example of that date, now
/// `kqseed raw -n 20000 --format u64le`.
pub(crate) fn recorded_deltas() -> Vec<u64> {
    include_bytes!("../tests/data/recorded/default-epoll-kvm.deltas")
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect()
}

/// Compiles only while `$t` is not `Clone`: with a `Clone` impl the call
/// would be ambiguous between the two blanket impls. Guards state that must
/// never be copied (a copy could run on while the original's state is lost,
/// as jitterentropy's RCT state once was).
macro_rules! assert_not_clone {
    ($t:ty) => {{
        trait AmbiguousIfClone<A> {
            fn check() {}
        }
        impl<T: ?Sized> AmbiguousIfClone<()> for T {}
        #[allow(dead_code)]
        struct IsClone;
        impl<T: Clone> AmbiguousIfClone<IsClone> for T {}
        <$t as AmbiguousIfClone<_>>::check();
    }};
}
pub(crate) use assert_not_clone;
