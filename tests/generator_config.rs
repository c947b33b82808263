//! `KqRng::with_config` with a seeder configuration of its own, in a child
//! process whose `TMPDIR` names a directory that does not exist: there
//! `rng()` panics and `KqRng::new()` fails with `Error::TempDir`, while a
//! generator given a real temporary directory seeds, and follows
//! `kqseed::reseed()` from its own seeding service.

use std::path::Path;
use std::process::Command;

use kqseed::{Error, GeneratorConfig, KqRng, SeederConfig};
use rand_core::{Rng, TryRng};

const MISSING: &str = "/nonexistent/kqseed-generator-config-test";

#[test]
fn a_missing_tmpdir_fails_rng_but_not_a_configured_kqrng() {
    let out = Command::new(std::env::current_exe().expect("this test's path"))
        .args([
            "--exact",
            "child_with_missing_tmpdir",
            "--ignored",
            "--nocapture",
        ])
        .env("TMPDIR", MISSING)
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
    // The child's test really ran (not filtered out).
    assert!(stdout.contains("1 passed"), "{stdout}");
}

/// Run by the test above, in a child with `TMPDIR` set to a missing
/// directory; ignored otherwise, since it needs that environment.
#[test]
#[ignore = "run by a_missing_tmpdir_fails_rng_but_not_a_configured_kqrng in a child process"]
fn child_with_missing_tmpdir() {
    assert_eq!(std::env::temp_dir(), Path::new(MISSING));

    // The default seeder's first seed fails: as an error here ...
    match KqRng::new() {
        Err(Error::TempDir { path, .. }) => assert_eq!(path, Path::new(MISSING)),
        other => panic!("expected Error::TempDir, got {other:?}"),
    }
    // ... and as a panic naming it in rng().
    let panic = std::panic::catch_unwind(|| kqseed::rng().next_u32())
        .expect_err("rng() must panic without a temporary directory");
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .unwrap_or_default();
    assert!(
        message.contains("cannot make a private directory in"),
        "{message}"
    );

    // A generator whose seeder is given a directory that exists seeds.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let config = GeneratorConfig::default().with_seeder(SeederConfig::default().with_temp_dir(dir));
    let mut rng = KqRng::with_config(config.clone()).expect("configured KqRng");
    let mut a = [0u8; 32];
    rng.try_fill_bytes(&mut a).expect("draw");
    assert_ne!(a, [0u8; 32]);
    assert_eq!(rng.config(), &config);

    // kqseed::reseed() fails on the default service, but the request
    // reaches this generator, which reseeds from its own service.
    let reseeds = rng.stats().reseeds;
    assert!(matches!(kqseed::reseed(), Err(Error::TempDir { .. })));
    let mut b = [0u8; 32];
    rng.try_fill_bytes(&mut b).expect("draw after the request");
    assert_eq!(rng.stats().reseeds, reseeds + 1, "{:?}", rng.stats());
    assert_ne!(a, b);
}
