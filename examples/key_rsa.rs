//! RSA 2048 keys from kqseed's reseeding generator: key generation draws
//! far more than 32 bytes (candidate primes until two are found), which is
//! what the generator is for. rsa 0.10 takes `kqseed::rng()` (rand_core
//! 0.10); rsa 0.9 takes it through rand_core 0.6 (feature `rand_core_0_6`).
//! Each key encrypts and decrypts a message.
//!
//! `cargo run --release --example key_rsa --features rand_core_0_6`

use std::time::Instant;

fn main() {
    let mut rng = kqseed::rng();
    let message = b"kqseed: an RSA-2048 key from event-queue jitter";

    // rsa 0.10, rand_core 0.10.
    let start = Instant::now();
    let key = rsa::PrivateKey::new(&mut rng, 2048).expect("rsa 0.10 key");
    let took = start.elapsed();
    let public = rsa::PublicKey::from(&key);
    let sealed = public
        .encrypt(&mut rng, rsa::Oaep::<sha2::Sha256>::new(), message)
        .expect("encrypt");
    let opened = key
        .decrypt(rsa::Oaep::<sha2::Sha256>::new(), &sealed)
        .expect("decrypt");
    assert_eq!(opened, message, "rsa 0.10: decryption gave other bytes");
    println!(
        "rsa 0.10: 2048-bit key in {took:.2?}, OAEP round trip ok; generator so far: {:?}",
        rng.stats()
    );

    // rsa 0.9, rand_core 0.6.
    let start = Instant::now();
    let key9 = rsa_0_9::RsaPrivateKey::new(&mut rng, 2048).expect("rsa 0.9 key");
    let took = start.elapsed();
    let public9 = rsa_0_9::RsaPublicKey::from(&key9);
    let sealed9 = public9
        .encrypt(&mut rng, rsa_0_9::Pkcs1v15Encrypt, message)
        .expect("encrypt");
    let opened9 = key9
        .decrypt(rsa_0_9::Pkcs1v15Encrypt, &sealed9)
        .expect("decrypt");
    assert_eq!(opened9, message, "rsa 0.9: decryption gave other bytes");
    println!(
        "rsa 0.9:  2048-bit key in {took:.2?}, PKCS#1 v1.5 round trip ok; bytes drawn in all: {}",
        rng.stats().bytes
    );
}
