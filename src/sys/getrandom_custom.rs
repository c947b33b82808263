//! The getrandom custom backend (feature `getrandom-custom`): defines the
//! symbol that getrandom 0.3 and 0.4 call when a binary is built with
//! `--cfg getrandom_backend="custom"`, backed by this thread's reseeding
//! generator (the one `kqseed::rng()` hands out), through its fallible path,
//! so that a failure reaches getrandom's caller as an error, never a panic.
//!
//! Both getrandom versions declare the same symbol with their own `Error`,
//! each a `NonZero` raw OS error code of the same layout, so one definition
//! serves both. kqseed's errors become getrandom custom codes, as
//! [`getrandom_backend_calls`](crate::getrandom_backend_calls) documents.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Error;

static CALLS: AtomicU64 = AtomicU64::new(0);

/// Calls getrandom made into kqseed's backend in this process.
pub(crate) fn calls() -> u64 {
    CALLS.load(Ordering::Relaxed)
}

/// The getrandom custom code for a kqseed error, as an offset from
/// `CUSTOM_START` (the table is in [`getrandom_backend_calls`](crate::getrandom_backend_calls)'s docs).
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ConfigError, StartupFailure};

    #[test]
    fn each_error_has_the_documented_code() {
        let config = Error::Config(ConfigError {
            field: "cap",
            reason: "not a number".into(),
        });
        let os = Error::Os {
            syscall: "kevent",
            errno: 4,
        };
        let temp_dir = Error::TempDir {
            path: "/nowhere".into(),
            kind: std::io::ErrorKind::NotFound,
        };
        let event = Error::Event {
            event: "timer",
            errno: 0,
        };
        let timed_out = Error::WaitTimedOut {
            timeout: std::time::Duration::from_secs(1),
        };
        let health = Error::Health(crate::health::HealthFailure {
            test: crate::health::HealthTest::Rct,
            level: crate::health::FailureLevel::Permanent,
            observed: 61,
            cutoff: 61,
            during_startup: false,
            escalated_after: 0,
        });
        let startup = Error::Startup(StartupFailure::StuckClock {
            zero_deltas: 30,
            samples: 2048,
        });
        let too_large = Error::TooLarge {
            what: "samples",
            requested: 1 << 40,
            max: 1 << 26,
        };
        let errors = [
            config, os, temp_dir, event, timed_out, health, startup, too_large,
        ];
        let codes: Vec<u16> = errors.iter().map(code).collect();
        assert_eq!(codes, [1, 2, 3, 4, 5, 6, 7, 8]);
    }
}
