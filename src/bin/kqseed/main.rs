//! The `kqseed` command.
//!
//! One subcommand per file in this directory; `main` only parses the command
//! line, dispatches, and turns the outcome into a message on stderr and an
//! exit status (see [`out::Failure`]): 0 success (and a reader that closed
//! standard output early), 1 failure, 2 invalid command line or
//! configuration, 3 the data failed a check.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod assess;
mod config;
mod json;
mod out;
mod plot;
mod raw;
mod report;
mod restart;
mod stream;

use out::{CliResult, Failure};

/// Seeds from kernel event-queue timing jitter, and the tools to check them.
///
/// Exit status: 0 success (also when the reader of standard output closes it
/// early), 1 failure, 2 invalid command line or configuration, 3 the data
/// failed a check (restart test, report verdict).
#[derive(Debug, Parser)]
#[command(name = "kqseed", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Estimate the min-entropy of recorded samples with the NIST SP 800-90B
    /// section 6.3 (non-IID) estimators, as NIST's ea_non_iid does; with
    /// --restart, run the section 3.1.4 restart tests as ea_restart does.
    Assess(assess::Args),
    /// Write raw samples straight from the collector, before health tests
    /// and conditioning: the input of ea_non_iid and ea_restart.
    Raw(raw::Args),
    /// Write random bytes to standard output until the reader closes it.
    Stream(stream::Args),
    /// Collect samples and report on the source: rate, events, all ten
    /// estimates, health-test statistics, and the credit against them.
    Report(report::Args),
}

/// Clap's message on one line: its text up to the usage block, joined.
fn one_line(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let words: Vec<&str> = rendered
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let text = words.join(" ");
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    format!("{text} (see --help)")
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
                || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            {
                let failed = e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand;
                return match out::print(&e.render().to_string()) {
                    Ok(()) | Err(Failure::PipeClosed) if !failed => ExitCode::SUCCESS,
                    _ => ExitCode::from(2),
                };
            }
            out::note(format_args!("{}", one_line(&e)));
            return ExitCode::from(2);
        }
    };
    let result: CliResult = match cli.command {
        Command::Assess(args) => assess::run(&args),
        Command::Raw(args) => raw::run(&args),
        Command::Stream(args) => stream::run(&args),
        Command::Report(args) => report::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if let Some(message) = failure.message() {
                out::note(format_args!("{message}"));
            }
            failure.exit_code()
        }
    }
}
