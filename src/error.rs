//! The crate's error type.

use core::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// A configuration field that failed validation, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The field of [`KqueueEventsConfig`](crate::KqueueEventsConfig) at fault.
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
        /// The raw `errno`, where the OS gave one.
        errno: Option<i32>,
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
}

impl Error {
    /// The raw OS error code, where the error carries one.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Os { errno, .. } | Error::Event { errno, .. } => Some(*errno),
            Error::TempDir { errno, .. } => *errno,
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
            Error::TempDir { path, errno } => {
                write!(f, "cannot make a private directory in {}", path.display())?;
                if let Some(errno) = errno {
                    write!(f, ": {}", io::Error::from_raw_os_error(*errno))?;
                }
                Ok(())
            }
            Error::Event { event, errno } => write!(
                f,
                "the event queue reported an error on a {event} event: {} (errno {errno})",
                io::Error::from_raw_os_error(*errno)
            ),
            Error::WaitTimedOut { timeout } => {
                write!(f, "no event arrived within the {timeout:?} wait timeout")
            }
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Error::Config(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        let kind = match &e {
            Error::Config(_) => io::ErrorKind::InvalidInput,
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
