//! The longest single call: draws 32 bytes from `kqseed::rng()` for a number
//! of seconds (default 10) and prints the longest call, how many took over
//! 1 ms and 2 ms, and the generator's counters (reseeds, deferred ones).
//! Reseeds come from the background service, so no call should wait for
//! one; what remains is the scheduler.
//!
//! `cargo run --release --example stalls [SECONDS]`

use std::time::{Duration, Instant};

use rand_core::Rng;

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0);
    let mut rng = kqseed::rng();
    let mut key = [0u8; 32];
    rng.fill_bytes(&mut key); // the service's first seed, not measured
    let (mut calls, mut over_1ms, mut over_2ms) = (0u64, 0u64, 0u64);
    let mut longest = Duration::ZERO;
    let run = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    while start.elapsed() < run {
        for _ in 0..1000 {
            let t = Instant::now();
            rng.fill_bytes(&mut key);
            let e = t.elapsed();
            longest = longest.max(e);
            over_1ms += u64::from(e > Duration::from_millis(1));
            over_2ms += u64::from(e > Duration::from_millis(2));
        }
        calls += 1000;
    }
    println!(
        "{calls} calls of 32 bytes in {seconds} s: longest {longest:.3?}, over 1 ms {over_1ms}, over 2 ms {over_2ms}"
    );
    println!("{:?}", rng.stats());
}
