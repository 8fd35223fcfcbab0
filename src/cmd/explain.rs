//! `cgdiff explain ID | FILE`: the story of one divergence, for a person.

use super::{pair_of, Source};
use crate::explain::{story, use_colour};
use anyhow::Result;
use cgdiff_engine::models::Pair;
use cgdiff_engine::oracle;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(after_help = "Colour on a terminal; plain when piped or when NO_COLOR is set.")]
pub struct Args {
    /// A stored case id or a case file.
    target: String,
    #[arg(long, default_value = "cgdiff.db")]
    db: PathBuf,
    /// The two designs to compare, as A,B (default: the case's own pair).
    #[arg(long, value_name = "A,B")]
    designs: Option<Pair>,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let src = Source::load(&a.target, &a.db)?;
    let case = &src.case_file().case;
    let report = oracle::run_pair(case, pair_of(a.designs, src.case_file()), true);
    print!("{}", story(case, &report, &src.origin(), use_colour()));
    Ok(ExitCode::SUCCESS)
}
