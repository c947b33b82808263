//! The lines of README.md's "Use it with ..." table, each as a doctest,
//! so that each compiles as the table shows it (`cargo test --doc
//! --all-features` runs every one; the rows that need a feature only with
//! it). `tests/readme_lines.rs` checks that the table and this file agree.
//! The RSA rows are compiled, not run: examples/key_rsa.rs runs them in a
//! release build. The getrandom row is examples/getrandom_backend.rs.

/// rand 0.10
///
/// ```rust
/// # let mut seeder = kqseed::KqSeeder::new();
/// let rng: rand::rngs::StdRng = seeder.seed_rng()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Row01;

/// rand 0.9
///
/// ```rust
/// # use rand_09 as rand;
/// # let mut seeder = kqseed::KqSeeder::new();
/// let rng: rand::rngs::StdRng = seeder.seed_rng_0_9()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "rand_core_0_9")]
pub struct Row02;

/// rand 0.8
///
/// ```rust
/// # use rand_08 as rand;
/// # let mut seeder = kqseed::KqSeeder::new();
/// let rng: rand::rngs::StdRng = seeder.seed_rng_0_6()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "rand_core_0_6")]
pub struct Row03;

/// rand 0.10 RngExt on KqRng (panics on a failed reseed; kqseed::rng() needs no wrapper)
///
/// ```rust
/// # let mut seeder = kqseed::KqSeeder::new();
/// let mut rng = rand_core::UnwrapErr(kqseed::KqRng::new()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Row04;

/// rand_chacha 0.10
///
/// ```rust
/// # let mut seeder = kqseed::KqSeeder::new();
/// let rng: rand_chacha::ChaCha20Rng = seeder.seed_rng()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Row05;

/// rand_chacha 0.9
///
/// ```rust
/// # use rand_chacha_0_9 as rand_chacha;
/// # let mut seeder = kqseed::KqSeeder::new();
/// let rng: rand_chacha::ChaCha20Rng = seeder.seed_rng_0_9()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "rand_core_0_9")]
pub struct Row06;

/// rand_chacha 0.3
///
/// ```rust
/// # use rand_chacha_0_3 as rand_chacha;
/// # let mut seeder = kqseed::KqSeeder::new();
/// let rng: rand_chacha::ChaCha20Rng = seeder.seed_rng_0_6()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "rand_core_0_6")]
pub struct Row07;

/// chacha20 0.10 (feature rng)
///
/// ```rust
/// # let mut seeder = kqseed::KqSeeder::new();
/// let rng: chacha20::ChaCha20Rng = seeder.seed_rng()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Row08;

/// ed25519-dalek 3 (features rand_core, digest) and crypto-common 0.2
///
/// ```rust
/// # let mut seeder = kqseed::KqSeeder::new();
/// use crypto_common::Generate; let key = ed25519_dalek::SigningKey::try_generate_from_rng(&mut seeder)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Row09;

/// ed25519-dalek 2 (feature rand_core)
///
/// ```rust
/// # use ed25519_dalek_2 as ed25519_dalek;
/// # let mut seeder = kqseed::KqSeeder::new();
/// let key = ed25519_dalek::SigningKey::generate(&mut seeder);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "rand_core_0_6")]
pub struct Row10;

/// x25519-dalek 3
///
/// ```rust
/// # let mut seeder = kqseed::KqSeeder::new();
/// let secret = x25519_dalek::EphemeralSecret::random_from_rng(&mut kqseed::rng());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Row11;

/// p256 / k256 0.14 and crypto-common 0.2
///
/// ```rust
/// # let mut seeder = kqseed::KqSeeder::new();
/// use crypto_common::Generate; let key = p256::ecdsa::SigningKey::try_generate_from_rng(&mut seeder)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Row12;

/// rsa 0.10
///
/// ```rust,no_run
/// # let mut seeder = kqseed::KqSeeder::new();
/// let key = rsa::PrivateKey::new(&mut kqseed::rng(), 2048)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Row13;

/// rsa 0.9
///
/// ```rust,no_run
/// # use rsa_0_9 as rsa;
/// # let mut seeder = kqseed::KqSeeder::new();
/// let key = rsa::RsaPrivateKey::new(&mut kqseed::rng(), 2048)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "rand_core_0_6")]
pub struct Row14;

/// tokio
///
/// ```rust
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let mut seeder = kqseed::KqSeeder::new();
/// let rng: rand::rngs::StdRng = seeder.seed_rng_async().await?;
/// # Ok(())
/// # }
/// ```
#[cfg(feature = "tokio")]
pub struct RowTokio;
