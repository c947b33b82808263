//! The crate's error type.

use core::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// A configuration field that failed validation, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The field at fault, as the configuration names it (of
    /// [`KqueueEventsConfig`](crate::KqueueEventsConfig),
    /// [`CreditPolicy`](crate::CreditPolicy), [`HealthConfig`](crate::health::HealthConfig)
    /// or [`GeneratorConfig`](crate::GeneratorConfig)).
    pub field: &'static str,
    /// What is wrong with it, in words.
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid configuration: `{}`: {}",
            self.field, self.reason
        )
    }
}

impl core::error::Error for ConfigError {}

/// Everything that can go wrong in kqseed.
///
/// Each variant says which part failed: configuration, an OS call (with the
/// call's name and `errno`), the temporary directory, the event queue itself.
/// It converts into [`std::io::Error`] for callers that speak `io`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The configuration was rejected before any resource was taken.
    Config(ConfigError),
    /// An OS call failed. `errno` is the raw OS error code.
    Os {
        /// The call that failed, e.g. `"timerfd_create"` or `"kevent"`.
        syscall: &'static str,
        /// The raw `errno` value.
        errno: i32,
    },
    /// The private temporary directory for the file watchers could not be
    /// made (missing or unwritable parent).
    TempDir {
        /// The parent directory that was tried.
        path: PathBuf,
        /// What went wrong, e.g. `NotFound`, `PermissionDenied`,
        /// `NotADirectory`.
        kind: io::ErrorKind,
    },
    /// The event queue reported an error for one registered event
    /// (`EV_ERROR` on kqueue, `EPOLLERR` on epoll).
    Event {
        /// Which event type: `"timer"`, `"socket"` or `"file"`.
        event: &'static str,
        /// The raw error code the queue reported (0 if none was given).
        errno: i32,
    },
    /// A wait returned no event before its timeout.
    WaitTimedOut {
        /// The configured timeout.
        timeout: Duration,
    },
    /// A health test failed: which one, intermittent or permanent, and the
    /// count that tripped it. No output was produced from the failing samples.
    Health(crate::health::HealthFailure),
    /// The start-up checks refused the source before any output, or after
    /// it the online margin check left no source credited: what they
    /// measured is in the [`StartupFailure`]. After
    /// [`MAX_STARTUP_REFUSALS`](crate::MAX_STARTUP_REFUSALS) refusals the
    /// refusal latches: every later call returns it.
    Startup(StartupFailure),
    /// A caller asked for more than the crate holds at once (samples to
    /// collect, say); nothing was allocated or collected.
    TooLarge {
        /// What was asked for, e.g. `"samples"`.
        what: &'static str,
        /// How many were asked for.
        requested: usize,
        /// The most accepted (memory may allow fewer).
        max: usize,
    },
}

/// Why the seeder's start-up checks refused the source.
///
/// These run on the start-up samples before the first output, beside the SP
/// 800-90B start-up health tests; they catch a clock that does not move, a
/// clock too coarse for the jitter, and a source whose entropy, measured by
/// the section 6.3 estimators, is below what the seeder would credit.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StartupFailure {
    /// Too many deltas were zero: the clock did not advance between returns.
    StuckClock {
        /// Zero deltas among the start-up samples.
        zero_deltas: usize,
        /// Start-up samples.
        samples: usize,
    },
    /// The clock is coarse next to every kernel path: even the longest
    /// path's median sample spans fewer steps of the clock's effective
    /// resolution than any source may be credited for, so every symbol
    /// would be mostly quantisation (a clock that counts milliseconds, a VM
    /// that replays time in whole ticks).
    CoarseClock {
        /// The clock's effective resolution, in clock ticks.
        resolution_ticks: f64,
        /// The longest path's median sample, in steps.
        median_steps: f64,
        /// The least a path must span to be credited, in steps.
        min_median_steps: f64,
    },
    /// Only a whole pass could have been credited over these steps, and it
    /// spans too few kernel paths for even the smallest credit
    /// ([`pass_ceiling`](crate::pass_ceiling)).
    TooFewKernelPaths {
        /// The kernel paths a pass spanned, on average.
        kernel_paths_per_pass: f64,
        /// The fewest that pass's steps would have been credited with.
        min_kernel_paths: f64,
    },
    /// No source's estimate backs even the smallest credit: the best one
    /// (among those the clock allows to be credited) is named.
    LowEntropy {
        /// Its kernel path.
        path: crate::KernelPath,
        /// The estimator that gave its lowest figure.
        estimator: crate::assess::Estimator,
        /// Its estimate, in bits per 8-bit symbol.
        estimate: f64,
        /// The least it must reach: twice the allowance times the smallest
        /// credit.
        required: f64,
    },
    /// The passes did not outrun their timer (fewer than
    /// [`MIN_STARTUP_EXPIRATIONS_PER_TIMER_EVENT`](crate::MIN_STARTUP_EXPIRATIONS_PER_TIMER_EVENT)
    /// expirations a timer event at start-up, or
    /// [`MIN_EXPIRATIONS_PER_TIMER_EVENT`](crate::MIN_EXPIRATIONS_PER_TIMER_EVENT)
    /// over two windows after it), which no ceiling was measured on, and
    /// no source is credited on such passes (the wait and a whole pass
    /// never are, the others only from 20 steps, as their estimates allow):
    /// at start-up, or after it, when the online check found the pace lost
    /// and no credit left. A shorter timer interval, or more sockets and
    /// files, makes a pass outlast its timer; on the BSDs' one-shot kqueue
    /// timers, re-added by each wait, every wait waits for its timer.
    WaitsForTimer {
        /// The window's timer expirations per timer event.
        expirations_per_timer_event: f64,
    },
    /// After start-up, the online margin check lowered the last credited
    /// source to 0: nothing backs a credit any more. The pool is emptied,
    /// and start-up runs again on the next call (a refusal: it counts
    /// towards [`MAX_STARTUP_REFUSALS`](crate::MAX_STARTUP_REFUSALS)).
    NoCreditLeft {
        /// The source lowered last.
        path: crate::KernelPath,
        /// The online estimator that gave its figure.
        estimator: crate::assess::Estimator,
        /// Its estimate over the check's window, bits per 8-bit symbol.
        estimate: f64,
        /// The least that backs the smallest credit: twice the allowance
        /// times it.
        required: f64,
    },
    /// After start-up, the online margin check found the median sample of
    /// the last credited source spanning fewer clock steps than any credit
    /// of its path needs (the path got shorter, or a re-measurement found
    /// the clock coarser than start-up had it):
    /// nothing backs a credit any more. The pool is emptied, and start-up
    /// runs again on the next call (a refusal, as for
    /// [`NoCreditLeft`](StartupFailure::NoCreditLeft)).
    TooFewSteps {
        /// The source lowered last.
        path: crate::KernelPath,
        /// The lower edge of the band of [`ceiling`](crate::credit::ceiling)
        /// its window's median fell in, in steps (0: under the first band).
        median_band_steps: f64,
        /// The least its median must span for any credit, in steps.
        min_median_steps: f64,
    },
}

impl fmt::Display for StartupFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartupFailure::StuckClock {
                zero_deltas,
                samples,
            } => write!(
                f,
                "start-up refused: {zero_deltas} of {samples} clock deltas were zero (stuck clock)"
            ),
            StartupFailure::CoarseClock {
                resolution_ticks,
                median_steps,
                min_median_steps,
            } => write!(
                f,
                "start-up refused: the clock steps by {resolution_ticks:.3} ticks and the longest kernel path spans only {median_steps:.1} steps (at least {min_median_steps} needed): the clock is too coarse for these paths"
            ),
            StartupFailure::TooFewKernelPaths {
                kernel_paths_per_pass,
                min_kernel_paths,
            } => write!(
                f,
                "start-up refused: a whole pass spans {kernel_paths_per_pass:.1} kernel paths, and over its steps at least {min_kernel_paths} are needed for any credit (the pass's ceilings were measured on passes of {}): use more socket pairs or watched files",
                crate::PASS_ROW_KERNEL_PATHS
            ),
            StartupFailure::WaitsForTimer {
                expirations_per_timer_event,
            } => write!(
                f,
                "start-up refused: the passes did not outrun their timer ({expirations_per_timer_event:.2} expirations a timer event, where the credits were measured on passes of more than two), and no source is credited on such passes: use a shorter timer interval or more sources, so that a pass outlasts its timer (a kqueue timer re-added by each wait, as on the BSDs, never does)"
            ),
            StartupFailure::LowEntropy {
                path,
                estimator,
                estimate,
                required,
            } => write!(
                f,
                "start-up refused: no noise source backs a credit; the best, {}, has a {} estimate of {estimate:.3} bits per symbol, below the {required:.3} required",
                path.name(),
                estimator.name()
            ),
            StartupFailure::NoCreditLeft {
                path,
                estimator,
                estimate,
                required,
            } => write!(
                f,
                "no noise source backs a credit any more: the online check's {} estimate of {} fell to {estimate:.3} bits per symbol, below the {required:.3} its last credit needed; start-up runs again",
                estimator.name(),
                path.name()
            ),
            StartupFailure::TooFewSteps {
                path,
                median_band_steps,
                min_median_steps,
            } => write!(
                f,
                "no noise source backs a credit any more: over the online check's window the median sample of {} fell in the band from {median_band_steps} clock steps, under the {min_median_steps} its credit needs; start-up runs again",
                path.name()
            ),
        }
    }
}

impl core::error::Error for StartupFailure {}

impl Error {
    /// The raw OS error code, where the error carries one.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Os { errno, .. } | Error::Event { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(e) => e.fmt(f),
            Error::Os { syscall, errno } => write!(
                f,
                "{syscall} failed: {} (errno {errno})",
                io::Error::from_raw_os_error(*errno)
            ),
            Error::TempDir { path, kind } => write!(
                f,
                "cannot make a private directory in {}: {}",
                path.display(),
                io::Error::from(*kind)
            ),
            Error::Event { event, errno } => write!(
                f,
                "the event queue reported an error on a {event} event: {} (errno {errno})",
                io::Error::from_raw_os_error(*errno)
            ),
            Error::WaitTimedOut { timeout } => {
                write!(f, "no event arrived within the {timeout:?} wait timeout")
            }
            Error::Health(e) => e.fmt(f),
            Error::Startup(e) => e.fmt(f),
            Error::TooLarge {
                what,
                requested,
                max,
            } => write!(
                f,
                "{requested} {what} asked for, more than the {max} accepted (or than memory allows)"
            ),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Error::Config(e) => Some(e),
            Error::Health(e) => Some(e),
            Error::Startup(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

impl From<crate::health::HealthFailure> for Error {
    fn from(e: crate::health::HealthFailure) -> Self {
        Error::Health(e)
    }
}

impl From<StartupFailure> for Error {
    fn from(e: StartupFailure) -> Self {
        Error::Startup(e)
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        let kind = match &e {
            Error::Config(_) | Error::TooLarge { .. } => io::ErrorKind::InvalidInput,
            Error::TempDir { kind, .. } => *kind,
            Error::WaitTimedOut { .. } => io::ErrorKind::TimedOut,
            _ => match e.raw_os_error() {
                Some(code) if code != 0 => io::Error::from_raw_os_error(code).kind(),
                _ => io::ErrorKind::Other,
            },
        };
        io::Error::new(kind, e)
    }
}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;
