//! How the command ends and writes: the exit status of each outcome, and
//! output that treats a closed pipe as the reader's "enough".
//!
//! Nothing here uses `print!`/`eprint!`: they panic when the stream is gone
//! (`kqseed assess f | head -c1`). Standard output is written through a lock
//! and a broken pipe becomes [`Failure::PipeClosed`], a quiet exit 0;
//! messages to standard error are best effort.

use std::fmt;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

/// Why a subcommand stopped early, and so its exit status.
#[derive(Debug)]
pub enum Failure {
    /// The command line or the configuration is invalid: exit 2.
    Usage(String),
    /// The operation failed (I/O, the collector, a health test, an
    /// assessment that cannot run): exit 1.
    Failed(String),
    /// The data ran but failed a check (the restart sanity check or
    /// validation, the report's credit verdict): exit 3. The message is
    /// printed on stderr.
    Check(String),
    /// The reader of standard output went away: exit 0, nothing printed.
    PipeClosed,
}

impl Failure {
    /// The exit status for this outcome (0 for a closed pipe).
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Failure::PipeClosed => ExitCode::SUCCESS,
            Failure::Failed(_) => ExitCode::from(1),
            Failure::Usage(_) => ExitCode::from(2),
            Failure::Check(_) => ExitCode::from(3),
        }
    }

    /// The one-line message for stderr, if any.
    pub fn message(&self) -> Option<&str> {
        match self {
            Failure::Usage(m) | Failure::Failed(m) | Failure::Check(m) => Some(m),
            Failure::PipeClosed => None,
        }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Failed(message)
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Self {
        Failure::Failed(message.to_string())
    }
}

/// A library error: configuration errors are usage errors (exit 2), the
/// rest operational failures (exit 1).
impl From<kqseed::Error> for Failure {
    fn from(e: kqseed::Error) -> Self {
        match e {
            kqseed::Error::Config(c) => Failure::Usage(crate::config::explain(&c)),
            e => Failure::Failed(e.to_string()),
        }
    }
}

/// What a subcommand returns.
pub type CliResult = Result<(), Failure>;

/// A write to standard output failed: a closed pipe is a clean end, anything
/// else an error.
pub fn stdout_error(e: io::Error) -> Failure {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Failure::PipeClosed
    } else {
        Failure::Failed(format!("cannot write to standard output: {e}"))
    }
}

/// Writes `text` to standard output and flushes it.
pub fn print(text: &str) -> CliResult {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(stdout_error)
}

/// A message on standard error, one line, best effort (a closed stderr is
/// not a reason to fail or panic).
pub fn note(args: fmt::Arguments<'_>) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "kqseed: {args}");
}

/// Where a subcommand writes its data: standard output (a closed pipe ends
/// the run cleanly) or a file (any error is an error).
pub enum Sink {
    /// Standard output, locked for the whole run.
    Stdout(io::BufWriter<io::StdoutLock<'static>>),
    /// A file, named for the messages.
    File(io::BufWriter<std::fs::File>, String),
}

impl Sink {
    /// Opens `path` for writing (created or truncated), or standard output
    /// when `path` is `None` or `-`. Binary data is not written to a terminal.
    pub fn open(path: Option<&Path>, binary: bool) -> Result<Sink, Failure> {
        match path.filter(|p| p.as_os_str() != "-") {
            None => {
                use std::io::IsTerminal;
                if binary && io::stdout().is_terminal() {
                    return Err(Failure::Usage(
                        "refusing to write binary output to a terminal: redirect standard output (or give -o FILE to raw)"
                            .into(),
                    ));
                }
                Ok(Sink::Stdout(io::BufWriter::with_capacity(
                    1 << 16,
                    io::stdout().lock(),
                )))
            }
            Some(p) => {
                let name = p.display().to_string();
                let file = std::fs::File::create(p)
                    .map_err(|e| Failure::Failed(format!("cannot create {name}: {e}")))?;
                Ok(Sink::File(
                    io::BufWriter::with_capacity(1 << 16, file),
                    name,
                ))
            }
        }
    }

    fn error(&self, e: io::Error) -> Failure {
        match self {
            Sink::Stdout(_) => stdout_error(e),
            Sink::File(_, name) => Failure::Failed(format!("cannot write {name}: {e}")),
        }
    }

    /// Writes all of `bytes`.
    pub fn write(&mut self, bytes: &[u8]) -> CliResult {
        let result = match self {
            Sink::Stdout(w) => w.write_all(bytes),
            Sink::File(w, _) => w.write_all(bytes),
        };
        result.map_err(|e| self.error(e))
    }

    /// Writes out what is buffered (and, for a file, syncs nothing more:
    /// the data is in the kernel's hands).
    pub fn flush(&mut self) -> CliResult {
        let result = match self {
            Sink::Stdout(w) => w.flush(),
            Sink::File(w, _) => w.flush(),
        };
        result.map_err(|e| self.error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_pipe_is_a_clean_exit_and_other_errors_are_not() {
        let pipe = stdout_error(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(matches!(pipe, Failure::PipeClosed));
        assert_eq!(pipe.exit_code(), ExitCode::SUCCESS);
        assert!(pipe.message().is_none());
        let full = stdout_error(io::Error::from_raw_os_error(libc_enospc()));
        assert!(matches!(full, Failure::Failed(_)));
        assert_eq!(full.exit_code(), ExitCode::from(1));
    }

    /// ENOSPC on Linux and the BSDs alike.
    fn libc_enospc() -> i32 {
        28
    }

    #[test]
    fn exit_codes_are_distinct() {
        let codes = [
            Failure::Failed(String::new()).exit_code(),
            Failure::Usage(String::new()).exit_code(),
            Failure::Check(String::new()).exit_code(),
        ];
        assert_ne!(codes[0], codes[1]);
        assert_ne!(codes[1], codes[2]);
        assert_ne!(codes[0], codes[2]);
    }
}
