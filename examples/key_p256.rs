//! A P-256 ECDSA key for p256 0.14, drawn straight from the seeder through
//! RustCrypto's `Generate`; signs a message and verifies it.
//!
//! `cargo run --release --example key_p256`

use std::time::Instant;

use crypto_common::Generate;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut seeder = kqseed::KqSeeder::new();
    let start = Instant::now();
    let key = SigningKey::try_generate_from_rng(&mut seeder)?;
    let seeded = start.elapsed();

    let message = b"signed with a key from kqseed";
    let signature: Signature = key.sign(message);
    key.verifying_key().verify(message, &signature)?;
    if key
        .verifying_key()
        .verify(b"something else", &signature)
        .is_ok()
    {
        return Err("a signature verified on the wrong message".into());
    }

    println!("p256 0.14: ecdsa::SigningKey::try_generate_from_rng(&mut KqSeeder)");
    println!("seeding took      {seeded:.2?} (cold: queue opened, start-up test included)");
    println!(
        "signed and verified {} bytes (ECDSA, SHA-256)",
        message.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn generates_signs_and_verifies() {
        super::main().expect("the example runs");
    }
}
