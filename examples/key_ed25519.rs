//! An Ed25519 key for ed25519-dalek 3, drawn straight from the seeder
//! through RustCrypto's `Generate`; signs a message and verifies it.
//!
//! `cargo run --release --example key_ed25519`

use std::time::Instant;

use crypto_common::Generate;
use ed25519_dalek::{Signer, SigningKey};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut seeder = kqseed::KqSeeder::new();
    let start = Instant::now();
    // The fallible path: a seeder failure comes back as kqseed::Error.
    let key = SigningKey::try_generate_from_rng(&mut seeder)?;
    let seeded = start.elapsed();

    let message = b"signed with a key from kqseed";
    let signature = key.sign(message);
    key.verifying_key().verify_strict(message, &signature)?;
    // A changed message must not verify.
    if key
        .verifying_key()
        .verify_strict(b"something else", &signature)
        .is_ok()
    {
        return Err("a signature verified on the wrong message".into());
    }

    println!("ed25519-dalek 3: SigningKey::try_generate_from_rng(&mut KqSeeder)");
    println!("seeding took      {seeded:.2?} (cold: queue opened, start-up test included)");
    println!("public key        {}", hex(key.verifying_key().as_bytes()));
    println!("signed and verified {} bytes", message.len());
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn generates_signs_and_verifies() {
        super::main().expect("the example runs");
    }
}
