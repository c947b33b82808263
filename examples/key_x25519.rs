//! X25519 with x25519-dalek 3: two parties each make an ephemeral secret and
//! agree on a shared secret.
//!
//! `cargo run --release --example key_x25519`
//!
//! x25519-dalek takes an infallible `CryptoRng`, so each party's secret comes
//! from a ChaCha20Rng that the seeder seeds (the fallible step, with `?`).

use std::time::Instant;

use kqseed::KqSeeder;
use rand_chacha::ChaCha20Rng;
use x25519_dalek::{EphemeralSecret, PublicKey};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut seeder = KqSeeder::new();
    let start = Instant::now();
    let mut alice_rng: ChaCha20Rng = seeder.seed_rng()?;
    let cold = start.elapsed();
    let start = Instant::now();
    let mut bob_rng: ChaCha20Rng = seeder.seed_rng()?;
    let warm = start.elapsed();

    let alice = EphemeralSecret::random_from_rng(&mut alice_rng);
    let alice_public = PublicKey::from(&alice);
    let bob = EphemeralSecret::random_from_rng(&mut bob_rng);
    let bob_public = PublicKey::from(&bob);
    if alice_public == bob_public {
        return Err("both parties drew the same secret".into());
    }

    let alice_shared = alice.diffie_hellman(&bob_public);
    let bob_shared = bob.diffie_hellman(&alice_public);
    if alice_shared.as_bytes() != bob_shared.as_bytes() {
        return Err("the two sides computed different shared secrets".into());
    }
    if !alice_shared.was_contributory() {
        return Err("the shared secret is not contributory".into());
    }

    println!(
        "x25519-dalek 3: EphemeralSecret::random_from_rng(&mut KqSeeder::seed_rng::<ChaCha20Rng>()?)"
    );
    println!("seeding took      {cold:.2?} for Alice's generator (cold), {warm:.2?} for Bob's");
    println!(
        "Alice and Bob agreed on a {}-byte shared secret",
        alice_shared.as_bytes().len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_parties_agree() {
        super::main().expect("the example runs");
    }
}
