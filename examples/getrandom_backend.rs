//! getrandom 0.3, getrandom 0.4 and rand's `rand::rng()` all drawing from
//! kqseed, through the custom backend (feature `getrandom-custom`). Only
//! meaningful when built with the backend cfg, which .ci/run does:
//!
//! ```sh
//! RUSTFLAGS='--cfg getrandom_backend="custom"' cargo run --release \
//!     --features getrandom-custom --example getrandom_backend --target-dir target/getrandom
//! ```
//!
//! It checks that each path called into kqseed (counted by
//! `kqseed::getrandom_backend_calls`) and exits non-zero otherwise.

use rand::RngExt as _;

fn main() {
    let calls = kqseed::getrandom_backend_calls;
    let start = std::time::Instant::now();
    let mut a = [0u8; 64];
    let before = calls();
    getrandom::fill(&mut a).expect("getrandom 0.3");
    let after_03 = calls();
    let first = start.elapsed();
    let mut b = [0u8; 64];
    getrandom_0_4::fill(&mut b).expect("getrandom 0.4");
    let after_04 = calls();
    // rand 0.10's ThreadRng seeds itself from getrandom 0.4 (SysRng).
    let x: u64 = rand::rng().random();
    let after_rand = calls();
    println!(
        "getrandom 0.3: {} call(s), first fill {first:.2?}; getrandom 0.4: {} call(s); rand::rng(): {} call(s) (x = {x:016x})",
        after_03 - before,
        after_04 - after_03,
        after_rand - after_04
    );
    assert!(
        after_03 > before,
        "getrandom 0.3 did not call kqseed: built without the cfg?"
    );
    assert!(after_04 > after_03, "getrandom 0.4 did not call kqseed");
    assert!(
        after_rand > after_04,
        "rand::rng() did not seed from kqseed"
    );
    assert_ne!(a, [0u8; 64]);
    assert_ne!(a, b);
    println!("getrandom backend ok: {} calls into kqseed", calls());
}
