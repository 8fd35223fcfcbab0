//! `cgdiff bench`: how fast the engine is and how quickly it finds bugs. docs/benchmarks.md
//! says how to run each benchmark and what each number means.
//!
//! - `cgdiff bench` (no subcommand): the oracle's throughput on a fixed set of cases, one core
//!   (unchanged from before the subcommands existed, so old scripts keep working).
//! - `cgdiff bench throughput`: the campaign on 1 core and on all cores, the case store's insert
//!   rate, the replay rate.
//! - `cgdiff bench power`: bug-finding power against planted bugs, cgdiff's campaign generator
//!   side by side with a proptest-state-machine baseline. Needs `--features planted-bugs`.

#[cfg(feature = "planted-bugs")]
mod hunt;
mod oracle;
mod power;
mod stats;
mod throughput;

use anyhow::Result;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  \
        cgdiff bench                     oracle throughput on one core (--minimize: minimiser too)\n  \
        cgdiff bench throughput          campaign on 1 and all cores, store inserts, replays\n  \
        cargo run --release --features planted-bugs -- bench power\n                                   \
        time to find each planted bug: cgdiff vs proptest-state-machine"
)]
pub struct Args {
    #[command(subcommand)]
    command: Option<BenchCommand>,
    #[command(flatten)]
    oracle: oracle::Args,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Bug-finding power: for each planted bug, time to find it and the minimised case length,
    /// cgdiff's campaign generator against a proptest-state-machine baseline.
    Power(power::Args),
    /// Throughput: the campaign worker on one core and on all cores, case-store inserts with
    /// deduplication, and replays of stored cases.
    Throughput(throughput::Args),
}

pub fn run(a: Args) -> Result<ExitCode> {
    match a.command {
        None => oracle::run(a.oracle),
        Some(BenchCommand::Power(p)) => power::run(p),
        Some(BenchCommand::Throughput(t)) => throughput::run(t),
    }
}
