//! `kqseed::reseed()` and `KqRng::reseed()`: what a process does after a VM
//! snapshot is restored. One test, so that no other test of this binary
//! sees its process-wide request.

use std::sync::{Arc, Barrier};

use rand_core::{Rng, TryRng};

fn draw(rng: &mut kqseed::KqRng) -> [u8; 32] {
    let mut out = [0u8; 32];
    rng.try_fill_bytes(&mut out).expect("draw");
    out
}

#[test]
fn reseed_requests_reach_every_generator_once() {
    // This generator, now: one waited reseed, and the output goes on.
    let mut mine = kqseed::KqRng::new().expect("KqRng");
    let before = draw(&mut mine);
    let stats = mine.stats();
    mine.reseed().expect("KqRng::reseed");
    assert_eq!(mine.stats().reseeds, stats.reseeds + 1);
    assert_eq!(mine.stats().waits, stats.waits + 1);
    assert_ne!(draw(&mut mine), before);

    // Another thread's rng(), seeded before the request.
    let (asked, answered) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(2)));
    let other = {
        let (asked, answered) = (asked.clone(), answered.clone());
        std::thread::spawn(move || {
            let mut rng = kqseed::rng();
            let _ = rng.next_u64();
            let seeded = rng.stats().reseeds;
            asked.wait();
            answered.wait();
            let _ = rng.next_u64();
            let _ = rng.next_u64();
            rng.stats().reseeds - seeded
        })
    };
    let _ = kqseed::rng().next_u32();
    let thread_stats = kqseed::rng().stats();
    let stats = mine.stats();
    asked.wait();
    kqseed::reseed().expect("kqseed::reseed");
    answered.wait();

    // Each generator's next draw reseeds, and only that one.
    draw(&mut mine);
    assert_eq!(
        mine.stats().reseeds,
        stats.reseeds + 1,
        "{:?}",
        mine.stats()
    );
    assert_eq!(mine.stats().waits, stats.waits + 1);
    draw(&mut mine);
    assert_eq!(mine.stats().reseeds, stats.reseeds + 1);
    let _ = kqseed::rng().next_u32();
    let _ = kqseed::rng().next_u32();
    assert_eq!(kqseed::rng().stats().reseeds, thread_stats.reseeds + 1);
    assert_eq!(other.join().expect("other thread"), 1);

    // A generator made after the request is seeded after it: no second
    // reseed on its first draw.
    let mut later = kqseed::KqRng::new().expect("KqRng");
    draw(&mut later);
    assert_eq!(later.stats().reseeds, 1);
}
