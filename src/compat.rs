//! rand_core 0.6 and 0.9 beside 0.10, behind the features `rand_core_0_6`
//! and `rand_core_0_9`.
//!
//! Much of the ecosystem still takes an older rand_core's traits: rand 0.8,
//! rand_chacha 0.3 and ed25519-dalek 2 take 0.6; rand 0.9 and rand_chacha
//! 0.9 take 0.9. These impls forward to the seeder's rand_core 0.10
//! [`TryRng`], so every byte still comes out of the same health-tested,
//! conditioned blocks, and a failure is the same [`Error`].
//!
//! The reseeding generator has them too: [`KqRng`](crate::KqRng) like the
//! seeder (fallible), [`ThreadRng`](crate::ThreadRng) as an infallible
//! `RngCore` in both versions.

use rand_core::TryRng;

use crate::error::Error;
use crate::seeder::KqSeeder;

/// A seeder failure inside a rand_core 0.6 method that cannot return it.
/// rand 0.8's `OsRng` panics in the same place; the message says what
/// failed and where to go instead.
#[cfg(feature = "rand_core_0_6")]
#[cold]
#[track_caller]
fn infallible_call_failed(method: &str, e: &Error) -> ! {
    panic!(
        "kqseed: rand_core 0.6 `RngCore::{method}` cannot return an error, and seeding failed: {e} \
         (call `try_fill_bytes`, or `KqSeeder::seed_rng_0_6`, to get the error instead)"
    )
}

#[cfg(feature = "rand_core_0_6")]
mod v0_6 {
    use rand_core_0_6 as rc06;

    use super::{Error, KqSeeder, TryRng, infallible_call_failed};
    use crate::error::Result;

    /// rand_core 0.6's generator trait, for rand 0.8, rand_chacha 0.3 and
    /// ed25519-dalek 2 (feature `rand_core_0_6`).
    ///
    /// Use [`try_fill_bytes`](rc06::RngCore::try_fill_bytes): it returns a
    /// failure as a rand_core 0.6 [`Error`](rc06::Error) whose inner error
    /// is kqseed's [`Error`]. rand_core 0.6's `SeedableRng::from_rng` goes
    /// through it, so `ChaCha20Rng::from_rng(&mut seeder)?` reports a failure
    /// too.
    ///
    /// # Panics
    ///
    /// `next_u32`, `next_u64` and `fill_bytes` cannot return an error in
    /// rand_core 0.6. If the seeder fails (a health test, the start-up
    /// checks, an OS call), they panic with a message that says what failed,
    /// as rand 0.8's `OsRng` does; they never return unseeded bytes. Crates
    /// such as ed25519-dalek 2's `SigningKey::generate` call `fill_bytes`;
    /// where a panic is not acceptable, draw the key with
    /// [`KqSeeder::key`] and build it from bytes.
    macro_rules! fallible_0_6 {
        ($t:ty) => {
            /// rand_core **0.6**'s `RngCore` (feature `rand_core_0_6`), for
            /// rand 0.8, rand_chacha 0.3 and ed25519-dalek 2:
            /// `try_fill_bytes` returns a failure, the other methods panic
            /// on one.
            #[cfg_attr(docsrs, doc(cfg(feature = "rand_core_0_6")))]
            impl rc06::RngCore for $t {
                fn next_u32(&mut self) -> u32 {
                    TryRng::try_next_u32(self)
                        .unwrap_or_else(|e| infallible_call_failed("next_u32", &e))
                }

                fn next_u64(&mut self) -> u64 {
                    TryRng::try_next_u64(self)
                        .unwrap_or_else(|e| infallible_call_failed("next_u64", &e))
                }

                fn fill_bytes(&mut self, dest: &mut [u8]) {
                    if let Err(e) = TryRng::try_fill_bytes(self, dest) {
                        infallible_call_failed("fill_bytes", &e)
                    }
                }

                fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rc06::Error> {
                    TryRng::try_fill_bytes(self, dest).map_err(rc06::Error::from)
                }
            }

            /// rand_core **0.6**'s marker (feature `rand_core_0_6`):
            /// conditioned full-entropy blocks, or ChaCha20 keyed from them.
            #[cfg_attr(docsrs, doc(cfg(feature = "rand_core_0_6")))]
            impl rc06::CryptoRng for $t {}
        };
    }

    fallible_0_6!(KqSeeder);
    fallible_0_6!(crate::KqRng);

    /// rand_core **0.6**'s `RngCore` (feature `rand_core_0_6`): the
    /// thread's generator (`kqseed::rng()`), which never returns an error
    /// (see [`ThreadRng`](crate::ThreadRng) for when it panics).
    #[cfg_attr(docsrs, doc(cfg(feature = "rand_core_0_6")))]
    impl rc06::RngCore for crate::ThreadRng {
        fn next_u32(&mut self) -> u32 {
            rand_core::Rng::next_u32(self)
        }

        fn next_u64(&mut self) -> u64 {
            rand_core::Rng::next_u64(self)
        }

        fn fill_bytes(&mut self, dest: &mut [u8]) {
            rand_core::Rng::fill_bytes(self, dest)
        }

        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rc06::Error> {
            rand_core::Rng::fill_bytes(self, dest);
            Ok(())
        }
    }

    /// rand_core **0.6**'s marker (feature `rand_core_0_6`).
    #[cfg_attr(docsrs, doc(cfg(feature = "rand_core_0_6")))]
    impl rc06::CryptoRng for crate::ThreadRng {}

    /// kqseed's error, kept whole as the inner error of rand_core 0.6's
    /// `Error` (which needs rand_core's `std` feature; this crate turns it
    /// on).
    ///
    /// The message is kqseed's, e.g. `epoll_create1 failed: Too many open
    /// files (os error 24) (errno 24)`, and
    /// `e.inner().downcast_ref::<kqseed::Error>()` gives the typed cause,
    /// with [`Error::raw_os_error`] for the errno. rand_core 0.6's own
    /// `raw_os_error()` returns `None` for it: 0.6 only reports a code for a
    /// bare `std::io::Error` or number, which would drop the name of the call
    /// that failed (rand 0.8's `OsRng` keeps getrandom's error the same way).
    #[cfg_attr(docsrs, doc(cfg(feature = "rand_core_0_6")))]
    impl From<Error> for rc06::Error {
        fn from(e: Error) -> Self {
            rc06::Error::new(e)
        }
    }

    #[cfg_attr(docsrs, doc(cfg(feature = "rand_core_0_6")))]
    impl KqSeeder {
        /// Seeds a new rand_core 0.6 `R` (rand 0.8's `StdRng`, rand_chacha
        /// 0.3's generators) from conditioned blocks, and wipes this
        /// function's copy of the seed (feature `rand_core_0_6`).
        ///
        /// Unlike rand_core 0.6's `from_rng`, the seed is not left on the
        /// stack, and the error is kqseed's own.
        ///
        /// ```
        /// # use rand_chacha_0_3 as rand_chacha;
        /// # use rand_core_0_6 as rand_core;
        /// use rand_core::RngCore;
        ///
        /// let mut rng: rand_chacha::ChaCha20Rng = kqseed::KqSeeder::new().seed_rng_0_6()?;
        /// let _ = rng.next_u64();
        /// # Ok::<(), kqseed::Error>(())
        /// ```
        pub fn seed_rng_0_6<R: rc06::SeedableRng>(&mut self) -> Result<R> {
            super::seed_with(self, &mut R::Seed::default(), R::from_seed)
        }
    }
}

#[cfg(feature = "rand_core_0_9")]
mod v0_9 {
    use rand_core_0_9 as rc09;

    use super::{Error, KqSeeder, TryRng};
    use crate::error::Result;

    /// rand_core 0.9's fallible generator trait, for rand 0.9 and
    /// rand_chacha 0.9 (feature `rand_core_0_9`): the error is kqseed's
    /// [`Error`], so `StdRng::try_from_rng(&mut seeder)?` works in a
    /// function returning `kqseed::Result`.
    ///
    /// Where an infallible rand_core 0.9 `RngCore` is wanted, rand_core's
    /// `unwrap_err()` gives one that panics on failure; prefer
    /// [`KqSeeder::seed_rng_0_9`] and use the seeded generator.
    macro_rules! fallible_0_9 {
        ($t:ty) => {
            /// rand_core **0.9**'s `TryRngCore` (feature `rand_core_0_9`),
            /// for rand 0.9 and rand_chacha 0.9: the error is kqseed's.
            #[cfg_attr(docsrs, doc(cfg(feature = "rand_core_0_9")))]
            impl rc09::TryRngCore for $t {
                type Error = Error;

                fn try_next_u32(&mut self) -> Result<u32> {
                    TryRng::try_next_u32(self)
                }

                fn try_next_u64(&mut self) -> Result<u64> {
                    TryRng::try_next_u64(self)
                }

                fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<()> {
                    TryRng::try_fill_bytes(self, dst)
                }
            }

            /// rand_core **0.9**'s marker (feature `rand_core_0_9`):
            /// conditioned full-entropy blocks, or ChaCha20 keyed from them.
            #[cfg_attr(docsrs, doc(cfg(feature = "rand_core_0_9")))]
            impl rc09::TryCryptoRng for $t {}
        };
    }

    fallible_0_9!(KqSeeder);
    fallible_0_9!(crate::KqRng);

    /// rand_core **0.9**'s `RngCore` (feature `rand_core_0_9`): the
    /// thread's generator (`kqseed::rng()`) is infallible, so rand 0.9's
    /// `Rng` methods work on it directly; rand_core 0.9 gives it the try
    /// traits too.
    #[cfg_attr(docsrs, doc(cfg(feature = "rand_core_0_9")))]
    impl rc09::RngCore for crate::ThreadRng {
        fn next_u32(&mut self) -> u32 {
            rand_core::Rng::next_u32(self)
        }

        fn next_u64(&mut self) -> u64 {
            rand_core::Rng::next_u64(self)
        }

        fn fill_bytes(&mut self, dst: &mut [u8]) {
            rand_core::Rng::fill_bytes(self, dst)
        }
    }

    /// rand_core **0.9**'s marker (feature `rand_core_0_9`).
    #[cfg_attr(docsrs, doc(cfg(feature = "rand_core_0_9")))]
    impl rc09::CryptoRng for crate::ThreadRng {}

    #[cfg_attr(docsrs, doc(cfg(feature = "rand_core_0_9")))]
    impl KqSeeder {
        /// Seeds a new rand_core 0.9 `R` (rand 0.9's `StdRng`, rand_chacha
        /// 0.9's generators) from conditioned blocks, and wipes this
        /// function's copy of the seed (feature `rand_core_0_9`).
        ///
        /// ```
        /// # use rand_chacha_0_9 as rand_chacha;
        /// # use rand_core_0_9 as rand_core;
        /// use rand_core::RngCore;
        ///
        /// let mut rng: rand_chacha::ChaCha20Rng = kqseed::KqSeeder::new().seed_rng_0_9()?;
        /// let _ = rng.next_u64();
        /// # Ok::<(), kqseed::Error>(())
        /// ```
        pub fn seed_rng_0_9<R: rc09::SeedableRng>(&mut self) -> Result<R> {
            super::seed_with(self, &mut R::Seed::default(), R::from_seed)
        }
    }
}

/// Fills `seed` from the seeder and builds the generator from it; `seed` is
/// wiped on success and on failure. The seed is moved out with `mem::take`,
/// never cloned, and the slot left behind is wiped with volatile writes,
/// which the optimiser cannot drop as dead stores.
#[cfg(any(feature = "rand_core_0_6", feature = "rand_core_0_9"))]
fn seed_with<S: Default + AsMut<[u8]>, R>(
    seeder: &mut KqSeeder,
    seed: &mut S,
    build: impl FnOnce(S) -> R,
) -> crate::error::Result<R> {
    use zeroize::Zeroize;

    let filled = TryRng::try_fill_bytes(seeder, seed.as_mut());
    let rng = filled.map(|()| build(core::mem::take(seed)));
    seed.as_mut().zeroize();
    rng
}

#[cfg(all(test, any(feature = "rand_core_0_6", feature = "rand_core_0_9")))]
mod tests {
    // The trait impls are exercised from outside, in tests/compat.rs and the
    // examples; here, the seed buffer that only the crate can see.
    use crate::{Error, KqSeeder, SeederConfig, StartupFailure};

    use crate::test_util::recorded_deltas as recorded;

    #[test]
    fn the_seed_goes_to_the_generator_and_the_local_copy_is_wiped() {
        let mut seeder =
            KqSeeder::from_replay(SeederConfig::default(), recorded()).expect("replay seeder");
        let mut seed = [0x5au8; 32];
        let given = super::seed_with(&mut seeder, &mut seed, |s: [u8; 32]| s).expect("seeds");
        assert_eq!(seed, [0u8; 32], "the local seed was left behind");
        assert_ne!(given, [0x5au8; 32], "the generator got the unfilled buffer");
        assert_ne!(given, [0u8; 32], "the generator got the wiped buffer");
    }

    #[test]
    fn a_failed_fill_builds_nothing_and_leaves_no_seed() {
        // A stuck clock (every delta zero) is refused at start-up.
        let mut seeder =
            KqSeeder::from_replay(SeederConfig::default(), vec![0; 4096]).expect("replay seeder");
        let mut seed = [0x5au8; 32];
        let mut built = false;
        let result = super::seed_with(&mut seeder, &mut seed, |_: [u8; 32]| built = true);
        assert!(matches!(
            result,
            Err(Error::Startup(StartupFailure::StuckClock { .. }))
        ));
        assert!(!built, "a generator was built from a failed fill");
        assert_eq!(seed, [0u8; 32]);
    }
}
