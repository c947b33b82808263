//! The rand_core 0.6 and 0.9 impls from outside the crate, as a user of each
//! feature writes them: the README's "Use it with ..." lines for rand 0.8 /
//! 0.9 and rand_chacha 0.3 / 0.9, and how a failure reaches the caller.
//!
//! `cargo test --features rand_core_0_6,rand_core_0_9 --test compat`

#![cfg(any(feature = "rand_core_0_6", feature = "rand_core_0_9"))]

use std::path::PathBuf;

use kqseed::{KqSeeder, KqueueEventsConfig, SeederConfig};

/// A seeder that fails on first use, from outside: its private directory's
/// parent does not exist, so opening the queue fails with `Error::TempDir`.
fn failing_seeder() -> KqSeeder {
    let config = SeederConfig::default().with_events(
        KqueueEventsConfig::default()
            .with_temp_dir(PathBuf::from("/nonexistent/kqseed-compat-test")),
    );
    KqSeeder::with_config(config).expect("the configuration itself is valid")
}

fn is_missing_temp_dir(e: &kqseed::Error) -> bool {
    matches!(e, kqseed::Error::TempDir { kind, .. } if *kind == std::io::ErrorKind::NotFound)
}

#[cfg(feature = "rand_core_0_6")]
mod rand_core_0_6_compat {
    use super::*;
    use rand_core_0_6::{CryptoRng, RngCore, SeedableRng};

    fn crypto_rng<R: RngCore + CryptoRng>(rng: &mut R) -> [u8; 64] {
        let mut out = [0u8; 64];
        rng.fill_bytes(&mut out);
        out
    }

    #[test]
    fn seeds_rand_chacha_0_3_and_rand_0_8() -> kqseed::Result<()> {
        let mut seeder = KqSeeder::new();
        let mut a: rand_chacha_0_3::ChaCha20Rng = seeder.seed_rng_0_6()?;
        let mut b: rand_chacha_0_3::ChaCha20Rng = seeder.seed_rng_0_6()?;
        assert_ne!(a.get_seed(), [0u8; 32]);
        assert_ne!(a.get_seed(), b.get_seed(), "two seeds were equal");
        assert_ne!(a.next_u64(), b.next_u64());

        // rand 0.8's StdRng, both ways: the wiping seed_rng_0_6, and 0.6's
        // own fallible from_rng (which goes through try_fill_bytes).
        let mut std1: rand_08::rngs::StdRng = seeder.seed_rng_0_6()?;
        let mut std2 = rand_08::rngs::StdRng::from_rng(&mut seeder).expect("from_rng");
        assert_ne!(std1.next_u64(), std2.next_u64());
        Ok(())
    }

    #[test]
    fn every_rng_core_method_gives_fresh_output() {
        let mut seeder = KqSeeder::new();
        let (x, y) = (seeder.next_u32(), seeder.next_u32());
        let (u, v) = (seeder.next_u64(), seeder.next_u64());
        // Equal draws happen with odds 2^-32 and 2^-64.
        assert_ne!(x, y);
        assert_ne!(u, v);
        let first = crypto_rng(&mut seeder);
        let mut second = [0u8; 64];
        seeder.try_fill_bytes(&mut second).expect("try_fill_bytes");
        assert_ne!(first, second);
        assert_ne!(first, [0u8; 64]);
    }

    #[test]
    fn a_failure_maps_into_0_6_error_with_its_cause() {
        let mut seeder = failing_seeder();
        let mut buf = [0xaau8; 32];
        let err = seeder.try_fill_bytes(&mut buf).expect_err("must fail");
        assert_eq!(buf, [0u8; 32], "a failed call left output");
        let cause = err
            .inner()
            .downcast_ref::<kqseed::Error>()
            .expect("the inner error is kqseed's");
        assert!(is_missing_temp_dir(cause), "{cause:?}");
        let shown = err.to_string();
        assert!(
            shown.contains("/nonexistent") && shown.contains("private directory"),
            "{shown}"
        );

        // rand_core 0.6's SeedableRng::from_rng reports it too.
        let err = rand_chacha_0_3::ChaCha20Rng::from_rng(&mut seeder).expect_err("must fail");
        assert!(err.to_string().contains("/nonexistent"), "{err}");
        // And seed_rng_0_6 returns kqseed's error itself.
        let err = seeder
            .seed_rng_0_6::<rand_chacha_0_3::ChaCha20Rng>()
            .expect_err("must fail");
        assert!(is_missing_temp_dir(&err), "{err:?}");
    }

    #[test]
    fn an_errno_stays_readable_and_reachable() {
        let errno = libc::EMFILE;
        let original = kqseed::Error::Os {
            syscall: "epoll_create1",
            errno,
        };
        let err = rand_core_0_6::Error::from(original.clone());
        let shown = err.to_string();
        assert!(
            shown.contains("epoll_create1") && shown.contains(&format!("errno {errno}")),
            "{shown}"
        );
        let cause = err
            .inner()
            .downcast_ref::<kqseed::Error>()
            .expect("kqseed's");
        assert_eq!(cause, &original);
        assert_eq!(cause.raw_os_error(), Some(errno));
        // Documented: rand_core 0.6's raw_os_error only sees a bare io::Error
        // or code, so the errno is read from the cause, not from here.
        assert_eq!(err.raw_os_error(), None);
    }

    #[test]
    fn the_infallible_methods_panic_saying_what_failed() {
        type Call = fn(&mut KqSeeder);
        let calls: [(&str, Call); 3] = [
            ("fill_bytes", |s| s.fill_bytes(&mut [0u8; 8])),
            ("next_u32", |s| {
                s.next_u32();
            }),
            ("next_u64", |s| {
                s.next_u64();
            }),
        ];
        for (method, call) in calls {
            let mut seeder = failing_seeder();
            let panic =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| call(&mut seeder)))
                    .expect_err("an infallible method returned on failure");
            let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
            assert!(
                message.contains(method)
                    && message.contains("/nonexistent")
                    && message.contains("try_fill_bytes"),
                "{method}: {message}"
            );
        }
    }
}

#[cfg(feature = "rand_core_0_9")]
mod rand_core_0_9_compat {
    use super::*;
    use rand_core_0_9::{RngCore, SeedableRng, TryCryptoRng, TryRngCore};

    fn try_crypto_rng<R: TryCryptoRng>(rng: &mut R) -> Result<[u8; 64], R::Error> {
        let mut out = [0u8; 64];
        rng.try_fill_bytes(&mut out)?;
        Ok(out)
    }

    #[test]
    fn seeds_rand_chacha_0_9_and_rand_0_9() -> kqseed::Result<()> {
        let mut seeder = KqSeeder::new();
        let mut a: rand_chacha_0_9::ChaCha20Rng = seeder.seed_rng_0_9()?;
        let mut b = rand_chacha_0_9::ChaCha20Rng::try_from_rng(&mut seeder)?;
        assert_ne!(a.get_seed(), [0u8; 32]);
        assert_ne!(a.get_seed(), b.get_seed(), "two seeds were equal");
        assert_ne!(a.next_u64(), b.next_u64());

        let mut std1 = rand_09::rngs::StdRng::try_from_rng(&mut seeder)?;
        let mut std2: rand_09::rngs::StdRng = seeder.seed_rng_0_9()?;
        assert_ne!(std1.next_u64(), std2.next_u64());
        Ok(())
    }

    #[test]
    fn every_try_rng_core_method_gives_fresh_output() -> kqseed::Result<()> {
        let mut seeder = KqSeeder::new();
        assert_ne!(seeder.try_next_u32()?, seeder.try_next_u32()?);
        assert_ne!(seeder.try_next_u64()?, seeder.try_next_u64()?);
        let first = try_crypto_rng(&mut seeder)?;
        // rand_core 0.9's infallible adapter, for APIs that want RngCore.
        let mut second = [0u8; 64];
        seeder.unwrap_mut().fill_bytes(&mut second);
        assert_ne!(first, second);
        assert_ne!(first, [0u8; 64]);
        Ok(())
    }

    #[test]
    fn a_failure_is_kqseeds_own_error() {
        let mut seeder = failing_seeder();
        let mut buf = [0xaau8; 32];
        let err = TryRngCore::try_fill_bytes(&mut seeder, &mut buf).expect_err("must fail");
        assert_eq!(buf, [0u8; 32], "a failed call left output");
        assert!(is_missing_temp_dir(&err), "{err:?}");
        let err = rand_09::rngs::StdRng::try_from_rng(&mut seeder).expect_err("must fail");
        assert!(is_missing_temp_dir(&err), "{err:?}");
        let err = seeder
            .seed_rng_0_9::<rand_chacha_0_9::ChaCha20Rng>()
            .expect_err("must fail");
        assert!(err.to_string().contains("/nonexistent"), "{err}");
    }
}

#[cfg(feature = "rand_core_0_6")]
#[test]
fn the_generator_speaks_rand_core_0_6() {
    use rand_08::Rng as _;
    use rand_core_0_6::{RngCore, SeedableRng};
    let mut thread = kqseed::rng();
    let mut fallible = kqseed::KqRng::new().expect("KqRng");
    let (a, b) = (thread.next_u64(), RngCore::next_u64(&mut fallible));
    assert_ne!(a, b);
    // rand 0.8's extension methods and its seeding work on both faces.
    let x: u32 = thread.gen_range(0..10);
    assert!(x < 10);
    let mut chacha = rand_chacha_0_3::ChaCha20Rng::from_rng(&mut fallible).expect("from_rng");
    let mut buf = [0u8; 32];
    RngCore::try_fill_bytes(&mut fallible, &mut buf).expect("try_fill_bytes");
    assert_ne!(buf, [0u8; 32]);
    assert_ne!(chacha.next_u64(), 0);
}

#[cfg(feature = "rand_core_0_9")]
#[test]
fn the_generator_speaks_rand_core_0_9() {
    use rand_09::Rng as _;
    use rand_core_0_9::SeedableRng as _;
    let mut thread = kqseed::rng();
    let x: u64 = thread.random();
    let y: u64 = kqseed::rng().random();
    assert_ne!(x, y);
    let mut fallible = kqseed::KqRng::new().expect("KqRng");
    let mut std9 = rand_09::rngs::StdRng::try_from_rng(&mut fallible).expect("try_from_rng");
    let _: u64 = std9.random();
}
