//! Six suites build only with a feature or a cfg, and plain `cargo test`
//! runs none of their tests (it lists five as "running 0 tests" and skips
//! the sixth). Each placeholder below, ignored, stands for one such suite
//! when it is off, and its reason is the command that runs the suite.
//! `.ci/run` runs all six.

#[cfg(not(feature = "cli"))]
#[test]
#[ignore = "tests/cli.rs needs the kqseed command: cargo test --features cli --test cli --bin kqseed"]
fn cli_suite_needs_feature_cli() {}

#[cfg(not(feature = "cli"))]
#[test]
#[ignore = "tests/assess_cli.rs needs the kqseed command: cargo test --features cli --test assess_cli"]
fn assess_cli_suite_needs_feature_cli() {}

#[cfg(not(any(feature = "rand_core_0_6", feature = "rand_core_0_9")))]
#[test]
#[ignore = "tests/compat.rs: cargo test --features rand_core_0_6,rand_core_0_9 --test compat --examples"]
fn compat_suite_needs_a_rand_core_feature() {}

#[cfg(not(feature = "tokio"))]
#[test]
#[ignore = "tests/async_seed.rs: cargo test --features tokio --test async_seed"]
fn async_suite_needs_feature_tokio() {}

#[cfg(not(kqseed_replay))]
#[test]
#[ignore = "tests/replay.rs: RUSTFLAGS=\"--cfg kqseed_replay\" cargo test --test replay --target-dir target/replay"]
fn replay_suite_needs_cfg_kqseed_replay() {}

#[cfg(not(all(feature = "getrandom-custom", getrandom_backend = "custom")))]
#[test]
#[ignore = "tests/getrandom_collision.rs: RUSTFLAGS='--cfg getrandom_backend=\"custom\"' cargo test --features getrandom-custom --test getrandom_collision --target-dir target/getrandom"]
fn getrandom_collision_suite_needs_the_custom_backend() {}
