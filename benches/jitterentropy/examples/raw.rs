//! Writes jitterentropy 3.4.1's raw noise samples, one byte each, to
//! standard output: the input `scripts/jitterentropy-raw.sh` assesses with
//! `kqseed assess`, so that the peer's credit can be set against its own
//! SP 800-90B figure on the same (possibly simulated) clock as kqseed's.
//!
//! ```text
//! cargo run --release --example raw -- [SAMPLES]    (default 1,000,000)
//! ```
//!
//! Each sample is the low byte of one time delta as `jent_measure_jitter`
//! returns it through its test interface (`ret_current_delta`: the delta
//! between two of its time stamps, divided by the timer's common divisor;
//! the library's own raw-entropy recorder reads the same value). The
//! collector is made as the bench makes it (`jent_entropy_collector_alloc(0,
//! 0)`: this build's minimum oversampling rate, 3, so the library credits a
//! third of a bit per delta its stuck test passes; the stuck ones are
//! written too, and counted on standard error), and primed with one
//! discarded measurement, as `jent_random_data` does.

use std::ffi::c_uint;
use std::io::{self, Write};
use std::process::ExitCode;

/// `struct rand_data`, opaque.
#[repr(C)]
struct RandData {
    _private: [u8; 0],
}

// SAFETY: the signatures are those of jitterentropy 3.4.1's jitterentropy.h
// and src/jitterentropy-noise.h and -timer.c (the version
// scripts/fetch-jitterentropy.sh fetches and build.rs compiles).
unsafe extern "C" {
    /// `int jent_entropy_init(void)`: the power-up test; 0 on success.
    fn jent_entropy_init() -> std::ffi::c_int;
    /// `struct rand_data *jent_entropy_collector_alloc(unsigned int osr,
    /// unsigned int flags)`: NULL on failure.
    fn jent_entropy_collector_alloc(osr: c_uint, flags: c_uint) -> *mut RandData;
    /// `void jent_entropy_collector_free(struct rand_data *)`.
    fn jent_entropy_collector_free(ec: *mut RandData);
    /// `int jent_notime_forced(void)`: nonzero once the power-up test has
    /// put every collector on the internal timer thread (global in
    /// `jitterentropy-timer.c`, hidden only from dynamic linking).
    fn jent_notime_forced() -> std::ffi::c_int;
    /// `unsigned int jent_measure_jitter(struct rand_data *ec, uint64_t
    /// loop_cnt, uint64_t *ret_current_delta)`: one noise sample; returns
    /// the stuck test's result. Internal to the library (hidden visibility),
    /// which only limits dynamic export: the static archive links it.
    fn jent_measure_jitter(ec: *mut RandData, loop_cnt: u64, ret_current_delta: *mut u64)
    -> c_uint;
}

fn main() -> ExitCode {
    let samples: usize = match std::env::args().nth(1).map(|s| s.parse()) {
        None => 1_000_000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: raw [SAMPLES]   (a positive count; default 1000000)");
            return ExitCode::from(2);
        }
    };
    // SAFETY: no preconditions.
    if unsafe { jent_entropy_init() } != 0 {
        eprintln!("raw: jitterentropy's power-up test failed on this clock");
        return ExitCode::FAILURE;
    }
    // SAFETY: no preconditions.
    if unsafe { jent_notime_forced() } != 0 {
        // Its deltas would then come from the library's own timer thread,
        // not from the clock the caller meant to assess.
        eprintln!("raw: the power-up test put jitterentropy on its internal timer thread");
        return ExitCode::FAILURE;
    }
    // SAFETY: no preconditions; the result is checked for NULL below.
    let ec = unsafe { jent_entropy_collector_alloc(0, 0) };
    if ec.is_null() {
        eprintln!("raw: jent_entropy_collector_alloc returned NULL");
        return ExitCode::FAILURE;
    }
    let mut bytes = Vec::with_capacity(samples);
    let (mut stuck, mut total) = (0u64, 0u128);
    // SAFETY: `ec` is a live collector; a NULL delta pointer is allowed.
    unsafe { jent_measure_jitter(ec, 0, std::ptr::null_mut()) };
    for _ in 0..samples {
        let mut delta = 0u64;
        // SAFETY: `ec` is a live collector and `delta` a valid u64 the
        // function writes once.
        stuck += u64::from(unsafe { jent_measure_jitter(ec, 0, &mut delta) } != 0);
        total += u128::from(delta);
        bytes.push(delta as u8);
    }
    // SAFETY: `ec` came from jent_entropy_collector_alloc and is freed once.
    unsafe { jent_entropy_collector_free(ec) };
    eprintln!(
        "raw: {samples} deltas, mean {:.1} timer units, {stuck} flagged stuck by the library",
        total as f64 / samples as f64
    );
    let mut out = io::stdout().lock();
    match out.write_all(&bytes).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("raw: writing the samples: {e}");
            ExitCode::FAILURE
        }
    }
}
