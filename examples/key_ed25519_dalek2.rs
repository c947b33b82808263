//! An Ed25519 key for ed25519-dalek 2, which takes rand_core 0.6's
//! `RngCore + CryptoRng` (feature `rand_core_0_6`); signs a message and
//! verifies it.
//!
//! `cargo run --release --example key_ed25519_dalek2 --features rand_core_0_6`
//!
//! `SigningKey::generate` calls rand_core 0.6's infallible `fill_bytes`,
//! which panics if the seeder fails. The second key shows the path that
//! returns the error instead: the key's bytes from `KqSeeder::key`.

use std::time::Instant;

use ed25519_dalek_2::{Signer, SigningKey};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut seeder = kqseed::KqSeeder::new();
    let start = Instant::now();
    let key = SigningKey::generate(&mut seeder);
    let seeded = start.elapsed();

    let start = Instant::now();
    let from_bytes = SigningKey::from_bytes(&*seeder.key::<32>()?);
    let seeded_warm = start.elapsed();
    if key.to_bytes() == from_bytes.to_bytes() {
        return Err("two draws from the seeder gave the same key".into());
    }

    let message = b"signed with a key from kqseed";
    for k in [&key, &from_bytes] {
        let signature = k.sign(message);
        k.verifying_key().verify_strict(message, &signature)?;
        if k.verifying_key()
            .verify_strict(b"something else", &signature)
            .is_ok()
        {
            return Err("a signature verified on the wrong message".into());
        }
    }

    println!("ed25519-dalek 2.2: SigningKey::generate(&mut KqSeeder) through rand_core 0.6");
    println!("seeding took      {seeded:.2?} (cold: queue opened, start-up test included)");
    println!("second key        SigningKey::from_bytes(&*seeder.key::<32>()?), {seeded_warm:.2?}");
    println!("signed and verified {} bytes with each", message.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn generates_signs_and_verifies() {
        super::main().expect("the example runs");
    }
}
