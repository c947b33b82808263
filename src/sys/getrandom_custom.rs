//! The getrandom custom backend (feature `getrandom-custom`): defines the
//! symbol that getrandom 0.3 and 0.4 call when a binary is built with
//! `--cfg getrandom_backend="custom"`, backed by this thread's reseeding
//! generator (the one `kqseed::rng()` hands out), through its fallible path,
//! so that a failure reaches getrandom's caller as an error, never a panic.
//!
//! Both getrandom versions declare the same symbol with their own `Error`,
//! each a `NonZero` raw OS error code of the same layout, so one definition
//! serves both. kqseed's errors become getrandom custom codes (getrandom has
//! no public way to carry an errno from a custom backend):
//!
//! | code | kqseed error |
//! |---|---|
//! | `CUSTOM_START + 1` | [`Error::Config`] |
//! | `CUSTOM_START + 2` | [`Error::Os`] (an OS call failed) |
//! | `CUSTOM_START + 3` | [`Error::TempDir`] |
//! | `CUSTOM_START + 4` | [`Error::Event`] |
//! | `CUSTOM_START + 5` | [`Error::WaitTimedOut`] |
//! | `CUSTOM_START + 6` | [`Error::Health`] (a health test failed) |
//! | `CUSTOM_START + 7` | [`Error::Startup`] (start-up refused the source) |
//! | `CUSTOM_START + 8` | [`Error::TooLarge`] and anything else |

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Error;

static CALLS: AtomicU64 = AtomicU64::new(0);

/// Calls getrandom made into kqseed's backend in this process.
pub(crate) fn calls() -> u64 {
    CALLS.load(Ordering::Relaxed)
}

/// The getrandom custom code for a kqseed error (see the module docs).
pub(crate) fn code(e: &Error) -> u16 {
    match e {
        Error::Config(_) => 1,
        Error::Os { .. } => 2,
        Error::TempDir { .. } => 3,
        Error::Event { .. } => 4,
        Error::WaitTimedOut { .. } => 5,
        Error::Health(_) => 6,
        Error::Startup(_) => 7,
        _ => 8,
    }
}

/// getrandom's custom backend entry point.
///
/// # Safety
///
/// getrandom calls it with `dest` valid for writes of `len` bytes (possibly
/// uninitialised), as its custom-backend contract says.
// SAFETY: (no_mangle) this is the symbol getrandom's custom backend
// declares and calls; nothing else in a program defines it, and the
// signature is the one getrandom declares.
#[unsafe(no_mangle)]
unsafe extern "Rust" fn __getrandom_v03_custom(
    dest: *mut u8,
    len: usize,
) -> Result<(), getrandom::Error> {
    CALLS.fetch_add(1, Ordering::Relaxed);
    if len == 0 {
        return Ok(());
    }
    // The buffer may be uninitialised, and a `&mut [u8]` over it would be
    // undefined behaviour: zero it first.
    // SAFETY: `dest` is valid for writes of `len` bytes (see above).
    unsafe { std::ptr::write_bytes(dest, 0, len) };
    // SAFETY: `dest` is valid for `len` bytes, now initialised, and nothing
    // else refers to it during this call.
    let buf = unsafe { std::slice::from_raw_parts_mut(dest, len) };
    crate::generator::fill_for_getrandom(buf).map_err(|e| getrandom::Error::new_custom(code(&e)))
}
