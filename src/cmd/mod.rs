//! Subcommands, one module each.

mod bench;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Exit status: the models agree / nothing new was found.
pub const EXIT_OK: u8 = 0;
/// Exit status: a divergence (or a new unexpected signature) was found.
pub const EXIT_DIVERGENCE: u8 = 1;
/// Exit status: bad input (a malformed case file, a bad flag, an unusable database).
pub const EXIT_BAD_INPUT: u8 = 2;

/// Differential fuzzing of the Linux cgroup migration rewrite (Feb 2014): the legacy
/// single-step cgroup_attach_task against the four-stage add_src / prepare_dst / migrate /
/// finish design, on generated operation sequences with injected faults.
#[derive(Parser)]
#[command(name = "cgdiff", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Measure the engine: model operations per second through the full oracle.
    Bench(bench::Args),
}

pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Bench(a) => bench::run(a),
    }
}
