//! A 256-bit ChaCha20-Poly1305 key from the seeder, held in `Zeroizing` so it
//! is wiped on drop; seals a message and opens it. The cipher keeps its own
//! copy of the key: built with chacha20poly1305's `zeroize` feature (as
//! here), it wipes that copy when dropped too.
//!
//! `cargo run --release --example key_aead`

use std::time::Instant;

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut seeder = kqseed::KqSeeder::new();
    let start = Instant::now();
    let key = seeder.key::<32>()?;
    let seeded = start.elapsed();
    // A random nonce from the same seeder; with one key per message any
    // nonce would do, but a reused key needs a fresh one each time.
    let nonce_bytes = seeder.key::<12>()?;

    let cipher = ChaCha20Poly1305::new(key.as_slice().try_into()?);
    let nonce = Nonce::from(*nonce_bytes);
    let plaintext = b"sealed with a key from kqseed";
    let sealed = cipher
        .encrypt(&nonce, plaintext.as_slice())
        .map_err(|_| "sealing failed")?;
    let opened = cipher
        .decrypt(&nonce, sealed.as_slice())
        .map_err(|_| "opening failed")?;
    if opened != plaintext {
        return Err("opened text differs from the plaintext".into());
    }
    let mut tampered = sealed.clone();
    tampered[0] ^= 1;
    if cipher.decrypt(&nonce, tampered.as_slice()).is_ok() {
        return Err("a tampered message opened".into());
    }

    println!("chacha20poly1305 0.11: a 32-byte key from KqSeeder::key::<32>() (Zeroizing)");
    println!("seeding took      {seeded:.2?} (cold: queue opened, start-up test included)");
    println!(
        "sealed {} bytes into {}, opened them, and refused a tampered copy",
        plaintext.len(),
        sealed.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn seals_and_opens() {
        super::main().expect("the example runs");
    }
}
