//! Subcommands, one module each, and the few helpers they share at the CLI edge.

mod bench;
mod cases;
mod fuzz;
mod run;

use anyhow::{Context, Result};
use cgdiff_engine::format::{self, CaseFile};
use clap::{Parser, Subcommand};
use std::path::Path;
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
#[command(
    name = "cgdiff",
    version,
    about,
    after_help = "Start here:\n  \
        cgdiff fuzz --time 60s              a campaign on every core into ./cgdiff.db\n  \
        cgdiff cases list --unexpected      what it found that no rule explains\n  \
        cgdiff cases show ID                one finding, replayed on the current models\n  \
        cgdiff run examples/agree-basic.case  one case file, step by step\n\n\
Exit status: 0 agree / nothing new, 1 divergence / new unexpected signature, 2 bad input."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run a case file through both models and print what each did, then the verdict.
    Run(run::Args),
    /// Fuzz: generate cases on every core, store each divergence minimised.
    Fuzz(fuzz::Args),
    /// List and show stored cases.
    Cases(cases::Args),
    /// Measure the engine: model operations per second through the full oracle.
    Bench(bench::Args),
}

pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Run(a) => run::run(a),
        Command::Fuzz(a) => fuzz::run(a),
        Command::Cases(a) => cases::run(a),
        Command::Bench(a) => bench::run(a),
    }
}

/// Reads and parses a case file; errors name the file, line and column.
pub fn read_case_file(path: &Path) -> Result<CaseFile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read case file {}", path.display()))?;
    format::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Opens (creating if needed) the case store.
pub fn open_store(path: &Path) -> Result<cgdiff_corpus::Store> {
    Ok(cgdiff_corpus::Store::open(path)?)
}

/// Opens a store that must already exist (read commands never create one).
pub fn open_store_existing(path: &Path) -> Result<cgdiff_corpus::Store> {
    if !path.exists() {
        anyhow::bail!(
            "{}: no such database (run `cgdiff fuzz` first, or pass --db PATH)",
            path.display()
        );
    }
    open_store(path)
}

/// The commit this binary was built from, if the build could tell.
pub fn git_commit() -> Option<String> {
    Some(env!("CGDIFF_GIT_COMMIT").to_string()).filter(|s| !s.is_empty())
}
