//! `cgdiff`: differential fuzzing and replay of the cgroup migration rewrite.
//! The binary is the CLI edge: argument parsing, I/O and exit codes; the work is in the crates.

mod cmd;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cmd::Cli::parse();
    match cmd::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cgdiff: error: {e:#}");
            ExitCode::from(cmd::EXIT_BAD_INPUT)
        }
    }
}
