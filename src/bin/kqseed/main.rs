//! The `kqseed` command.
//!
//! One subcommand per file in this directory; `main` only parses the command
//! line, dispatches, and turns an error into a message on stderr and a
//! non-zero exit status. Later subcommands (`raw`, `stream`, `report`) slot in
//! as further `Command` variants.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod assess;

/// Seeds from kernel event-queue timing jitter, and the tools to check them.
#[derive(Debug, Parser)]
#[command(name = "kqseed", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Estimate the min-entropy of recorded samples with the NIST SP 800-90B
    /// section 6.3 (non-IID) estimators, as NIST's ea_non_iid does.
    Assess(assess::Args),
}

/// What a subcommand returns: a message for the user on failure.
type CliResult = Result<(), Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: CliResult = match cli.command {
        Command::Assess(args) => assess::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kqseed: {e}");
            ExitCode::FAILURE
        }
    }
}
