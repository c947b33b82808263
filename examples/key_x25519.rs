//! X25519 with x25519-dalek 3: two parties each make an ephemeral secret and
//! agree on a shared secret.
//!
//! `cargo run --release --example key_x25519`
//!
//! x25519-dalek takes an infallible `CryptoRng`: `kqseed::rng()`, the
//! thread's generator, which wipes its key on drop (a `ChaCha20Rng` of
//! rand_chacha would not). It panics only where no key may be used; where
//! a panic is not acceptable, seed a generator with `KqSeeder::seed_rng`
//! and handle the error there.

use std::time::Instant;

use x25519_dalek::{EphemeralSecret, PublicKey};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let alice = EphemeralSecret::random_from_rng(&mut kqseed::rng());
    let first = start.elapsed();
    let start = Instant::now();
    let bob = EphemeralSecret::random_from_rng(&mut kqseed::rng());
    let second = start.elapsed();

    let alice_public = PublicKey::from(&alice);
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

    println!("x25519-dalek 3: EphemeralSecret::random_from_rng(&mut kqseed::rng())");
    println!(
        "Alice's secret took {first:.2?} (the thread's first seed), Bob's {second:.2?} (no seeding)"
    );
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
